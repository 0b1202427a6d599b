//! One fixture and one snapshot per validate rule, and the examples in docs/rules.md.
//!
//! Each file `tests/fixtures/rules/MLBnnn-name.yaml` triggers rule MLBnnn; its text report is
//! snapshotted as `snapshots/rule_MLBnnn.snap`. A fixture that needs flags names them on a line
//! `# metallbctl validate FLAGS`; the docs examples use the same convention. The same file name
//! under `tests/fixtures/rules/valid/` is the configuration fixed, which must not trigger it.

use std::path::{Path, PathBuf};

use metallbctl::config::rule;

use crate::support::{metallbctl, repo_path, snapshot, TempDir};

/// Rules that no file can trigger, with the reason. Everything else needs a fixture and a docs
/// example that triggers it.
const NOT_FROM_A_FILE: &[(&str, &str)] = &[(
    "MLB101",
    "needs the running configuration (the pool that holds an address today), which only \
     `--cluster` reads from the live ConfigMap; an assignments file carries services only",
)];

/// The flags on a `# metallbctl validate FLAGS` line, if any.
fn flags_of(text: &str) -> Vec<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("# metallbctl validate"))
        .map(|f| f.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// `metallbctl validate PATH FLAGS EXTRA`: (exit code, stdout, stderr).
fn validate(path: &Path, flags: &[String], extra: &[&str]) -> (Option<i32>, String, String) {
    let out = metallbctl()
        .arg("validate")
        .arg(path)
        .args(flags)
        .args(extra)
        .output()
        .expect("run metallbctl validate");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The codes in a `--format json` report.
fn codes(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str().map(String::from))
        .collect()
}

/// (code, path) of every rule fixture, in code order.
fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = repo_path("tests/fixtures/rules");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/rules")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let code = name.split('-').next().unwrap_or_default().to_string();
            (code, p)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_rule_that_a_file_can_trigger_has_a_fixture() {
    let have: Vec<String> = fixtures().into_iter().map(|(c, _)| c).collect();
    for r in rule::ALL {
        let exempt = NOT_FROM_A_FILE.iter().any(|(c, _)| *c == r.code);
        let count = have.iter().filter(|c| *c == r.code).count();
        if exempt {
            assert_eq!(
                count, 0,
                "{} is listed as not triggerable from a file",
                r.code
            );
        } else {
            assert_eq!(
                count, 1,
                "{} {} needs exactly one fixture tests/fixtures/rules/{}-{}.yaml",
                r.code, r.name, r.code, r.name
            );
        }
    }
    for code in &have {
        assert!(
            rule::find(code).is_some(),
            "fixture for unknown rule {code}"
        );
    }
}

#[test]
fn each_fixture_triggers_its_rule_and_matches_its_snapshot() {
    for (code, path) in fixtures() {
        let r = rule::find(&code).expect("known rule");
        let text = std::fs::read_to_string(&path).expect("fixture");
        let flags = flags_of(&text);
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .to_path_buf();
        let file_name = rel.file_name().unwrap_or_default().to_string_lossy();
        assert_eq!(
            file_name,
            format!("{}-{}.yaml", r.code, r.name),
            "fixtures are named CODE-name.yaml"
        );
        let (_, json, err) = validate(&rel, &flags, &["--format", "json"]);
        assert!(
            codes(&json).contains(&code),
            "{} does not trigger {code}: {json}{err}",
            rel.display()
        );
        let (status, out, err) = validate(&rel, &flags, &["--color", "never"]);
        let expected_status = match r.severity {
            metallbctl::diag::Severity::Error => 1,
            _ => 0,
        };
        assert_eq!(
            status,
            Some(expected_status),
            "{}: {out}{err}",
            rel.display()
        );
        snapshot(&format!("rule_{code}"), &out);
    }
}

/// Each rule fixture's valid form: `tests/fixtures/rules/valid/` holds the same configuration
/// fixed, under the same file name and flags. It must not trigger its rule, nor any error.
#[test]
fn each_fixture_has_a_valid_form_clean_of_its_rule() {
    let mut checked = 0;
    for (code, path) in fixtures() {
        let name = path.file_name().unwrap_or_default();
        let valid = repo_path("tests/fixtures/rules/valid").join(name);
        let rel = valid
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&valid)
            .to_path_buf();
        let text = std::fs::read_to_string(&valid)
            .unwrap_or_else(|_| panic!("{code} needs a valid form {}", rel.display()));
        assert_ne!(
            text,
            std::fs::read_to_string(&path).unwrap_or_default(),
            "{code}: the valid form is the invalid one"
        );
        let (status, json, err) = validate(&rel, &flags_of(&text), &["--format", "json"]);
        let found = codes(&json);
        assert!(
            !found.contains(&code),
            "{} still triggers {code}: {json}{err}",
            rel.display()
        );
        assert_eq!(status, Some(0), "{} has errors: {json}{err}", rel.display());
        checked += 1;
    }
    let valid_forms = std::fs::read_dir(repo_path("tests/fixtures/rules/valid"))
        .expect("tests/fixtures/rules/valid")
        .count();
    assert_eq!(
        valid_forms, checked,
        "a valid form without its invalid fixture"
    );
}

/// The `yaml` example of each `## MLBnnn` section of docs/rules.md.
fn doc_examples() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(repo_path("docs/rules.md")).expect("docs/rules.md");
    let mut out = Vec::new();
    for section in doc.split("\n## ").skip(1) {
        let code = section
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let example = section
            .split_once("```yaml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(ex, _)| ex.to_string());
        out.push((code, example.unwrap_or_default()));
    }
    out
}

#[test]
fn every_example_in_the_rules_doc_triggers_its_own_rule() {
    let examples = doc_examples();
    assert_eq!(
        examples.len(),
        rule::ALL.len(),
        "one section per rule in docs/rules.md"
    );
    let dir = TempDir::new("rules-doc");
    for (code, example) in examples {
        assert!(rule::find(&code).is_some(), "docs/rules.md: unknown {code}");
        assert!(!example.trim().is_empty(), "{code}: no yaml example");
        if NOT_FROM_A_FILE.iter().any(|(c, _)| *c == code) {
            continue;
        }
        let path = dir.join(format!("{code}.yaml"));
        std::fs::write(&path, &example).expect("write example");
        let (_, json, err) = validate(&path, &flags_of(&example), &["--format", "json"]);
        assert!(
            codes(&json).contains(&code),
            "the docs/rules.md example for {code} does not trigger it:\n{example}\n{json}{err}"
        );
    }
}
