//! Protobuf request bodies against JSON: decoding the `kubectl create deployment` body kubectl
//! sends (`application/vnd.kubernetes.protobuf`, captured in tests/fixtures/kubectl-protobuf)
//! into the server's JSON value, against decoding the same object sent as JSON, through the same
//! entry point (`body::decode`). Rounds alternate between the two so both see the same machine.
//!
//! Run: `cargo bench --bench protobuf` (release profile). `PROTOBUF_BENCH_N` sets the decodes
//! per round (default 20,000).

use std::hint::black_box;
use std::time::{Duration, Instant};

use metallbctl::lab::apiserver::body;

const PB: &[u8] = include_bytes!("../tests/fixtures/kubectl-protobuf/deployment.pb");
const JSON: &[u8] = include_bytes!("../tests/fixtures/kubectl-protobuf/deployment.json");

fn round(n: usize, bytes: &[u8], ct: &str) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let v = body::decode(black_box(bytes), ct).expect("decodes");
        black_box(v);
    }
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("PROTOBUF_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let pb_ct = "application/vnd.kubernetes.protobuf";
    let json_ct = "application/json";
    // Same object both ways (the unit tests check the decoded values are equal).
    assert_eq!(
        body::decode(PB, pb_ct).expect("pb")["spec"]["template"]["spec"],
        body::decode(JSON, json_ct).expect("json")["spec"]["template"]["spec"]
    );
    round(n / 10, PB, pb_ct);
    round(n / 10, JSON, json_ct);
    let (mut pb, mut json) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        pb.push(round(n, PB, pb_ct));
        json.push(round(n, JSON, json_ct));
    }
    let (pb, json) = (median(pb), median(json));
    let per = |d: Duration| d.as_nanos() as f64 / n as f64 / 1000.0;
    println!(
        "kubectl create deployment body, {n} decodes per round, median of 9 rounds:\n  \
         protobuf ({} bytes): {:.2} µs/decode\n  JSON ({} bytes):     {:.2} µs/decode\n  \
         protobuf / JSON = {:.2}x",
        PB.len(),
        per(pb),
        JSON.len(),
        per(json),
        pb.as_secs_f64() / json.as_secs_f64()
    );
}
