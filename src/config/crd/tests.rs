use super::*;

fn lint_text(text: &str, target: Option<Version>, mode: BgpMode) -> Vec<Diagnostic> {
    let file = SourceFile::new("t.yaml", text);
    let report = crate::config::lint(&file, crate::config::InputKind::Auto, &Default::default())
        .expect("test YAML parses");
    let configmaps = report.configs.iter().map(|c| c.line).collect();
    let inputs = [Input {
        file: &file,
        documents: &report.crds,
        configmaps,
    }];
    let mut out = report.diagnostics;
    out.extend(lint(&inputs, target, mode).diagnostics);
    out
}

fn codes(d: &[Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.code).collect()
}

const POOL: &str = "apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
  namespace: metallb-system
spec:
  addresses:
  - 192.168.10.0/24
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: adv
  namespace: metallb-system
spec:
  ipAddressPools: [pool]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: router
  namespace: metallb-system
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 10.0.0.1
";

#[test]
fn a_clean_set_has_no_findings() {
    let d = lint_text(POOL, None, BgpMode::Native);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn findings_point_at_the_field_in_its_own_file() {
    let text = POOL.replace("peerASN: 64501", "peerASN: 64501\n  peerPort: 20000");
    let d = lint_text(&text, None, BgpMode::Native);
    assert_eq!(codes(&d), ["MLB203"]);
    let loc = d[0].location.as_ref().expect("located");
    assert_eq!(
        (loc.file.as_str(), loc.line, loc.column),
        ("t.yaml", 26, 13)
    );
}

#[test]
fn fields_newer_than_the_target_name_the_release() {
    let text = POOL.replace(
        "peerAddress: 10.0.0.1",
        "peerAddress: 10.0.0.1\n  connectTime: 10s",
    );
    let d = lint_text(&text, Some(Version::v0(13)), BgpMode::Frr);
    assert_eq!(codes(&d), ["MLB004"]);
    assert!(d[0].message.contains("v0.14"), "{}", d[0].message);
    assert!(lint_text(&text, Some(Version::v0(14)), BgpMode::Frr).is_empty());
}

#[test]
fn address_pool_is_gone_after_v0_13() {
    let text = "apiVersion: metallb.io/v1beta1\nkind: AddressPool\nmetadata:\n  name: a\n  namespace: metallb-system\nspec:\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n";
    let d = lint_text(text, Some(Version::v0(14)), BgpMode::Native);
    assert_eq!(codes(&d), ["MLB201"]);
    assert!(d[0].message.contains("removed in MetalLB v0.14"));
    let d = lint_text(text, Some(Version::v0(13)), BgpMode::Native);
    assert_eq!(codes(&d), ["MLB202"]);
}

#[test]
fn unknown_kinds_and_fields_suggest_the_closest_name() {
    let text = POOL
        .replace("kind: IPAddressPool", "kind: IPAdressPool")
        .replace("ipAddressPools: [pool]", "ipAdressPools: [pool]");
    let d = lint_text(&text, None, BgpMode::Native);
    assert_eq!(codes(&d), ["MLB200", "MLB002"]);
    assert_eq!(
        d[0].help.as_deref(),
        Some("did you mean \"IPAddressPool\"?")
    );
    assert_eq!(
        d[1].help.as_deref(),
        Some("did you mean \"ipAddressPools\"?")
    );
}

#[test]
fn configmap_rules_run_on_the_objects() {
    let text = POOL
        .replace("192.168.10.0/24", "192.168.10.0/24\n  - 192.168.10.128/25")
        .replace(
            "ipAddressPools: [pool]",
            "ipAddressPools: [pool]\n  aggregationLength: 16",
        );
    let d = lint_text(&text, None, BgpMode::Native);
    assert_eq!(codes(&d), ["MLB054", "MLB054", "MLB051"], "{d:#?}");
}

#[test]
fn mixed_formats_say_which_one_metallb_reads() {
    let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\ndata:\n  config: |\n    address-pools:\n    - name: a\n      protocol: layer2\n      addresses: [10.1.0.0/24]\n---\n{POOL}");
    let d = lint_text(&text, Some(Version::v0(15)), BgpMode::Native);
    assert_eq!(codes(&d), ["MLB210"]);
    assert!(
        d[0].message
            .contains("v0.15 reads only the custom resources"),
        "{}",
        d[0].message
    );
}

#[test]
fn references_namespaces_and_secrets() {
    let text = POOL
        .replace("ipAddressPools: [pool]", "ipAddressPools: [pol]")
        .replace(
            "name: router\n  namespace: metallb-system",
            "name: router\n  namespace: default",
        )
        .replace(
            "peerAddress: 10.0.0.1",
            "peerAddress: 10.0.0.1\n  password: x\n  passwordSecret:\n    name: s",
        );
    let text = format!("{text}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: metallb-system\nstringData:\n  password: y\n");
    let d = lint_text(&text, None, BgpMode::Native);
    let mut c = codes(&d);
    c.sort_unstable();
    assert_eq!(
        c,
        ["MLB024", "MLB204", "MLB205", "MLB206", "MLB207", "MLB213"],
        "{d:#?}"
    );
}

#[test]
fn frr_duplicate_peers_are_per_vrf() {
    let second = POOL
        .split("---\n")
        .nth(2)
        .expect("peer")
        .replace("name: router", "name: router2");
    let twice = format!("{POOL}---\n{second}");
    let d = lint_text(&twice, None, BgpMode::Frr);
    assert_eq!(codes(&d), ["MLB026"], "{d:#?}");
    let vrfs = format!(
        "{}---\n{}",
        POOL.replace("peerAddress: 10.0.0.1", "peerAddress: 10.0.0.1\n  vrf: red"),
        second.replace(
            "peerAddress: 10.0.0.1",
            "peerAddress: 10.0.0.1\n  vrf: blue"
        )
    );
    assert!(lint_text(&vrfs, None, BgpMode::Frr).is_empty());
    let same_vrf = vrfs.replace("vrf: blue", "vrf: red");
    let d = lint_text(&same_vrf, None, BgpMode::Frr);
    assert_eq!(codes(&d), ["MLB026"], "{d:#?}");
    assert!(d[0].message.contains("already exists"), "{}", d[0].message);
}
