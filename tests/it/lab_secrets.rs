//! An MD5 password in MetalLB's configuration never reaches a log, an event, `lab status` or
//! an error message. A lab started by the CLI runs MetalLB with a configuration whose first
//! peer has a password (the lab's routers have none, so that session keeps failing and its
//! errors are logged), then with a configuration that is rejected; then every file the lab
//! wrote, every component's log, every event and the status output are searched for the
//! password. The ConfigMap itself is left out (the object store: its snapshot `state.json` and
//! its change logs `changes.<n>.log`; and anything
//! that prints the object, such as `kubectl describe configmap`): it holds the password by
//! design, as a real cluster's etcd and API do.

use metallbctl::lab::apiserver::persistence;
use std::path::Path;

use crate::support::{eventually, have_kubectl, manifest, metallbctl, unique, Lab};

fn config(password: &str, pool: &str) -> String {
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    peers:
    - my-asn: 64500
      peer-asn: 64500
      peer-address: 10.96.0.100
      password: {password}
    - my-asn: 64500
      peer-asn: 64500
      peer-address: 10.96.0.101
    address-pools:
    - name: my-ip-space
      protocol: bgp
      addresses:
      - {pool}
"
    )
}

fn pods_running(lab: &Lab) -> Option<()> {
    let (_, out) = lab.kubectl(&["get", "pods", "-n", "metallb-system"]);
    ["controller-", "speaker-", "test-bgp-router-"]
        .iter()
        .all(|p| {
            out.lines()
                .any(|l| l.starts_with(p) && l.contains("Running"))
        })
        .then_some(())
}

/// Every file under `dir` except the object store, as (path, text).
fn files(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !persistence::is_store_file(&p) {
            if let Ok(bytes) = std::fs::read(&p) {
                out.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
}

fn text(out: std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn md5_passwords_never_reach_logs_events_or_status() {
    if !have_kubectl() {
        return;
    }
    let password = unique("md5pw").replace('-', "x");
    let lab = Lab::new("secrets");
    lab.up(&[]);
    lab.k(&["apply", "-f", &manifest("test-bgp-router.yaml")]);
    lab.k(&["apply", "-f", &manifest("metallb.yaml")]);
    eventually(
        30,
        "MetalLB and the routers Running",
        || pods_running(&lab),
        || lab.k(&["get", "pods", "-A"]),
    );
    let file = lab.dir.join("config-with-password.yaml");
    std::fs::write(&file, config(&password, "198.51.100.0/24")).expect("write config");
    lab.k(&["apply", "-f", &file.display().to_string()]);
    lab.k(&["apply", "-f", &manifest("tutorial-2.yaml")]);
    let speaker_logs = || {
        lab.kubectl(&[
            "logs",
            "-n",
            "metallb-system",
            "-l",
            "app=speaker",
            "--tail=-1",
        ])
        .1
    };
    // The configuration is in force: both peers configured, the one without a password up.
    eventually(
        30,
        "both peers configured and the peer without a password established",
        || {
            let logs = speaker_logs();
            (logs.contains("Peer \"10.96.0.100\" configured")
                && logs.contains("BGP session to \"10.96.0.101:179\" established"))
            .then_some(())
        },
        speaker_logs,
    );
    // A rejected configuration (the pool no longer holds the service's address) with the
    // password still in it: the InvalidConfig events and their error text.
    std::fs::write(&file, config(&password, "203.0.113.0/24")).expect("write config");
    lab.k(&["apply", "-f", &file.display().to_string()]);
    eventually(
        30,
        "InvalidConfig events",
        || {
            let d = lab.k(&["get", "events", "-n", "metallb-system"]);
            d.contains("InvalidConfig").then_some(())
        },
        || lab.k(&["get", "events", "-A"]),
    );

    let mut seen: Vec<(String, String)> = Vec::new();
    files(&lab.state(), &mut seen);
    let file_count = seen.len();
    for args in [
        vec!["get", "events", "-A", "-o", "yaml"],
        vec!["get", "pods", "-A", "-o", "yaml"],
    ] {
        seen.push((format!("kubectl {args:?}"), lab.k(&args)));
    }
    let pods = lab.k(&[
        "get",
        "pods",
        "-n",
        "metallb-system",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    for pod in pods.split_whitespace() {
        let (_, logs) = lab.kubectl(&["logs", "-n", "metallb-system", pod, "--all-containers"]);
        seen.push((format!("kubectl logs {pod}"), logs));
    }
    for what in ["speaker", "controller", "test-bgp-router", "nginx"] {
        seen.push((format!("lab logs {what}"), text(lab.lab("logs", &[what]))));
    }
    seen.push(("lab status".into(), text(lab.lab("status", &[]))));
    seen.push((
        "lab status -o json".into(),
        text(lab.lab("status", &["-o", "json"])),
    ));
    let kubeconfig = lab.kubeconfig().display().to_string();
    for args in [
        vec!["status", "--kubeconfig", kubeconfig.as_str()],
        vec!["routes", "--kubeconfig", kubeconfig.as_str()],
    ] {
        let out = metallbctl().args(&args).output().expect("run metallbctl");
        seen.push((format!("metallbctl {args:?}"), text(out)));
    }
    let leaks: Vec<&str> = seen
        .iter()
        .filter(|(_, t)| t.contains(&password))
        .map(|(what, _)| what.as_str())
        .collect();
    assert!(leaks.is_empty(), "the MD5 password appears in: {leaks:#?}");
    // The search did read what it claims: the speaker's log and the daemon's files.
    assert!(file_count >= 2, "files read: {file_count}");
    assert!(
        seen.iter()
            .any(|(w, t)| w.starts_with("kubectl logs speaker") && t.contains("10.96.0.100")),
        "the speaker's log was read"
    );
    lab.down();
}
