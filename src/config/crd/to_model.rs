//! Custom resources onto the ConfigMap model, so that the ConfigMap rules (addresses, overlaps,
//! aggregation, communities, timers, selectors, BFD ranges) check them too. A BGPAdvertisement
//! becomes an advertisement of every pool it selects; a pool that some BGPAdvertisement selects
//! is a `bgp` pool, any other a `layer2` one.

use super::model::*;
use crate::config::model::{self as m, Spanned};

/// ConfigMap rules that do not apply to custom resources: whole-object duplicates (the objects
/// differ by name, so MetalLB cannot see them; `MLB212` checks names instead), the synthetic
/// protocol, the pool name (checked as metadata.name), an empty configuration.
pub const NOT_FOR_CRDS: &[&str] = &[
    "MLB005", "MLB018", "MLB041", "MLB050", "MLB052", "MLB055", "MLB061", "MLB090",
];

/// Which advertisements select which pools, computed once: by name through an index, by
/// selector or "every pool" by a pass over the pools.
pub struct Selection {
    /// For each object (by index), the BGPAdvertisements (object indices, in order) that
    /// select it; empty for anything but a pool.
    pub bgp: Vec<Vec<usize>>,
    /// For each object, whether any BGPAdvertisement or L2Advertisement selects it.
    pub any: Vec<bool>,
}

pub fn selection(objects: &[Object]) -> Selection {
    let mut by_name: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    let mut pools = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        if matches!(o.spec, Spec::Pool(_)) {
            by_name.entry(o.name_str()).or_default().push(i);
            pools.push(i);
        }
    }
    let mut out = Selection {
        bgp: vec![Vec::new(); objects.len()],
        any: vec![false; objects.len()],
    };
    for (a, o) in objects.iter().enumerate() {
        let (names, selectors, bgp) = match &o.spec {
            Spec::BgpAdvertisement(s) => (&s.ip_address_pools, &s.ip_address_pool_selectors, true),
            Spec::L2Advertisement(s) => (&s.ip_address_pools, &s.ip_address_pool_selectors, false),
            _ => continue,
        };
        // No pool named or selected: the advertisement applies to every pool.
        let mut chosen: Vec<usize> = if names.is_empty() && selectors.is_empty() {
            pools.clone()
        } else {
            let mut c: Vec<usize> = names
                .iter()
                .filter_map(|n| by_name.get(n.value.as_str()))
                .flatten()
                .copied()
                .collect();
            c.extend(
                pools
                    .iter()
                    .copied()
                    .filter(|&p| selectors.iter().any(|s| matches(s, &objects[p].labels))),
            );
            c
        };
        chosen.sort_unstable();
        chosen.dedup();
        for p in chosen {
            out.any[p] = true;
            if bgp {
                out.bgp[p].push(a);
            }
        }
    }
    out
}

pub fn config(objects: &[Object], selection: &Selection, len: usize) -> m::Config {
    let mut config = m::Config {
        span: len..len,
        ..m::Config::default()
    };
    for (index, object) in objects.iter().enumerate() {
        match &object.spec {
            Spec::Peer(p) => config.peers.push(peer(object, p)),
            Spec::Community(c) => {
                for entry in &c.communities {
                    if let (Some(name), Some(value)) = (&entry.name, &entry.value) {
                        if !value.value.starts_with("large:") {
                            config.communities.push(m::CommunityAlias {
                                name: name.clone(),
                                value: value.clone(),
                            });
                        }
                    }
                }
            }
            Spec::Bfd(b) => config.bfd_profiles.push(m::BfdProfile {
                span: object.span.clone(),
                name: object.name.clone(),
                ..b.0.clone()
            }),
            Spec::Pool(p) => {
                let ads: Vec<m::Advertisement> = selection.bgp[index]
                    .iter()
                    .filter_map(|&i| match &objects[i].spec {
                        Spec::BgpAdvertisement(a) => Some(a),
                        _ => None,
                    })
                    .map(|a| {
                        advertisement(&m::Advertisement {
                            span: a.span.clone(),
                            aggregation_length: a.aggregation_length.clone(),
                            aggregation_length_v6: a.aggregation_length_v6.clone(),
                            localpref: a.local_pref.clone(),
                            communities: a.communities.clone(),
                        })
                    })
                    .collect();
                let protocol = if ads.is_empty() { "layer2" } else { "bgp" };
                config.pools.push(m::Pool {
                    span: object.span.clone(),
                    name: object.name.clone(),
                    protocol: Some(Spanned::new(protocol.into(), object.name_span())),
                    addresses: p.addresses.clone(),
                    avoid_buggy_ips: p.avoid_buggy_ips.clone(),
                    auto_assign: p.auto_assign.clone(),
                    bgp_advertisements: (!ads.is_empty())
                        .then(|| Spanned::new(ads, object.name_span())),
                });
            }
            Spec::AddressPool(p) => config.pools.push(m::Pool {
                span: object.span.clone(),
                name: object.name.clone(),
                bgp_advertisements: p.bgp_advertisements.as_ref().map(|ads| {
                    Spanned::new(
                        ads.value.iter().map(advertisement).collect(),
                        ads.span.clone(),
                    )
                }),
                ..p.0.clone()
            }),
            Spec::BgpAdvertisement(_) | Spec::L2Advertisement(_) => {}
        }
    }
    config
}

/// Kubernetes label-selector semantics (an empty selector matches everything).
pub fn matches(selector: &LabelSelector, labels: &[(String, String)]) -> bool {
    let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str());
    let labels_ok = selector
        .match_labels
        .iter()
        .all(|(k, v)| get(&k.value) == Some(v.value.as_str()));
    let exprs_ok = selector.match_expressions.iter().all(|e| {
        let key = e.key.as_ref().map_or("", |k| k.value.as_str());
        let in_values = |v: &str| e.values.iter().any(|x| x.value == v);
        match e.operator.as_ref().map(|o| o.value.as_str()) {
            Some("In") => get(key).is_some_and(in_values),
            Some("NotIn") => !get(key).is_some_and(in_values),
            Some("Exists") => get(key).is_some(),
            Some("DoesNotExist") => get(key).is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The advertisement the ConfigMap rules check: the custom resource's, less its large
/// communities.
fn advertisement(a: &m::Advertisement) -> m::Advertisement {
    m::Advertisement {
        communities: a
            .communities
            .iter()
            .filter(|c| !c.value.starts_with("large:"))
            .cloned()
            .collect(),
        ..a.clone()
    }
}

/// Where the model peer sits: its spec, or the object's name when it has none.
pub fn peer_span(object: &Object, p: &PeerSpec) -> std::ops::Range<usize> {
    if p.span == (0..0) {
        object.name_span()
    } else {
        p.span.clone()
    }
}

/// Model findings that are not findings for this object: an unnumbered peer has no address, a
/// peer with dynamicASN no peer ASN.
pub fn exempt(objects: &[Object]) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for object in objects {
        if let Spec::Peer(p) = &object.spec {
            // MLB209 (v0.15+) or the schema's required field (v0.13, v0.14) says it instead.
            if p.peer_address.is_none() {
                out.push(("MLB011", peer_span(object, p)));
            }
            if p.dynamic_asn.is_some() && p.peer_asn.is_none() {
                out.push(("MLB010", peer_span(object, p)));
            }
            // FRR mode's one-session-per-address and one-ASN rules hold per VRF: the model has
            // no VRF, so `rules::vrf_duplicates` checks peers in a VRF instead.
            if p.vrf.as_ref().is_some_and(|v| !v.value.is_empty()) {
                for span in [
                    p.peer_address.as_ref().map(|a| a.span.clone()),
                    p.my_asn.as_ref().map(|a| a.span.clone()),
                ]
                .into_iter()
                .flatten()
                {
                    out.push(("MLB026", span));
                }
            }
        }
    }
    out
}

/// ConfigMap keys in the ConfigMap rules' help texts, and their CRD spelling.
const KEYS: &[(&str, &str)] = &[
    ("aggregation-length-v6", "aggregationLengthV6"),
    ("aggregation-length", "aggregationLength"),
    ("avoid-buggy-ips", "avoidBuggyIPs"),
    ("auto-assign", "autoAssign"),
    ("bfd-profiles", "BFDProfile objects"),
    ("bgp-communities", "a Community object"),
    ("bfd-profile", "bfdProfile"),
    ("ebgp-multihop", "ebgpMultiHop"),
    ("hold-time", "holdTime"),
    ("keepalive-time", "keepaliveTime"),
    ("match-expressions", "matchExpressions"),
    ("match-labels", "matchLabels"),
    ("my-asn", "myASN"),
    ("node-selectors", "nodeSelectors"),
    ("peer-address", "peerAddress"),
    ("peer-asn", "peerASN"),
    ("peer-port", "peerPort"),
    ("router-id", "routerID"),
    ("source-address", "sourceAddress"),
    ("localpref", "localPref"),
    ("`protocol: bgp`", "a BGPAdvertisement"),
    ("read the ConfigMap", "read the BGPPeer"),
];

/// A ConfigMap rule's help text in CRD terms.
pub fn crd_help(help: &str) -> String {
    let mut out = help.to_string();
    for (from, to) in KEYS {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn peer(object: &Object, p: &PeerSpec) -> m::Peer {
    m::Peer {
        span: peer_span(object, p),
        name: object.name.clone(),
        my_asn: p.my_asn.clone(),
        peer_asn: p.peer_asn.clone(),
        peer_address: p.peer_address.clone(),
        peer_port: p.peer_port.as_ref().and_then(|port| {
            u16::try_from(port.value)
                .ok()
                .map(|v| Spanned::new(v, port.span.clone()))
        }),
        hold_time: p.hold_time.clone(),
        keepalive_time: p.keepalive_time.clone(),
        router_id: p.router_id.clone(),
        source_address: p.source_address.clone(),
        node_selectors: p.node_selectors.iter().map(|s| s.0.clone()).collect(),
        password: p.password.clone(),
        bfd_profile: p.bfd_profile.clone(),
        ebgp_multihop: p.ebgp_multihop.clone(),
    }
}
