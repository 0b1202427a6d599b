//! MetalLB configuration: finding it in YAML inputs, decoding it with positions, and linting it.
//!
//! Pure code: text in, diagnostics out. No file system, no network, no clocks.
//!
//! An input may be a raw configuration body (what goes under `data.config`), or any number of
//! Kubernetes objects (plain manifests, Helm or kustomize output) among which MetalLB ConfigMaps
//! are found; other objects are listed as skipped. Positions always refer to the ORIGINAL file,
//! also inside the `config: |` block scalar.

pub mod addr;
pub mod crd;
pub mod decode;
pub mod duration;
pub mod embed;
pub mod model;
pub mod report;
pub mod rule;
pub mod rules;
pub mod suggest;
pub mod version;
pub mod yaml;

use serde::Serialize;

use crate::diag::{Diagnostic, SourceFile};
use embed::OffsetMap;
use model::Config;
use report::Reporter;
use yaml::Node;

pub use rules::Options;
pub use version::{BgpMode, Version};

/// Top-level keys of a MetalLB configuration body; used to recognise raw bodies.
const CONFIG_KEYS: &[&str] = &["peers", "address-pools", "bgp-communities", "bfd-profiles"];
const METALLB_NAMESPACE: &str = "metallb-system";

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    /// Decide per document: Kubernetes objects or a raw configuration body.
    #[default]
    Auto,
    /// Every document is a raw configuration body.
    Raw,
}

/// Where a configuration was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    ConfigMap {
        namespace: Option<String>,
        name: Option<String>,
    },
    Raw,
}

/// A configuration found in an input, decoded.
#[derive(Debug, Clone)]
pub struct FoundConfig {
    pub origin: Origin,
    /// 1-based line where the document or ConfigMap starts.
    pub line: usize,
    pub config: Config,
}

/// A document that was not linted, and why (shown under `-v`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub line: usize,
    pub what: String,
    pub reason: String,
}

/// Everything learned from one input file.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub configs: Vec<FoundConfig>,
    /// MetalLB custom resources (and Secrets, for `passwordSecret`), checked together across
    /// all inputs by [`crd::lint`].
    pub crds: Vec<crd::Document>,
    pub skipped: Vec<Skipped>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The input itself is not YAML: the run cannot go on for this file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: not valid YAML: {message}")]
pub struct InputError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Find, decode and lint every MetalLB configuration in one file.
pub fn lint(
    file: &SourceFile,
    kind: InputKind,
    options: &Options,
) -> Result<FileReport, InputError> {
    let documents = yaml::parse_stream(&file.text).map_err(|e| {
        let (line, column) = file.line_col(e.offset);
        InputError {
            file: file.name.clone(),
            line,
            column,
            message: e.message,
        }
    })?;
    let mut reporter = Reporter::new(file);
    let mut report = FileReport::default();
    if documents.is_empty() && kind == InputKind::Raw {
        let empty = Node {
            value: yaml::Value::Scalar {
                text: String::new(),
                style: yaml::Style::Plain,
            },
            span: 0..0,
        };
        lint_body(
            &empty,
            &OffsetMap::Identity,
            Origin::Raw,
            options,
            &mut reporter,
            &mut report,
        );
    }
    for doc in documents {
        match kind {
            InputKind::Raw => lint_body(
                &doc,
                &OffsetMap::Identity,
                Origin::Raw,
                options,
                &mut reporter,
                &mut report,
            ),
            // A custom resource at the top level moves to the CRD front end without a copy.
            InputKind::Auto if is_crd(&doc) => {
                let line = reporter.file().line_col(doc.span.start).0;
                report.crds.push(crd::Document { node: doc, line });
            }
            InputKind::Auto => classify(&doc, options, &mut reporter, &mut report),
        }
    }
    report.diagnostics = reporter.diagnostics;
    Ok(report)
}

/// A `metallb.io` object (anything else, Secrets included, goes through [`classify`]).
fn is_crd(doc: &Node) -> bool {
    doc.get("apiVersion")
        .and_then(Node::as_scalar)
        .is_some_and(|a| a.starts_with("metallb.io/"))
        && doc.get("kind").and_then(Node::as_scalar).is_some()
}

fn classify(doc: &Node, options: &Options, reporter: &mut Reporter<'_>, report: &mut FileReport) {
    let line = reporter.file().line_col(doc.span.start).0;
    if doc.is_null() {
        return;
    }
    let Some(kind) = doc.get("kind").and_then(Node::as_scalar) else {
        if doc.as_map().is_some_and(|m| {
            m.iter()
                .any(|(k, _)| k.as_scalar().is_some_and(|k| CONFIG_KEYS.contains(&k)))
        }) {
            lint_body(
                doc,
                &OffsetMap::Identity,
                Origin::Raw,
                options,
                reporter,
                report,
            );
        } else {
            report.skipped.push(Skipped {
                line,
                what: "document".into(),
                reason: "neither a Kubernetes object nor a MetalLB configuration body (use --raw to lint it as one)".into(),
            });
        }
        return;
    };
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar);
    let namespace = doc
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_scalar);
    let what = format!("{kind} {}", name.unwrap_or("<unnamed>"));
    match kind {
        "List" => {
            for item in doc.get("items").and_then(Node::as_seq).unwrap_or_default() {
                classify(item, options, reporter, report);
            }
        }
        "ConfigMap" => {
            let Some(body) = doc.get("data").and_then(|d| d.get("config")) else {
                report.skipped.push(Skipped {
                    line,
                    what,
                    reason: "ConfigMap without data.config".into(),
                });
                return;
            };
            let named_like_metallb =
                namespace == Some(METALLB_NAMESPACE) || name.is_some_and(|n| n.contains("metallb"));
            if !named_like_metallb && !body_has_config_keys(body) {
                report.skipped.push(Skipped {
                    line,
                    what,
                    reason: "ConfigMap whose data.config is not a MetalLB configuration".into(),
                });
                return;
            }
            let origin = Origin::ConfigMap {
                namespace: namespace.map(str::to_string),
                name: name.map(str::to_string),
            };
            lint_embedded(body, origin, line, options, reporter, report);
        }
        _ => {
            let api = doc
                .get("apiVersion")
                .and_then(Node::as_scalar)
                .unwrap_or_default();
            if crd::wants(api, kind) {
                report.crds.push(crd::Document {
                    node: doc.clone(),
                    line,
                });
            }
            if !api.starts_with("metallb.io/") {
                report.skipped.push(Skipped {
                    line,
                    what,
                    reason: "not a MetalLB configuration".into(),
                });
            }
        }
    }
}

fn body_has_config_keys(body: &Node) -> bool {
    let Some(text) = body.as_scalar() else {
        return false;
    };
    match yaml::parse_stream(text) {
        Ok(docs) => docs.first().and_then(Node::as_map).is_some_and(|m| {
            m.iter()
                .any(|(k, _)| k.as_scalar().is_some_and(|k| CONFIG_KEYS.contains(&k)))
        }),
        Err(_) => false,
    }
}

/// A ConfigMap's `data.config` string: parse it as its own YAML, mapping positions back.
fn lint_embedded(
    body: &Node,
    origin: Origin,
    line: usize,
    options: &Options,
    reporter: &mut Reporter<'_>,
    report: &mut FileReport,
) {
    let outer_text = &reporter.file().text;
    let map = embed::map_scalar(outer_text, body);
    let Some(text) = body.as_scalar() else {
        let span = body.span.clone();
        reporter
            .report(
                rule::WRONG_TYPE,
                span,
                format!("data.config must be a string, found {}", body.kind_name()),
            )
            .with_help(
                "write the configuration as a block: `config: |` followed by the indented YAML",
            );
        return;
    };
    match yaml::parse_stream(text) {
        Err(e) => {
            let at = map.map(e.offset);
            reporter
                .report(
                    rule::YAML_SYNTAX,
                    at..at,
                    format!("could not parse config: {}", e.message),
                )
                .with_help("MetalLB rejects the whole configuration when it is not valid YAML");
        }
        Ok(docs) => {
            let null = Node {
                value: yaml::Value::Scalar {
                    text: String::new(),
                    style: yaml::Style::Plain,
                },
                span: 0..0,
            };
            let root = docs.first().unwrap_or(&null);
            decode_and_check(root, &map, origin, line, options, reporter, report);
        }
    }
}

fn lint_body(
    doc: &Node,
    map: &OffsetMap,
    origin: Origin,
    options: &Options,
    reporter: &mut Reporter<'_>,
    report: &mut FileReport,
) {
    let line = reporter.file().line_col(doc.span.start).0;
    decode_and_check(doc, map, origin, line, options, reporter, report);
}

fn decode_and_check(
    root: &Node,
    map: &OffsetMap,
    origin: Origin,
    line: usize,
    options: &Options,
    reporter: &mut Reporter<'_>,
    report: &mut FileReport,
) {
    let config = decode::Decoder::new(reporter, map, options.target).config(root);
    rules::check(&config, options, reporter);
    report.configs.push(FoundConfig {
        origin,
        line,
        config,
    });
}

/// Lint a configuration body given as a string (what a ConfigMap's `data.config` holds), with
/// positions relative to that string. Used by the dry run and the MetalLB controller.
pub fn lint_body_text(
    name: &str,
    text: &str,
    options: &Options,
) -> (Option<Config>, Vec<Diagnostic>) {
    let file = SourceFile::new(name, text);
    match lint(&file, InputKind::Raw, options) {
        Ok(mut report) => (report.configs.pop().map(|c| c.config), report.diagnostics),
        Err(e) => {
            let mut reporter = Reporter::new(&file);
            let at = file.offset_of(e.line, e.column.saturating_sub(1));
            reporter.report(
                rule::YAML_SYNTAX,
                at..at,
                format!("could not parse config: {}", e.message),
            );
            (None, reporter.diagnostics)
        }
    }
}

#[cfg(test)]
mod tests;
