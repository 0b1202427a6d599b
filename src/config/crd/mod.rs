//! MetalLB's custom resources (v0.13 to v0.16): the second front end of `validate`.
//!
//! `config::lint` finds the `metallb.io` objects (and Secrets, for `passwordSecret`) among the
//! documents of each file; [`lint`] then decodes them all together, because one object refers to
//! another across files (a kustomize directory keeps pools and advertisements apart). The inputs
//! are joined into one text so that the decoder and the ConfigMap rules, which work on one text,
//! run unchanged; every finding is mapped back to its own file afterwards.
//!
//! Checks: the CRD schema (types, ranges, enums, required fields, fields newer than the target),
//! the admission webhooks' cross-object checks, and the ConfigMap rules where they apply
//! (`to_model` fills the ConfigMap model). Pure code.

pub mod convert;
pub mod crd_release;
pub mod model;
pub mod rules;
mod schema;
mod to_model;

pub use to_model::crd_help;

use std::ops::Range;

use super::decode::{Decoder, Record};
use super::embed::OffsetMap;
use super::report::Reporter;
use super::rule;
use super::suggest::did_you_mean;
use super::version::{BgpMode, Version};
use super::yaml::Node;
use crate::diag::{Diagnostic, SourceFile};
use model::*;

/// MetalLB's namespace, where the webhooks require every object to be.
pub const NAMESPACE: &str = "metallb-system";

/// One document of a file that the CRD front end reads: a `metallb.io` object or a Secret.
#[derive(Debug, Clone)]
pub struct Document {
    pub node: Node,
    /// 1-based line where the document starts.
    pub line: usize,
}

impl Document {
    /// A `metallb.io` object (rather than a Secret).
    pub fn is_metallb(&self) -> bool {
        scalar(&self.node, "apiVersion").is_some_and(|a| a.starts_with("metallb.io/"))
    }
}

/// What one file contributes.
pub struct Input<'a> {
    pub file: &'a SourceFile,
    pub documents: &'a [Document],
    /// Lines where MetalLB ConfigMaps (or raw configuration bodies) start in this file.
    pub configmaps: Vec<usize>,
}

/// A MetalLB object found, for `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub file: String,
    pub line: usize,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub found: Vec<Found>,
    /// The objects mapped onto the ConfigMap model (`None` when there were no objects, or the
    /// target release does not read them).
    pub config: Option<super::model::Config>,
}

/// A kind of `metallb.io`, the versions served, and the releases that serve it.
struct KindInfo {
    kind: &'static str,
    versions: &'static [&'static str],
    since: Version,
    /// The last release that serves it.
    until: Option<Version>,
    /// Objects MetalLB writes itself: nothing to validate.
    status_only: bool,
}

const KINDS: &[KindInfo] = &[
    kind("IPAddressPool", &["v1beta1"], 13, None, false),
    kind("BGPPeer", &["v1beta2", "v1beta1"], 13, None, false),
    kind("BGPAdvertisement", &["v1beta1"], 13, None, false),
    kind("L2Advertisement", &["v1beta1"], 13, None, false),
    kind("Community", &["v1beta1"], 13, None, false),
    kind("BFDProfile", &["v1beta1"], 13, None, false),
    kind("AddressPool", &["v1beta1", "v1alpha1"], 13, Some(13), false),
    kind("ServiceL2Status", &["v1beta1"], 14, None, true),
    kind("ServiceBGPStatus", &["v1beta1"], 15, None, true),
    kind("ConfigurationState", &["v1beta1"], 15, None, true),
];

const fn kind(
    kind: &'static str,
    versions: &'static [&'static str],
    since: u8,
    until: Option<u8>,
    status_only: bool,
) -> KindInfo {
    KindInfo {
        kind,
        versions,
        since: Version::v0(since),
        until: match until {
            Some(u) => Some(Version::v0(u)),
            None => None,
        },
        status_only,
    }
}

/// Whether `config::lint` should hand this document to the CRD front end.
pub fn wants(api_version: &str, kind: &str) -> bool {
    api_version.starts_with("metallb.io/") || (api_version == "v1" && kind == "Secret")
}

/// Decode and check every MetalLB object of every input together.
pub fn lint(inputs: &[Input<'_>], target: Option<Version>, mode: BgpMode) -> Report {
    let (joined, bases) = join(inputs);
    let mut reporter = Reporter::new(&joined);
    let mut report = Report::default();
    let crd_target = target.unwrap_or(Version::NEWEST);
    let mut objects = Vec::new();
    let mut secrets: Vec<(String, Option<String>, Secret)> = Vec::new();
    let mut first_object: Option<Range<usize>> = None;
    for (input, &base) in inputs.iter().zip(&bases) {
        let map = OffsetMap::Shift(base);
        for doc in input.documents {
            let api = scalar(&doc.node, "apiVersion").unwrap_or_default();
            let kind = scalar(&doc.node, "kind").unwrap_or_default();
            if api == "v1" && kind == "Secret" {
                secrets.push(secret(&doc.node));
                continue;
            }
            first_object.get_or_insert_with(|| map.map_span(&doc.node.span));
            if crd_target < Version::FIRST_CRD {
                continue;
            }
            let mut decoder = Decoder::new(&mut reporter, &map, crd_target).strict_strings();
            if let Some(object) = decode_object(&mut decoder, &doc.node, api, kind, crd_target) {
                report.found.push(Found {
                    file: input.file.name.clone(),
                    line: doc.line,
                    what: format!("{} {}", object.kind, object.name_str()),
                });
                objects.push(object);
            }
        }
    }
    let any_object = first_object.is_some();
    formats(inputs, &bases, target, first_object, &mut reporter);
    if crd_target >= Version::FIRST_CRD && any_object {
        let options = super::Options {
            target: crd_target,
            mode,
        };
        let selection = to_model::selection(&objects);
        rules::check(&objects, &selection, &secrets, &options, &mut reporter);
        let config = to_model::config(&objects, &selection, joined.text.len());
        let mut model = Reporter::new(&joined);
        super::rules::check(&config, &options, &mut model);
        let exempt = to_model::exempt(&objects);
        let mut seen = std::collections::HashSet::new();
        for mut d in model.diagnostics {
            let span = d.location.as_ref().map(|l| l.span.clone());
            if to_model::NOT_FOR_CRDS.contains(&d.code)
                || exempt
                    .iter()
                    .any(|(c, s)| *c == d.code && Some(s) == span.as_ref())
            {
                continue;
            }
            d.help = d.help.as_deref().map(to_model::crd_help);
            // An advertisement that selects several pools is checked once per pool.
            if seen.insert((d.code, span, d.message.clone())) {
                reporter.diagnostics.push(d);
            }
        }
        report.config = Some(config);
    }
    report.diagnostics = reporter
        .diagnostics
        .into_iter()
        .map(|d| relocate(d, inputs, &bases))
        .collect();
    report
}

/// MLB210 and MLB211: which format the target reads.
fn formats(
    inputs: &[Input<'_>],
    bases: &[usize],
    target: Option<Version>,
    first_object: Option<Range<usize>>,
    r: &mut Reporter<'_>,
) {
    let configmap = inputs.iter().zip(bases).find_map(|(input, &base)| {
        input.configmaps.first().map(|&line| {
            let at = base + input.file.offset_of(line, 0);
            (at..at, input.file.name.clone(), line)
        })
    });
    match (configmap, first_object, target) {
        (Some((_, file, line)), Some(object), _) => {
            let used = match target {
                Some(t) if t < Version::FIRST_CRD => format!("MetalLB {t} reads only the ConfigMap and ignores the custom resources"),
                Some(t) => format!("MetalLB {t} reads only the custom resources and ignores the ConfigMap"),
                None => "MetalLB v0.13 and later read only the custom resources and ignore the ConfigMap; v0.12 and earlier read only the ConfigMap".into(),
            };
            r.report(
                rule::MIXED_FORMATS,
                object,
                format!("this input holds both a MetalLB ConfigMap ({file}:{line}) and MetalLB custom resources: {used}"),
            )
            .with_help("keep one format: `metallbctl convert` turns the ConfigMap into custom resources");
        }
        (Some((at, _, _)), None, Some(t)) if t >= Version::FIRST_CRD => {
            r.report(
                rule::FORMAT_NOT_READ,
                at,
                format!("MetalLB {t} does not read the ConfigMap (only v0.6 to v0.12 do): this configuration would be ignored"),
            )
            .with_help("convert it to custom resources (`metallbctl convert`), or pass the --target-version the cluster runs");
        }
        (None, Some(object), Some(t)) if t < Version::FIRST_CRD => {
            r.report(
                rule::FORMAT_NOT_READ,
                object,
                format!("MetalLB {t} does not read custom resources (v0.13 and later do): these objects would be ignored"),
            )
            .with_help("pass --target-version v0.13 or later, or write a ConfigMap for this release");
        }
        _ => {}
    }
}

/// Move a finding from the joined text to its own file.
/// The inputs joined into one text, as [`lint`] sees them (the spans of [`Report::config`] point
/// into it), and where each input starts.
pub fn join(inputs: &[Input<'_>]) -> (SourceFile, Vec<usize>) {
    let mut text = String::new();
    let mut bases = Vec::with_capacity(inputs.len());
    for input in inputs {
        bases.push(text.len());
        text.push_str(&input.file.text);
        text.push('\n');
    }
    (SourceFile::new("<custom resources>", text), bases)
}

/// Move a finding located in the joined text of [`join`] back to its own input.
pub fn relocate(mut d: Diagnostic, inputs: &[Input<'_>], bases: &[usize]) -> Diagnostic {
    if let Some(loc) = &d.location {
        let i = bases
            .partition_point(|&b| b <= loc.span.start)
            .saturating_sub(1);
        if let (Some(input), Some(&base)) = (inputs.get(i), bases.get(i)) {
            let len = input.file.text.len();
            let start = (loc.span.start - base).min(len);
            let end = loc.span.end.saturating_sub(base).clamp(start, len);
            d.location = Some(input.file.location(start..end));
        }
    }
    d
}

fn scalar<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key).and_then(Node::as_scalar)
}

fn secret(node: &Node) -> (String, Option<String>, Secret) {
    let meta = node.get("metadata");
    let name = meta.and_then(|m| scalar(m, "name")).unwrap_or_default();
    let namespace = meta.and_then(|m| scalar(m, "namespace")).map(String::from);
    let mut keys = Vec::new();
    for field in ["data", "stringData"] {
        for (k, _) in node.get(field).and_then(Node::as_map).unwrap_or_default() {
            if let Some(k) = k.as_scalar() {
                keys.push(k.to_string());
            }
        }
    }
    let type_ = scalar(node, "type").map(String::from);
    (name.to_string(), namespace, Secret { type_, keys })
}

const TOP_LEVEL: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];

/// The object's header, then its spec through the kind's field table.
fn decode_object(
    d: &mut Decoder<'_, '_>,
    node: &Node,
    api: &str,
    kind: &str,
    target: Version,
) -> Option<Object> {
    let version = api.strip_prefix("metallb.io/").unwrap_or(api);
    let kind_node = node.get("kind").unwrap_or(node);
    let Some(info) = KINDS.iter().find(|k| k.kind == kind) else {
        let served = KINDS
            .iter()
            .filter(|k| k.since <= target && k.until.is_none_or(|u| u >= target) && !k.status_only)
            .map(|k| k.kind);
        let message = if kind.is_empty() {
            format!("a {api} object without a kind")
        } else {
            format!("no kind {kind:?} in group metallb.io")
        };
        let near = did_you_mean(kind, served);
        let d = d.report(rule::UNKNOWN_KIND, kind_node, message);
        match near {
            Some(near) => d.with_help(format!("did you mean {near:?}?")),
            None => d.with_help("MetalLB's kinds are IPAddressPool, BGPPeer, BGPAdvertisement, L2Advertisement, Community and BFDProfile"),
        };
        return None;
    };
    let api_node = node.get("apiVersion").unwrap_or(node);
    if !info.versions.contains(&version) {
        d.report(
            rule::UNKNOWN_KIND,
            api_node,
            format!("no matches for kind {kind:?} in version {api:?}"),
        )
        .with_help(format!(
            "{kind} is served as metallb.io/{}",
            info.versions[0]
        ));
        return None;
    }
    if info.status_only {
        return None;
    }
    if info.since > target {
        d.report(
            rule::KIND_REMOVED,
            kind_node,
            format!(
                "{kind} requires MetalLB {} or later (target is {target})",
                info.since
            ),
        );
        return None;
    }
    if let Some(until) = info.until.filter(|&u| u < target) {
        d.report(
            rule::KIND_REMOVED,
            kind_node,
            format!(
                "{kind} was removed in MetalLB v0.{} (target is {target}); the last release to serve it is {until}",
                until.minor + 1
            ),
        )
        .with_help("write an IPAddressPool plus a BGPAdvertisement or L2Advertisement instead (`metallbctl convert` does it for a ConfigMap)");
        return None;
    }
    if kind == "AddressPool" {
        d.report(
            rule::DEPRECATED_API,
            kind_node,
            format!("metallb.io {version} AddressPool is deprecated, consider using IPAddressPool"),
        )
        .with_help("v0.14 removes AddressPool: write an IPAddressPool plus an advertisement");
    } else if kind == "BGPPeer" && version == "v1beta1" && target >= Version::v0(14) {
        d.report(
            rule::DEPRECATED_API,
            api_node,
            "v1beta1 is deprecated, please use v1beta2".into(),
        )
        .with_help("change apiVersion to metallb.io/v1beta2: the fields are the same, and nodeSelectors become Kubernetes label selectors");
    }
    if let Some(map) = node.as_map() {
        let mut seen: Vec<&str> = Vec::new();
        for (k, _) in map {
            let Some(key) = k.as_scalar() else { continue };
            if seen.contains(&key) {
                d.report(
                    rule::DUPLICATE_KEY,
                    k,
                    format!("key {key:?} already set in map"),
                )
                .with_help(
                    "two objects without `---` between them? kubectl refuses duplicate keys",
                );
                continue;
            }
            seen.push(key);
            if !TOP_LEVEL.contains(&key) {
                let near = did_you_mean(key, TOP_LEVEL.iter().copied());
                let d = d.report(
                    rule::UNKNOWN_FIELD,
                    k,
                    format!("unknown field {key:?} in {kind}"),
                );
                if let Some(near) = near {
                    d.with_help(format!("did you mean {near:?}?"));
                }
            }
        }
    }
    let meta = node.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(|n| d.string(n, "metadata.name"));
    if name.is_none() {
        let at = meta.unwrap_or(node);
        d.report(
            rule::MISSING_FIELD,
            at,
            format!("{kind} has no metadata.name"),
        );
    }
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(|n| d.string(n, "metadata.namespace"));
    let labels = meta
        .and_then(|m| m.get("labels"))
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_scalar()?.to_string(), v.as_scalar()?.to_string())))
        .collect();
    let spec_node = node.get("spec").filter(|s| !s.is_null());
    let spec = match kind {
        "IPAddressPool" => Spec::Pool(spec_of(d, spec_node, kind)),
        "BGPPeer" if version == "v1beta1" => {
            Spec::Peer(Box::new(spec_of::<PeerSpecV1beta1>(d, spec_node, kind).0))
        }
        "BGPPeer" => Spec::Peer(Box::new(spec_of(d, spec_node, kind))),
        "BGPAdvertisement" => Spec::BgpAdvertisement(spec_of(d, spec_node, kind)),
        "L2Advertisement" => Spec::L2Advertisement(spec_of(d, spec_node, kind)),
        "Community" => Spec::Community(spec_of(d, spec_node, kind)),
        "BFDProfile" => Spec::Bfd(spec_of(d, spec_node, kind)),
        _ => Spec::AddressPool(spec_of(d, spec_node, kind)),
    };
    let required_spec = matches!(kind, "IPAddressPool" | "BGPPeer" | "AddressPool");
    if spec_node.is_none() && required_spec {
        d.report(
            rule::MISSING_FIELD,
            kind_node,
            format!(
                "{kind} {} has no spec, which is required",
                name.as_ref().map_or("", |n| n.value.as_str())
            ),
        );
    }
    Some(Object {
        span: d.span(node),
        kind: info.kind,
        api_version: Spanned::new(api.to_string(), d.span(api_node)),
        name,
        namespace,
        labels,
        spec,
    })
}

use super::model::Spanned;

fn spec_of<T: Record>(d: &mut Decoder<'_, '_>, spec: Option<&Node>, kind: &str) -> T {
    match spec {
        Some(node) => d.record(node, &format!("{kind} spec")),
        None => T::default(),
    }
}

#[cfg(test)]
mod tests;
