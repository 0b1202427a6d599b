//! Explanations for people: "why is this service not advertised?", a router panel's verdict
//! line, the `--require` check, and ages. Pure.

use std::collections::BTreeSet;

use super::drift::{router_for_peer, speaker_session};
use super::model::{
    ConfigState, DriftKind, Health, Level, Reason, ReasonKind, RouterView, Snapshot, SourceKind,
    Verdict,
};

/// A duration in milliseconds as kubectl prints ages: `12s`, `3m4s`, `2h3m`, `4d5h`.
pub fn format_age(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// The age of `since_ms` at `now_ms` (0 if in the future).
pub fn age(now_ms: u64, since_ms: u64) -> String {
    format_age(now_ms.saturating_sub(since_ms))
}

/// Why `service` (`namespace/name`) is not advertised everywhere it should be. Empty when
/// every announcement it should have is carried by an Established session and, where the
/// router is known, held by it.
pub fn why_not_advertised(snap: &Snapshot, service: &str) -> Vec<Reason> {
    let Some(svc) = snap.services.iter().find(|s| s.key() == service) else {
        return vec![Reason {
            kind: ReasonKind::NoAddress,
            detail: format!("there is no LoadBalancer service {service}"),
            ..Reason::default()
        }];
    };
    let mut out = Vec::new();
    if let ConfigState::Rejected { message, .. } = &snap.config {
        out.push(Reason {
            kind: ReasonKind::ConfigRejected,
            detail: format!(
                "MetalLB rejected its latest configuration; the previous one stays in force: {message}"
            ),
            ..Reason::default()
        });
    }
    if svc.addresses.is_empty() {
        out.push(Reason {
            kind: ReasonKind::NoAddress,
            detail: match &svc.pending_reason {
                Some(r) => format!("no address assigned: {r}"),
                None => "no address assigned yet".to_string(),
            },
            ..Reason::default()
        });
        return out;
    }
    let local = svc.external_traffic_policy.eq_ignore_ascii_case("Local");
    if local {
        let nodes: BTreeSet<&str> = snap.speakers.iter().map(|s| s.node.as_str()).collect();
        for node in nodes {
            if !svc.nodes_with_endpoints.iter().any(|n| n == node) {
                out.push(Reason {
                    kind: ReasonKind::NoLocalEndpoints,
                    node: Some(node.to_string()),
                    detail: format!(
                        "externalTrafficPolicy is Local and {node} has no ready endpoint, so {node} does not announce it"
                    ),
                    ..Reason::default()
                });
            }
        }
        if svc.nodes_with_endpoints.is_empty() && snap.speakers.is_empty() {
            out.push(Reason {
                kind: ReasonKind::NoLocalEndpoints,
                detail: "externalTrafficPolicy is Local and no node has a ready endpoint"
                    .to_string(),
                ..Reason::default()
            });
        }
    }
    if svc.announcements.is_empty() && !(local && svc.nodes_with_endpoints.is_empty()) {
        out.push(Reason {
            kind: ReasonKind::NotSelected,
            detail: match &svc.pool {
                Some(p) => format!("no BGP advertisement or peer selects pool {p} on any node"),
                None => "its address is in no BGP pool of the configuration".to_string(),
            },
            ..Reason::default()
        });
    }
    for a in &svc.announcements {
        match speaker_session(snap, &a.node, &a.peer) {
            Some(s) if !s.state.is_up() => out.push(Reason {
                kind: ReasonKind::SessionDown,
                node: Some(a.node.clone()),
                peer: Some(a.peer.clone()),
                detail: format!(
                    "the session from {} to {} is {}{}",
                    a.node,
                    a.peer,
                    s.state,
                    s.last_error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
            }),
            Some(_) => {
                if let Some(r) = router_for_peer(snap, &a.peer) {
                    if !r.routes.iter().any(|rt| rt.prefix == a.prefix) {
                        out.push(Reason {
                            kind: ReasonKind::NotHeld,
                            node: Some(a.node.clone()),
                            peer: Some(a.peer.clone()),
                            detail: format!(
                                "{} announces {} to {} but router {} does not hold it",
                                a.node, a.prefix, a.peer, r.name
                            ),
                        });
                    }
                }
            }
            None => {}
        }
    }
    out
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The verdict line of a router panel, from what the router itself reports.
pub fn verdict(router: &RouterView, now_ms: u64) -> Verdict {
    let routes = router.routes.len();
    if router.sessions.iter().any(|s| s.state.is_up()) {
        return if routes == 0 {
            Verdict {
                level: Level::Warning,
                connected: true,
                routes,
                text: "connected, no routes yet".to_string(),
            }
        } else {
            Verdict {
                level: Level::Ok,
                connected: true,
                routes,
                text: format!("MetalLB is connected — {}", plural(routes, "route")),
            }
        };
    }
    let text = match router.sessions.first() {
        None => "not connected: no session from MetalLB".to_string(),
        Some(s) => {
            let mut t = format!("not connected: {}", s.state);
            if let Some(since) = s.since_ms {
                t.push_str(&format!(" since {}", age(now_ms, since)));
            }
            if let Some(e) = s.last_error.as_deref().filter(|e| !e.is_empty()) {
                t.push_str(&format!(" ({e})"));
            }
            t
        }
    };
    Verdict {
        level: Level::Failure,
        connected: false,
        routes,
        text,
    }
}

/// The verdict of a router in a snapshot: a failing router source says so first.
pub fn router_verdict(snap: &Snapshot, router: &RouterView) -> Verdict {
    let failed = snap.sources.iter().find_map(|s| match &s.health {
        Health::Failed { error, since_ms }
            if s.kind == SourceKind::Router && s.name == router.name =>
        {
            Some((error, since_ms))
        }
        _ => None,
    });
    match failed {
        Some((error, since)) => Verdict {
            level: Level::Failure,
            connected: false,
            routes: router.routes.len(),
            text: format!(
                "cannot read the router for {}: {error}",
                age(snap.taken_at_ms, *since)
            ),
        },
        None => verdict(router, snap.taken_at_ms),
    }
}

/// `status --require`: `all` fails unless every session is up and nothing drifts; `any` fails
/// when no session is up, or on drift other than a down session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Require {
    All,
    Any,
}

/// The outcome of a `--require` check: a level and the lines to print (`[OK] ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    /// Whether the check passed under the requirement.
    pub pass: bool,
    pub lines: Vec<String>,
}

/// Check a snapshot like `cilium-dbg bgp status --require-all|--require-any`. Sessions are the
/// speakers' (what MetalLB sends); with no speaker source, the routers' sessions.
pub fn check(snap: &Snapshot, require: Require) -> Check {
    let (up, total) = if snap.speakers.is_empty() {
        let all: Vec<bool> = snap
            .routers
            .iter()
            .flat_map(|r| r.sessions.iter().map(|s| s.state.is_up()))
            .collect();
        (all.iter().filter(|u| **u).count(), all.len())
    } else {
        (
            snap.speakers.iter().filter(|s| s.state.is_up()).count(),
            snap.speakers.len(),
        )
    };
    let mut lines = Vec::new();
    let sessions_level = if total > 0 && up == total {
        lines.push(format!("[OK] All peers established ({up}/{total})"));
        Level::Ok
    } else if up > 0 {
        lines.push(format!("[WARNING] Some peers established ({up}/{total})"));
        Level::Warning
    } else if total == 0 {
        lines.push("[FAILURE] No BGP sessions found".to_string());
        Level::Failure
    } else {
        lines.push(format!("[FAILURE] No peers established (0/{total})"));
        Level::Failure
    };
    let drift: Vec<_> = snap
        .drift
        .iter()
        .filter(|d| require == Require::All || d.kind != DriftKind::SessionDown)
        .collect();
    for d in &drift {
        lines.push(format!("[FAILURE] {}: {}", d.kind.as_str(), d.detail));
    }
    for s in &snap.sources {
        if let Health::Failed { error, since_ms } = &s.health {
            lines.push(format!(
                "[WARNING] source {} failing for {}: {error}",
                s.name,
                age(snap.taken_at_ms, *since_ms)
            ));
        }
    }
    let pass = drift.is_empty()
        && match require {
            Require::All => sessions_level == Level::Ok,
            Require::Any => sessions_level != Level::Failure,
        };
    let level = if !drift.is_empty() {
        Level::Failure
    } else {
        sessions_level
    };
    Check { level, pass, lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::drift::{derive, tests::healthy};
    use crate::status::model::SessionState;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(format_age(0), "0s");
        assert_eq!(format_age(12_999), "12s");
        assert_eq!(format_age(184_000), "3m4s");
        assert_eq!(format_age(7_380_000), "2h3m");
        assert_eq!(format_age(363_600_000), "4d5h");
        assert_eq!(age(1000, 5000), "0s");
    }

    #[test]
    fn verdicts() {
        let s = healthy();
        let now = s.taken_at_ms;
        let v = verdict(&s.routers[0], now);
        assert_eq!(v.text, "MetalLB is connected — 1 route");
        assert_eq!((v.level, v.connected, v.routes), (Level::Ok, true, 1));

        let mut r = s.routers[0].clone();
        r.routes.clear();
        assert_eq!(verdict(&r, now).text, "connected, no routes yet");
        assert_eq!(verdict(&r, now).level, Level::Warning);

        r.sessions[0].state = SessionState::Active;
        r.sessions[0].since_ms = Some(now - 12_000);
        r.sessions[0].last_error = Some("Connection refused".into());
        assert_eq!(
            verdict(&r, now).text,
            "not connected: Active since 12s (Connection refused)"
        );
        r.sessions.clear();
        assert_eq!(
            verdict(&r, now).text,
            "not connected: no session from MetalLB"
        );

        let mut s2 = healthy();
        s2.sources[2].health = Health::Failed {
            error: "connection refused".into(),
            since_ms: now - 5_000,
        };
        let v = router_verdict(&s2, &s2.routers[0]);
        assert_eq!(v.level, Level::Failure);
        assert_eq!(v.text, "cannot read the router for 5s: connection refused");
        assert_eq!(router_verdict(&s2, &s2.routers[1]).level, Level::Ok);
    }

    #[test]
    fn nothing_to_explain_when_healthy() {
        assert_eq!(why_not_advertised(&healthy(), "default/nginx"), vec![]);
        let r = why_not_advertised(&healthy(), "default/nope");
        assert_eq!(r[0].kind, ReasonKind::NoAddress);
    }

    #[test]
    fn explains_every_reason() {
        let mut s = healthy();
        s.services[0].external_traffic_policy = "Local".into();
        s.services[0].nodes_with_endpoints.clear();
        s.services[0].announcements.clear();
        let r = why_not_advertised(&s, "default/nginx");
        let kinds: Vec<ReasonKind> = r.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, vec![ReasonKind::NoLocalEndpoints], "{r:?}");
        assert_eq!(r[0].node.as_deref(), Some("minikube"));

        let mut s = healthy();
        s.services[0].announcements.clear();
        let r = why_not_advertised(&s, "default/nginx");
        assert_eq!(r[0].kind, ReasonKind::NotSelected);
        assert!(r[0].detail.contains("pool my-ip-space"), "{r:?}");

        let mut s = healthy();
        s.config = ConfigState::Rejected {
            message: "boom".into(),
            by: "metallb-speaker".into(),
            at_ms: None,
        };
        s.speakers[0].state = SessionState::Active;
        s.speakers[0].last_error = Some("Connection refused".into());
        s.routers[1].routes.clear();
        let r = why_not_advertised(&s, "default/nginx");
        let kinds: Vec<ReasonKind> = r.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ReasonKind::ConfigRejected,
                ReasonKind::SessionDown,
                ReasonKind::NotHeld
            ]
        );
        assert!(
            r[1].detail.contains("is Active (Connection refused)"),
            "{r:?}"
        );

        let mut s = healthy();
        s.services[0].addresses.clear();
        s.services[0].pending_reason = Some("no available IPs".into());
        let r = why_not_advertised(&s, "default/nginx");
        assert_eq!(r[0].kind, ReasonKind::NoAddress);
        assert!(r[0].detail.contains("no available IPs"));
    }

    #[test]
    fn require_all_and_any() {
        let mut s = healthy();
        s.drift = derive(&s);
        let c = check(&s, Require::All);
        assert!(c.pass);
        assert_eq!(c.lines, vec!["[OK] All peers established (2/2)"]);

        s.speakers[0].state = SessionState::Active;
        s.drift = derive(&s);
        let c = check(&s, Require::All);
        assert!(!c.pass);
        assert_eq!(c.lines[0], "[WARNING] Some peers established (1/2)");
        assert!(c.lines[1].starts_with("[FAILURE] session_down: "), "{c:?}");
        assert!(check(&s, Require::Any).pass);

        s.speakers[1].state = SessionState::Idle;
        s.drift = derive(&s);
        let c = check(&s, Require::Any);
        assert!(!c.pass);
        assert_eq!(c.lines[0], "[FAILURE] No peers established (0/2)");

        let mut s = healthy();
        s.routers[1].routes.clear();
        s.drift = derive(&s);
        assert!(
            !check(&s, Require::Any).pass,
            "drift fails --require any too"
        );
    }
}
