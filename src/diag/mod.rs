//! Diagnostics as data.
//!
//! Every finding is a [`Diagnostic`]: a stable rule code, a severity, a message, a location in the
//! ORIGINAL file (byte range plus 1-based line and column), and an optional help text. Rules only
//! produce these values; the renderers in [`render`] turn them into text, JSON, GitHub
//! annotations, SARIF or JUnit. Nothing in here prints. No I/O, no tokio, no kube.

pub mod render;
pub mod source;

use serde::Serialize;

pub use source::{SourceFile, Sources};

/// How bad a finding is. `Error` means MetalLB would reject the configuration (or it cannot work
/// as written); `Warning` means it is accepted but very likely not what was meant; `Info` is
/// advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A position in a source file. Lines and columns are 1-based; columns count Unicode scalar
/// values, as editors and SARIF's `unicodeCodePoints` column kind do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    /// Byte range in the original file.
    #[serde(skip)]
    pub span: std::ops::Range<usize>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code such as `MLB013`; documented in docs/rules.md.
    pub code: &'static str,
    /// Stable kebab-case name of the rule, such as `hold-time-without-unit`.
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where it is; `None` for findings about a whole input that has no position.
    pub location: Option<Location>,
    /// What to do about it.
    pub help: Option<String>,
    /// A short label shown under the caret in text output.
    pub label: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A rule's identity, as renderers need it (SARIF lists rules with their descriptions).
/// An input the run could not check (not readable, not UTF-8, not YAML): a tool-execution
/// failure rather than a finding; the run exits 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The input, as given (`<stdin>` for standard input).
    pub file: String,
    /// 1-based position of the problem, when there is one (YAML syntax errors).
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What went wrong, without the file name.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

/// Counts by severity, for summaries and exit codes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}
