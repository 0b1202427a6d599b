//! Benchmark of the MetalLB controller + speaker in the lab (not a timed test; figures and
//! commands in docs/benchmarks.md, "MetalLB controller + speaker benchmark").
//!
//! One in-process lab API server, our controller and one speaker (node 127.0.1.1), two lab BGP
//! routers on loopback. N LoadBalancer Services are created at once (32 creates in flight);
//! we measure the time until every Service has an IP (seen by a watch), the time until all N
//! /32 routes are at the router (router RIB polled from the first create on, every 10 ms or every
//! two snapshot durations if longer), and per Service the latency
//! from its creation (create call returned) to its route at the router: p50, p99, max.
//!
//! `cargo bench --bench metallb -- [N ...] [--no-ports]` (default: 100 1000)
//!
//! `--no-ports` creates Services without ports: the lab API server hands every LoadBalancer
//! Service a NodePort even under `allocateLoadBalancerNodePorts: false`, and the NodePort range
//! holds 2,768, so larger runs need port-less Services (a real API server would refuse them;
//! MetalLB's work is the same).

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ms, pct};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use support::eventually_async as eventually;
use support::metallb::{ingress, Env};

const NODE: &str = "127.0.1.1";

async fn run(n: usize, no_ports: bool) {
    let env = Env::start("mlb-bench", &[NODE]).await;
    env.node("minikube", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("minikube", NODE);
    env.apply_config(
        "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.101\naddress-pools:\n- name: bench\n  protocol: bgp\n  addresses:\n  - 198.18.0.0/15\n",
    )
    .await;
    eventually("sessions up", Duration::from_secs(30), || {
        let ok = env.established(0, NODE) && env.established(1, NODE);
        async move { ok.then_some(()) }
    })
    .await;

    let api: Api<Service> = Api::namespaced(env.client.clone(), "default");
    // Watch for assigned IPs.
    let ips: Arc<Mutex<HashMap<String, (IpAddr, Instant)>>> = Arc::default();
    let watch_task = {
        let ips = ips.clone();
        let api = api.clone();
        tokio::spawn(async move {
            let stream = watcher(api, watcher::Config::default());
            futures_util::pin_mut!(stream);
            while let Some(ev) = stream.next().await {
                if let Ok(watcher::Event::Apply(s) | watcher::Event::InitApply(s)) = ev {
                    if let Some(ip) = ingress(&s).and_then(|v| v.first().copied()) {
                        let name = s.metadata.name.clone().unwrap_or_default();
                        if let Ok(mut m) = ips.lock() {
                            m.entry(name).or_insert((ip, Instant::now()));
                        }
                    }
                }
            }
        })
    };
    // Poll the router's RIB.
    let routes: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let t0 = Instant::now();
    let create = futures_util::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let name = format!("svc-{i}");
                let mut spec = json!({"type": "LoadBalancer", "selector": {"app": name},
                                      "allocateLoadBalancerNodePorts": false,
                                      "ports": [{"port": 80, "protocol": "TCP"}]});
                if no_ports {
                    spec["ports"] = json!([]);
                }
                let svc: Service = serde_json::from_value(json!({
                    "metadata": {"name": name},
                    "spec": spec,
                }))
                .expect("service");
                api.create(&PostParams::default(), &svc)
                    .await
                    .expect("create");
                (name, Instant::now())
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<(String, Instant)>>();
    let create = async {
        let created = create.await;
        (created, t0.elapsed())
    };
    // The router is polled from the start, while the creates are still being sent.
    let limit = Duration::from_secs(600);
    let poll = async {
        loop {
            let now = Instant::now();
            let snap = env.routes(0, NODE);
            if let Ok(mut m) = routes.lock() {
                for r in snap {
                    m.entry(r.prefix).or_insert(now);
                }
            }
            let have_routes = routes.lock().map(|m| m.len()).unwrap_or(0);
            let have_ips = ips.lock().map(|m| m.len()).unwrap_or(0);
            if have_routes >= n && have_ips >= n {
                break;
            }
            if t0.elapsed() > limit {
                println!("N={n}: gave up after {limit:?}: {have_ips} IPs, {have_routes} routes");
                break;
            }
            // A snapshot of the router's table costs O(routes) and holds the router's lock:
            // poll every 10 ms, or less often so that polling takes at most a third of the time.
            let took = now.elapsed();
            tokio::time::sleep(Duration::from_millis(10).max(took * 2)).await;
        }
    };
    let ((created, t_created), ()) = tokio::join!(create, poll);
    watch_task.abort();
    let ips = ips.lock().map(|m| m.clone()).unwrap_or_default();
    let routes = routes.lock().map(|m| m.clone()).unwrap_or_default();
    let t_ips = ips.values().map(|(_, t)| *t - t0).max().unwrap_or_default();
    let t_routes = routes.values().map(|t| *t - t0).max().unwrap_or_default();
    let mut lat: Vec<Duration> = created
        .iter()
        .filter_map(|(name, c)| {
            let (ip, _) = ips.get(name)?;
            let seen = routes.get(&format!("{ip}/32"))?;
            Some(seen.saturating_duration_since(*c))
        })
        .collect();
    lat.sort();
    let mut ip_lat: Vec<Duration> = created
        .iter()
        .filter_map(|(name, c)| Some(ips.get(name)?.1.saturating_duration_since(*c)))
        .collect();
    ip_lat.sort();
    println!(
        "N={n:>6}  created in {}  all IPs {}  all routes {}  create->IP p50 {} p99 {}  create->route p50 {} p99 {} max {}  ({} samples)",
        ms(t_created),
        ms(t_ips),
        ms(t_routes),
        ms(pct(&ip_lat, 0.5)),
        ms(pct(&ip_lat, 0.99)),
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        lat.len(),
    );
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1000]
    } else {
        sizes
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let no_ports = std::env::args().any(|a| a == "--no-ports");
    for n in sizes {
        rt.block_on(run(n, no_ports));
    }
}
