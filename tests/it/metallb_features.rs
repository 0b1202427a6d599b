//! MetalLB controller and speaker beyond the tutorial, in process against the lab API server
//! and two lab routers: sharing, the address-pool annotation, exhaustion and retry, the Local
//! traffic policy (EndpointSlices), node selectors, advertisement attributes, event
//! aggregation, metrics, and a controller restart that keeps every address.

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::time::Duration;

use crate::support::eventually_async;
use crate::support::metallb::{Env, WAIT};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NODE_A: &str = "127.0.1.1";
const NODE_B: &str = "127.0.1.2";

const PEERS: &str = "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.101\n";

fn config(pools: &str) -> String {
    format!("{PEERS}address-pools:\n{pools}")
}

const ONE_POOL: &str = "- name: my-ip-space\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n";

async fn delete(env: &Env, name: &str) {
    env.services("default")
        .delete(name, &DeleteParams::default())
        .await
        .expect("delete service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_puts_two_services_on_one_address() {
    let env = Env::start("mlb-sharing", &[NODE_A]).await;
    env.node("a", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("a", NODE_A);
    env.apply_config(&config(ONE_POOL)).await;
    let shared =
        json!({"metadata": {"annotations": {"metallb.universe.tf/allow-shared-ip": "web"}}});
    env.lb_service("default", "http", 80, shared.clone()).await;
    let ip1 = env.wait_ip("default", "http").await;
    env.lb_service("default", "https", 443, shared.clone())
        .await;
    let ip2 = env.wait_ip("default", "https").await;
    assert_eq!(ip1, ip2, "same sharing key, different ports: one address");
    // A clashing port cannot share: it gets the next address.
    env.lb_service("default", "http2", 80, shared).await;
    let ip3 = env.wait_ip("default", "http2").await;
    assert_ne!(ip3, ip1);
    env.wait_routes(NODE_A, &["198.51.100.0/32", "198.51.100.1/32"])
        .await;
    delete(&env, "http").await;
    delete(&env, "http2").await;
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    delete(&env, "https").await;
    env.wait_routes(NODE_A, &[]).await;
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_annotation_picks_the_pool_and_unknown_pools_fail() {
    let env = Env::start("mlb-annotation", &[NODE_A]).await;
    let controller = env.controller();
    env.apply_config(&config(&format!(
        "{ONE_POOL}- name: special\n  protocol: bgp\n  auto-assign: false\n  addresses:\n  - 203.0.113.0/24\n"
    )))
    .await;
    let ann =
        |p: &str| json!({"metadata": {"annotations": {"metallb.universe.tf/address-pool": p}}});
    env.lb_service("default", "plain", 80, json!({})).await;
    env.lb_service("default", "special", 80, ann("special"))
        .await;
    env.lb_service("default", "lost", 80, ann("nope")).await;
    assert_eq!(
        env.wait_ip("default", "plain").await.to_string(),
        "198.51.100.0"
    );
    assert_eq!(
        env.wait_ip("default", "special").await.to_string(),
        "203.0.113.0"
    );
    eventually_async("AllocationFailed for the unknown pool", WAIT, || async {
        env.events("default", "AllocationFailed")
            .await
            .iter()
            .any(|(c, t, m, _)| {
                c == "metallb-controller"
                    && t == "Warning"
                    && m == "Failed to allocate IP for \"default/lost\": unknown pool \"nope\""
            })
            .then_some(())
    })
    .await;
    assert!(env.ingress_of("default", "lost").await.is_empty());
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_is_retried_when_an_address_frees_up() {
    let env = Env::start("mlb-exhaust", &[NODE_A]).await;
    let controller = env.controller();
    env.apply_config(&config(
        "- name: tiny\n  protocol: bgp\n  addresses:\n  - 198.51.100.10/32\n",
    ))
    .await;
    env.lb_service("default", "first", 80, json!({})).await;
    assert_eq!(
        env.wait_ip("default", "first").await.to_string(),
        "198.51.100.10"
    );
    env.lb_service("default", "second", 80, json!({})).await;
    eventually_async("AllocationFailed for second", WAIT, || async {
        env.events("default", "AllocationFailed")
            .await
            .iter()
            .any(|(_, _, m, _)| {
                m == "Failed to allocate IP for \"default/second\": no available IPs"
            })
            .then_some(())
    })
    .await;
    delete(&env, "first").await;
    assert_eq!(
        env.wait_ip("default", "second").await.to_string(),
        "198.51.100.10"
    );
    controller.stop().await;
    env.shutdown().await;
}

fn slice(node: &str, ready: bool) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {"name": "local-abc", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "local"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.0.5"], "nodeName": node,
                       "conditions": {"ready": ready}}],
        "ports": [{"port": 80, "protocol": "TCP"}]
    }))
    .expect("slice")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_policy_announces_only_from_nodes_with_a_ready_endpoint() {
    let env = Env::start("mlb-local", &[NODE_A, NODE_B]).await;
    env.node("a", json!({})).await;
    env.node("b", json!({})).await;
    let controller = env.controller();
    let sa = env.speaker("a", NODE_A);
    let sb = env.speaker("b", NODE_B);
    env.apply_config(&config(ONE_POOL)).await;
    env.lb_service("default", "cluster", 80, json!({})).await;
    env.lb_service(
        "default",
        "local",
        80,
        json!({"spec": {"externalTrafficPolicy": "Local"}}),
    )
    .await;
    let slices: Api<EndpointSlice> = Api::namespaced(env.client.clone(), "default");
    slices
        .create(&PostParams::default(), &slice("a", true))
        .await
        .expect("slice");
    assert_eq!(
        env.wait_ip("default", "local").await.to_string(),
        "198.51.100.1"
    );
    env.wait_routes(NODE_A, &["198.51.100.0/32", "198.51.100.1/32"])
        .await;
    env.wait_routes(NODE_B, &["198.51.100.0/32"]).await;
    // The endpoint moves to node b.
    slices
        .replace("local-abc", &PostParams::default(), &{
            let mut s = slice("b", true);
            s.metadata.resource_version = slices
                .get("local-abc")
                .await
                .ok()
                .and_then(|x| x.metadata.resource_version);
            s
        })
        .await
        .expect("move endpoint");
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    env.wait_routes(NODE_B, &["198.51.100.0/32", "198.51.100.1/32"])
        .await;
    // Not ready: nobody announces it.
    slices
        .patch(
            "local-abc",
            &PatchParams::default(),
            &Patch::Merge(json!({"endpoints": [{"addresses": ["10.244.0.5"], "nodeName": "b", "conditions": {"ready": false}}]})),
        )
        .await
        .expect("unready");
    env.wait_routes(NODE_B, &["198.51.100.0/32"]).await;
    sa.stop().await;
    sb.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_selectors_follow_node_labels() {
    let env = Env::start("mlb-selectors", &[NODE_A]).await;
    env.node("a", json!({"rack": "r2"})).await;
    let speaker = env.speaker("a", NODE_A);
    env.apply_config(&format!(
        "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n  node-selectors:\n  - match-labels:\n      rack: r1\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.101\naddress-pools:\n{ONE_POOL}"
    ))
    .await;
    eventually_async("session to the unselective peer", WAIT, || {
        let ok = env.established(1, NODE_A);
        async move { ok.then_some(()) }
    })
    .await;
    assert!(
        !env.established(0, NODE_A),
        "rack r2 must not peer with r1's router"
    );
    let nodes: Api<Node> = Api::all(env.client.clone());
    nodes
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"rack": "r1"}}})),
        )
        .await
        .expect("relabel");
    eventually_async("session to the selected peer after relabel", WAIT, || {
        let ok = env.established(0, NODE_A);
        async move { ok.then_some(()) }
    })
    .await;
    speaker.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertisements_carry_aggregation_local_pref_and_communities() {
    let env = Env::start("mlb-adverts", &[NODE_A]).await;
    env.node("a", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("a", NODE_A);
    env.apply_config(&format!(
        "{PEERS}bgp-communities:\n  no-export: 65535:65281\naddress-pools:\n- name: agg\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n  bgp-advertisements:\n  - aggregation-length: 32\n    localpref: 50\n    communities:\n    - no-export\n    - 64500:7\n  - aggregation-length: 24\n"
    ))
    .await;
    env.lb_service("default", "web", 80, json!({})).await;
    env.wait_ip("default", "web").await;
    env.wait_routes(NODE_A, &["198.51.100.0/24", "198.51.100.0/32"])
        .await;
    let routes = env.routes(0, NODE_A);
    let host = routes
        .iter()
        .find(|r| r.prefix == "198.51.100.0/32")
        .expect("/32");
    assert_eq!(host.local_pref, Some(50));
    assert_eq!(host.communities, vec!["64500:7", "65535:65281"]);
    assert_eq!(host.next_hop.as_deref(), Some(NODE_A));
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_events_are_aggregated_with_a_count() {
    let env = Env::start("mlb-events", &[NODE_A]).await;
    let controller = env.controller();
    let good = config(ONE_POOL);
    let bad = config("- name: broken\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/33\n");
    env.apply_config(&good).await;
    env.apply_config(&bad).await;
    let wait_count = |n: i32| {
        let env = &env;
        async move {
            eventually_async(&format!("InvalidConfig with count {n}"), WAIT, || async {
                let evs = env.events("metallb-system", "InvalidConfig").await;
                (evs.len() == 1 && evs[0].3 == n).then(|| evs[0].clone())
            })
            .await
        }
    };
    let (comp, ty, msg, _) = wait_count(1).await;
    assert_eq!(
        (comp.as_str(), ty.as_str()),
        ("metallb-controller", "Warning")
    );
    assert!(msg.starts_with("configuration rejected: "), "{msg}");
    env.apply_config(&good).await;
    eventually_async("good config back in force", WAIT, || {
        let ok = controller
            .logs
            .contains("configuration reverted to the one in force");
        async move { ok.then_some(()) }
    })
    .await;
    env.apply_config(&bad).await;
    wait_count(2).await;
    controller.stop().await;
    env.shutdown().await;
}

async fn scrape(addr: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect metrics");
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaker_serves_prometheus_metrics() {
    let env = Env::start("mlb-metrics", &[NODE_A]).await;
    env.node("a", json!({})).await;
    let controller = env.controller();
    let mut opts = env.speaker_opts("a", NODE_A);
    opts.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
    let speaker = env.speaker_with(opts);
    env.apply_config(&config(ONE_POOL)).await;
    env.lb_service("default", "web", 80, json!({})).await;
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    let addr = eventually_async("metrics address in the log", WAIT, || {
        let line = speaker.logs.lines().into_iter().find_map(|l| {
            l.strip_prefix("serving metrics on http://")
                .map(|r| r.trim_end_matches("/metrics").to_string())
        });
        async move { line }
    })
    .await;
    let text = eventually_async("metrics show the session and the prefix", WAIT, || {
        let addr = addr.clone();
        async move {
            let t = scrape(&addr).await;
            (t.contains("metallb_bgp_session_up{peer=\"10.96.0.100:179\"} 1")
                && t.contains("metallb_bgp_announced_prefixes_total{peer=\"10.96.0.101:179\"} 1"))
            .then_some(t)
        }
    })
    .await;
    assert!(
        text.contains("metallb_k8s_client_config_loaded_bool 1"),
        "{text}"
    );
    assert!(
        text.contains("metallb_k8s_client_config_stale_bool 0"),
        "{text}"
    );
    assert!(
        text.contains("metallb_bgp_updates_total{peer=\"10.96.0.100:179\"}"),
        "{text}"
    );
    // A rejected config marks the running one stale.
    env.apply_config(&config("- name: my-ip-space\n  protocol: bgp\n  avoid-buggy-ips: true\n  addresses:\n  - 198.51.100.0/24\n")).await;
    eventually_async("config_stale 1", WAIT, || {
        let addr = addr.clone();
        async move {
            scrape(&addr)
                .await
                .contains("metallb_k8s_client_config_stale_bool 1")
                .then_some(())
        }
    })
    .await;
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_restart_keeps_every_address() {
    let env = Env::start("mlb-restart", &[NODE_A]).await;
    let controller = env.controller();
    env.apply_config(&config(ONE_POOL)).await;
    let mut ips = Vec::new();
    for name in ["a", "b", "c", "d"] {
        env.lb_service("default", name, 80, json!({})).await;
        ips.push(env.wait_ip("default", name).await.to_string());
    }
    assert_eq!(
        ips,
        [
            "198.51.100.0",
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3"
        ]
    );
    controller.stop().await;

    // While it is down: b goes away, a new pool comes first in the config, e arrives.
    delete(&env, "b").await;
    env.apply_config(&config(&format!(
        "- name: newer\n  protocol: bgp\n  addresses:\n  - 203.0.113.10-203.0.113.11\n{ONE_POOL}"
    )))
    .await;
    env.lb_service("default", "e", 80, json!({})).await;

    let controller = env.controller();
    assert_eq!(
        env.wait_ip("default", "e").await.to_string(),
        "203.0.113.10"
    );
    for (name, ip) in [
        ("a", "198.51.100.0"),
        ("c", "198.51.100.2"),
        ("d", "198.51.100.3"),
    ] {
        assert_eq!(
            env.ingress_of("default", name).await[0].to_string(),
            ip,
            "{name} keeps its IP"
        );
    }
    // No service was re-announced as newly allocated: each has one IPAllocated event. Events
    // are written in order by one task, so once e's is there, any for a, c or d would be too.
    let evs = eventually_async("e's IPAllocated event", WAIT, || async {
        let evs = env.events("default", "IPAllocated").await;
        evs.iter()
            .any(|e| e.2 == "Assigned IP \"203.0.113.10\"")
            .then_some(evs)
    })
    .await;
    assert_eq!(evs.len(), 5, "{evs:?}");
    assert!(evs.iter().all(|e| e.3 == 1), "{evs:?}");
    assert!(controller
        .logs
        .contains("rebuilt 3 existing IP assignments"));
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_come_back_after_a_router_restart() {
    use metallbctl::bgp::router::{Neighbor, Router, RouterConfig};
    let mut env = Env::start("mlb-router-restart", &[NODE_A]).await;
    env.node("a", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("a", NODE_A);
    env.apply_config(&config(ONE_POOL)).await;
    env.lb_service("default", "web", 80, json!({})).await;
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    let old = env.routers.remove(0);
    let listen = old.local_addr();
    old.shutdown(Duration::from_secs(2)).await;
    eventually_async("the speaker notices the session went down", WAIT, || {
        let ok = speaker
            .logs
            .contains("BGP session to \"10.96.0.100:179\" down");
        async move { ok.then_some(()) }
    })
    .await;
    let again = Router::bind(RouterConfig {
        listen,
        local_as: 64500,
        router_id: "10.96.0.100".parse().expect("id"),
        hold_time: 90,
        neighbors: vec![Neighbor {
            addr: NODE_A.parse().expect("ip"),
            peer_as: 64500,
            md5_password: None,
        }],
    })
    .await
    .expect("rebind the router on its old address");
    env.routers.insert(0, again);
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_load_balancer_frees_the_address_and_bad_requests_fail() {
    let env = Env::start("mlb-type-change", &[NODE_A]).await;
    env.node("a", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("a", NODE_A);
    env.apply_config(&config(ONE_POOL)).await;
    env.lb_service("default", "web", 80, json!({})).await;
    assert_eq!(
        env.wait_ip("default", "web").await.to_string(),
        "198.51.100.0"
    );
    env.wait_routes(NODE_A, &["198.51.100.0/32"]).await;
    env.services("default")
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"type": "ClusterIP"}})),
        )
        .await
        .expect("to ClusterIP");
    eventually_async("status cleared", WAIT, || async {
        env.ingress_of("default", "web")
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    env.wait_routes(NODE_A, &[]).await;
    // The freed address goes to the next Service; an address outside every pool fails.
    env.lb_service("default", "next", 80, json!({})).await;
    assert_eq!(
        env.wait_ip("default", "next").await.to_string(),
        "198.51.100.0"
    );
    env.lb_service(
        "default",
        "outside",
        80,
        json!({"spec": {"loadBalancerIP": "203.0.113.9"}}),
    )
    .await;
    eventually_async("AllocationFailed for an address outside the pools", WAIT, || async {
        env.events("default", "AllocationFailed")
            .await
            .iter()
            .any(|(_, _, m, _)| {
                m == "Failed to allocate IP for \"default/outside\": \"203.0.113.9\" is not allowed in config"
            })
            .then_some(())
    })
    .await;
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}
