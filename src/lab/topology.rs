//! Lab topologies: the simulated nodes (each a loopback address) and the test routers (each a
//! loopback listener behind a virtual Service ClusterIP). Parsed from YAML (`lab/*.yaml`,
//! schema in docs/lab.md) and checked: loopback only, unique names and addresses.
//! Pure data: no sockets, no tokio.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The built-in tutorial topology (`lab/tutorial.yaml`).
pub const TUTORIAL: &str = include_str!("../../lab/tutorial.yaml");
/// The built-in three-node eBGP topology (`lab/multi-node.yaml`).
pub const MULTI_NODE: &str = include_str!("../../lab/multi-node.yaml");

/// A whole lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    #[serde(rename = "serviceCIDR", default = "default_cidr")]
    pub service_cidr: String,
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub routers: Vec<RouterSpec>,
}

fn default_cidr() -> String {
    "10.96.0.0/12".into()
}

/// One simulated node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    /// The node's loopback address: its InternalIP, the speaker's BGP source and next hop.
    pub address: IpAddr,
}

/// Which real daemon plays a router under `--routers real`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouterKind {
    Bird,
    Frr,
}

/// One test router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouterSpec {
    pub name: String,
    pub kind: RouterKind,
    /// The Service that exposes it (informational; the ClusterIP is what maps).
    #[serde(default)]
    pub service: Option<String>,
    /// The virtual address MetalLB peers with.
    #[serde(rename = "clusterIP")]
    pub cluster_ip: IpAddr,
    /// The Service port (179).
    #[serde(default = "bgp_port")]
    pub port: u16,
    /// The real loopback listener; port 0 picks a free port at start.
    pub listen: SocketAddr,
    pub asn: u32,
    /// The AS the nodes speak as (default: `asn`, iBGP).
    #[serde(rename = "peerASN", default)]
    pub peer_asn: Option<u32>,
    #[serde(rename = "routerID", default)]
    pub router_id: Option<Ipv4Addr>,
}

fn bgp_port() -> u16 {
    179
}

impl RouterSpec {
    /// The AS nodes use towards this router.
    pub fn peer_as(&self) -> u32 {
        self.peer_asn.unwrap_or(self.asn)
    }

    /// The router id (default: the ClusterIP when IPv4, else 10.0.0.1).
    pub fn id(&self) -> Ipv4Addr {
        self.router_id.unwrap_or(match self.cluster_ip {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::new(10, 0, 0, 1),
        })
    }

    /// The virtual address the speaker dials.
    pub fn virtual_addr(&self) -> SocketAddr {
        SocketAddr::new(self.cluster_ip, self.port)
    }
}

/// Why a topology is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    #[error("cannot read topology {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("topology is not valid YAML for the lab schema (see docs/lab.md)")]
    Parse(#[from] serde_yaml::Error),
    #[error("topology has no nodes")]
    NoNodes,
    #[error("{what} {addr} is not a loopback address: the lab only uses 127.0.0.0/8 and ::1")]
    NotLoopback { what: String, addr: IpAddr },
    #[error("duplicate {what} {value:?} in the topology")]
    Duplicate { what: &'static str, value: String },
    #[error("name {0:?} is not a valid DNS label (lowercase letters, digits, '-')")]
    BadName(String),
}

impl Topology {
    /// Parse and check YAML text.
    pub fn parse(text: &str) -> Result<Topology, TopologyError> {
        let t: Topology = serde_yaml::from_str(text)?;
        t.check()?;
        Ok(t)
    }

    /// Read and check a file.
    pub fn load(path: &Path) -> Result<Topology, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The tutorial topology.
    pub fn tutorial() -> Topology {
        // The embedded file is checked by a unit test; fall back to an empty lab on error.
        Self::parse(TUTORIAL).unwrap_or_else(|_| Topology {
            name: "tutorial".into(),
            service_cidr: default_cidr(),
            nodes: vec![NodeSpec {
                name: "minikube".into(),
                address: IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)),
            }],
            routers: Vec::new(),
        })
    }

    fn check(&self) -> Result<(), TopologyError> {
        if self.nodes.is_empty() {
            return Err(TopologyError::NoNodes);
        }
        let mut names = HashSet::new();
        let mut addrs = HashSet::new();
        for n in &self.nodes {
            check_name(&n.name)?;
            loopback("node address", n.address)?;
            unique(&mut names, "node name", &n.name)?;
            unique(&mut addrs, "node address", &n.address.to_string())?;
        }
        let mut rnames = HashSet::new();
        let mut vips = HashSet::new();
        for r in &self.routers {
            check_name(&r.name)?;
            loopback(&format!("router {} listen address", r.name), r.listen.ip())?;
            unique(&mut rnames, "router name", &r.name)?;
            unique(&mut vips, "router clusterIP", &r.virtual_addr().to_string())?;
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), TopologyError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(TopologyError::BadName(name.to_string()))
    }
}

fn loopback(what: &str, addr: IpAddr) -> Result<(), TopologyError> {
    if addr.is_loopback() {
        Ok(())
    } else {
        Err(TopologyError::NotLoopback {
            what: what.to_string(),
            addr,
        })
    }
}

fn unique(seen: &mut HashSet<String>, what: &'static str, v: &str) -> Result<(), TopologyError> {
    if seen.insert(v.to_string()) {
        Ok(())
    } else {
        Err(TopologyError::Duplicate {
            what,
            value: v.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_topologies_parse() {
        let t = Topology::parse(TUTORIAL).unwrap();
        assert_eq!(t.nodes[0].name, "minikube");
        assert_eq!(t.routers.len(), 2);
        assert_eq!(t.routers[0].virtual_addr().to_string(), "10.96.0.100:179");
        assert_eq!(t.routers[1].kind, RouterKind::Frr);
        let m = Topology::parse(MULTI_NODE).unwrap();
        assert_eq!(m.nodes.len(), 3);
        assert!(m.routers.iter().all(|r| r.peer_as() != r.asn));
    }

    #[test]
    fn rejects_non_loopback_and_duplicates() {
        let bad = TUTORIAL.replace("127.0.1.1", "10.0.0.1");
        assert!(matches!(
            Topology::parse(&bad),
            Err(TopologyError::NotLoopback { .. })
        ));
        let dup = TUTORIAL.replace("10.96.0.101", "10.96.0.100");
        assert!(matches!(
            Topology::parse(&dup),
            Err(TopologyError::Duplicate { .. })
        ));
        assert!(Topology::parse("name: x\nnodes: []\n").is_err());
        assert!(Topology::parse("{{{").is_err());
    }
}
