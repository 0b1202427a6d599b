//! Benchmark: linting a large configuration against only parsing it.
//!
//! Generates a ConfigMap of about 1 MB (2,000 pools, 500 peers), then times, in one run and
//! interleaved so machine noise hits both alike: `serde_yaml::from_str::<Value>` of the same
//! ConfigMap text plus its data.config body (the bare parse every YAML tool pays), and
//! `metallbctl::config::lint` (parse with positions, decode, every rule). Reports medians.
//! Then the same for MetalLB's custom resources: 2,000 IPAddressPools, 500 BGPPeers and 2,000
//! BGPAdvertisements (about 1 MB), the bare parse being `serde_yaml` over every document, and
//! validate being `config::lint` plus `config::crd::lint` (decode, schema, cross-object checks,
//! the ConfigMap rules on the mapped model).
//! Run: `cargo bench --bench validate`.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use metallbctl::config::{crd, lint, BgpMode, InputKind, Options};
use metallbctl::diag::SourceFile;

const POOLS: usize = 2_000;
const PEERS: usize = 500;
const ROUNDS: usize = 15;

fn generate() -> String {
    let mut body = String::from("peers:\n");
    for i in 0..PEERS {
        let _ = write!(
            body,
            "- my-asn: 64500\n  peer-asn: {}\n  peer-address: 10.{}.{}.1\n  peer-port: 179\n  hold-time: 90s\n  router-id: 10.255.{}.{}\n  node-selectors:\n  - match-labels:\n      rack: r{}\n    match-expressions:\n    - key: kubernetes.io/hostname\n      operator: In\n      values: [node-{i}a, node-{i}b]\n",
            64500 + i,
            i / 250,
            i % 250,
            i / 250,
            i % 250,
            i % 40
        );
    }
    body.push_str("bgp-communities:\n  no-advertise: 65535:65282\n  tenant: 64500:100\n");
    body.push_str("address-pools:\n");
    for i in 0..POOLS {
        let (a, b) = (i / 256, i % 256);
        let _ = write!(
            body,
            "- name: pool-{i}\n  protocol: bgp\n  avoid-buggy-ips: true\n  auto-assign: {}\n  addresses:\n  - 100.{}.{b}.0/25\n  - 100.{}.{b}.128-100.{}.{b}.200\n  bgp-advertisements:\n  - aggregation-length: 32\n    localpref: 100\n    communities: [no-advertise, tenant, \"64501:{}\"]\n",
            i % 3 != 0,
            64 + a,
            64 + a,
            64 + a,
            i % 65535
        );
    }
    let mut doc = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: metallb-system\n  name: config\ndata:\n  config: |\n");
    for line in body.lines() {
        doc.push_str("    ");
        doc.push_str(line);
        doc.push('\n');
    }
    doc
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// 2,000 pools, 500 peers, 2,000 advertisements as one multi-document stream.
fn generate_crds() -> String {
    let mut out = String::new();
    for i in 0..PEERS {
        let _ = write!(
            out,
            "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: peer-{i}\n  namespace: metallb-system\nspec:\n  myASN: 64500\n  peerASN: {}\n  peerAddress: 10.{}.{}.1\n  peerPort: 179\n  holdTime: 90s\n  routerID: 10.255.{}.{}\n  nodeSelectors:\n  - matchLabels:\n      rack: r{}\n    matchExpressions:\n    - key: kubernetes.io/hostname\n      operator: In\n      values: [node-{i}a, node-{i}b]\n",
            64500 + i,
            i / 250,
            i % 250,
            i / 250,
            i % 250,
            i % 40
        );
    }
    out.push_str("---\napiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  name: communities\n  namespace: metallb-system\nspec:\n  communities:\n  - name: no-advertise\n    value: \"65535:65282\"\n  - name: tenant\n    value: \"64500:100\"\n");
    for i in 0..POOLS {
        let (a, b) = (i / 256, i % 256);
        let _ = write!(
            out,
            "---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: pool-{i}\n  namespace: metallb-system\nspec:\n  avoidBuggyIPs: true\n  autoAssign: {}\n  addresses:\n  - 100.{}.{b}.0/25\n  - 100.{}.{b}.128-100.{}.{b}.200\n",
            i % 3 != 0,
            64 + a,
            64 + a,
            64 + a,
        );
        let _ = write!(
            out,
            "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: adv-{i}\n  namespace: metallb-system\nspec:\n  ipAddressPools: [pool-{i}]\n  aggregationLength: 32\n  localPref: 100\n  communities: [no-advertise, tenant, \"64501:{}\"]\n",
            i % 65535
        );
    }
    out
}

fn crd_lint(file: &SourceFile, options: &Options) -> crd::Report {
    let report = lint(file, InputKind::Auto, options).expect("yaml");
    let inputs = [crd::Input {
        file,
        documents: &report.crds,
        configmaps: Vec::new(),
    }];
    crd::lint(&inputs, None, options.mode)
}

fn bench_crds() {
    let text = generate_crds();
    let file = SourceFile::new("crds.yaml", text.clone());
    let options = Options {
        mode: BgpMode::Native,
        ..Options::default()
    };
    let findings = crd_lint(&file, &options).diagnostics;
    let errors = findings.iter().filter(|d| d.is_error()).count();
    assert_eq!(
        errors,
        0,
        "the generated objects should be clean: {:#?}",
        &findings[..findings.len().min(3)]
    );
    let mut parse = Vec::new();
    let mut validate = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for doc in serde_yaml::Deserializer::from_str(black_box(&text)) {
            let v = <serde_yaml::Value as serde::Deserialize>::deserialize(doc).expect("yaml");
            black_box(v);
        }
        parse.push(t.elapsed());

        let t = Instant::now();
        black_box(crd_lint(black_box(&file), &options));
        validate.push(t.elapsed());
    }
    let (p, v) = (median(parse), median(validate));
    println!(
        "input: {} bytes, {POOLS} IPAddressPools, {PEERS} BGPPeers, {POOLS} BGPAdvertisements, {} findings (info/warnings)",
        text.len(),
        findings.len()
    );
    println!(
        "serde_yaml::Value parse (every document):      median {:>8.2} ms over {ROUNDS} rounds",
        p.as_secs_f64() * 1e3
    );
    println!(
        "metallbctl validate (lint + crd::lint):        median {:>8.2} ms over {ROUNDS} rounds",
        v.as_secs_f64() * 1e3
    );
    println!(
        "ratio validate / bare parse: {:.2}x (target <= 2x)",
        v.as_secs_f64() / p.as_secs_f64()
    );
}

fn main() {
    bench_configmap();
    bench_crds();
    bench_convert();
}

/// `metallbctl convert` of the ConfigMap benchmark's input: lint, convert, write YAML
/// (target: under 100 ms).
fn bench_convert() {
    let text = generate();
    let file = SourceFile::new("big.yaml", text);
    let options = Options {
        mode: BgpMode::Frr,
        ..Options::default()
    };
    let mut samples = Vec::new();
    let mut objects = 0;
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let report = lint(black_box(&file), InputKind::Auto, &options).expect("yaml");
        let config = &report.configs[0].config;
        let out = crd::convert::convert(config, "metallb-system").expect("converts");
        let yaml = crd::convert::to_yaml(&out);
        samples.push(t.elapsed());
        objects = out.len();
        bytes = yaml.len();
        black_box(yaml);
    }
    println!(
        "metallbctl convert (lint + convert + YAML), {objects} objects, {bytes} bytes out: median {:>8.2} ms over {ROUNDS} rounds (target < 100 ms)",
        median(samples).as_secs_f64() * 1e3
    );
}

fn bench_configmap() {
    let text = generate();
    let file = SourceFile::new("big.yaml", text.clone());
    let options = Options::default();
    let findings = lint(&file, InputKind::Auto, &options)
        .expect("valid YAML")
        .diagnostics;
    let errors = findings.iter().filter(|d| d.is_error()).count();
    assert_eq!(
        errors,
        0,
        "the generated config should be clean: {:#?}",
        &findings[..findings.len().min(3)]
    );

    let mut parse = Vec::new();
    let mut validate = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let outer: serde_yaml::Value = serde_yaml::from_str(black_box(&text)).expect("yaml");
        let body = outer["data"]["config"].as_str().expect("config body");
        let inner: serde_yaml::Value = serde_yaml::from_str(body).expect("yaml");
        black_box(inner);
        parse.push(t.elapsed());

        let t = Instant::now();
        black_box(lint(black_box(&file), InputKind::Auto, &options).expect("yaml"));
        validate.push(t.elapsed());
    }
    let (p, v) = (median(parse), median(validate));
    println!(
        "input: {} bytes, {POOLS} pools, {PEERS} peers, {} findings (info/warnings)",
        text.len(),
        findings.len()
    );
    println!(
        "serde_yaml::Value parse (outer + data.config): median {:>8.2} ms over {ROUNDS} rounds",
        p.as_secs_f64() * 1e3
    );
    println!(
        "metallbctl validate (lint):                    median {:>8.2} ms over {ROUNDS} rounds",
        v.as_secs_f64() * 1e3
    );
    println!(
        "ratio validate / bare parse: {:.2}x (target <= 2x)",
        v.as_secs_f64() / p.as_secs_f64()
    );
}
