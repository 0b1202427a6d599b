//! Durability: `metallbctl lab apiserver` is killed with SIGKILL and restarted on the same
//! state directory; objects, uids and resourceVersions come back.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::Parser;

use crate::support::lab::client_for;
use crate::support::TempDir;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ListParams, PostParams};
use metallbctl::lab::apiserver::persistence;
use serde_json::json;

const CHILD_ENV: &str = "METALLBCTL_LAB_RESTART_CHILD";

/// Not a test on its own: when re-executed with `CHILD_ENV` set to a directory, this test
/// process becomes `metallbctl lab apiserver` on that directory (through the same CLI code the
/// binary runs) and serves until it is killed. Re-executing the test binary rather than the
/// `metallbctl` binary keeps the test immune to other checkouts that share CARGO_TARGET_DIR
/// and overwrite `target/debug/metallbctl`.
#[test]
#[ignore = "the server process of the lab_restart tests, run only by `spawn`"]
fn child_server() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let argv = [
        "metallbctl",
        "lab",
        "apiserver",
        "--listen",
        "127.0.0.1:0",
        "--state-dir",
    ];
    let state = dir.join("state").display().to_string();
    let kubeconfig = dir.join("kubeconfig").display().to_string();
    let cli = metallbctl::cli::Cli::try_parse_from(argv.iter().map(|s| s.to_string()).chain([
        state,
        "--kubeconfig".into(),
        kubeconfig,
    ]))
    .expect("arguments parse");
    match cli.command {
        metallbctl::cli::Command::Lab(args) => {
            let _ = metallbctl::cli::lab::run(args);
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("only lab is parsed here"),
    }
}

/// Start the server process and wait until it has written its kubeconfig.
pub(crate) fn spawn(dir: &TempDir) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "lab_restart::child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the server process");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("kubeconfig written to") => break,
            Some(Ok(_)) => continue,
            other => panic!("server did not start: {other:?}"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

#[tokio::test]
async fn sigkill_and_restart_keeps_objects_and_versions() {
    let dir = TempDir::new("restart");
    let mut server = spawn(&dir);
    let client = client_for(&dir.path().join("kubeconfig")).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..20 {
        let cm: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": format!("c{i}")}, "data": {"i": i.to_string()}}),
        )
        .expect("cm");
        cms.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
    let svcs: Api<Service> = Api::namespaced(client, "default");
    let svc: Service = serde_json::from_value(
        json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .expect("svc");
    let svc = svcs
        .create(&PostParams::default(), &svc)
        .await
        .expect("create svc");
    let before = cms.list(&ListParams::default()).await.expect("list");
    // The server writes its state file shortly after each change; kill it only once the file
    // on disk holds the listed resourceVersion, so the test checks recovery, not timing.
    let listed: u64 = before
        .metadata
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("list resourceVersion");
    let state = dir.path().join("state");
    crate::support::eventually_async(
        "the state file to hold the last change",
        Duration::from_secs(10),
        || {
            let saved = persistence::load(&state)
                .ok()
                .flatten()
                .map(|snap| snap.resource_version);
            async move { saved.filter(|rv| *rv >= listed).map(|_| ()) }
        },
    )
    .await;

    server.kill().expect("SIGKILL");
    let _ = server.wait();

    let mut server = spawn(&dir);
    let client = client_for(&dir.path().join("kubeconfig")).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let after = cms
        .list(&ListParams::default())
        .await
        .expect("list after restart");
    let ids = |l: &kube::core::ObjectList<ConfigMap>| -> Vec<(Option<String>, Option<String>, Option<String>)> {
        l.items.iter().map(|c| (c.metadata.name.clone(), c.metadata.uid.clone(), c.metadata.resource_version.clone())).collect()
    };
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    let svcs: Api<Service> = Api::namespaced(client, "default");
    let again = svcs.get("s").await.expect("service back");
    assert_eq!(
        again.spec.and_then(|s| s.cluster_ip),
        svc.spec.and_then(|s| s.cluster_ip)
    );
    let next = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "new"}})).expect("cm"),
        )
        .await
        .expect("create");
    let next_rv: u64 = next
        .metadata
        .resource_version
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let old_rv: u64 = before
        .metadata
        .resource_version
        .and_then(|r| r.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(
        next_rv > old_rv,
        "resourceVersions keep increasing after a restart"
    );
    server.kill().expect("kill");
    let _ = server.wait();
}
