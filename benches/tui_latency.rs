//! From a route change at a router to the TUI's panel showing it (issue 11: p99 under 1 s on the
//! lab), measured on a real lab, not a timed test.
//!
//! `lab up --tutorial` (BIRD and FRR when installed, else the built-in routers; loopback only),
//! then the TUI's own path in this process: the collector `metallbctl tui` builds (same
//! `SourceArgs`, `--interval`), its snapshot feed -> `tui::update` -> `tui::draw` into ratatui's
//! `TestBackend` (200x50, the routers view). Each of RUNS (40) changes patches nginx's
//! `loadBalancerIP` between 198.51.100.0 and 198.51.100.1 with kubectl, at a random phase of the
//! poll interval; a thread polls the lab daemon's control socket (every 10 ms) for the moment
//! both routers hold the new /32 and no longer the old one, and the feed loop notes the first
//! drawn frame whose two panels show the same. Printed per change: kubectl patch returned -> routers hold it, routers hold it -> the
//! panel shows it (the TUI's share: poll interval + one read of every source + update + draw).
//!
//! Run: `cargo bench --bench tui_latency` (RUNS=N, INTERVAL=SECONDS, default 0.5). Needs kubectl.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use metallbctl::cli::status::{collector, SourceArgs};
use metallbctl::lab::control;
use metallbctl::tui::{draw, update, App, Msg, Theme};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const BIN: &str = env!("CARGO_BIN_EXE_metallbctl");
const ADDRS: [&str; 2] = ["198.51.100.1", "198.51.100.0"];
const W: u16 = 200;
const H: u16 = 50;

fn real_routers() -> bool {
    metallbctl::lab::routers::check_real_installed().is_ok()
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

fn patch(dir: &Path, addr: &str) -> bool {
    Command::new("kubectl")
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("kcache"))
        .args(["patch", "service", "nginx", "-p"])
        .arg(format!(r#"{{"spec":{{"loadBalancerIP":"{addr}"}}}}"#))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Do all routers hold `new`/32 and none `old`/32? (One control-socket read.)
fn routers_hold(sock: &Path, new: &str, old: &str) -> bool {
    let Ok(st) = control::status(sock, Duration::from_secs(2)) else {
        return false;
    };
    let (new, old) = (format!("{new}/32"), format!("{old}/32"));
    !st.routers.is_empty()
        && st.routers.iter().all(|r| {
            let v = metallbctl::sources::lab::router_view(r);
            let has = |p: &str| v.routes.iter().any(|x| x.prefix.to_string() == p);
            has(&new) && !has(&old)
        })
}

/// The screen's text.
fn screen(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn shows(screen: &str, new: &str, old: &str) -> bool {
    screen.matches(&format!("• {new}/32")).count() == 2 && !screen.contains(&format!("{old}/32"))
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

struct Sample {
    router: Duration,
    panel: Duration,
    /// The router poll's resolution when it saw the change: from the start of the read
    /// before to the end of the read that saw it.
    poll: Duration,
}

async fn measure(dir: &Path, runs: usize, interval: Duration) -> anyhow::Result<Vec<Sample>> {
    let args = SourceArgs {
        kubeconfig: Some(dir.join("kubeconfig")),
        context: None,
        no_cluster: false,
        namespace: "metallb-system".into(),
        routers: Vec::new(),
        no_lab_routers: false,
        timeout: 5.0,
    };
    let (c, _listeners) = collector(&args).await?;
    let feed = c.spawn(interval).await;
    let mut snapshots = feed.snapshots.clone();
    let mut app = App::new(Theme::COLOR, (W, H));
    let mut term = Terminal::new(TestBackend::new(W, H))?;
    let first = snapshots.borrow_and_update().clone();
    update(&mut app, Msg::Snapshot(Box::new(first)));
    term.draw(|f| draw(&app, f))?;
    let sock = control::Layout::new(dir).socket();
    let mut out = Vec::new();
    // Settle on 198.51.100.0 first (the tutorial's address), then alternate.
    for i in 0..=runs {
        let (new, old) = (ADDRS[(i + 1) % 2], ADDRS[i % 2]);
        // A random phase against the poll: patching right after a frame would always wait a
        // whole interval for the next poll (the worst case), not the user's average.
        let phase = getrandom::u64().unwrap_or(0) % (interval.as_millis().max(1) as u64);
        tokio::time::sleep(Duration::from_millis(phase)).await;
        let d = dir.to_path_buf();
        let patched = tokio::task::spawn_blocking(move || patch(&d, new)).await?;
        anyhow::ensure!(patched, "kubectl patch failed");
        // The router side, on its own thread, timed against the same clock.
        let (tx, rx) = std_mpsc::channel();
        let s = sock.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            // The change happened after the previous read began and before this one ended.
            let mut prev = Instant::now();
            while Instant::now() < deadline {
                let start = Instant::now();
                if routers_hold(&s, new, old) {
                    let now = Instant::now();
                    let _ = tx.send((now, now - prev));
                    return;
                }
                prev = start;
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let t0 = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let shown = loop {
            if shows(&screen(&term), new, old) {
                break Instant::now();
            }
            tokio::time::timeout_at(deadline, snapshots.changed()).await??;
            let snap = snapshots.borrow_and_update().clone();
            update(&mut app, Msg::Snapshot(Box::new(snap)));
            term.draw(|f| draw(&app, f))?;
        };
        let (held, poll) =
            tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30))).await??;
        if i == 0 {
            continue; // the first change only settles the starting address
        }
        out.push(Sample {
            router: held.saturating_duration_since(t0),
            panel: shown.saturating_duration_since(held),
            poll,
        });
        eprintln!(
            "change {i:2}: routers hold {new}/32 {} after the patch returned, panel {} later",
            ms(held.saturating_duration_since(t0)),
            ms(shown.saturating_duration_since(held))
        );
    }
    feed.stop();
    Ok(out)
}

fn main() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("tui_latency: kubectl not found; skipped");
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let interval: f64 = std::env::var("INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.5);
    let name = format!("tuilat-{}", std::process::id());
    let dir: PathBuf = std::env::temp_dir().join(format!("metallbctl-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mode = if real_routers() { "real" } else { "builtin" };
    if !lab(&name, &dir, "up", &["--tutorial", "--routers", mode]) {
        eprintln!("tui_latency: lab up failed");
        std::process::exit(1);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let result = rt.block_on(measure(&dir, runs, Duration::from_secs_f64(interval)));
    rt.shutdown_timeout(Duration::from_millis(200));
    lab(&name, &dir, "down", &[]);
    let _ = std::fs::remove_dir_all(&dir);
    let samples = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tui_latency: {e:#}");
            std::process::exit(1);
        }
    };
    let router: Vec<Duration> = samples.iter().map(|s| s.router).collect();
    let panel: Vec<Duration> = samples.iter().map(|s| s.panel).collect();
    let panel_max: Vec<Duration> = samples.iter().map(|s| s.panel + s.poll).collect();
    let total: Vec<Duration> = samples.iter().map(|s| s.router + s.panel).collect();
    let poll: Vec<Duration> = samples.iter().map(|s| s.poll).collect();
    println!(
        "## {} changes, routers {mode}, --interval {interval}, frame {W}x{H}",
        samples.len()
    );
    println!("| span | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    for (what, v) in [
        ("kubectl patch returned -> both routers hold it", &router),
        (
            "both routers hold it -> both panels show it (the TUI; from the read that saw it)",
            &panel,
        ),
        (
            "the same, upper bound (from the start of the read before)",
            &panel_max,
        ),
        ("kubectl patch returned -> both panels show it", &total),
    ] {
        println!(
            "| {what} | {} | {} | {} |",
            ms(pct(v, 0.5)),
            ms(pct(v, 0.99)),
            ms(pct(v, 1.0))
        );
    }
    println!(
        "router poll resolution (start of the read before -> end of the read that saw it): p50 {}, max {}",
        ms(pct(&poll, 0.5)),
        ms(pct(&poll, 1.0))
    );
}
