//! `validate` on MetalLB's custom resources: objects found among any documents, checked together
//! across files, in every output format, with the exit codes of the ConfigMap front end.

use crate::support::{metallbctl_assert as metallbctl, TempDir};

const POOL: &str = "apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: public
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.0/24
";

const ADVERTISEMENT: &str = "apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: public
  namespace: metallb-system
spec:
  ipAddressPools: [public]
  communities: [no-export]
";

const COMMUNITY: &str = "apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: communities
  namespace: metallb-system
spec:
  communities:
  - name: no-export
    value: \"65535:65281\"
";

const PEER: &str = "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: router
  namespace: metallb-system
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 10.0.0.1
";

/// Helm-style output: other objects around MetalLB's, a `List`, comments.
fn helm_stream() -> String {
    format!(
        "# Source: chart/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n---\n{POOL}---\napiVersion: v1\nkind: List\nitems:\n- {}\n---\n{COMMUNITY}---\n{PEER}",
        ADVERTISEMENT.trim_end().replace('\n', "\n  ")
    )
}

fn run(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let out = metallbctl()
        .arg("validate")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run metallbctl");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_clean_helm_stream_on_stdin_passes_in_every_format() {
    let stream = helm_stream();
    let (code, out, err) = run(&["-", "-v", "--color", "never"], &stream);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("no problems found in 1 file"), "{out}");
    for what in [
        "IPAddressPool public",
        "BGPAdvertisement public",
        "Community communities",
        "BGPPeer router",
    ] {
        assert!(err.contains(&format!("checked {what}")), "{what}: {err}");
    }
    for format in ["json", "github", "sarif", "junit"] {
        let (code, _, err) = run(&["-", "--format", format], &stream);
        assert_eq!(code, Some(0), "{format}: {err}");
    }
}

#[test]
fn references_are_resolved_across_files_and_findings_land_in_their_own_file() {
    let dir = TempDir::new("crds-dir");
    std::fs::write(dir.join("pool.yaml"), POOL).unwrap();
    std::fs::write(dir.join("community.yaml"), COMMUNITY).unwrap();
    let advertisement =
        ADVERTISEMENT.replace("[no-export]", "[no-export]\n  aggregationLength: 16");
    std::fs::write(dir.join("zz-advertisement.yaml"), &advertisement).unwrap();
    let path = dir.path().display().to_string();
    let (code, out, err) = run(&[&path, "--format", "json"], "");
    assert_eq!(code, Some(1), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let diagnostics = v["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{out}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "MLB054");
    assert!(
        d["file"]
            .as_str()
            .unwrap_or_default()
            .ends_with("zz-advertisement.yaml"),
        "{d}"
    );
    assert_eq!(d["line"], 9);
    assert_eq!(d["column"], 22);
}

#[test]
fn a_configmap_and_custom_resources_together_are_an_error_naming_the_one_metallb_reads() {
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\ndata:\n  config: |\n    address-pools:\n    - name: a\n      protocol: layer2\n      addresses: [10.1.0.0/24]\n";
    let dir = TempDir::new("crds-mixed");
    std::fs::write(dir.join("a-configmap.yaml"), configmap).unwrap();
    std::fs::write(dir.join("b-pool.yaml"), POOL).unwrap();
    let path = dir.path().display().to_string();
    let (code, out, _) = run(
        &[&path, "--target-version", "v0.14", "--color", "never"],
        "",
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("MLB210"), "{out}");
    assert!(
        out.contains("MetalLB v0.14 reads only the custom resources"),
        "{out}"
    );
    let (_, out, _) = run(
        &[&path, "--target-version", "v0.12", "--color", "never"],
        "",
    );
    assert!(
        out.contains("MetalLB v0.12 reads only the ConfigMap"),
        "{out}"
    );
}

#[test]
fn target_versions_name_the_release_of_a_field_and_of_address_pool() {
    let peer = PEER.replace(
        "peerAddress: 10.0.0.1",
        "peerAddress: 10.0.0.1\n  dualStackAddressFamily: true",
    );
    let (code, out, _) = run(
        &[
            "-",
            "--target-version",
            "v0.14",
            "--bgp-mode",
            "frr",
            "--color",
            "never",
        ],
        &peer,
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("requires MetalLB v0.15 or later (target is v0.14)"),
        "{out}"
    );
    let (code, out, _) = run(
        &["-", "--target-version", "v0.15", "--bgp-mode", "frr"],
        &peer,
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, _, err) = run(&["-", "--target-version", "v0.17"], &peer);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("v0.6 through v0.16"), "{err}");
}

#[test]
fn unknown_fields_get_file_line_and_the_closest_name() {
    let pool = POOL.replace("  addresses:", "  adresses:");
    let (code, out, _) = run(&["-", "--color", "never"], &pool);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("unknown field \"adresses\" in IPAddressPool spec"),
        "{out}"
    );
    assert!(out.contains("<stdin>:7:3"), "{out}");
    assert!(out.contains("did you mean \"addresses\"?"), "{out}");
}

#[test]
fn a_document_that_is_not_yaml_exits_2_and_names_the_file() {
    let dir = TempDir::new("crds-bad");
    let path = dir.join("broken.yaml");
    std::fs::write(&path, format!("{POOL}  - [unclosed\n")).unwrap();
    let (code, _, err) = run(&[&path.display().to_string()], "");
    assert_eq!(code, Some(2));
    assert!(err.contains("broken.yaml"), "{err}");
}
