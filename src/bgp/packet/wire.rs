//! Byte-level helpers shared by the codec: a bounds-checked reader and prefix encoding.
//!
//! Pure: no I/O, nothing outside `std` and `ipnet`.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A cursor over a byte slice whose reads return `None` instead of panicking past the end.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Bytes a prefix takes on the wire: one length octet plus the significant octets.
pub(crate) fn prefix_wire_len(p: &IpNet) -> usize {
    1 + usize::from(p.prefix_len()).div_ceil(8)
}

pub(crate) fn put_prefix(out: &mut Vec<u8>, p: &IpNet) {
    let len = p.prefix_len();
    let n = usize::from(len).div_ceil(8);
    out.push(len);
    match p {
        IpNet::V4(v4) => out.extend_from_slice(&v4.network().octets()[..n]),
        IpNet::V6(v6) => out.extend_from_slice(&v6.network().octets()[..n]),
    }
}

/// Reads IPv4 prefixes until the slice ends; `None` on a bad length or a truncated prefix.
pub(crate) fn read_v4_prefixes(buf: &[u8]) -> Option<Vec<Ipv4Net>> {
    read_prefixes(buf, |octets: [u8; 4], len| {
        Some(Ipv4Net::new(Ipv4Addr::from(octets), len).ok()?.trunc())
    })
}

/// Reads IPv6 prefixes until the slice ends; `None` on a bad length or a truncated prefix.
pub(crate) fn read_v6_prefixes(buf: &[u8]) -> Option<Vec<Ipv6Net>> {
    read_prefixes(buf, |octets: [u8; 16], len| {
        Some(Ipv6Net::new(Ipv6Addr::from(octets), len).ok()?.trunc())
    })
}

/// Reads (length, prefix bytes) pairs of an `N`-octet family until the slice ends, building
/// each prefix with `build` from its octets zero-padded to `N` and its length.
fn read_prefixes<const N: usize, T>(
    buf: &[u8],
    build: impl Fn([u8; N], u8) -> Option<T>,
) -> Option<Vec<T>> {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    while !r.is_empty() {
        let len = r.u8()?;
        if usize::from(len) > N * 8 {
            return None;
        }
        let bytes = r.take(usize::from(len).div_ceil(8))?;
        let mut octets = [0u8; N];
        octets[..bytes.len()].copy_from_slice(bytes);
        // Host bits beyond the length are irrelevant (RFC 4271 §4.3): `build` clears them.
        out.push(build(octets, len)?);
    }
    Some(out)
}
