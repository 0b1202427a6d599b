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

/// A key a mapping may hold, and the release that introduced it.
struct Field {
    key: &'static str,
    since: Version,
}

const fn field(key: &'static str, since: u8) -> Field {
    Field {
        key,
        since: Version::v0(since),
    }
}

const TOP_FIELDS: &[Field] = &[
    field("peers", 1),
    field("bgp-communities", 3),
    field("address-pools", 1),
    field("bfd-profiles", 12),
];

const PEER_FIELDS: &[Field] = &[
    field("my-asn", 1),
    field("peer-asn", 1),
    field("peer-address", 1),
    field("peer-port", 1),
    field("hold-time", 1),
    field("keepalive-time", 12),
    field("router-id", 3),
    field("source-address", 11),
    field("node-selectors", 4),
    field("password", 6),
    field("bfd-profile", 12),
    field("ebgp-multihop", 12),
];

const SELECTOR_FIELDS: &[Field] = &[field("match-labels", 4), field("match-expressions", 4)];

const EXPRESSION_FIELDS: &[Field] = &[field("key", 4), field("operator", 4), field("values", 4)];

const POOL_FIELDS: &[Field] = &[
    field("name", 1),
    field("protocol", 3),
    field("addresses", 5),
    field("avoid-buggy-ips", 1),
    field("auto-assign", 3),
    field("bgp-advertisements", 3),
];

const ADVERTISEMENT_FIELDS: &[Field] = &[
    field("aggregation-length", 3),
    field("aggregation-length-v6", 12),
    field("localpref", 3),
    field("communities", 3),
];

const BFD_FIELDS: &[Field] = &[
    field("name", 12),
    field("receive-interval", 12),
    field("transmit-interval", 12),
    field("detect-multiplier", 12),
    field("echo-interval", 12),
    field("echo-mode", 12),
    field("passive-mode", 12),
    field("minimum-ttl", 12),
];

/// Keys that existed in older MetalLB releases and what became of them.
fn retired_key_hint(key: &str) -> Option<&'static str> {
    Some(match key {
        "cidr" => "`cidr` was renamed to `addresses` in MetalLB v0.5 and removed in v0.6",
        "advertisements" => "`advertisements` was renamed to `bgp-advertisements` in MetalLB v0.3",
        "communities" => {
            "the top-level `communities` map was renamed to `bgp-communities` in MetalLB v0.3"
        }
        "arp-network" => "`arp-network` was removed in MetalLB v0.6; layer2 pools need no network",
        _ => return None,
    })
}

/// Decodes one configuration body into the model, reporting structural problems.
pub struct Decoder<'r, 'f> {
    reporter: &'r mut Reporter<'f>,
    map: &'r OffsetMap,
    target: Version,
}

impl<'r, 'f> Decoder<'r, 'f> {
    pub fn new(reporter: &'r mut Reporter<'f>, map: &'r OffsetMap, target: Version) -> Self {
        Decoder {
            reporter,
            map,
            target,
        }
    }

    fn span(&self, node: &Node) -> Range<usize> {
        self.map.map_span(&node.span)
    }

    fn report(&mut self, rule: Rule, node: &Node, message: String) -> &mut crate::diag::Diagnostic {
        let span = self.span(node);
        self.reporter.report(rule, span, message)
    }

    /// Decode the whole body. A null or empty body is a valid, empty configuration.
    pub fn config(&mut self, root: &Node) -> Config {
        let mut config = Config {
            span: self.span(root),
            ..Config::default()
        };
        if root.is_null() {
            return config;
        }
        let Some(entries) = self.fields(root, TOP_FIELDS, "the configuration") else {
            return config;
        };
        for (key, value) in entries {
            match key {
                "peers" => config.peers = self.list(value, "peers", Self::peer),
                "bgp-communities" => config.communities = self.communities(value),
                "address-pools" => config.pools = self.list(value, "address-pools", Self::pool),
                "bfd-profiles" => {
                    config.bfd_profiles = self.list(value, "bfd-profiles", Self::bfd_profile)
                }
                _ => {}
            }
        }
        config
    }

    /// Check a mapping's keys against `known`; return the known entries in file order.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        known: &[Field],
        what: &str,
    ) -> Option<Vec<(&'static str, &'n Node)>> {
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
            match known.iter().find(|f| f.key == key) {
                Some(f) if f.since > self.target => {
                    let message = format!(
                        "field {key:?} requires MetalLB v0.{} or later (target is {})",
                        f.since.minor, self.target
                    );
                    self.report(rule::FIELD_TOO_NEW, key_node, message).with_help(format!(
                        "remove it, or pass --target-version v0.{} if the cluster runs that release",
                        f.since.minor
                    ));
                }
                Some(f) => out.push((f.key, value)),
                None => self.unknown_key(key_node, key, known, what),
            }
        }
        Some(out)
    }

    fn unknown_key(&mut self, key_node: &Node, key: &str, known: &[Field], what: &str) {
        let message = format!("unknown field {key:?} in {what}");
        let candidates = known
            .iter()
            .filter(|f| f.since <= self.target)
            .map(|f| f.key);
        let help = match (retired_key_hint(key), did_you_mean(key, candidates)) {
            (Some(hint), _) => Some(hint.to_string()),
            (None, Some(near)) => Some(format!("did you mean {near:?}?")),
            (None, None) => None,
        };
        let d = self.report(rule::UNKNOWN_FIELD, key_node, message);
        if let Some(help) = help {
            d.with_help(help);
        }
    }

    /// A list whose items are decoded by `item`. Null means an empty list.
    fn list<T>(
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

    fn peer(&mut self, node: &Node, index: usize) -> Peer {
        let mut peer = Peer {
            span: self.span(node),
            ..Peer::default()
        };
        let what = format!("peer #{index}");
        let Some(entries) = self.fields(node, PEER_FIELDS, &what) else {
            return peer;
        };
        for (key, v) in entries {
            match key {
                "my-asn" => peer.my_asn = self.uint(v, key).and_then(|s| self.narrow(s, key)),
                "peer-asn" => peer.peer_asn = self.uint(v, key).and_then(|s| self.narrow(s, key)),
                "peer-address" => peer.peer_address = self.string(v, key),
                "peer-port" => peer.peer_port = self.uint(v, key).and_then(|s| self.narrow(s, key)),
                "hold-time" => peer.hold_time = self.string(v, key),
                "keepalive-time" => peer.keepalive_time = self.string(v, key),
                "router-id" => peer.router_id = self.string(v, key),
                "source-address" => peer.source_address = self.string(v, key),
                "node-selectors" => peer.node_selectors = self.list(v, key, Self::node_selector),
                "password" => peer.password = self.string(v, key),
                "bfd-profile" => peer.bfd_profile = self.string(v, key),
                "ebgp-multihop" => peer.ebgp_multihop = self.bool(v, key),
                _ => {}
            }
        }
        peer
    }

    fn node_selector(&mut self, node: &Node, _index: usize) -> NodeSelector {
        let mut selector = NodeSelector {
            span: self.span(node),
            ..NodeSelector::default()
        };
        let Some(entries) = self.fields(node, SELECTOR_FIELDS, "a node selector") else {
            return selector;
        };
        for (key, v) in entries {
            match key {
                "match-labels" => selector.match_labels = self.string_map(v, key),
                "match-expressions" => {
                    selector.match_expressions = self.list(v, key, Self::match_expression)
                }
                _ => {}
            }
        }
        selector
    }

    fn match_expression(&mut self, node: &Node, _index: usize) -> MatchExpression {
        let mut expr = MatchExpression {
            span: self.span(node),
            ..MatchExpression::default()
        };
        let Some(entries) = self.fields(node, EXPRESSION_FIELDS, "a match expression") else {
            return expr;
        };
        for (key, v) in entries {
            match key {
                "key" => expr.key = self.string(v, key),
                "operator" => expr.operator = self.string(v, key),
                "values" => expr.values = self.strings(v, key),
                _ => {}
            }
        }
        expr
    }

    fn communities(&mut self, node: &Node) -> Vec<CommunityAlias> {
        self.string_map(node, "bgp-communities")
            .into_iter()
            .map(|(name, value)| CommunityAlias { name, value })
            .collect()
    }

    fn pool(&mut self, node: &Node, index: usize) -> Pool {
        let mut pool = Pool {
            span: self.span(node),
            ..Pool::default()
        };
        let what = format!("address pool #{index}");
        let Some(entries) = self.fields(node, POOL_FIELDS, &what) else {
            return pool;
        };
        for (key, v) in entries {
            match key {
                "name" => pool.name = self.string(v, key),
                "protocol" => pool.protocol = self.string(v, key),
                "addresses" => {
                    let span = self.span(v);
                    pool.addresses = Some(Spanned::new(self.strings(v, key), span));
                }
                "avoid-buggy-ips" => pool.avoid_buggy_ips = self.bool(v, key),
                "auto-assign" => pool.auto_assign = self.bool(v, key),
                "bgp-advertisements" => {
                    let span = self.span(v);
                    let ads = self.list(v, key, Self::advertisement);
                    pool.bgp_advertisements = Some(Spanned::new(ads, span));
                }
                _ => {}
            }
        }
        pool
    }

    fn advertisement(&mut self, node: &Node, _index: usize) -> Advertisement {
        let mut ad = Advertisement {
            span: self.span(node),
            ..Advertisement::default()
        };
        let Some(entries) = self.fields(node, ADVERTISEMENT_FIELDS, "a BGP advertisement") else {
            return ad;
        };
        for (key, v) in entries {
            match key {
                "aggregation-length" => ad.aggregation_length = self.int(v, key),
                "aggregation-length-v6" => ad.aggregation_length_v6 = self.int(v, key),
                "localpref" => ad.localpref = self.uint(v, key).and_then(|s| self.narrow(s, key)),
                "communities" => ad.communities = self.strings(v, key),
                _ => {}
            }
        }
        ad
    }

    fn bfd_profile(&mut self, node: &Node, index: usize) -> BfdProfile {
        let mut profile = BfdProfile {
            span: self.span(node),
            ..BfdProfile::default()
        };
        let what = format!("BFD profile #{index}");
        let Some(entries) = self.fields(node, BFD_FIELDS, &what) else {
            return profile;
        };
        for (key, v) in entries {
            let number = |d: &mut Self| d.uint(v, key).and_then(|s| d.narrow(s, key));
            match key {
                "name" => profile.name = self.string(v, key),
                "receive-interval" => profile.receive_interval = number(self),
                "transmit-interval" => profile.transmit_interval = number(self),
                "detect-multiplier" => profile.detect_multiplier = number(self),
                "echo-interval" => profile.echo_interval = number(self),
                "echo-mode" => profile.echo_mode = self.bool(v, key),
                "passive-mode" => profile.passive_mode = self.bool(v, key),
                "minimum-ttl" => profile.minimum_ttl = number(self),
                _ => {}
            }
        }
        profile
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
    fn string(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        match &node.value {
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

    fn strings(&mut self, node: &Node, key: &str) -> Vec<Spanned<String>> {
        self.list(node, key, |d, item, _| d.string(item, key))
            .into_iter()
            .flatten()
            .collect()
    }

    fn string_map(&mut self, node: &Node, key: &str) -> Vec<(Spanned<String>, Spanned<String>)> {
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

    fn bool(&mut self, node: &Node, key: &str) -> Option<Spanned<bool>> {
        if node.is_null() {
            return None;
        }
        let value = match &node.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } => yaml11_bool(text),
            _ => None,
        };
        match value {
            Some(b) => Some(Spanned::new(b, self.span(node))),
            None => {
                self.wrong_type(node, key, "true or false");
                None
            }
        }
    }

    fn int(&mut self, node: &Node, key: &str) -> Option<Spanned<i64>> {
        if node.is_null() {
            return None;
        }
        let value = match &node.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } => yaml_int(text),
            _ => None,
        };
        match value {
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

    fn uint(&mut self, node: &Node, key: &str) -> Option<Spanned<i64>> {
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
mod tests {
    use super::*;

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
    fn yaml_bools() {
        assert_eq!(yaml11_bool("yes"), Some(true));
        assert_eq!(yaml11_bool("Off"), Some(false));
        assert_eq!(yaml11_bool("maybe"), None);
    }
}
