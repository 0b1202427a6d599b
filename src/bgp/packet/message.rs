//! BGP messages: OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH; framing. How UPDATEs
//! are packed is the speaker's business (`bgp::rib_out::pack`).
//!
//! Pure encode/decode over byte slices with an explicit context; no I/O, no session state.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};

use super::attribute::{nlri_len, Afi, Attributes, MpUnreach, PeerKind};
use super::error::{DecodeError, EncodeError, ErrorAction, UpdateFault};
use super::iana::{cap, msg, param, AS_TRANS, BGP_VERSION, HEADER_LEN, MAX_MESSAGE_LEN};
use super::wire::{put_prefix, read_v4_prefixes, Reader};
use super::Ctx;

/// One OPEN capability (RFC 5492).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// RFC 4760: AFI and SAFI.
    Multiprotocol { afi: u16, safi: u8 },
    /// RFC 2918.
    RouteRefresh,
    /// RFC 6793: the speaker's real AS.
    FourOctetAs(u32),
    /// Anything else, kept so it can be shown.
    Unknown { code: u8, value: Vec<u8> },
}

impl Capability {
    /// A short human name, for status output.
    pub fn name(&self) -> String {
        match self {
            Capability::Multiprotocol { afi: 1, safi: 1 } => "ipv4-unicast".into(),
            Capability::Multiprotocol { afi: 2, safi: 1 } => "ipv6-unicast".into(),
            Capability::Multiprotocol { afi, safi } => format!("mp({afi}/{safi})"),
            Capability::RouteRefresh => "route-refresh".into(),
            Capability::FourOctetAs(_) => "4-octet-as".into(),
            Capability::Unknown { code, .. } => format!("cap-{code}"),
        }
    }
}

/// OPEN (RFC 4271 §4.2). `asn` is the real AS: from capability 65 when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub asn: u32,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
}

impl Open {
    pub fn four_octet_as(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
    }

    pub fn route_refresh(&self) -> bool {
        self.capabilities.contains(&Capability::RouteRefresh)
    }
}

/// UPDATE (RFC 4271 §4.3): IPv4 withdrawals and NLRI; IPv6 travels in the MP attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    pub withdrawn: Vec<Ipv4Net>,
    pub attrs: Attributes,
    pub nlri: Vec<Ipv4Net>,
}

impl Update {
    /// End-of-RIB marker for `afi` (RFC 4724 §2).
    pub fn end_of_rib(afi: Afi) -> Self {
        match afi {
            Afi::Ipv4 => Update::default(),
            Afi::Ipv6 => Update {
                attrs: Attributes {
                    mp_unreach: Some(MpUnreach {
                        afi,
                        withdrawn: Vec::new(),
                    }),
                    ..Default::default()
                },
                ..Default::default()
            },
        }
    }

    /// The family this UPDATE is an End-of-RIB marker for, if it is one.
    pub fn end_of_rib_afi(&self) -> Option<Afi> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        if self.attrs.is_empty() {
            return Some(Afi::Ipv4);
        }
        let only_unreach = Attributes {
            mp_unreach: self.attrs.mp_unreach.clone(),
            ..Default::default()
        };
        match &self.attrs.mp_unreach {
            Some(u) if u.withdrawn.is_empty() && only_unreach == self.attrs => Some(u.afi),
            _ => None,
        }
    }

    /// RFC 7606 "treat-as-withdraw": every prefix this UPDATE announces or withdraws, all
    /// withdrawn (IPv4 in the withdrawn routes, IPv6 in MP_UNREACH_NLRI), and nothing else.
    pub fn into_withdrawal(self) -> Update {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for p in self.withdrawn_all().chain(self.announced()) {
            match p {
                IpNet::V4(p) => v4.push(p),
                p @ IpNet::V6(_) => v6.push(p),
            }
        }
        let mp_unreach = (!v6.is_empty()).then_some(MpUnreach {
            afi: Afi::Ipv6,
            withdrawn: v6,
        });
        Update {
            withdrawn: v4,
            attrs: Attributes {
                mp_unreach,
                ..Default::default()
            },
            nlri: Vec::new(),
        }
    }

    /// All prefixes this UPDATE announces, IPv4 and MP.
    pub fn announced(&self) -> impl Iterator<Item = IpNet> + '_ {
        let mp = self
            .attrs
            .mp_reach
            .iter()
            .flat_map(|m| m.nlri.iter().copied());
        self.nlri.iter().map(|p| IpNet::V4(*p)).chain(mp)
    }

    /// All prefixes this UPDATE withdraws, IPv4 and MP.
    pub fn withdrawn_all(&self) -> impl Iterator<Item = IpNet> + '_ {
        let mp = self
            .attrs
            .mp_unreach
            .iter()
            .flat_map(|m| m.withdrawn.iter().copied());
        self.withdrawn.iter().map(|p| IpNet::V4(*p)).chain(mp)
    }
}

/// NOTIFICATION (RFC 4271 §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

impl Notification {
    pub fn from_error(e: &DecodeError) -> Self {
        let c = e.code();
        Notification {
            code: c.code,
            subcode: c.subcode,
            data: e.data(),
        }
    }

    /// RFC 4271 names for the code and subcode, e.g. "Cease / Administrative Shutdown".
    pub fn describe(&self) -> String {
        let code = match self.code {
            1 => "Message Header Error",
            2 => "OPEN Message Error",
            3 => "UPDATE Message Error",
            4 => "Hold Timer Expired",
            5 => "Finite State Machine Error",
            6 => "Cease",
            _ => "Unknown error",
        };
        let sub = match (self.code, self.subcode) {
            (1, 1) => "Connection Not Synchronized",
            (1, 2) => "Bad Message Length",
            (1, 3) => "Bad Message Type",
            (2, 1) => "Unsupported Version Number",
            (2, 2) => "Bad Peer AS",
            (2, 3) => "Bad BGP Identifier",
            (2, 4) => "Unsupported Optional Parameter",
            (2, 6) => "Unacceptable Hold Time",
            (3, 1) => "Malformed Attribute List",
            (3, 2) => "Unrecognized Well-known Attribute",
            (3, 3) => "Missing Well-known Attribute",
            (3, 4) => "Attribute Flags Error",
            (3, 5) => "Attribute Length Error",
            (3, 6) => "Invalid ORIGIN Attribute",
            (3, 8) => "Invalid NEXT_HOP Attribute",
            (3, 9) => "Optional Attribute Error",
            (3, 10) => "Invalid Network Field",
            (3, 11) => "Malformed AS_PATH",
            (6, 2) => "Administrative Shutdown",
            (6, 3) => "Peer De-configured",
            (6, 4) => "Administrative Reset",
            (6, 5) => "Connection Rejected",
            (6, 7) => "Connection Collision Resolution",
            _ => "",
        };
        if sub.is_empty() {
            format!("{code} ({}/{})", self.code, self.subcode)
        } else {
            format!("{code} / {sub}")
        }
    }
}

/// Any BGP message.
// UPDATE is the big, common variant; boxing it would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    /// RFC 2918: AFI and SAFI to re-send.
    RouteRefresh {
        afi: u16,
        safi: u8,
    },
}

impl Message {
    pub fn type_code(&self) -> u8 {
        match self {
            Message::Open(_) => msg::OPEN,
            Message::Update(_) => msg::UPDATE,
            Message::Notification(_) => msg::NOTIFICATION,
            Message::Keepalive => msg::KEEPALIVE,
            Message::RouteRefresh { .. } => msg::ROUTE_REFRESH,
        }
    }

    /// Encodes header and body. Every length is checked: a message over 4096 octets
    /// (RFC 4271 §4.1), or a field longer than its length field can say, is an error, never
    /// cut short. The caller keeps UPDATEs within bounds (see `bgp::rib_out::pack`).
    pub fn encode(&self, ctx: &Ctx) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0xff; 16];
        out.extend_from_slice(&[0, 0, self.type_code()]);
        match self {
            Message::Open(o) => encode_open(o, &mut out)?,
            Message::Update(u) => encode_update(u, ctx, &mut out)?,
            Message::Notification(n) => {
                out.extend_from_slice(&[n.code, n.subcode]);
                out.extend_from_slice(&n.data);
            }
            Message::Keepalive => {}
            Message::RouteRefresh { afi, safi } => {
                out.extend_from_slice(&afi.to_be_bytes());
                out.extend_from_slice(&[0, *safi]);
            }
        }
        if out.len() > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                what: "message",
                len: out.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        let len = EncodeError::fit_u16("message", out.len())?;
        out[16..18].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }

    /// Decodes exactly one message, header included (use `frame` to find its end first),
    /// strictly: any error in an UPDATE is returned (RFC 4271 §6.3).
    pub fn decode(buf: &[u8], ctx: &Ctx) -> Result<Message, DecodeError> {
        let d = Self::decode_rfc7606(buf, ctx)?;
        match d.faults.into_iter().next() {
            Some(f) => Err(f.error),
            None => Ok(d.message),
        }
    }

    /// Decodes exactly one message with RFC 7606's revised UPDATE error handling: errors
    /// that allow "attribute discard" or "treat-as-withdraw" come back in `faults` with the
    /// UPDATE already adjusted (attribute dropped, or every prefix withdrawn); `Err` means
    /// the session must be reset with the error's NOTIFICATION.
    pub fn decode_rfc7606(buf: &[u8], ctx: &Ctx) -> Result<Decoded, DecodeError> {
        Self::decode_from(buf, ctx, PeerKind::Internal)
    }

    /// `decode_rfc7606` for a message from a peer of `kind`: an external peer's LOCAL_PREF
    /// is discarded (RFC 7606 §7.5), even when malformed.
    pub fn decode_from(buf: &[u8], ctx: &Ctx, kind: PeerKind) -> Result<Decoded, DecodeError> {
        let mut faults = Vec::new();
        let message = Self::decode_with(buf, ctx, kind, &mut faults)?;
        Ok(Decoded { message, faults })
    }

    fn decode_with(
        buf: &[u8],
        ctx: &Ctx,
        kind: PeerKind,
        faults: &mut Vec<UpdateFault>,
    ) -> Result<Message, DecodeError> {
        let len = frame(buf)?.ok_or(DecodeError::BadMessageLength(len16(buf.len())))?;
        if len != buf.len() {
            return Err(DecodeError::BadMessageLength(len16(len)));
        }
        let body = &buf[HEADER_LEN..];
        let bad_len = || DecodeError::BadMessageLength(len16(len));
        match buf[18] {
            msg::OPEN if body.len() >= 10 => decode_open(body).map(Message::Open),
            msg::UPDATE if body.len() >= 4 => {
                decode_update(body, ctx, kind, faults).map(Message::Update)
            }
            msg::NOTIFICATION if body.len() >= 2 => Ok(Message::Notification(Notification {
                code: body[0],
                subcode: body[1],
                data: body[2..].to_vec(),
            })),
            msg::KEEPALIVE if body.is_empty() => Ok(Message::Keepalive),
            msg::ROUTE_REFRESH if body.len() == 4 => Ok(Message::RouteRefresh {
                afi: u16::from_be_bytes([body[0], body[1]]),
                safi: body[3],
            }),
            msg::OPEN..=msg::ROUTE_REFRESH => Err(bad_len()),
            t => Err(DecodeError::BadMessageType(t)),
        }
    }
}

/// A received length for the data of a Bad Message Length NOTIFICATION. Lengths on the decode
/// path came out of a two-octet header field, so they fit; a buffer longer than any message
/// (which `frame` never hands out) is reported as the largest length there is.
fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// A message decoded by `Message::decode_rfc7606`, with the UPDATE errors it tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub faults: Vec<UpdateFault>,
}

impl Decoded {
    /// True when the UPDATE's announcements were turned into withdrawals (RFC 7606 §2).
    pub fn treated_as_withdraw(&self) -> bool {
        self.faults
            .iter()
            .any(|f| f.action == ErrorAction::TreatAsWithdraw)
    }
}

/// Finds the length of the first message in `buf`: `Ok(None)` until it is all buffered,
/// an error when the header itself is bad (§6.1).
pub fn frame(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    if buf[..16].iter().any(|b| *b != 0xff) {
        return Err(DecodeError::ConnectionNotSynchronized);
    }
    let len = u16::from_be_bytes([buf[16], buf[17]]);
    if usize::from(len) < HEADER_LEN || usize::from(len) > MAX_MESSAGE_LEN {
        return Err(DecodeError::BadMessageLength(len));
    }
    Ok((buf.len() >= usize::from(len)).then_some(usize::from(len)))
}

fn encode_open(o: &Open, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let as_field = u16::try_from(o.asn).unwrap_or(AS_TRANS);
    out.push(BGP_VERSION);
    out.extend_from_slice(&as_field.to_be_bytes());
    out.extend_from_slice(&o.hold_time.to_be_bytes());
    out.extend_from_slice(&o.bgp_id.octets());
    let mut caps = Vec::new();
    for c in &o.capabilities {
        let (code, value) = match c {
            Capability::Multiprotocol { afi, safi } => {
                let a = afi.to_be_bytes();
                (cap::MULTIPROTOCOL, vec![a[0], a[1], 0, *safi])
            }
            Capability::RouteRefresh => (cap::ROUTE_REFRESH, vec![]),
            Capability::FourOctetAs(asn) => (cap::FOUR_OCTET_AS, asn.to_be_bytes().to_vec()),
            Capability::Unknown { code, value } => (*code, value.clone()),
        };
        caps.push(code);
        caps.push(EncodeError::fit_u8("capability value", value.len())?);
        caps.extend_from_slice(&value);
    }
    if caps.is_empty() {
        out.push(0);
    } else {
        // One Capabilities optional parameter holding all capabilities.
        let param_len = EncodeError::fit_u8("capabilities parameter", caps.len())?;
        let opt_len = EncodeError::fit_u8("optional parameters", caps.len() + 2)?;
        out.push(opt_len);
        out.extend_from_slice(&[param::CAPABILITIES, param_len]);
        out.extend_from_slice(&caps);
    }
    Ok(())
}

fn decode_open(body: &[u8]) -> Result<Open, DecodeError> {
    let mut r = Reader::new(body);
    let short = DecodeError::MalformedOpen;
    let version = r.u8().ok_or(short.clone())?;
    if version != BGP_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let as_field = r.u16().ok_or(short.clone())?;
    let hold_time = r.u16().ok_or(short.clone())?;
    let bgp_id = Ipv4Addr::from(r.u32().ok_or(short.clone())?);
    let opt_len = r.u8().ok_or(short.clone())?;
    if usize::from(opt_len) != r.remaining() {
        return Err(DecodeError::BadMessageLength(len16(
            HEADER_LEN + body.len(),
        )));
    }
    if hold_time == 1 || hold_time == 2 {
        return Err(DecodeError::UnacceptableHoldTime(hold_time));
    }
    if bgp_id.is_unspecified() || bgp_id.is_multicast() || bgp_id.is_broadcast() {
        return Err(DecodeError::BadBgpIdentifier(bgp_id));
    }
    let mut capabilities = Vec::new();
    while !r.is_empty() {
        let ptype = r.u8().ok_or(short.clone())?;
        let plen = r.u8().ok_or(short.clone())?;
        let pval = r.take(usize::from(plen)).ok_or(short.clone())?;
        if ptype != param::CAPABILITIES {
            return Err(DecodeError::UnsupportedOptionalParameter(ptype));
        }
        decode_capabilities(pval, &mut capabilities)?;
    }
    let asn = capabilities
        .iter()
        .find_map(|c| match c {
            Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
        .unwrap_or(u32::from(as_field));
    Ok(Open {
        asn,
        hold_time,
        bgp_id,
        capabilities,
    })
}

fn decode_capabilities(buf: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let code = r.u8().ok_or(DecodeError::MalformedOpen)?;
        let len = r.u8().ok_or(DecodeError::MalformedOpen)?;
        let v = r.take(usize::from(len)).ok_or(DecodeError::MalformedOpen)?;
        out.push(match (code, v) {
            (cap::MULTIPROTOCOL, [a0, a1, _, safi]) => Capability::Multiprotocol {
                afi: u16::from_be_bytes([*a0, *a1]),
                safi: *safi,
            },
            (cap::ROUTE_REFRESH, []) => Capability::RouteRefresh,
            (cap::FOUR_OCTET_AS, [a, b, c, d]) => {
                Capability::FourOctetAs(u32::from_be_bytes([*a, *b, *c, *d]))
            }
            (cap::MULTIPROTOCOL | cap::ROUTE_REFRESH | cap::FOUR_OCTET_AS, _) => {
                return Err(DecodeError::MalformedOpen)
            }
            _ => Capability::Unknown {
                code,
                value: v.to_vec(),
            },
        });
    }
    Ok(())
}

fn encode_update(u: &Update, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mut withdrawn = Vec::new();
    for p in &u.withdrawn {
        put_prefix(&mut withdrawn, &IpNet::V4(*p));
    }
    let wlen = EncodeError::fit_u16("withdrawn routes", withdrawn.len())?;
    out.extend_from_slice(&wlen.to_be_bytes());
    out.extend_from_slice(&withdrawn);
    let mut attrs = Vec::new();
    u.attrs.encode(ctx, &mut attrs)?;
    let alen = EncodeError::fit_u16("path attributes", attrs.len())?;
    out.extend_from_slice(&alen.to_be_bytes());
    out.extend_from_slice(&attrs);
    for p in &u.nlri {
        put_prefix(out, &IpNet::V4(*p));
    }
    Ok(())
}

fn decode_update(
    body: &[u8],
    ctx: &Ctx,
    kind: PeerKind,
    faults: &mut Vec<UpdateFault>,
) -> Result<Update, DecodeError> {
    let mut r = Reader::new(body);
    // RFC 4271 §6.3, unchanged by RFC 7606: lengths that overrun the message reset.
    let bad = DecodeError::MalformedAttributeList;
    let wlen = r.u16().ok_or(bad.clone())?;
    let wbuf = r.take(usize::from(wlen)).ok_or(bad.clone())?;
    let alen = r.u16().ok_or(bad.clone())?;
    let abuf = r.take(usize::from(alen)).ok_or(bad)?;
    let nbuf = r.take(r.remaining()).unwrap_or_default();
    // RFC 7606 §5.3: prefixes that cannot be parsed leave nothing to withdraw: reset.
    let withdrawn = read_v4_prefixes(wbuf).ok_or(DecodeError::InvalidNetworkField)?;
    let first = faults.len();
    let attrs = Attributes::decode_from(abuf, ctx, kind, faults)?;
    let nlri = read_v4_prefixes(nbuf).ok_or(DecodeError::InvalidNetworkField)?;
    if nlri.is_empty() {
        // RFC 4760 §3 / RFC 7606 §7.3: without IPv4 NLRI the NEXT_HOP is not used, so a bad
        // one is only discarded; it must not withdraw MP_REACH_NLRI's routes.
        for f in &mut faults[first..] {
            if next_hop_error(&f.error) {
                f.action = ErrorAction::AttributeDiscard;
            }
        }
    }
    let withdraw = |f: &[UpdateFault]| f.iter().any(|f| f.action == ErrorAction::TreatAsWithdraw);
    if !withdraw(&faults[first..]) {
        // RFC 7606 §3(d): a missing well-known mandatory attribute is treat-as-withdraw.
        if let Err(error) = check_mandatory(&attrs, !nlri.is_empty()) {
            faults.push(UpdateFault {
                action: ErrorAction::TreatAsWithdraw,
                error,
            });
        }
    }
    let u = Update {
        withdrawn,
        attrs,
        nlri,
    };
    Ok(if withdraw(&faults[first..]) {
        u.into_withdrawal()
    } else {
        u
    })
}

fn next_hop_error(e: &DecodeError) -> bool {
    use super::iana::attr::NEXT_HOP;
    match e {
        DecodeError::InvalidNextHop(_) => true,
        DecodeError::AttributeLength { type_code, .. }
        | DecodeError::AttributeFlags { type_code, .. } => *type_code == NEXT_HOP,
        _ => false,
    }
}

/// §6.3: ORIGIN and AS_PATH must come with any NLRI; NEXT_HOP with IPv4 NLRI.
fn check_mandatory(attrs: &Attributes, v4_nlri: bool) -> Result<(), DecodeError> {
    use super::iana::attr;
    let mp_nlri = attrs.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty());
    if !(v4_nlri || mp_nlri) {
        return Ok(());
    }
    if attrs.origin.is_none() {
        return Err(DecodeError::MissingWellKnown(attr::ORIGIN));
    }
    if attrs.as_path.is_none() {
        return Err(DecodeError::MissingWellKnown(attr::AS_PATH));
    }
    if v4_nlri && attrs.next_hop.is_none() {
        return Err(DecodeError::MissingWellKnown(attr::NEXT_HOP));
    }
    Ok(())
}

/// Total NLRI bytes, exposed for byte accounting in benchmarks.
pub fn nlri_wire_len(prefixes: &[IpNet]) -> usize {
    nlri_len(prefixes)
}

#[cfg(test)]
mod tests {
    use super::super::attribute::{AsSegment, Origin};
    use super::*;

    const CTX: Ctx = Ctx {
        four_octet_as: true,
    };

    fn header(len: u16, t: u8) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&len.to_be_bytes());
        v.push(t);
        v
    }

    fn pair(m: &Message, bytes: &[u8]) {
        assert_eq!(m.encode(&CTX).unwrap(), bytes, "encode");
        assert_eq!(&Message::decode(bytes, &CTX).unwrap(), m, "decode");
    }

    #[test]
    fn keepalive_both_ways() {
        pair(&Message::Keepalive, &header(19, 4));
    }

    #[test]
    fn open_metallb_style_both_ways() {
        let m = Message::Open(Open {
            asn: 64500,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            capabilities: vec![
                Capability::Multiprotocol { afi: 1, safi: 1 },
                Capability::Multiprotocol { afi: 2, safi: 1 },
                Capability::RouteRefresh,
                Capability::FourOctetAs(64500),
            ],
        });
        let mut b = header(51, 1);
        #[rustfmt::skip]
        b.extend_from_slice(&[
            4, 0xfb, 0xf4, 0, 90, 10, 0, 0, 1, 22, 2, 20,
            1, 4, 0, 1, 0, 1,
            1, 4, 0, 2, 0, 1,
            2, 0,
            65, 4, 0, 0, 0xfb, 0xf4,
        ]);
        pair(&m, &b);
    }

    #[test]
    fn open_four_octet_as_uses_as_trans() {
        let m = Message::Open(Open {
            asn: 4_200_000_001,
            hold_time: 3,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            capabilities: vec![Capability::FourOctetAs(4_200_000_001)],
        });
        let b = m.encode(&CTX).unwrap();
        assert_eq!(&b[20..22], &[0x5b, 0xa0]);
        assert_eq!(Message::decode(&b, &CTX).unwrap(), m);
    }

    #[test]
    fn update_with_nlri_and_withdrawn_both_ways() {
        let m = Message::Update(Update {
            withdrawn: vec!["198.51.100.0/24".parse().unwrap()],
            attrs: Attributes {
                origin: Some(Origin::Incomplete),
                as_path: Some(vec![AsSegment::Sequence(vec![64500])]),
                next_hop: Some(Ipv4Addr::new(127, 0, 1, 1)),
                ..Default::default()
            },
            nlri: vec!["198.51.100.10/32".parse().unwrap()],
        });
        let mut b = header(52, 2);
        #[rustfmt::skip]
        b.extend_from_slice(&[
            0, 4, 24, 198, 51, 100,
            0, 20,
            0x40, 1, 1, 2,
            0x40, 2, 6, 2, 1, 0, 0, 0xfb, 0xf4,
            0x40, 3, 4, 127, 0, 1, 1,
            32, 198, 51, 100, 10,
        ]);
        pair(&m, &b);
    }

    #[test]
    fn notification_and_route_refresh_both_ways() {
        let mut b = header(21, 3);
        b.extend_from_slice(&[6, 2]);
        pair(
            &Message::Notification(Notification {
                code: 6,
                subcode: 2,
                data: vec![],
            }),
            &b,
        );
        let mut b = header(23, 5);
        b.extend_from_slice(&[0, 1, 0, 1]);
        pair(&Message::RouteRefresh { afi: 1, safi: 1 }, &b);
    }

    #[test]
    fn end_of_rib_markers() {
        let eor4 = Message::Update(Update::end_of_rib(Afi::Ipv4))
            .encode(&CTX)
            .unwrap();
        assert_eq!(eor4.len(), 23);
        let eor6 = Message::Update(Update::end_of_rib(Afi::Ipv6))
            .encode(&CTX)
            .unwrap();
        let Message::Update(u) = Message::decode(&eor6, &CTX).unwrap() else {
            panic!("not an update")
        };
        assert_eq!(u.end_of_rib_afi(), Some(Afi::Ipv6));
    }

    #[test]
    fn framing_waits_for_a_whole_message() {
        let ka = Message::Keepalive.encode(&CTX).unwrap();
        assert_eq!(frame(&ka[..10]), Ok(None));
        assert_eq!(frame(&ka[..18]), Ok(None));
        assert_eq!(frame(&ka), Ok(Some(19)));
        let mut two = ka.clone();
        two.extend_from_slice(&ka[..5]);
        assert_eq!(frame(&two), Ok(Some(19)));
    }

    #[test]
    fn header_errors() {
        let mut b = header(19, 4);
        b[3] = 0;
        assert_eq!(frame(&b), Err(DecodeError::ConnectionNotSynchronized));
        assert_eq!(
            frame(&header(18, 4)),
            Err(DecodeError::BadMessageLength(18))
        );
        assert_eq!(
            frame(&header(4097, 4)),
            Err(DecodeError::BadMessageLength(4097))
        );
        assert_eq!(
            Message::decode(&header(19, 9), &CTX),
            Err(DecodeError::BadMessageType(9))
        );
        let mut ka = header(20, 4);
        ka.push(0);
        assert_eq!(
            Message::decode(&ka, &CTX),
            Err(DecodeError::BadMessageLength(20))
        );
    }

    #[test]
    fn open_errors() {
        let good = Message::Open(Open {
            asn: 65001,
            hold_time: 9,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            capabilities: vec![],
        })
        .encode(&CTX)
        .unwrap();
        let mut v = good.clone();
        v[19] = 3;
        assert_eq!(
            Message::decode(&v, &CTX),
            Err(DecodeError::UnsupportedVersion(3))
        );
        let mut h = good.clone();
        h[23] = 2;
        assert_eq!(
            Message::decode(&h, &CTX),
            Err(DecodeError::UnacceptableHoldTime(2))
        );
        let mut id = good.clone();
        id[24..28].copy_from_slice(&[0, 0, 0, 0]);
        assert!(matches!(
            Message::decode(&id, &CTX),
            Err(DecodeError::BadBgpIdentifier(_))
        ));
    }

    #[test]
    fn update_missing_next_hop() {
        let u = Message::Update(Update {
            attrs: Attributes {
                origin: Some(Origin::Igp),
                as_path: Some(vec![]),
                ..Default::default()
            },
            nlri: vec!["10.0.0.0/8".parse().unwrap()],
            ..Default::default()
        });
        assert_eq!(
            Message::decode(&u.encode(&CTX).unwrap(), &CTX),
            Err(DecodeError::MissingWellKnown(3))
        );
    }

    #[test]
    fn lengths_that_do_not_fit_are_errors_not_truncations() {
        let too_long = |m: Message| match m.encode(&CTX) {
            Err(EncodeError::TooLong { what, .. }) => what,
            other => panic!("expected TooLong, got {other:?}"),
        };
        let update = |attrs: Attributes| {
            Message::Update(Update {
                attrs,
                nlri: vec!["10.0.0.0/8".parse().unwrap()],
                ..Default::default()
            })
        };
        // 2,000 communities fit the attribute's two-octet length, not a 4096-octet message.
        let many = Attributes {
            communities: (0..2000).collect(),
            ..Default::default()
        };
        assert_eq!(too_long(update(many)), "message");
        // 20,000 do not fit the attribute length field either.
        let more = Attributes {
            communities: (0..20_000).collect(),
            ..Default::default()
        };
        assert_eq!(too_long(update(more)), "path attribute");
        let hops = Attributes {
            mp_reach: Some(super::super::attribute::MpReach {
                afi: Afi::Ipv6,
                next_hops: vec!["2001:db8::1".parse().unwrap(); 20],
                nlri: vec![],
            }),
            ..Default::default()
        };
        assert_eq!(too_long(update(hops)), "MP_REACH_NLRI next hop");
        let open = |capabilities| {
            Message::Open(Open {
                asn: 1,
                hold_time: 9,
                bgp_id: Ipv4Addr::new(10, 0, 0, 1),
                capabilities,
            })
        };
        let big = Capability::Unknown {
            code: 99,
            value: vec![0; 256],
        };
        assert_eq!(too_long(open(vec![big])), "capability value");
        let many_caps = vec![Capability::RouteRefresh; 200];
        assert_eq!(too_long(open(many_caps)), "capabilities parameter");
        let n = Message::Notification(Notification {
            code: 3,
            subcode: 1,
            data: vec![0; 4096],
        });
        assert_eq!(too_long(n), "message");
        // A long AS_PATH is split into segments of 255, not cut.
        let path = Attributes {
            as_path: Some(vec![AsSegment::Sequence((1..=600).collect())]),
            origin: Some(Origin::Igp),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..Default::default()
        };
        let b = update(path).encode(&CTX).unwrap();
        let Message::Update(u) = Message::decode(&b, &CTX).unwrap() else {
            panic!("not an update")
        };
        let lens: Vec<usize> = u
            .attrs
            .as_path
            .unwrap()
            .iter()
            .map(|s| match s {
                AsSegment::Sequence(v) | AsSegment::Set(v) => v.len(),
            })
            .collect();
        assert_eq!(lens, vec![255, 255, 90]);
    }

    #[test]
    fn a_bad_next_hop_without_ipv4_nlri_is_only_discarded() {
        let attrs = Attributes {
            origin: Some(Origin::Igp),
            as_path: Some(vec![]),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            mp_reach: Some(super::super::attribute::MpReach {
                afi: Afi::Ipv6,
                next_hops: vec!["2001:db8::1".parse().unwrap()],
                nlri: vec!["2001:db8:1::/48".parse().unwrap()],
            }),
            ..Default::default()
        };
        let mut b = Message::Update(Update {
            attrs,
            ..Default::default()
        })
        .encode(&CTX)
        .unwrap();
        // NEXT_HOP follows ORIGIN (4 octets) and the empty AS_PATH (3): make it 0.0.0.0.
        let nh = 19 + 2 + 2 + 4 + 3;
        assert_eq!(&b[nh..nh + 3], &[0x40, 3, 4]);
        b[nh + 3..nh + 7].copy_from_slice(&[0, 0, 0, 0]);
        let d = Message::decode_rfc7606(&b, &CTX).unwrap();
        assert!(!d.treated_as_withdraw(), "{d:?}");
        assert_eq!(d.faults[0].action, ErrorAction::AttributeDiscard);
        let Message::Update(u) = d.message else {
            panic!("not an update")
        };
        assert_eq!(u.announced().count(), 1);
        assert_eq!(u.attrs.next_hop, None);
        // With an IPv4 prefix, the same NEXT_HOP withdraws the UPDATE.
        let mut with_v4 = b.clone();
        with_v4.extend_from_slice(&[8, 10]);
        let len = u16::try_from(with_v4.len()).unwrap();
        with_v4[16..18].copy_from_slice(&len.to_be_bytes());
        assert!(Message::decode_rfc7606(&with_v4, &CTX)
            .unwrap()
            .treated_as_withdraw());
    }
}
