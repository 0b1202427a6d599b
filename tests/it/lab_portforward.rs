//! `kubectl port-forward` into a tutorial lab, with the real kubectl (issue 13, deliverable 5):
//! a router pod's status page on port 80 through kubectl's default WebSocket tunnel and
//! through its plain SPDY fallback, a port nothing listens on (kubectl's own error), a
//! speaker's metrics port, and a pod with nothing to forward to (a clear refusal).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{free_port, have_kubectl, Lab, Pipe, Streaming};

/// Start `kubectl -v=6 port-forward` and wait for its "Forwarding from" line.
async fn forward(lab: &Lab, target: &str, ports: &str, env: &[(&str, &str)]) -> Streaming {
    let mut cmd = lab.kubectl_cmd();
    cmd.envs(env.iter().copied()).args([
        "-v=6",
        "port-forward",
        "-n",
        "metallb-system",
        "--address",
        "127.0.0.1",
        target,
        ports,
    ]);
    let mut pf = Streaming::spawn(&mut cmd);
    pf.wait_line("kubectl to listen", Duration::from_secs(30), |p, l| {
        p == Pipe::Stdout && l.starts_with("Forwarding from 127.0.0.1:")
    })
    .await;
    pf
}

/// One HTTP/1.0 GET through the forwarded port; everything the server sent until it closed.
async fn get(port: u16, path: &str) -> String {
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: pod\r\n\r\n").as_bytes())
            .await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&out).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the forwarded GET ends in time")
        .unwrap_or_else(|e| format!("<error: {e}>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_to_router_status_page_speaker_metrics_and_errors() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("pf");
    lab.up(&["--tutorial"]);
    let pod = lab.router_pod();

    // kubectl 1.32's default: SPDY tunnelled in WebSocket (a GET upgrade), then the plain SPDY
    // upgrade (a POST) that older kubectls and its fallback use. Both show the router page.
    for (env, method) in [
        (&[][..], "GET"),
        (&[("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false")][..], "POST"),
    ] {
        let local = free_port("127.0.0.1");
        let mut pf = forward(&lab, &pod, &format!("{local}:80"), env).await;
        // Poll until the routers hold the tutorial's route (the speaker may still connect).
        let mut page = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !page.contains("198.51.100.0/32") && tokio::time::Instant::now() < deadline {
            page = get(local, "/").await;
            if !page.contains("198.51.100.0/32") {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        assert!(page.starts_with("HTTP/1.0 200 OK"), "{page}");
        assert!(
            page.contains("$ birdc show protocols") && page.contains("Established"),
            "{page}"
        );
        assert!(
            page.contains("$ vtysh -c show ip bgp") && page.contains("198.51.100.0/32"),
            "{page}"
        );
        // kubectl logs the upgrade (-v=6) on stderr; it may arrive before or after the
        // "Forwarding from" line on stdout.
        let upgraded = format!("{method} https://");
        let is_upgrade =
            |l: &str| l.contains(&upgraded) && l.contains("/portforward 101 Switching Protocols");
        if !pf.seen.iter().any(|(_, l)| is_upgrade(l)) {
            pf.wait_line(
                "the upgrade in kubectl's log",
                Duration::from_secs(10),
                |_, l| is_upgrade(l),
            )
            .await;
        }
    }

    // A port nothing listens on: the connection closes and kubectl prints the kubelet-worded
    // error, then ends as it does on a cluster.
    let local = free_port("127.0.0.1");
    let mut pf = forward(&lab, &pod, &format!("{local}:9999"), &[]).await;
    let answer = get(local, "/").await;
    assert!(answer.is_empty(), "{answer}");
    let line = pf
        .wait_line(
            "kubectl's forwarding error",
            Duration::from_secs(10),
            |_, l| l.contains("an error occurred forwarding"),
        )
        .await;
    assert!(
        line.contains(&format!(
            "{local} -> 9999: error forwarding port 9999 to pod metallb-system/"
        )) && line.contains("connection refused"),
        "{line}"
    );

    // The speaker's metrics port.
    let local = free_port("127.0.0.1");
    let _pf = forward(&lab, "ds/speaker", &format!("{local}:7472"), &[]).await;
    let metrics = get(local, "/metrics").await;
    assert!(metrics.contains("metallb_bgp_session_up"), "{metrics}");

    // port-forward is `create pods/portforward`: a viewer (the aggregated `view` ClusterRole)
    // reads the pod but is refused the forward.
    let binding = lab.dir.join("viewer.yaml");
    std::fs::write(
        &binding,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: viewer}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]\n",
    )
    .expect("write binding");
    lab.k(&["apply", "-f", binding.to_str().unwrap_or_default()]);
    let (ok, out) = lab.kubectl(&[
        "port-forward",
        "-n",
        "metallb-system",
        "--as=viewer",
        &pod,
        &format!("{}:80", free_port("127.0.0.1")),
    ]);
    assert!(
        !ok && out.contains(
            "User \"viewer\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"metallb-system\""
        ),
        "{out}"
    );

    // A simulated container has nothing to forward to: refused before the upgrade.
    let (ok, out) = lab.kubectl(&[
        "port-forward",
        "-n",
        "metallb-system",
        "deploy/controller",
        "7472",
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("error upgrading connection: pod metallb-system/controller-")
            && out.contains("has no port to forward"),
        "{out}"
    );
}
