//! The configuration linter against MetalLB's own config test table (v0.6.2
//! `internal/config/config_test.go`, as listed in our reference notes) and every added rule.

use super::*;
use crate::diag::Severity;

fn lint_raw_with(text: &str, options: &Options) -> Vec<Diagnostic> {
    let file = SourceFile::new("c.yaml", text);
    lint(&file, InputKind::Raw, options)
        .expect("valid outer YAML")
        .diagnostics
}

fn lint_raw(text: &str) -> Vec<Diagnostic> {
    lint_raw_with(text, &Options::default())
}

/// (code, line) of every finding, for compact assertions.
fn codes(text: &str) -> Vec<(&'static str, usize)> {
    lint_raw(text)
        .iter()
        .map(|d| (d.code, d.location.as_ref().map_or(0, |l| l.line)))
        .collect()
}

fn errors(text: &str) -> Vec<&'static str> {
    lint_raw(text)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.code)
        .collect()
}

const PEER: &str = "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.0.0.1\n";
const POOL: &str = "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [198.51.100.0/24]\n";

#[test]
fn empty_config_is_valid_but_noted() {
    let d = lint_raw("");
    assert!(d.iter().all(|d| d.severity != Severity::Error), "{d:?}");
    assert_eq!(codes("{}"), [("MLB090", 1)]);
}

#[test]
fn invalid_yaml_inside_a_configmap_is_mlb001() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: metallb-system\n  name: config\ndata:\n  config: |\n    peers: [\n";
    let file = SourceFile::new("cm.yaml", text);
    let report = lint(&file, InputKind::Auto, &Options::default()).unwrap();
    assert_eq!(report.diagnostics[0].code, "MLB001");
}

#[test]
fn all_features_config_is_clean() {
    let text = r#"
peers:
- my-asn: 42
  peer-asn: 142
  peer-address: 1.2.3.4
  peer-port: 1179
  hold-time: 180s
  router-id: 10.20.30.40
  node-selectors:
  - match-labels:
      foo: bar
    match-expressions:
    - {key: bar, operator: In, values: [quux]}
bgp-communities:
  bar: 64512:1234
address-pools:
- name: pool1
  protocol: bgp
  addresses: [10.20.0.0/16, 10.50.0.0/24, 40.0.0.150-40.0.0.200]
  avoid-buggy-ips: true
  bgp-advertisements:
  - aggregation-length: 32
    localpref: 100
    communities: ["bar", "1234:2345"]
  - aggregation-length: 32
- name: pool2
  protocol: layer2
  addresses: [30.0.0.0/8]
  auto-assign: false
"#;
    // 30.0.0.0/8 is deliberately wide (a warning); localpref to an eBGP-only peer set is info.
    assert_eq!(errors(text), Vec::<&str>::new(), "{:#?}", lint_raw(text));
}

#[test]
fn peer_errors_from_metallb_table() {
    assert_eq!(
        errors("peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.400.4\n"),
        ["MLB011"]
    );
    assert_eq!(
        errors("peers:\n- peer-asn: 42\n  peer-address: 1.2.3.4\n"),
        ["MLB010"]
    );
    assert_eq!(
        errors("peers:\n- my-asn: 42\n  peer-address: 1.2.3.4\n"),
        ["MLB010"]
    );
    assert_eq!(
        errors("peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n  hold-time: foo\n"),
        ["MLB012"]
    );
    assert_eq!(
        errors("peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n  hold-time: 1s\n"),
        ["MLB012"]
    );
    assert_eq!(errors("peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n  router-id: 1.2.3.400\n"), ["MLB015"]);
    assert_eq!(
        errors("peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n  node-selectors:\n  - match-expressions:\n    - {key: foo, operator: Surrounds, values: [x]}\n"),
        ["MLB017"]
    );
}

#[test]
fn hold_time_without_unit_names_the_line_and_the_fix() {
    let text = format!("{PEER}  hold-time: 120\n");
    let d = lint_raw(&text);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "MLB013");
    assert_eq!(d[0].location.as_ref().unwrap().line, 5);
    assert_eq!(d[0].location.as_ref().unwrap().column, 14);
    assert!(
        d[0].message.contains("invalid hold time \"120\""),
        "{}",
        d[0].message
    );
    assert!(d[0].help.as_ref().unwrap().contains("hold-time: 120s"));
}

#[test]
fn pool_errors_from_metallb_table() {
    assert_eq!(
        errors("address-pools:\n- protocol: bgp\n  addresses: [1.2.3.0/24]\n"),
        ["MLB005"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: bgp\n"),
        ["MLB042"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  addresses: [1.2.3.0/24]\n"),
        ["MLB005"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: babel\n  addresses: [1.2.3.0/24]\n"),
        ["MLB041"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: bgp\n  addresses: [100.200.300.400/24]\n"),
        ["MLB043"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: bgp\n  addresses: [1.2.3.0/33]\n"),
        ["MLB043"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: bgp\n  addresses: [1.2.3.0/24]\n  bgp-advertisements:\n  - aggregation-length: 33\n"),
        ["MLB053"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: bgp\n  addresses: [1.2.3.0/24]\n  bgp-advertisements:\n  - aggregation-length: 16\n"),
        ["MLB054"]
    );
    assert_eq!(
        errors(&format!(
            "{POOL}- name: p\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n"
        )),
        ["MLB050"]
    );
    assert_eq!(
        errors(&format!(
            "{POOL}- name: q\n  protocol: bgp\n  addresses: [198.51.100.0/24]\n"
        )),
        ["MLB051"]
    );
    assert_eq!(
        errors(&format!(
            "{POOL}- name: q\n  protocol: bgp\n  addresses: [198.51.100.128/25]\n"
        )),
        ["MLB051"]
    );
    assert_eq!(
        errors(
            "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [1.2.3.0/28, 1.2.3.8/29]\n"
        ),
        ["MLB051"]
    );
    assert_eq!(
        errors("address-pools:\n- name: p\n  protocol: layer2\n  addresses: [1.2.3.0/24]\n  bgp-advertisements:\n  - communities: [1:1]\n"),
        ["MLB052"]
    );
}

#[test]
fn community_errors_from_metallb_table() {
    let pool = |c: &str| {
        format!("bgp-communities:\n  a: 1:1\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [1.2.3.0/24]\n  bgp-advertisements:\n  - communities: [a, {c}]\n")
    };
    assert_eq!(errors(&pool("1234")), ["MLB031"]);
    assert_eq!(errors(&pool("99999999:1")), ["MLB030"]);
    assert_eq!(errors(&pool("1:99999999")), ["MLB030"]);
    assert_eq!(errors(&pool("'1:1:1'")), ["MLB030"]);
    assert_eq!(errors(&pool("2:2")), Vec::<&str>::new());
    assert_eq!(errors(&pool("'1:1'")), ["MLB033"]);
    assert_eq!(errors("bgp-communities:\n  a: x:1\n"), ["MLB030"]);
}

#[test]
fn unknown_fields_suggest_and_retired_fields_explain() {
    let d = lint_raw("peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-adress: 1.2.3.4\n");
    let unknown = d.iter().find(|d| d.code == "MLB002").unwrap();
    assert_eq!(
        unknown.help.as_deref(),
        Some("did you mean \"peer-address\"?")
    );
    let d = lint_raw("address-pools:\n- name: p\n  protocol: bgp\n  cidr: [1.2.3.0/24]\n");
    let unknown = d.iter().find(|d| d.code == "MLB002").unwrap();
    assert!(unknown
        .help
        .as_ref()
        .unwrap()
        .contains("renamed to `addresses`"));
}

#[test]
fn fields_newer_than_the_target_are_errors() {
    let text = format!("{PEER}  source-address: 10.0.0.2\n");
    assert_eq!(errors(&text), Vec::<&str>::new());
    let old = Options {
        target: Version::v0(10),
        ..Options::default()
    };
    let d = lint_raw_with(&text, &old);
    assert_eq!(d[0].code, "MLB004");
    assert!(d[0].message.contains("v0.11"), "{}", d[0].message);
}

#[test]
fn wrong_types_and_duplicate_keys() {
    assert_eq!(
        errors("peers:\n- my-asn: \"64500\"\n  peer-asn: 1\n  peer-address: 1.2.3.4\n"),
        ["MLB003", "MLB010"]
    );
    assert_eq!(
        errors("peers:\n- my-asn: 99999999999\n  peer-asn: 1\n  peer-address: 1.2.3.4\n"),
        ["MLB003", "MLB010"]
    );
    assert_eq!(
        errors(&format!("{POOL}  avoid-buggy-ips: maybe\n")),
        ["MLB003"]
    );
    assert_eq!(errors("peers: {}\n"), ["MLB003"]);
    assert_eq!(errors(&format!("{PEER}  my-asn: 1\n")), ["MLB006"]);
}

#[test]
fn added_address_rules() {
    let pool =
        |a: &str| format!("address-pools:\n- name: p\n  protocol: bgp\n  addresses: ['{a}']\n");
    assert_eq!(codes(&pool("172.18.1.255/25")), [("MLB044", 4)]);
    assert_eq!(codes(&pool("10.0.0.9-10.0.0.1")), [("MLB045", 4)]);
    assert_eq!(codes(&pool("10.0.0.1-::1")), [("MLB046", 4)]);
    let wide = lint_raw(&pool("192.68.1.1-192.168.1.255"));
    assert_eq!(wide[0].code, "MLB047");
    assert!(
        wide[0]
            .help
            .as_ref()
            .unwrap()
            .contains("192.168.1.1-192.168.1.255"),
        "{:?}",
        wide[0].help
    );
    assert_eq!(codes(&pool("2001:db8::/64")), [("MLB049", 4)]);
    let frr = Options {
        mode: BgpMode::Frr,
        ..Options::default()
    };
    assert!(lint_raw_with(&pool("2001:db8::/64"), &frr).is_empty());
    let buggy = "address-pools:\n- name: p\n  protocol: bgp\n  avoid-buggy-ips: true\n  addresses: [198.51.100.0/32, 198.51.100.255/32]\n";
    assert_eq!(errors(buggy), ["MLB048"]);
}

#[test]
fn added_peer_rules() {
    assert_eq!(
        codes("peers:\n- my-asn: 23456\n  peer-asn: 1\n  peer-address: 1.2.3.4\n"),
        [("MLB023", 2)]
    );
    assert_eq!(
        codes(&format!("{PEER}  password: hunter2\n")),
        [("MLB024", 5)]
    );
    assert_eq!(codes(&format!("{PEER}  hold-time: 20h\n")), [("MLB014", 5)]);
    assert_eq!(
        codes(&format!("{PEER}{}", PEER.trim_start_matches("peers:\n"))),
        [("MLB018", 5)]
    );
    let old = Options {
        target: Version::v0(9),
        ..Options::default()
    };
    let d = lint_raw_with(
        &format!("{PEER}{}", PEER.trim_start_matches("peers:\n")),
        &old,
    );
    assert_eq!(d[0].severity, Severity::Warning);
    let inside = "peers:\n- my-asn: 1\n  peer-asn: 1\n  peer-address: 198.51.100.7\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [198.51.100.0/24]\n";
    assert_eq!(codes(inside), [("MLB025", 4)]);
    assert_eq!(
        errors(&format!("{PEER}  ebgp-multihop: true\n")),
        ["MLB021"]
    );
    assert_eq!(
        errors(&format!("{PEER}  keepalive-time: 10s\n")),
        ["MLB027"]
    );
    let frr = Options {
        mode: BgpMode::Frr,
        ..Options::default()
    };
    assert_eq!(
        lint_raw_with(&format!("{PEER}  keepalive-time: 100s\n"), &frr)[0].code,
        "MLB020"
    );
    assert_eq!(
        lint_raw_with(&format!("{PEER}  bfd-profile: fast\n"), &frr)[0].code,
        "MLB022"
    );
}

#[test]
fn unused_alias_is_a_warning() {
    assert_eq!(
        codes(&format!("bgp-communities:\n  spare: 1:1\n{POOL}")),
        [("MLB032", 2)]
    );
}

#[test]
fn positions_inside_a_configmap_block_point_into_the_original_file() {
    let text = "# leading comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: metallb-system\n  name: config\ndata:\n  config: |\n    peers:\n    - my-asn: 64500\n      peer-asn: 64500\n      peer-address: 10.96.0.100\n      hold-time: 120\n";
    let file = SourceFile::new("cm.yaml", text);
    let report = lint(&file, InputKind::Auto, &Options::default()).unwrap();
    let d = &report.diagnostics[0];
    let loc = d.location.as_ref().unwrap();
    assert_eq!((d.code, loc.line, loc.column), ("MLB013", 13, 18));
    assert_eq!(&text[loc.span.clone()], "120");
}

#[test]
fn other_kubernetes_objects_are_skipped() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}\ndata: {config: 'hello'}\n";
    let file = SourceFile::new("m.yaml", text);
    let report = lint(&file, InputKind::Auto, &Options::default()).unwrap();
    assert!(report.configs.is_empty());
    assert_eq!(report.skipped.len(), 2);
    assert_eq!(report.skipped[1].line, 5);
}

#[test]
fn outer_yaml_errors_are_input_errors() {
    let file = SourceFile::new("bad.yaml", "a: [\n");
    let err = lint(&file, InputKind::Auto, &Options::default()).unwrap_err();
    assert_eq!(err.file, "bad.yaml");
}

/// A null list item (`-` alone) is what MetalLB's YAML library reads as a struct with every field
/// at its default: a selector that matches every node, an advertisement with the defaults. Not a
/// type error; the rules judge the defaults.
#[test]
fn null_list_items_are_structs_with_defaults_as_metallb_reads_them() {
    let selectors = format!("{PEER}  node-selectors:\n  -\n{POOL}");
    assert_eq!(errors(&selectors), Vec::<&str>::new());
    let advertisement = format!("{PEER}{POOL}  bgp-advertisements:\n  -\n");
    assert_eq!(errors(&advertisement), Vec::<&str>::new());
    // A null peer is a peer with no address and no ASNs: MetalLB rejects that, and so do we,
    // on the rules that name the missing fields rather than on the item's type.
    let peer = format!("peers:\n-\n{POOL}");
    let found = errors(&peer);
    assert!(
        !found.is_empty(),
        "a peer with every field unset is an error"
    );
    assert!(
        lint_raw(&peer)
            .iter()
            .all(|d| !d.message.contains("must be a mapping")),
        "{:?}",
        lint_raw(&peer)
    );
}
