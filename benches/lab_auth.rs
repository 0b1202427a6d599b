//! Benchmark of authorization in the lab API server (not a timed test; see docs/benchmarks.md,
//! "Lab API server authorization").
//!
//! In one run, against one in-process server over TLS with kube-rs clients, GET of one
//! ConfigMap:
//! - with the admin token (`system:masters`: no RBAC evaluation), and
//! - with a ServiceAccount token whose RoleBinding grants `get configmaps` (token signature
//!   check, ServiceAccount lookup, RBAC evaluation over every binding), with `extra`
//!   unrelated ClusterRoleBindings and RoleBindings in the store so the evaluation has
//!   bindings to skip.
//!
//! The phases alternate (admin, rbac, admin, rbac, ...) so drift in machine load hits both.
//!
//! `cargo bench --bench lab_auth -- [seconds-per-phase] [clients] [rounds] [extra]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};
use metallbctl::lab::apiserver::store::WriteOptions;
use metallbctl::lab::apiserver::{ApiServer, Config, Store};
use serde_json::json;

fn args() -> (u64, usize, usize, usize) {
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = |i: usize, d: usize| nums.get(i).copied().unwrap_or(d);
    (n(0, 3) as u64, n(1, 8), n(2, 3), n(3, 100))
}

async fn client(path: &std::path::Path, token: Option<String>) -> kube::Client {
    let kc = Kubeconfig::read_from(path).expect("kubeconfig");
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    if let Some(t) = token {
        cfg.auth_info.token = Some(t.into());
    }
    kube::Client::try_from(cfg).expect("client")
}

fn get() -> http::Request<Vec<u8>> {
    http::Request::get("/api/v1/namespaces/default/configmaps/bench")
        .body(Vec::new())
        .expect("request")
}

/// `clients` loops of GETs for `secs`: requests per second.
async fn throughput(client: &kube::Client, secs: u64, clients: usize) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, done, errors) = (client.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                match client.request_text(get()).await {
                    Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    assert_eq!(errors.load(Ordering::Relaxed), 0, "requests failed");
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

fn create(store: &Store, group: &str, plural: &str, ns: Option<&str>, obj: serde_json::Value) {
    let def = store
        .registry()
        .find(group, "v1", plural)
        .expect("registered");
    store
        .create(&def, ns, obj, &WriteOptions::default())
        .expect("created");
}

fn seed(store: &Store, extra: usize) {
    const RBAC: &str = "rbac.authorization.k8s.io";
    create(
        store,
        "",
        "configmaps",
        Some("default"),
        json!({"metadata": {"name": "bench"}, "data": {"k": "v"}}),
    );
    create(
        store,
        "",
        "serviceaccounts",
        Some("default"),
        json!({"metadata": {"name": "reader"}}),
    );
    create(
        store,
        RBAC,
        "roles",
        Some("default"),
        json!({"metadata": {"name": "cm-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
    );
    for i in 0..extra {
        create(
            store,
            RBAC,
            "clusterrolebindings",
            None,
            json!({"metadata": {"name": format!("other-{i}")},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": format!("user-{i}")}]}),
        );
        create(
            store,
            RBAC,
            "rolebindings",
            Some("default"),
            json!({"metadata": {"name": format!("other-{i}")},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "cm-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": format!("sa-{i}"), "namespace": "default"}]}),
        );
    }
    create(
        store,
        RBAC,
        "rolebindings",
        Some("default"),
        json!({"metadata": {"name": "reader"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "cm-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}]}),
    );
}

fn main() {
    let (secs, clients, rounds, extra) = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("metallbctl-bench-auth-{}", std::process::id()));
        let kubeconfig = dir.join("kubeconfig");
        let server = ApiServer::start(Config {
            kubeconfig: Some(kubeconfig.clone()),
            ..Config::default()
        })
        .await
        .expect("server");
        seed(server.store(), extra);
        let token = server
            .token_issuer()
            .for_service_account("default", "reader", None)
            .expect("token");
        let admin = client(&kubeconfig, None).await;
        let sa = client(&kubeconfig, Some(token)).await;
        // Warm-up: connections and caches for both.
        throughput(&admin, 1, clients).await;
        throughput(&sa, 1, clients).await;
        println!("GET one ConfigMap, {clients} clients, {secs} s per phase, {extra} extra ClusterRoleBindings and RoleBindings");
        let (mut a_sum, mut r_sum) = (0.0, 0.0);
        for round in 1..=rounds {
            let a = throughput(&admin, secs, clients).await;
            let r = throughput(&sa, secs, clients).await;
            println!("round {round}: admin token {a:>8.0} req/s   RBAC-authorised ServiceAccount {r:>8.0} req/s   ratio {:.2}", r / a);
            a_sum += a;
            r_sum += r;
        }
        println!(
            "mean: admin token {:.0} req/s, RBAC-authorised {:.0} req/s, ratio {:.2}",
            a_sum / rounds as f64,
            r_sum / rounds as f64,
            r_sum / a_sum
        );
        server.shutdown().await.expect("shutdown");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
