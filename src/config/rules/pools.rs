//! Rules about `address-pools`: names, protocols, address entries, overlaps, advertisements.

use std::net::IpAddr;
use std::ops::Range;

use super::Options;
use crate::config::addr::{from_u128, parse_entry, Block, EntryError};
use crate::config::model::{Advertisement, Config, Pool, Spanned};
use crate::config::report::Reporter;
use crate::config::rule;
use crate::config::version::{BgpMode, Version};
use crate::diag::Severity;

/// An IPv4 entry wider than this many addresses is flagged as a likely typo.
const WIDE_V4: u128 = 1 << 16;
/// An IPv6 entry wider than a /32 is flagged.
const WIDE_V6: u128 = 1 << 96;

/// A pool entry that parsed, with where it was written.
struct Entry<'a> {
    text: &'a Spanned<String>,
    block: Block,
    pool: &'a str,
}

pub fn check(config: &Config, options: &Options, r: &mut Reporter<'_>) {
    let mut all_entries: Vec<Entry<'_>> = Vec::new();
    let mut names: Vec<&Spanned<String>> = Vec::new();
    for (i, pool) in config.pools.iter().enumerate() {
        let ctx = format!("address pool #{}", i + 1);
        match &pool.name {
            None => {
                r.report(
                    rule::MISSING_FIELD,
                    pool.span.clone(),
                    format!("{ctx}: missing pool name"),
                )
                .with_help("add `name: <pool name>`");
            }
            Some(name) => {
                if names.iter().any(|n| n.value == name.value) {
                    r.report(
                        rule::DUPLICATE_POOL,
                        name.span.clone(),
                        format!("duplicate definition of pool {:?}", name.value),
                    )
                    .with_help("pool names must be unique; rename or merge the pools");
                }
                names.push(name);
            }
        }
        protocol(pool, &ctx, r);
        let entries = entries(pool, options, r);
        usable(pool, &entries, r);
        if pool.is_bgp() {
            ipv6_announce(pool, &entries, options, r);
            if let Some(ads) = &pool.bgp_advertisements {
                for ad in &ads.value {
                    aggregation(ad, &entries, options, r);
                }
                duplicate_advertisements(&ads.value, options, r);
                localpref_ignored(&ads.value, config, r);
            }
        } else if let (Some(ads), Some(p)) = (&pool.bgp_advertisements, &pool.protocol) {
            if p.value == "layer2" && !ads.value.is_empty() {
                r.report(
                    rule::ADVERTISEMENTS_IN_LAYER2,
                    ads.span.clone(),
                    "cannot have bgp-advertisements configuration element in a layer2 address pool",
                )
                .with_help("remove bgp-advertisements, or set `protocol: bgp`");
            }
        }
        all_entries.extend(entries);
    }
    overlaps(&all_entries, r);
}

fn protocol(pool: &Pool, ctx: &str, r: &mut Reporter<'_>) {
    let Some(protocol) = &pool.protocol else {
        r.report(
            rule::MISSING_FIELD,
            pool.span.clone(),
            format!("{ctx}: address pool is missing the protocol field"),
        )
        .with_help("add `protocol: bgp` (or `protocol: layer2`)");
        return;
    };
    if matches!(protocol.value.as_str(), "bgp" | "layer2") {
        return;
    }
    let d = r.report(
        rule::UNKNOWN_PROTOCOL,
        protocol.span.clone(),
        format!("unknown protocol {:?}", protocol.value),
    );
    match protocol.value.to_ascii_lowercase().as_str() {
        "arp" | "ndp" => {
            d.with_help("`arp` and `ndp` became `layer2` in MetalLB v0.5 and were removed in v0.6")
        }
        "bgp" | "layer2" => d.with_help(format!(
            "protocols are lower case: write `{}`",
            protocol.value.to_ascii_lowercase()
        )),
        _ => d.with_help("use `bgp` or `layer2`"),
    };
}

/// Parse and check each address entry; return those that parsed.
fn entries<'a>(pool: &'a Pool, options: &Options, r: &mut Reporter<'_>) -> Vec<Entry<'a>> {
    let Some(addresses) = &pool.addresses else {
        r.report(
            rule::NO_ADDRESSES,
            pool.span.clone(),
            "pool has no prefixes defined",
        )
        .with_help("add `addresses:` with at least one CIDR or range");
        return Vec::new();
    };
    if addresses.value.is_empty() {
        r.report(
            rule::NO_ADDRESSES,
            addresses.span.clone(),
            "pool has no prefixes defined",
        )
        .with_help("add at least one CIDR or range");
    }
    let name = pool.name_str();
    let trims = options.target >= Version::v0(9);
    let mut out = Vec::new();
    for text in &addresses.value {
        match parse_entry(&text.value, trims) {
            Ok(block) => {
                entry_checks(text, &block, name, options, r);
                out.push(Entry {
                    text,
                    block,
                    pool: name,
                });
            }
            Err(e) => entry_error(text, e, name, trims, options, r),
        }
    }
    out
}

fn entry_error(
    text: &Spanned<String>,
    error: EntryError,
    pool: &str,
    trims: bool,
    options: &Options,
    r: &mut Reporter<'_>,
) {
    let raw = &text.value;
    match error {
        EntryError::Syntax(inner) => {
            let d = r.report(
                rule::INVALID_ADDRESS,
                text.span.clone(),
                format!("invalid CIDR {raw:?} in pool {pool:?}: {inner}"),
            );
            if !trims && parse_entry(raw, true).is_ok() {
                d.with_help(format!("MetalLB {} does not trim spaces around the dash of a range (v0.9 does): remove them", options.target));
            } else {
                d.with_help("write a CIDR such as 192.168.10.0/24 or a range such as 192.168.10.10-192.168.10.20");
            }
        }
        EntryError::Reversed { first, last } => {
            let d = r.report(
                rule::RANGE_REVERSED,
                text.span.clone(),
                format!(
                    "invalid IP range {raw:?}: start IP {:?} is after the end IP {:?}",
                    first.to_string(),
                    last.to_string()
                ),
            );
            if options.target < Version::v0(11) {
                d.with_help(format!("MetalLB {} accepts this silently and the range yields no addresses; write {last}-{first}", options.target));
            } else {
                d.with_help(format!("write {last}-{first}"));
            }
        }
        EntryError::MixedFamilies { first, last } => {
            r.report(rule::RANGE_MIXED_FAMILIES, text.span.clone(), format!("invalid IP range {raw:?}: {first} and {last} are of different address families"))
                .with_help("a range runs from IPv4 to IPv4 or IPv6 to IPv6; MetalLB before v0.11 silently turns this into no addresses");
        }
    }
}

fn entry_checks(
    text: &Spanned<String>,
    block: &Block,
    pool: &str,
    options: &Options,
    r: &mut Reporter<'_>,
) {
    if options.target == Version::v0(11) && block.cidr.is_none() && block.first == block.last {
        r.report(
            rule::RANGE_REVERSED,
            text.span.clone(),
            format!(
                "invalid IP range {:?}: start IP {:?} is after the end IP {:?}",
                text.value,
                block.first.to_string(),
                block.last.to_string()
            ),
        )
        .with_help(format!(
            "MetalLB v0.11 rejects single-address ranges; write {}/{}",
            block.first,
            if block.is_v4() { 32 } else { 128 }
        ));
    }
    if let Some((net, true)) = block.cidr {
        let single = if block.is_v4() { 32 } else { 128 };
        let written_ip = text.value.split('/').next().unwrap_or_default();
        r.report(
            rule::CIDR_HOST_BITS,
            text.span.clone(),
            format!(
                "CIDR {:?} has host bits set: MetalLB uses {net}",
                text.value
            ),
        )
        .with_label(format!("means {net}, {} addresses", net_size(block)))
        .with_help(format!(
            "write {net} if you meant the whole network, or {written_ip}/{single} for one address"
        ));
    }
    let wide = if block.is_v4() { WIDE_V4 } else { WIDE_V6 };
    if block.size() > wide {
        let mut help = format!("{} addresses: check for a typo", net_size(block));
        if let Some(fix) = typo_fix(block) {
            help = format!("{help}; did you mean {fix}?");
        }
        r.report(
            rule::SUSPICIOUSLY_WIDE,
            text.span.clone(),
            format!(
                "address entry {:?} in pool {pool:?} is unusually wide",
                text.value
            ),
        )
        .with_help(help);
    }
}

fn net_size(block: &Block) -> String {
    let size = block.size();
    if size == u128::MAX {
        "2^128".to_string()
    } else {
        size.to_string()
    }
}

/// For an IPv4 range whose ends differ in exactly one of the first three octets, the range each
/// end would give if that octet were a typo, e.g. 192.68.1.1-192.168.1.255 suggests
/// 192.168.1.1-192.168.1.255.
fn typo_fix(block: &Block) -> Option<String> {
    let (IpAddr::V4(a), IpAddr::V4(b)) = (block.first, block.last) else {
        return None;
    };
    if block.cidr.is_some() {
        return None;
    }
    let (a, b) = (a.octets(), b.octets());
    let differing: Vec<usize> = (0..3).filter(|&i| a[i] != b[i]).collect();
    let [i] = differing[..] else { return None };
    let mut start = a;
    start[i] = b[i];
    let mut end = b;
    end[i] = a[i];
    let fmt = |o: [u8; 4]| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
    (start <= b).then(|| format!("{}-{} (or {}-{})", fmt(start), fmt(b), fmt(a), fmt(end)))
}

fn usable(pool: &Pool, entries: &[Entry<'_>], r: &mut Reporter<'_>) {
    let Some(avoid) = &pool.avoid_buggy_ips else {
        return;
    };
    if !avoid.value || entries.is_empty() {
        return;
    }
    let total: u128 = entries
        .iter()
        .map(|e| e.block.usable_avoiding_buggy())
        .fold(0, u128::saturating_add);
    if total == 0 {
        let span = pool
            .addresses
            .as_ref()
            .map_or(pool.span.clone(), |a| a.span.clone());
        r.report(
            rule::NO_USABLE_ADDRESS,
            span,
            format!(
                "pool {:?} has no usable address: avoid-buggy-ips excludes every one",
                pool.name_str()
            ),
        )
        .with_label("only addresses ending in .0 or .255")
        .with_help("widen the pool, or drop avoid-buggy-ips");
    }
}

fn ipv6_announce(pool: &Pool, entries: &[Entry<'_>], options: &Options, r: &mut Reporter<'_>) {
    if options.mode == BgpMode::Frr && options.target >= Version::v0(12) {
        return;
    }
    for e in entries.iter().filter(|e| !e.block.is_v4()) {
        let d = r.report(
            rule::IPV6_NOT_ANNOUNCEABLE,
            e.text.span.clone(),
            format!(
                "pool {:?} has ipv6 CIDR {}, native bgp mode does not support ipv6",
                pool.name_str(),
                e.text.value
            ),
        );
        if options.target >= Version::v0(12) {
            d.with_help("MetalLB's native speaker announces IPv4 only; use --bgp-mode frr if the cluster runs the FRR speaker");
        } else {
            d.with_help(format!(
                "MetalLB {} announces IPv4 only over BGP (FRR mode arrived in v0.12)",
                options.target
            ));
        }
    }
}

fn aggregation(ad: &Advertisement, entries: &[Entry<'_>], options: &Options, r: &mut Reporter<'_>) {
    for (v4, value, max) in [
        (true, &ad.aggregation_length, 32),
        (false, &ad.aggregation_length_v6, 128),
    ] {
        let length = match value {
            Some(l) if l.value < 0 || l.value > max => {
                r.report(
                    rule::INVALID_AGGREGATION,
                    l.span.clone(),
                    format!("invalid aggregation length {}", l.value),
                )
                .with_help(format!(
                    "an {} aggregation length is between 0 and {max}",
                    if v4 { "IPv4" } else { "IPv6" }
                ));
                continue;
            }
            Some(l) => (l.value, l.span.clone()),
            None => continue,
        };
        aggregation_vs_prefixes(length, v4, entries, options, r);
    }
}

fn aggregation_vs_prefixes(
    (length, span): (i64, Range<usize>),
    v4: bool,
    entries: &[Entry<'_>],
    options: &Options,
    r: &mut Reporter<'_>,
) {
    for e in entries.iter().filter(|e| e.block.is_v4() == v4) {
        let cidrs = e.block.cidrs();
        // v0.12 compares against the widest CIDR of a range; earlier releases against each.
        let prefix = if options.target >= Version::v0(12) {
            cidrs.iter().map(|c| c.prefix_len()).min()
        } else {
            cidrs.iter().map(|c| c.prefix_len()).max()
        };
        let Some(prefix) = prefix else { continue };
        if length < i64::from(prefix) {
            let shown = cidrs
                .iter()
                .find(|c| c.prefix_len() == prefix)
                .map_or(e.text.value.clone(), |c| c.to_string());
            r.report(rule::AGGREGATION_SHORTER_THAN_PREFIX, span.clone(), format!("invalid aggregation length {length}: prefix {shown:?} in this pool is more specific than the aggregation length"))
                .with_help(format!("the aggregate would announce addresses outside the pool; use an aggregation length of at least {prefix}"));
        }
    }
}

fn duplicate_advertisements(ads: &[Advertisement], options: &Options, r: &mut Reporter<'_>) {
    if options.target < Version::v0(12) {
        return;
    }
    for (i, ad) in ads.iter().enumerate() {
        if let Some(j) = ads[..i]
            .iter()
            .position(|b| advertisement_key(b) == advertisement_key(ad))
        {
            r.report_as(
                rule::DUPLICATE_ADVERTISEMENT,
                Severity::Error,
                ad.span.clone(),
                format!(
                    "duplicate definition of bgpadvertisements. advertisement {} and {} are equal",
                    j + 1,
                    i + 1
                ),
            );
        }
    }
}

/// What makes two advertisements equal for MetalLB v0.12's duplicate check.
fn advertisement_key(a: &Advertisement) -> (i64, i64, u32, Vec<&str>) {
    let mut communities: Vec<&str> = a.communities.iter().map(|c| c.value.as_str()).collect();
    communities.sort_unstable();
    (
        a.aggregation_length.as_ref().map_or(32, |l| l.value),
        a.aggregation_length_v6.as_ref().map_or(128, |l| l.value),
        a.localpref.as_ref().map_or(0, |l| l.value),
        communities,
    )
}

fn localpref_ignored(ads: &[Advertisement], config: &Config, r: &mut Reporter<'_>) {
    let ibgp = |p: &crate::config::model::Peer| match (&p.my_asn, &p.peer_asn) {
        (Some(a), Some(b)) => a.value == b.value,
        _ => true,
    };
    if config.peers.is_empty() || config.peers.iter().any(ibgp) {
        return;
    }
    for ad in ads {
        if let Some(pref) = &ad.localpref {
            r.report(
                rule::LOCALPREF_IGNORED,
                pref.span.clone(),
                "localpref has no effect: every peer is eBGP",
            )
            .with_help("LOCAL_PREF is only sent to iBGP peers (my-asn equal to peer-asn)");
        }
    }
}

/// MetalLB rejects any two entries (in one pool or across pools) that overlap. Sorting by start
/// keeps this O(n log n) for configurations with thousands of pools.
fn overlaps(entries: &[Entry<'_>], r: &mut Reporter<'_>) {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| {
        let (a, b) = entries[i].block.bounds();
        (!entries[i].block.is_v4(), a, std::cmp::Reverse(b), i)
    });
    let mut reach: Option<(usize, u128)> = None;
    for &i in &order {
        let e = &entries[i];
        let (start, end) = e.block.bounds();
        if let Some((j, furthest)) = reach {
            let other = &entries[j];
            if other.block.is_v4() == e.block.is_v4() && start <= furthest {
                // Report on whichever was written later, naming the earlier one, as MetalLB does.
                let (later, earlier) = if i > j { (e, other) } else { (other, e) };
                r.report(
                    rule::OVERLAPPING_ADDRESSES,
                    later.text.span.clone(),
                    format!(
                        "CIDR {:?} in pool {:?} overlaps with already defined CIDR {:?}",
                        later.text.value, later.pool, earlier.text.value
                    ),
                )
                .with_help(format!(
                    "{} is in both; every address may belong to one pool only",
                    from_u128(start.max(other.block.bounds().0), e.block.is_v4())
                ));
                if end <= furthest {
                    continue;
                }
            }
        }
        if reach.is_none_or(|(j, furthest)| {
            entries[j].block.is_v4() != e.block.is_v4() || end > furthest
        }) {
            reach = Some((i, end));
        }
    }
}
