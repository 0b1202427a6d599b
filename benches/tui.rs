//! TUI benchmarks (not timed tests), all in one run:
//!
//! 1. One frame (build + render into ratatui's `TestBackend`, 200x50) of the routes, routers
//!    and sessions views, with 10,000 routes and 1,000 sessions against 100 routes and 100
//!    sessions (both fill the screen). Only the visible rows are built, so the two should cost
//!    about the same (target: < 5 ms, and the big one at most 2x the small one).
//! 2. `update` with a new snapshot (rebuilding the derived rows), for the same two sizes: this
//!    happens once per refresh, not per frame.
//! 3. Resident memory of a process holding the TUI state for 10,000 routes and 1,000 sessions
//!    after drawing a frame, against the same process holding nothing (a child process each,
//!    VmRSS and VmHWM from /proc/self/status).
//!
//! Run: `cargo bench --bench tui` (release profile).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use metallbctl::status::{
    Announcement, ClusterInfo, ConfigState, History, RouterKind, RouterRoute, RouterSession,
    RouterView, ServiceIntent, SessionHistory, SessionState, Snapshot, SpeakerSession, Transition,
};
use metallbctl::tui::{draw, update, App, Msg, Theme};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW: u64 = 1_764_496_800_000;
const W: u16 = 200;
const H: u16 = 50;

fn snapshot(routes: u32, sessions: u32) -> Snapshot {
    let hop = "127.0.1.1".parse().unwrap();
    let route = |i: u32| RouterRoute {
        prefix: format!("198.18.{}.{}/32", i / 256, i % 256)
            .parse()
            .unwrap(),
        next_hop: Some(hop),
        as_path: vec![64500],
        local_pref: Some(100),
        communities: vec!["64500:100".into()],
        from_peer: Some("127.0.1.1:179".into()),
        since_ms: Some(NOW - 60_000 - u64::from(i)),
    };
    let router = |name: &str, addr: &str| RouterView {
        name: name.into(),
        kind: RouterKind::Builtin,
        address: Some(addr.into()),
        asn: Some(64500),
        sessions: vec![RouterSession {
            peer: "127.0.1.1:179".into(),
            peer_as: Some(64500),
            state: SessionState::Established,
            since_ms: Some(NOW - 300_000),
            last_error: None,
            received: u64::from(routes),
        }],
        routes: (0..routes).map(route).collect(),
        raw: None,
    };
    Snapshot {
        taken_at_ms: NOW,
        cluster: Some(ClusterInfo {
            context: Some("bench".into()),
            server: "https://127.0.0.1:6443".into(),
            namespace: "metallb-system".into(),
        }),
        config: ConfigState::Accepted,
        services: (0..routes.min(1000))
            .map(|i| ServiceIntent {
                namespace: "default".into(),
                name: format!("svc-{i}"),
                addresses: vec![format!("198.18.{}.{}", i / 256, i % 256).parse().unwrap()],
                pool: Some("bench".into()),
                external_traffic_policy: "Cluster".into(),
                nodes_with_endpoints: vec!["node-0".into()],
                announcements: vec![Announcement {
                    node: "node-0".into(),
                    peer: "10.96.0.100".into(),
                    prefix: format!("198.18.{}.{}/32", i / 256, i % 256)
                        .parse()
                        .unwrap(),
                    next_hop: Some(hop),
                    aggregation_length: 32,
                    ..Default::default()
                }],
                pending_reason: None,
            })
            .collect(),
        speakers: (0..sessions)
            .map(|i| SpeakerSession {
                node: format!("node-{i}"),
                pod: None,
                peer: "10.96.0.100:179".into(),
                local_as: Some(64500),
                peer_as: Some(64500),
                state: SessionState::Established,
                up_since_ms: Some(NOW - 300_000),
                prefixes_advertised: u64::from(routes),
                updates_sent: 3,
                last_error: None,
            })
            .collect(),
        routers: vec![
            router("r1", "10.96.0.100:179"),
            router("r2", "10.96.0.101:179"),
        ],
        // Every session went down and up twice in the last ten minutes.
        history: History {
            sessions: (0..sessions)
                .map(|i| SessionHistory {
                    key: metallbctl::status::history::speaker_key(
                        &format!("node-{i}"),
                        "10.96.0.100:179",
                    ),
                    transitions: (0..4)
                        .map(|k| Transition {
                            at_ms: NOW - 400_000 + k * 60_000,
                            up: k % 2 == 1,
                        })
                        .collect(),
                    prefix_counts: vec![],
                })
                .collect(),
        },
        ..Default::default()
    }
}

fn app_with(snap: Snapshot) -> App {
    let mut app = App::new(Theme::COLOR, (W, H));
    update(&mut app, Msg::Snapshot(Box::new(snap)));
    app
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Median and p99 of `n` runs of `f`.
fn time(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    (v[n / 2], v[(n * 99 / 100).min(n - 1)])
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn frames() {
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    println!("## One frame, {W}x{H} (median / p99 of 500 frames)");
    println!("| view | 100 routes, 100 sessions | 10,000 routes, 1,000 sessions | ratio |");
    println!("| --- | --- | --- | --- |");
    let mut small = app_with(snapshot(100, 100));
    let mut big = app_with(snapshot(10_000, 1_000));
    for (view, k) in [("routes", '3'), ("routers", '1'), ("sessions", '2')] {
        update(&mut small, key(k));
        update(&mut big, key(k));
        // Scroll to the middle, where a naive table would format every row above.
        for a in [&mut small, &mut big] {
            let n = a.row_count();
            a.select(n / 2);
        }
        let mut run = |a: &App| {
            time(500, || {
                term.draw(|f| draw(black_box(a), f)).unwrap();
            })
        };
        // Interleave warm-up, then measure each.
        run(&small);
        run(&big);
        let (s50, s99) = run(&small);
        let (b50, b99) = run(&big);
        println!(
            "| {view} | {} / {} | {} / {} | {:.2}x |",
            ms(s50),
            ms(s99),
            ms(b50),
            ms(b99),
            b50.as_secs_f64() / s50.as_secs_f64()
        );
    }
    println!();
    println!("## update with a new snapshot (median of 20; once per refresh, not per frame)");
    for (label, routes, sessions) in [
        ("100 routes, 100 sessions", 100, 100),
        ("10,000 routes, 1,000 sessions", 10_000, 1_000),
    ] {
        let snap = snapshot(routes, sessions);
        let mut app = App::new(Theme::COLOR, (W, H));
        // Clones made beforehand: the collector hands over a snapshot, the UI does not copy it.
        let mut snaps: Vec<Snapshot> = (0..20).map(|_| snap.clone()).collect();
        let (d, _) = time(20, || {
            let s = snaps.pop().unwrap();
            update(&mut app, Msg::Snapshot(Box::new(s)));
        });
        println!("- {label}: {}", ms(d));
    }
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the child: hold the state (or nothing) and report memory.
fn child(holding: bool) {
    let mut keep = None;
    if holding {
        let mut app = app_with(snapshot(10_000, 1_000));
        update(&mut app, key('3'));
        let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
        term.draw(|f| draw(&app, f)).unwrap();
        keep = Some((app, term));
    }
    println!("{} {}", status_kb("VmRSS:"), status_kb("VmHWM:"));
    black_box(keep);
}

fn memory() {
    let exe = std::env::current_exe().unwrap();
    println!();
    println!("## Resident memory of a process holding the TUI state");
    for (label, what) in [
        ("empty process (baseline)", "empty"),
        ("10,000 routes + 1,000 sessions, one frame drawn", "full"),
    ] {
        let out = std::process::Command::new(&exe)
            .env("METALLBCTL_TUI_BENCH_CHILD", what)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text
            .split_whitespace()
            .map(|v| v.parse::<u64>().unwrap_or(0));
        let (rss, hwm) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        println!(
            "- {label}: VmRSS {:.1} MB, peak VmHWM {:.1} MB",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
}

fn main() {
    if let Ok(what) = std::env::var("METALLBCTL_TUI_BENCH_CHILD") {
        child(what == "full");
        return;
    }
    // `cargo bench` passes --bench; ignore arguments.
    frames();
    memory();
}
