//! Benchmark: linting a large configuration against only parsing it.
//!
//! Generates a ConfigMap of about 1 MB (2,000 pools, 500 peers), then times, in one run and
//! interleaved so machine noise hits both alike: `serde_yaml::from_str::<Value>` of the same
//! ConfigMap text plus its data.config body (the bare parse every YAML tool pays), and
//! `metallbctl::config::lint` (parse with positions, decode, every rule). Reports medians.
//! Run: `cargo bench --bench validate`.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use metallbctl::config::{lint, InputKind, Options};
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

fn main() {
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
