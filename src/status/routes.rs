//! The routes every router holds, grouped by prefix and identical attributes, with the
//! routers that hold each: the rows of `metallbctl routes` and of the TUI's routes table.
//! Pure.

use std::borrow::Cow;
use std::collections::HashMap;
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

/// One group of [`route_groups`]: a prefix with one set of attributes, borrowed from the
/// snapshot, and the routers holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGroup<'a> {
    pub prefix: IpNet,
    pub next_hop: Option<IpAddr>,
    pub as_path: &'a [u32],
    pub local_pref: Option<u32>,
    /// Sorted, so that the same communities in another order are the same group. Borrowed
    /// when the router already listed them sorted.
    pub communities: Cow<'a, [String]>,
    /// The oldest `since_ms` among the routers.
    pub since_ms: Option<u64>,
    /// The routers holding it, in snapshot order, without duplicates.
    pub routers: Vec<&'a str>,
}

type Key<'a> = (
    IpNet,
    Option<IpAddr>,
    &'a [u32],
    Option<u32>,
    Cow<'a, [String]>,
);

/// The routes every router holds, grouped by prefix and identical attributes (communities
/// compared as sets), in the order the snapshot first lists them. The one grouping behind
/// `metallbctl routes` and the TUI's routes table; keys borrow from the snapshot, so a route
/// costs no allocation unless its communities come unsorted.
pub fn route_groups(snap: &Snapshot) -> Vec<RouteGroup<'_>> {
    let total: usize = snap.routers.iter().map(|r| r.routes.len()).sum();
    let mut index: HashMap<Key<'_>, usize> = HashMap::with_capacity(total);
    let mut groups: Vec<RouteGroup<'_>> = Vec::with_capacity(total);
    for r in &snap.routers {
        for rt in &r.routes {
            let communities: Cow<'_, [String]> = if rt.communities.is_sorted() {
                Cow::Borrowed(&rt.communities)
            } else {
                let mut c = rt.communities.clone();
                c.sort();
                Cow::Owned(c)
            };
            let key: Key<'_> = (
                rt.prefix,
                rt.next_hop,
                &rt.as_path,
                rt.local_pref,
                communities,
            );
            if let Some(&i) = index.get(&key) {
                let g = &mut groups[i];
                if !g.routers.contains(&r.name.as_str()) {
                    g.routers.push(&r.name);
                }
                g.since_ms = match (g.since_ms, rt.since_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                continue;
            }
            groups.push(RouteGroup {
                prefix: rt.prefix,
                next_hop: rt.next_hop,
                as_path: &rt.as_path,
                local_pref: rt.local_pref,
                communities: key.4.clone(),
                since_ms: rt.since_ms,
                routers: vec![&r.name],
            });
            index.insert(key, groups.len() - 1);
        }
    }
    groups
}

/// `metallbctl routes`: [`route_groups`] sorted by prefix, next hop, AS path, local-pref and
/// communities, each with its routers sorted.
pub fn route_rows(snap: &Snapshot) -> Vec<RouteRow> {
    let mut groups = route_groups(snap);
    groups.sort_unstable_by(|a, b| {
        (
            a.prefix,
            a.next_hop,
            a.as_path,
            a.local_pref,
            &a.communities,
        )
            .cmp(&(
                b.prefix,
                b.next_hop,
                b.as_path,
                b.local_pref,
                &b.communities,
            ))
    });
    groups
        .into_iter()
        .map(|g| {
            let mut routers: Vec<String> = g.routers.iter().map(|r| r.to_string()).collect();
            routers.sort();
            RouteRow {
                prefix: g.prefix,
                next_hop: g.next_hop,
                as_path: g.as_path.to_vec(),
                local_pref: g.local_pref,
                communities: g.communities.into_owned(),
                since_ms: g.since_ms,
                routers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::{RouterRoute, RouterView};

    fn route(prefix: &str, communities: &[&str], since_ms: u64) -> RouterRoute {
        RouterRoute {
            prefix: prefix.parse().unwrap(),
            next_hop: Some("172.18.0.2".parse().unwrap()),
            as_path: vec![64500],
            communities: communities.iter().map(|c| c.to_string()).collect(),
            since_ms: Some(since_ms),
            ..RouterRoute::default()
        }
    }

    fn router(name: &str, routes: Vec<RouterRoute>) -> RouterView {
        RouterView {
            name: name.into(),
            routes,
            ..RouterView::default()
        }
    }

    /// The same communities in another order are one group, for `routes` and the TUI alike;
    /// `routes` sorts rows and routers, the groups keep snapshot order.
    #[test]
    fn communities_in_any_order_group_together() {
        let snap = Snapshot {
            routers: vec![
                router(
                    "zeta",
                    vec![
                        route("198.51.100.1/32", &["65000:2", "65000:1"], 20),
                        route("198.51.100.0/32", &[], 5),
                    ],
                ),
                router(
                    "alpha",
                    vec![route("198.51.100.1/32", &["65000:1", "65000:2"], 10)],
                ),
            ],
            ..Snapshot::default()
        };
        let groups = route_groups(&snap);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].prefix.to_string(), "198.51.100.1/32");
        assert_eq!(groups[0].communities.as_ref(), ["65000:1", "65000:2"]);
        assert_eq!(groups[0].routers, ["zeta", "alpha"]);
        assert_eq!(groups[0].since_ms, Some(10));

        let rows = route_rows(&snap);
        let prefixes: Vec<String> = rows.iter().map(|r| r.prefix.to_string()).collect();
        assert_eq!(prefixes, ["198.51.100.0/32", "198.51.100.1/32"]);
        assert_eq!(rows[1].routers, ["alpha", "zeta"]);
        assert_eq!(rows[1].communities, ["65000:1", "65000:2"]);

        let tui = crate::tui::rows::route_rows(&snap);
        assert_eq!(tui.len(), 2);
        assert_eq!(tui[0].communities, "65000:1 65000:2");
        assert_eq!(tui[0].held_by, ["zeta", "alpha"]);
    }
}
