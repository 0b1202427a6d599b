//! The checks that custom resources need beyond the ConfigMap rules: the CRD schema's ranges,
//! enums and validation rules, the admission webhooks' namespace and peer checks, references
//! between objects and to Secrets, duplicate names, and pools nobody announces.

use super::model::*;
use super::to_model::Selection;
use super::NAMESPACE;
use crate::config::duration::parse_go_duration;
use crate::config::report::Reporter;
use crate::config::rule;
use crate::config::version::{BgpMode, Version};
use crate::config::Options;
use crate::diag::Severity;
use std::collections::HashSet;

pub fn check(
    objects: &[Object],
    selection: &Selection,
    secrets: &[(String, Option<String>, Secret)],
    options: &Options,
    r: &mut Reporter<'_>,
) {
    namespaces(objects, r);
    duplicates(objects, r);
    if options.mode == BgpMode::Frr {
        vrf_duplicates(objects, r);
    }
    for object in objects {
        if let Some(name) = object.name.as_ref().filter(|n| !is_dns_subdomain(&n.value)) {
            r.report(
                rule::SCHEMA_VIOLATION,
                name.span.clone(),
                format!("metadata.name: Invalid value: {:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", name.value),
            )
            .with_help("the API server refuses the object: use lower case letters, digits, '-' and '.'");
        }
    }
    let names = Names::new(objects);
    for (index, object) in objects.iter().enumerate() {
        match &object.spec {
            Spec::Peer(p) => peer(object, p, secrets, options, r),
            Spec::BgpAdvertisement(a) => {
                aggregation_length(&a.aggregation_length, "spec.aggregationLength", r);
                references(&names, &a.ip_address_pools, &a.peers, r);
                large_communities(object, &a.communities, options, r);
            }
            Spec::L2Advertisement(a) => references(&names, &a.ip_address_pools, &[], r),
            Spec::Community(c) => {
                for entry in &c.communities {
                    if let Some(v) = &entry.value {
                        if v.value.starts_with("large:") {
                            large_communities(object, std::slice::from_ref(v), options, r);
                        }
                    }
                }
            }
            Spec::AddressPool(p) => {
                if let Some(ads) = &p.bgp_advertisements {
                    for ad in &ads.value {
                        let path = "spec.bgpAdvertisements.aggregationLength";
                        aggregation_length(&ad.aggregation_length, path, r);
                    }
                }
                if p.protocol.is_none() && p.span != (0..0) {
                    r.report(
                        rule::MISSING_FIELD,
                        p.span.clone(),
                        "address pool is missing the protocol field",
                    )
                    .with_help("add `protocol: bgp` or `protocol: layer2`");
                }
            }
            Spec::Pool(_) if !selection.any[index] => not_advertised(object, r),
            Spec::Pool(_) => {}
            Spec::Bfd(_) => {}
        }
    }
}

/// The CRD schema's minimum for an advertisement's `aggregationLength` (at `path`).
fn aggregation_length(
    len: &Option<crate::config::model::Spanned<i64>>,
    path: &str,
    r: &mut Reporter<'_>,
) {
    if let Some(len) = len.as_ref().filter(|len| len.value < 1) {
        schema(
            r,
            len.span.clone(),
            path,
            len.value,
            "should be greater than or equal to 1",
        );
    }
}

/// The API server's own wording for a schema violation.
fn schema(
    r: &mut Reporter<'_>,
    span: std::ops::Range<usize>,
    path: &str,
    value: impl std::fmt::Display,
    why: &str,
) {
    r.report(
        rule::SCHEMA_VIOLATION,
        span,
        format!("{path}: Invalid value: {value}: {path} in body {why}"),
    );
}

fn namespaces(objects: &[Object], r: &mut Reporter<'_>) {
    for object in objects {
        if let Some(ns) = &object.namespace {
            if ns.value != NAMESPACE {
                r.report(
                    rule::WRONG_NAMESPACE,
                    ns.span.clone(),
                    format!("resource must be created in {NAMESPACE} namespace"),
                )
                .with_help(format!("MetalLB reads its objects from {NAMESPACE} only; its webhook refuses others (if MetalLB runs in another namespace, objects must go there)"));
            }
        }
    }
}

fn duplicates(objects: &[Object], r: &mut Reporter<'_>) {
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    for object in objects {
        let Some(name) = &object.name else { continue };
        let ns = object.namespace.as_ref().map_or("", |n| n.value.as_str());
        let key = (object.kind, ns, name.value.as_str());
        if !seen.insert(key) {
            r.report(
                rule::DUPLICATE_OBJECT,
                name.span.clone(),
                format!("duplicate definition of {} {:?}", object.kind, name.value),
            )
            .with_help("applying both keeps only the last one: rename one, or remove it");
        }
    }
    let mut aliases: Vec<&str> = Vec::new();
    for object in objects {
        let Spec::Community(c) = &object.spec else {
            continue;
        };
        for entry in &c.communities {
            let Some(name) = &entry.name else { continue };
            if aliases.contains(&name.value.as_str()) {
                r.report(
                    rule::DUPLICATE_OBJECT,
                    name.span.clone(),
                    format!("duplicate definition of community {:?}", name.value),
                )
                .with_help("community alias names are global across all Community objects");
            } else {
                aliases.push(&name.value);
            }
        }
    }
}

/// The names of the pools and of the peers, to resolve references.
struct Names<'o> {
    pools: Vec<&'o str>,
    pool_set: HashSet<&'o str>,
    peers: Vec<&'o str>,
    peer_set: HashSet<&'o str>,
}

impl<'o> Names<'o> {
    fn new(objects: &'o [Object]) -> Self {
        let of = |kinds: &[&str]| -> Vec<&'o str> {
            objects
                .iter()
                .filter(|o| kinds.contains(&o.kind))
                .map(Object::name_str)
                .collect()
        };
        let pools = of(&["IPAddressPool", "AddressPool"]);
        let peers = of(&["BGPPeer"]);
        Names {
            pool_set: pools.iter().copied().collect(),
            peer_set: peers.iter().copied().collect(),
            pools,
            peers,
        }
    }
}

fn references(
    names: &Names<'_>,
    pools: &[crate::config::model::Spanned<String>],
    peers: &[crate::config::model::Spanned<String>],
    r: &mut Reporter<'_>,
) {
    unknown(
        pools,
        &names.pool_set,
        &names.pools,
        |pool| {
            format!("no IPAddressPool named {pool:?}: this advertisement announces nothing from it")
        },
        "MetalLB accepts the name and waits for the pool; check the spelling, or create the pool",
        r,
    );
    unknown(
        peers,
        &names.peer_set,
        &names.peers,
        |peer| format!("no BGPPeer named {peer:?}: nothing is advertised to it"),
        "`peers` holds BGPPeer object names, not addresses",
        r,
    );
}

/// MLB205 for each reference that no object of the kind is named: a did-you-mean among `names`,
/// else `help`.
fn unknown(
    refs: &[crate::config::model::Spanned<String>],
    set: &HashSet<&str>,
    names: &[&str],
    message: impl Fn(&str) -> String,
    help: &'static str,
    r: &mut Reporter<'_>,
) {
    for name in refs {
        if !set.contains(name.value.as_str()) {
            let near = crate::config::suggest::did_you_mean(&name.value, names.iter().copied());
            let d = r.report(
                rule::UNKNOWN_REFERENCE,
                name.span.clone(),
                message(&name.value),
            );
            match near {
                Some(near) => d.with_help(format!("did you mean {near:?}?")),
                None => d.with_help(help),
            };
        }
    }
}

fn large_communities(
    object: &Object,
    communities: &[crate::config::model::Spanned<String>],
    options: &Options,
    r: &mut Reporter<'_>,
) {
    for c in communities.iter().filter(|c| c.value.starts_with("large:")) {
        let parts: Vec<&str> = c.value.split(':').collect();
        let valid = parts.len() == 4 && parts[1..].iter().all(|p| p.parse::<u32>().is_ok());
        if !valid {
            r.report(
                rule::INVALID_COMMUNITY,
                c.span.clone(),
                format!("invalid community value: invalid marker for large community, expected community to be of format large:<uint32>:<uint32>:<uint32> but got {:?} instead", c.value),
            );
        } else if options.mode == BgpMode::Native {
            let what = if object.kind == "Community" {
                "BGP community CR"
            } else {
                "BGP advertisement"
            };
            r.report(
                rule::NATIVE_MODE_UNSUPPORTED,
                c.span.clone(),
                format!("native BGP mode only supports legacy communities, {what} {:?} has non legacy community {:?}", object.name_str(), c.value),
            )
            .with_help("large communities need the FRR speaker (--bgp-mode frr)");
        }
    }
}

fn not_advertised(pool: &Object, r: &mut Reporter<'_>) {
    r.report(
        rule::POOL_NOT_ADVERTISED,
        pool.name_span(),
        format!("no BGPAdvertisement or L2Advertisement selects pool {:?}: its addresses are assigned but never announced", pool.name_str()),
    )
    .with_help("add a BGPAdvertisement (or L2Advertisement) with this pool in ipAddressPools");
}

fn peer(
    object: &Object,
    p: &PeerSpec,
    secrets: &[(String, Option<String>, Secret)],
    options: &Options,
    r: &mut Reporter<'_>,
) {
    let target = options.target;
    let name = object.name_str();
    if let Some(port) = &p.peer_port {
        let min = if target >= Version::v0(15) { 1 } else { 0 };
        if port.value < min {
            schema(
                r,
                port.span.clone(),
                "spec.peerPort",
                port.value,
                &format!("should be greater than or equal to {min}"),
            );
        } else if port.value > 16384 {
            schema(
                r,
                port.span.clone(),
                "spec.peerPort",
                port.value,
                "should be less than or equal to 16384",
            );
        }
    }
    if let Some(asn) = &p.local_asn {
        if asn.value == 0 {
            schema(
                r,
                asn.span.clone(),
                "spec.localASN",
                0,
                "should be greater than or equal to 1",
            );
        }
    }
    if let Some(dynamic) = &p.dynamic_asn {
        if !matches!(dynamic.value.as_str(), "internal" | "external") {
            r.report(
                rule::SCHEMA_VIOLATION,
                dynamic.span.clone(),
                format!("spec.dynamicASN: Unsupported value: {:?}: supported values: \"internal\", \"external\"", dynamic.value),
            );
        }
        if let Some(asn) = &p.peer_asn {
            r.report(rule::PEER_ASN, asn.span.clone(), "both peer ASN and dynamicASN specified")
                .with_help("keep peerASN for a fixed AS, or dynamicASN to accept whatever the router announces");
        }
    }
    if target < Version::v0(15) && p.peer_address.is_none() {
        r.report(
            rule::MISSING_FIELD,
            super::to_model::peer_span(object, p),
            "spec.peerAddress: Required value",
        )
        .with_help("add `peerAddress: <router IP>`");
    }
    if target >= Version::v0(15) {
        match (&p.peer_address, &p.interface) {
            (None, None) => {
                r.report(
                    rule::PEER_ADDRESS_OR_INTERFACE,
                    object.name_span(),
                    "peer has no Address or Interface specified",
                )
                .with_help(
                    "add `peerAddress: <router IP>` (or `interface:` for an unnumbered session)",
                );
            }
            (Some(_), Some(i)) => {
                r.report(rule::PEER_ADDRESS_OR_INTERFACE, i.span.clone(), "peer has both Address and Interface specified")
                    .with_help("remove one: interface is for unnumbered BGP, peerAddress for a numbered session");
            }
            _ => {}
        }
    }
    if let Some(connect) = &p.connect_time {
        match parse_go_duration(&connect.value, true) {
            Err(e) => {
                r.report(rule::SCHEMA_VIOLATION, connect.span.clone(), e);
            }
            Ok(ns) if !(1_000_000_000..=65_535_000_000_000).contains(&ns) => {
                r.report(
                    rule::SCHEMA_VIOLATION,
                    connect.span.clone(),
                    "connect time should be between 1 seconds to 65535",
                );
            }
            Ok(ns) if ns % 1_000_000_000 != 0 => {
                r.report(
                    rule::SCHEMA_VIOLATION,
                    connect.span.clone(),
                    "connect time should contain a whole number of seconds",
                );
            }
            Ok(_) => {}
        }
    }
    if options.mode == BgpMode::Native {
        let address = p.peer_address.as_ref().map_or("", |a| a.value.as_str());
        let set = |b: &Option<crate::config::model::Spanned<bool>>| {
            b.as_ref().filter(|b| b.value).map(|b| b.span.clone())
        };
        let fields: [(&str, Option<std::ops::Range<usize>>, bool); 7] = [
            (
                "vrf",
                p.vrf
                    .as_ref()
                    .filter(|v| !v.value.is_empty())
                    .map(|v| v.span.clone()),
                false,
            ),
            (
                "connect time",
                p.connect_time.as_ref().map(|c| c.span.clone()),
                false,
            ),
            (
                "dynamicASN",
                p.dynamic_asn.as_ref().map(|c| c.span.clone()),
                false,
            ),
            (
                "interface",
                p.interface.as_ref().map(|c| c.span.clone()),
                false,
            ),
            (
                "EnableGracefulRestart",
                set(&p.enable_graceful_restart),
                true,
            ),
            ("disable MP", set(&p.disable_mp), true),
            (
                "dualstackaddressfamily",
                set(&p.dual_stack_address_family),
                true,
            ),
        ];
        for (what, span, flag) in fields {
            let Some(span) = span else { continue };
            let message = if flag {
                format!("peer {address} has {what} flag set on native bgp mode")
            } else {
                format!("peer {address} has {what} set on native bgp mode")
            };
            r.report(rule::NATIVE_MODE_UNSUPPORTED, span, message)
                .with_help("this needs the FRR speaker (--bgp-mode frr)");
        }
    }
    let Some(secret_ref) = &p.password_secret else {
        return;
    };
    if let Some(password) = &p.password {
        r.report(
            rule::PASSWORD_AND_SECRET,
            password.span.clone(),
            format!(
                "can not have both password and secret ref set in peer config {:?}/{name:?}",
                object
                    .namespace
                    .as_ref()
                    .map_or(NAMESPACE, |n| n.value.as_str())
            ),
        )
        .with_help("keep passwordSecret and remove password");
    }
    let Some(secret_name) = &secret_ref.name else {
        return;
    };
    if let Some(ns) = secret_ref
        .namespace
        .as_ref()
        .filter(|ns| ns.value != NAMESPACE)
    {
        r.report_as(
            rule::PASSWORD_SECRET,
            Severity::Warning,
            ns.span.clone(),
            format!("passwordSecret.namespace {:?} is ignored: MetalLB reads the secret from {NAMESPACE}", ns.value),
        )
        .with_help(format!("put the Secret in {NAMESPACE} and remove the namespace"));
    }
    let found = secrets.iter().find(|(n, ns, _)| {
        *n == secret_name.value && ns.as_deref().is_none_or(|ns| ns == NAMESPACE)
    });
    match found {
        None => {
            r.report_as(
                rule::PASSWORD_SECRET,
                Severity::Warning,
                secret_name.span.clone(),
                format!("secret ref not found for peer config {NAMESPACE:?}/{:?}", secret_name.value),
            )
            .with_help("the inputs hold no such Secret; MetalLB keeps the session down until it exists (ignore this if the Secret is applied separately)");
        }
        Some((_, _, secret)) => {
            if secret.type_.as_deref() != Some("kubernetes.io/basic-auth") {
                r.report(
                    rule::PASSWORD_SECRET,
                    secret_name.span.clone(),
                    format!(
                        "secret type mismatch on {NAMESPACE:?}/{:?}, type {:?} is expected ",
                        secret_name.value, "kubernetes.io/basic-auth"
                    ),
                )
                .with_help("give the Secret `type: kubernetes.io/basic-auth`");
            } else if !secret.keys.iter().any(|k| k == "password") {
                r.report(
                    rule::PASSWORD_SECRET,
                    secret_name.span.clone(),
                    format!(
                        "password not specified in the secret {NAMESPACE:?}/{:?}",
                        secret_name.value
                    ),
                )
                .with_help("add a `password` key to the Secret's data or stringData");
            }
        }
    }
}

/// Kubernetes object names: a lowercase RFC 1123 subdomain of at most 253 characters.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// FRR mode runs one session per address in each VRF (peers outside a VRF are checked by the
/// ConfigMap rule MLB026 on the model).
fn vrf_duplicates(objects: &[Object], r: &mut Reporter<'_>) {
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for object in objects {
        let Spec::Peer(p) = &object.spec else {
            continue;
        };
        let Some(vrf) = p.vrf.as_ref().filter(|v| !v.value.is_empty()) else {
            continue;
        };
        let Some(address) = &p.peer_address else {
            continue;
        };
        if !seen.insert((address.value.as_str(), vrf.value.as_str())) {
            r.report(
                rule::FRR_MODE_CONFLICT,
                address.span.clone(),
                format!(
                    "peer {} already exists, FRR mode doesn't support duplicate BGPPeers",
                    address.value
                ),
            )
            .with_help(format!(
                "another BGPPeer has this address in VRF {:?}: remove one",
                vrf.value
            ));
        }
    }
}
