//! From a linted MetalLB configuration to what the controller and speaker act on: address
//! pools for the allocator, the BGP advertisement settings of each pool, and the peers.
//!
//! Pure: no kube, no tokio. The linter (`crate::config`) decides whether a configuration is
//! acceptable and with which message it is rejected; this module only converts, skipping
//! entries the linter reports as errors.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipnet::IpNet;

use crate::alloc::{AddrRange, AllocError, PoolSpec};
use crate::config::model::{Config, NodeSelector};
use crate::config::{addr, duration, lint_body_text, rules::communities, Options};
use crate::diag::Severity;

/// Why a configuration was not applied. Displayed as MetalLB's event text minus the
/// `configuration rejected: ` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The ConfigMap has no `config` key.
    #[error("no \"config\" key in ConfigMap")]
    MissingKey,
    /// The configuration does not parse, or breaks one of MetalLB's rules.
    #[error("{message}")]
    Invalid {
        /// The first error the linter found, in MetalLB's wording where MetalLB has one.
        message: String,
    },
    /// The configuration parses but would take an address away from a service.
    #[error(transparent)]
    Incompatible(#[from] AllocError),
}

impl ConfigError {
    /// The event message: `configuration rejected: <why>`.
    pub fn event_message(&self) -> String {
        format!("configuration rejected: {self}")
    }
}

/// How a pool's addresses are announced (one `bgp-advertisements` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertSpec {
    /// Prefix length IPv4 addresses are masked to (default 32).
    pub aggregation_length: u8,
    /// Prefix length IPv6 addresses are masked to (default 128).
    pub aggregation_length_v6: u8,
    /// LOCAL_PREF (iBGP sessions only); `None` leaves the speaker's default.
    pub local_pref: Option<u32>,
    /// Communities, aliases resolved through `bgp-communities`.
    pub communities: Vec<u32>,
}

impl Default for AdvertSpec {
    fn default() -> Self {
        AdvertSpec {
            aggregation_length: 32,
            aggregation_length_v6: 128,
            local_pref: None,
            communities: Vec::new(),
        }
    }
}

impl AdvertSpec {
    /// The prefix announced for `ip`: the address masked to the aggregation length.
    pub fn prefix(&self, ip: IpAddr) -> Option<IpNet> {
        let len = match ip {
            IpAddr::V4(_) => self.aggregation_length,
            IpAddr::V6(_) => self.aggregation_length_v6,
        };
        IpNet::new(ip, len).ok().map(|n| n.trunc())
    }
}

/// One label requirement of a node selector's `match-expressions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist` (case-insensitive).
    pub operator: String,
    /// The values for `In` and `NotIn`.
    pub values: Vec<String>,
}

/// One node selector: every label and expression must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// `match-labels`.
    pub labels: Vec<(String, String)>,
    /// `match-expressions`.
    pub expressions: Vec<Expression>,
}

impl Selector {
    /// Does a node with `labels` match?
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
            && self.expressions.iter().all(|e| {
                let have = labels.get(&e.key);
                match e.operator.to_ascii_lowercase().as_str() {
                    "in" => have.is_some_and(|h| e.values.contains(h)),
                    "notin" => have.is_none_or(|h| !e.values.contains(h)),
                    "exists" => have.is_some(),
                    "doesnotexist" => have.is_none(),
                    _ => false,
                }
            })
    }
}

/// A BGP peer as the speaker dials it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    /// `peer-address`.
    pub address: IpAddr,
    /// `peer-port` (default 179).
    pub port: u16,
    /// `my-asn`.
    pub my_asn: u32,
    /// `peer-asn`.
    pub peer_asn: u32,
    /// `hold-time` (default 90s).
    pub hold_time: Duration,
    /// `router-id`, if given.
    pub router_id: Option<Ipv4Addr>,
    /// `source-address`, if given.
    pub source_address: Option<IpAddr>,
    /// `password` (TCP MD5), if given.
    pub password: Option<String>,
    /// `node-selectors`: the peer applies to nodes matching any; none means every node.
    pub node_selectors: Vec<Selector>,
}

impl PeerSpec {
    /// Does this peer apply to a node with `labels`?
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.node_selectors.is_empty() || self.node_selectors.iter().any(|s| s.matches(labels))
    }
}

/// An accepted configuration, converted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The pools, in configuration order.
    pub pools: Vec<PoolSpec>,
    /// The advertisements of each BGP pool, by pool name (pools of other protocols have none).
    pub adverts: BTreeMap<String, Vec<AdvertSpec>>,
    /// The peers, in configuration order.
    pub peers: Vec<PeerSpec>,
}

/// Lint `text` (a ConfigMap's `data.config`) and convert it, or say why it is rejected.
pub fn parse(text: &str) -> Result<Parsed, ConfigError> {
    let (config, diags) = lint_body_text("config", text, &Options::default());
    if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
        return Err(ConfigError::Invalid {
            message: d.message.clone(),
        });
    }
    let config = config.ok_or(ConfigError::Invalid {
        message: "empty configuration".to_string(),
    })?;
    Ok(Parsed {
        pools: pool_specs(&config),
        adverts: advertisements(&config),
        peers: peers(&config),
    })
}

/// The allocator's pools: name, ranges in configuration order, `avoid-buggy-ips`, `auto-assign`
/// (default true). Entries that do not parse or are reversed are skipped (the linter reports
/// them).
pub fn pool_specs(config: &Config) -> Vec<PoolSpec> {
    config
        .pools
        .iter()
        .map(|p| {
            let ranges = p
                .address_entries()
                .iter()
                .filter_map(|e| addr::parse_entry(&e.value, true).ok())
                .map(|b| AddrRange::new(b.first, b.last))
                .collect();
            PoolSpec::new(p.name_str(), ranges)
                .avoid_buggy_ips(p.avoids_buggy_ips())
                .auto_assign(p.auto_assign.as_ref().is_none_or(|a| a.value))
        })
        .collect()
}

/// The advertisements of every BGP pool; a pool without `bgp-advertisements` gets one default
/// advertisement (/32, no LOCAL_PREF, no communities).
pub fn advertisements(config: &Config) -> BTreeMap<String, Vec<AdvertSpec>> {
    let aliases: BTreeMap<&str, &str> = config
        .communities
        .iter()
        .map(|c| (c.name.value.as_str(), c.value.value.as_str()))
        .collect();
    let community = |text: &str| {
        let text = aliases.get(text).copied().unwrap_or(text);
        communities::parse_community(text).ok()
    };
    config
        .pools
        .iter()
        .filter(|p| p.is_bgp())
        .map(|p| {
            let ads = match &p.bgp_advertisements {
                None => vec![AdvertSpec::default()],
                Some(list) => list
                    .value
                    .iter()
                    .map(|a| AdvertSpec {
                        aggregation_length: a
                            .aggregation_length
                            .as_ref()
                            .and_then(|l| u8::try_from(l.value).ok())
                            .unwrap_or(32),
                        aggregation_length_v6: a
                            .aggregation_length_v6
                            .as_ref()
                            .and_then(|l| u8::try_from(l.value).ok())
                            .unwrap_or(128),
                        local_pref: a.localpref.as_ref().map(|l| l.value),
                        communities: a
                            .communities
                            .iter()
                            .filter_map(|c| community(&c.value))
                            .collect(),
                    })
                    .collect(),
            };
            (p.name_str().to_string(), ads)
        })
        .collect()
}

fn selector(s: &NodeSelector) -> Selector {
    Selector {
        labels: s
            .match_labels
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        expressions: s
            .match_expressions
            .iter()
            .map(|e| Expression {
                key: e.key.as_ref().map(|k| k.value.clone()).unwrap_or_default(),
                operator: e
                    .operator
                    .as_ref()
                    .map(|o| o.value.clone())
                    .unwrap_or_default(),
                values: e.values.iter().map(|v| v.value.clone()).collect(),
            })
            .collect(),
    }
}

/// The peers; entries without a parseable address or ASNs are skipped (the linter reports
/// them).
pub fn peers(config: &Config) -> Vec<PeerSpec> {
    config
        .peers
        .iter()
        .filter_map(|p| {
            let address: IpAddr = p.peer_address.as_ref()?.value.trim().parse().ok()?;
            let hold_time = match &p.hold_time {
                Some(h) => duration::parse_go_duration(&h.value, true)
                    .ok()
                    .and_then(|ns| u64::try_from(ns).ok())
                    .map(Duration::from_nanos)?,
                None => Duration::from_secs(90),
            };
            Some(PeerSpec {
                address,
                port: p.peer_port.as_ref().map_or(179, |x| x.value),
                my_asn: p.my_asn.as_ref()?.value,
                peer_asn: p.peer_asn.as_ref()?.value,
                hold_time,
                router_id: p.router_id.as_ref().and_then(|r| r.value.parse().ok()),
                source_address: p.source_address.as_ref().and_then(|r| r.value.parse().ok()),
                password: p.password.as_ref().map(|x| x.value.clone()),
                node_selectors: p.node_selectors.iter().map(selector).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TUTORIAL_1: &str = "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.101\naddress-pools:\n- name: my-ip-space\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n";

    #[test]
    fn tutorial_config_converts() {
        let p = parse(TUTORIAL_1).unwrap();
        assert_eq!(p.pools.len(), 1);
        assert_eq!(p.pools[0].name, "my-ip-space");
        assert!(p.pools[0].auto_assign);
        assert!(!p.pools[0].avoid_buggy_ips);
        assert_eq!(p.peers.len(), 2);
        assert_eq!(p.peers[0].port, 179);
        assert_eq!(p.peers[0].hold_time, Duration::from_secs(90));
        assert_eq!(p.adverts["my-ip-space"], vec![AdvertSpec::default()]);
    }

    #[test]
    fn advertisements_resolve_communities_and_aggregate() {
        let text = "peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n  hold-time: 30s\n  node-selectors:\n  - match-labels:\n      rack: a\nbgp-communities:\n  nopeer: 65535:65284\naddress-pools:\n- name: p\n  protocol: bgp\n  auto-assign: false\n  addresses:\n  - 198.51.100.0/24\n  bgp-advertisements:\n  - aggregation-length: 24\n    localpref: 50\n    communities:\n    - nopeer\n    - 64500:1\n";
        let p = parse(text).unwrap();
        assert!(!p.pools[0].auto_assign);
        let ad = &p.adverts["p"][0];
        assert_eq!(ad.local_pref, Some(50));
        assert_eq!(ad.communities, vec![0xffff_ff04, (64500 << 16) | 1]);
        assert_eq!(
            ad.prefix("198.51.100.7".parse().unwrap())
                .unwrap()
                .to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(p.peers[0].hold_time, Duration::from_secs(30));
        let mut labels = BTreeMap::new();
        assert!(!p.peers[0].selects(&labels));
        labels.insert("rack".to_string(), "a".to_string());
        assert!(p.peers[0].selects(&labels));
    }

    #[test]
    fn bad_config_is_rejected_with_the_linters_message() {
        let err = parse("address-pools:\n- name: p\n  protocol: bgp\n  addresses:\n  - nope\n")
            .unwrap_err();
        assert!(
            err.event_message().starts_with("configuration rejected: "),
            "{err}"
        );
    }
}
