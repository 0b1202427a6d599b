//! `metallbctl lab up` start-up, measured from the outside as a user sees it (not a timed
//! test): (1) `lab up` returns; (2) `kubectl get ns` answers; (3) after `metallbctl install
//! --with-test-router` and `kubectl apply -f manifests/tutorial-1.yaml`, both routers report an
//! Established session (`lab status -o json`). Each run uses a fresh state directory and a
//! fresh kubectl cache; the lab is stopped by PID-checked `lab down` afterwards.
//!
//! Run: `cargo bench --bench lab_up` (RUNS=N to change the 7 runs). Needs kubectl on PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_metallbctl");

struct Run {
    up: Duration,
    get_ns: Duration,
    established: Duration,
}

fn lab(name: &str, dir: &Path, sub: &str, extra: &[&str]) -> bool {
    Command::new(BIN)
        .args(["lab", sub, "--name", name, "--state-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn kubectl(dir: &Path, args: &[&str]) -> bool {
    Command::new("kubectl")
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("kcache"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn established(name: &str, dir: &Path) -> bool {
    let out = Command::new(BIN)
        .args(["lab", "status", "-o", "json", "--name", name, "--state-dir"])
        .arg(dir)
        .output();
    let Ok(out) = out else { return false };
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["routers"].as_array().is_some_and(|r| {
        !r.is_empty()
            && r.iter().all(|r| {
                r["sessions"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["state"] == "Established"))
            })
    })
}

fn until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn one(i: usize) -> Option<Run> {
    let name = format!("bench-{}-{i}", std::process::id());
    let dir: PathBuf = std::env::temp_dir().join(format!("metallbctl-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let t0 = Instant::now();
    let ok = lab(&name, &dir, "up", &[]);
    let up = t0.elapsed();
    let ns = ok && until(Duration::from_secs(10), || kubectl(&dir, &["get", "ns"]));
    let get_ns = t0.elapsed();
    let manifests = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/tutorial-1.yaml");
    let installed = ns
        && Command::new(BIN)
            .args(["install", "--with-test-router", "--kubeconfig"])
            .arg(dir.join("kubeconfig"))
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        && kubectl(&dir, &["apply", "-f", manifests]);
    let sessions = installed && until(Duration::from_secs(20), || established(&name, &dir));
    let est = t0.elapsed();
    lab(&name, &dir, "down", &[]);
    let _ = std::fs::remove_dir_all(&dir);
    sessions.then_some(Run {
        up,
        get_ns,
        established: est,
    })
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "min {:7.1} ms   median {:7.1} ms   max {:7.1} ms",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1])
    )
}

fn main() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("SKIP: kubectl not on PATH");
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let results: Vec<Run> = (0..runs).filter_map(one).collect();
    if results.is_empty() {
        eprintln!("every run failed");
        std::process::exit(1);
    }
    println!("lab up, {} of {runs} runs succeeded", results.len());
    println!(
        "  lab up returns               {}",
        stats(results.iter().map(|r| r.up).collect())
    );
    println!(
        "  kubectl get ns answers       {}",
        stats(results.iter().map(|r| r.get_ns).collect())
    );
    println!(
        "  both sessions Established    {}",
        stats(results.iter().map(|r| r.established).collect())
    );
    println!("  (targets: get ns < 1000 ms, Established after install + tutorial-1 < 3000 ms)");
}
