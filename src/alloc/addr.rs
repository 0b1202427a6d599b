//! Address arithmetic for the allocator: IPv4 and IPv6 addresses as `u128` keys, inclusive
//! ranges, MetalLB's "buggy IP" rule and exact counting. Pure; no I/O.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `ip`. An IPv4-mapped IPv6 address counts as IPv6, as written.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// An address as a family plus a number; IPv4 addresses use the low 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr {
    /// The address family.
    pub family: Family,
    /// The address as a number.
    pub value: u128,
}

impl Addr {
    /// Convert a standard address.
    pub fn from_ip(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr {
                family: Family::V4,
                value: u128::from(u32::from(v4)),
            },
            IpAddr::V6(v6) => Addr {
                family: Family::V6,
                value: u128::from(v6),
            },
        }
    }

    /// Convert back to a standard address. IPv4 values above `u32::MAX` saturate (they are
    /// never produced by this module).
    pub fn to_ip(self) -> IpAddr {
        match self.family {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(
                u32::try_from(self.value).unwrap_or(u32::MAX),
            )),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(self.value)),
        }
    }

    /// MetalLB's `ipConfusesBuggyFirmwares`: an IPv4 address whose last octet is 0 or 255, at
    /// any prefix length. IPv6 addresses are never buggy.
    pub fn is_buggy(self) -> bool {
        self.family == Family::V4 && crate::config::addr::is_buggy(self.value)
    }
}

/// MetalLB's buggy-IP rule for a standard address; see [`Addr::is_buggy`].
pub fn is_buggy(ip: IpAddr) -> bool {
    Addr::from_ip(ip).is_buggy()
}

/// An inclusive address range, `first..=last`. A CIDR is its network address to its last
/// address; MetalLB iterates a pool's CIDRs in configuration order, each ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AddrRange {
    /// The first address in the range.
    pub first: IpAddr,
    /// The last address in the range (inclusive).
    pub last: IpAddr,
}

impl AddrRange {
    /// A range from `first` to `last`, inclusive.
    pub fn new(first: IpAddr, last: IpAddr) -> AddrRange {
        AddrRange { first, last }
    }

    /// Parse `a.b.c.d/n`, `x::/n`, `A-B` (spaces around the dash allowed) or a single address.
    pub fn parse(text: &str) -> Option<AddrRange> {
        let text = text.trim();
        if text.contains('/') || text.contains('-') {
            // The same parser the linter uses, so both read pool entries alike.
            let block = crate::config::addr::parse_entry(text, true).ok()?;
            return Some(AddrRange::new(block.first, block.last));
        }
        let ip: IpAddr = text.parse().ok()?;
        Some(AddrRange {
            first: ip,
            last: ip,
        })
    }

    /// The range as numbers, or `None` when the ends are of different families or reversed.
    pub(crate) fn bounds(&self) -> Option<(Family, u128, u128)> {
        let a = Addr::from_ip(self.first);
        let b = Addr::from_ip(self.last);
        if a.family != b.family || a.value > b.value {
            return None;
        }
        Some((a.family, a.value, b.value))
    }

    /// Whether the range holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let x = Addr::from_ip(ip);
        match self.bounds() {
            Some((f, lo, hi)) => f == x.family && lo <= x.value && x.value <= hi,
            None => false,
        }
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// The number of addresses in `lo..=hi`, saturating at `u128::MAX` for the whole IPv6 space.
pub(crate) fn span(lo: u128, hi: u128) -> u128 {
    (hi - lo).saturating_add(1)
}

/// The number of buggy IPv4 addresses (last octet 0 or 255) in `lo..=hi`.
pub(crate) use crate::config::addr::buggy_count_v4;

/// Go's `%q` for a string: double-quoted with Go escapes, as MetalLB's messages print names
/// and addresses.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_ranges() {
        let r = AddrRange::parse("198.51.100.7/24").unwrap();
        assert_eq!(r.first, ip("198.51.100.0"));
        assert_eq!(r.last, ip("198.51.100.255"));
        let r = AddrRange::parse("2001:db8::/64").unwrap();
        assert_eq!(r.last, ip("2001:db8::ffff:ffff:ffff:ffff"));
        let r = AddrRange::parse("0.0.0.0/0").unwrap();
        assert_eq!(r.last, ip("255.255.255.255"));
        let r = AddrRange::parse("::/0").unwrap();
        assert_eq!(r.bounds().unwrap().2, u128::MAX);
        assert!(AddrRange::parse("1.2.3.4/33").is_none());
        let r = AddrRange::parse("40.0.0.150 - 40.0.0.200").unwrap();
        assert_eq!(r.first, ip("40.0.0.150"));
        assert!(AddrRange::new(ip("1.2.3.4"), ip("1.2.3.3"))
            .bounds()
            .is_none());
        assert!(AddrRange::new(ip("1.2.3.4"), ip("::1")).bounds().is_none());
    }

    #[test]
    fn buggy_rule() {
        assert!(is_buggy(ip("198.51.100.0")));
        assert!(is_buggy(ip("198.51.100.255")));
        assert!(!is_buggy(ip("198.51.100.1")));
        assert!(!is_buggy(ip("2001:db8::")));
        assert!(!is_buggy(ip("2001:db8::ff")));
    }

    #[test]
    fn buggy_counting() {
        let c = |a: &str, b: &str| {
            let r = AddrRange::new(ip(a), ip(b));
            let (_, lo, hi) = r.bounds().unwrap();
            buggy_count_v4(lo, hi)
        };
        assert_eq!(c("1.2.3.0", "1.2.3.255"), 2);
        assert_eq!(c("2.3.4.128", "2.3.4.255"), 1);
        assert_eq!(c("1.2.3.64", "1.2.3.127"), 0);
        assert_eq!(c("1.2.3.0", "1.2.3.0"), 1);
        assert_eq!(c("0.0.0.0", "255.255.255.255"), 2 * 65536 * 256);
        assert_eq!(c("10.0.0.0", "10.1.255.255"), 1024);
    }

    #[test]
    fn quoting_like_go() {
        assert_eq!(go_quote("default/nginx"), "\"default/nginx\"");
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
