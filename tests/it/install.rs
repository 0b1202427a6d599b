//! `metallbctl install` / `uninstall` against a lab started by the CLI: server-side apply,
//! rollout wait with plain progress lines (stdout is not a TTY here), a second run reports
//! everything unchanged, `--config` is dry-run against live assignments and refused when it
//! would break a service (unless `--force`), `--dry-run` changes nothing, uninstall removes it.

use std::process::{Command, Output};

use serde::Deserialize;

use crate::support::{eventually, have_kubectl, manifest, metallbctl, Lab};

/// `metallbctl ARGS --kubeconfig LAB`: the output and stdout + stderr as text.
fn run(lab: &Lab, args: &[&str]) -> (Output, String) {
    let out = metallbctl()
        .args(args)
        .arg("--kubeconfig")
        .arg(lab.kubeconfig())
        .output()
        .expect("run metallbctl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn install_twice_config_dry_run_and_uninstall() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("install");
    lab.up(&[]);

    let (out, text) = run(&lab, &["install", "--dry-run"]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("daemonset.apps/speaker created (server dry run)"),
        "{text}"
    );
    assert!(
        !lab.kubectl(&["get", "ns", "metallb-system"]).0,
        "dry run created the namespace"
    );

    // The ConfigMap era: from v0.13 MetalLB reads custom resources, and its RBAC does not
    // even let it read the ConfigMap this test configures it with. Later installs keep the
    // release that is running.
    let (out, text) = run(
        &lab,
        &[
            "install",
            "--with-test-router",
            "--metallb-version",
            "v0.12",
            "--timeout",
            "30s",
        ],
    );
    assert!(out.status.success(), "{text}");
    for needle in [
        "namespace/metallb-system created",
        "deployment.apps/controller created",
        "secret/memberlist created",
        "waiting for rollout:",
        "rollout complete",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let (out, text) = run(&lab, &["install", "--with-test-router"]);
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains(" created") && !text.contains(" configured"),
        "{text}"
    );
    assert!(text.contains("everything unchanged"), "{text}");
    let managed = lab.k(&[
        "get",
        "deployment",
        "-n",
        "metallb-system",
        "controller",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managed.contains("metallbctl"), "{managed}");

    let (out, text) = run(&lab, &["install", "--config", &manifest("tutorial-1.yaml")]);
    assert!(out.status.success(), "{text}");
    lab.k(&["apply", "-f", &manifest("tutorial-2.yaml")]);
    eventually(
        20,
        "nginx EXTERNAL-IP",
        || {
            lab.k(&["get", "svc", "nginx"])
                .contains("198.51.100.0")
                .then_some(())
        },
        || lab.k(&["get", "svc", "-A"]),
    );

    let (out, text) = run(&lab, &["install", "--config", &manifest("tutorial-3.yaml")]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to apply") && text.contains("cannot own \"198.51.100.0\""),
        "{text}"
    );
    let cm = lab.k(&[
        "get",
        "configmap",
        "-n",
        "metallb-system",
        "config",
        "-o",
        "jsonpath={.data.config}",
    ]);
    assert!(
        !cm.contains("avoid-buggy-ips"),
        "the refused config was applied: {cm}"
    );

    let (out, text) = run(
        &lab,
        &[
            "install",
            "--config",
            &manifest("tutorial-3.yaml"),
            "--force",
            "--wait=false",
        ],
    );
    assert!(out.status.success(), "{text}");
    let cm = lab.k(&[
        "get",
        "configmap",
        "-n",
        "metallb-system",
        "config",
        "-o",
        "jsonpath={.data.config}",
    ]);
    assert!(cm.contains("avoid-buggy-ips"), "{cm}");

    let (out, text) = run(&lab, &["uninstall"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("namespace/metallb-system deleted"), "{text}");
    eventually(
        10,
        "namespace gone",
        || (!lab.kubectl(&["get", "ns", "metallb-system"]).0).then_some(()),
        String::new,
    );
}

/// The router configs shipped in manifests/test-bgp-router.yaml parse with the real daemons.
#[test]
fn test_router_manifest_configs_parse_with_bird_and_frr() {
    if !crate::support::have_real_routers() {
        return;
    }
    let text = std::fs::read_to_string(manifest("test-bgp-router.yaml")).expect("manifest");
    let cm = serde_yaml::Deserializer::from_str(&text)
        .filter_map(|d| serde_json::Value::deserialize(d).ok())
        .find(|d| d["kind"] == "ConfigMap")
        .expect("config map");
    let lab = Lab::new("router-configs");
    let (bird, frr) = (lab.dir.join("bird.conf"), lab.dir.join("frr.conf"));
    std::fs::write(&bird, cm["data"]["bird.conf"].as_str().expect("bird.conf")).expect("write");
    std::fs::write(&frr, cm["data"]["frr.conf"].as_str().expect("frr.conf")).expect("write");
    let out = Command::new("/usr/sbin/bird")
        .arg("-p")
        .arg("-c")
        .arg(&bird)
        .output()
        .expect("bird");
    assert!(out.status.success(), "{out:?}");
    let out = Command::new("/usr/lib/frr/bgpd")
        .arg("-C")
        .arg("-f")
        .arg(&frr)
        .args(["-Z", "-S", "-P", "0", "-p", "0", "--vty_socket"])
        .arg(&lab.dir)
        .arg("-i")
        .arg(lab.dir.join("bgpd.pid"))
        .output()
        .expect("bgpd");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !log.contains("Config Failed"),
        "{log}"
    );
}
