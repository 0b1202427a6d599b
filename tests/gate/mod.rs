//! What every test that needs an outside program shares: the skip-or-fail gate
//! (`METALLBCTL_REQUIRE_PEERS=1` turns a missing BIRD, FRR or kubectl into a failure, as in CI)
//! and polling with a deadline instead of sleeps.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// True when the test may run; prints SKIP, or panics under METALLBCTL_REQUIRE_PEERS=1.
pub fn require(what: &str, present: bool, hint: &str) -> bool {
    if present {
        return true;
    }
    if std::env::var("METALLBCTL_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("METALLBCTL_REQUIRE_PEERS=1 but {what} is missing ({hint})");
    }
    eprintln!("SKIP: {what} is missing ({hint}); set METALLBCTL_REQUIRE_PEERS=1 to fail instead");
    false
}

/// The real kubectl is on PATH (gated as above).
pub fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require("kubectl", ok, "put kubectl on PATH")
}

/// All of these files exist (gated as above).
pub fn have_files(what: &str, paths: &[&str], hint: &str) -> bool {
    let missing: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    require(&format!("{what} ({missing:?})"), missing.is_empty(), hint)
}

/// Poll `f` every 50 ms for up to `secs`; panic with `what` and `ctx()` on timeout.
pub fn eventually<T>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> Option<T>,
    ctx: impl Fn() -> String,
) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            panic!("timed out after {secs}s waiting for {what}\n{}", ctx());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
