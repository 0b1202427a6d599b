//! Issue 16, "the first hour": the mistakes new users make, each reproduced as the user typed
//! it, with the output they should get. Multi-line messages are insta snapshots in snapshots/.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

use crate::support::lab::Lab;
use crate::support::{free_port, TempDir};

/// The one `metallbctl` of the test support, without colours (`NO_COLOR=1`), as assert_cmd.
fn metallbctl() -> Command {
    let mut cmd = crate::support::metallbctl_assert();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// (stdout, stderr, exit code).
fn run(args: &[&str]) -> (String, String, Option<i32>) {
    split(&metallbctl().args(args).output().expect("runs"))
}

fn split(out: &Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

use crate::support::snapshot;

/// Write `text` to `name` in `dir`; the path as a string for command lines.
fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

/// A kubeconfig whose server is a loopback port nothing listens on (it was just free).
fn dead_kubeconfig(dir: &TempDir) -> (String, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let server = format!("http://127.0.0.1:{port}");
    let path = write(
        dir,
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: '{server}'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"),
    );
    (path, format!("{server}/"))
}

// Row 1: `metallbctl validate /nope.yaml`.

#[test]
fn validate_a_missing_file_says_so_and_claims_no_success() {
    let (out, err, code) = run(&["validate", "/nope.yaml"]);
    assert_eq!(code, Some(2));
    assert_eq!(out, "", "no success line after a failure");
    assert_eq!(
        err,
        "error: /nope.yaml: cannot read: No such file or directory\n"
    );
}

#[test]
fn validate_a_missing_file_is_in_every_machine_format() {
    let (json, _, code) = run(&["validate", "--format", "json", "/nope.yaml"]);
    assert_eq!(code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["failures"][0]["file"], "/nope.yaml");
    assert_eq!(
        v["failures"][0]["message"],
        "cannot read: No such file or directory"
    );

    let (github, _, code) = run(&["validate", "--format", "github", "/nope.yaml"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        github,
        "::error file=/nope.yaml,title=metallbctl could not check this file::/nope.yaml: cannot read: No such file or directory\n"
    );

    let (sarif, _, _) = run(&["validate", "--format", "sarif", "/nope.yaml"]);
    let v: serde_json::Value = serde_json::from_str(&sarif).expect("sarif");
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["message"]["text"],
        "/nope.yaml: cannot read: No such file or directory"
    );

    let (junit, _, _) = run(&["validate", "--format", "junit", "/nope.yaml"]);
    snapshot("first_hour_validate_missing_junit", &junit);
}

// Row 2: `validate` of a file that is not YAML.

#[test]
fn validate_a_file_that_is_not_yaml_gives_file_line_col() {
    let dir = TempDir::new("notyaml");
    let path = write(&dir, "bad.yaml", "foo: [x\n");
    let (out, err, code) = run(&["validate", &path]);
    assert_eq!(code, Some(2));
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!("error: {path}:2:1: not valid YAML: while parsing a flow sequence, expected ',' or ']'\n")
    );
    let (json, _, code) = run(&["validate", "--format", "json", &path]);
    assert_eq!(code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["failures"][0]["line"], 2);
    assert_eq!(v["failures"][0]["column"], 1);
}

#[test]
fn validate_a_bad_file_next_to_a_good_one_keeps_the_findings_and_exit_2() {
    let dir = TempDir::new("mixed");
    let bad = write(&dir, "bad.yaml", "foo: [x\n");
    let (out, _, code) = run(&["validate", "manifests/tutorial-3.yaml", &bad]);
    assert_eq!(code, Some(2));
    assert!(!out.contains("no problems found"), "{out}");
}

// Rows 3 and 6: an API server that is down.

#[test]
fn install_against_a_dead_server_names_it_and_the_reason() {
    let dir = TempDir::new("dead-install");
    let (kubeconfig, server) = dead_kubeconfig(&dir);
    let (_, err, code) = run(&["install", "--kubeconfig", &kubeconfig]);
    assert_eq!(code, Some(2));
    let err = err.replace(&server, "http://127.0.0.1:PORT/");
    snapshot("first_hour_install_dead_server", &err);
}

#[test]
fn validate_cluster_against_a_dead_server_says_each_cause_once() {
    let dir = TempDir::new("dead-validate");
    let (kubeconfig, server) = dead_kubeconfig(&dir);
    let (_, err, code) = run(&[
        "validate",
        "--cluster",
        "--kubeconfig",
        &kubeconfig,
        "manifests/tutorial-3.yaml",
    ]);
    assert_eq!(code, Some(2));
    // The same wording as install.
    let err = err.replace(&server, "http://127.0.0.1:PORT/");
    snapshot("first_hour_install_dead_server", &err);
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn a_missing_kubeconfig_file_is_said_once() {
    let (_, err, code) = run(&[
        "validate",
        "--cluster",
        "--kubeconfig",
        "/nope/kubeconfig",
        "manifests/tutorial-3.yaml",
    ]);
    assert_eq!(code, Some(2));
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(
        err.starts_with("error: could not read kubeconfig /nope/kubeconfig\n"),
        "{err}"
    );
}

/// `metallbctl lab SUB` on the shared harness's lab, as (stdout, stderr, exit code).
fn run_lab(lab: &Lab, sub: &str, extra: &[&str]) -> (String, String, Option<i32>) {
    split(&lab.lab(sub, extra))
}

// Rows 4 and 5: `install --config manifests/tutorial-3.yaml` with nginx on .0, then `--force`.

#[test]
fn install_config_refusal_prints_the_dry_run_and_force_sums_up_truthfully() {
    let lab = Lab::new("install-config");
    let (out, err, code) = run_lab(&lab, "up", &["--tutorial"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let kubeconfig = lab.kubeconfig().display().to_string();
    let (out, err, code) = run(&[
        "install",
        "--kubeconfig",
        &kubeconfig,
        "--with-test-router",
        "--config",
        "manifests/tutorial-3.yaml",
    ]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(!out.contains("Loses {"), "a debug dump: {out}");
    let from = out.find("error[").expect("the findings");
    snapshot(
        "first_hour_install_config_refused",
        &format!("{}{err}", &out[from..]),
    );
    // The same finding and table as validate --cluster prints.
    let (validate, _, code) = run(&[
        "validate",
        "--cluster",
        "--kubeconfig",
        &kubeconfig,
        "manifests/tutorial-3.yaml",
    ]);
    assert_eq!(code, Some(1));
    let table_at = validate.find("dry run of").expect("table");
    let end = validate.rfind("\n1 error").expect("summary");
    assert!(
        out.contains(&validate[..end]),
        "install:\n{out}\nvalidate:\n{validate}"
    );
    assert!(table_at > 0);

    let (out, err, code) = run(&[
        "install",
        "--kubeconfig",
        &kubeconfig,
        "--with-test-router",
        "--config",
        "manifests/tutorial-3.yaml",
        "--force",
        "--wait=false",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("configmap/config configured"), "{out}");
    assert!(!out.contains("everything unchanged"), "{out}");
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.contains("1 of") && last.contains("objects created or configured"),
        "{out}"
    );
}

/// `metallbctl bgp listen` on a free loopback port, killed on drop; ready once it printed its
/// first table.
struct Listener {
    child: std::process::Child,
    port: u16,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Listener {
    fn start(local_as: &str, peer_as: &str) -> Listener {
        use std::io::BufRead;
        let port = free_port("127.0.0.1");
        let mut child = crate::support::metallbctl()
            .args(["bgp", "listen", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "--as",
                local_as,
                "--peer",
                "127.0.0.1",
                "--peer-as",
                peer_as,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("bgp listen");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("listen prints its table once bound");
        assert!(first.starts_with("PEER"), "{first}");
        Listener {
            child,
            port,
            stdout,
        }
    }

    /// Read the router's output until a line contains `needle` (it prints its table whenever
    /// what it holds changes): the signal that a route has arrived.
    fn wait_for(&mut self, needle: &str) {
        use std::io::BufRead;
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line).expect("read") == 0 {
                panic!("bgp listen ended before printing {needle:?}: {seen}");
            }
            if line.contains(needle) {
                return;
            }
            seen.push_str(&line);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// Row 7: `bgp announce` to a closed port.

#[test]
fn announce_to_a_closed_port_says_why_when_it_retries_and_gives_up_under_timeout() {
    let port = free_port("127.0.0.1");
    let peer = format!("127.0.0.1:{port}");
    let (_, err, code) = run(&[
        "bgp",
        "announce",
        "--peer",
        &peer,
        "--as",
        "64500",
        "--peer-as",
        "64500",
        "--timeout",
        "1500ms",
        "198.51.100.10",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "connect to {peer} failed: Connection refused; retrying in 1s"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "no BGP session to {peer} came up; nothing was announced"
        )),
        "{err}"
    );
    assert!(!err.contains("withdrawing"), "{err}");
    let tail = &err[err.find("error: ").expect("an error line")..];
    assert_eq!(
        tail,
        format!("error: no BGP session to {peer} within 1.5s\n  caused by: connect to {peer} failed: Connection refused\nhelp: check that the peer listens on that address and port and accepts us as a neighbour (see docs/troubleshooting.md#bgp-session-stays-active)\n")
    );

    let (_, err, code) = run(&[
        "bgp",
        "announce",
        "--peer",
        &peer,
        "--as",
        "64500",
        "--peer-as",
        "64500",
        "--once",
        "198.51.100.10",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("retrying"), "--once does not retry: {err}");
    assert!(
        err.contains(&format!(
            "error: the BGP session to {peer} failed and --once does not retry\n"
        )),
        "{err}"
    );
}

/// `bgp announce PEER` of 198.51.100.10 as AS 64500, interrupted with SIGINT (Ctrl-C) once
/// its stderr shows `ready` and `before_interrupt` has returned; (stderr until ready, the rest).
fn interrupted_announce(
    peer: &str,
    peer_as: &str,
    ready: &str,
    before_interrupt: impl FnOnce(),
) -> (String, String) {
    use std::io::BufRead;
    let mut child = crate::support::metallbctl()
        .args(["bgp", "announce", "--peer", peer, "--as", "64500"])
        .args(["--peer-as", peer_as, "198.51.100.10"])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("announce");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains(ready) {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read") == 0 {
            panic!("announce ended early: {seen}");
        }
        seen.push_str(&line);
    }
    before_interrupt();
    // SAFETY: kill(2) with SIGINT (Ctrl-C) to the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read");
    assert!(child.wait().expect("wait").success(), "{seen}{rest}");
    (seen, rest)
}

#[test]
fn announce_interrupted_before_any_session_says_nothing_was_announced() {
    let peer = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    // Ready: the first failed attempt was reported.
    let (seen, rest) = interrupted_announce(&peer, "64500", "retrying in", || {});
    assert!(
        rest.contains("nothing was announced") && !rest.contains("withdrawing"),
        "{seen}{rest}"
    );
}

// Row 8: `bgp announce` with the wrong peer AS.

#[test]
fn announce_with_the_wrong_peer_as_is_an_error_naming_both_ases() {
    let router = Listener::start("64501", "64500");
    let peer = format!("127.0.0.1:{}", router.port);
    // We expect the peer to be AS 64999; it says 64501.
    let (_, err, code) = run(&[
        "bgp",
        "announce",
        "--peer",
        &peer,
        "--as",
        "64500",
        "--peer-as",
        "64999",
        "--once",
        "198.51.100.10",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ERROR BGP session refused: sent NOTIFICATION: OPEN Message Error / Bad Peer AS (the peer says it is AS 64501, we expect AS 64999): set the peer AS (--peer-as) to 64501"),
        "{err}"
    );
    assert!(
        err.contains("help: make --as and --peer-as match the peer's neighbour configuration"),
        "{err}"
    );
    // The peer expects AS 64500 from us; we say 64510. Retries back off.
    let (_, err, code) = run(&[
        "bgp",
        "announce",
        "--peer",
        &peer,
        "--as",
        "64510",
        "--peer-as",
        "64501",
        "--timeout",
        "1500ms",
        "198.51.100.10",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ERROR BGP session refused: received NOTIFICATION: OPEN Message Error / Bad Peer AS (we are AS 64510, peer AS 64501)"),
        "{err}"
    );
    assert!(err.contains("retrying in 1s"), "{err}");
}

// Row 9: `lab up` on a lab last run with `--routers real`.

#[test]
fn lab_up_keeps_the_recorded_router_choice_and_says_when_it_changes() {
    if !crate::support::have_real_routers() {
        return;
    }
    let lab = Lab::new("routers");
    let (out, err, code) = run_lab(&lab, "up", &["--routers", "real"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("routers real"), "{out}");
    run_lab(&lab, "down", &[]);

    // No flag: the recorded choice.
    let (out, err, code) = run_lab(&lab, "up", &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("routers real)"), "{out}");
    assert!(!out.contains("note:"), "{out}");
    let (status, _, _) = run_lab(&lab, "status", &["-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&status).expect("status json");
    assert_eq!(v["routers_mode"], "real", "{status}");
    run_lab(&lab, "down", &[]);

    // Another flag: said.
    let (out, err, code) = run_lab(&lab, "up", &["--routers", "builtin"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "note: lab {:?} last ran with --routers real; now --routers builtin\n",
            lab.name
        )),
        "{out}"
    );
}

// Row 10: `lab up --port <busy>`.

#[test]
fn lab_up_on_a_busy_port_leaves_nothing_behind() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let lab = Lab::new("busy");
    let (out, err, code) = run_lab(&lab, "up", &["--port", &port]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!lab.state().join("lab.pid").exists(), "lab.pid left behind");
    assert!(
        !lab.state().join("control.sock").exists(),
        "control socket left behind"
    );
    // And the next `lab up` just works.
    drop(busy);
    let (out, err, code) = run_lab(&lab, "up", &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!out.contains("stale"), "{out}");
}

// Row 11: `lab up --tutorial` output.

#[test]
fn lab_up_tutorial_ends_with_the_export_line_and_next_steps_that_work_as_printed() {
    let lab = Lab::new("tutorial-out");
    let (out, err, code) = run_lab(&lab, "up", &["--tutorial"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let tail: Vec<&str> = out.lines().rev().take(6).collect();
    let kubeconfig = lab.kubeconfig().display().to_string();
    assert_eq!(tail[5], format!("kubeconfig: {kubeconfig}"), "{out}");
    assert_eq!(tail[4], format!("export KUBECONFIG={kubeconfig}"), "{out}");
    assert_eq!(tail[3], "next:", "{out}");
    // Not on PATH here: the hint names this very binary, and the lab's flags.
    let hint = tail[0].trim();
    let (exe, rest) = hint.split_once(" lab status").expect("a lab status hint");
    assert_eq!(exe, env!("CARGO_BIN_EXE_metallbctl"), "{out}");
    let args: Vec<&str> = ["lab", "status"]
        .into_iter()
        .chain(rest.split_whitespace())
        .collect();
    let status = std::process::Command::new(exe)
        .args(&args)
        .output()
        .expect("the hint runs");
    assert!(status.status.success(), "{hint}: {status:?}");
    assert!(String::from_utf8_lossy(&status.stdout).contains("bird"));
}

// Row 13: `kubectl exec` / `port-forward` on the lab, with the real kubectl.

#[test]
fn kubectl_exec_and_port_forward_on_the_lab_say_what_to_use_instead() {
    if !crate::support::have_kubectl() {
        return;
    }
    let lab = Lab::new("exec");
    let (out, err, code) = run_lab(&lab, "up", &["--tutorial"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let kubectl = |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .env("KUBECONFIG", lab.kubeconfig())
            .arg("--cache-dir")
            .arg(&lab.cache)
            .args(args)
            .output()
            .expect("kubectl");
        split(&out)
    };
    let (pods, _, _) = kubectl(&["get", "pods", "-o", "name", "-l", "app=nginx"]);
    let pod = pods.lines().next().expect("an nginx pod").to_string();
    let name = pod.trim_start_matches("pod/");
    let (_, err, code) = kubectl(&["exec", &pod, "--", "ls"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!("error: container nginx of pod default/{name} (")),
        "{err}"
    );
    assert!(
        err.contains("is a simulated container, no exec")
            && err.contains(&format!("kubectl logs -n default {name} -c nginx")),
        "{err}"
    );
    let (_, err, code) = kubectl(&["port-forward", &pod, "8080:80"]);
    assert_eq!(code, Some(1));
    // nginx's container is simulated: nothing listens, so nothing to forward to (router pods
    // and speakers forward: see lab_portforward).
    assert!(
        err.contains(&format!(
            "error upgrading connection: pod default/{name} has no port to forward"
        )) && err.contains("metallbctl lab"),
        "{err}"
    );
}

// Row 14 (part): `lab logs -f` follows.

#[test]
fn lab_logs_follow_streams_new_lines_until_the_lab_stops() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let lab = Lab::new("follow");
    let (out, err, code) = run_lab(&lab, "up", &["--tutorial"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let child = crate::support::metallbctl()
        .args([
            "lab",
            "logs",
            "-f",
            "speaker",
            "--name",
            &lab.name,
            "--state-dir",
        ])
        .arg(lab.state())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("lab logs -f");
    // Killed and reaped on drop, also when a wait below fails.
    let mut child = crate::support::Proc(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(e) => panic!("no line with {needle:?}: {e}"),
            }
        }
    };
    wait_for("established");
    // Something new for the speaker to say: a configuration it must reject.
    let (out, err, code) = run(&[
        "install",
        "--kubeconfig",
        &lab.kubeconfig().display().to_string(),
        "--config",
        "manifests/tutorial-3.yaml",
        "--force",
        "--wait=false",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    wait_for("configuration rejected");
    run_lab(&lab, "down", &[]);
    let status = child.0.wait().expect("lab logs -f ends with the lab");
    assert!(status.success());
}

// Row 14: `--help`.

#[test]
fn help_lists_command_flags_first_and_global_flags_under_their_own_heading() {
    let (out, _, code) = run(&["install", "--help"]);
    assert_eq!(code, Some(0));
    snapshot("first_hour_install_help", &out);
    for cmd in [
        &["validate", "--help"][..],
        &["lab", "logs", "--help"],
        &["bgp", "announce", "--help"],
    ] {
        let (out, _, _) = run(cmd);
        let options = out.find("\nOptions:\n").expect("options");
        let global = out.find("\nGlobal options:\n").expect("global options");
        assert!(options < global, "{out}");
        assert!(!out[options..global].contains("--color"), "{out}");
    }
}

#[test]
fn no_flag_shadows_version_and_lab_logs_takes_f() {
    for cmd in [
        &["install", "-V"][..],
        &["install", "--version"],
        &["lab", "-V"],
    ] {
        let (out, err, code) = run(cmd);
        assert_eq!(code, Some(0), "{cmd:?}: {err}");
        assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    }
    let (_, err, code) = run(&["install", "--metallb-version", "v0.12.0", "--help"]);
    assert_eq!(code, Some(0), "{err}");
    let (_, err, _) = run(&[
        "lab",
        "logs",
        "-f",
        "--name",
        "no-such-lab-here",
        "--state-dir",
        "/nonexistent/lab",
    ]);
    assert!(!err.contains("-- -f"), "{err}");
    assert!(
        err.starts_with("error: no daemon log at /nonexistent/lab/daemon.log"),
        "{err}"
    );
}

// Row 15: tab completion, through the shell protocol the committed scripts use.

/// What the shell offers for the last of `words`, asked the way completions/metallbctl.bash asks.
fn complete_bash(words: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Vec<String> {
    let out = metallbctl()
        .env("COMPLETE", "bash")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .envs(env.iter().copied())
        .arg("--")
        .args(words)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn target_version_completes_to_the_allowed_versions_and_name_to_existing_labs() {
    let offered = complete_bash(&["metallbctl", "validate", "--target-version", ""], &[]);
    assert_eq!(
        offered,
        [
            "v0.16", "v0.15", "v0.14", "v0.13", "v0.12", "v0.11", "v0.10", "v0.9", "v0.8", "v0.7",
            "v0.6"
        ]
    );
    let state = TempDir::new("xdg");
    for lab in ["alpha", "tutorial"] {
        std::fs::create_dir_all(state.join("metallbctl/lab").join(lab)).expect("mkdir");
    }
    let xdg = [("XDG_STATE_HOME", state.as_os_str())];
    let offered = complete_bash(&["metallbctl", "lab", "status", "--name", ""], &xdg);
    assert_eq!(offered, ["alpha", "tutorial"]);
    let offered = complete_bash(&["metallbctl", "lab", "up", "--name", "tu"], &xdg);
    assert_eq!(offered, ["tutorial"]);
}

// docs/: every relative link in docs/ and README.md resolves, anchors included; every
// troubleshooting anchor a `help:` line names exists.

/// GitHub's heading anchor: lower case, spaces to hyphens, punctuation other than `-` and `_`
/// dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// `(target, line)` of every inline Markdown link `[text](target)` outside code blocks.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push((after[..end].to_string(), n + 1));
            rest = &after[end..];
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![crate::support::repo_path("").join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(crate::support::repo_path("").join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_relative_link_in_docs_and_readme_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let dir = file.parent().expect("dir");
        for (target, line) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !resolved.exists() {
                broken.push(format!(
                    "{}:{line}: {target} (no such file)",
                    file.display()
                ));
                continue;
            }
            if !fragment.is_empty() && resolved.extension().is_some_and(|e| e == "md") {
                let doc = std::fs::read_to_string(&resolved).expect("read");
                if !anchors(&doc).iter().any(|a| a == fragment) {
                    broken.push(format!(
                        "{}:{line}: {target} (no such heading)",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(checked > 10, "the link finder found only {checked} links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_broken_link_is_caught() {
    // The checker itself: a link to a missing heading and one to a missing file are found.
    let text =
        "see [a](troubleshooting.md#no-such-heading) and [b](nope.md)\n```\n[c](ignored.md)\n```\n";
    let found = links(text);
    assert_eq!(
        found,
        [
            ("troubleshooting.md#no-such-heading".to_string(), 1),
            ("nope.md".to_string(), 1)
        ]
    );
    let doc =
        std::fs::read_to_string(crate::support::repo_path("").join("docs/troubleshooting.md"))
            .expect("read");
    assert!(!anchors(&doc).contains(&"no-such-heading".to_string()));
    assert_eq!(
        anchor("BGP session refused: Bad Peer AS"),
        "bgp-session-refused-bad-peer-as"
    );
}

#[test]
fn every_troubleshooting_anchor_named_by_a_help_line_exists() {
    let doc =
        std::fs::read_to_string(crate::support::repo_path("").join("docs/troubleshooting.md"))
            .expect("read");
    let known = anchors(&doc);
    let mut named = Vec::new();
    let mut stack = vec![crate::support::repo_path("").join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for marker in ["troubleshooting.md#", "TROUBLESHOOTING}#", "guide}#"] {
                for (i, _) in text.match_indices(marker) {
                    let rest = &text[i + marker.len()..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .unwrap_or(rest.len());
                    named.push((path.display().to_string(), rest[..end].to_string()));
                }
            }
        }
    }
    assert!(named.len() >= 7, "{named:?}");
    let missing: Vec<_> = named.iter().filter(|(_, a)| !known.contains(a)).collect();
    assert!(
        missing.is_empty(),
        "help lines name missing sections: {missing:?}"
    );
}

#[test]
fn a_kubeconfig_variable_naming_a_missing_file_says_so() {
    let (_, err, code) = split(
        &metallbctl()
            .env("KUBECONFIG", "/nope/kubeconfig")
            .args(["validate", "--cluster", "manifests/tutorial-3.yaml"])
            .output()
            .expect("runs"),
    );
    assert_eq!(code, Some(2));
    snapshot("first_hour_kubeconfig_env_missing", &err);
}

#[test]
fn announce_interrupted_after_the_session_came_up_withdraws_what_it_sent() {
    let mut router = Listener::start("64501", "64500");
    let peer = format!("127.0.0.1:{}", router.port);
    // Interrupt only once the router holds the prefix: then there is something to withdraw.
    let (seen, rest) = interrupted_announce(&peer, "64501", "established", || {
        router.wait_for("198.51.100.10/32")
    });
    assert!(
        rest.contains(&format!(
            "withdrawing 1 prefix from {peer} and closing the session"
        )),
        "{seen}{rest}"
    );
}

#[test]
fn lab_up_into_a_closed_pipe_does_not_panic() {
    let lab = Lab::new("pipe");
    let mut child = crate::support::metallbctl()
        .args(["lab", "up", "--name", &lab.name, "--state-dir"])
        .arg(lab.state())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("lab up");
    // `| head -0`: the reader is gone before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn install_config_with_lint_errors_shows_them_and_applies_nothing() {
    let lab = Lab::new("install-lint");
    let (out, err, code) = run_lab(&lab, "up", &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    let dir = TempDir::new("install-lint-config");
    let config = write(
        &dir,
        "config.yaml",
        "peers:\n- peer-address: 10.96.0.100\n  peer-asn: 64500\n  my-asn: 64500\n  hold-time: 120\naddress-pools:\n- name: default\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n",
    );
    let (out, err, code) = run(&[
        "install",
        "--kubeconfig",
        &lab.kubeconfig().display().to_string(),
        "--wait=false",
        "--config",
        &config,
    ]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.contains("error[MLB013]"), "{out}");
    // Refused before anything was applied.
    assert!(
        !out.contains(" created") && !out.contains(" configured"),
        "{out}"
    );
    assert_eq!(
        err,
        format!("error: refusing to apply {config}: MetalLB would reject it (1 error)\nhelp: fix the errors above; `metallbctl validate {config}` checks the file offline\n")
    );
}
