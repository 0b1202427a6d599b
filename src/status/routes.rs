//! The routes every router holds, grouped by prefix and identical attributes, with the
//! routers that hold each: the rows of `metallbctl routes` and of the TUI's routes table.
//! Pure.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::model::Snapshot;

/// `routes -o json`: the routes every router holds, grouped by identical attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutesDoc {
    pub taken_at_ms: u64,
    pub routes: Vec<RouteRow>,
}

/// One route as held by one or more routers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRow {
    pub prefix: IpNet,
    pub next_hop: Option<IpAddr>,
    pub as_path: Vec<u32>,
    pub local_pref: Option<u32>,
    pub communities: Vec<String>,
    /// The oldest `since_ms` among the routers.
    pub since_ms: Option<u64>,
    /// The routers holding it, sorted.
    pub routers: Vec<String>,
}

/// Routes grouped by prefix and attributes.
pub fn route_rows(snap: &Snapshot) -> Vec<RouteRow> {
    type Key = (IpNet, Option<IpAddr>, Vec<u32>, Option<u32>, Vec<String>);
    let mut m: BTreeMap<Key, (Option<u64>, Vec<String>)> = BTreeMap::new();
    for r in &snap.routers {
        for rt in &r.routes {
            let mut c = rt.communities.clone();
            c.sort();
            let e = m
                .entry((rt.prefix, rt.next_hop, rt.as_path.clone(), rt.local_pref, c))
                .or_default();
            e.0 = match (e.0, rt.since_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if !e.1.contains(&r.name) {
                e.1.push(r.name.clone());
            }
        }
    }
    m.into_iter()
        .map(
            |((prefix, next_hop, as_path, local_pref, communities), (since_ms, mut routers))| {
                routers.sort();
                RouteRow {
                    prefix,
                    next_hop,
                    as_path,
                    local_pref,
                    communities,
                    since_ms,
                    routers,
                }
            },
        )
        .collect()
}
