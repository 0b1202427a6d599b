//! UPDATE packing: how a set of prefixes that share attributes is split into UPDATEs. This is
//! speaker policy, not codec: the codec encodes whatever UPDATE it is given, and the
//! Adj-RIB-Out decides how many prefixes go into each (filled up to 4096 bytes, or one per
//! UPDATE for comparison with MetalLB's native speaker).

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use crate::bgp::packet::attribute::{attr_wire_len, mp_reach_base_len};
use crate::bgp::packet::iana::{HEADER_LEN, MAX_MESSAGE_LEN};
use crate::bgp::packet::{prefix_wire_len, Afi, Attributes, Ctx, MpReach, MpUnreach, Update};

/// Bytes of an UPDATE with empty withdrawn, attributes and NLRI: header plus two lengths.
const UPDATE_BASE: usize = HEADER_LEN + 4;

/// Splits `prefixes` (one attribute set) into UPDATEs each at most 4096 bytes, at most
/// `max_per_update` prefixes each (`None`: as many as fit). IPv6 prefixes travel in
/// MP_REACH_NLRI with `v6_next_hops`; IPv4 ones use `attrs.next_hop`.
pub fn pack_announcements(
    attrs: &Attributes,
    prefixes: &[IpNet],
    v6_next_hops: &[IpAddr],
    ctx: &Ctx,
    max_per_update: Option<usize>,
) -> Vec<Update> {
    let (v4, v6): (Vec<IpNet>, Vec<IpNet>) = prefixes.iter().partition(|p| p.addr().is_ipv4());
    let mut out = Vec::new();
    if !v4.is_empty() {
        let mut a = Vec::new();
        // Only the size counts here: attributes that cannot be encoded fail, checked, with
        // their UPDATE.
        let _ = attrs.encode(ctx, &mut a);
        let room = MAX_MESSAGE_LEN.saturating_sub(UPDATE_BASE + a.len());
        for chunk in chunk_by_size(&v4, room, max_per_update) {
            out.push(Update {
                attrs: attrs.clone(),
                nlri: chunk.iter().filter_map(as_v4).collect(),
                ..Default::default()
            });
        }
    }
    if !v6.is_empty() {
        let mut base = attrs.clone();
        base.next_hop = None;
        let mut a = Vec::new();
        let _ = base.encode(ctx, &mut a);
        // Budget the MP_REACH header as if it needs the extended length field.
        let fixed = UPDATE_BASE + a.len() + attr_wire_len(256) - 256;
        let room = MAX_MESSAGE_LEN.saturating_sub(fixed + mp_reach_base_len(v6_next_hops));
        for chunk in chunk_by_size(&v6, room, max_per_update) {
            let mut attrs = base.clone();
            attrs.mp_reach = Some(MpReach {
                afi: Afi::Ipv6,
                next_hops: v6_next_hops.to_vec(),
                nlri: chunk,
            });
            out.push(Update {
                attrs,
                ..Default::default()
            });
        }
    }
    out
}

/// Splits withdrawals into UPDATEs of at most 4096 bytes (and `max_per_update` prefixes).
pub fn pack_withdrawals(prefixes: &[IpNet], max_per_update: Option<usize>) -> Vec<Update> {
    let (v4, v6): (Vec<IpNet>, Vec<IpNet>) = prefixes.iter().partition(|p| p.addr().is_ipv4());
    let mut out = Vec::new();
    for chunk in chunk_by_size(&v4, MAX_MESSAGE_LEN - UPDATE_BASE, max_per_update) {
        out.push(Update {
            withdrawn: chunk.iter().filter_map(as_v4).collect(),
            ..Default::default()
        });
    }
    // MP_UNREACH header: flags, type, 2-byte length, AFI, SAFI.
    let room = MAX_MESSAGE_LEN - UPDATE_BASE - 4 - 3;
    for chunk in chunk_by_size(&v6, room, max_per_update) {
        out.push(Update {
            attrs: Attributes {
                mp_unreach: Some(MpUnreach {
                    afi: Afi::Ipv6,
                    withdrawn: chunk,
                }),
                ..Default::default()
            },
            ..Default::default()
        });
    }
    out
}

fn as_v4(p: &IpNet) -> Option<Ipv4Net> {
    match p {
        IpNet::V4(v) => Some(*v),
        IpNet::V6(_) => None,
    }
}

fn chunk_by_size(prefixes: &[IpNet], room: usize, max: Option<usize>) -> Vec<Vec<IpNet>> {
    let max = max.unwrap_or(usize::MAX).max(1);
    let mut chunks = Vec::new();
    let mut cur: Vec<IpNet> = Vec::new();
    let mut used = 0;
    for p in prefixes {
        let n = prefix_wire_len(p);
        if !cur.is_empty() && (used + n > room || cur.len() >= max) {
            chunks.push(std::mem::take(&mut cur));
            used = 0;
        }
        cur.push(*p);
        used += n;
    }
    if !cur.is_empty() {
        chunks.push(cur);
    }
    chunks
}
#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::bgp::packet::{AsSegment, Message, Origin};

    const CTX: Ctx = Ctx {
        four_octet_as: true,
    };

    #[test]
    fn packing_fills_updates_to_4096_bytes() {
        let attrs = Attributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(vec![AsSegment::Sequence(vec![64500])]),
            next_hop: Some(Ipv4Addr::new(127, 0, 1, 1)),
            ..Default::default()
        };
        let prefixes: Vec<IpNet> = (0..10_000u32)
            .map(|i| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + i), 32).unwrap()))
            .collect();
        let ups = pack_announcements(&attrs, &prefixes, &[], &CTX, None);
        let sizes: Vec<usize> = ups
            .iter()
            .map(|u| Message::Update(u.clone()).encode(&CTX).unwrap().len())
            .collect();
        assert!(sizes.iter().all(|s| *s <= 4096));
        assert!(sizes[0] > 4090, "first UPDATE holds {}", sizes[0]);
        let total: usize = ups.iter().map(|u| u.nlri.len()).sum();
        assert_eq!(total, 10_000);
        let one = pack_announcements(&attrs, &prefixes[..3], &[], &CTX, Some(1));
        assert_eq!(one.len(), 3);
        let wd = pack_withdrawals(&prefixes, None);
        assert!(wd
            .iter()
            .all(|u| Message::Update(u.clone()).encode(&CTX).unwrap().len() <= 4096));
    }

    #[test]
    fn packing_v6_in_mp_reach() {
        let attrs = Attributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(vec![]),
            local_pref: Some(100),
            ..Default::default()
        };
        let prefixes: Vec<IpNet> = (0..2000u32)
            .map(|i| format!("2001:db8::{i:x}/128").parse().unwrap())
            .collect();
        let nh: IpAddr = "::ffff:127.0.1.1".parse().unwrap();
        let ups = pack_announcements(&attrs, &prefixes, &[nh], &CTX, None);
        let mut n = 0;
        for u in &ups {
            let b = Message::Update(u.clone()).encode(&CTX).unwrap();
            assert!(b.len() <= 4096);
            let Message::Update(d) = Message::decode(&b, &CTX).unwrap() else {
                panic!()
            };
            n += d.announced().count();
        }
        assert_eq!(n, 2000);
    }
}
