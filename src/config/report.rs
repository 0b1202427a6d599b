//! Collecting diagnostics against one source file.

use std::ops::Range;

use super::rule::Rule;
use crate::diag::{Diagnostic, Severity, SourceFile};

/// Turns rule hits with byte spans into [`Diagnostic`]s located in one file.
pub struct Reporter<'a> {
    file: &'a SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a SourceFile) -> Self {
        Reporter {
            file,
            diagnostics: Vec::new(),
        }
    }

    pub fn file(&self) -> &'a SourceFile {
        self.file
    }

    /// Record a finding at its rule's default severity; returns it so callers can add help.
    pub fn report(
        &mut self,
        rule: Rule,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.report_as(rule, rule.severity, span, message)
    }

    pub fn report_as(
        &mut self,
        rule: Rule,
        severity: Severity,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let location = Some(self.file.location(span));
        self.diagnostics.push(Diagnostic {
            code: rule.code,
            rule: rule.name,
            severity,
            message: message.into(),
            location,
            help: None,
            label: None,
        });
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }
}

impl Diagnostic {
    pub fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }
}
