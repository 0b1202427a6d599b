//! SARIF 2.1.0 (OASIS), for code-scanning dashboards such as GitHub's. Columns are counted in
//! Unicode code points, which we declare with `columnKind`.

use serde_json::{json, Value};

use super::Report;
use crate::diag::{Diagnostic, RuleInfo, Severity};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(report: &Report<'_>, rules: &[RuleInfo]) -> String {
    let rule_entries: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| result(d, rules))
        .collect();
    let artifacts: Vec<Value> = report
        .inputs
        .iter()
        .map(|i| json!({ "location": { "uri": uri(i) } }))
        .collect();
    let notifications: Vec<Value> = report
        .failures
        .iter()
        .map(|f| {
            let mut location = json!({ "artifactLocation": { "uri": uri(&f.file) } });
            if let (Some(line), Some(col)) = (f.line, f.column) {
                location["region"] = json!({ "startLine": line, "startColumn": col });
            }
            json!({
                "level": "error",
                "message": { "text": f.to_string() },
                "locations": [{ "physicalLocation": location }],
            })
        })
        .collect();
    let mut sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "metallbctl",
                "version": report.tool_version,
                "rules": rule_entries,
            }},
            "columnKind": "unicodeCodePoints",
            "artifacts": artifacts,
            "results": results,
        }],
    });
    if !notifications.is_empty() {
        // SARIF §3.20.14/§3.20.21: the run did not finish its job, and why.
        sarif["runs"][0]["invocations"] = json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": notifications,
        }]);
    }
    let mut text = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    text.push('\n');
    text
}

fn result(d: &Diagnostic, rules: &[RuleInfo]) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut result = json!({
        "ruleId": d.code,
        "level": level(d.severity),
        "message": { "text": text },
    });
    if let Some(index) = rules.iter().position(|r| r.code == d.code) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(loc) = &d.location {
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&loc.file) },
                "region": {
                    "startLine": loc.line,
                    "startColumn": loc.column,
                    "endLine": loc.end_line,
                    "endColumn": loc.end_column.max(if loc.end_line == loc.line { loc.column } else { 1 }),
                },
            },
        }]);
    }
    result
}

/// SARIF wants URI references: relative paths with forward slashes and percent-escaping.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
