//! Scale and durability of the lab API server (issue 12). No timing here beyond the
//! durability bound itself: the scale figures live in benches/ and docs/benchmarks.md.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use metallbctl::lab::apiserver::persistence;
use serde_json::json;

use crate::lab_restart::spawn;
use crate::support::lab::client_for;
use crate::support::TempDir;

/// What a writer saw acknowledged: the object, its resourceVersion (None: deleted), and when.
type Acks = Arc<Mutex<Vec<(String, Option<u64>, Instant)>>>;

fn rv_of(cm: &ConfigMap) -> Option<u64> {
    cm.metadata.resource_version.as_deref()?.parse().ok()
}

async fn writer(cms: Api<ConfigMap>, id: usize, acks: Acks) {
    for i in 0.. {
        let name = format!("w{id}-{i}");
        let cm: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": name}, "data": {"i": i.to_string()}}),
        )
        .unwrap_or_default();
        let Ok(made) = cms.create(&PostParams::default(), &cm).await else {
            return;
        };
        if let Ok(mut a) = acks.lock() {
            a.push((name.clone(), rv_of(&made), Instant::now()));
        }
        if i % 3 == 0 {
            let patch = Patch::Merge(json!({"data": {"patched": "yes"}}));
            let Ok(p) = cms.patch(&name, &PatchParams::default(), &patch).await else {
                return;
            };
            if let Ok(mut a) = acks.lock() {
                a.push((name.clone(), rv_of(&p), Instant::now()));
            }
        }
        if i % 5 == 0 {
            if cms.delete(&name, &DeleteParams::default()).await.is_err() {
                return;
            }
            if let Ok(mut a) = acks.lock() {
                a.push((name.clone(), None, Instant::now()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_loses_nothing_acknowledged_100ms_earlier() {
    let dir = TempDir::new("burst");
    let mut server = spawn(&dir);
    let client = client_for(&dir.path().join("kubeconfig")).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let acks: Acks = Arc::default();
    let writers: Vec<_> = (0..4)
        .map(|id| tokio::spawn(writer(cms.clone(), id, acks.clone())))
        .collect();
    let count = || acks.lock().map(|a| a.len()).unwrap_or(0);
    crate::support::eventually_async(
        "the writers to get 600 writes acknowledged",
        Duration::from_secs(60),
        || {
            let n = count();
            async move { (n >= 600).then_some(()) }
        },
    )
    .await;
    let killed_at = Instant::now();
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    for w in writers {
        let _ = w.await;
    }

    let state = dir.path().join("state");
    let snap = persistence::load(&state)
        .expect("the state loads after SIGKILL")
        .expect("there is saved state");
    let stored = |name: &str| {
        snap.objects
            .iter()
            .find(|(res, o)| {
                res == "/v1/configmaps"
                    && o["metadata"]["name"] == name
                    && o["metadata"]["namespace"] == "default"
            })
            .map(|(_, o)| {
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|r| r.parse::<u64>().ok())
                    .unwrap_or(0)
            })
    };
    let acks = acks.lock().map(|a| a.clone()).unwrap_or_default();
    let cutoff = killed_at - Duration::from_millis(100);
    let mut checked = 0;
    // The last acknowledgement of each object before the cutoff must be on disk: the object
    // at that resourceVersion or later, or gone if the last acknowledged write deleted it.
    let mut last = std::collections::BTreeMap::new();
    for (name, rv, at) in acks.iter().filter(|(_, _, at)| *at <= cutoff) {
        last.insert(name.clone(), (*rv, *at));
    }
    for (name, (rv, _)) in &last {
        checked += 1;
        match rv {
            Some(rv) => {
                let on_disk = stored(name);
                // Writers delete every fifth object after writing it: that delete may have
                // reached the disk after the cutoff.
                let deleted_later = name
                    .rsplit('-')
                    .next()
                    .and_then(|i| i.parse::<u64>().ok())
                    .is_some_and(|i| i % 5 == 0);
                assert!(
                    on_disk.map_or(deleted_later, |d| d >= *rv),
                    "{name} acknowledged at rv {rv} {:?} before the kill, on disk {on_disk:?} \
                     (the saved state reaches rv {})",
                    killed_at - last[name].1,
                    snap.resource_version
                );
            }
            None => assert_eq!(stored(name), None, "{name} was deleted"),
        }
    }
    assert!(checked > 100, "only {checked} writes were checked");

    // The server comes back on that state, torn tail or not, and serves it.
    let mut server = spawn(&dir);
    let client = client_for(&dir.path().join("kubeconfig")).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let (name, (rv, _)) = last
        .iter()
        .find(|(_, (rv, _))| rv.is_some())
        .expect("some object was acknowledged and kept");
    let back = cms.get(name).await.expect("object back after restart");
    assert!(rv_of(&back) >= *rv);
    server.kill().expect("kill");
    let _ = server.wait();
}

#[test]
fn the_scale_topology_has_100_nodes_and_2_routers() {
    let path = crate::support::repo_path("lab/scale.yaml");
    let topo = metallbctl::lab::topology::Topology::load(&path)
        .expect("lab/scale.yaml is a valid topology");
    assert_eq!(topo.name, "scale");
    assert_eq!(topo.nodes.len(), 100);
    assert_eq!(topo.routers.len(), 2);
    assert!(topo
        .nodes
        .iter()
        .all(|n| n.address.is_loopback() && n.address.to_string().starts_with("127.0.3.")));
}
