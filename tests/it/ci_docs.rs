//! docs/ci.md and .pre-commit-hooks.yaml: every `metallbctl validate` command in the docs'
//! code blocks, and every hook's entry, is a valid invocation that runs against a fixture laid
//! out as the examples assume (`config/metallb/`, `services.json`).

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::support::{metallbctl, repo_path};

/// A pool with its advertisement that validates clean, and the tutorial's services (nginx keeps
/// 198.51.100.0 under it).
fn lay_out(dir: &Path) -> String {
    let pools = "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: my-ip-space\n  namespace: metallb-system\nspec:\n  addresses:\n  - 198.51.100.0/24\n---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: my-ip-space\n  namespace: metallb-system\nspec:\n  ipAddressPools:\n  - my-ip-space\n";
    std::fs::create_dir_all(dir.join("config/metallb")).unwrap();
    std::fs::write(dir.join("config/metallb/pools.yaml"), pools).unwrap();
    std::fs::copy(
        repo_path("tests/fixtures/alloc/tutorial-assignments.json"),
        dir.join("services.json"),
    )
    .unwrap();
    // `--cluster --context prod`: a kubeconfig whose server refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(
        dir.join("kubeconfig"),
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: prod\n  context: {{cluster: c, user: u}}\ncurrent-context: prod\n"),
    )
    .unwrap();
    pools.to_string()
}

/// The `metallbctl validate ...` commands of the fenced code blocks, cut at a pipe or a
/// redirection.
fn doc_commands(doc: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let Some(at) = line.find("metallbctl validate") else {
            continue;
        };
        let command = &line[at..];
        let command = command.split(['|', '>']).next().unwrap_or_default();
        let words: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(String::from)
            .collect();
        out.push(words);
    }
    out
}

/// Run `metallbctl ARGS` in `dir` (stdin `input` when an argument is `-`): (exit, stdout, stderr).
fn run_in(dir: &Path, args: &[String], input: &str) -> (Option<i32>, String, String) {
    let mut child = metallbctl()
        .current_dir(dir)
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .args(args)
        .args(["--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run metallbctl");
    if let Some(mut stdin) = child.stdin.take() {
        if args.iter().any(|a| a == "-") {
            stdin.write_all(input.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().expect("metallbctl ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a successful run of `args` printed must look like its `--format`.
fn check_format(args: &[String], out: &str) {
    let format = args
        .iter()
        .position(|a| a == "--format")
        .and_then(|i| args.get(i + 1))
        .map_or("text", String::as_str);
    match format {
        "sarif" => {
            let v: serde_json::Value = serde_json::from_str(out).expect("SARIF is JSON");
            assert_eq!(v["version"], "2.1.0", "{out}");
        }
        "junit" => assert!(out.starts_with("<?xml"), "{out}"),
        "github" => assert!(
            out.lines().all(|l| l.is_empty() || l.starts_with("::")),
            "{out}"
        ),
        "text" => assert!(out.contains("in 1 file"), "{out}"),
        other => panic!("docs/ci.md uses an unexpected format {other}"),
    }
}

#[test]
fn every_validate_command_in_the_ci_docs_runs() {
    let doc = std::fs::read_to_string(repo_path("docs/ci.md")).expect("docs/ci.md");
    let commands = doc_commands(&doc);
    assert!(commands.len() >= 8, "found only {commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let pools = lay_out(dir.path());
    for args in &commands {
        assert_eq!(args[0], "validate");
        let (code, out, err) = run_in(dir.path(), args, &pools);
        if args.iter().any(|a| a == "--cluster") {
            // The arguments parse and the run gets as far as the cluster.
            assert_eq!(code, Some(2), "{args:?}: {out}{err}");
            assert!(
                err.contains("cannot reach the Kubernetes API server"),
                "{args:?}: {err}"
            );
            continue;
        }
        assert_eq!(code, Some(0), "{args:?}: {out}{err}");
        check_format(args, &out);
    }
}

#[test]
fn the_pre_commit_hooks_run_metallbctl_validate() {
    let text = std::fs::read_to_string(repo_path(".pre-commit-hooks.yaml")).expect("manifest");
    let hooks: Vec<serde_yaml::Value> = serde_yaml::from_str(&text).expect("a YAML list");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids, ["metallbctl-validate", "metallbctl-validate-system"]);
    let dir = tempfile::tempdir().unwrap();
    let pools = lay_out(dir.path());
    for hook in &hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(hook[key].as_str().is_some(), "{key} is required: {hook:?}");
        }
        assert!(["rust", "system"].contains(&hook["language"].as_str().unwrap_or_default()));
        assert_eq!(hook["require_serial"].as_bool(), Some(true));
        // pre-commit appends the file names to the entry.
        let entry = hook["entry"].as_str().unwrap_or_default();
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("metallbctl"));
        let args: Vec<String> = words.map(String::from).collect();
        let with = |file: &str| [&args[..], &[file.to_string()]].concat();
        let (code, out, err) = run_in(dir.path(), &with("config/metallb/pools.yaml"), &pools);
        assert_eq!(code, Some(0), "{entry}: {out}{err}");
        // And a broken file fails the commit.
        std::fs::write(dir.path().join("bad.yaml"), pools.replace("/24", "/33")).unwrap();
        let (code, out, _) = run_in(dir.path(), &with("bad.yaml"), "");
        assert_eq!(code, Some(1), "{entry}: {out}");
    }
}
