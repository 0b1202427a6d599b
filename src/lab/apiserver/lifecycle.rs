//! Object lifecycles that reach beyond one object: a deleted namespace turns `Terminating` and
//! is finalized (its contents, then itself) a moment later; owned objects and CRD instances are
//! found for synchronous cascading deletes.

use std::sync::Arc;

use serde_json::{json, Value};

use super::meta;
use super::resources::{defs_from_crd, Registry, ResourceDef};
use super::store::{commit, remove_locked, State, Store};

/// How long a deleted namespace stays `Terminating` before its contents go.
const NAMESPACE_FINALIZE_DELAY: std::time::Duration = std::time::Duration::from_millis(1000);

pub(super) fn is_namespace(def: &ResourceDef) -> bool {
    def.kind == "Namespace" && def.group.is_empty()
}

impl Store {
    pub(super) fn mark_terminating(
        &self,
        state: &mut State,
        def: &ResourceDef,
        ns: &Arc<Value>,
    ) -> Arc<Value> {
        if ns["metadata"]["deletionTimestamp"].is_string() {
            return ns.clone();
        }
        let mut obj = (**ns).clone();
        if let Some(m) = meta::meta_mut(&mut obj) {
            m.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
        }
        obj["status"] = json!({"phase": "Terminating"});
        let key = (String::new(), meta::meta_str(ns, "name").to_string());
        commit(state, &def.key(), key, obj, self.inner.history_cap)
    }

    pub(super) fn schedule_finalize(&self, name: &str) {
        let (store, name) = (self.clone(), name.to_string());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(NAMESPACE_FINALIZE_DELAY).await;
                    store.finalize_namespace(&name);
                });
            }
            Err(_) => store.finalize_namespace(&name),
        }
    }

    /// Delete a terminating namespace's contents, then the namespace.
    pub fn finalize_namespace(&self, name: &str) {
        let Ok(mut state) = self.lock() else { return };
        let mut victims = namespace_contents(&state, &self.inner.registry, name);
        victims.push((
            "/v1/namespaces".to_string(),
            (String::new(), name.to_string()),
        ));
        for (res, key) in victims {
            remove_locked(&mut state, &res, &key, self.inner.history_cap);
        }
        self.notify(&state);
    }

    /// Finalize namespaces left terminating (after a restart).
    pub fn finalize_terminating(&self) {
        let names: Vec<String> = match self.lock() {
            Ok(state) => state
                .buckets
                .get("/v1/namespaces")
                .into_iter()
                .flat_map(|b| b.values())
                .filter(|n| n["metadata"]["deletionTimestamp"].is_string())
                .map(|n| meta::meta_str(n, "name").to_string())
                .collect(),
            Err(_) => return,
        };
        for n in names {
            self.finalize_namespace(&n);
        }
    }
}

pub(super) fn namespace_contents(
    state: &State,
    registry: &Registry,
    ns: &str,
) -> Vec<(String, (String, String))> {
    let namespaced: Vec<String> = registry
        .all()
        .iter()
        .filter(|d| d.namespaced)
        .map(ResourceDef::key)
        .collect();
    state
        .buckets
        .iter()
        .filter(|(res, _)| namespaced.contains(res))
        .flat_map(|(res, b)| {
            b.keys()
                .filter(|k| k.0 == ns)
                .map(move |k| (res.clone(), k.clone()))
        })
        .collect()
}

/// Everything owned, directly or transitively, by the object with `uid`, dependents first.
pub(super) fn collect_owned(state: &State, uid: &str, out: &mut Vec<(String, (String, String))>) {
    if uid.is_empty() {
        return;
    }
    for (res, bucket) in &state.buckets {
        for (key, obj) in bucket {
            let owned = obj["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
            let entry = (res.clone(), key.clone());
            if owned && !out.contains(&entry) {
                collect_owned(state, meta::meta_str(obj, "uid"), out);
                out.push(entry);
            }
        }
    }
}

pub(super) fn crd_instances(state: &State, crd: &Value) -> Vec<(String, (String, String))> {
    let defs = defs_from_crd(crd);
    defs.iter()
        .filter_map(|d| state.buckets.get(&d.key()).map(|b| (d.key(), b)))
        .flat_map(|(res, b)| b.keys().map(move |k| (res.clone(), k.clone())))
        .collect()
}
