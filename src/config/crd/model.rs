//! MetalLB's custom resources (v0.13 to v0.16), as written: one struct per `spec`, values kept
//! close to the text with their spans, like the ConfigMap model. `to_model` maps them onto the
//! ConfigMap model where the two agree, so the ConfigMap rules run on them too.

use std::ops::Range;

use crate::config::model::{self as m, Spanned};

/// A ConfigMap model struct that a custom resource's spec shares field for field: the same type
/// serves both front ends, and only the keys on the wire differ, so the CRD spelling is decoded
/// through this wrapper's own field table (`schema.rs`). Reads go through to the model struct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crd<T>(pub T);

impl<T> std::ops::Deref for Crd<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A Kubernetes `metav1.LabelSelector` (and v1beta1 BGPPeer's own selector, same shape): the
/// ConfigMap's node selector, in camelCase.
pub type LabelSelector = Crd<m::NodeSelector>;

/// One `matchExpressions` entry.
pub type Expression = Crd<m::MatchExpression>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAllocation {
    pub span: Range<usize>,
    pub priority: Option<Spanned<i64>>,
    pub namespaces: Vec<Spanned<String>>,
    pub namespace_selectors: Vec<LabelSelector>,
    pub service_selectors: Vec<LabelSelector>,
}

/// IPAddressPool `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolSpec {
    pub span: Range<usize>,
    pub addresses: Option<Spanned<Vec<Spanned<String>>>>,
    pub auto_assign: Option<Spanned<bool>>,
    pub avoid_buggy_ips: Option<Spanned<bool>>,
    pub service_allocation: Option<ServiceAllocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRef {
    pub span: Range<usize>,
    pub name: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
}

/// BGPPeer `spec` (v1beta2; v1beta1 decodes into the same struct through its own table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerSpec {
    pub span: Range<usize>,
    pub my_asn: Option<Spanned<u32>>,
    pub peer_asn: Option<Spanned<u32>>,
    pub local_asn: Option<Spanned<u32>>,
    pub dynamic_asn: Option<Spanned<String>>,
    pub peer_address: Option<Spanned<String>>,
    pub interface: Option<Spanned<String>>,
    pub source_address: Option<Spanned<String>>,
    pub peer_port: Option<Spanned<i64>>,
    pub hold_time: Option<Spanned<String>>,
    pub keepalive_time: Option<Spanned<String>>,
    pub connect_time: Option<Spanned<String>>,
    pub router_id: Option<Spanned<String>>,
    pub node_selectors: Vec<LabelSelector>,
    pub password: Option<Spanned<String>>,
    pub password_secret: Option<SecretRef>,
    pub bfd_profile: Option<Spanned<String>>,
    pub enable_graceful_restart: Option<Spanned<bool>>,
    pub ebgp_multihop: Option<Spanned<bool>>,
    pub vrf: Option<Spanned<String>>,
    pub disable_mp: Option<Spanned<bool>>,
    pub dual_stack_address_family: Option<Spanned<bool>>,
}

/// The same spec decoded with BGPPeer v1beta1's field table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerSpecV1beta1(pub PeerSpec);

/// BGPAdvertisement `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BgpAdvertisementSpec {
    pub span: Range<usize>,
    pub aggregation_length: Option<Spanned<i64>>,
    pub aggregation_length_v6: Option<Spanned<i64>>,
    pub local_pref: Option<Spanned<u32>>,
    pub communities: Vec<Spanned<String>>,
    pub ip_address_pools: Vec<Spanned<String>>,
    pub ip_address_pool_selectors: Vec<LabelSelector>,
    pub node_selectors: Vec<LabelSelector>,
    pub peers: Vec<Spanned<String>>,
    pub service_selectors: Vec<LabelSelector>,
}

/// L2Advertisement `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L2AdvertisementSpec {
    pub span: Range<usize>,
    pub ip_address_pools: Vec<Spanned<String>>,
    pub ip_address_pool_selectors: Vec<LabelSelector>,
    pub node_selectors: Vec<LabelSelector>,
    pub interfaces: Vec<Spanned<String>>,
    pub service_selectors: Vec<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunitySpec {
    pub span: Range<usize>,
    pub communities: Vec<CommunityEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunityEntry {
    pub span: Range<usize>,
    pub name: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
}

/// BFDProfile `spec`: the ConfigMap's BFD profile, whose `name` stays empty (the object's
/// metadata.name names it).
pub type BfdSpec = Crd<m::BfdProfile>;

/// The legacy AddressPool `spec` (v1alpha1 and v1beta1, MetalLB v0.13 only): the ConfigMap's
/// address pool, whose `name` stays empty (the object's metadata.name names it).
pub type AddressPoolSpec = Crd<m::Pool>;

/// One of the legacy AddressPool's `bgpAdvertisements`: the ConfigMap's advertisement.
pub type LegacyAdvertisement = Crd<m::Advertisement>;

/// A Secret among the inputs (for `passwordSecret` references).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secret {
    pub type_: Option<String>,
    /// Keys of `data` and `stringData`.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Pool(PoolSpec),
    Peer(Box<PeerSpec>),
    BgpAdvertisement(BgpAdvertisementSpec),
    L2Advertisement(L2AdvertisementSpec),
    Community(CommunitySpec),
    Bfd(BfdSpec),
    AddressPool(AddressPoolSpec),
}

/// One MetalLB object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The whole document.
    pub span: Range<usize>,
    pub kind: &'static str,
    pub api_version: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    pub labels: Vec<(String, String)>,
    pub spec: Spec,
}

impl Object {
    pub fn name_str(&self) -> &str {
        self.name.as_ref().map_or("", |n| n.value.as_str())
    }

    /// Where to point at the object as a whole: its name, else the document.
    pub fn name_span(&self) -> Range<usize> {
        self.name
            .as_ref()
            .map_or(self.span.clone(), |n| n.span.clone())
    }
}
