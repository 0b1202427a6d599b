//! Drift: the gaps between what MetalLB intends (services and their announcements), what the
//! speakers send (their sessions) and what each router holds. Pure: [`derive`] reads a
//! [`Snapshot`] and returns the findings, sorted and without duplicates.
//!
//! The rules, one per [`DriftKind`]:
//! - `config_rejected`: MetalLB rejected its latest configuration.
//! - `session_down`: a speaker session, or a router session, that is not Established.
//! - `not_announced`: a service address that should be announced (it has announcements) but
//!   that no Established speaker session with prefixes carries and no router holds.
//! - `not_held`: an announcement towards a peer that is a known router, whose session to that
//!   node is Established on the speaker side, but that router does not hold the prefix.
//! - `stale`: a router holds a prefix, learned from a MetalLB node, that no service owns.
//! - `wrong_next_hop`: a router holds an intended prefix with a next hop that is none of the
//!   announcing nodes' addresses.
//! - `routers_disagree`: routers hold the same prefix with different communities; or, for
//!   prefixes no intent covers (no cluster source), some connected routers hold it and others
//!   do not.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::model::{ConfigState, Drift, DriftKind, RouterView, SessionState, Snapshot};

/// The address part of `addr:port`, `[v6]:port`, or a bare address.
pub fn peer_ip(peer: &str) -> Option<IpAddr> {
    if let Ok(ip) = peer.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = peer.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    peer.rsplit_once(':').and_then(|(a, _)| a.parse().ok())
}

/// The router a peer address (as configured for MetalLB) designates: the router whose
/// `address` has that IP.
pub fn router_for_peer<'a>(snap: &'a Snapshot, peer: &str) -> Option<&'a RouterView> {
    router_index(snap, peer).map(|i| &snap.routers[i])
}

/// The index in `snap.routers` of the router [`router_for_peer`] finds.
pub fn router_index(snap: &Snapshot, peer: &str) -> Option<usize> {
    let ip = peer_ip(peer)?;
    snap.routers
        .iter()
        .position(|r| r.address.as_deref().and_then(peer_ip) == Some(ip))
}

/// The speaker session of `node` towards `peer` (matched by address).
pub fn speaker_session<'a>(
    snap: &'a Snapshot,
    node: &str,
    peer: &str,
) -> Option<&'a super::model::SpeakerSession> {
    let ip = peer_ip(peer);
    snap.speakers
        .iter()
        .find(|s| s.node == node && (s.peer == peer || (ip.is_some() && peer_ip(&s.peer) == ip)))
}

/// Every finding, sorted by kind, then prefix, service, router and node.
pub fn derive(snap: &Snapshot) -> Vec<Drift> {
    let mut out = Vec::new();
    config_rejected(snap, &mut out);
    sessions_down(snap, &mut out);
    not_announced(snap, &mut out);
    not_held(snap, &mut out);
    stale(snap, &mut out);
    wrong_next_hop(snap, &mut out);
    routers_disagree(snap, &mut out);
    out.sort_by(|a, b| {
        (a.kind, a.prefix, &a.service, &a.router, &a.node)
            .cmp(&(b.kind, b.prefix, &b.service, &b.router, &b.node))
    });
    out.dedup();
    out
}

fn config_rejected(snap: &Snapshot, out: &mut Vec<Drift>) {
    if let ConfigState::Rejected { message, by, .. } = &snap.config {
        out.push(Drift {
            kind: DriftKind::ConfigRejected,
            detail: if by.is_empty() {
                message.clone()
            } else {
                format!("{by}: {message}")
            },
            ..Drift::default()
        });
    }
}

fn down_detail(who: &str, state: SessionState, err: Option<&str>) -> String {
    match err {
        Some(e) if !e.is_empty() => format!("{who} is {state} ({e})"),
        _ => format!("{who} is {state}"),
    }
}

fn sessions_down(snap: &Snapshot, out: &mut Vec<Drift>) {
    for s in &snap.speakers {
        if !s.state.is_up() {
            out.push(Drift {
                kind: DriftKind::SessionDown,
                router: router_for_peer(snap, &s.peer).map(|r| r.name.clone()),
                node: Some(s.node.clone()),
                detail: down_detail(
                    &format!("speaker session {} -> {}", s.node, s.peer),
                    s.state,
                    s.last_error.as_deref(),
                ),
                ..Drift::default()
            });
        }
    }
    for r in &snap.routers {
        for s in &r.sessions {
            if !s.state.is_up() {
                out.push(Drift {
                    kind: DriftKind::SessionDown,
                    router: Some(r.name.clone()),
                    node: node_by_address(snap, &s.peer),
                    detail: down_detail(
                        &format!("router {} session with {}", r.name, s.peer),
                        s.state,
                        s.last_error.as_deref(),
                    ),
                    ..Drift::default()
                });
            }
        }
    }
}

/// Node names by address, from the announcements' next hops.
fn node_addresses(snap: &Snapshot) -> BTreeMap<IpAddr, String> {
    snap.services
        .iter()
        .flat_map(|s| &s.announcements)
        .filter_map(|a| a.next_hop.map(|nh| (nh, a.node.clone())))
        .collect()
}

fn node_by_address(snap: &Snapshot, peer: &str) -> Option<String> {
    let ip = peer_ip(peer)?;
    node_addresses(snap).get(&ip).cloned()
}

/// Does any router hold `prefix`?
fn held_anywhere(snap: &Snapshot, prefix: &IpNet) -> bool {
    snap.routers
        .iter()
        .any(|r| r.routes.iter().any(|rt| &rt.prefix == prefix))
}

fn holds(r: &RouterView, prefix: &IpNet) -> bool {
    r.routes.iter().any(|rt| &rt.prefix == prefix)
}

fn not_announced(snap: &Snapshot, out: &mut Vec<Drift>) {
    for svc in &snap.services {
        if svc.addresses.is_empty() || svc.announcements.is_empty() {
            continue;
        }
        let prefixes: BTreeSet<IpNet> = svc.announcements.iter().map(|a| a.prefix).collect();
        for prefix in prefixes {
            let carried = svc.announcements.iter().any(|a| {
                a.prefix == prefix
                    && speaker_session(snap, &a.node, &a.peer)
                        .is_some_and(|s| s.state.is_up() && s.prefixes_advertised > 0)
            });
            if carried || held_anywhere(snap, &prefix) {
                continue;
            }
            out.push(Drift {
                kind: DriftKind::NotAnnounced,
                prefix: Some(prefix),
                service: Some(svc.key()),
                detail: format!(
                    "{prefix} of {} is assigned but no speaker announces it",
                    svc.key()
                ),
                ..Drift::default()
            });
        }
    }
}

fn not_held(snap: &Snapshot, out: &mut Vec<Drift>) {
    for svc in &snap.services {
        for a in &svc.announcements {
            let Some(router) = router_for_peer(snap, &a.peer) else {
                continue;
            };
            let up = speaker_session(snap, &a.node, &a.peer).is_some_and(|s| s.state.is_up());
            if !up || holds(router, &a.prefix) {
                continue;
            }
            out.push(Drift {
                kind: DriftKind::NotHeld,
                prefix: Some(a.prefix),
                service: Some(svc.key()),
                router: Some(router.name.clone()),
                node: Some(a.node.clone()),
                detail: format!(
                    "{} should learn {} from {} but does not hold it",
                    router.name, a.prefix, a.node
                ),
            });
        }
    }
}

/// Prefixes some service intends, with the next hops its announcing nodes use.
fn intended(snap: &Snapshot) -> BTreeMap<IpNet, (String, BTreeSet<IpAddr>)> {
    let mut m: BTreeMap<IpNet, (String, BTreeSet<IpAddr>)> = BTreeMap::new();
    for svc in &snap.services {
        for a in &svc.announcements {
            let e = m
                .entry(a.prefix)
                .or_insert_with(|| (svc.key(), BTreeSet::new()));
            e.1.extend(a.next_hop);
        }
    }
    m
}

/// Is `rt` learned from a MetalLB node (by next hop or session peer)? With no known node
/// addresses every route counts.
fn from_metallb(nodes: &BTreeMap<IpAddr, String>, rt: &super::model::RouterRoute) -> bool {
    nodes.is_empty()
        || rt.next_hop.is_some_and(|nh| nodes.contains_key(&nh))
        || rt
            .from_peer
            .as_deref()
            .and_then(peer_ip)
            .is_some_and(|p| nodes.contains_key(&p))
}

fn stale(snap: &Snapshot, out: &mut Vec<Drift>) {
    // Without a cluster source nothing says what is assigned.
    if snap.cluster.is_none() {
        return;
    }
    let want = intended(snap);
    let assigned: BTreeSet<IpAddr> = snap
        .services
        .iter()
        .flat_map(|s| s.addresses.iter().copied())
        .collect();
    let nodes = node_addresses(snap);
    for r in &snap.routers {
        for rt in &r.routes {
            let owned =
                want.contains_key(&rt.prefix) || assigned.iter().any(|ip| rt.prefix.contains(ip));
            if owned || !from_metallb(&nodes, rt) {
                continue;
            }
            out.push(Drift {
                kind: DriftKind::Stale,
                prefix: Some(rt.prefix),
                router: Some(r.name.clone()),
                node: rt.next_hop.and_then(|nh| nodes.get(&nh).cloned()),
                detail: format!("{} holds {} but no service owns it", r.name, rt.prefix),
                ..Drift::default()
            });
        }
    }
}

fn wrong_next_hop(snap: &Snapshot, out: &mut Vec<Drift>) {
    let want = intended(snap);
    for r in &snap.routers {
        for rt in &r.routes {
            let Some((svc, hops)) = want.get(&rt.prefix) else {
                continue;
            };
            let Some(nh) = rt.next_hop else {
                continue;
            };
            if hops.is_empty() || hops.contains(&nh) {
                continue;
            }
            let expected: Vec<String> = hops.iter().map(IpAddr::to_string).collect();
            out.push(Drift {
                kind: DriftKind::WrongNextHop,
                prefix: Some(rt.prefix),
                service: Some(svc.clone()),
                router: Some(r.name.clone()),
                detail: format!(
                    "{} holds {} via {nh}, expected {}",
                    r.name,
                    rt.prefix,
                    expected.join(" or ")
                ),
                ..Drift::default()
            });
        }
    }
}

fn routers_disagree(snap: &Snapshot, out: &mut Vec<Drift>) {
    if snap.routers.len() < 2 {
        return;
    }
    let want = intended(snap);
    // prefix -> router -> communities (sorted)
    let mut held: BTreeMap<IpNet, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for r in &snap.routers {
        for rt in &r.routes {
            held.entry(rt.prefix)
                .or_default()
                .entry(r.name.as_str())
                .or_default()
                .extend(rt.communities.iter().map(String::as_str));
        }
    }
    let connected: Vec<&RouterView> = snap
        .routers
        .iter()
        .filter(|r| r.sessions.iter().any(|s| s.state.is_up()))
        .collect();
    for (prefix, by_router) in &held {
        let service = want.get(prefix).map(|(s, _)| s.clone());
        let mut sets = by_router.values();
        if let Some(first) = sets.next() {
            if sets.any(|s| s != first) {
                let parts: Vec<String> = by_router
                    .iter()
                    .map(|(r, c)| {
                        let c: Vec<&str> = c.iter().copied().collect();
                        format!("{r}: [{}]", c.join(" "))
                    })
                    .collect();
                out.push(Drift {
                    kind: DriftKind::RoutersDisagree,
                    prefix: Some(*prefix),
                    service: service.clone(),
                    detail: format!("communities of {prefix} differ: {}", parts.join(", ")),
                    ..Drift::default()
                });
            }
        }
        if service.is_some() || snap.cluster.is_some() {
            continue;
        }
        let missing: Vec<&str> = connected
            .iter()
            .filter(|r| !by_router.contains_key(r.name.as_str()))
            .map(|r| r.name.as_str())
            .collect();
        if !missing.is_empty() {
            let have: Vec<&str> = by_router.keys().copied().collect();
            out.push(Drift {
                kind: DriftKind::RoutersDisagree,
                prefix: Some(*prefix),
                detail: format!(
                    "{prefix} is held by {} but not by {}",
                    have.join(", "),
                    missing.join(", ")
                ),
                ..Drift::default()
            });
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
