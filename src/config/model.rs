//! The MetalLB ConfigMap configuration (MetalLB v0.1 to v0.12), as written.
//!
//! Values are kept close to the text (addresses and durations as strings) with the byte span
//! in the ORIGINAL file of each, so the rules can both reproduce MetalLB's own checks and point
//! at the exact place. Interpretation (parsing addresses, durations) happens in the rules.

use std::ops::Range;

/// A value and where it was written in the original file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Spanned { value, span }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub peers: Vec<Peer>,
    /// `bgp-communities`: alias name -> "a:b", in file order.
    pub communities: Vec<CommunityAlias>,
    pub pools: Vec<Pool>,
    pub bfd_profiles: Vec<BfdProfile>,
    /// Span of the whole configuration body.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    pub span: Range<usize>,
    /// The BGPPeer object's name (custom resources only; ConfigMap peers have none).
    pub name: Option<Spanned<String>>,
    pub my_asn: Option<Spanned<u32>>,
    pub peer_asn: Option<Spanned<u32>>,
    pub peer_address: Option<Spanned<String>>,
    pub peer_port: Option<Spanned<u16>>,
    pub hold_time: Option<Spanned<String>>,
    pub keepalive_time: Option<Spanned<String>>,
    pub router_id: Option<Spanned<String>>,
    pub source_address: Option<Spanned<String>>,
    pub node_selectors: Vec<NodeSelector>,
    pub password: Option<Spanned<String>>,
    pub bfd_profile: Option<Spanned<String>>,
    pub ebgp_multihop: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSelector {
    pub span: Range<usize>,
    pub match_labels: Vec<(Spanned<String>, Spanned<String>)>,
    pub match_expressions: Vec<MatchExpression>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchExpression {
    pub span: Range<usize>,
    pub key: Option<Spanned<String>>,
    pub operator: Option<Spanned<String>>,
    pub values: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityAlias {
    pub name: Spanned<String>,
    pub value: Spanned<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pool {
    pub span: Range<usize>,
    pub name: Option<Spanned<String>>,
    pub protocol: Option<Spanned<String>>,
    /// `None` when the key is absent; `Some` with an empty list for `addresses: []`.
    pub addresses: Option<Spanned<Vec<Spanned<String>>>>,
    pub avoid_buggy_ips: Option<Spanned<bool>>,
    pub auto_assign: Option<Spanned<bool>>,
    pub bgp_advertisements: Option<Spanned<Vec<Advertisement>>>,
}

impl Pool {
    pub fn name_str(&self) -> &str {
        self.name.as_ref().map_or("", |n| n.value.as_str())
    }

    pub fn avoids_buggy_ips(&self) -> bool {
        self.avoid_buggy_ips.as_ref().is_some_and(|b| b.value)
    }

    pub fn is_bgp(&self) -> bool {
        self.protocol.as_ref().is_some_and(|p| p.value == "bgp")
    }

    pub fn address_entries(&self) -> &[Spanned<String>] {
        self.addresses.as_ref().map_or(&[], |a| a.value.as_slice())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertisement {
    pub span: Range<usize>,
    pub aggregation_length: Option<Spanned<i64>>,
    pub aggregation_length_v6: Option<Spanned<i64>>,
    pub localpref: Option<Spanned<u32>>,
    pub communities: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BfdProfile {
    pub span: Range<usize>,
    pub name: Option<Spanned<String>>,
    pub receive_interval: Option<Spanned<u32>>,
    pub transmit_interval: Option<Spanned<u32>>,
    pub detect_multiplier: Option<Spanned<u32>>,
    pub echo_interval: Option<Spanned<u32>>,
    pub echo_mode: Option<Spanned<bool>>,
    pub passive_mode: Option<Spanned<bool>>,
    pub minimum_ttl: Option<Spanned<u32>>,
}
