//! Table rows derived from a [`Snapshot`], built once per snapshot (in `update`), never per
//! frame. Drawing then formats only the visible slice.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::status::{
    DriftKind, EventRecord, Health, ServiceIntent, SessionHistory, Snapshot, SourceHealth,
};

/// One routes-table row: a prefix with one set of attributes, and the routers holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRow {
    pub prefix: IpNet,
    pub next_hop: Option<IpAddr>,
    pub as_path: String,
    pub local_pref: Option<u32>,
    pub communities: String,
    /// Oldest `since` among the holders (unix ms).
    pub since_ms: Option<u64>,
    /// Router names, in snapshot order; empty when intended but held by none.
    pub held_by: Vec<String>,
    /// Drift findings about this prefix, sorted, without duplicates.
    pub drift: Vec<DriftKind>,
    /// Lowercase text the `/` filter matches against.
    pub haystack: String,
}

/// One sessions-table row: one BGP session, with its history entry and filter text.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub session: crate::status::sessions::SessionRow,
    /// Its entry in `snapshot.history.sessions`, if any.
    pub history: Option<usize>,
    pub haystack: String,
}

/// Drift kinds touching each service, keyed by `namespace/name`.
pub fn service_drift(snap: &Snapshot) -> HashMap<String, Vec<DriftKind>> {
    let mut by: HashMap<String, Vec<DriftKind>> = HashMap::new();
    for d in &snap.drift {
        let key = d.service.clone().or_else(|| {
            let p = d.prefix?;
            snap.services
                .iter()
                .find(|s| s.addresses.iter().any(|a| p.contains(a)))
                .map(ServiceIntent::key)
        });
        if let Some(k) = key {
            let v = by.entry(k).or_default();
            if !v.contains(&d.kind) {
                v.push(d.kind);
                v.sort();
            }
        }
    }
    if matches!(snap.config, crate::status::ConfigState::Rejected { .. }) {
        for s in &snap.services {
            let v = by.entry(s.key()).or_default();
            if !v.contains(&DriftKind::ConfigRejected) {
                v.push(DriftKind::ConfigRejected);
                v.sort();
            }
        }
    }
    by
}

/// The routes table: `status::routes::route_groups` (the grouping `metallbctl routes` uses),
/// formatted once, plus a row for each intended prefix no router holds, with drift marks.
pub fn route_rows(snap: &Snapshot) -> Vec<RouteRow> {
    let mut rows: Vec<RouteRow> = crate::status::routes::route_groups(snap)
        .into_iter()
        .map(|g| RouteRow {
            prefix: g.prefix,
            next_hop: g.next_hop,
            as_path: join(g.as_path, " "),
            local_pref: g.local_pref,
            communities: g.communities.join(" "),
            since_ms: g.since_ms,
            held_by: g.routers.iter().map(|r| r.to_string()).collect(),
            drift: Vec::new(),
            haystack: String::new(),
        })
        .collect();
    // Intended prefixes that no router holds still get a row, so the table shows the gap.
    let mut by_prefix: HashMap<IpNet, Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_prefix.entry(row.prefix).or_default().push(i);
    }
    for d in &snap.drift {
        let Some(p) = d.prefix else { continue };
        let idx = match by_prefix.get(&p) {
            Some(v) => v.clone(),
            None => {
                rows.push(RouteRow {
                    prefix: p,
                    next_hop: None,
                    as_path: String::new(),
                    local_pref: None,
                    communities: String::new(),
                    since_ms: None,
                    held_by: Vec::new(),
                    drift: Vec::new(),
                    haystack: String::new(),
                });
                by_prefix.insert(p, vec![rows.len() - 1]);
                vec![rows.len() - 1]
            }
        };
        for i in idx {
            let row = &mut rows[i];
            let applies = match &d.router {
                Some(r) => d.kind != DriftKind::WrongNextHop || row.held_by.contains(r),
                None => true,
            };
            if applies && !row.drift.contains(&d.kind) {
                row.drift.push(d.kind);
                row.drift.sort();
            }
        }
    }
    for row in &mut rows {
        use std::fmt::Write;
        let h = &mut row.haystack;
        // Addresses, numbers and communities print in lower case already.
        let _ = write!(h, "{} ", row.prefix);
        if let Some(nh) = row.next_hop {
            let _ = write!(h, "{nh} ");
        }
        h.push_str(&row.as_path);
        if let Some(lp) = row.local_pref {
            let _ = write!(h, " {lp}");
        }
        h.push(' ');
        h.push_str(&row.communities.to_lowercase());
        for r in &row.held_by {
            h.push(' ');
            h.push_str(&r.to_lowercase());
        }
        for k in &row.drift {
            h.push(' ');
            h.push_str(k.as_str());
        }
    }
    rows
}

/// The sessions table: `status::sessions::session_rows` (one row per BGP session, as
/// `metallbctl status` shows them), with each row's history entry and filter text.
pub fn session_rows(snap: &Snapshot) -> Vec<SessionRow> {
    crate::status::sessions::session_rows(snap)
        .into_iter()
        .map(|s| {
            let history = snap
                .history
                .sessions
                .binary_search_by(|h| h.key.as_str().cmp(&s.history_key))
                .ok();
            let haystack = format!(
                "{} {} {} {}",
                s.node,
                s.peer,
                s.state,
                s.last_error.as_deref().unwrap_or("")
            )
            .to_lowercase();
            SessionRow {
                session: s,
                history,
                haystack,
            }
        })
        .collect()
}

pub fn service_haystack(s: &ServiceIntent) -> String {
    format!(
        "{} {} {} {}",
        s.key(),
        join(&s.addresses, " "),
        s.pool.as_deref().unwrap_or(""),
        s.external_traffic_policy
    )
    .to_lowercase()
}

pub fn event_haystack(e: &EventRecord) -> String {
    format!(
        "{} {} {} {} {}",
        e.type_, e.reason, e.object, e.message, e.source
    )
    .to_lowercase()
}

/// Sources that failed on their last poll.
pub fn failed_sources(snap: &Snapshot) -> impl Iterator<Item = &SourceHealth> {
    snap.sources
        .iter()
        .filter(|s| matches!(s.health, Health::Failed { .. }))
}

pub fn join<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    let mut out = String::new();
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&x.to_string());
    }
    out
}

/// The flap sparkline of a session over the last `buckets` minutes: one character per minute,
/// its height the number of down transitions in that minute (`·` for none).
pub fn flap_sparkline(
    history: Option<&SessionHistory>,
    now_ms: u64,
    buckets: usize,
) -> (usize, String) {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let Some(h) = history else {
        return (0, "·".repeat(buckets));
    };
    let mut counts = vec![0usize; buckets];
    let mut total = 0;
    for t in &h.transitions {
        if t.up {
            continue;
        }
        let ago = now_ms.saturating_sub(t.at_ms) / 60_000;
        if (ago as usize) < buckets {
            counts[buckets - 1 - ago as usize] += 1;
            total += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let line = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                '·'
            } else {
                BARS[((c * BARS.len()).div_ceil(max)).clamp(1, BARS.len()) - 1]
            }
        })
        .collect();
    (total, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{Drift, RouterRoute, RouterView, Transition};

    fn route(p: &str, hop: &str) -> RouterRoute {
        RouterRoute {
            prefix: p.parse().unwrap(),
            next_hop: Some(hop.parse().unwrap()),
            as_path: vec![64500],
            ..Default::default()
        }
    }

    #[test]
    fn routers_holding_the_same_route_share_a_row_and_unheld_intent_gets_one() {
        let snap = Snapshot {
            routers: vec![
                RouterView {
                    name: "bird".into(),
                    routes: vec![route("198.51.100.0/32", "127.0.1.1")],
                    ..Default::default()
                },
                RouterView {
                    name: "frr".into(),
                    routes: vec![route("198.51.100.0/32", "127.0.1.1")],
                    ..Default::default()
                },
            ],
            drift: vec![Drift {
                kind: DriftKind::NotHeld,
                prefix: Some("198.51.100.7/32".parse().unwrap()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let rows = route_rows(&snap);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].held_by, ["bird", "frr"]);
        assert!(rows[1].held_by.is_empty());
        assert_eq!(rows[1].drift, [DriftKind::NotHeld]);
    }

    #[test]
    fn the_sparkline_counts_downs_per_minute() {
        let snap = Snapshot {
            history: crate::status::History {
                sessions: vec![SessionHistory {
                    key: "k".into(),
                    transitions: vec![
                        Transition {
                            at_ms: 1_000,
                            up: false,
                        },
                        Transition {
                            at_ms: 2_000,
                            up: true,
                        },
                        Transition {
                            at_ms: 590_000,
                            up: false,
                        },
                        Transition {
                            at_ms: 595_000,
                            up: false,
                        },
                    ],
                    prefix_counts: vec![],
                }],
            },
            ..Default::default()
        };
        let (n, line) = flap_sparkline(snap.history.sessions.first(), 600_000, 10);
        assert_eq!(n, 3);
        assert_eq!(line, "▄········█");
        assert_eq!(flap_sparkline(None, 600_000, 3), (0, "···".into()));
    }
}
