//! The MetalLB BGP tutorial end to end, as the seed text runs it, with the real kubectl against
//! a lab started by the CLI (`metallbctl lab up`), local manifest paths for the URLs: routers
//! Running; MetalLB Running; tutorial-1 (sessions Established, the speaker's log lines);
//! tutorial-2 (EXTERNAL-IP 198.51.100.0, IPAllocated, both routers hold the /32);
//! `metallbctl validate --cluster` predicts tutorial-3's rejection; tutorial-3 (both
//! InvalidConfig warnings); `kubectl edit` pins 198.51.100.1 and the routers move; tutorial-4
//! accepted; `kubectl delete -f` tears it down. Once with the built-in routers, once with
//! BIRD 2 and FRR (`--routers real`). Skipped with a message when kubectl (or BIRD/FRR) is
//! missing, unless METALLBCTL_REQUIRE_PEERS=1.

use crate::support::{
    eventually, have_kubectl, have_real_routers, manifest, mask_columns, metallbctl, snapshot, Lab,
};

const PEER_LINES: [&str; 4] = [
    "Peer \"10.96.0.100\" configured, starting BGP session",
    "Peer \"10.96.0.101\" configured, starting BGP session",
    "BGP session to \"10.96.0.100:179\" established",
    "BGP session to \"10.96.0.101:179\" established",
];

fn pods_running(lab: &Lab, prefixes: &[&str]) -> Option<()> {
    let (_, out) = lab.kubectl(&["get", "pods", "-n", "metallb-system"]);
    prefixes
        .iter()
        .all(|p| {
            out.lines()
                .any(|l| l.starts_with(p) && l.contains("Running"))
        })
        .then_some(())
}

fn speaker_logs(lab: &Lab) -> String {
    lab.kubectl(&[
        "logs",
        "-n",
        "metallb-system",
        "-l",
        "app=speaker",
        "--tail=-1",
    ])
    .1
}

fn install_routers_and_metallb(lab: &Lab) {
    lab.k(&["apply", "-f", &manifest("test-bgp-router.yaml")]);
    eventually(
        20,
        "router pod Running",
        || pods_running(lab, &["test-bgp-router-"]),
        || lab.k(&["get", "pods", "-A"]),
    );
    lab.k(&["apply", "-f", &manifest("metallb.yaml")]);
    eventually(
        20,
        "controller and speaker Running",
        || pods_running(lab, &["controller-", "speaker-", "test-bgp-router-"]),
        || lab.k(&["get", "pods", "-A"]),
    );
}

fn tutorial_1(lab: &Lab) {
    lab.k(&["apply", "-f", &manifest("tutorial-1.yaml")]);
    eventually(
        30,
        "both sessions Established",
        || lab.all_established().then_some(()),
        || lab.status().to_string(),
    );
    eventually(
        10,
        "the speaker's tutorial log lines",
        || {
            let logs = speaker_logs(lab);
            PEER_LINES.iter().all(|l| logs.contains(l)).then_some(())
        },
        || speaker_logs(lab),
    );
}

fn lab_logs_show_the_speaker(lab: &Lab) {
    let out = lab.lab("logs", &["speaker"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(PEER_LINES[2]), "{text}");
    let out = lab.lab("logs", &["bird"]);
    assert!(out.status.success() && !out.stdout.is_empty(), "{out:?}");
}

fn service_ip(lab: &Lab, ip: &str) -> Option<()> {
    let (_, out) = lab.kubectl(&["get", "service", "nginx"]);
    out.lines()
        .any(|l| l.starts_with("nginx") && l.split_whitespace().nth(3) == Some(ip))
        .then_some(())
}

fn routers_move_to(lab: &Lab, ip: &str, old: Option<&str>) {
    let want = format!("{ip}/32");
    let old = old.map(|o| format!("{o}/32"));
    eventually(
        30,
        &format!("both routers to hold {want} only"),
        || {
            let has = lab.routers_hold(&want);
            let stale = old
                .as_ref()
                .is_some_and(|o| lab.routers_hold(o).iter().any(|b| *b));
            (has.len() == 2 && has.iter().all(|b| *b) && !stale).then_some(())
        },
        || lab.status().to_string(),
    );
}

fn tutorial_2(lab: &Lab) {
    lab.k(&["apply", "-f", &manifest("tutorial-2.yaml")]);
    eventually(
        20,
        "nginx Running",
        || {
            let (_, out) = lab.kubectl(&["get", "pods"]);
            out.lines()
                .any(|l| l.starts_with("nginx-") && l.contains("1/1") && l.contains("Running"))
                .then_some(())
        },
        || lab.k(&["get", "pods", "-A"]),
    );
    eventually(
        20,
        "EXTERNAL-IP 198.51.100.0",
        || service_ip(lab, "198.51.100.0"),
        || lab.k(&["get", "svc", "-A"]),
    );
    let describe = lab.k(&["describe", "service", "nginx"]);
    assert!(describe.contains("IPAllocated"), "{describe}");
    assert!(
        describe.contains("Assigned IP \"198.51.100.0\""),
        "{describe}"
    );
    routers_move_to(lab, "198.51.100.0", None);
}

fn validate_predicts_rejection(lab: &Lab) {
    let out = metallbctl()
        .args([
            "validate",
            &manifest("tutorial-3.yaml"),
            "--cluster",
            "--kubeconfig",
        ])
        .arg(lab.kubeconfig())
        .output()
        .expect("run validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "validate --cluster must find the break:\n{text}"
    );
    assert!(
        text.contains("nginx") && text.contains("198.51.100.0"),
        "{text}"
    );
}

fn tutorial_3_rejected(lab: &Lab) {
    lab.k(&["apply", "-f", &manifest("tutorial-3.yaml")]);
    let msg = "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config";
    eventually(
        20,
        "InvalidConfig from controller and speaker",
        || {
            let d = lab.k(&["describe", "configmap", "-n", "metallb-system", "config"]);
            let lines: Vec<&str> = d
                .lines()
                .filter(|l| l.contains("InvalidConfig") && l.contains(msg))
                .collect();
            let both = lines.iter().any(|l| l.contains("metallb-controller"))
                && lines.iter().any(|l| l.contains("metallb-speaker"));
            both.then_some(())
        },
        || lab.k(&["describe", "configmap", "-n", "metallb-system", "config"]),
    );
    assert!(
        lab.routers_hold("198.51.100.0/32").iter().all(|b| *b),
        "the old config stays in force"
    );
}

fn edit_pins_dot_one(lab: &Lab) {
    let editor = lab.dir.join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^spec:$/spec:\\n  loadBalancerIP: 198.51.100.1/' \"$1\"\n",
    )
    .expect("editor");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let editor = editor.display().to_string();
    let (ok, out) = lab.kubectl_env(
        &["edit", "service", "nginx"],
        &[("EDITOR", &editor), ("KUBE_EDITOR", &editor)],
    );
    assert!(ok && out.contains("service/nginx edited"), "{out}");
    eventually(
        20,
        "EXTERNAL-IP 198.51.100.1",
        || service_ip(lab, "198.51.100.1"),
        || lab.k(&["describe", "svc", "nginx"]),
    );
    let describe = lab.k(&["describe", "service", "nginx"]);
    assert!(
        describe.contains("Assigned IP \"198.51.100.1\""),
        "{describe}"
    );
    routers_move_to(lab, "198.51.100.1", Some("198.51.100.0"));
}

fn tutorial_4_accepted(lab: &Lab) {
    let applied = |l: &Lab| speaker_logs(l).matches("configuration applied").count();
    let before = applied(lab);
    let out = lab.k(&["apply", "-f", &manifest("tutorial-4.yaml")]);
    assert!(out.contains("configmap/config configured"), "{out}");
    eventually(
        20,
        "the speaker to apply tutorial-4",
        || (applied(lab) > before).then_some(()),
        || speaker_logs(lab),
    );
    assert!(lab.routers_hold("198.51.100.1/32").iter().all(|b| *b));
}

fn delete_tears_down(lab: &Lab) {
    let files = [
        manifest("tutorial-2.yaml"),
        manifest("test-bgp-router.yaml"),
        manifest("metallb.yaml"),
    ]
    .join(",");
    let (ok, out) = lab.kubectl(&["delete", "-f", &files]);
    assert!(ok || out.contains("NotFound"), "{out}");
    eventually(
        20,
        "everything gone",
        || {
            let st = lab.status();
            let none = st["components"].as_array().is_some_and(Vec::is_empty)
                && st["routers"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|r| r["running"] == false));
            none.then_some(())
        },
        || lab.status().to_string(),
    );
}

fn tutorial(routers: &str) {
    let lab = Lab::new(&format!("tutorial-{routers}"));
    lab.up(&["--routers", routers]);
    install_routers_and_metallb(&lab);
    tutorial_1(&lab);
    lab_logs_show_the_speaker(&lab);
    tutorial_2(&lab);
    validate_predicts_rejection(&lab);
    tutorial_3_rejected(&lab);
    edit_pins_dot_one(&lab);
    tutorial_4_accepted(&lab);
    if routers == "builtin" {
        status_table_snapshot(&lab);
    }
    delete_tears_down(&lab);
}

/// `lab status` with MetalLB and the routers deployed and nginx announced, as a snapshot: the
/// per-run parts (name, PID, ports, state directory) are redacted, and generated pod names,
/// pod IPs and session uptimes are masked.
fn status_table_snapshot(lab: &Lab) {
    let status = lab.status();
    let text = String::from_utf8_lossy(&lab.lab("status", &[]).stdout).into_owned();
    let text = crate::lab_lifecycle::redact_status(lab, &status, &text);
    let blocks: Vec<String> = text
        .split("\n\n")
        .map(|block| {
            if block.starts_with("NAMESPACE") || block.starts_with("ROUTER") {
                mask_columns(block, &["POD", "IP", "UPTIME"])
                    .trim_end()
                    .to_string()
            } else {
                block.trim_end().to_string()
            }
        })
        .collect();
    snapshot("lab_status_tutorial", &(blocks.join("\n\n") + "\n"));
}

#[test]
fn tutorial_with_builtin_routers() {
    if !have_kubectl() {
        return;
    }
    tutorial("builtin");
}

#[test]
fn tutorial_with_bird_and_frr() {
    if !have_kubectl() || !have_real_routers() {
        return;
    }
    tutorial("real");
}

#[test]
fn lab_up_tutorial_prints_the_external_ip_and_routes() {
    let lab = Lab::new("up-tutorial");
    let out = lab.up(&["--tutorial"]);
    assert!(out.contains("nginx EXTERNAL-IP: 198.51.100.0"), "{out}");
    assert!(out.contains("router bird"), "{out}");
    assert!(
        out.contains("learned: 198.51.100.0/32 via 127.0.1.1"),
        "{out}"
    );
    assert!(
        out.contains(&format!("export KUBECONFIG={}", lab.kubeconfig().display())),
        "{out}"
    );
}

const MULTI_NODE_CONFIG: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    peers:
    - my-asn: 64500
      peer-asn: 64512
      peer-address: 10.96.0.100
    - my-asn: 64500
      peer-asn: 64513
      peer-address: 10.96.0.101
    address-pools:
    - name: my-ip-space
      protocol: bgp
      addresses:
      - 198.51.100.0/24
"#;

#[test]
fn multi_node_ebgp_every_node_announces_to_both_routers() {
    if !have_kubectl() {
        return;
    }
    multi_node("builtin");
}

#[test]
fn multi_node_ebgp_with_bird_and_frr() {
    if !have_kubectl() || !have_real_routers() {
        return;
    }
    multi_node("real");
}

fn multi_node(routers: &str) {
    let lab = Lab::new(&format!("multi-ebgp-{routers}"));
    let topo = format!("{}/lab/multi-node.yaml", env!("CARGO_MANIFEST_DIR"));
    lab.up(&["--topology", &topo, "--routers", routers]);
    install_routers_and_metallb(&lab);
    let config = lab.dir.join("config.yaml");
    std::fs::write(&config, MULTI_NODE_CONFIG).expect("write");
    lab.k(&["apply", "-f", &config.display().to_string()]);
    lab.k(&["apply", "-f", &manifest("tutorial-2.yaml")]);
    eventually(
        30,
        "3 nodes x 2 routers holding 198.51.100.0/32",
        || {
            let st = lab.status();
            let routers = st["routers"].as_array().cloned().unwrap_or_default();
            let ok = routers.len() == 2
                && routers.iter().all(|r| {
                    let s = r["sessions"].as_array().cloned().unwrap_or_default();
                    s.len() == 3
                        && s.iter().all(|s| {
                            s["state"] == "Established"
                                && s["routes"].as_array().is_some_and(|rs| {
                                    rs.iter().any(|x| {
                                        x["prefix"] == "198.51.100.0/32"
                                            && x["next_hop"] == s["peer"]
                                    })
                                })
                        })
                });
            ok.then_some(())
        },
        || lab.status().to_string(),
    );
}
