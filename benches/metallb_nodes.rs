//! Benchmark of MetalLB at many nodes (issue 12's "100 nodes x 2 peers"), in one process (not
//! a timed test; figures and commands in docs/benchmarks.md, "100 nodes x 2 routers").
//!
//! One in-process lab API server, our controller, one speaker per node (127.0.3.1, 127.0.3.2,
//! ...; 100 by default), two lab BGP routers on loopback that peer with every node (iBGP,
//! AS 64500). N LoadBalancer Services are created at once (32 creates in flight). Each
//! router's Adj-RIBs-In are polled from the first create on (every 5 ms, or every two polls'
//! durations if longer) for the number of nodes holding each prefix, and per Service we report
//! the latency from its creation (create call returned) to
//! - its IP (seen by a watch),
//! - the first path for its /32 at both routers (the later of the two routers),
//! - every node's path for it at both routers (all `nodes` paths, at the later router),
//!
//! as p50, p99 and max; and the process's resident memory after the sessions came up and at
//! the end.
//!
//! `cargo bench --bench metallb_nodes -- [--nodes K] [N ...]` (default: 100 nodes, N = 1000)
//!
//! Unlike the lab daemon, nothing here runs the workload runtime: no pods, so no
//! EndpointSlices (the speakers still watch them).

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
use ipnet::IpNet;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use support::eventually_async as eventually;
use support::metallb::{ingress, Env};

/// `p50 .. p99 .. max` of a set of latencies.
fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {} p99 {} max {} ({} samples)",
        ms(pct(&v, 0.5)),
        ms(pct(&v, 0.99)),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

/// The latest of the routers' times, if every router has one.
fn at_both(times: impl Iterator<Item = Option<Instant>>) -> Option<Instant> {
    let mut latest: Option<Instant> = None;
    for t in times {
        let t = t?;
        latest = Some(latest.map_or(t, |l| l.max(t)));
    }
    latest
}

/// When each prefix first had one path, and when it first had a path from every node, at one
/// router.
#[derive(Default, Clone)]
struct Seen {
    any: HashMap<IpNet, Instant>,
    all: HashMap<IpNet, Instant>,
}

async fn run(nodes: usize, n: usize) {
    let addrs: Vec<String> = (1..=nodes).map(|i| format!("127.0.3.{i}")).collect();
    let addr_refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let env = Env::start("mlb-nodes", &addr_refs).await;
    for i in 1..=nodes {
        env.node(&format!("node-{i}"), json!({})).await;
    }
    let controller = env.controller();
    let speakers: Vec<_> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| env.speaker(&format!("node-{}", i + 1), a))
        .collect();
    env.apply_config(
        "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.101\naddress-pools:\n- name: bench\n  protocol: bgp\n  addresses:\n  - 198.18.0.0/16\n",
    )
    .await;
    let t_up = Instant::now();
    eventually(
        "every session Established",
        Duration::from_secs(120),
        || {
            let up = env
                .routers
                .iter()
                .map(|r| {
                    r.snapshot()
                        .peers
                        .iter()
                        .filter(|p| p.state.as_str() == "Established")
                        .count()
                })
                .sum::<usize>();
            let want = env.routers.len() * nodes;
            async move { (up == want).then_some(()) }
        },
    )
    .await;
    println!(
        "nodes={nodes}: {} sessions Established {} after the configuration; RSS {:.0} MiB",
        env.routers.len() * nodes,
        ms(t_up.elapsed()),
        common::rss_mib()
    );

    let api: Api<Service> = Api::namespaced(env.client.clone(), "default");
    let ips: Arc<Mutex<HashMap<String, (IpAddr, Instant)>>> = Arc::default();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let watch_task = {
        let ips = ips.clone();
        let api = api.clone();
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let stream = watcher(api, watcher::Config::default());
            futures_util::pin_mut!(stream);
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(watcher::Event::Apply(s) | watcher::Event::InitApply(s)) => {
                        if let Some(ip) = ingress(&s).and_then(|v| v.first().copied()) {
                            let name = s.metadata.name.clone().unwrap_or_default();
                            if let Ok(mut m) = ips.lock() {
                                m.entry(name).or_insert((ip, Instant::now()));
                            }
                        }
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(());
                        }
                    }
                    _ => {}
                }
            }
        })
    };
    // The watch has listed (and is watching) before the first create.
    tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .expect("the IP watch lists within 30 s")
        .expect("the IP watch runs");

    let t0 = Instant::now();
    let create = futures_util::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let name = format!("svc-{i}");
                let svc: Service = serde_json::from_value(json!({
                    "metadata": {"name": name},
                    "spec": {"type": "LoadBalancer", "selector": {"app": name},
                             "ports": [{"port": 80, "protocol": "TCP"}]},
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
    let mut seen = vec![Seen::default(); env.routers.len()];
    let limit = Duration::from_secs(600);
    let mut polls = 0u64;
    let mut poll_time = Duration::ZERO;
    let poll = async {
        loop {
            let started = Instant::now();
            for (r, s) in env.routers.iter().zip(seen.iter_mut()) {
                let counts = r.paths_per_prefix();
                let now = Instant::now();
                for (p, c) in counts {
                    s.any.entry(p).or_insert(now);
                    if c >= nodes {
                        s.all.entry(p).or_insert(now);
                    }
                }
            }
            let took = started.elapsed();
            polls += 1;
            poll_time += took;
            let complete = seen.iter().all(|s| s.all.len() >= n);
            let have_ips = ips.lock().map(|m| m.len()).unwrap_or(0);
            if complete && have_ips >= n {
                break;
            }
            if t0.elapsed() > limit {
                let partial: Vec<usize> = seen.iter().map(|s| s.all.len()).collect();
                println!("N={n}: gave up after {limit:?}: {have_ips} IPs, complete prefixes per router {partial:?}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5).max(took * 2)).await;
        }
    };
    let ((created, t_created), ()) = tokio::join!(create, poll);
    watch_task.abort();
    let ips = ips.lock().map(|m| m.clone()).unwrap_or_default();
    let (mut to_ip, mut to_any, mut to_all) = (Vec::new(), Vec::new(), Vec::new());
    let mut last_all = Duration::ZERO;
    for (name, c) in &created {
        let Some((ip, t_ip)) = ips.get(name) else {
            continue;
        };
        to_ip.push(t_ip.saturating_duration_since(*c));
        let p = IpNet::from(*ip);
        // Missing at a router: no sample (the count of samples shows it).
        if let Some(t) = at_both(seen.iter().map(|s| s.any.get(&p).copied())) {
            to_any.push(t.saturating_duration_since(*c));
        }
        if let Some(t) = at_both(seen.iter().map(|s| s.all.get(&p).copied())) {
            to_all.push(t.saturating_duration_since(*c));
            last_all = last_all.max(t - t0);
        }
    }
    println!(
        "N={n} nodes={nodes}: created in {}; every node's path at both routers {} after the first create; RSS {:.0} MiB",
        ms(t_created),
        ms(last_all),
        common::rss_mib()
    );
    println!("  create->IP                        {}", summary(to_ip));
    println!("  create->first path, both routers  {}", summary(to_any));
    println!(
        "  create->all {nodes} paths, both routers {}",
        summary(to_all)
    );
    println!(
        "  router polls: {polls}, mean {} each (both routers)",
        ms(poll_time / u32::try_from(polls.max(1)).unwrap_or(u32::MAX))
    );
    futures_util::future::join_all(speakers.into_iter().map(|s| s.stop())).await;
    controller.stop().await;
    env.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut nodes = 100;
    let mut sizes = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--nodes" {
            nodes = it.next().and_then(|v| v.parse().ok()).unwrap_or(nodes);
        } else if let Ok(n) = a.parse() {
            sizes.push(n);
        }
    }
    assert!((1..=254).contains(&nodes), "--nodes takes 1..=254");
    if sizes.is_empty() {
        sizes.push(1000);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for n in sizes {
        rt.block_on(run(nodes, n));
    }
}
