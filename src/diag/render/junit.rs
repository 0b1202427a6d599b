//! JUnit XML, for CI systems that show test reports. One test suite per input file; each error
//! is a failing test case, warnings and advice are passing cases with their text as output, and
//! a clean file is one passing case.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::diag::{Diagnostic, Severity};

pub fn render(report: &Report<'_>) -> String {
    let mut by_file: BTreeMap<&str, Vec<&Diagnostic>> = report
        .inputs
        .iter()
        .filter(|i| !report.failures.iter().any(|f| f.file == **i))
        .map(|i| (i.as_str(), Vec::new()))
        .collect();
    for d in report.diagnostics {
        let file = d.location.as_ref().map_or("<input>", |l| l.file.as_str());
        by_file.entry(file).or_default().push(d);
    }
    let total_cases: usize = by_file.values().map(|ds| ds.len().max(1)).sum();
    let failures = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let errors = report.failures.len();
    let total_cases = total_cases + errors;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"metallbctl validate\" tests=\"{total_cases}\" failures=\"{failures}\" errors=\"{errors}\">");
    for f in report.failures {
        // An input that could not be checked is an errored test, not a failed one.
        let _ = writeln!(
            out,
            "  <testsuite name=\"{0}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"metallb configuration\" classname=\"{0}\">\n      <error message=\"{1}\" type=\"input\">{1}</error>\n    </testcase>\n  </testsuite>",
            escape(&f.file),
            escape(&f.to_string())
        );
    }
    for (file, diagnostics) in by_file {
        suite(&mut out, file, &diagnostics);
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite(out: &mut String, file: &str, diagnostics: &[&Diagnostic]) {
    let failures = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let tests = diagnostics.len().max(1);
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        escape(file)
    );
    if diagnostics.is_empty() {
        let _ = writeln!(
            out,
            "    <testcase name=\"metallb configuration\" classname=\"{}\"/>",
            escape(file)
        );
    }
    for d in diagnostics {
        let position = d
            .location
            .as_ref()
            .map(|l| format!(" at {}:{}", l.line, l.column))
            .unwrap_or_default();
        let name = format!("{} {}{position}", d.code, d.rule);
        let _ = writeln!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\">",
            escape(&name),
            escape(file)
        );
        let mut body = d.message.clone();
        if let Some(help) = &d.help {
            body.push_str("\nhelp: ");
            body.push_str(help);
        }
        if d.severity == Severity::Error {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&d.message),
                d.code,
                escape(&body)
            );
        } else {
            let _ = writeln!(
                out,
                "      <system-out>{}: {}</system-out>",
                d.severity.as_str(),
                escape(&body)
            );
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

/// XML text and attribute escaping; control characters XML 1.0 forbids are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
