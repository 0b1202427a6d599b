//! The namespace finalizer, part of the server (as the namespace controller is on a real
//! cluster): it watches the store and, a moment after a namespace turns `Terminating`, deletes
//! its contents and then the namespace (`admission::finalize_namespace`). The delay lets
//! `kubectl delete -f` still delete a namespace's members after the namespace itself.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::admission::{finalize_namespace, terminating_namespaces};
use super::store::Store;

/// How long a deleted namespace stays `Terminating` before its contents go.
pub const NAMESPACE_FINALIZE_DELAY: Duration = Duration::from_millis(1000);

/// Finalize terminating namespaces `delay` after they are first seen, until the store closes.
pub fn spawn(store: Store, delay: Duration) -> JoinHandle<()> {
    tokio::spawn(run(store, delay))
}

async fn run(store: Store, delay: Duration) {
    let mut changes = store.subscribe();
    // Namespace name -> when to finalize it.
    let mut due: BTreeMap<String, Instant> = BTreeMap::new();
    loop {
        if store.is_closed() {
            return;
        }
        let now = Instant::now();
        let terminating = terminating_namespaces(&store);
        due.retain(|name, _| terminating.contains(name));
        for name in terminating {
            due.entry(name).or_insert(now + delay);
        }
        let ready: Vec<String> = due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for name in ready {
            due.remove(&name);
            finalize_namespace(&store, &name);
        }
        let next = due.values().min().copied();
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = sleep_until(next) => {}
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use crate::lab::apiserver::store::{DeleteOptions, WriteOptions};
    use serde_json::json;

    #[tokio::test]
    async fn a_deleted_namespace_is_finalized_after_the_delay() {
        let delay = Duration::from_millis(50);
        let store = Store::new(Registry::default(), 100);
        let reg = store.registry();
        let (Some(ns), Some(cm)) = (
            reg.find("", "v1", "namespaces"),
            reg.find("", "v1", "configmaps"),
        ) else {
            unreachable!("built-in resources are registered")
        };
        let o = WriteOptions::default();
        store
            .create(&ns, None, json!({"metadata": {"name": "x"}}), &o)
            .expect("namespace");
        store
            .create(&cm, Some("x"), json!({"metadata": {"name": "c"}}), &o)
            .expect("configmap");
        let task = spawn(store.clone(), delay);
        let mut changes = store.subscribe();
        let start = Instant::now();
        store
            .delete(&ns, None, "x", &DeleteOptions::default())
            .expect("delete");
        assert!(
            store.get(&cm, Some("x"), "c").is_ok(),
            "kept while terminating"
        );
        let gone = tokio::time::timeout(Duration::from_secs(10), async {
            while store.get(&ns, None, "x").is_ok() {
                changes.changed().await.expect("store open");
            }
        });
        gone.await.expect("finalized within 10 s");
        assert!(start.elapsed() >= delay);
        assert!(store.get(&cm, Some("x"), "c").is_err(), "contents go first");
        store.close();
        task.await.expect("finalizer ends when the store closes");
    }
}
