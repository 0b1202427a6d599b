//! The MetalLB BGP tutorial, in process: our controller and speaker against the lab API server
//! and two lab BGP routers on loopback (10.96.0.100 and 10.96.0.101 mapped to 127.0.0.100 and
//! 127.0.0.101), the node at 127.0.1.1.

use crate::support::eventually_async;
use crate::support::metallb::{Env, WAIT};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

const NODE: &str = "127.0.1.1";
const REJECTED: &str = "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_tutorial() {
    let env = Env::start("mlb-tutorial", &[NODE]).await;
    env.node("minikube", json!({})).await;
    let controller = env.controller();
    let speaker = env.speaker("minikube", NODE);

    // tutorial-1: sessions up at both routers.
    env.apply_config_file("tutorial-1.yaml").await;
    eventually_async("sessions established at both routers", WAIT, || {
        let ok = env.established(0, NODE) && env.established(1, NODE);
        async move { ok.then_some(()) }
    })
    .await;
    eventually_async("the speaker's tutorial log lines", WAIT, || {
        let ok = speaker
            .logs
            .contains("Peer \"10.96.0.100\" configured, starting BGP session")
            && speaker
                .logs
                .contains("BGP session to \"10.96.0.100:179\" established")
            && speaker
                .logs
                .contains("BGP session to \"10.96.0.101:179\" established");
        async move { ok.then_some(()) }
    })
    .await;

    // tutorial-2: nginx gets 198.51.100.0, both routers learn it with the node as next hop.
    env.apply_manifest("tutorial-2.yaml").await;
    let ip = env.wait_ip("default", "nginx").await;
    assert_eq!(ip.to_string(), "198.51.100.0");
    eventually_async("IPAllocated event for nginx", WAIT, || async {
        let evs = env.events("default", "IPAllocated").await;
        evs.iter()
            .any(|(c, t, m, _)| {
                c == "metallb-controller" && t == "Normal" && m == "Assigned IP \"198.51.100.0\""
            })
            .then_some(())
    })
    .await;
    env.wait_routes(NODE, &["198.51.100.0/32"]).await;
    for i in 0..2 {
        let r = &env.routes(i, NODE)[0];
        assert_eq!(r.next_hop.as_deref(), Some(NODE));
        assert_eq!(r.as_path, "", "iBGP: empty AS_PATH");
    }

    // tutorial-3: rejected by both components with the tutorial's exact text; routes unchanged.
    env.apply_config_file("tutorial-3.yaml").await;
    eventually_async(
        "InvalidConfig from controller and speaker",
        WAIT,
        || async {
            let evs = env.events("metallb-system", "InvalidConfig").await;
            let from = |c: &str| {
                evs.iter()
                    .any(|(comp, t, m, _)| comp == c && t == "Warning" && m == REJECTED)
            };
            (from("metallb-controller") && from("metallb-speaker")).then_some(())
        },
    )
    .await;
    env.wait_routes(NODE, &["198.51.100.0/32"]).await;
    assert_eq!(
        env.ingress_of("default", "nginx").await[0].to_string(),
        "198.51.100.0"
    );

    // Pin 198.51.100.1: IPAllocated again, and the pending config takes effect by itself.
    env.services("default")
        .patch(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"loadBalancerIP": "198.51.100.1"}})),
        )
        .await
        .expect("pin loadBalancerIP");
    eventually_async("nginx moves to 198.51.100.1", WAIT, || async {
        (env.ingress_of("default", "nginx")
            .await
            .first()
            .map(|i| i.to_string())
            == Some("198.51.100.1".into()))
        .then_some(())
    })
    .await;
    eventually_async("IPAllocated event for .1", WAIT, || async {
        let evs = env.events("default", "IPAllocated").await;
        evs.iter()
            .any(|(_, _, m, _)| m == "Assigned IP \"198.51.100.1\"")
            .then_some(())
    })
    .await;
    env.wait_routes(NODE, &["198.51.100.1/32"]).await;
    eventually_async(
        "the pending config applied by controller and speaker",
        WAIT,
        || {
            let ok = controller
                .logs
                .contains("previously rejected configuration is now safe")
                && speaker
                    .logs
                    .contains("previously rejected configuration is now safe");
            async move { ok.then_some(()) }
        },
    )
    .await;
    // Proof it is in force: a new service skips the now-buggy .0 and takes .2.
    env.lb_service("default", "probe", 8080, json!({})).await;
    assert_eq!(
        env.wait_ip("default", "probe").await.to_string(),
        "198.51.100.2"
    );
    env.services("default")
        .delete("probe", &DeleteParams::default())
        .await
        .expect("delete probe");

    // tutorial-4 (the cosmetic edit) is accepted; no new rejection.
    let before = env.events("metallb-system", "InvalidConfig").await.len();
    let applied = |logs: &crate::support::metallb::Logs| {
        logs.lines()
            .iter()
            .filter(|l| l.as_str() == "configuration applied")
            .count()
    };
    let (c0, s0) = (applied(&controller.logs), applied(&speaker.logs));
    env.apply_config_file("tutorial-4.yaml").await;
    eventually_async("tutorial-4 applied by controller and speaker", WAIT, || {
        let ok = applied(&controller.logs) > c0 && applied(&speaker.logs) > s0;
        async move { ok.then_some(()) }
    })
    .await;
    assert_eq!(
        env.events("metallb-system", "InvalidConfig").await.len(),
        before
    );
    env.wait_routes(NODE, &["198.51.100.1/32"]).await;

    // Deleting nginx withdraws the route.
    env.services("default")
        .delete("nginx", &DeleteParams::default())
        .await
        .expect("delete nginx");
    env.wait_routes(NODE, &[]).await;

    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}
