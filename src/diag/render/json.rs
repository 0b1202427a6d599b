//! JSON output, schema version 1 (documented in docs/validate.md). Fields are only ever added.

use serde::Serialize;

use super::Report;
use crate::diag::{Failure, Severity, Summary};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    summary: Summary,
    inputs: &'a [String],
    /// Inputs that could not be checked (unreadable, not YAML); present only when there are
    /// some, so clean runs keep their exact shape.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failures: &'a [Failure],
    diagnostics: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    code: &'static str,
    rule: &'static str,
    severity: Severity,
    message: &'a str,
    help: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
}

pub fn render(report: &Report<'_>) -> String {
    let diagnostics = report
        .diagnostics
        .iter()
        .map(|d| {
            let loc = d.location.as_ref();
            Item {
                code: d.code,
                rule: d.rule,
                severity: d.severity,
                message: &d.message,
                help: d.help.as_deref(),
                file: loc.map(|l| l.file.as_str()),
                line: loc.map(|l| l.line),
                column: loc.map(|l| l.column),
                end_line: loc.map(|l| l.end_line),
                end_column: loc.map(|l| l.end_column),
            }
        })
        .collect();
    let output = Output {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "metallbctl",
            version: report.tool_version,
        },
        summary: Summary::of(report.diagnostics),
        inputs: report.inputs,
        failures: report.failures,
        diagnostics,
    };
    let mut text = serde_json::to_string_pretty(&output).unwrap_or_default();
    text.push('\n');
    text
}
