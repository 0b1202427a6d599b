//! `kubectl describe` shows our controller's and speaker's events as on a real cluster: the
//! tutorial's IPAllocated on the Service and both InvalidConfig warnings on the ConfigMap.
//! Uses the real kubectl on PATH with its own cache directory; skipped with a message when
//! kubectl is missing, unless METALLBCTL_REQUIRE_PEERS=1.

use std::process::Stdio;

use crate::support::eventually_async;
use crate::support::have_kubectl;
use crate::support::metallb::{Env, WAIT};
use serde_json::json;

const NODE: &str = "127.0.1.1";

async fn kubectl(env: &Env, args: &[&str]) -> String {
    let mut cmd = env.lab.kubectl_cmd();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = cmd
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .expect("kubectl task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_the_tutorials_events() {
    if !have_kubectl() {
        return;
    }
    let env = Env::start("mlb-kubectl", &[NODE]).await;
    env.node("minikube", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("minikube", NODE);
    env.apply_config_file("tutorial-1.yaml").await;
    env.apply_manifest("tutorial-2.yaml").await;
    env.wait_ip("default", "nginx").await;
    env.apply_config_file("tutorial-3.yaml").await;
    eventually_async("two InvalidConfig events", WAIT, || async {
        (env.events("metallb-system", "InvalidConfig").await.len() == 2).then_some(())
    })
    .await;
    eventually_async("the IPAllocated event", WAIT, || async {
        (!env.events("default", "IPAllocated").await.is_empty()).then_some(())
    })
    .await;

    let svc = kubectl(&env, &["describe", "service", "nginx"]).await;
    for want in [
        "LoadBalancer Ingress:     198.51.100.0",
        "Normal  IPAllocated",
        "metallb-controller",
        "Assigned IP \"198.51.100.0\"",
    ] {
        assert!(svc.contains(want), "missing {want:?} in\n{svc}");
    }
    let cm = kubectl(
        &env,
        &["describe", "configmap", "-n", "metallb-system", "config"],
    )
    .await;
    for want in [
        "Warning  InvalidConfig",
        "metallb-controller",
        "metallb-speaker",
        "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config",
    ] {
        assert!(cm.contains(want), "missing {want:?} in\n{cm}");
    }
    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}
