//! `metallbctl tui` end to end in tmux, on the lab with its real routers (issue 11):
//! 1. `lab up --tutorial`, then `metallbctl tui`: within 5 s both router panels show
//!    198.51.100.0/32 and "connected", and `o` shows the router's raw output;
//! 2. tutorial-3 is rejected: the banner shows MetalLB's text;
//! 3. nginx patched to 198.51.100.1: the panels follow and the rejection is over. (The issue lists the patch before
//!    tutorial-3, but with nginx on .1 tutorial-3 is compatible and accepted, so the rejection
//!    comes first here.)
//! 4. the router Deployment scaled to 0: the sessions go down with their last error and drift
//!    is flagged;
//! 5. `q` leaves a clean terminal: no alternate screen, no TUI text, the shell prompt back.
//!
//! The TUI runs in a detached tmux session of fixed size on a private tmux server; the screen
//! is read with `tmux capture-pane -p`, polled with deadlines. Skips (or fails under
//! METALLBCTL_REQUIRE_PEERS=1) without tmux or kubectl.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::lab::Lab;
use crate::support::{eventually, have_files, have_kubectl, have_real_routers, manifest, BIN};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 45;

fn have_tmux() -> bool {
    let found = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tmux"))
                .find(|f| f.is_file())
        })
        .unwrap_or_else(|| "/usr/bin/tmux".into());
    have_files(
        "tmux",
        &[found.to_str().unwrap_or("tmux")],
        "apt-get install -y tmux",
    )
}

/// A private tmux server (its own socket) with one session; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(tag: &str) -> Tmux {
        let t = Tmux {
            socket: format!("metallbctl-{tag}-{}", std::process::id()),
        };
        let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            &w,
            "-y",
            &h,
            "--",
            "env",
            "PS1=$ ",
            "sh",
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type `text` and press Enter.
    fn type_line(&self, text: &str) {
        self.run(&["send-keys", "-t", "tui", "-l", text]);
        self.run(&["send-keys", "-t", "tui", "Enter"]);
    }

    /// Press keys (tmux key names, e.g. `q`, `2`, `C-c`).
    fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "tui", keys]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "tui"])
    }

    fn display(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "tui", format])
            .trim()
            .to_string()
    }

    /// Poll the screen until `ok` holds; panic with the screen after `secs`.
    fn wait(&self, secs: u64, what: &str, ok: impl Fn(&str) -> bool) -> (String, Duration) {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return (s, t.elapsed());
            }
            if t.elapsed() > Duration::from_secs(secs) {
                panic!("timed out after {secs}s waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}

/// The resident memory of the shell's child (the TUI), in kB, if it runs.
fn tui_rss_kb(shell_pid: &str) -> Option<u64> {
    let children =
        std::fs::read_to_string(format!("/proc/{shell_pid}/task/{shell_pid}/children")).ok()?;
    let pid = children.split_whitespace().next()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn tui_follows_the_lab_in_tmux() {
    if !have_tmux() || !have_kubectl() {
        return;
    }
    let real = have_real_routers();
    let lab = Lab::new("tui");
    lab.up(&[
        "--tutorial",
        "--routers",
        if real { "real" } else { "builtin" },
    ]);
    let kc = lab.kubeconfig().display().to_string();

    let tmux = Tmux::start("tui");
    tmux.type_line(&format!(
        "{BIN} tui --kubeconfig {kc} --interval 0.5; echo \"TUI\"\"-EXIT=$?\""
    ));

    // 1. Both routers hold nginx's address and say so, within 5 s.
    let (screen, took) = tmux.wait(5, "both panels connected with 198.51.100.0/32", |s| {
        s.matches("MetalLB is connected — 1 route").count() == 2
            && s.matches("• 198.51.100.0/32").count() == 2
    });
    eprintln!("tui: both panels connected after {took:?}");
    assert!(screen.contains("✓ config accepted"), "{screen}");
    assert!(screen.contains("✓ no drift"), "{screen}");
    let shell = tmux.display("#{pane_pid}");
    if let Some(kb) = tui_rss_kb(&shell) {
        eprintln!("tui: VmRSS {kb} kB on the tutorial lab");
    }

    // The raw router output, as the web page showed it, on `o`; esc closes it.
    tmux.keys("o");
    let (screen, _) = tmux.wait(5, "the raw output window", |s| s.contains(" · raw output "));
    if real {
        assert!(screen.contains("BGP"), "birdc's text:\n{screen}");
    }
    tmux.keys("Escape");
    tmux.wait(5, "the raw output window to close", |s| {
        !s.contains(" · raw output ")
    });

    // 2. tutorial-3 is rejected: MetalLB's text in the banner.
    lab.k(&["apply", "-f", &manifest("tutorial-3.yaml")]);
    let (screen, took) = tmux.wait(20, "the config-rejected banner", |s| {
        s.contains("CONFIG REJECTED")
            && s.contains("configuration rejected: new config not compatible with assigned IPs")
    });
    eprintln!("tui: config rejected shown {took:?} after kubectl apply returned");
    assert!(
        screen.contains("\"default/nginx\" cannot own \"198.51.100.0\""),
        "{screen}"
    );

    // 3. Move nginx to 198.51.100.1: both panels follow, and tutorial-3, which MetalLB
    //    re-evaluates when Services change, is now in force: the rejected banner goes.
    lab.k(&[
        "patch",
        "service",
        "nginx",
        "-p",
        r#"{"spec":{"loadBalancerIP":"198.51.100.1"}}"#,
    ]);
    let (_, took) = tmux.wait(
        20,
        "both panels to hold 198.51.100.1/32 only, config accepted",
        |s| {
            s.matches("• 198.51.100.1/32").count() == 2
                && !s.contains("198.51.100.0/32")
                && !s.contains("CONFIG REJECTED")
        },
    );
    eprintln!("tui: both panels moved to 198.51.100.1 {took:?} after kubectl patch returned");

    // 4. Stop the routers: sessions down with their last error, drift flagged.
    lab.k(&[
        "-n",
        "metallb-system",
        "scale",
        "deployment",
        "test-bgp-router",
        "--replicas=0",
    ]);
    let (screen, took) = tmux.wait(20, "the panels to say not connected", |s| {
        s.matches("✗ not connected").count() + s.matches("✗ cannot read the router").count() >= 2
    });
    eprintln!("tui: routers down shown {took:?} after kubectl scale returned");
    assert!(
        !screen.contains("✓ no drift"),
        "drift is flagged:\n{screen}"
    );
    assert!(screen.contains(" drift"), "{screen}");
    tmux.keys("2");
    let (screen, _) = tmux.wait(20, "speaker sessions down with their last error", |s| {
        s.contains("sessions 0/")
            && s.lines()
                .filter(|l| l.contains("10.96.0.10") && l.contains('✗'))
                .count()
                >= 2
    });
    let down: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("10.96.0.10") && l.contains('✗'))
        .collect();
    // LAST ERROR is the last column: every down speaker row carries one.
    assert!(
        down.iter().all(|l| l
            .trim_end_matches(['│', ' '])
            .split("  ")
            .last()
            .is_some_and(|e| !e.trim().is_empty() && !e.contains('·'))),
        "{screen}"
    );

    // 5. q: the terminal is as it was, and the shell is back.
    tmux.keys("q");
    let (screen, _) = tmux.wait(10, "the TUI to exit", |s| s.contains("TUI-EXIT="));
    assert!(screen.contains("TUI-EXIT=0"), "{screen}");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "still in the alternate screen"
    );
    for leftover in ["metallbctl tui │", "┌", "MetalLB gives me routes"] {
        assert!(
            !screen.contains(leftover),
            "{leftover:?} left on the screen:\n{screen}"
        );
    }
    // Raw mode is off: a typed line is echoed and runs.
    tmux.type_line("echo typed-$((40+2))");
    eventually(
        5,
        "the shell to echo a typed line",
        || tmux.screen().contains("typed-42").then_some(()),
        || tmux.screen(),
    );
}

/// Ctrl-C and SIGTERM also give the terminal back (no lab needed: a router that cannot be
/// read is a marked cell, not an error).
#[test]
fn ctrl_c_and_sigterm_restore_the_terminal() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("missing-bird.ctl");
    let tmux = Tmux::start("signals");
    let cmd = format!(
        "{BIN} tui --no-cluster --router edge=bird:{} --interval 0.5; echo \"TUI\"\"-EXIT=$?\"",
        sock.display()
    );
    for how in ["ctrl-c", "sigterm"] {
        tmux.run(&["send-keys", "-t", "tui", "clear", "Enter"]);
        tmux.type_line(&cmd);
        tmux.wait(10, "the failing router's panel", |s| {
            s.contains("edge · ") && s.contains("✗ source edge failing for")
        });
        assert_eq!(tmux.display("#{alternate_on}"), "1");
        match how {
            "ctrl-c" => tmux.keys("C-c"),
            _ => {
                let shell = tmux.display("#{pane_pid}");
                let children =
                    std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
                        .expect("the shell's children");
                let pid: i32 = children
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("the tui's pid");
                // SAFETY: kill(2) on the process this test started in its tmux pane.
                assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
            }
        }
        let (screen, _) = tmux.wait(10, "the TUI to exit", |s| s.contains("TUI-EXIT="));
        assert!(screen.contains("TUI-EXIT=0"), "{how}: {screen}");
        assert_eq!(
            tmux.display("#{alternate_on}"),
            "0",
            "{how}: alternate screen"
        );
        assert!(!screen.contains("edge · "), "{how}: {screen}");
        tmux.type_line("echo typed-$((40+2))");
        eventually(
            5,
            "the shell to echo a typed line",
            || tmux.screen().contains("typed-42").then_some(()),
            || tmux.screen(),
        );
    }
}

/// Not a terminal: say so, point to `status`, exit 2.
#[test]
fn without_a_terminal_it_points_to_status() {
    let out = crate::support::metallbctl()
        .args([
            "tui",
            "--no-cluster",
            "--router",
            "edge=bird:/nonexistent.ctl",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run metallbctl");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stdout is not one"), "{err}");
    assert!(err.contains("metallbctl status"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A terminal that goes away (tmux killed, ssh dropped) ends the TUI instead of leaving it
/// spinning on an endless end of file.
#[test]
fn a_terminal_that_goes_away_ends_the_tui() {
    if !have_tmux() {
        return;
    }
    let tmux = Tmux::start("hangup");
    tmux.type_line(&format!(
        "{BIN} tui --no-cluster --router edge=bird:/nonexistent/bird.ctl --interval 0.5"
    ));
    tmux.wait(10, "the TUI", |s| s.contains("edge · "));
    let shell = tmux.display("#{pane_pid}");
    let pid: u32 = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
        .expect("the tui's pid");
    drop(tmux);
    eventually(
        5,
        "the TUI to exit after its terminal closed",
        || (!crate::support::alive(pid)).then_some(()),
        || format!("pid {pid} still runs"),
    );
}

/// A panic gives the terminal back too: raw mode off (`stty -a` says `icanon` and `echo`), the
/// alternate screen left, and the panic message printed where the user sees it. The panic is
/// the TUI's test hook (an environment variable naming a key that panics in the loop).
#[test]
fn a_panic_restores_the_terminal_and_prints_the_message() {
    if !have_tmux() {
        return;
    }
    let tmux = Tmux::start("panic");
    tmux.type_line(&format!(
        "RUST_BACKTRACE=0 METALLBCTL_TUI_TEST_PANIC_KEY=P {BIN} tui --no-cluster \
         --router edge=bird:/nonexistent/bird.ctl --interval 0.5; echo \"TUI\"\"-EXIT=$?\""
    ));
    tmux.wait(10, "the TUI", |s| s.contains("edge · "));
    assert_eq!(tmux.display("#{alternate_on}"), "1");
    tmux.keys("P");
    let (screen, _) = tmux.wait(10, "the TUI to exit", |s| s.contains("TUI-EXIT="));
    assert!(
        screen.contains("TUI-EXIT=101"),
        "exit status of a panic:\n{screen}"
    );
    assert!(
        screen.contains("test hook: METALLBCTL_TUI_TEST_PANIC_KEY key 'P' pressed"),
        "the panic message is shown:\n{screen}"
    );
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "still in the alternate screen"
    );
    assert!(!screen.contains("edge · "), "TUI text left:\n{screen}");
    // The line discipline is back: canonical mode and echo on, and a typed line runs.
    tmux.run(&["send-keys", "-t", "tui", "clear", "Enter"]);
    tmux.type_line("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | sort | tr '\\n' +");
    eventually(
        5,
        "stty to report icanon and echo",
        || tmux.screen().contains("echo+icanon+").then_some(()),
        || tmux.screen(),
    );
}
