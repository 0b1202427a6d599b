//! Issue 16, "the first hour": the mistakes new users make, each reproduced as the user typed
//! it, with the output they should get. Multi-line messages are insta snapshots in snapshots/.
//!
//! Self-contained helpers (to be folded into tests/it's support module when merged).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn metallbctl() -> Command {
    let mut cmd = Command::cargo_bin("metallbctl").expect("binary built");
    cmd.env_remove("NO_COLOR")
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .current_dir(ROOT);
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

fn snapshot(name: &str, value: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, value);
    });
}

/// A temporary directory removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "metallbctl-first-hour-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Temp(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A kubeconfig whose server is a loopback port nothing listens on (it was just free).
fn dead_kubeconfig(dir: &Temp) -> (String, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let server = format!("http://127.0.0.1:{port}");
    let path = dir.write(
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
    let dir = Temp::new("notyaml");
    let path = dir.write("bad.yaml", "foo: [x\n");
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
    let dir = Temp::new("mixed");
    let bad = dir.write("bad.yaml", "foo: [x\n");
    let (out, _, code) = run(&["validate", "manifests/tutorial-3.yaml", &bad]);
    assert_eq!(code, Some(2));
    assert!(!out.contains("no problems found"), "{out}");
}

// Rows 3 and 6: an API server that is down.

#[test]
fn install_against_a_dead_server_names_it_and_the_reason() {
    let dir = Temp::new("dead-install");
    let (kubeconfig, server) = dead_kubeconfig(&dir);
    let (_, err, code) = run(&["install", "--kubeconfig", &kubeconfig]);
    assert_eq!(code, Some(2));
    let err = err.replace(&server, "http://127.0.0.1:PORT/");
    snapshot("first_hour_install_dead_server", &err);
}

#[test]
fn validate_cluster_against_a_dead_server_says_each_cause_once() {
    let dir = Temp::new("dead-validate");
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
    assert!(err.starts_with("error: could not read kubeconfig /nope/kubeconfig\n"), "{err}");
}

#[allow(dead_code)]
fn exists(p: &Path) -> bool {
    p.exists()
}

/// A lab started by the CLI in its own state directory, stopped on drop (by `lab down`, then
/// SIGKILL of the recorded PID if it is still alive).
struct Lab {
    name: String,
    dir: Temp,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let dir = Temp::new(tag);
        let name = dir
            .0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Lab { name, dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path("state")
    }

    fn kubeconfig(&self) -> String {
        self.state().join("kubeconfig").to_string_lossy().into_owned()
    }

    fn lab(&self, sub: &str, extra: &[&str]) -> (String, String, Option<i32>) {
        let mut cmd = metallbctl();
        cmd.args(["lab", sub, "--name", &self.name, "--state-dir"])
            .arg(self.state())
            .args(extra);
        split(&cmd.output().expect("runs"))
    }

    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state().join("lab.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let pid = self.pid();
        let _ = self.lab("down", &[]);
        if let Some(pid) = pid {
            if Path::new(&format!("/proc/{pid}")).exists() {
                // SAFETY: kill(2) on the PID of the lab daemon this test started.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

// Rows 4 and 5: `install --config manifests/tutorial-3.yaml` with nginx on .0, then `--force`.

#[test]
fn install_config_refusal_prints_the_dry_run_and_force_sums_up_truthfully() {
    let lab = Lab::new("install-config");
    let (out, err, code) = lab.lab("up", &["--tutorial"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let kubeconfig = lab.kubeconfig();
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
