//! From a spanned YAML tree to the [`Config`] model, checking structure the way MetalLB's strict
//! YAML decoding does: unknown keys (with a did-you-mean), wrong types, duplicate keys, and
//! fields newer than the target release. Semantic checks live in `rules`.

use std::ops::Range;

use super::embed::OffsetMap;
use super::model::*;
use super::report::Reporter;
use super::rule::{self, Rule};
use super::suggest::did_you_mean;
use super::version::Version;
use super::yaml::{Node, Style, Value};

/// How one field's value is decoded into the struct `T`: the decoder, the struct, the value
/// node and the key (for messages).
pub(super) type DecodeFn<T> = fn(&mut Decoder<'_, '_>, &mut T, &Node, &'static str);

/// One key a mapping of type `T` may hold (or once held). Every struct's keys are declared once,
/// in its [`Record::FIELDS`] table, and every check reads that table: known keys and their
/// decoders, the target-version check, the did-you-mean candidates, the retired-key notes.
pub(super) struct Field<T> {
    key: &'static str,
    kind: FieldKind<T>,
}

pub(super) enum FieldKind<T> {
    /// A field of the current schema, introduced in MetalLB `since`. A live field cannot be
    /// declared without its decoder.
    Live { since: Version, decode: DecodeFn<T> },
    /// A key of an older release, no longer accepted; the note says what replaced it.
    Retired { note: &'static str },
}

impl<T> Field<T> {
    /// The key.
    pub(super) fn key(&self) -> &'static str {
        self.key
    }

    /// The release that introduced a live field (`None` for a retired key).
    pub(super) fn since(&self) -> Option<Version> {
        match self.kind {
            FieldKind::Live { since, .. } => Some(since),
            FieldKind::Retired { .. } => None,
        }
    }
}

/// A live field since MetalLB v0.`since`.
pub(super) const fn live<T>(key: &'static str, since: u8, decode: DecodeFn<T>) -> Field<T> {
    Field {
        key,
        kind: FieldKind::Live {
            since: Version::v0(since),
            decode,
        },
    }
}

/// A key that older releases had here.
pub(super) const fn retired<T>(key: &'static str, note: &'static str) -> Field<T> {
    Field {
        key,
        kind: FieldKind::Retired { note },
    }
}

/// A configuration struct decoded from a YAML mapping through its field table.
pub(super) trait Record: Default + 'static {
    /// The keys of this mapping, in the order MetalLB's Go struct declares them.
    const FIELDS: &'static [Field<Self>];
    /// Where the whole mapping sits in the file.
    fn span_mut(&mut self) -> &mut Range<usize>;
}

/// `impl Record for T { const FIELDS = [...]; }` with the span accessor every model struct
/// has.
macro_rules! record {
    ($t:ty, $fields:expr) => {
        impl Record for $t {
            const FIELDS: &'static [Field<Self>] = $fields;
            fn span_mut(&mut self) -> &mut Range<usize> {
                &mut self.span
            }
        }
    };
}

pub(super) use record;

/// Decode `value` into `out` with `T`'s own decoder for `key`: the decoder of a table that
/// shares another's keys (BGPPeer v1beta1 holds a subset of v1beta2's), declared once there.
/// A key `T` lacks leaves `out` as it is.
pub(super) fn decode_as<T: Record>(
    d: &mut Decoder<'_, '_>,
    out: &mut T,
    value: &Node,
    key: &'static str,
) {
    let decode = T::FIELDS.iter().find_map(|f| match f.kind {
        FieldKind::Live { decode, .. } if f.key == key => Some(decode),
        _ => None,
    });
    if let Some(decode) = decode {
        decode(d, out, value, key);
    }
}

/// The value of a field that holds an unsigned number of Go type `T` (`u16`, `u32`).
pub(super) fn unsigned<T: TryFrom<i64>>(
    d: &mut Decoder<'_, '_>,
    v: &Node,
    key: &str,
) -> Option<Spanned<T>> {
    d.uint(v, key).and_then(|n| d.narrow(n, key))
}

record!(
    Config,
    &[
        live("peers", 1, |d, c, v, k| {
            c.peers = d.list(v, k, |d, n, i| d.item(n, &format!("peer #{i}")));
        }),
        live("bgp-communities", 3, |d, c, v, k| {
            c.communities = d
                .string_map(v, k)
                .into_iter()
                .map(|(name, value)| CommunityAlias { name, value })
                .collect();
        }),
        live("address-pools", 1, |d, c, v, k| {
            c.pools = d.list(v, k, |d, n, i| d.item(n, &format!("address pool #{i}")));
        }),
        live("bfd-profiles", 12, |d, c, v, k| {
            c.bfd_profiles = d.list(v, k, |d, n, i| d.item(n, &format!("BFD profile #{i}")));
        }),
        retired(
            "communities",
            "the top-level `communities` map was renamed to `bgp-communities` in MetalLB v0.3",
        ),
    ]
);

record!(
    Peer,
    &[
        live("my-asn", 1, |d, p, v, k| p.my_asn = unsigned(d, v, k)),
        live("peer-asn", 1, |d, p, v, k| p.peer_asn = unsigned(d, v, k)),
        live("peer-address", 1, |d, p, v, k| {
            p.peer_address = d.string(v, k);
        }),
        live("peer-port", 1, |d, p, v, k| p.peer_port = unsigned(d, v, k)),
        live("hold-time", 1, |d, p, v, k| p.hold_time = d.string(v, k)),
        live("keepalive-time", 12, |d, p, v, k| {
            p.keepalive_time = d.string(v, k);
        }),
        live("router-id", 3, |d, p, v, k| p.router_id = d.string(v, k)),
        live("source-address", 11, |d, p, v, k| {
            p.source_address = d.string(v, k);
        }),
        live("node-selectors", 4, |d, p, v, k| {
            p.node_selectors = d.list(v, k, |d, n, _| d.item(n, "a node selector"));
        }),
        live("password", 6, |d, p, v, k| p.password = d.string(v, k)),
        live("bfd-profile", 12, |d, p, v, k| {
            p.bfd_profile = d.string(v, k)
        }),
        live("ebgp-multihop", 12, |d, p, v, k| {
            p.ebgp_multihop = d.bool(v, k);
        }),
    ]
);

record!(
    NodeSelector,
    &[
        live("match-labels", 4, |d, s, v, k| {
            s.match_labels = d.string_map(v, k);
        }),
        live("match-expressions", 4, |d, s, v, k| {
            s.match_expressions = d.list(v, k, |d, n, _| d.item(n, "a match expression"));
        }),
    ]
);

record!(
    MatchExpression,
    &[
        live("key", 4, |d, e, v, k| e.key = d.string(v, k)),
        live("operator", 4, |d, e, v, k| e.operator = d.string(v, k)),
        live("values", 4, |d, e, v, k| e.values = d.strings(v, k)),
    ]
);

record!(
    Pool,
    &[
        live("name", 1, |d, p, v, k| p.name = d.string(v, k)),
        live("protocol", 3, |d, p, v, k| p.protocol = d.string(v, k)),
        live("addresses", 5, |d, p, v, k| p.addresses =
            d.address_list(v, k)),
        live("avoid-buggy-ips", 1, |d, p, v, k| {
            p.avoid_buggy_ips = d.bool(v, k);
        }),
        live("auto-assign", 3, |d, p, v, k| p.auto_assign = d.bool(v, k)),
        live("bgp-advertisements", 3, |d, p, v, k| {
            let span = d.span(v);
            let ads = d.list(v, k, |d, n, _| d.item(n, "a BGP advertisement"));
            p.bgp_advertisements = Some(Spanned::new(ads, span));
        }),
        retired(
            "cidr",
            "`cidr` was renamed to `addresses` in MetalLB v0.5 and removed in v0.6",
        ),
        retired(
            "advertisements",
            "`advertisements` was renamed to `bgp-advertisements` in MetalLB v0.3",
        ),
        retired(
            "arp-network",
            "`arp-network` was removed in MetalLB v0.6; layer2 pools need no network",
        ),
    ]
);

record!(
    Advertisement,
    &[
        live("aggregation-length", 3, |d, a, v, k| {
            a.aggregation_length = d.int(v, k);
        }),
        live("aggregation-length-v6", 12, |d, a, v, k| {
            a.aggregation_length_v6 = d.int(v, k);
        }),
        live("localpref", 3, |d, a, v, k| a.localpref = unsigned(d, v, k)),
        live("communities", 3, |d, a, v, k| {
            a.communities = d.strings(v, k)
        }),
    ]
);

record!(
    BfdProfile,
    &[
        live("name", 12, |d, b, v, k| b.name = d.string(v, k)),
        live("receive-interval", 12, |d, b, v, k| {
            b.receive_interval = unsigned(d, v, k);
        }),
        live("transmit-interval", 12, |d, b, v, k| {
            b.transmit_interval = unsigned(d, v, k);
        }),
        live("detect-multiplier", 12, |d, b, v, k| {
            b.detect_multiplier = unsigned(d, v, k);
        }),
        live("echo-interval", 12, |d, b, v, k| {
            b.echo_interval = unsigned(d, v, k);
        }),
        live("echo-mode", 12, |d, b, v, k| b.echo_mode = d.bool(v, k)),
        live("passive-mode", 12, |d, b, v, k| {
            b.passive_mode = d.bool(v, k)
        }),
        live("minimum-ttl", 12, |d, b, v, k| {
            b.minimum_ttl = unsigned(d, v, k)
        }),
    ]
);

/// The note of `key` if it is retired in `fields`.
fn retired_note<T>(fields: &[Field<T>], key: &str) -> Option<&'static str> {
    fields.iter().find_map(|f| match f.kind {
        FieldKind::Retired { note } if f.key == key => Some(note),
        _ => None,
    })
}

/// The note of `key` if any struct retired it: a retired key in the wrong place (a top-level
/// `cidr`) still gets its note.
fn retired_anywhere(key: &str) -> Option<&'static str> {
    retired_note(Config::FIELDS, key)
        .or_else(|| retired_note(Peer::FIELDS, key))
        .or_else(|| retired_note(NodeSelector::FIELDS, key))
        .or_else(|| retired_note(MatchExpression::FIELDS, key))
        .or_else(|| retired_note(Pool::FIELDS, key))
        .or_else(|| retired_note(Advertisement::FIELDS, key))
        .or_else(|| retired_note(BfdProfile::FIELDS, key))
}

/// A scalar value's text: `None` for null (the key is as good as absent), `Some(None)` for
/// anything that is not a plain scalar (quoted, a list, a mapping), which no bool or int is.
fn plain(node: &Node) -> Option<Option<&str>> {
    if node.is_null() {
        return None;
    }
    Some(match &node.value {
        Value::Scalar {
            text,
            style: Style::Plain,
        } => Some(text.as_str()),
        _ => None,
    })
}

/// Decodes one configuration body into the model, reporting structural problems.
pub struct Decoder<'r, 'f> {
    reporter: &'r mut Reporter<'f>,
    map: &'r OffsetMap,
    target: Version,
    /// Kubernetes objects: YAML becomes JSON before the API server checks types, so a plain
    /// `64500`, `true` or `1.5` in a string field is a number or a boolean, not a string.
    strict_strings: bool,
}

impl<'r, 'f> Decoder<'r, 'f> {
    pub fn new(reporter: &'r mut Reporter<'f>, map: &'r OffsetMap, target: Version) -> Self {
        Decoder {
            reporter,
            map,
            target,
            strict_strings: false,
        }
    }

    /// Type string fields as the Kubernetes API server does (custom resources).
    pub(super) fn strict_strings(mut self) -> Self {
        self.strict_strings = true;
        self
    }

    pub(super) fn span(&self, node: &Node) -> Range<usize> {
        self.map.map_span(&node.span)
    }

    pub(super) fn report(
        &mut self,
        rule: Rule,
        node: &Node,
        message: String,
    ) -> &mut crate::diag::Diagnostic {
        let span = self.span(node);
        self.reporter.report(rule, span, message)
    }

    /// Decode the whole body. A null or empty body is a valid, empty configuration.
    pub fn config(&mut self, root: &Node) -> Config {
        if root.is_null() {
            return Config {
                span: self.span(root),
                ..Config::default()
            };
        }
        self.record(root, "the configuration")
    }

    /// A list item of the ConfigMap: a mapping decoded through `T::FIELDS`, or, when the item
    /// is null (`-` alone on its line), `T` with every field at its default. That is how
    /// MetalLB's YAML library (yaml.v2 into Go structs) reads it, so it is not an error; the
    /// rules then judge the defaults (a peer without an address, a selector matching every node).
    fn item<T: Record>(&mut self, node: &Node, what: &str) -> T {
        if node.is_null() {
            let mut out = T::default();
            *out.span_mut() = self.span(node);
            return out;
        }
        self.record(node, what)
    }

    /// Decode a mapping into `T` through `T::FIELDS`; `what` names it in messages.
    pub(super) fn record<T: Record>(&mut self, node: &Node, what: &str) -> T {
        let mut out = T::default();
        *out.span_mut() = self.span(node);
        let Some(entries) = self.fields(node, T::FIELDS, what) else {
            return out;
        };
        for (key, decode, value) in entries {
            decode(self, &mut out, value, key);
        }
        out
    }

    /// Check a mapping's keys against `known`; return the live entries in file order, each
    /// with its decoder.
    fn fields<'n, T>(
        &mut self,
        node: &'n Node,
        known: &[Field<T>],
        what: &str,
    ) -> Option<Vec<(&'static str, DecodeFn<T>, &'n Node)>> {
        let Some(entries) = node.as_map() else {
            let message = format!("{what} must be a mapping, found {}", node.kind_name());
            self.report(rule::WRONG_TYPE, node, message);
            return None;
        };
        let mut seen: Vec<(&str, Range<usize>)> = Vec::new();
        let mut out = Vec::new();
        for (key_node, value) in entries {
            let Some(key) = key_node.as_scalar() else {
                let message = format!("keys in {what} must be strings");
                self.report(rule::WRONG_TYPE, key_node, message);
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                let (line, _) = self.reporter.file().line_col(first.start);
                let message = format!("key {key:?} already set in map (first on line {line})");
                self.report(rule::DUPLICATE_KEY, key_node, message)
                    .with_help("remove one of the two; MetalLB's strict YAML decoding rejects the whole configuration");
                continue;
            }
            seen.push((key, self.span(key_node)));
            let live = known.iter().find_map(|f| match f.kind {
                FieldKind::Live { since, decode } if f.key == key => Some((f.key, since, decode)),
                _ => None,
            });
            match live {
                Some((_, since, _)) if since > self.target => {
                    let message = format!(
                        "field {key:?} requires MetalLB v0.{} or later (target is {})",
                        since.minor, self.target
                    );
                    self.report(rule::FIELD_TOO_NEW, key_node, message).with_help(format!(
                        "remove it, or pass --target-version v0.{} if the cluster runs that release",
                        since.minor
                    ));
                }
                Some((key, _, decode)) => out.push((key, decode, value)),
                None => self.unknown_key(key_node, key, known, what),
            }
        }
        Some(out)
    }

    fn unknown_key<T>(&mut self, key_node: &Node, key: &str, known: &[Field<T>], what: &str) {
        let message = format!("unknown field {key:?} in {what}");
        let candidates = known.iter().filter_map(|f| match f.kind {
            FieldKind::Live { since, .. } if since <= self.target => Some(f.key),
            _ => None,
        });
        let note = retired_note(known, key).or_else(|| retired_anywhere(key));
        let help = match (note, did_you_mean(key, candidates)) {
            (Some(note), _) => Some(note.to_string()),
            (None, Some(near)) => Some(format!("did you mean {near:?}?")),
            (None, None) => None,
        };
        let d = self.report(rule::UNKNOWN_FIELD, key_node, message);
        if let Some(help) = help {
            d.with_help(help);
        }
    }

    /// A list whose items are decoded by `item`. Null means an empty list.
    pub(super) fn list<T>(
        &mut self,
        node: &Node,
        what: &str,
        item: impl Fn(&mut Self, &Node, usize) -> T,
    ) -> Vec<T> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(items) = node.as_seq() else {
            let message = format!("{what} must be a list, found {}", node.kind_name());
            self.report(rule::WRONG_TYPE, node, message);
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, n)| item(self, n, i + 1))
            .collect()
    }

    // ---- scalars, with yaml.v2's rules (what MetalLB used) ----

    fn wrong_type(&mut self, node: &Node, key: &str, expected: &str) {
        let found = match &node.value {
            Value::Scalar {
                text,
                style: Style::Quoted,
            } => format!("the string {text:?}"),
            Value::Scalar { text, .. } if !node.is_null() => format!("{text:?}"),
            _ => node.kind_name().to_string(),
        };
        let message = format!("{key} must be {expected}, found {found}");
        let d = self.report(rule::WRONG_TYPE, node, message);
        if matches!(
            &node.value,
            Value::Scalar {
                style: Style::Quoted,
                ..
            }
        ) {
            d.with_help("remove the quotes: MetalLB decodes quoted values as strings");
        }
    }

    /// Any scalar as a string (yaml.v2 lets a plain number or boolean fill a string field).
    pub(super) fn string(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } if self.strict_strings && !node.is_null() && yaml11_non_string(text) => {
                let message = format!("{key} must be a string, found {text}");
                let help = if key.ends_with("Time") {
                    format!("write a duration with a unit, such as `{key}: {text}s`: a bare number is refused by the API server")
                } else {
                    format!("quote it (\"{text}\"): unquoted, YAML reads it as a number or a boolean and the API server refuses it")
                };
                self.report(rule::WRONG_TYPE, node, message).with_help(help);
                None
            }
            Value::Scalar { text, .. } if !node.is_null() => {
                Some(Spanned::new(text.clone(), self.span(node)))
            }
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, key, "a string");
                None
            }
        }
    }

    /// A pool's `addresses`: present (even when empty) with the span of the whole list.
    pub(super) fn address_list(
        &mut self,
        node: &Node,
        key: &str,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let span = self.span(node);
        Some(Spanned::new(self.strings(node, key), span))
    }

    pub(super) fn strings(&mut self, node: &Node, key: &str) -> Vec<Spanned<String>> {
        self.list(node, key, |d, item, _| d.string(item, key))
            .into_iter()
            .flatten()
            .collect()
    }

    pub(super) fn string_map(
        &mut self,
        node: &Node,
        key: &str,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(entries) = node.as_map() else {
            self.wrong_type(node, key, "a mapping of strings");
            return Vec::new();
        };
        let mut out: Vec<(Spanned<String>, Spanned<String>)> = Vec::new();
        for (k, v) in entries {
            let (Some(name), Some(value)) = (self.string(k, key), self.string(v, key)) else {
                continue;
            };
            if let Some((first, _)) = out.iter().find(|(n, _)| n.value == name.value) {
                let (line, _) = self.reporter.file().line_col(first.span.start);
                let message = format!(
                    "key {:?} already set in map (first on line {line})",
                    name.value
                );
                self.report(rule::DUPLICATE_KEY, k, message);
                continue;
            }
            out.push((name, value));
        }
        out
    }

    pub(super) fn bool(&mut self, node: &Node, key: &str) -> Option<Spanned<bool>> {
        match plain(node)?.and_then(yaml11_bool) {
            Some(b) => Some(Spanned::new(b, self.span(node))),
            None => {
                self.wrong_type(node, key, "true or false");
                None
            }
        }
    }

    pub(super) fn int(&mut self, node: &Node, key: &str) -> Option<Spanned<i64>> {
        match plain(node)?.and_then(yaml_int) {
            Some(Ok(n)) => Some(Spanned::new(n, self.span(node))),
            Some(Err(())) => {
                let message = format!("{key} is out of range");
                self.report(rule::WRONG_TYPE, node, message);
                None
            }
            None => {
                self.wrong_type(node, key, "an integer");
                None
            }
        }
    }

    pub(super) fn uint(&mut self, node: &Node, key: &str) -> Option<Spanned<i64>> {
        let n = self.int(node, key)?;
        if n.value < 0 {
            let message = format!("{key} must not be negative, found {}", n.value);
            self.report(rule::WRONG_TYPE, node, message);
            return None;
        }
        Some(n)
    }

    /// Narrow a decoded integer to the field's Go type, as yaml.v2 would (`u16`, `u32`).
    fn narrow<T: TryFrom<i64>>(&mut self, n: Spanned<i64>, key: &str) -> Option<Spanned<T>> {
        match T::try_from(n.value) {
            Ok(v) => Some(Spanned::new(v, n.span)),
            Err(_) => {
                let bits = std::mem::size_of::<T>() * 8;
                let message = format!(
                    "{key} is out of range: {} does not fit an unsigned {bits}-bit number",
                    n.value
                );
                self.reporter.report(rule::WRONG_TYPE, n.span, message);
                None
            }
        }
    }
}

/// Whether yaml.v2 (which kubectl uses to turn YAML into JSON) reads a plain scalar as a
/// boolean, an integer or a float rather than a string.
fn yaml11_non_string(text: &str) -> bool {
    if yaml11_bool(text).is_some() || yaml_int(text).is_some() {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | "-.inf" | "+.inf" | ".nan") {
        return true;
    }
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// YAML 1.1 booleans, as accepted by yaml.v2.
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// A YAML integer: `None` if the text is not an integer at all, `Err` if it does not fit i64.
fn yaml_int(text: &str) -> Option<Result<i64, ()>> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        (2, bin)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok();
    let value = magnitude.map(|m| if negative { -m } else { m });
    Some(value.and_then(|v| i64::try_from(v).ok()).ok_or(()))
}

#[cfg(test)]
pub(in crate::config) mod tests {
    use super::*;
    use crate::diag::{Diagnostic, SourceFile};

    fn decode<T: Record>(text: &str, target: Version) -> (T, Vec<Diagnostic>) {
        let file = SourceFile::new("t.yaml", text);
        let docs = super::super::yaml::parse_stream(text).expect("test YAML parses");
        let mut reporter = Reporter::new(&file);
        let out =
            Decoder::new(&mut reporter, &OffsetMap::Identity, target).record::<T>(&docs[0], "x");
        (out, reporter.diagnostics)
    }

    fn codes(d: &[Diagnostic]) -> Vec<&str> {
        d.iter().map(|d| d.code).collect()
    }

    /// Values of every shape a field takes: one of them must decode without a finding.
    const SAMPLES: &[&str] = &["7", "true", "[a]", "{a: b}", "[{}]", "{}"];

    /// Every live field of `T` decodes into the struct: for some sample value the result has
    /// no finding and differs from an empty `T`. A field whose decoder dropped the value, or
    /// wrote it nowhere, fails here.
    fn every_live_field_decodes_into_the_struct<T: Record + PartialEq + std::fmt::Debug>() {
        for f in T::FIELDS {
            let FieldKind::Live { since, .. } = f.kind else {
                continue;
            };
            let decoded = SAMPLES.iter().find_map(|v| {
                let text = format!("{}: {v}\n", f.key);
                let (mut out, d) = decode::<T>(&text, Version::NEWEST);
                let mut empty = T::default();
                *empty.span_mut() = out.span_mut().clone();
                (d.is_empty() && out != empty).then_some(out)
            });
            assert!(decoded.is_some(), "field {:?} decodes nothing", f.key);
            let (_, d) = decode::<T>(&format!("{}: 7\n", f.key), since);
            assert!(
                !codes(&d).contains(&"MLB004") && !codes(&d).contains(&"MLB002"),
                "{} accepted at v0.{}",
                f.key,
                since.minor
            );
            if since.minor > 0 {
                let older = Version::v0(since.minor - 1);
                let (_, d) = decode::<T>(&format!("{}: 7\n", f.key), older);
                assert_eq!(
                    codes(&d),
                    ["MLB004"],
                    "{} is too new for v0.{}",
                    f.key,
                    older.minor
                );
            }
        }
    }

    fn keys_are_declared_once<T: Record>() {
        let mut keys: Vec<&str> = T::FIELDS.iter().map(|f| f.key).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before, "a key declared twice: {keys:?}");
    }

    fn retired_keys_are_unknown_with_their_note<T: Record>() {
        for f in T::FIELDS {
            let FieldKind::Retired { note } = f.kind else {
                continue;
            };
            let (_, d) = decode::<T>(&format!("{}: 7\n", f.key), Version::NEWEST);
            assert_eq!(codes(&d), ["MLB002"]);
            assert_eq!(d[0].help.as_deref(), Some(note));
        }
    }

    pub(in crate::config) fn check_table<T: Record + PartialEq + std::fmt::Debug>() {
        keys_are_declared_once::<T>();
        every_live_field_decodes_into_the_struct::<T>();
        retired_keys_are_unknown_with_their_note::<T>();
    }

    #[test]
    fn every_table_is_consistent_and_every_field_decodes() {
        check_table::<Config>();
        check_table::<Peer>();
        check_table::<NodeSelector>();
        check_table::<MatchExpression>();
        check_table::<Pool>();
        check_table::<Advertisement>();
        check_table::<BfdProfile>();
    }

    #[test]
    fn a_retired_key_in_another_place_still_gets_its_note() {
        let (_, d) = decode::<Peer>("cidr: x\n", Version::LATEST);
        assert_eq!(d[0].help.as_deref(), retired_note(Pool::FIELDS, "cidr"));
        let (_, d) = decode::<Pool>("communities: [a]\n", Version::LATEST);
        assert_eq!(
            d[0].help.as_deref(),
            retired_note(Config::FIELDS, "communities")
        );
        let (ad, d) = decode::<Advertisement>("communities: [a]\n", Version::LATEST);
        assert!(d.is_empty() && ad.communities.len() == 1);
    }

    #[test]
    fn unknown_keys_suggest_only_fields_of_the_target() {
        let (_, d) = decode::<Peer>("keepalive-tim: 1s\n", Version::v0(11));
        assert_eq!(codes(&d), ["MLB002"]);
        assert_eq!(d[0].help, None);
        let (_, d) = decode::<Peer>("keepalive-tim: 1s\n", Version::LATEST);
        assert_eq!(
            d[0].help.as_deref(),
            Some("did you mean \"keepalive-time\"?")
        );
    }

    #[test]
    fn duplicate_keys_keep_the_first_value() {
        let (p, d) = decode::<Peer>("my-asn: 1\nmy-asn: 2\n", Version::LATEST);
        assert_eq!(codes(&d), ["MLB006"]);
        assert_eq!(p.my_asn.map(|a| a.value), Some(1));
    }

    #[test]
    fn yaml_ints() {
        assert_eq!(yaml_int("64500"), Some(Ok(64500)));
        assert_eq!(yaml_int("-1"), Some(Ok(-1)));
        assert_eq!(yaml_int("0x10"), Some(Ok(16)));
        assert_eq!(yaml_int("12a"), None);
        assert_eq!(yaml_int("99999999999999999999999"), Some(Err(())));
        assert_eq!(yaml_int(""), None);
        assert_eq!(yaml_int("-"), None);
    }

    #[test]
    fn plain_scalars_that_are_not_strings_to_kubectl() {
        for t in [
            "64500", "true", "on", "1.5", "1e3", ".5", "-2", "0x1f", ".inf",
        ] {
            assert!(yaml11_non_string(t), "{t}");
        }
        for t in [
            "10.0.0.1", "90s", "peer-1", "1.2.3", "fc00::1", "e5", "1m30s",
        ] {
            assert!(!yaml11_non_string(t), "{t}");
        }
    }

    #[test]
    fn yaml_bools() {
        assert_eq!(yaml11_bool("yes"), Some(true));
        assert_eq!(yaml11_bool("Off"), Some(false));
        assert_eq!(yaml11_bool("maybe"), None);
    }
}
