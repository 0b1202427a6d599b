//! Human output in the style of rustc: a header, the location, the source line with a caret
//! under the offending text, and the help.

use std::fmt::Write;

use super::Report;
use crate::diag::{Diagnostic, Severity, SourceFile, Summary};

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
}

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, text)
    }
    fn frame(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

pub fn render(report: &Report<'_>, options: TextOptions) -> String {
    let palette = Palette {
        color: options.color,
    };
    let mut out = String::new();
    for d in report.diagnostics {
        one(&mut out, d, report, &palette);
    }
    out
}

/// The closing line: `2 errors, 1 warning in 3 files` or `no problems in 1 file`.
pub fn summary_line(summary: Summary, files: usize) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let files = plural(files, "file");
    if summary.errors + summary.warnings + summary.infos == 0 {
        return format!("no problems found in {files}");
    }
    let mut parts = vec![
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
    ];
    if summary.infos > 0 {
        parts.push(format!("{} info", summary.infos));
    }
    format!("{} in {files}", parts.join(", "))
}

fn one(out: &mut String, d: &Diagnostic, report: &Report<'_>, p: &Palette) {
    let head = p.severity(d.severity, &format!("{}[{}]", d.severity.as_str(), d.code));
    let _ = writeln!(out, "{head}: {}", p.bold(&d.message));
    let Some(loc) = &d.location else {
        if let Some(help) = &d.help {
            let _ = writeln!(out, "  {} help: {help}", p.frame("="));
        }
        out.push('\n');
        return;
    };
    let source = report.sources.get(&loc.file);
    let gutter = source.map_or(1, |_| loc.end_line.to_string().len());
    let pad = " ".repeat(gutter);
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        p.frame("-->"),
        loc.file,
        loc.line,
        loc.column
    );
    if let Some(file) = source {
        snippet(out, d, file, gutter, p);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} {} help: {help}", p.frame("="));
    }
    out.push('\n');
}

fn snippet(out: &mut String, d: &Diagnostic, file: &SourceFile, gutter: usize, p: &Palette) {
    let Some(loc) = &d.location else { return };
    let pad = " ".repeat(gutter);
    let bar = p.frame("|");
    let line_text = file.line(loc.line);
    let _ = writeln!(out, "{pad} {bar}");
    let number = p.frame(&format!("{:>gutter$}", loc.line));
    let _ = writeln!(out, "{number} {bar} {}", line_text.replace('\t', " "));
    // Underline to the end of the span on the first line (at least one caret).
    let width = line_text.chars().count();
    let start = loc.column.saturating_sub(1).min(width);
    let end = if loc.end_line == loc.line {
        loc.end_column.saturating_sub(1)
    } else {
        width
    };
    let carets = end.saturating_sub(start).max(1);
    let marks = p.severity(d.severity, &"^".repeat(carets));
    let label = d
        .label
        .as_deref()
        .map(|l| format!(" {}", p.severity(d.severity, l)))
        .unwrap_or_default();
    let _ = writeln!(out, "{pad} {bar} {}{marks}{label}", " ".repeat(start));
}
