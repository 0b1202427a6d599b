//! GitHub Actions workflow commands: one `::error file=…,line=…,col=…::message` per finding,
//! which GitHub shows as annotations on the pull request's diff.

use std::fmt::Write;

use super::Report;
use crate::diag::Severity;

pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for f in report.failures {
        let mut props = vec![format!("file={}", property(&f.file))];
        if let (Some(line), Some(col)) = (f.line, f.column) {
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
        }
        props.push("title=metallbctl could not check this file".into());
        let _ = writeln!(out, "::error {}::{}", props.join(","), data(&f.to_string()));
    }
    for d in report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = &d.location {
            props.push(format!("file={}", property(&loc.file)));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.column));
            props.push(format!("endLine={}", loc.end_line));
            props.push(format!("endColumn={}", loc.end_column));
        }
        props.push(format!(
            "title={}",
            property(&format!("{} {}", d.code, d.rule))
        ));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(out, "::{command} {}::{}", props.join(","), data(&message));
    }
    out
}

/// Escaping for the message part of a workflow command.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping for a property value, which also may not contain `:` or `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
