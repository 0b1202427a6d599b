//! The sessions table: one row per BGP session, shared by `metallbctl status` and the TUI.
//! Pure.
//!
//! A session between a speaker and a router shows up twice in a snapshot: in the speaker's
//! metrics and in the router's neighbour list. [`session_rows`] joins the two into one row (the
//! speaker's view, with RECEIVED from the router's end), and adds a row for every router
//! session no speaker row claims (a peer that is not one of our speakers, or no speaker data).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::drift::{peer_ip, router_index};
use super::history::{router_key, speaker_key};
use super::model::{SessionState, Snapshot};

/// The columns of the sessions table, after Cilium and FRR. The TUI adds its flaps column
/// before LAST ERROR.
pub const COLUMNS: [&str; 9] = [
    "NODE",
    "PEER",
    "LOCAL AS",
    "PEER AS",
    "STATE",
    "UPTIME",
    "RECEIVED",
    "ADVERTISED",
    "LAST ERROR",
];

/// One BGP session, seen from the MetalLB side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The speaker's node; for a router session no speaker claims, the neighbour's address.
    pub node: String,
    /// The peer as the speaker labels it (`10.96.0.100:179`); for an unclaimed router
    /// session, `ROUTER (ADDRESS)`.
    pub peer: String,
    pub local_as: Option<u32>,
    pub peer_as: Option<u32>,
    pub state: SessionState,
    /// Up since (speaker) or in this state since (router), unix ms.
    pub since_ms: Option<u64>,
    /// Prefixes the router holding the other end received; `None` when no router is known.
    pub received: Option<u64>,
    /// Prefixes the speaker advertises; `None` for a router session no speaker reports.
    pub advertised: Option<u64>,
    pub last_error: Option<String>,
    /// The state the router holding the other end reports, when that end is known (it can
    /// disagree with the speaker's for a moment, or when one side is confused).
    pub router_state: Option<SessionState>,
    /// The router holding the other end, if known.
    pub router: Option<String>,
    /// Its key in `snapshot.history` (`status::history::speaker_key` or `router_key`).
    pub history_key: String,
}

impl SessionRow {
    /// Whether something is wrong with it: not Established on either end, or an error.
    pub fn is_fault(&self) -> bool {
        !self.state.is_up()
            || self.router_state.is_some_and(|s| !s.is_up())
            || self.last_error.is_some()
    }
}

/// Each node's address: the next hop its announcements carry, else, for a node whose
/// sessions reach a router holding exactly one session and no other node peers with that
/// router, that session's neighbour address.
pub fn node_addresses(snap: &Snapshot) -> HashMap<&str, IpAddr> {
    let mut addr: HashMap<&str, IpAddr> = HashMap::new();
    for a in snap.services.iter().flat_map(|s| &s.announcements) {
        if let Some(nh) = a.next_hop {
            addr.entry(a.node.as_str()).or_insert(nh);
        }
    }
    for (ri, r) in snap.routers.iter().enumerate() {
        let [only] = r.sessions.as_slice() else {
            continue;
        };
        let Some(ip) = peer_ip(&only.peer) else {
            continue;
        };
        let mut nodes = snap
            .speakers
            .iter()
            .filter(|s| router_index(snap, &s.peer) == Some(ri))
            .map(|s| s.node.as_str());
        let Some(first) = nodes.next() else { continue };
        if nodes.all(|n| n == first) && !addr.values().any(|a| *a == ip) {
            addr.entry(first).or_insert(ip);
        }
    }
    addr
}

/// One row per BGP session: every speaker session (with RECEIVED from the router holding the
/// other end), then every router session no speaker row claims, in snapshot order.
pub fn session_rows(snap: &Snapshot) -> Vec<SessionRow> {
    let addr = node_addresses(snap);
    let mut claimed: HashSet<(usize, usize)> = HashSet::new();
    let mut rows = Vec::with_capacity(snap.speakers.len());
    for s in &snap.speakers {
        let ri = router_index(snap, &s.peer);
        let end = ri.and_then(|ri| {
            let ip = addr.get(s.node.as_str())?;
            let si = snap.routers[ri]
                .sessions
                .iter()
                .position(|rs| peer_ip(&rs.peer) == Some(*ip))?;
            claimed.insert((ri, si)).then_some((ri, si))
        });
        rows.push(SessionRow {
            node: s.node.clone(),
            peer: s.peer.clone(),
            local_as: s.local_as,
            peer_as: s.peer_as,
            state: s.state,
            since_ms: s.up_since_ms,
            received: end.map(|(ri, si)| snap.routers[ri].sessions[si].received),
            advertised: Some(s.prefixes_advertised),
            last_error: s.last_error.clone(),
            router_state: end.map(|(ri, si)| snap.routers[ri].sessions[si].state),
            router: ri.map(|ri| snap.routers[ri].name.clone()),
            history_key: speaker_key(&s.node, &s.peer),
        });
    }
    for (ri, r) in snap.routers.iter().enumerate() {
        for (si, s) in r.sessions.iter().enumerate() {
            if claimed.contains(&(ri, si)) {
                continue;
            }
            rows.push(SessionRow {
                node: s.peer.clone(),
                peer: format!("{} ({})", r.name, r.address.as_deref().unwrap_or("-")),
                local_as: s.peer_as,
                peer_as: r.asn,
                state: s.state,
                since_ms: s.since_ms,
                received: Some(s.received),
                advertised: None,
                last_error: s.last_error.clone(),
                router_state: Some(s.state),
                router: Some(r.name.clone()),
                history_key: router_key(&r.name, &s.peer),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{Announcement, RouterSession, RouterView, ServiceIntent, SpeakerSession};

    fn speaker(node: &str, peer: &str) -> SpeakerSession {
        SpeakerSession {
            node: node.into(),
            peer: peer.into(),
            local_as: Some(64500),
            peer_as: Some(64500),
            state: SessionState::Established,
            up_since_ms: Some(1_000),
            prefixes_advertised: 1,
            ..Default::default()
        }
    }

    fn router(name: &str, addr: &str, peers: &[(&str, u64)]) -> RouterView {
        RouterView {
            name: name.into(),
            address: Some(addr.into()),
            asn: Some(64500),
            sessions: peers
                .iter()
                .map(|(p, n)| RouterSession {
                    peer: p.to_string(),
                    peer_as: Some(64500),
                    state: SessionState::Established,
                    received: *n,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// The tutorial lab: one node, two routers, each holding one route from 127.0.1.1.
    fn tutorial(with_announcements: bool) -> Snapshot {
        Snapshot {
            speakers: vec![
                speaker("minikube", "10.96.0.100:179"),
                speaker("minikube", "10.96.0.101:179"),
            ],
            routers: vec![
                router("bird", "10.96.0.100:179", &[("127.0.1.1", 1)]),
                router("quagga", "10.96.0.101:179", &[("127.0.1.1", 1)]),
            ],
            services: if with_announcements {
                vec![ServiceIntent {
                    announcements: vec![Announcement {
                        node: "minikube".into(),
                        peer: "10.96.0.100".into(),
                        next_hop: Some("127.0.1.1".parse().unwrap()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }]
            } else {
                vec![]
            },
            ..Default::default()
        }
    }

    #[test]
    fn each_session_is_one_row_with_received_from_the_router() {
        for with in [true, false] {
            let rows = session_rows(&tutorial(with));
            assert_eq!(rows.len(), 2, "announcements: {with}");
            assert_eq!(rows[0].received, Some(1));
            assert_eq!(rows[1].received, Some(1));
            assert_eq!(rows[0].router.as_deref(), Some("bird"));
            assert_eq!(rows[1].router.as_deref(), Some("quagga"));
            assert_eq!(rows[0].history_key, "speaker/minikube/10.96.0.100:179");
            assert!(!rows[0].is_fault());
        }
        // The router's end down while the speaker still says Established is a fault.
        let mut snap = tutorial(true);
        snap.routers[1].sessions[0].state = SessionState::Active;
        let rows = session_rows(&snap);
        assert_eq!(rows[1].router_state, Some(SessionState::Active));
        assert!(rows[1].is_fault() && !rows[0].is_fault());
    }

    #[test]
    fn two_nodes_pair_by_next_hop_and_strangers_get_their_own_row() {
        let mut snap = Snapshot {
            speakers: vec![
                speaker("a", "10.96.0.100:179"),
                speaker("b", "10.96.0.100:179"),
            ],
            routers: vec![router(
                "bird",
                "10.96.0.100:179",
                &[("127.0.1.2", 2), ("127.0.1.1", 1), ("192.0.2.9", 7)],
            )],
            ..Default::default()
        };
        for (node, hop) in [("a", "127.0.1.1"), ("b", "127.0.1.2")] {
            snap.services.push(ServiceIntent {
                announcements: vec![Announcement {
                    node: node.into(),
                    next_hop: Some(hop.parse().unwrap()),
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
        let rows = session_rows(&snap);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].received, Some(1));
        assert_eq!(rows[1].received, Some(2));
        assert_eq!(rows[2].node, "192.0.2.9");
        assert_eq!(rows[2].peer, "bird (10.96.0.100:179)");
        assert_eq!(rows[2].received, Some(7));
        assert_eq!(rows[2].advertised, None);
        assert_eq!(rows[2].history_key, "router/bird/192.0.2.9");
    }

    #[test]
    fn two_nodes_without_addresses_stay_unpaired() {
        let snap = Snapshot {
            speakers: vec![
                speaker("a", "10.96.0.100:179"),
                speaker("b", "10.96.0.100:179"),
            ],
            routers: vec![router("bird", "10.96.0.100:179", &[("127.0.1.1", 1)])],
            ..Default::default()
        };
        let rows = session_rows(&snap);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].received, None);
        assert_eq!(rows[2].node, "127.0.1.1");
    }

    #[test]
    fn without_speakers_the_routers_sessions_are_the_rows() {
        let mut snap = tutorial(true);
        snap.speakers.clear();
        let rows = session_rows(&snap);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].node, "127.0.1.1");
        assert_eq!(rows[0].peer, "bird (10.96.0.100:179)");
        assert_eq!(rows[0].received, Some(1));
    }
}
