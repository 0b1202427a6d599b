//! `metallbctl lab` lifecycle through the CLI: `lab down` leaves no process (daemon, BIRD,
//! FRR), `lab up` after `lab down` restores objects, clear errors for a lab already running,
//! a stale pid file and a port in use, several named labs at once, `lab status`, `lab logs`,
//! `lab reset`, and the runtime's pod behaviour (delete a pod: the owner recreates it).

use std::net::TcpListener;

use crate::support::{
    alive, eventually, have_kubectl, have_real_routers, metallbctl, processes_with, redact,
    snapshot, Lab,
};
use serde_json::Value;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn down_leaves_no_process_and_up_restores_objects() {
    if !have_kubectl() {
        return;
    }
    let real = have_real_routers();
    let lab = Lab::new("restore");
    let mode = if real { "real" } else { "builtin" };
    lab.up(&["--routers", mode]);
    let pid = lab.pid().expect("pid file");
    let cm = lab.dir.join("keep-me.yaml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep-me\ndata:\n  a: b\n",
    )
    .expect("write");
    lab.k(&["apply", "-f", &cm.display().to_string()]);
    lab.k(&[
        "apply",
        "-f",
        &crate::support::manifest("test-bgp-router.yaml"),
    ]);
    eventually(
        20,
        "routers running",
        || {
            let st = lab.status();
            st["routers"]
                .as_array()
                .is_some_and(|r| r.iter().all(|r| r["running"] == true))
                .then_some(())
        },
        || lab.status().to_string(),
    );
    let marker = lab.state().display().to_string();
    if real {
        assert!(!processes_with("bird", &marker).is_empty(), "BIRD runs");
    }
    let out = lab.lab("down", &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped"),
        "{out:?}"
    );
    assert!(!alive(pid), "daemon {pid} still alive after lab down");
    assert!(
        processes_with("", &marker).is_empty(),
        "processes left: {:?}",
        processes_with("", &marker)
    );
    assert!(!lab.state().join("lab.pid").exists());

    lab.up(&[]);
    assert!(lab.k(&["get", "configmap", "keep-me"]).contains("keep-me"));
    let st = lab.status();
    // Issue 16: `lab up` without --routers keeps the recorded choice.
    assert_eq!(st["routers_mode"], mode);
    eventually(
        20,
        "router pod restarted",
        || {
            lab.status()["routers"]
                .as_array()
                .is_some_and(|r| r.iter().all(|r| r["running"] == true))
                .then_some(())
        },
        || lab.status().to_string(),
    );
}

#[test]
fn clear_errors_already_running_stale_pid_port_in_use() {
    let lab = Lab::new("errors");
    lab.up(&[]);
    let again = lab.lab("up", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("is already running"),
        "{}",
        stderr(&again)
    );
    lab.down();

    std::fs::write(lab.state().join("lab.pid"), "999999\n").expect("fake pid");
    let out = lab.lab("up", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("stale pid file"), "{}", stderr(&out));
    lab.down();

    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let out = lab.lab("up", &["--port", &port]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Address already in use"),
        "{}",
        stderr(&out)
    );
    assert!(lab.pid().is_none_or(|p| !alive(p)));

    let router = TcpListener::bind("127.0.0.100:0").expect("bind");
    let busy = router.local_addr().expect("addr").to_string();
    let topo = std::fs::read_to_string(format!("{}/lab/tutorial.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("topology")
        .replace("127.0.0.100:0", &busy);
    let file = lab.dir.join("busy.yaml");
    std::fs::write(&file, topo).expect("write");
    let out = lab.lab("up", &["--topology", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("router bird cannot listen on {busy}")),
        "{}",
        stderr(&out)
    );
}

/// `lab status` text with what differs per run replaced: the lab's name, PID, API server
/// port and state directory, and the routers' real listen ports.
pub(crate) fn redact_status(lab: &Lab, status: &Value, text: &str) -> String {
    let pid = status["pid"]
        .as_u64()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let api = status["api_server"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let state = lab.state().display().to_string();
    let mut pairs: Vec<(String, String)> = vec![
        (format!("(pid {pid})"), "(pid <pid>)".into()),
        (api, "https://127.0.0.1:<port>".into()),
        (state, "<state>".into()),
        (format!("\"{}\"", lab.name), "\"<name>\"".into()),
    ];
    for r in status["routers"].as_array().into_iter().flatten() {
        if let Some(listen) = r["listen"].as_str().filter(|l| !l.ends_with(":0")) {
            let ip = listen.rsplit_once(':').map_or(listen, |(ip, _)| ip);
            pairs.push((listen.to_string(), format!("{ip}:<port>")));
        }
    }
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    redact(text, &pairs)
}

#[test]
fn two_named_labs_status_logs_reset() {
    let a = Lab::new("multi-a");
    let b = Lab::new("multi-b");
    a.up(&[]);
    let topo = format!("{}/lab/multi-node.yaml", env!("CARGO_MANIFEST_DIR"));
    b.up(&["--topology", &topo]);
    let (sa, sb) = (a.status(), b.status());
    assert_ne!(sa["api_server"], sb["api_server"]);
    assert_eq!(sa["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(sb["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(sb["topology"], "multi-node");
    let table = String::from_utf8_lossy(&a.lab("status", &[]).stdout).into_owned();
    snapshot("lab_status_before_install", &redact_status(&a, &sa, &table));
    for needle in [
        "minikube",
        "127.0.1.1",
        "ROUTER",
        "10.96.0.100:179",
        "not deployed",
    ] {
        assert!(table.contains(needle), "{needle}: {table}");
    }
    let logs = a.lab("logs", &[]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("kubeconfig"),
        "{logs:?}"
    );
    let out = b.lab("reset", &[]);
    assert!(out.status.success());
    assert!(!b.state().exists());
    let st: Value =
        serde_json::from_slice(&b.lab("status", &["-o", "json"]).stdout).unwrap_or(Value::Null);
    assert_eq!(st["running"], false);
}

#[test]
fn pods_follow_their_owners_and_deleted_pods_come_back() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("pods");
    lab.up(&[
        "--topology",
        &format!("{}/lab/multi-node.yaml", env!("CARGO_MANIFEST_DIR")),
    ]);
    lab.k(&["apply", "-f", &crate::support::manifest("metallb.yaml")]);
    let speakers = || {
        let out = lab.k(&[
            "get",
            "pods",
            "-n",
            "metallb-system",
            "-l",
            "app=speaker",
            "-o",
            "wide",
        ]);
        out.lines()
            .filter(|l| l.contains("Running"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let running = eventually(
        20,
        "3 speakers",
        || Some(speakers()).filter(|s| s.len() == 3),
        || lab.k(&["get", "pods", "-A"]),
    );
    for (i, ip) in ["127.0.2.1", "127.0.2.2", "127.0.2.3"].iter().enumerate() {
        assert!(
            running
                .iter()
                .any(|l| l.contains(ip) && l.contains(&format!("node-{}", i + 1))),
            "{running:?}"
        );
    }
    let controller = eventually(
        20,
        "controller pod",
        || {
            let out = lab.k(&[
                "get",
                "pods",
                "-n",
                "metallb-system",
                "-l",
                "app=controller",
                "-o",
                "name",
            ]);
            out.lines().next().map(str::to_string)
        },
        String::new,
    );
    lab.k(&["delete", "-n", "metallb-system", &controller]);
    eventually(
        20,
        "a new controller pod",
        || {
            let out = lab.k(&[
                "get",
                "pods",
                "-n",
                "metallb-system",
                "-l",
                "app=controller",
                "-o",
                "name",
            ]);
            out.lines().next().filter(|n| *n != controller).map(|_| ())
        },
        || lab.k(&["get", "pods", "-A"]),
    );
    let rs = lab.k(&["get", "replicasets", "-n", "metallb-system"]);
    assert!(rs.contains("controller-"), "{rs}");
    lab.k(&["delete", "deployment", "-n", "metallb-system", "controller"]);
    eventually(
        20,
        "controller pods gone",
        || {
            let out = lab.k(&[
                "get",
                "pods",
                "-n",
                "metallb-system",
                "-l",
                "app=controller",
                "-o",
                "name",
            ]);
            out.trim().is_empty().then_some(())
        },
        || lab.k(&["get", "pods", "-A"]),
    );
}

#[test]
fn foreground_stops_on_sigterm_and_merge_kubeconfig_adds_a_context() {
    let lab = Lab::new("fg");
    let mut child = metallbctl()
        .args([
            "lab",
            "up",
            "--foreground",
            "--name",
            &lab.name,
            "--state-dir",
        ])
        .arg(lab.state())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    eventually(
        10,
        "foreground lab to answer",
        || (lab.status()["pid"] == child.id()).then_some(()),
        String::new,
    );
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    assert!(!lab.state().join("lab.pid").exists());

    let user_kubeconfig = lab.dir.join("user-kubeconfig");
    std::fs::write(&user_kubeconfig, "apiVersion: v1\nkind: Config\ncurrent-context: mine\ncontexts:\n- name: mine\n  context: {cluster: c, user: u}\n").expect("write");
    let out = metallbctl()
        .env("KUBECONFIG", &user_kubeconfig)
        .args([
            "lab",
            "up",
            "--merge-kubeconfig",
            "--name",
            &lab.name,
            "--state-dir",
        ])
        .arg(lab.state())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = std::fs::read_to_string(&user_kubeconfig).expect("read");
    let ctx = format!("metallbctl-lab-{}", lab.name);
    assert!(merged.contains(&ctx), "{merged}");
    assert!(merged.contains("current-context: mine"), "{merged}");
    assert!(merged.contains("name: mine"), "{merged}");
    if have_kubectl() {
        let out = std::process::Command::new("kubectl")
            .env("KUBECONFIG", &user_kubeconfig)
            .arg("--cache-dir")
            .arg(&lab.cache)
            .args(["--context", &ctx, "get", "ns", "default"])
            .output()
            .expect("kubectl");
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

#[test]
fn router_daemons_of_a_killed_lab_are_reaped() {
    if !have_kubectl() || !have_real_routers() {
        return;
    }
    let lab = Lab::new("reap");
    lab.up(&["--routers", "real"]);
    lab.k(&[
        "apply",
        "-f",
        &crate::support::manifest("test-bgp-router.yaml"),
    ]);
    let marker = lab.state().join("routers").display().to_string();
    // Kill the lab as soon as both daemons run, without waiting for their own pid files: under
    // load those appear tens of milliseconds later, and `lab down` must reap them regardless.
    eventually(
        20,
        "BIRD and FRR running",
        || (processes_with("", &marker).len() >= 2).then_some(()),
        || lab.status().to_string(),
    );
    let pid = lab.pid().expect("pid");
    // SAFETY: kill(2) on the lab daemon this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    eventually(
        5,
        "daemon gone",
        || (!alive(pid)).then_some(()),
        String::new,
    );
    assert!(
        !processes_with("", &marker).is_empty(),
        "routers outlive a SIGKILLed daemon"
    );
    let out = lab.lab("down", &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("stale pid file") && text.contains("stopped router daemon"),
        "{text}"
    );
    eventually(
        10,
        "router daemons reaped",
        || processes_with("", &marker).is_empty().then_some(()),
        || {
            let left: Vec<String> = processes_with("", &marker)
                .into_iter()
                .map(|p| {
                    let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                    format!("{p}: {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
                })
                .collect();
            format!("{left:#?}\nlab down said: {text}")
        },
    );
}

/// `lab up --topology lab/multi-node.yaml --tutorial` used to wait 30 s in silence and exit 0
/// with every session Active (the routers are AS 64512/64513, the tutorial peers in AS 64500).
/// It is refused before anything starts, naming both ASes.
#[test]
fn tutorial_on_a_topology_it_cannot_peer_with_is_refused_up_front() {
    let lab = Lab::new("tutorial-mismatch");
    let out = lab.lab(
        "up",
        &[
            "--topology",
            &crate::support::repo_path("lab/multi-node.yaml")
                .display()
                .to_string(),
            "--tutorial",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("router bird is AS 64512") && err.contains("router quagga is AS 64513"),
        "{err}"
    );
    assert!(err.contains("help: use the tutorial's topology"), "{err}");
    // Refused before the daemon starts, not after a wait for routes that never come.
    assert!(lab.pid().is_none(), "no lab daemon was started");
}
