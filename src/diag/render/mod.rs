//! Renderers: diagnostics in, text out. Each format is a pure function over the run's report.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use super::{Diagnostic, Failure, Sources};

/// Everything a renderer needs about one run.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    /// Every input that was checked, including clean ones (JUnit lists them as passing).
    pub inputs: &'a [String],
    /// Inputs that could not be checked at all.
    pub failures: &'a [Failure],
    pub tool_version: &'a str,
}
