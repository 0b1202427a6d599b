//! Address-pool entries: a CIDR (`198.51.100.0/24`) or a range (`192.168.1.10-192.168.1.20`),
//! parsed as MetalLB parses them, with the arithmetic the rules need (sizes, buggy addresses,
//! the CIDRs a range splits into). Addresses are handled as `u128` within one family.

use std::net::IpAddr;

use ipnet::IpNet;

/// A parsed pool entry: an inclusive interval of one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub first: IpAddr,
    pub last: IpAddr,
    /// For CIDR entries: the network and whether host bits were set in what was written.
    pub cidr: Option<(IpNet, bool)>,
}

/// Why an entry does not parse, with MetalLB's inner error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// Not a CIDR and not a range: `invalid CIDR "x"` / `invalid IP range "x"...`.
    Syntax(String),
    /// `start IP "b" is after the end IP "a"`.
    Reversed { first: IpAddr, last: IpAddr },
    /// One end IPv4, the other IPv6.
    MixedFamilies { first: IpAddr, last: IpAddr },
}

/// Parse one `addresses` entry. `trim_spaces` mirrors MetalLB v0.9+, which trims spaces around
/// the dash of a range.
pub fn parse_entry(text: &str, trim_spaces: bool) -> Result<Block, EntryError> {
    if text.contains('-') {
        return parse_range(text, trim_spaces);
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| EntryError::Syntax(format!("invalid CIDR {text:?}")))?;
    let host_bits = net.addr() != net.network();
    let net = net.trunc();
    Ok(Block {
        first: net.network(),
        last: net.broadcast(),
        cidr: Some((net, host_bits)),
    })
}

fn parse_range(text: &str, trim_spaces: bool) -> Result<Block, EntryError> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 2 {
        return Err(EntryError::Syntax(format!("invalid IP range {text:?}")));
    }
    let clean = |s: &str| {
        if trim_spaces {
            s.trim().to_string()
        } else {
            s.to_string()
        }
    };
    let (start, end) = (clean(parts[0]), clean(parts[1]));
    let first: IpAddr = start.parse().map_err(|_| {
        EntryError::Syntax(format!(
            "invalid IP range {text:?}: invalid start IP {start:?}"
        ))
    })?;
    let last: IpAddr = end.parse().map_err(|_| {
        EntryError::Syntax(format!("invalid IP range {text:?}: invalid end IP {end:?}"))
    })?;
    if first.is_ipv4() != last.is_ipv4() {
        return Err(EntryError::MixedFamilies { first, last });
    }
    if to_u128(first) > to_u128(last) {
        return Err(EntryError::Reversed { first, last });
    }
    Ok(Block {
        first,
        last,
        cidr: None,
    })
}

pub fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

pub fn from_u128(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4((value as u32).into())
    } else {
        IpAddr::V6(value.into())
    }
}

impl Block {
    pub fn is_v4(&self) -> bool {
        self.first.is_ipv4()
    }

    pub fn bounds(&self) -> (u128, u128) {
        (to_u128(self.first), to_u128(self.last))
    }

    /// Number of addresses; saturates at u128::MAX for `::/0`.
    pub fn size(&self) -> u128 {
        let (a, b) = self.bounds();
        (b - a).saturating_add(1)
    }

    /// Addresses that stay usable under avoid-buggy-ips (IPv4 addresses ending in .0 or .255
    /// are avoided; IPv6 never is).
    pub fn usable_avoiding_buggy(&self) -> u128 {
        if !self.is_v4() {
            return self.size();
        }
        let (a, b) = self.bounds();
        self.size() - buggy_count_v4(a, b)
    }

    /// The first address a MetalLB allocator would hand out from this block.
    pub fn first_usable(&self, avoid_buggy: bool) -> Option<IpAddr> {
        let (a, b) = self.bounds();
        let mut x = a;
        while x <= b {
            if !(avoid_buggy && self.is_v4() && is_buggy(x)) {
                return Some(from_u128(x, self.is_v4()));
            }
            x += 1;
        }
        None
    }

    /// The CIDRs that exactly cover the block, ascending (MetalLB's `ipaddr.Summarize`).
    pub fn cidrs(&self) -> Vec<IpNet> {
        let bits: u32 = if self.is_v4() { 32 } else { 128 };
        let (mut a, b) = self.bounds();
        let mut out = Vec::new();
        loop {
            let align = if a == 0 {
                bits
            } else {
                a.trailing_zeros().min(bits)
            };
            let mut size_bits = align;
            while size_bits > 0 && span_end(a, size_bits).is_none_or(|end| end > b) {
                size_bits -= 1;
            }
            let prefix = (bits - size_bits) as u8;
            // `prefix` is at most the family's width, so this never fails; if it did, the list
            // ends short instead of the process ending.
            let Ok(net) = IpNet::new(from_u128(a, self.is_v4()), prefix) else {
                break;
            };
            out.push(net);
            match span_end(a, size_bits) {
                Some(end) if end < b => a = end + 1,
                _ => break,
            }
        }
        out
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b) = self.bounds();
        ip.is_ipv4() == self.is_v4() && (a..=b).contains(&to_u128(ip))
    }
}

fn span_end(start: u128, size_bits: u32) -> Option<u128> {
    if size_bits >= 128 {
        return if start == 0 { Some(u128::MAX) } else { None };
    }
    start.checked_add((1u128 << size_bits) - 1)
}

/// MetalLB's `ipConfusesBuggyFirmwares` for an IPv4 address (as u128): last octet 0 or 255,
/// at any prefix length.
pub fn is_buggy(x: u128) -> bool {
    matches!(x % 256, 0 | 255)
}

/// How many IPv4 addresses (as u128) in `a..=b` are buggy; shared with the allocator.
pub fn buggy_count_v4(a: u128, b: u128) -> u128 {
    count_congruent(a, b, 256, 0) + count_congruent(a, b, 256, 255)
}

/// How many x in [a, b] have x % m == r.
fn count_congruent(a: u128, b: u128, m: u128, r: u128) -> u128 {
    let upto = |n: u128| if n < r { 0 } else { (n - r) / m + 1 };
    upto(b) - if a == 0 { 0 } else { upto(a - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(s: &str) -> Block {
        parse_entry(s, true).unwrap()
    }

    #[test]
    fn cidr_and_host_bits() {
        let b = block("172.18.1.255/25");
        assert_eq!(b.first.to_string(), "172.18.1.128");
        assert!(b.cidr.unwrap().1);
        assert!(!block("198.51.100.0/24").cidr.unwrap().1);
    }

    #[test]
    fn ranges_and_errors() {
        assert_eq!(block("10.0.0.1 - 10.0.0.3").size(), 3);
        assert!(matches!(
            parse_entry("10.0.0.3-10.0.0.1", true),
            Err(EntryError::Reversed { .. })
        ));
        assert!(matches!(
            parse_entry("10.0.0.1-::1", true),
            Err(EntryError::MixedFamilies { .. })
        ));
        assert!(matches!(
            parse_entry("10.0.0.1 - 10.0.0.3", false),
            Err(EntryError::Syntax(_))
        ));
        assert!(matches!(
            parse_entry("nope", true),
            Err(EntryError::Syntax(_))
        ));
        assert!(matches!(
            parse_entry("1-2-3", true),
            Err(EntryError::Syntax(_))
        ));
    }

    #[test]
    fn buggy_counts_match_metallb() {
        // A /24 loses .0 and .255; a mid /26 loses nothing; a .128/25 loses .255.
        assert_eq!(block("198.51.100.0/24").usable_avoiding_buggy(), 254);
        assert_eq!(block("2.3.4.64/26").usable_avoiding_buggy(), 64);
        assert_eq!(block("2.3.4.128/25").usable_avoiding_buggy(), 127);
        assert_eq!(block("198.51.100.0/32").usable_avoiding_buggy(), 0);
        assert_eq!(block("10.0.0.0/16").usable_avoiding_buggy(), 65536 - 512);
        assert_eq!(
            block("198.51.100.0/24")
                .first_usable(true)
                .unwrap()
                .to_string(),
            "198.51.100.1"
        );
    }

    #[test]
    fn summarize_like_metallb() {
        // MetalLB's config test: 40.0.0.150-40.0.0.200 -> /31, /29, /27, /29, /32.
        let nets: Vec<String> = block("40.0.0.150-40.0.0.200")
            .cidrs()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            nets,
            [
                "40.0.0.150/31",
                "40.0.0.152/29",
                "40.0.0.160/27",
                "40.0.0.192/29",
                "40.0.0.200/32"
            ]
        );
        assert_eq!(block("0.0.0.0/0").cidrs().len(), 1);
        assert_eq!(block("::/0").cidrs().len(), 1);
        assert_eq!(block("::/0").size(), u128::MAX);
    }
}
