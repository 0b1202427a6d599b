//! Per-peer session status shared between a session task and its readers (router snapshot,
//! speaker counters, CLI, lab, TUI): state, counters, negotiated timers, capabilities, last
//! error and the Adj-RIB-In; plus the serde snapshot types.
//!
//! Plain data: no tokio, no sockets. Timestamps are wall-clock values handed in by callers.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use serde::Serialize;

use super::packet::{AsSegment, Attributes, Update};
use super::session::{MessageCounts, Negotiated, State, UpdateErrorCounts};

/// One route held in an Adj-RIB-In.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibEntry {
    /// The attributes without the MP_REACH/MP_UNREACH containers, shared by the entries that
    /// carry the same ones (see [`PeerState::apply_update`]).
    pub attrs: Arc<Attributes>,
    pub next_hop: Option<IpAddr>,
    pub since: SystemTime,
}

/// Live status of one peer session.
#[derive(Debug, Clone)]
pub struct PeerState {
    pub peer: String,
    pub local_as: u32,
    pub peer_as: u32,
    pub state: State,
    pub established_at: Option<SystemTime>,
    pub negotiated: Option<Negotiated>,
    pub sent: MessageCounts,
    pub received: MessageCounts,
    /// Malformed UPDATEs handled by RFC 7606 (treat-as-withdraw, attribute discard).
    pub update_errors: UpdateErrorCounts,
    pub last_error: Option<String>,
    /// Times the session reached Established.
    pub established_count: u64,
    pub rib_in: BTreeMap<IpNet, RibEntry>,
    /// The attributes of the last UPDATE applied: a peer sends the same attributes again and
    /// again (a speaker announces every route it has with one set), so entries share one copy.
    last_attrs: Option<Arc<Attributes>>,
    /// Prefixes currently advertised to the peer.
    pub advertised: usize,
    pub prefixes_announced: u64,
    pub prefixes_withdrawn: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl PeerState {
    pub fn new(peer: String, local_as: u32, peer_as: u32) -> Self {
        PeerState {
            peer,
            local_as,
            peer_as,
            state: State::Idle,
            established_at: None,
            negotiated: None,
            sent: MessageCounts::default(),
            received: MessageCounts::default(),
            update_errors: UpdateErrorCounts::default(),
            last_error: None,
            established_count: 0,
            rib_in: BTreeMap::new(),
            last_attrs: None,
            advertised: 0,
            prefixes_announced: 0,
            prefixes_withdrawn: 0,
            bytes_sent: 0,
            bytes_received: 0,
        }
    }

    /// Applies a received UPDATE to the Adj-RIB-In: withdrawals first, then announcements.
    pub fn apply_update(&mut self, u: &Update, now: SystemTime) {
        for p in u.withdrawn_all() {
            self.rib_in.remove(&p);
        }
        let mut announced = u.announced().peekable();
        if announced.peek().is_none() {
            return;
        }
        let mut attrs = u.attrs.clone();
        let mp_next_hop = attrs
            .mp_reach
            .take()
            .and_then(|m| m.next_hops.first().copied());
        attrs.mp_unreach = None;
        let attrs = match self.last_attrs.take() {
            Some(last) if *last == attrs => last,
            _ => Arc::new(attrs),
        };
        for p in announced {
            let next_hop = match p {
                IpNet::V4(_) => attrs.next_hop.map(IpAddr::V4),
                IpNet::V6(_) => mp_next_hop,
            };
            let entry = RibEntry {
                attrs: attrs.clone(),
                next_hop,
                since: now,
            };
            self.rib_in.insert(p, entry);
        }
        self.last_attrs = Some(attrs);
    }

    /// Empties the Adj-RIB-In (the session went down).
    pub fn clear_rib(&mut self) {
        self.rib_in.clear();
        self.last_attrs = None;
    }

    pub fn snapshot(&self, now: SystemTime) -> PeerSnapshot {
        let n = self.negotiated.as_ref();
        let uptime = self
            .established_at
            .filter(|_| self.state == State::Established)
            .and_then(|t| now.duration_since(t).ok());
        PeerSnapshot {
            peer: self.peer.clone(),
            local_as: self.local_as,
            peer_as: self.peer_as,
            state: self.state,
            uptime_secs: uptime.map(|d| d.as_secs()),
            established_unix: self.established_at.and_then(unix_secs),
            hold_time: n.map(|n| n.hold_time),
            keepalive: n.map(|n| n.keepalive),
            peer_id: n.map(|n| n.peer_id.to_string()),
            local_capabilities: n
                .map(|n| n.local_caps.iter().map(|c| c.name()).collect())
                .unwrap_or_default(),
            peer_capabilities: n
                .map(|n| n.peer_caps.iter().map(|c| c.name()).collect())
                .unwrap_or_default(),
            messages_sent: self.sent,
            messages_received: self.received,
            update_errors: self.update_errors,
            last_error: self.last_error.clone(),
            established_count: self.established_count,
            advertised: self.advertised,
            prefixes_announced: self.prefixes_announced,
            prefixes_withdrawn: self.prefixes_withdrawn,
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
            routes: self
                .rib_in
                .iter()
                .map(|(p, e)| RouteSnapshot::new(p, e, now))
                .collect(),
        }
    }
}

fn unix_secs(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// A point-in-time copy of one session, for printing and serialising.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerSnapshot {
    pub peer: String,
    pub local_as: u32,
    pub peer_as: u32,
    pub state: State,
    pub uptime_secs: Option<u64>,
    pub established_unix: Option<u64>,
    pub hold_time: Option<u16>,
    pub keepalive: Option<u16>,
    pub peer_id: Option<String>,
    pub local_capabilities: Vec<String>,
    pub peer_capabilities: Vec<String>,
    pub messages_sent: MessageCounts,
    pub messages_received: MessageCounts,
    /// Left out of JSON while zero, so healthy sessions print as before.
    #[serde(skip_serializing_if = "UpdateErrorCounts::is_zero")]
    pub update_errors: UpdateErrorCounts,
    pub last_error: Option<String>,
    pub established_count: u64,
    pub advertised: usize,
    pub prefixes_announced: u64,
    pub prefixes_withdrawn: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub routes: Vec<RouteSnapshot>,
}

/// One received route with its attributes in display form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteSnapshot {
    pub prefix: String,
    pub next_hop: Option<String>,
    pub origin: Option<&'static str>,
    pub as_path: String,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    pub communities: Vec<String>,
    pub large_communities: Vec<String>,
    pub age_secs: u64,
}

impl RouteSnapshot {
    fn new(p: &IpNet, e: &RibEntry, now: SystemTime) -> Self {
        let a = &e.attrs;
        RouteSnapshot {
            prefix: p.to_string(),
            next_hop: e.next_hop.map(|n| n.to_string()),
            origin: a.origin.map(|o| o.as_str()),
            as_path: a.as_path.as_deref().map(format_as_path).unwrap_or_default(),
            local_pref: a.local_pref,
            med: a.med,
            communities: a.communities.iter().map(|c| format_community(*c)).collect(),
            large_communities: a
                .large_communities
                .iter()
                .map(|[g, l1, l2]| format!("{g}:{l1}:{l2}"))
                .collect(),
            age_secs: now
                .duration_since(e.since)
                .unwrap_or(Duration::ZERO)
                .as_secs(),
        }
    }
}

pub fn format_community(c: u32) -> String {
    format!("{}:{}", c >> 16, c & 0xffff)
}

pub fn format_as_path(path: &[AsSegment]) -> String {
    let join = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    path.iter()
        .map(|s| match s {
            AsSegment::Sequence(v) => join(v),
            AsSegment::Set(v) => format!("{{{}}}", join(v)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::packet::{Afi, MpReach, Origin};

    #[test]
    fn rib_in_applies_announcements_and_withdrawals() {
        let mut s = PeerState::new("127.0.0.2:179".into(), 1, 2);
        let now = SystemTime::now();
        let u = Update {
            attrs: Attributes {
                origin: Some(Origin::Incomplete),
                as_path: Some(vec![AsSegment::Sequence(vec![2])]),
                next_hop: Some("192.0.2.1".parse().unwrap()),
                communities: vec![(64500 << 16) | 7],
                mp_reach: Some(MpReach {
                    afi: Afi::Ipv6,
                    next_hops: vec!["2001:db8::1".parse().unwrap()],
                    nlri: vec!["2001:db8:1::/48".parse().unwrap()],
                }),
                ..Default::default()
            },
            nlri: vec!["198.51.100.10/32".parse().unwrap()],
            ..Default::default()
        };
        s.apply_update(&u, now);
        let snap = s.snapshot(now);
        assert_eq!(snap.routes.len(), 2);
        let v4 = snap
            .routes
            .iter()
            .find(|r| r.prefix == "198.51.100.10/32")
            .unwrap();
        assert_eq!(v4.next_hop.as_deref(), Some("192.0.2.1"));
        assert_eq!(v4.communities, vec!["64500:7"]);
        assert_eq!(v4.as_path, "2");
        let wd = Update {
            withdrawn: vec!["198.51.100.10/32".parse().unwrap()],
            ..Default::default()
        };
        s.apply_update(&wd, now);
        assert_eq!(s.rib_in.len(), 1);
    }

    #[test]
    fn equal_attributes_are_shared_without_changing_what_is_reported() {
        let mut s = PeerState::new("127.0.3.1".into(), 64512, 64500);
        let now = SystemTime::now();
        let attrs = |nh: &str| Attributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(vec![AsSegment::Sequence(vec![64500])]),
            next_hop: Some(nh.parse().unwrap()),
            ..Default::default()
        };
        let update = |prefix: &str, nh: &str| Update {
            attrs: attrs(nh),
            nlri: vec![prefix.parse().unwrap()],
            ..Default::default()
        };
        s.apply_update(&update("198.18.0.1/32", "127.0.3.1"), now);
        s.apply_update(&update("198.18.0.2/32", "127.0.3.1"), now);
        // A withdrawal in between does not forget the attributes.
        s.apply_update(
            &Update {
                withdrawn: vec!["198.18.0.9/32".parse().unwrap()],
                ..Default::default()
            },
            now,
        );
        s.apply_update(&update("198.18.0.3/32", "127.0.3.1"), now);
        s.apply_update(&update("198.18.0.4/32", "127.0.3.2"), now);
        let e: Vec<&RibEntry> = s.rib_in.values().collect();
        assert!(Arc::ptr_eq(&e[0].attrs, &e[1].attrs));
        assert!(Arc::ptr_eq(&e[1].attrs, &e[2].attrs));
        assert!(!Arc::ptr_eq(&e[2].attrs, &e[3].attrs));
        // Each entry reports its own attributes, as an unshared copy would.
        let snap = s.snapshot(now);
        let hops: Vec<(&str, Option<&str>, &str)> = snap
            .routes
            .iter()
            .map(|r| (r.prefix.as_str(), r.next_hop.as_deref(), r.as_path.as_str()))
            .collect();
        assert_eq!(
            hops,
            vec![
                ("198.18.0.1/32", Some("127.0.3.1"), "64500"),
                ("198.18.0.2/32", Some("127.0.3.1"), "64500"),
                ("198.18.0.3/32", Some("127.0.3.1"), "64500"),
                ("198.18.0.4/32", Some("127.0.3.2"), "64500"),
            ]
        );
        for (r, nh) in s
            .rib_in
            .values()
            .zip(["127.0.3.1", "127.0.3.1", "127.0.3.1", "127.0.3.2"])
        {
            assert_eq!(*r.attrs, attrs(nh));
        }
        // After the session goes down nothing is shared with what comes next.
        s.clear_rib();
        assert!(s.rib_in.is_empty() && s.last_attrs.is_none());
    }
}
