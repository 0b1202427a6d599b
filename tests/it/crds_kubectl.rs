//! MetalLB v0.15 with custom resources on the lab, with the real kubectl:
//! `lab up --tutorial --metallb-version v0.15` installs the generated manifest (CRDs, webhook
//! configuration) and applies tutorial-crds-1..2: nginx gets 198.51.100.0 and both routers the
//! /32; `kubectl get ipaddresspools` prints the CRD's printer columns and v0.15's status
//! counts; an invalid pool is refused by the webhook with MetalLB's message; tutorial-crds-3
//! takes .0 away, so nginx is re-allocated and the ClearAssignment event says so. Skipped with a
//! message when kubectl is missing, unless METALLBCTL_REQUIRE_PEERS=1.

use crate::support::{eventually, have_kubectl, manifest, metallbctl, Lab};

#[test]
fn v0_15_custom_resources_with_kubectl() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("crds-kubectl");
    let out = lab.up(&["--tutorial", "--metallb-version", "v0.15"]);
    assert!(out.contains("nginx EXTERNAL-IP: 198.51.100.0"), "{out}");
    assert!(
        out.contains(
            "customresourcedefinition.apiextensions.k8s.io/ipaddresspools.metallb.io created"
        ),
        "{out}"
    );
    eventually(
        20,
        "both routers hold 198.51.100.0/32",
        || {
            let held = lab.routers_hold("198.51.100.0/32");
            (held.len() == 2 && held.iter().all(|h| *h)).then_some(())
        },
        || lab.status().to_string(),
    );

    // The CRD's printer columns, and the pool's v0.15 status counts.
    let table = lab.k(&["get", "ipaddresspools", "-n", "metallb-system"]);
    let header = table.lines().next().unwrap_or_default();
    for col in ["NAME", "AUTO ASSIGN", "AVOID BUGGY IPS", "ADDRESSES"] {
        assert!(header.contains(col), "{table}");
    }
    assert!(
        table.contains("my-ip-space") && table.contains("[\"198.51.100.0/24\"]"),
        "{table}"
    );
    eventually(
        20,
        "pool status counts",
        || {
            let s = lab.k(&[
                "get",
                "ipaddresspool",
                "-n",
                "metallb-system",
                "my-ip-space",
                "-o",
                "jsonpath={.status.assignedIPv4}/{.status.availableIPv4}",
            ]);
            (s == "1/255").then_some(())
        },
        || lab.k(&["get", "ipaddresspool", "-n", "metallb-system", "-o", "yaml"]),
    );
    let peers = lab.k(&["get", "bgppeers", "-n", "metallb-system"]);
    assert!(
        peers.lines().next().unwrap_or_default().contains("ADDRESS")
            && peers.contains("10.96.0.100"),
        "{peers}"
    );

    // The speaker's ServiceBGPStatus for nginx, with its printer columns.
    eventually(
        20,
        "ServiceBGPStatus for nginx",
        || {
            let t = lab.k(&["get", "servicebgpstatuses", "-n", "metallb-system"]);
            let header = t.lines().next().unwrap_or_default();
            (header.contains("NODE") && header.contains("SERVICE NAME") && t.contains("nginx"))
                .then_some(())
        },
        || lab.k(&["get", "servicebgpstatuses", "-A", "-o", "yaml"]),
    );

    // An invalid pool is refused by MetalLB's webhook, with MetalLB's message.
    let bad = lab.dir.join("bad-pool.yaml");
    std::fs::write(
        &bad,
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: overlapping\n  namespace: metallb-system\nspec:\n  addresses:\n  - 198.51.100.128/25\n",
    )
    .expect("write");
    let (ok, text) = lab.kubectl(&["apply", "-f", bad.to_str().expect("utf-8 path")]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "admission webhook \"ipaddresspoolvalidationwebhook.metallb.io\" denied the request"
        ) && text.contains("overlap"),
        "{text}"
    );
    assert!(
        !lab.kubectl(&[
            "get",
            "ipaddresspool",
            "-n",
            "metallb-system",
            "overlapping"
        ])
        .0
    );

    // tutorial-crds-3 takes .0 away: v0.15 re-allocates nginx and says so.
    lab.k(&["apply", "-f", &manifest("tutorial-crds-3.yaml")]);
    eventually(
        20,
        "nginx moved to 198.51.100.1",
        || {
            lab.k(&["get", "svc", "nginx"])
                .contains("198.51.100.1")
                .then_some(())
        },
        || lab.k(&["get", "svc", "-A"]),
    );
    let events = lab.k(&[
        "get",
        "events",
        "--field-selector",
        "reason=ClearAssignment",
    ]);
    assert!(
        events.contains("current IP for \"default/nginx\" not allowed by config, will attempt for new IP assignment: [\"198.51.100.0\"] is not allowed in config"),
        "{events}"
    );
    eventually(
        20,
        "both routers hold 198.51.100.1/32",
        || {
            let held = lab.routers_hold("198.51.100.1/32");
            (held.len() == 2 && held.iter().all(|h| *h)).then_some(())
        },
        || lab.status().to_string(),
    );
    // install --config dry-runs custom resources as v0.15 (the installed release) judges them:
    // a pool that takes nginx's .1 away would re-allocate it, so install refuses.
    let moved = lab.dir.join("moved-pool.yaml");
    std::fs::write(
        &moved,
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: my-ip-space\n  namespace: metallb-system\nspec:\n  addresses:\n  - 198.51.100.128/25\n",
    )
    .expect("write");
    let out = metallbctl()
        .arg("install")
        .arg("--kubeconfig")
        .arg(lab.kubeconfig())
        .args(["--with-test-router", "--wait=false", "--config"])
        .arg(&moved)
        .output()
        .expect("run metallbctl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("default/nginx") && text.contains("198.51.100.1"),
        "{text}"
    );
    assert!(
        lab.k(&[
            "get",
            "ipaddresspool",
            "-n",
            "metallb-system",
            "my-ip-space",
            "-o",
            "jsonpath={.spec.addresses}"
        ])
        .contains("198.51.100.0/24"),
        "the refused pool was applied"
    );

    let state = lab.k(&["get", "configurationstates", "-n", "metallb-system"]);
    assert!(
        state.contains("controller") && state.contains("Valid"),
        "{state}"
    );
    lab.down();
}
