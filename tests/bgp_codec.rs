//! Property tests for the BGP codec: what we encode decodes to the same value, and no byte
//! string, however mangled, makes the decoder panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use metallbctl::bgp::packet::{
    frame, Afi, AsSegment, Attributes, Capability, Ctx, Message, MpReach, MpUnreach, Notification,
    Open, Origin, Update,
};
use proptest::prelude::*;

fn v4net() -> impl Strategy<Value = Ipv4Net> {
    (any::<u32>(), 0u8..=32).prop_map(|(a, l)| Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc())
}

fn v6net() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
}

fn unicast_v4() -> impl Strategy<Value = Ipv4Addr> {
    (1u32..0xe000_0000).prop_map(Ipv4Addr::from)
}

fn segment(four: bool) -> impl Strategy<Value = AsSegment> {
    let asn = if four {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    };
    (any::<bool>(), prop::collection::vec(asn, 1..6)).prop_map(|(set, v)| {
        if set {
            AsSegment::Set(v)
        } else {
            AsSegment::Sequence(v)
        }
    })
}

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof![
        Just(Origin::Igp),
        Just(Origin::Egp),
        Just(Origin::Incomplete)
    ]
}

fn attributes(four: bool) -> impl Strategy<Value = Attributes> {
    (
        origin(),
        prop::collection::vec(segment(four), 0..3),
        unicast_v4(),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        any::<bool>(),
        prop::collection::vec(any::<u32>(), 0..4),
        prop::collection::vec(any::<[u32; 3]>(), 0..3),
        prop::option::of(prop::collection::vec(v6net(), 0..5)),
        prop::option::of(prop::collection::vec(v6net(), 0..5)),
    )
        .prop_map(
            |(origin, path, nh, med, lp, atomic, comms, large, reach, unreach)| Attributes {
                origin: Some(origin),
                as_path: Some(path),
                next_hop: Some(nh),
                med,
                local_pref: lp,
                atomic_aggregate: atomic,
                communities: comms,
                large_communities: large,
                mp_reach: reach.map(|nlri| MpReach {
                    afi: Afi::Ipv6,
                    next_hops: vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
                    nlri,
                }),
                mp_unreach: unreach.map(|withdrawn| MpUnreach {
                    afi: Afi::Ipv6,
                    withdrawn,
                }),
                other: vec![],
            },
        )
}

fn update(four: bool) -> impl Strategy<Value = Message> {
    (
        prop::collection::vec(v4net(), 0..20),
        attributes(four),
        prop::collection::vec(v4net(), 0..20),
    )
        .prop_map(|(withdrawn, attrs, nlri)| {
            Message::Update(Update {
                withdrawn,
                attrs,
                nlri,
            })
        })
}

fn open() -> impl Strategy<Value = Message> {
    (
        any::<u32>(),
        prop_oneof![Just(0u16), 3u16..],
        unicast_v4(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(asn, hold_time, bgp_id, rr, v6)| {
            let mut capabilities = vec![Capability::Multiprotocol { afi: 1, safi: 1 }];
            if v6 {
                capabilities.push(Capability::Multiprotocol { afi: 2, safi: 1 });
            }
            if rr {
                capabilities.push(Capability::RouteRefresh);
            }
            capabilities.push(Capability::FourOctetAs(asn));
            Message::Open(Open {
                asn,
                hold_time,
                bgp_id,
                capabilities,
            })
        })
}

fn message(four: bool) -> impl Strategy<Value = Message> {
    prop_oneof![
        Just(Message::Keepalive),
        open(),
        update(four),
        (
            any::<u8>(),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..30)
        )
            .prop_map(|(code, subcode, data)| Message::Notification(Notification {
                code,
                subcode,
                data
            })),
        (any::<u16>(), any::<u8>()).prop_map(|(afi, safi)| Message::RouteRefresh { afi, safi }),
    ]
}

proptest! {
    #[test]
    fn round_trip_four_octet(m in message(true)) {
        let ctx = Ctx { four_octet_as: true };
        let bytes = m.encode(&ctx);
        prop_assert_eq!(frame(&bytes), Ok(Some(bytes.len())));
        prop_assert_eq!(Message::decode(&bytes, &ctx), Ok(m));
    }

    #[test]
    fn round_trip_two_octet(m in update(false)) {
        let ctx = Ctx { four_octet_as: false };
        let bytes = m.encode(&ctx);
        prop_assert_eq!(Message::decode(&bytes, &ctx), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), t in 0u8..7) {
        let mut b = vec![0xff; 16];
        b.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        b.push(t);
        b.extend_from_slice(&body);
        let _ = Message::decode(&b, &Ctx { four_octet_as: true });
        let _ = Message::decode(&b, &Ctx { four_octet_as: false });
        let _ = frame(&body);
    }

    #[test]
    fn mutated_messages_never_panic(m in message(true), idx in any::<prop::sample::Index>(), v in any::<u8>()) {
        let ctx = Ctx { four_octet_as: true };
        let mut bytes = m.encode(&ctx);
        let i = idx.index(bytes.len());
        bytes[i] = v;
        if let Ok(Some(n)) = frame(&bytes) {
            let _ = Message::decode(&bytes[..n.min(bytes.len())], &ctx);
        }
        let _ = Message::decode(&bytes, &ctx);
    }
}

#[test]
fn every_decode_error_maps_to_a_notification_code() {
    // A spread of malformed inputs: every error names a NOTIFICATION code 1..=3.
    let ctx = Ctx {
        four_octet_as: true,
    };
    let ka = Message::Keepalive.encode(&ctx);
    let mut bad_marker = ka.clone();
    bad_marker[0] = 0;
    let mut bad_type = ka.clone();
    bad_type[18] = 42;
    for b in [bad_marker, bad_type] {
        let e = Message::decode(&b, &ctx).unwrap_err();
        assert!((1..=3).contains(&e.code().code), "{e:?}");
    }
}
