//! `metallbctl validate` as a user runs it: exit codes, inputs, and every output format
//! (snapshots in snapshots/).

use std::path::Path;

use crate::support::{metallbctl_assert as metallbctl, snapshot};

fn stdout_of(args: &[&str]) -> (String, i32) {
    let out = metallbctl().args(args).output().expect("runs");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        out.status.code().unwrap_or(-1),
    )
}

const SEVERAL: &str = "tests/fixtures/validate/several-findings.yaml";

#[test]
fn tutorial_manifests_are_clean() {
    for n in 1..=4 {
        let path = format!("manifests/tutorial-{n}.yaml");
        let (out, code) = stdout_of(&["validate", &path]);
        assert_eq!(code, 0, "{path}: {out}");
    }
}

#[test]
fn hold_time_without_unit_exits_1_and_names_line_and_fix() {
    let (out, code) = stdout_of(&["validate", SEVERAL, "--color", "never"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("error[MLB013]: invalid hold time \"120\""),
        "{out}"
    );
    assert!(
        out.contains("--> tests/fixtures/validate/several-findings.yaml:13:18"),
        "{out}"
    );
    assert!(out.contains("write `hold-time: 120s`"), "{out}");
}

#[test]
fn text_output_snapshot() {
    let (out, _) = stdout_of(&["validate", SEVERAL, "--color", "never"]);
    snapshot("validate_text", &out);
}

#[test]
fn json_output_snapshot() {
    let (out, _) = stdout_of(&["validate", SEVERAL, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(value["schema_version"], 1);
    snapshot(
        "validate_json",
        &out.replace(env!("CARGO_PKG_VERSION"), "[version]"),
    );
}

#[test]
fn github_output_snapshot() {
    let (out, _) = stdout_of(&["validate", SEVERAL, "--format", "github"]);
    assert!(
        out.lines().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{out}"
    );
    snapshot("validate_github", &out);
}

#[test]
fn sarif_output_snapshot_and_shape() {
    let (out, code) = stdout_of(&["validate", SEVERAL, "--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    // The properties SARIF 2.1.0 requires, checked here; the full schema check is in
    // docs/validate.md.
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "metallbctl");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in run["results"].as_array().unwrap() {
        assert!(result["message"]["text"].is_string());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
    }
    snapshot(
        "validate_sarif",
        &out.replace(env!("CARGO_PKG_VERSION"), "[version]"),
    );
}

#[test]
fn junit_output_snapshot() {
    let (out, _) = stdout_of(&[
        "validate",
        SEVERAL,
        "tests/fixtures/validate/clean.yaml",
        "--format",
        "junit",
    ]);
    assert!(out.starts_with("<?xml"));
    snapshot("validate_junit", &out);
}

#[test]
fn stdin_is_read_with_dash() {
    let clean = std::fs::read_to_string("tests/fixtures/validate/clean.yaml").unwrap();
    metallbctl()
        .args(["validate", "-"])
        .write_stdin(clean)
        .assert()
        .code(0);
    let out = metallbctl()
        .args(["validate", "-", "--color", "never"])
        .write_stdin(
            "peers:\n- my-asn: 1\n  peer-asn: 1\n  peer-address: 10.0.0.1\n  hold-time: 90\n",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("<stdin>:5:14"));
}

#[test]
fn directories_are_searched_recursively() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::copy(SEVERAL, dir.path().join("nested/bad.yml")).unwrap();
    std::fs::copy(
        "tests/fixtures/validate/clean.yaml",
        dir.path().join("ok.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
    let out = metallbctl()
        .args(["validate", "--color", "never"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("in 2 files"), "{text}");
}

#[test]
fn deny_warnings_turns_warnings_into_exit_1() {
    let text = "peers:\n- my-asn: 23456\n  peer-asn: 1\n  peer-address: 10.0.0.1\n";
    metallbctl()
        .args(["validate", "-"])
        .write_stdin(text)
        .assert()
        .code(0);
    metallbctl()
        .args(["validate", "-", "--deny-warnings"])
        .write_stdin(text)
        .assert()
        .code(1);
}

#[test]
fn input_that_is_not_yaml_exits_2_naming_file_and_line() {
    let out = metallbctl()
        .args(["validate", "tests/fixtures/validate/not-yaml.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tests/fixtures/validate/not-yaml.yaml:"),
        "{err}"
    );
    assert!(err.contains("not valid YAML"), "{err}");
}

#[test]
fn missing_file_exits_2_but_still_checks_the_others() {
    let out = metallbctl()
        .args(["validate", "no/such/file.yaml", SEVERAL, "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.yaml"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MLB013"));
}

#[test]
fn usage_errors_exit_2() {
    metallbctl().args(["validate"]).assert().code(2);
    metallbctl()
        .args(["validate", "x.yaml", "--format", "xml"])
        .assert()
        .code(2);
    metallbctl()
        .args(["validate", "x.yaml", "--target-version", "v0.17"])
        .assert()
        .code(2);
}

#[test]
fn target_version_changes_the_rules() {
    let text = "peers:\n- my-asn: 1\n  peer-asn: 1\n  peer-address: 10.0.0.1\n  source-address: 10.0.0.2\n";
    metallbctl()
        .args(["validate", "-"])
        .write_stdin(text)
        .assert()
        .code(0);
    metallbctl()
        .args(["validate", "-", "--target-version", "v0.10"])
        .write_stdin(text)
        .assert()
        .code(1);
}

#[test]
fn raw_flag_lints_bodies_that_autodetection_would_skip() {
    // `{}` has no MetalLB key, so autodetection skips it (MLB007); --raw lints it as an empty
    // configuration (MLB090).
    let codes = |extra: &[&str]| {
        let out = metallbctl()
            .args(["validate", "-", "--format", "json"])
            .args(extra)
            .write_stdin("{}\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&[]), ["MLB007"]);
    assert_eq!(codes(&["--raw"]), ["MLB090"]);
}

#[test]
fn explain_prints_the_rule_documentation() {
    let (out, code) = stdout_of(&["validate", "--explain", "MLB013"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("## MLB013 hold-time-without-unit"), "{out}");
    let (_, code) = stdout_of(&["validate", "--explain", "MLB999"]);
    assert_eq!(code, 2);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let (out, _) = stdout_of(&["validate", SEVERAL, "--color", "always"]);
    assert!(out.contains("\x1b["));
    let out = metallbctl()
        .args(["validate", SEVERAL])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\x1b["));
}

#[test]
fn committed_completions_are_current() {
    use clap_complete::Shell;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let generated = metallbctl()
            .args(["completions", &shell.to_string()])
            .output()
            .unwrap()
            .stdout;
        let path = Path::new("completions").join(metallbctl::cli::completions::file_name(shell));
        if std::env::var_os("METALLBCTL_UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `METALLBCTL_UPDATE_COMPLETIONS=1 cargo test --test it validate_cli::committed_completions_are_current` and commit",
            path.display()
        );
    }
}
