//! Benchmark of the lab API server on loopback (not a timed test; see docs/benchmarks.md, "Lab API server benchmark").
//!
//! In one run, against one in-process server over TLS with kube-rs clients:
//! - GET of one ConfigMap vs GET of `/lab/static` (a fixed answer that this benchmark adds to
//!   the same server, behind the same TLS, HTTP stack and authentication, so only the API's
//!   own work differs): requests per second with C concurrent clients;
//! - merge PATCH of one ConfigMap (each bumps the resourceVersion and is persisted);
//! - watch delivery latency: PATCH sent -> MODIFIED event received, p50 and p99.
//!
//! `cargo bench --bench lab_apiserver -- [seconds-per-phase] [clients]`
//!
//! `cargo bench --bench lab_apiserver -- creates [sizes...]` (default 0 10000 50000) measures
//! instead, on one server with its state directory (issue 12): with S Services stored, the
//! time for 1,000 sequential Service POSTs over one keep-alive connection; beside it, in the
//! same run, what main's code did per write at that size (the `Taken::of` rebuild and range
//! scans, copied below as `old`, and one whole-state rewrite, main's cost per persistence
//! batch); the process's resident memory; and at the end the time to restart the server on
//! the state directory.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use metallbctl::lab::apiserver::rest::App;
use metallbctl::lab::apiserver::{discovery, ApiServer, Config};

fn args() -> (u64, usize) {
    let nums: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    (
        nums.first().copied().unwrap_or(5),
        nums.get(1).copied().unwrap_or(16) as usize,
    )
}

async fn client(path: &std::path::Path) -> kube::Client {
    let kc = Kubeconfig::read_from(path).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}

/// Run `clients` loops issuing requests built by `make` for `secs`; requests per second.
async fn throughput(
    client: &kube::Client,
    secs: u64,
    clients: usize,
    make: fn() -> http::Request<Vec<u8>>,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, done, errors) = (client.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                match client.request_text(make()).await {
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

/// The baseline route: a fixed JSON answer (the size of `/version`'s) that does no API work.
fn static_route() -> axum::Router<App> {
    let body = axum::body::Bytes::from(serde_json::to_vec(&discovery::version()).expect("json"));
    axum::Router::new().route(
        "/lab/static",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

fn get_configmap() -> http::Request<Vec<u8>> {
    http::Request::get("/api/v1/namespaces/default/configmaps/bench")
        .body(Vec::new())
        .expect("req")
}

fn get_static() -> http::Request<Vec<u8>> {
    http::Request::get("/lab/static")
        .body(Vec::new())
        .expect("req")
}

fn patch_configmap() -> http::Request<Vec<u8>> {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    http::Request::patch("/api/v1/namespaces/default/configmaps/bench")
        .header("content-type", "application/merge-patch+json")
        .body(format!("{{\"data\":{{\"n\":\"{n}\"}}}}").into_bytes())
        .expect("req")
}

async fn watch_latency(api: &Api<ConfigMap>, samples: usize) -> (Duration, Duration) {
    let rv = api
        .get("bench")
        .await
        .expect("get")
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut stream = api
        .watch(&WatchParams::default().timeout(290), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let patch = serde_json::json!({"data": {"w": i.to_string()}});
        let start = Instant::now();
        api.patch("bench", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
        loop {
            match stream.next().await {
                Some(Ok(WatchEvent::Modified(o)))
                    if o.data.as_ref().and_then(|d| d.get("w")) == Some(&i.to_string()) =>
                {
                    break
                }
                Some(Ok(_)) => continue,
                other => panic!("watch ended: {other:?}"),
            }
        }
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    (pick(0.50), pick(0.99))
}

/// Main's allocation code before issue 12 (src/lab/apiserver/services.rs at 70118a4), for
/// the comparison: every create rebuilt the used sets from every Service and scanned the range.
mod old {
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    use serde_json::Value;

    pub struct Taken {
        ips: HashSet<u32>,
        ports: HashSet<u16>,
    }

    pub fn taken<'a>(services: impl Iterator<Item = &'a Value>) -> Taken {
        let mut taken = Taken {
            ips: HashSet::new(),
            ports: HashSet::new(),
        };
        for svc in services {
            let spec = &svc["spec"];
            if let Some(ip) = spec["clusterIP"]
                .as_str()
                .and_then(|s| s.parse::<Ipv4Addr>().ok())
            {
                taken.ips.insert(u32::from(ip));
            }
            for p in spec["ports"].as_array().into_iter().flatten() {
                if let Some(np) = p["nodePort"].as_u64().and_then(|n| u16::try_from(n).ok()) {
                    taken.ports.insert(np);
                }
            }
        }
        taken
    }

    pub fn allocate_ip(taken: &Taken) -> Option<u32> {
        let lo = u32::from(Ipv4Addr::new(10, 96, 0, 0));
        let hi = lo + (1 << 20) - 1;
        (lo + 256..hi)
            .chain(lo + 2..lo + 256)
            .find(|n| !taken.ips.contains(n))
    }

    pub fn allocate_port(taken: &Taken) -> Option<u16> {
        (30000..=32767u16).find(|n| !taken.ports.contains(n))
    }
}

fn lb_service(name: &str) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false,
                 "ports": [{"port": 80, "protocol": "TCP"}], "selector": {"app": name}}})
}

async fn creates(sizes: Vec<usize>) {
    use metallbctl::lab::apiserver::persistence;
    use metallbctl::lab::apiserver::WriteOptions;

    let dir = std::env::temp_dir().join(format!("metallbctl-bench-creates-{}", std::process::id()));
    let config = || Config {
        state_dir: Some(dir.join("state")),
        kubeconfig: Some(dir.join("kubeconfig")),
        ..Config::default()
    };
    let server = ApiServer::start(config()).await.expect("server");
    let client = client(&dir.join("kubeconfig")).await;
    let store = server.store().clone();
    let def = store
        .registry()
        .find("", "v1", "services")
        .expect("services");
    println!(
        "machine: {} cores visible, shared and noisy; TLS on loopback; state persisted",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("| Services stored | 1,000 POSTs (this tree, best of 3) | main's allocation per 1,000 creates | main's whole-state rewrite (one batch) | RSS at that size |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let mut stored = 0usize;
    let mut first = None;
    for (round, size) in sizes.iter().enumerate() {
        // Fill in-process to `size` (the same store and admission path as a POST).
        while stored < *size {
            let svc = lb_service(&format!("fill-{stored}"));
            store
                .create(&def, Some("default"), svc, &WriteOptions::default())
                .expect("fill");
            stored += 1;
        }
        let rss = common::rss_mib();
        // Main's cost at this size, measured on the stored Services themselves.
        let snap = store.snapshot().expect("snapshot");
        let mut services: Vec<serde_json::Value> = snap
            .objects
            .iter()
            .filter(|(res, _)| res == "/v1/services")
            .map(|(_, o)| (**o).clone())
            .collect();
        let t = Instant::now();
        for _ in 0..1000 {
            let taken = old::taken(services.iter());
            let ip = old::allocate_ip(&taken).expect("ip");
            let _ = old::allocate_port(&taken);
            services.push(serde_json::json!({"spec": {"clusterIP": std::net::Ipv4Addr::from(ip).to_string()}}));
        }
        let old_alloc = t.elapsed();
        let t = Instant::now();
        let bytes = persistence::encode(&snap);
        persistence::write_atomic(&dir.join("main-style.json"), &bytes, 0o600).expect("write");
        let old_persist = t.elapsed();
        drop(snap);
        // This tree: 1,000 sequential POSTs over one connection, three times (the figure is the
        // best; all three are printed, since a log compaction may run during one of them).
        let mut runs = Vec::new();
        for rep in 0..3 {
            let t = Instant::now();
            for i in 0..1000 {
                let body =
                    serde_json::to_vec(&lb_service(&format!("r{round}-{rep}-{i}"))).expect("json");
                let req = http::Request::post("/api/v1/namespaces/default/services")
                    .header("content-type", "application/json")
                    .body(body)
                    .expect("req");
                client.request_text(req).await.expect("create");
                stored += 1;
            }
            runs.push(t.elapsed());
        }
        let new = runs.iter().copied().min().unwrap_or_default();
        let first_new = *first.get_or_insert(new);
        let all: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.3}", r.as_secs_f64()))
            .collect();
        println!(
            "| {size} | {:.3} s ({:.2}x the first; runs {}) | {:.3} s | {:.1} ms ({:.1} MB) | {:.0} MiB |",
            new.as_secs_f64(),
            new.as_secs_f64() / first_new.as_secs_f64(),
            all.join(" / "),
            old_alloc.as_secs_f64(),
            old_persist.as_secs_f64() * 1000.0,
            bytes.len() as f64 / 1e6,
            rss
        );
    }
    let objects = store.snapshot().map(|s| s.objects.len()).unwrap_or(0);
    server.shutdown().await.expect("shutdown");
    let t = Instant::now();
    let loaded = persistence::load(&dir.join("state"))
        .expect("load")
        .map(|s| s.objects.len());
    let load = t.elapsed();
    let t = Instant::now();
    let again = ApiServer::start(config()).await.expect("restart");
    let restart = t.elapsed();
    let client = self::client(&dir.join("kubeconfig")).await;
    let listed = client
        .request_text(
            http::Request::get("/api/v1/services?limit=1")
                .body(Vec::new())
                .expect("req"),
        )
        .await
        .map(|t| t.len())
        .unwrap_or(0);
    println!(
        "restart with {objects} objects stored: {:.3} s to serving (load alone {:.3} s, {loaded:?} objects back; first list {listed} B); RSS after restart {:.0} MiB",
        restart.as_secs_f64(),
        load.as_secs_f64(),
        common::rss_mib()
    );
    again.shutdown().await.expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if std::env::args().any(|a| a == "creates") {
        let mut sizes: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if sizes.is_empty() {
            sizes = vec![0, 10_000, 50_000];
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(creates(sizes));
        return;
    }
    let (secs, clients) = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("metallbctl-bench-{}", std::process::id()));
        let config = Config { state_dir: Some(dir.join("state")), kubeconfig: Some(dir.join("kubeconfig")), ..Config::default() };
        let server = ApiServer::start_with_routes(config, static_route()).await.expect("server");
        let client = client(&dir.join("kubeconfig")).await;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "bench", "labels": {"app": "bench"}},
            "data": {"config": "peers:\n- peer-address: 10.96.0.100\n  peer-asn: 64500\n  my-asn: 64500\naddress-pools:\n- name: default\n  protocol: bgp\n  addresses:\n  - 192.168.1.240/28\n"}})).expect("cm");
        api.create(&PostParams::default(), &cm).await.expect("create");
        let static_len = client.request_text(get_static()).await.expect("static").len();
        let object_len = client.request_text(get_configmap()).await.expect("get").len();
        println!("machine: {} cores visible, shared and noisy; {clients} concurrent clients, {secs}s per phase, TLS on loopback", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        println!("response sizes: static {static_len} B, configmap {object_len} B");
        let _ = throughput(&client, 1, clients, get_static).await; // warm-up
        let stat = throughput(&client, secs, clients, get_static).await;
        let get = throughput(&client, secs, clients, get_configmap).await;
        let stat2 = throughput(&client, secs, clients, get_static).await;
        let patch = throughput(&client, secs, clients, patch_configmap).await;
        println!("GET /lab/static          {stat:>10.0} req/s (repeat: {stat2:.0})");
        println!("GET configmap            {get:>10.0} req/s  = {:.0}% of static (mean of both static runs)", 100.0 * get / ((stat + stat2) / 2.0));
        println!("PATCH configmap (merge)  {patch:>10.0} req/s");
        let (p50, p99) = watch_latency(&api, 500).await;
        println!("watch delivery latency (PATCH sent -> MODIFIED received, 500 samples): p50 {p50:?}, p99 {p99:?}");
        server.shutdown().await.expect("shutdown");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
