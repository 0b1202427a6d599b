//! Rules about `peers`.

use std::net::IpAddr;

use super::Options;
use crate::config::addr::parse_entry;
use crate::config::duration::{parse_go_duration, NANOS_PER_SECOND};
use crate::config::model::{Config, MatchExpression, NodeSelector, Peer, Spanned};
use crate::config::report::Reporter;
use crate::config::rule;
use crate::config::version::{BgpMode, Version};
use crate::diag::Severity;

const AS_TRANS: u32 = 23456;
const DEFAULT_HOLD_SECONDS: i64 = 90;

pub fn check(config: &Config, options: &Options, r: &mut Reporter<'_>) {
    let pools = PoolIndex::new(config);
    for peer in &config.peers {
        asns(peer, r);
        addresses(peer, r);
        let hold = hold_time(peer, options, r);
        keepalive(peer, hold, options, r);
        multihop_and_bfd(peer, config, options, r);
        for selector in &peer.node_selectors {
            node_selector(selector, r);
        }
        if let Some(password) = &peer.password {
            r.report(rule::PLAINTEXT_PASSWORD, password.span.clone(), "BGP password written in plain text in the configuration")
                .with_help("anyone who can read the ConfigMap can read it; MetalLB v0.13+ can take it from a Secret (BGPPeer `passwordSecret`)");
        }
        peer_in_pool(peer, &pools, r);
    }
    duplicates(config, options, r);
    if options.mode == BgpMode::Frr && options.target >= Version::v0(12) {
        frr_consistency(config, r);
    }
}

fn asns(peer: &Peer, r: &mut Reporter<'_>) {
    for (asn, missing) in [
        (&peer.my_asn, "missing local ASN"),
        (&peer.peer_asn, "missing peer ASN"),
    ] {
        match asn {
            None => {
                r.report(rule::INVALID_ASN, peer.span.clone(), missing)
                    .with_help(if missing.contains("local") {
                        "add `my-asn: <your AS number>`"
                    } else {
                        "add `peer-asn: <the router's AS number>`"
                    });
            }
            Some(a) if a.value == 0 => {
                r.report(rule::INVALID_ASN, a.span.clone(), missing)
                    .with_help("MetalLB treats AS 0 as unset; use your real AS number");
            }
            Some(a) if a.value == AS_TRANS => {
                r.report(rule::AS_TRANS, a.span.clone(), "AS 23456 is AS_TRANS, a placeholder reserved by RFC 6793")
                    .with_help("it stands in for 4-byte ASNs towards old speakers; use your real AS number (a private one is 64512-65534 or 4200000000-4294967294)");
            }
            Some(_) => {}
        }
    }
}

fn addresses(peer: &Peer, r: &mut Reporter<'_>) {
    match &peer.peer_address {
        None => {
            r.report(
                rule::INVALID_PEER_ADDRESS,
                peer.span.clone(),
                "invalid peer IP \"\"",
            )
            .with_help("add `peer-address: <router IP>`");
        }
        Some(a) if a.value.parse::<IpAddr>().is_err() => {
            r.report(
                rule::INVALID_PEER_ADDRESS,
                a.span.clone(),
                format!("invalid peer IP {:?}", a.value),
            )
            .with_help("peer-address must be an IPv4 or IPv6 address; host names are not resolved");
        }
        Some(_) => {}
    }
    if let Some(id) = &peer.router_id {
        match id.value.parse::<IpAddr>() {
            Err(_) => {
                r.report(
                    rule::INVALID_ROUTER_ID,
                    id.span.clone(),
                    format!("invalid router ID {:?}", id.value),
                )
                .with_help("router-id is written as an IPv4 address, e.g. 10.0.0.1");
            }
            Ok(IpAddr::V6(_)) => {
                r.report(
                    rule::IPV6_ROUTER_ID,
                    id.span.clone(),
                    format!(
                        "router ID {:?} is IPv6; MetalLB silently ignores it",
                        id.value
                    ),
                )
                .with_help("a BGP router ID is 32 bits: write it as an IPv4 address");
            }
            Ok(IpAddr::V4(_)) => {}
        }
    }
    if let Some(src) = &peer.source_address {
        if src.value.parse::<IpAddr>().is_err() {
            r.report(
                rule::INVALID_SOURCE_ADDRESS,
                src.span.clone(),
                format!("invalid source IP {:?}", src.value),
            );
        }
    }
}

/// Checks hold-time; returns the effective value in seconds when it is valid.
fn hold_time(peer: &Peer, options: &Options, r: &mut Reporter<'_>) -> Option<i64> {
    let Some(hold) = &peer.hold_time else {
        return Some(DEFAULT_HOLD_SECONDS);
    };
    let text = hold.value.as_str();
    if text.is_empty() {
        return Some(DEFAULT_HOLD_SECONDS);
    }
    let nanos = match parse_go_duration(text, options.go_quotes_durations()) {
        Ok(n) => n,
        Err(go_error) => {
            let message = format!("invalid hold time {text:?}: {go_error}");
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                r.report(rule::HOLD_TIME_WITHOUT_UNIT, hold.span.clone(), message)
                    .with_label("a number without a unit")
                    .with_help(format!("write `hold-time: {text}s`: MetalLB reads hold-time as a Go duration and rejects the whole configuration without a unit (metallb/metallb#376)"));
            } else {
                r.report(rule::INVALID_HOLD_TIME, hold.span.clone(), message)
                    .with_help("hold-time is a Go duration such as 90s, 3m or 1m30s");
            }
            return None;
        }
    };
    let seconds = nanos / NANOS_PER_SECOND;
    if seconds != 0 && seconds < 3 {
        r.report(
            rule::INVALID_HOLD_TIME,
            hold.span.clone(),
            format!("invalid hold time {text:?}: must be 0 or >=3s"),
        )
        .with_help("RFC 4271 allows a hold time of 0 (no keepalives) or at least 3 seconds");
        return None;
    }
    if seconds > u16::MAX as i64 {
        r.report(
            rule::HOLD_TIME_TOO_LARGE,
            hold.span.clone(),
            format!(
                "hold time {text:?} is {seconds}s, above the 65535s a BGP OPEN message can carry"
            ),
        )
        .with_help(
            "MetalLB would send a truncated value; use at most 65535s (the usual is 90s or 180s)",
        );
        return None;
    }
    Some(seconds)
}

fn keepalive(peer: &Peer, hold: Option<i64>, options: &Options, r: &mut Reporter<'_>) {
    let Some(keepalive) = &peer.keepalive_time else {
        return;
    };
    if options.mode == BgpMode::Native {
        r.report(rule::NATIVE_MODE_UNSUPPORTED, keepalive.span.clone(), format!("peer {} has keepalive-time set on native bgp mode", address_of(peer)))
            .with_help("keepalive-time needs the FRR speaker (--bgp-mode frr); the native speaker always uses hold-time/3");
    }
    let text = keepalive.value.as_str();
    match parse_go_duration(text, options.go_quotes_durations()) {
        Err(go_error) => {
            r.report(
                rule::INVALID_KEEPALIVE,
                keepalive.span.clone(),
                format!("invalid keepaliveTime {text:?}: {go_error}"),
            );
        }
        Ok(nanos) if hold.is_some_and(|h| nanos / NANOS_PER_SECOND > h) => {
            r.report(
                rule::INVALID_KEEPALIVE,
                keepalive.span.clone(),
                format!("invalid keepaliveTime {text:?}"),
            )
            .with_label("longer than hold-time")
            .with_help("keepalive-time must not exceed hold-time; a third of it is customary");
        }
        Ok(_) => {}
    }
}

fn multihop_and_bfd(peer: &Peer, config: &Config, options: &Options, r: &mut Reporter<'_>) {
    if let (Some(multihop), Some(my), Some(their)) =
        (&peer.ebgp_multihop, &peer.my_asn, &peer.peer_asn)
    {
        if multihop.value && my.value == their.value {
            r.report(rule::EBGP_MULTIHOP_ON_IBGP, multihop.span.clone(), "invalid ebgp-multihop parameter set for an ibgp peer")
                .with_help("my-asn equals peer-asn, so this is iBGP, which is multihop anyway: remove ebgp-multihop");
        }
    }
    let Some(profile) = &peer.bfd_profile else {
        return;
    };
    if options.mode == BgpMode::Native {
        r.report(
            rule::NATIVE_MODE_UNSUPPORTED,
            profile.span.clone(),
            format!(
                "peer {} has bfd-profile set on native bgp mode",
                address_of(peer)
            ),
        )
        .with_help("BFD needs the FRR speaker (--bgp-mode frr)");
    }
    let defined = config
        .bfd_profiles
        .iter()
        .any(|p| p.name.as_ref().is_some_and(|n| n.value == profile.value));
    if !defined {
        let index = config
            .peers
            .iter()
            .position(|p| std::ptr::eq(p, peer))
            .map_or(0, |i| i + 1);
        let (who, help) = match &peer.name {
            Some(name) => (
                name.value.clone(),
                "create a BFDProfile of that name in MetalLB's namespace, or remove bfdProfile",
            ),
            None => (
                format!("#{index}"),
                "define it under `bfd-profiles`, or remove bfd-profile",
            ),
        };
        r.report(
            rule::UNKNOWN_BFD_PROFILE,
            profile.span.clone(),
            format!(
                "peer {who} referencing non existing bfd profile {}",
                profile.value
            ),
        )
        .with_help(help);
    }
}

fn address_of(peer: &Peer) -> &str {
    peer.peer_address.as_ref().map_or("", |a| a.value.as_str())
}

fn node_selector(selector: &NodeSelector, r: &mut Reporter<'_>) {
    for (key, value) in &selector.match_labels {
        check_label(key, LabelPart::Key, r);
        check_label(value, LabelPart::Value, r);
    }
    for expr in &selector.match_expressions {
        match_expression(expr, r);
    }
}

#[derive(Clone, Copy)]
enum LabelPart {
    Key,
    Value,
}

/// Report a label key or value that Kubernetes would refuse.
fn check_label(text: &Spanned<String>, part: LabelPart, r: &mut Reporter<'_>) {
    let (checked, what) = match part {
        LabelPart::Key => (label_key(&text.value), "key"),
        LabelPart::Value => (label_value(&text.value), "value"),
    };
    if let Err(why) = checked {
        r.report(
            rule::INVALID_NODE_SELECTOR,
            text.span.clone(),
            format!(
                "parsing node selector: invalid label {what} {:?}: {why}",
                text.value
            ),
        );
    }
}

fn match_expression(expr: &MatchExpression, r: &mut Reporter<'_>) {
    let Some(key) = &expr.key else {
        r.report(
            rule::INVALID_NODE_SELECTOR,
            expr.span.clone(),
            "parsing node selector: a match expression needs a key",
        );
        return;
    };
    check_label(key, LabelPart::Key, r);
    let Some(op) = &expr.operator else {
        r.report(rule::INVALID_NODE_SELECTOR, expr.span.clone(), "parsing node selector: a match expression needs an operator (In, NotIn, Exists, DoesNotExist)");
        return;
    };
    let needs_values = match op.value.as_str() {
        "In" | "NotIn" => true,
        "Exists" | "DoesNotExist" => false,
        other => {
            let d = r.report(
                rule::INVALID_NODE_SELECTOR,
                op.span.clone(),
                format!("parsing node selector: {other:?} is not a valid label selector operator"),
            );
            match other.to_ascii_lowercase().as_str() {
                "in" => d.with_help("operators are case-sensitive: write `In`"),
                "notin" => d.with_help("operators are case-sensitive: write `NotIn`"),
                "exists" => d.with_help("operators are case-sensitive: write `Exists`"),
                "doesnotexist" => d.with_help("operators are case-sensitive: write `DoesNotExist`"),
                _ => d.with_help("use In, NotIn, Exists or DoesNotExist"),
            };
            return;
        }
    };
    if needs_values && expr.values.is_empty() {
        r.report(
            rule::INVALID_NODE_SELECTOR,
            op.span.clone(),
            format!(
                "parsing node selector: for '{}' operator, values set can't be empty",
                op.value
            ),
        );
    }
    if !needs_values && !expr.values.is_empty() {
        r.report(
            rule::INVALID_NODE_SELECTOR,
            op.span.clone(),
            format!(
                "parsing node selector: values set must be empty for {}",
                op.value
            ),
        );
    }
    for value in &expr.values {
        check_label(value, LabelPart::Value, r);
    }
}

/// Kubernetes qualified-name rules for label keys: optional DNS-subdomain prefix and a name of
/// at most 63 characters of alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
fn label_key(key: &str) -> Result<(), &'static str> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err("the prefix must be a DNS subdomain");
        }
    }
    label_name(name, false)
}

fn label_value(value: &str) -> Result<(), &'static str> {
    label_name(value, true)
}

fn label_name(s: &str, empty_ok: bool) -> Result<(), &'static str> {
    if s.is_empty() {
        return if empty_ok {
            Ok(())
        } else {
            Err("must not be empty")
        };
    }
    if s.len() > 63 {
        return Err("must be at most 63 characters");
    }
    let inner_ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ends_ok = s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric();
    if inner_ok && ends_ok {
        Ok(())
    } else {
        Err("must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric")
    }
}

/// Every parsed pool entry, sorted, with a running maximum of ends so a lookup is a binary
/// search instead of a scan of every pool (configurations can have thousands).
struct PoolIndex<'c> {
    blocks: Vec<(bool, u128, u128, &'c str)>,
    max_end: Vec<u128>,
}

impl<'c> PoolIndex<'c> {
    fn new(config: &'c Config) -> Self {
        let mut blocks: Vec<(bool, u128, u128, &str)> = config
            .pools
            .iter()
            .flat_map(|pool| {
                pool.address_entries()
                    .iter()
                    .filter_map(|e| parse_entry(&e.value, true).ok())
                    .map(move |b| {
                        let (first, last) = b.bounds();
                        (b.is_v4(), first, last, pool.name_str())
                    })
            })
            .collect();
        blocks.sort_unstable_by_key(|&(v4, first, _, _)| (!v4, first));
        let mut max_end = Vec::with_capacity(blocks.len());
        let mut running = (true, 0u128);
        for &(v4, _, last, _) in &blocks {
            running = if running.0 == v4 {
                (v4, running.1.max(last))
            } else {
                (v4, last)
            };
            max_end.push(running.1);
        }
        PoolIndex { blocks, max_end }
    }

    /// Names of the pools whose entries contain `ip`.
    fn pools_containing(&self, ip: IpAddr) -> Vec<&'c str> {
        let (v4, x) = (ip.is_ipv4(), crate::config::addr::to_u128(ip));
        let upto = self
            .blocks
            .partition_point(|&(bv4, first, _, _)| (!bv4, first) <= (!v4, x));
        let mut names = Vec::new();
        for i in (0..upto).rev() {
            let (bv4, first, last, name) = self.blocks[i];
            if bv4 != v4 || self.max_end[i] < x {
                break;
            }
            if first <= x && x <= last && !names.contains(&name) {
                names.push(name);
            }
        }
        names.reverse();
        names
    }
}

fn peer_in_pool(peer: &Peer, index: &PoolIndex<'_>, r: &mut Reporter<'_>) {
    let Some(address) = &peer.peer_address else {
        return;
    };
    let Ok(ip) = address.value.parse::<IpAddr>() else {
        return;
    };
    for pool in index.pools_containing(ip) {
        r.report(
            rule::PEER_IN_POOL,
            address.span.clone(),
            format!("peer address {ip} is inside address pool {pool:?}"),
        )
        .with_help(
            "MetalLB could hand the router's own address to a service; take it out of the pool",
        );
    }
}

/// What makes two peers the same for MetalLB v0.10's duplicate check: every field.
fn identity(peer: &Peer) -> String {
    let v = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.value.clone());
    format!(
        "{:?}",
        (
            peer.my_asn.as_ref().map(|a| a.value),
            peer.peer_asn.as_ref().map(|a| a.value),
            v(&peer.peer_address),
            peer.peer_port.as_ref().map(|p| p.value),
            v(&peer.hold_time),
            v(&peer.keepalive_time),
            v(&peer.router_id),
            v(&peer.source_address),
            v(&peer.password),
            v(&peer.bfd_profile),
            selector_text(&peer.node_selectors),
        )
    )
}

/// The node selectors' content without positions, as one comparable string.
fn selector_text(selectors: &[NodeSelector]) -> String {
    let mut text = String::new();
    for s in selectors {
        for (k, v) in &s.match_labels {
            text.push_str(&format!("{}={};", k.value, v.value));
        }
        for e in &s.match_expressions {
            let field = |f: &Option<Spanned<String>>| {
                f.as_ref().map_or("", |f| f.value.as_str()).to_string()
            };
            let values: Vec<&str> = e.values.iter().map(|v| v.value.as_str()).collect();
            text.push_str(&format!(
                "{} {} {:?};",
                field(&e.key),
                field(&e.operator),
                values
            ));
        }
        text.push('|');
    }
    text
}

fn duplicates(config: &Config, options: &Options, r: &mut Reporter<'_>) {
    let severity = if options.target >= Version::v0(10) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, peer) in config.peers.iter().enumerate() {
        if let Some(&first) = seen.get(&identity(peer)) {
            r.report_as(
                rule::DUPLICATE_PEER,
                severity,
                peer.span.clone(),
                format!("peer #{} already exists", i + 1),
            )
            .with_help(format!(
                "it repeats peer #{} exactly; remove one",
                first + 1
            ));
        } else {
            seen.insert(identity(peer), i);
        }
    }
}

fn frr_consistency(config: &Config, r: &mut Reporter<'_>) {
    let mut first_asn: Option<u32> = None;
    let mut first_router_id: Option<&str> = None;
    let mut addresses: Vec<(&str, Option<u16>)> = Vec::new();
    for peer in &config.peers {
        if let Some(asn) = &peer.my_asn {
            match first_asn {
                Some(first) if first != asn.value => {
                    r.report(rule::FRR_MODE_CONFLICT, asn.span.clone(), format!("my-asn {} differs from {first} on an earlier peer; FRR mode runs one BGP instance per node", asn.value));
                }
                None => first_asn = Some(asn.value),
                _ => {}
            }
        }
        if let Some(id) = &peer.router_id {
            match first_router_id {
                Some(first) if first != id.value => {
                    r.report(rule::FRR_MODE_CONFLICT, id.span.clone(), format!("router-id {} differs from {first} on an earlier peer; FRR mode needs one router ID", id.value));
                }
                None => first_router_id = Some(&id.value),
                _ => {}
            }
        }
        if let Some(address) = &peer.peer_address {
            let key = (
                address.value.as_str(),
                peer.peer_port.as_ref().map(|p| p.value),
            );
            if addresses.contains(&key) {
                r.report(
                    rule::FRR_MODE_CONFLICT,
                    address.span.clone(),
                    format!(
                        "peer address {} appears twice; FRR mode allows one session per address",
                        address.value
                    ),
                );
            }
            addresses.push(key);
        }
    }
}
