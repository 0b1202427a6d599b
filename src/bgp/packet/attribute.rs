//! UPDATE path attributes: ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE,
//! COMMUNITIES, LARGE_COMMUNITIES, MP_REACH_NLRI / MP_UNREACH_NLRI (IPv4/IPv6 unicast); any
//! other optional attribute is kept as raw bytes.
//!
//! Pure encode/decode over byte slices with an explicit context; no I/O, no session state.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::error::{DecodeError, EncodeError, ErrorAction, UpdateFault};
use super::iana::{attr, flag, segment, AFI_IPV4, AFI_IPV6, AS_TRANS, SAFI_UNICAST};
use super::wire::{prefix_wire_len, put_prefix, read_v4_prefixes, read_v6_prefixes, Reader};
use super::Ctx;

/// Whether an UPDATE comes from a peer in another AS (eBGP) or in ours (iBGP), where RFC 7606
/// treats the two differently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeerKind {
    #[default]
    Internal,
    External,
}

/// ORIGIN values (RFC 4271 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "incomplete",
        }
    }
}

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsSegment {
    Set(Vec<u32>),
    Sequence(Vec<u32>),
}

/// Address families we carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
}

impl Afi {
    fn code(self) -> u16 {
        match self {
            Afi::Ipv4 => AFI_IPV4,
            Afi::Ipv6 => AFI_IPV6,
        }
    }

    fn from_code(code: u16) -> Option<Self> {
        match code {
            AFI_IPV4 => Some(Afi::Ipv4),
            AFI_IPV6 => Some(Afi::Ipv6),
            _ => None,
        }
    }
}

/// MP_REACH_NLRI for unicast (RFC 4760 §3). `next_hops` holds one address, or an IPv6
/// global plus link-local pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MpReach {
    pub afi: Afi,
    pub next_hops: Vec<IpAddr>,
    pub nlri: Vec<IpNet>,
}

/// MP_UNREACH_NLRI for unicast (RFC 4760 §4). Empty `withdrawn` is End-of-RIB for `afi`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MpUnreach {
    pub afi: Afi,
    pub withdrawn: Vec<IpNet>,
}

/// An optional attribute we do not interpret, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

/// A large community (RFC 8092): global administrator, two local data parts.
pub type LargeCommunity = [u32; 3];

/// The path attributes of one UPDATE. `as_path: Some(vec![])` is a present, empty AS_PATH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attributes {
    pub origin: Option<Origin>,
    pub as_path: Option<Vec<AsSegment>>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub communities: Vec<u32>,
    pub large_communities: Vec<LargeCommunity>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub other: Vec<RawAttribute>,
}

impl Attributes {
    /// True when no attribute at all is present (an empty UPDATE's attribute block).
    pub fn is_empty(&self) -> bool {
        *self == Attributes::default()
    }

    /// Appends the encoded attributes in type-code order; fails, with nothing silently cut,
    /// on a value longer than its length field can say.
    pub fn encode(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let wk = flag::TRANSITIVE;
        if let Some(o) = self.origin {
            put_attr(out, wk, attr::ORIGIN, &[origin_code(o)])?;
        }
        if let Some(path) = &self.as_path {
            put_attr(
                out,
                wk,
                attr::AS_PATH,
                &encode_as_path(path, ctx.four_octet_as)?,
            )?;
        }
        if let Some(nh) = self.next_hop {
            put_attr(out, wk, attr::NEXT_HOP, &nh.octets())?;
        }
        if let Some(med) = self.med {
            put_attr(out, flag::OPTIONAL, attr::MED, &med.to_be_bytes())?;
        }
        if let Some(lp) = self.local_pref {
            put_attr(out, wk, attr::LOCAL_PREF, &lp.to_be_bytes())?;
        }
        if self.atomic_aggregate {
            put_attr(out, wk, attr::ATOMIC_AGGREGATE, &[])?;
        }
        let opt_trans = flag::OPTIONAL | flag::TRANSITIVE;
        if !self.communities.is_empty() {
            let v: Vec<u8> = self
                .communities
                .iter()
                .flat_map(|c| c.to_be_bytes())
                .collect();
            put_attr(out, opt_trans, attr::COMMUNITIES, &v)?;
        }
        if let Some(mp) = &self.mp_reach {
            put_attr(
                out,
                flag::OPTIONAL,
                attr::MP_REACH_NLRI,
                &encode_mp_reach(mp)?,
            )?;
        }
        if let Some(mp) = &self.mp_unreach {
            put_attr(
                out,
                flag::OPTIONAL,
                attr::MP_UNREACH_NLRI,
                &encode_mp_unreach(mp),
            )?;
        }
        if !self.large_communities.is_empty() {
            let v: Vec<u8> = self
                .large_communities
                .iter()
                .flat_map(|c| c.iter().flat_map(|p| p.to_be_bytes()))
                .collect();
            put_attr(out, opt_trans, attr::LARGE_COMMUNITIES, &v)?;
        }
        for raw in &self.other {
            put_attr(
                out,
                raw.flags & !flag::EXTENDED_LENGTH,
                raw.type_code,
                &raw.value,
            )?;
        }
        Ok(())
    }

    /// Decodes a whole path attribute block strictly (RFC 4271 §4.3, errors per §6.3): the
    /// first error of any kind is returned.
    pub fn decode(buf: &[u8], ctx: &Ctx) -> Result<Self, DecodeError> {
        let mut faults = Vec::new();
        let attrs = Self::decode_rfc7606(buf, ctx, &mut faults)?;
        match faults.into_iter().next() {
            Some(f) => Err(f.error),
            None => Ok(attrs),
        }
    }

    /// Decodes a path attribute block with the revised error handling of RFC 7606: errors
    /// that allow "attribute discard" or "treat-as-withdraw" are appended to `faults` (the
    /// offending attribute is left out) and decoding goes on; `Err` only where the session
    /// must be reset. The caller applies treat-as-withdraw to the whole UPDATE.
    pub fn decode_rfc7606(
        buf: &[u8],
        ctx: &Ctx,
        faults: &mut Vec<UpdateFault>,
    ) -> Result<Self, DecodeError> {
        Self::decode_from(buf, ctx, PeerKind::Internal, faults)
    }

    /// `decode_rfc7606` for attributes from a peer of `kind`: from an external peer,
    /// LOCAL_PREF is discarded whatever it holds (RFC 7606 §7.5).
    pub(crate) fn decode_from(
        buf: &[u8],
        ctx: &Ctx,
        kind: PeerKind,
        faults: &mut Vec<UpdateFault>,
    ) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let mut attrs = Attributes::default();
        let mut seen = [false; 256];
        while !r.is_empty() {
            let start = buf.len() - r.remaining();
            let Some((flags, type_code, value)) = read_attr(&mut r) else {
                // RFC 7606 §4: an attribute overrunning the Total Path Attribute Length, or
                // fewer octets left than an attribute header: treat-as-withdraw. The total
                // length still locates the NLRI, so the UPDATE can be withdrawn.
                faults.push(UpdateFault {
                    action: ErrorAction::TreatAsWithdraw,
                    error: DecodeError::MalformedAttributeList,
                });
                break;
            };
            let whole = &buf[start..buf.len() - r.remaining()];
            if std::mem::replace(&mut seen[usize::from(type_code)], true) {
                // RFC 7606 §3(g): a repeated MP_REACH_NLRI / MP_UNREACH_NLRI resets the
                // session; any other repeat is discarded, the first copy kept.
                if matches!(type_code, attr::MP_REACH_NLRI | attr::MP_UNREACH_NLRI) {
                    return Err(DecodeError::MalformedAttributeList);
                }
                faults.push(UpdateFault {
                    action: ErrorAction::AttributeDiscard,
                    error: DecodeError::DuplicateAttribute(type_code),
                });
                continue;
            }
            if kind == PeerKind::External && type_code == attr::LOCAL_PREF {
                faults.push(UpdateFault {
                    action: ErrorAction::AttributeDiscard,
                    error: DecodeError::LocalPrefFromExternalPeer,
                });
                continue;
            }
            if let Err(error) = attrs.decode_one(flags, type_code, value, whole, ctx) {
                let action = rfc7606_action(type_code, &error);
                if action == ErrorAction::SessionReset {
                    return Err(error);
                }
                faults.push(UpdateFault { action, error });
            }
        }
        Ok(attrs)
    }

    fn decode_one(
        &mut self,
        flags: u8,
        type_code: u8,
        value: &[u8],
        whole: &[u8],
        ctx: &Ctx,
    ) -> Result<(), DecodeError> {
        check_flags(flags, type_code, whole)?;
        let len_err = || DecodeError::AttributeLength {
            type_code,
            data: whole.to_vec(),
        };
        match type_code {
            attr::ORIGIN => {
                let [v] = value else { return Err(len_err()) };
                self.origin = Some(match v {
                    0 => Origin::Igp,
                    1 => Origin::Egp,
                    2 => Origin::Incomplete,
                    _ => return Err(DecodeError::InvalidOrigin(whole.to_vec())),
                });
            }
            attr::AS_PATH => self.as_path = Some(decode_as_path(value, ctx.four_octet_as)?),
            attr::NEXT_HOP => {
                let octets: [u8; 4] = value.try_into().map_err(|_| len_err())?;
                let nh = Ipv4Addr::from(octets);
                if nh.is_unspecified() || nh.is_multicast() || nh.is_broadcast() {
                    return Err(DecodeError::InvalidNextHop(whole.to_vec()));
                }
                self.next_hop = Some(nh);
            }
            attr::MED => self.med = Some(be_u32(value).ok_or_else(len_err)?),
            attr::LOCAL_PREF => self.local_pref = Some(be_u32(value).ok_or_else(len_err)?),
            attr::ATOMIC_AGGREGATE => {
                if !value.is_empty() {
                    return Err(len_err());
                }
                self.atomic_aggregate = true;
            }
            attr::COMMUNITIES => {
                if value.is_empty() || !value.len().is_multiple_of(4) {
                    return Err(len_err());
                }
                self.communities = value.chunks_exact(4).filter_map(be_u32).collect();
            }
            attr::LARGE_COMMUNITIES => {
                if value.is_empty() || !value.len().is_multiple_of(12) {
                    return Err(len_err());
                }
                self.large_communities = value
                    .chunks_exact(12)
                    .map(|c| {
                        let w = |i: usize| be_u32(&c[i * 4..i * 4 + 4]).unwrap_or(0);
                        [w(0), w(1), w(2)]
                    })
                    .collect();
            }
            // Kept raw, but checked, so that a malformed one is handled per RFC 7606.
            attr::AGGREGATOR if value.len() != if ctx.four_octet_as { 8 } else { 6 } => {
                return Err(len_err())
            }
            attr::AS4_AGGREGATOR if value.len() != 8 => return Err(len_err()),
            attr::EXTENDED_COMMUNITIES if value.is_empty() || !value.len().is_multiple_of(8) => {
                return Err(len_err())
            }
            attr::MP_REACH_NLRI => self.mp_reach = Some(decode_mp_reach(value, whole)?),
            attr::MP_UNREACH_NLRI => self.mp_unreach = Some(decode_mp_unreach(value, whole)?),
            _ if flags & flag::OPTIONAL == 0 => {
                return Err(DecodeError::UnrecognizedWellKnown {
                    type_code,
                    data: whole.to_vec(),
                })
            }
            _ => self.other.push(RawAttribute {
                flags: flags & !flag::EXTENDED_LENGTH,
                type_code,
                value: value.to_vec(),
            }),
        }
        Ok(())
    }
}

/// Reads one attribute's flags, type code and value; `None` if the block ends early.
fn read_attr<'a>(r: &mut Reader<'a>) -> Option<(u8, u8, &'a [u8])> {
    let flags = r.u8()?;
    let type_code = r.u8()?;
    let len = if flags & flag::EXTENDED_LENGTH != 0 {
        usize::from(r.u16()?)
    } else {
        usize::from(r.u8()?)
    };
    Some((flags, type_code, r.take(len)?))
}

/// The RFC 7606 approach for an error in attribute `type_code` (§3, §7; RFC 6793 §6 for the
/// AS4 attributes). Anything not revised there keeps RFC 4271's session reset.
fn rfc7606_action(type_code: u8, e: &DecodeError) -> ErrorAction {
    use DecodeError as E;
    match (type_code, e) {
        // §7.11: a malformed MP_REACH_NLRI / MP_UNREACH_NLRI hides its NLRI, so the routes it
        // carries cannot be withdrawn: session reset. §5.3: so does a bad prefix anywhere.
        (attr::MP_REACH_NLRI | attr::MP_UNREACH_NLRI, _) | (_, E::InvalidNetworkField) => {
            ErrorAction::SessionReset
        }
        // §7.6, §7.7, RFC 6793 §6: these do not affect route selection: attribute discard.
        (
            attr::ATOMIC_AGGREGATE | attr::AGGREGATOR | attr::AS4_PATH | attr::AS4_AGGREGATOR,
            E::AttributeFlags { .. } | E::AttributeLength { .. } | E::OptionalAttribute { .. },
        ) => ErrorAction::AttributeDiscard,
        // §7.1 ORIGIN, §7.2 AS_PATH, §7.3 NEXT_HOP (syntax, and RFC 4271 §6.3's semantic
        // check, which already ignores the route), §7.4 MED, §7.5 LOCAL_PREF, §7.8
        // COMMUNITIES, §7.14 extended communities, RFC 8092 §6 large communities, and §3(c):
        // attribute flags in conflict with the type: treat-as-withdraw.
        (
            _,
            E::InvalidOrigin(_)
            | E::MalformedAsPath
            | E::InvalidNextHop(_)
            | E::AttributeFlags { .. }
            | E::AttributeLength { .. }
            | E::OptionalAttribute { .. },
        ) => ErrorAction::TreatAsWithdraw,
        // An unrecognized well-known attribute: RFC 7606 does not revise RFC 4271 §6.3.
        _ => ErrorAction::SessionReset,
    }
}

fn be_u32(b: &[u8]) -> Option<u32> {
    let a: [u8; 4] = b.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

/// §6.3: the optional and transitive bits must match what the attribute type requires.
fn check_flags(flags: u8, type_code: u8, whole: &[u8]) -> Result<(), DecodeError> {
    let expected = match type_code {
        attr::ORIGIN
        | attr::AS_PATH
        | attr::NEXT_HOP
        | attr::LOCAL_PREF
        | attr::ATOMIC_AGGREGATE => Some(flag::TRANSITIVE),
        attr::MED | attr::MP_REACH_NLRI | attr::MP_UNREACH_NLRI => Some(flag::OPTIONAL),
        attr::COMMUNITIES
        | attr::LARGE_COMMUNITIES
        | attr::AGGREGATOR
        | attr::EXTENDED_COMMUNITIES
        | attr::AS4_PATH
        | attr::AS4_AGGREGATOR => Some(flag::OPTIONAL | flag::TRANSITIVE),
        _ => None,
    };
    let Some(expected) = expected else {
        return Ok(());
    };
    let mask = flag::OPTIONAL | flag::TRANSITIVE;
    // RFC 4271 §4.3: only optional transitive attributes may carry the Partial bit.
    let partial_ok = expected == flag::OPTIONAL | flag::TRANSITIVE;
    let partial_bad = !partial_ok && flags & flag::PARTIAL != 0;
    if flags & mask != expected || partial_bad {
        return Err(DecodeError::AttributeFlags {
            type_code,
            data: whole.to_vec(),
        });
    }
    Ok(())
}

fn put_attr(out: &mut Vec<u8>, flags: u8, type_code: u8, value: &[u8]) -> Result<(), EncodeError> {
    match u8::try_from(value.len()) {
        Ok(len) => {
            out.extend_from_slice(&[flags, type_code, len]);
        }
        Err(_) => {
            // Longer than 255 octets: switch to the two-octet length field.
            let len = EncodeError::fit_u16("path attribute", value.len())?;
            out.extend_from_slice(&[flags | flag::EXTENDED_LENGTH, type_code]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    Ok(())
}

fn origin_code(o: Origin) -> u8 {
    match o {
        Origin::Igp => 0,
        Origin::Egp => 1,
        Origin::Incomplete => 2,
    }
}

/// Encoded length of an attribute with `value_len` octets of value.
pub(crate) fn attr_wire_len(value_len: usize) -> usize {
    value_len + if value_len > 255 { 4 } else { 3 }
}

fn encode_as_path(path: &[AsSegment], four_octet: bool) -> Result<Vec<u8>, EncodeError> {
    let mut v = Vec::new();
    for seg in path {
        let (kind, asns) = match seg {
            AsSegment::Set(a) => (segment::AS_SET, a),
            AsSegment::Sequence(a) => (segment::AS_SEQUENCE, a),
        };
        // A segment holds at most 255 ASes; longer runs continue in a new segment.
        for chunk in asns.chunks(255) {
            v.push(kind);
            v.push(EncodeError::fit_u8("AS_PATH segment", chunk.len())?);
            for asn in chunk {
                if four_octet {
                    v.extend_from_slice(&asn.to_be_bytes());
                } else {
                    let two = u16::try_from(*asn).unwrap_or(AS_TRANS);
                    v.extend_from_slice(&two.to_be_bytes());
                }
            }
        }
    }
    Ok(v)
}

fn decode_as_path(value: &[u8], four_octet: bool) -> Result<Vec<AsSegment>, DecodeError> {
    let mut r = Reader::new(value);
    let mut path = Vec::new();
    while !r.is_empty() {
        let kind = r.u8().ok_or(DecodeError::MalformedAsPath)?;
        let count = r.u8().ok_or(DecodeError::MalformedAsPath)?;
        // Zero-length segments are malformed (RFC 7606 §7.2); FRR resets on them too.
        if count == 0 {
            return Err(DecodeError::MalformedAsPath);
        }
        let asns = (0..count)
            .map(|_| {
                if four_octet {
                    r.u32()
                } else {
                    r.u16().map(u32::from)
                }
            })
            .collect::<Option<Vec<u32>>>()
            .ok_or(DecodeError::MalformedAsPath)?;
        path.push(match kind {
            segment::AS_SET => AsSegment::Set(asns),
            segment::AS_SEQUENCE => AsSegment::Sequence(asns),
            _ => return Err(DecodeError::MalformedAsPath),
        });
    }
    Ok(path)
}

fn encode_mp_reach(mp: &MpReach) -> Result<Vec<u8>, EncodeError> {
    let mut v = Vec::new();
    v.extend_from_slice(&mp.afi.code().to_be_bytes());
    v.push(SAFI_UNICAST);
    let nh: Vec<u8> = mp
        .next_hops
        .iter()
        .flat_map(|a| match a {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        })
        .collect();
    v.push(EncodeError::fit_u8("MP_REACH_NLRI next hop", nh.len())?);
    v.extend_from_slice(&nh);
    v.push(0); // Reserved.
    for p in &mp.nlri {
        put_prefix(&mut v, p);
    }
    Ok(v)
}

fn encode_mp_unreach(mp: &MpUnreach) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&mp.afi.code().to_be_bytes());
    v.push(SAFI_UNICAST);
    for p in &mp.withdrawn {
        put_prefix(&mut v, p);
    }
    v
}

/// Wire size of MP_REACH_NLRI without NLRI, for packing.
pub(crate) fn mp_reach_base_len(next_hops: &[IpAddr]) -> usize {
    let nh: usize = next_hops
        .iter()
        .map(|a| if a.is_ipv4() { 4 } else { 16 })
        .sum();
    2 + 1 + 1 + nh + 1
}

pub(crate) fn nlri_len(prefixes: &[IpNet]) -> usize {
    prefixes.iter().map(prefix_wire_len).sum()
}

fn mp_err(whole: &[u8]) -> DecodeError {
    DecodeError::OptionalAttribute {
        type_code: whole.get(1).copied().unwrap_or(0),
        data: whole.to_vec(),
    }
}

/// Reads the AFI/SAFI pair; only IPv4 and IPv6 unicast are accepted.
fn read_afi_safi(r: &mut Reader<'_>, whole: &[u8]) -> Result<Afi, DecodeError> {
    let afi = r.u16().ok_or_else(|| mp_err(whole))?;
    let safi = r.u8().ok_or_else(|| mp_err(whole))?;
    match Afi::from_code(afi) {
        Some(a) if safi == SAFI_UNICAST => Ok(a),
        _ => Err(mp_err(whole)),
    }
}

fn read_nlri(afi: Afi, buf: &[u8]) -> Result<Vec<IpNet>, DecodeError> {
    let out = match afi {
        Afi::Ipv4 => read_v4_prefixes(buf).map(|v| v.into_iter().map(IpNet::V4).collect()),
        Afi::Ipv6 => read_v6_prefixes(buf).map(|v| v.into_iter().map(IpNet::V6).collect()),
    };
    out.ok_or(DecodeError::InvalidNetworkField)
}

fn decode_mp_reach(value: &[u8], whole: &[u8]) -> Result<MpReach, DecodeError> {
    let mut r = Reader::new(value);
    let afi = read_afi_safi(&mut r, whole)?;
    let nh_len = r.u8().ok_or_else(|| mp_err(whole))?;
    let nh = r.take(usize::from(nh_len)).ok_or_else(|| mp_err(whole))?;
    let next_hops = match (afi, nh.len()) {
        (Afi::Ipv4, 4) => vec![IpAddr::V4(Ipv4Addr::from(to_array::<4>(nh)))],
        (Afi::Ipv6, 16) => vec![IpAddr::V6(Ipv6Addr::from(to_array::<16>(nh)))],
        (Afi::Ipv6, 32) => vec![
            IpAddr::V6(Ipv6Addr::from(to_array::<16>(&nh[..16]))),
            IpAddr::V6(Ipv6Addr::from(to_array::<16>(&nh[16..]))),
        ],
        _ => return Err(mp_err(whole)),
    };
    r.u8().ok_or_else(|| mp_err(whole))?; // Reserved.
    let rest = r.take(r.remaining()).unwrap_or_default();
    Ok(MpReach {
        afi,
        next_hops,
        nlri: read_nlri(afi, rest)?,
    })
}

fn decode_mp_unreach(value: &[u8], whole: &[u8]) -> Result<MpUnreach, DecodeError> {
    let mut r = Reader::new(value);
    let afi = read_afi_safi(&mut r, whole)?;
    let rest = r.take(r.remaining()).unwrap_or_default();
    Ok(MpUnreach {
        afi,
        withdrawn: read_nlri(afi, rest)?,
    })
}

fn to_array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX4: Ctx = Ctx {
        four_octet_as: true,
    };
    const CTX2: Ctx = Ctx {
        four_octet_as: false,
    };

    fn pair(attrs: &Attributes, bytes: &[u8], ctx: &Ctx) {
        let mut out = Vec::new();
        attrs.encode(ctx, &mut out).unwrap();
        assert_eq!(out, bytes, "encode");
        assert_eq!(&Attributes::decode(bytes, ctx).unwrap(), attrs, "decode");
    }

    /// ORIGIN INCOMPLETE with `as_path` and NEXT_HOP `next_hop`, as our speaker sends them.
    fn incomplete_via(as_path: Vec<AsSegment>, next_hop: [u8; 4]) -> Attributes {
        Attributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(as_path),
            next_hop: Some(Ipv4Addr::from(next_hop)),
            ..Default::default()
        }
    }

    /// The attribute sets our speaker sends, to an eBGP peer (AS_PATH of our AS, a community)
    /// and to an iBGP peer (empty AS_PATH, LOCAL_PREF), with their exact bytes.
    #[test]
    fn ebgp_and_ibgp_attribute_sets_both_ways() {
        let ebgp = Attributes {
            communities: vec![(64500 << 16) | 100],
            ..incomplete_via(vec![AsSegment::Sequence(vec![64500])], [127, 0, 1, 1])
        };
        let ibgp = Attributes {
            local_pref: Some(100),
            ..incomplete_via(vec![], [192, 0, 2, 1])
        };
        #[rustfmt::skip]
        let cases: [(Attributes, &[u8]); 2] = [
            (ebgp, &[
                0x40, 1, 1, 2,
                0x40, 2, 6, 2, 1, 0, 0, 0xfb, 0xf4,
                0x40, 3, 4, 127, 0, 1, 1,
                0xc0, 8, 4, 0xfb, 0xf4, 0, 100,
            ]),
            (ibgp, &[
                0x40, 1, 1, 2,
                0x40, 2, 0,
                0x40, 3, 4, 192, 0, 2, 1,
                0x40, 5, 4, 0, 0, 0, 100,
            ]),
        ];
        for (attrs, bytes) in &cases {
            pair(attrs, bytes, &CTX4);
        }
    }

    #[test]
    fn two_octet_as_path_uses_as_trans() {
        let attrs = Attributes {
            as_path: Some(vec![AsSegment::Sequence(vec![4_200_000_001])]),
            ..Default::default()
        };
        let mut out = Vec::new();
        attrs.encode(&CTX2, &mut out).unwrap();
        assert_eq!(out, [0x40, 2, 4, 2, 1, 0x5b, 0xa0]);
    }

    #[test]
    fn large_communities_and_mp_reach_v6() {
        let attrs = Attributes {
            large_communities: vec![[64500, 1, 2]],
            mp_reach: Some(MpReach {
                afi: Afi::Ipv6,
                next_hops: vec!["2001:db8::1".parse().unwrap()],
                nlri: vec!["2001:db8:1::/48".parse().unwrap()],
            }),
            ..Default::default()
        };
        #[rustfmt::skip]
        let bytes = [
            0x80, 14, 28, 0, 2, 1, 16,
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1,
            0xc0, 32, 12, 0, 0, 0xfb, 0xf4, 0, 0, 0, 1, 0, 0, 0, 2,
        ];
        pair(&attrs, &bytes, &CTX4);
    }

    #[test]
    fn zero_length_as_segment_is_malformed() {
        let bytes = [0x40, 2, 2, 2, 0];
        assert_eq!(
            Attributes::decode(&bytes, &CTX4),
            Err(DecodeError::MalformedAsPath)
        );
    }

    #[test]
    fn bad_origin_flags_and_duplicates() {
        assert!(matches!(
            Attributes::decode(&[0x40, 1, 1, 7], &CTX4),
            Err(DecodeError::InvalidOrigin(_))
        ));
        assert!(matches!(
            Attributes::decode(&[0x80, 1, 1, 0], &CTX4),
            Err(DecodeError::AttributeFlags { type_code: 1, .. })
        ));
        // Partial on an optional non-transitive attribute (MED); found by the netgauze diff.
        assert!(matches!(
            Attributes::decode(&[0xa0, 4, 4, 0, 0, 0, 0], &CTX4),
            Err(DecodeError::AttributeFlags { type_code: 4, .. })
        ));
        // Partial on an optional transitive attribute (COMMUNITIES) is fine.
        assert!(Attributes::decode(&[0xe0, 8, 4, 0, 0, 0, 1], &CTX4).is_ok());
        assert_eq!(
            Attributes::decode(&[0x40, 1, 1, 0, 0x40, 1, 1, 0], &CTX4),
            Err(DecodeError::DuplicateAttribute(1))
        );
        assert!(matches!(
            Attributes::decode(&[0x40, 3, 4, 0, 0, 0, 0], &CTX4),
            Err(DecodeError::InvalidNextHop(_))
        ));
        assert!(matches!(
            Attributes::decode(&[0x40, 99, 0], &CTX4),
            Err(DecodeError::UnrecognizedWellKnown { type_code: 99, .. })
        ));
    }

    #[test]
    fn unknown_optional_attribute_is_kept() {
        let bytes = [0xc0, 99, 2, 1, 2];
        let a = Attributes::decode(&bytes, &CTX4).unwrap();
        assert_eq!(a.other.len(), 1);
        pair(&a, &bytes, &CTX4);
    }

    /// Decodes with RFC 7606 handling; returns the attributes and the actions taken.
    fn lenient(bytes: &[u8], ctx: &Ctx) -> Result<(Attributes, Vec<ErrorAction>), DecodeError> {
        let mut faults = Vec::new();
        let a = Attributes::decode_rfc7606(bytes, ctx, &mut faults)?;
        Ok((a, faults.into_iter().map(|f| f.action).collect()))
    }

    const ORIGIN_IGP: [u8; 4] = [0x40, 1, 1, 0];

    #[test]
    fn rfc7606_treat_as_withdraw_cases() {
        use ErrorAction::TreatAsWithdraw as W;
        #[rustfmt::skip]
        let cases: [(&str, &[u8]); 11] = [
            ("ORIGIN value 7 (§7.1)", &[0x40, 1, 1, 7]),
            ("ORIGIN length 2 (§7.1)", &[0x40, 1, 2, 0, 0]),
            ("AS_PATH zero-length segment (§7.2)", &[0x40, 2, 2, 2, 0]),
            ("AS_PATH segment overrun (§7.2)", &[0x40, 2, 4, 2, 2, 0, 1]),
            ("AS_PATH unknown segment type (§7.2)", &[0x40, 2, 4, 9, 1, 0, 1]),
            ("NEXT_HOP length 3 (§7.3)", &[0x40, 3, 3, 1, 2, 3]),
            ("NEXT_HOP 0.0.0.0 (§7.3, RFC 4271 §6.3)", &[0x40, 3, 4, 0, 0, 0, 0]),
            ("MED length 2 (§7.4)", &[0x80, 4, 2, 0, 0]),
            ("LOCAL_PREF length 5 (§7.5)", &[0x40, 5, 5, 0, 0, 0, 0, 1]),
            ("COMMUNITIES length 3 (§7.8)", &[0xc0, 8, 3, 0, 0, 1]),
            ("ORIGIN flagged optional (§3(c))", &[0x80, 1, 1, 0]),
        ];
        for (what, bad) in cases {
            let mut bytes = bad.to_vec();
            bytes.extend_from_slice(&[0xc0, 99, 1, 5]);
            let (a, actions) = lenient(&bytes, &CTX2).unwrap();
            assert_eq!(actions, vec![W], "{what}");
            // The rest of the block is still read.
            assert_eq!(a.other.len(), 1, "{what}");
            assert!(Attributes::decode(&bytes, &CTX2).is_err(), "{what}: strict");
        }
        for (what, bytes) in [
            (
                "extended communities length 7 (§7.14)",
                &[0xc0, 16, 7, 0, 0, 0, 0, 0, 0, 0][..],
            ),
            (
                "large communities length 11 (RFC 8092 §6)",
                &[0xc0, 32, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
        ] {
            assert_eq!(lenient(bytes, &CTX4).unwrap().1, vec![W], "{what}");
        }
    }

    #[test]
    fn rfc7606_attribute_discard_cases() {
        use ErrorAction::AttributeDiscard as D;
        #[rustfmt::skip]
        let cases: [(&str, &[u8], &Ctx); 5] = [
            ("ATOMIC_AGGREGATE length 1 (§7.6)", &[0x40, 6, 1, 0], &CTX4),
            ("AGGREGATOR length 6 with 4-octet ASes (§7.7)", &[0xc0, 7, 6, 0, 1, 10, 0, 0, 1], &CTX4),
            ("AGGREGATOR length 8 with 2-octet ASes (§7.7)", &[0xc0, 7, 8, 0, 0, 0, 1, 10, 0, 0, 1], &CTX2),
            ("AS4_AGGREGATOR length 6 (RFC 6793 §6)", &[0xc0, 18, 6, 0, 1, 10, 0, 0, 1], &CTX2),
            ("ATOMIC_AGGREGATE flagged optional", &[0x80, 6, 0], &CTX4),
        ];
        for (what, bad, ctx) in cases {
            let mut bytes = ORIGIN_IGP.to_vec();
            bytes.extend_from_slice(bad);
            let (a, actions) = lenient(&bytes, ctx).unwrap();
            assert_eq!(actions, vec![D], "{what}");
            assert_eq!(a.origin, Some(Origin::Igp), "{what}");
            assert!(!a.atomic_aggregate && a.other.is_empty(), "{what}: dropped");
        }
        // A well-formed AGGREGATOR is kept verbatim.
        let (a, actions) = lenient(&[0xc0, 7, 8, 0, 0, 0, 1, 10, 0, 0, 1], &CTX4).unwrap();
        assert!(actions.is_empty());
        assert_eq!(a.other.len(), 1);
    }

    #[test]
    fn rfc7606_repeated_attribute_keeps_the_first() {
        let bytes = [0x40, 1, 1, 0, 0x40, 1, 1, 2];
        let (a, actions) = lenient(&bytes, &CTX4).unwrap();
        assert_eq!(a.origin, Some(Origin::Igp));
        assert_eq!(actions, vec![ErrorAction::AttributeDiscard]);
        // §3(g): a repeated MP_UNREACH_NLRI resets the session.
        let mp = [0x80, 15, 3, 0, 2, 1];
        let twice = [&mp[..], &mp[..]].concat();
        assert_eq!(
            lenient(&twice, &CTX4),
            Err(DecodeError::MalformedAttributeList)
        );
    }

    #[test]
    fn rfc7606_overrun_is_treat_as_withdraw() {
        // The last attribute claims 9 octets, 1 is left (§4, first case).
        let mut bytes = ORIGIN_IGP.to_vec();
        bytes.extend_from_slice(&[0xc0, 8, 9, 0]);
        let (a, actions) = lenient(&bytes, &CTX4).unwrap();
        assert_eq!(a.origin, Some(Origin::Igp));
        assert_eq!(actions, vec![ErrorAction::TreatAsWithdraw]);
        // Fewer than three octets left for a header (§4, second case).
        let mut bytes = ORIGIN_IGP.to_vec();
        bytes.extend_from_slice(&[0x40, 2]);
        assert_eq!(
            lenient(&bytes, &CTX4).unwrap().1,
            vec![ErrorAction::TreatAsWithdraw]
        );
    }

    #[test]
    fn rfc7606_session_reset_cases() {
        #[rustfmt::skip]
        let cases: [(&str, &[u8], DecodeError); 4] = [
            // §7.11: the next hop length hides where the NLRI starts.
            ("MP_REACH next hop length 5", &[0x80, 14, 9, 0, 2, 1, 5, 0, 0, 0, 0, 0],
             mp_err(&[0x80, 14])),
            ("MP_REACH prefix length 129 (§5.3)",
             &[0x80, 14, 22, 0, 2, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 129],
             DecodeError::InvalidNetworkField),
            ("MP_UNREACH flagged transitive", &[0xc0, 15, 3, 0, 2, 1],
             DecodeError::AttributeFlags { type_code: 15, data: vec![0xc0, 15, 3, 0, 2, 1] }),
            // RFC 7606 does not revise RFC 4271 for an unknown well-known attribute.
            ("unrecognized well-known 99", &[0x40, 99, 0],
             DecodeError::UnrecognizedWellKnown { type_code: 99, data: vec![0x40, 99, 0] }),
        ];
        for (what, bytes, want) in cases {
            let got = lenient(bytes, &CTX4);
            match (&got, &want) {
                (
                    Err(DecodeError::OptionalAttribute { type_code, .. }),
                    DecodeError::OptionalAttribute { type_code: w, .. },
                ) => {
                    assert_eq!(type_code, w, "{what}")
                }
                _ => assert_eq!(got, Err(want.clone()), "{what}"),
            }
        }
    }
}
