//! The status model's data types: everything one refresh knows about MetalLB, its speakers and
//! the routers, as plain serde data. This is a documented JSON contract (docs/status.md,
//! docs/status.schema.json): change it additively only (new fields with `#[serde(default)]`,
//! new variants).
//!
//! Every time is unix milliseconds, handed in by the caller. Every struct derives `Default`:
//! build values with `..Default::default()` so that new fields do not break construction sites.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Everything one refresh knows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// When the sources were read (unix ms).
    pub taken_at_ms: u64,
    /// The cluster this snapshot describes; `None` when no cluster source ran.
    pub cluster: Option<ClusterInfo>,
    /// Whether MetalLB accepted its latest configuration.
    pub config: ConfigState,
    /// LoadBalancer services: what MetalLB intends to announce.
    pub services: Vec<ServiceIntent>,
    /// One entry per node and peer, from the speakers' metrics.
    pub speakers: Vec<SpeakerSession>,
    /// What each router holds.
    pub routers: Vec<RouterView>,
    /// Recent cluster events, newest first.
    pub events: Vec<EventRecord>,
    /// The health of every source that fed this snapshot.
    pub sources: Vec<SourceHealth>,
    /// Gaps between intent, speakers and routers (`status::drift::derive`).
    pub drift: Vec<Drift>,
    /// Session transitions and prefix counts over time.
    pub history: History,
}

/// The cluster a snapshot describes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    /// kubeconfig context name.
    pub context: Option<String>,
    /// API server URL.
    pub server: String,
    /// MetalLB's namespace (`metallb-system`).
    pub namespace: String,
}

/// Whether MetalLB accepted its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConfigState {
    /// A configuration is loaded and no newer one was rejected.
    Accepted,
    /// The latest configuration was rejected; the previous one stays in force.
    Rejected {
        /// MetalLB's text, e.g. `configuration rejected: new config not compatible ...`.
        message: String,
        /// Who said so (`metallb-controller`, `metallb-speaker`).
        by: String,
        /// When (unix ms), if known.
        at_ms: Option<u64>,
    },
    /// No configuration found, or the cluster could not be read.
    #[default]
    Unknown,
}

/// One LoadBalancer service and what MetalLB should announce for it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceIntent {
    pub namespace: String,
    pub name: String,
    /// Assigned ingress addresses (status.loadBalancer.ingress).
    pub addresses: Vec<IpAddr>,
    /// The pool the addresses come from, if the configuration has one containing them.
    pub pool: Option<String>,
    /// `Cluster` or `Local`.
    pub external_traffic_policy: String,
    /// Nodes with a ready endpoint for this service.
    pub nodes_with_endpoints: Vec<String>,
    /// Who should announce what to whom.
    pub announcements: Vec<Announcement>,
    /// Why the service has no address yet (pending), if MetalLB said.
    pub pending_reason: Option<String>,
}

impl ServiceIntent {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One prefix that one node should announce to one peer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Announcement {
    pub node: String,
    /// The peer address as configured (`10.96.0.100`), without port.
    pub peer: String,
    pub prefix: IpNet,
    /// Communities as text (`64500:1`, large ones `1:2:3`).
    pub communities: Vec<String>,
    pub local_pref: Option<u32>,
    pub aggregation_length: u8,
    /// The next hop the node should send (its address), if known.
    pub next_hop: Option<IpAddr>,
}

/// BGP session state, RFC 4271 names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum SessionState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
    #[default]
    Unknown,
}

impl SessionState {
    pub fn is_up(self) -> bool {
        self == SessionState::Established
    }

    /// The RFC name (`Established`, `OpenSent`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Idle => "Idle",
            SessionState::Connect => "Connect",
            SessionState::Active => "Active",
            SessionState::OpenSent => "OpenSent",
            SessionState::OpenConfirm => "OpenConfirm",
            SessionState::Established => "Established",
            SessionState::Unknown => "Unknown",
        }
    }

    /// Parses RFC, BIRD, FRR and GoBGP spellings (case-insensitive, `Establ`, `up`).
    pub fn parse(s: &str) -> SessionState {
        match s.trim().to_ascii_lowercase().as_str() {
            "idle" => SessionState::Idle,
            "connect" => SessionState::Connect,
            "active" => SessionState::Active,
            "opensent" | "open_sent" => SessionState::OpenSent,
            "openconfirm" | "open_confirm" => SessionState::OpenConfirm,
            "established" | "establ" | "up" => SessionState::Established,
            _ => SessionState::Unknown,
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One speaker session (node x peer), from the speaker's metrics.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SpeakerSession {
    pub node: String,
    /// The speaker pod, if known.
    pub pod: Option<String>,
    /// `addr:port` as the speaker labels it.
    pub peer: String,
    pub local_as: Option<u32>,
    pub peer_as: Option<u32>,
    pub state: SessionState,
    /// Established since (unix ms), when up.
    pub up_since_ms: Option<u64>,
    pub prefixes_advertised: u64,
    pub updates_sent: u64,
    pub last_error: Option<String>,
}

/// What kind of router a [`RouterView`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterKind {
    /// The lab's built-in Rust router.
    #[default]
    Builtin,
    Bird,
    Frr,
    Gobgp,
    /// metallbctl itself as a passive BGP peer.
    Listen,
}

impl RouterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterKind::Builtin => "builtin",
            RouterKind::Bird => "bird",
            RouterKind::Frr => "frr",
            RouterKind::Gobgp => "gobgp",
            RouterKind::Listen => "listen",
        }
    }
}

/// What one router holds. Its source's health is the [`SourceHealth`] with kind `router` and
/// the same name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterView {
    pub name: String,
    pub kind: RouterKind,
    /// Where MetalLB reaches it (`10.96.0.100:179`) or where it listens.
    pub address: Option<String>,
    pub asn: Option<u32>,
    pub sessions: Vec<RouterSession>,
    pub routes: Vec<RouterRoute>,
    /// The router's own text (`birdc show protocols all`, vtysh), shown on a key.
    pub raw: Option<String>,
}

/// One session as a router sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterSession {
    /// The neighbour (a speaker node) address, with port if known.
    pub peer: String,
    pub peer_as: Option<u32>,
    pub state: SessionState,
    /// In this state since (unix ms), if known.
    pub since_ms: Option<u64>,
    pub last_error: Option<String>,
    /// Prefixes received on this session.
    pub received: u64,
}

/// One route a router holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterRoute {
    pub prefix: IpNet,
    pub next_hop: Option<IpAddr>,
    pub as_path: Vec<u32>,
    pub local_pref: Option<u32>,
    pub communities: Vec<String>,
    /// The session it came from.
    pub from_peer: Option<String>,
    /// Held since (unix ms), if known.
    pub since_ms: Option<u64>,
}

/// A recent cluster event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EventRecord {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    pub reason: String,
    /// `Kind/namespace/name`.
    pub object: String,
    pub message: String,
    pub count: u32,
    pub last_ms: Option<u64>,
    /// The reporting component (`metallb-controller`).
    pub source: String,
}

/// What a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    #[default]
    Cluster,
    Speaker,
    Router,
}

/// Whether a source answered on its last poll.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Health {
    #[default]
    Ok,
    /// Failing since `since_ms` (the first failure of the current streak).
    Failed { error: String, since_ms: u64 },
}

/// The health of one source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceHealth {
    /// `cluster`, `speaker/NODE`, or the router's name.
    pub name: String,
    pub kind: SourceKind,
    pub health: Health,
    /// Last successful read (unix ms).
    pub last_ok_ms: Option<u64>,
}

/// A gap between what MetalLB intends, what speakers send and what routers hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Drift {
    pub kind: DriftKind,
    pub prefix: Option<IpNet>,
    /// `namespace/name`.
    pub service: Option<String>,
    pub router: Option<String>,
    pub node: Option<String>,
    pub detail: String,
}

/// The kinds of drift.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// An assigned address no speaker announces.
    #[default]
    NotAnnounced,
    /// Announced, but not held by a router that should have it.
    NotHeld,
    /// Held by a router but assigned to no service.
    Stale,
    /// A router holds the prefix with a next hop that is not an announcing node.
    WrongNextHop,
    /// Routers that should hold the same prefixes disagree.
    RoutersDisagree,
    /// A speaker or router session that should be up is not Established.
    SessionDown,
    /// MetalLB rejected its latest configuration.
    ConfigRejected,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::NotAnnounced => "not_announced",
            DriftKind::NotHeld => "not_held",
            DriftKind::Stale => "stale",
            DriftKind::WrongNextHop => "wrong_next_hop",
            DriftKind::RoutersDisagree => "routers_disagree",
            DriftKind::SessionDown => "session_down",
            DriftKind::ConfigRejected => "config_rejected",
        }
    }
}

/// Session transitions and prefix counts over time, bounded per session.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// One entry per session key, sorted by key.
    pub sessions: Vec<SessionHistory>,
}

/// The history of one session. Keys: `speaker/NODE/PEER` and `router/NAME/PEER`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionHistory {
    pub key: String,
    /// Up/down changes, oldest first.
    pub transitions: Vec<Transition>,
    /// Prefix counts (advertised for speakers, received for routers), oldest first.
    pub prefix_counts: Vec<PrefixSample>,
}

/// A session went up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Transition {
    pub at_ms: u64,
    pub up: bool,
}

/// A prefix count at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PrefixSample {
    pub at_ms: u64,
    pub n: u64,
}

/// Why a service is not (fully) advertised.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Reason {
    pub kind: ReasonKind,
    pub node: Option<String>,
    pub peer: Option<String>,
    /// One line for people.
    pub detail: String,
}

/// The kinds of [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// No address assigned yet.
    #[default]
    NoAddress,
    /// `externalTrafficPolicy: Local` and no ready endpoint on that node.
    NoLocalEndpoints,
    /// No advertisement or peer selects the service's pool or node.
    NotSelected,
    /// MetalLB rejected its configuration.
    ConfigRejected,
    /// The session that should carry it is down.
    SessionDown,
    /// The speaker announces it but a router does not hold it.
    NotHeld,
}

/// How healthy a router looks from MetalLB's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Failure,
}

/// A router panel's one-line verdict.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Verdict {
    pub level: Level,
    pub connected: bool,
    pub routes: usize,
    /// "MetalLB is connected — 1 route", "not connected: Active since 12s (Connection refused)".
    pub text: String,
}
