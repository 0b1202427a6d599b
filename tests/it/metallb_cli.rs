//! `metallbctl controller` and `metallbctl speaker` as processes against the lab API server
//! (through its kubeconfig), with a lab router on loopback as the peer: the Service gets an
//! address and the router learns the route. Only loopback addresses are dialled
//! (`--loopback-only`).

use std::process::Stdio;

use crate::support::metallb::{Env, WAIT};
use crate::support::{eventually_async, metallbctl, Proc};
use serde_json::json;

fn spawn(args: &[&str]) -> Proc {
    Proc::spawn(metallbctl().args(args), Stdio::null())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_and_speaker_commands_run_against_a_kubeconfig() {
    const NODE: &str = "127.0.1.3";
    let env = Env::start("mlb-cli", &[NODE]).await;
    env.node("minikube", json!({})).await;
    let router = env.routers[0].local_addr();
    env.apply_config(&format!(
        "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: {}\n  peer-port: {}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n",
        router.ip(),
        router.port()
    ))
    .await;
    let kubeconfig = env.lab.kubeconfig();
    let kc = kubeconfig.to_str().expect("utf-8 path");
    let _controller = spawn(&["controller", "--kubeconfig", kc]);
    let _speaker = spawn(&[
        "speaker",
        "--node",
        "minikube",
        "--node-address",
        NODE,
        "--loopback-only",
        "--kubeconfig",
        kc,
    ]);
    env.lb_service("default", "web", 80, json!({})).await;
    assert_eq!(
        env.wait_ip("default", "web").await.to_string(),
        "198.51.100.0"
    );
    eventually_async("the route at the router", WAIT, || {
        let ok = env
            .routes(0, NODE)
            .iter()
            .any(|r| r.prefix == "198.51.100.0/32" && r.next_hop.as_deref() == Some(NODE));
        async move { ok.then_some(()) }
    })
    .await;
    drop(_speaker);
    drop(_controller);
    env.shutdown().await;
}
