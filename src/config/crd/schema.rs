//! The field tables of MetalLB's custom resources: each `spec` declares its keys once, with the
//! release that introduced them (checked against MetalLB's `api/` packages at v0.13.12, v0.14.9,
//! v0.15.3 and v0.16). The strict decoder in `config::decode` reads these tables: unknown keys
//! with a did-you-mean, wrong types, duplicate keys, fields newer than `--target-version`.

use std::ops::Range;

use super::model::*;
use crate::config::decode::{decode_as, live, record, retired, unsigned, Decoder, Field, Record};
use crate::config::model::{self as m, Spanned};
use crate::config::yaml::Node;

fn selectors(d: &mut Decoder<'_, '_>, v: &Node, k: &str) -> Vec<LabelSelector> {
    d.list(v, k, |d, n, _| d.record(n, k))
}

/// `impl Record for Crd<T>`: the CRD spelling of a model struct's keys.
macro_rules! crd_record {
    ($t:ty, $fields:expr) => {
        impl Record for Crd<$t> {
            const FIELDS: &'static [Field<Self>] = $fields;
            fn span_mut(&mut self) -> &mut Range<usize> {
                &mut self.0.span
            }
        }
    };
}

crd_record!(
    m::NodeSelector,
    &[
        live("matchLabels", 13, |d, s, v, k| s.0.match_labels =
            d.string_map(v, k)),
        live("matchExpressions", 13, |d, s, v, k| {
            s.0.match_expressions = d.list(v, k, |d, n, _| {
                d.record::<Expression>(n, "a match expression").0
            });
        }),
    ]
);

crd_record!(
    m::MatchExpression,
    &[
        live("key", 13, |d, e, v, k| e.0.key = d.string(v, k)),
        live("operator", 13, |d, e, v, k| e.0.operator = d.string(v, k)),
        live("values", 13, |d, e, v, k| e.0.values = d.strings(v, k)),
    ]
);

record!(
    ServiceAllocation,
    &[
        live("priority", 13, |d, s, v, k| s.priority = d.int(v, k)),
        live("namespaces", 13, |d, s, v, k| s.namespaces =
            d.strings(v, k)),
        live("namespaceSelectors", 13, |d, s, v, k| {
            s.namespace_selectors = selectors(d, v, k);
        }),
        live("serviceSelectors", 13, |d, s, v, k| {
            s.service_selectors = selectors(d, v, k);
        }),
    ]
);

record!(
    PoolSpec,
    &[
        live("addresses", 13, |d, p, v, k| p.addresses = d.address_list(v, k)),
        live("autoAssign", 13, |d, p, v, k| p.auto_assign = d.bool(v, k)),
        live("avoidBuggyIPs", 13, |d, p, v, k| p.avoid_buggy_ips = d.bool(v, k)),
        live("serviceAllocation", 13, |d, p, v, k| {
            p.service_allocation = Some(d.record(v, k));
        }),
        retired(
            "protocol",
            "IPAddressPool has no protocol: announce it with a BGPAdvertisement or an L2Advertisement",
        ),
        retired(
            "bgpAdvertisements",
            "IPAddressPool has no bgpAdvertisements: write a BGPAdvertisement that names the pool in ipAddressPools",
        ),
    ]
);

record!(
    SecretRef,
    &[
        live("name", 13, |d, s, v, k| s.name = d.string(v, k)),
        live("namespace", 13, |d, s, v, k| s.namespace = d.string(v, k)),
    ]
);

record!(
    PeerSpec,
    &[
        live("myASN", 13, |d, p, v, k| p.my_asn = unsigned(d, v, k)),
        live("peerASN", 13, |d, p, v, k| p.peer_asn = unsigned(d, v, k)),
        live("localASN", 16, |d, p, v, k| p.local_asn = unsigned(d, v, k)),
        live("dynamicASN", 14, |d, p, v, k| p.dynamic_asn =
            d.string(v, k)),
        live("peerAddress", 13, |d, p, v, k| p.peer_address =
            d.string(v, k)),
        live("interface", 15, |d, p, v, k| p.interface = d.string(v, k)),
        live("sourceAddress", 13, |d, p, v, k| p.source_address =
            d.string(v, k)),
        live("peerPort", 13, |d, p, v, k| p.peer_port = d.int(v, k)),
        live("holdTime", 13, |d, p, v, k| p.hold_time = d.string(v, k)),
        live("keepaliveTime", 13, |d, p, v, k| p.keepalive_time =
            d.string(v, k)),
        live("connectTime", 14, |d, p, v, k| p.connect_time =
            d.string(v, k)),
        live("routerID", 13, |d, p, v, k| p.router_id = d.string(v, k)),
        live("nodeSelectors", 13, |d, p, v, k| p.node_selectors =
            selectors(d, v, k)),
        live("password", 13, |d, p, v, k| p.password = d.string(v, k)),
        live("passwordSecret", 13, |d, p, v, k| {
            p.password_secret = Some(d.record(v, k));
        }),
        live("bfdProfile", 13, |d, p, v, k| p.bfd_profile =
            d.string(v, k)),
        live("enableGracefulRestart", 14, |d, p, v, k| {
            p.enable_graceful_restart = d.bool(v, k);
        }),
        live("ebgpMultiHop", 13, |d, p, v, k| p.ebgp_multihop =
            d.bool(v, k)),
        live("vrf", 13, |d, p, v, k| p.vrf = d.string(v, k)),
        live("disableMP", 14, |d, p, v, k| p.disable_mp = d.bool(v, k)),
        live("dualStackAddressFamily", 15, |d, p, v, k| {
            p.dual_stack_address_family = d.bool(v, k);
        }),
    ]
);

const ONLY_V1BETA2: &str =
    "this field exists in BGPPeer metallb.io/v1beta2 only: change apiVersion to metallb.io/v1beta2";

/// A v1beta1 key decodes as its v1beta2 namesake.
fn as_v1beta2(d: &mut Decoder<'_, '_>, p: &mut PeerSpecV1beta1, v: &Node, k: &'static str) {
    decode_as(d, &mut p.0, v, k);
}

impl Record for PeerSpecV1beta1 {
    const FIELDS: &'static [Field<Self>] = &[
        live("myASN", 13, as_v1beta2),
        live("peerASN", 13, as_v1beta2),
        live("peerAddress", 13, as_v1beta2),
        live("sourceAddress", 13, as_v1beta2),
        live("peerPort", 13, as_v1beta2),
        live("holdTime", 13, as_v1beta2),
        live("keepaliveTime", 13, as_v1beta2),
        live("routerID", 13, as_v1beta2),
        live("nodeSelectors", 13, as_v1beta2),
        live("password", 13, as_v1beta2),
        live("bfdProfile", 13, as_v1beta2),
        live("ebgpMultiHop", 13, as_v1beta2),
        retired("passwordSecret", ONLY_V1BETA2),
        retired("vrf", ONLY_V1BETA2),
        retired("dynamicASN", ONLY_V1BETA2),
        retired("localASN", ONLY_V1BETA2),
        retired("interface", ONLY_V1BETA2),
        retired("connectTime", ONLY_V1BETA2),
        retired("enableGracefulRestart", ONLY_V1BETA2),
        retired("disableMP", ONLY_V1BETA2),
        retired("dualStackAddressFamily", ONLY_V1BETA2),
    ];
    fn span_mut(&mut self) -> &mut Range<usize> {
        &mut self.0.span
    }
}

/// The table of an advertisement kind: its `own` keys first, then the keys that choose which
/// pools, nodes and services it covers, with the kind's own list (`peers`, `interfaces`) before
/// `serviceSelectors`, in the order of MetalLB's Go structs.
macro_rules! advertisement_record {
    ($t:ty, [$($own:expr),* $(,)?], $list:literal => $field:ident) => {
        record!(
            $t,
            &[
                $($own,)*
                live("ipAddressPools", 13, |d, a, v, k| a.ip_address_pools =
                    d.strings(v, k)),
                live("ipAddressPoolSelectors", 13, |d, a, v, k| {
                    a.ip_address_pool_selectors = selectors(d, v, k);
                }),
                live("nodeSelectors", 13, |d, a, v, k| a.node_selectors =
                    selectors(d, v, k)),
                live($list, 13, |d, a, v, k| a.$field = d.strings(v, k)),
                live("serviceSelectors", 16, |d, a, v, k| {
                    a.service_selectors = selectors(d, v, k);
                }),
            ]
        );
    };
}

advertisement_record!(
    BgpAdvertisementSpec,
    [
        live("aggregationLength", 13, |d, a, v, k| a.aggregation_length =
            d.int(v, k)),
        live("aggregationLengthV6", 13, |d, a, v, k| {
            a.aggregation_length_v6 = d.int(v, k);
        }),
        live("localPref", 13, |d, a, v, k| a.local_pref =
            unsigned(d, v, k)),
        live("communities", 13, |d, a, v, k| a.communities =
            d.strings(v, k)),
    ],
    "peers" => peers
);

advertisement_record!(L2AdvertisementSpec, [], "interfaces" => interfaces);

record!(
    CommunitySpec,
    &[live("communities", 13, |d, c, v, k| {
        c.communities = d.list(v, k, |d, n, _| d.record(n, "a community"));
    })]
);

record!(
    CommunityEntry,
    &[
        live("name", 13, |d, c, v, k| c.name = d.string(v, k)),
        live("value", 13, |d, c, v, k| c.value = d.string(v, k)),
    ]
);

crd_record!(
    m::BfdProfile,
    &[
        live("receiveInterval", 13, |d, b, v, k| b.0.receive_interval =
            unsigned(d, v, k)),
        live("transmitInterval", 13, |d, b, v, k| b.0.transmit_interval =
            unsigned(d, v, k)),
        live("detectMultiplier", 13, |d, b, v, k| b.0.detect_multiplier =
            unsigned(d, v, k)),
        live("echoInterval", 13, |d, b, v, k| b.0.echo_interval =
            unsigned(d, v, k)),
        live("echoMode", 13, |d, b, v, k| b.0.echo_mode = d.bool(v, k)),
        live("passiveMode", 13, |d, b, v, k| b.0.passive_mode =
            d.bool(v, k)),
        live("minimumTtl", 13, |d, b, v, k| b.0.minimum_ttl =
            unsigned(d, v, k)),
    ]
);

crd_record!(
    m::Pool,
    &[
        live("protocol", 13, |d, p, v, k| p.0.protocol = d.string(v, k)),
        live("addresses", 13, |d, p, v, k| p.0.addresses =
            d.address_list(v, k)),
        live("autoAssign", 13, |d, p, v, k| p.0.auto_assign =
            d.bool(v, k)),
        live("avoidBuggyIPs", 13, |d, p, v, k| p.0.avoid_buggy_ips =
            d.bool(v, k)),
        live("bgpAdvertisements", 13, |d, p, v, k| {
            let span = d.span(v);
            let ads = d.list(v, k, |d, n, _| {
                d.record::<LegacyAdvertisement>(n, "a BGP advertisement").0
            });
            p.0.bgp_advertisements = Some(Spanned::new(ads, span));
        }),
    ]
);

crd_record!(
    m::Advertisement,
    &[
        live("aggregationLength", 13, |d, a, v, k| a
            .0
            .aggregation_length =
            d.int(v, k)),
        live("aggregationLengthV6", 13, |d, a, v, k| {
            a.0.aggregation_length_v6 = d.int(v, k);
        }),
        live("localPref", 13, |d, a, v, k| a.0.localpref =
            unsigned(d, v, k)),
        live("communities", 13, |d, a, v, k| a.0.communities =
            d.strings(v, k)),
    ]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::decode::tests::check_table;

    #[test]
    fn every_crd_table_is_consistent_and_every_field_decodes() {
        check_table::<LabelSelector>();
        check_table::<Expression>();
        check_table::<ServiceAllocation>();
        check_table::<PoolSpec>();
        check_table::<SecretRef>();
        check_table::<PeerSpec>();
        check_table::<PeerSpecV1beta1>();
        check_table::<BgpAdvertisementSpec>();
        check_table::<L2AdvertisementSpec>();
        check_table::<CommunitySpec>();
        check_table::<CommunityEntry>();
        check_table::<BfdSpec>();
        check_table::<AddressPoolSpec>();
        check_table::<LegacyAdvertisement>();
    }
}
