//! One fixture (tests/fixtures/status/healthy.json: the tutorial lab, both routers holding
//! nginx's 198.51.100.0/32) and one mutation per drift rule.

use super::*;
use crate::status::model::*;

pub(crate) fn healthy() -> Snapshot {
    serde_json::from_str(include_str!("../../../tests/fixtures/status/healthy.json"))
        .expect("fixture parses")
}

fn kinds(s: &Snapshot) -> Vec<DriftKind> {
    derive(s).into_iter().map(|d| d.kind).collect()
}

fn p(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn the_healthy_lab_has_no_drift() {
    assert_eq!(derive(&healthy()), vec![]);
}

#[test]
fn a_rejected_config_is_drift_with_metallbs_text() {
    let mut s = healthy();
    s.config = ConfigState::Rejected {
        message: "configuration rejected: new config not compatible with assigned IPs".into(),
        by: "metallb-controller".into(),
        at_ms: None,
    };
    let d = derive(&s);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DriftKind::ConfigRejected);
    assert!(d[0].detail.contains("new config not compatible"), "{d:?}");
}

#[test]
fn a_stopped_router_is_session_down_on_both_sides() {
    let mut s = healthy();
    s.speakers[0].state = SessionState::Active;
    s.speakers[0].prefixes_advertised = 0;
    s.speakers[0].last_error = Some("Connection refused".into());
    s.routers[0].sessions.clear();
    s.routers[0].routes.clear();
    let d = derive(&s);
    assert_eq!(kinds(&s), vec![DriftKind::SessionDown]);
    assert_eq!(d[0].router.as_deref(), Some("bird"));
    assert_eq!(d[0].node.as_deref(), Some("minikube"));
    assert!(d[0].detail.contains("Active (Connection refused)"), "{d:?}");

    s.routers[1].sessions[0].state = SessionState::Idle;
    let d = derive(&s);
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].router.as_deref(), Some("quagga"));
    assert_eq!(d[1].node.as_deref(), Some("minikube"));
}

#[test]
fn assigned_but_announced_by_no_speaker() {
    let mut s = healthy();
    for sp in &mut s.speakers {
        sp.prefixes_advertised = 0;
    }
    for r in &mut s.routers {
        r.routes.clear();
    }
    let d: Vec<Drift> = derive(&s)
        .into_iter()
        .filter(|d| d.kind == DriftKind::NotAnnounced)
        .collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].prefix, Some(p("198.51.100.0/32")));
    assert_eq!(d[0].service.as_deref(), Some("default/nginx"));
    // The same service held by one router counts as announced.
    let mut s2 = healthy();
    for sp in &mut s2.speakers {
        sp.prefixes_advertised = 0;
    }
    s2.routers[1].routes.clear();
    assert!(!kinds(&s2).contains(&DriftKind::NotAnnounced));
}

#[test]
fn announced_but_not_held_by_a_router() {
    let mut s = healthy();
    s.routers[1].routes.clear();
    let d = derive(&s);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DriftKind::NotHeld);
    assert_eq!(d[0].router.as_deref(), Some("quagga"));
    assert_eq!(d[0].prefix, Some(p("198.51.100.0/32")));
    // A peer whose speaker session is down is session_down, not not_held.
    s.speakers[1].state = SessionState::Connect;
    assert_eq!(kinds(&s), vec![DriftKind::SessionDown]);
}

#[test]
fn held_but_not_assigned_is_stale() {
    let mut s = healthy();
    let mut old = s.routers[0].routes[0].clone();
    old.prefix = p("198.51.100.7/32");
    s.routers[0].routes.push(old);
    let d = derive(&s);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DriftKind::Stale);
    assert_eq!(d[0].router.as_deref(), Some("bird"));
    assert_eq!(d[0].node.as_deref(), Some("minikube"));
    // A route from some other neighbour is not MetalLB's business.
    s.routers[0].routes[1].next_hop = Some("192.0.2.1".parse().unwrap());
    s.routers[0].routes[1].from_peer = Some("192.0.2.1".into());
    assert_eq!(derive(&s), vec![]);
}

#[test]
fn a_wrong_next_hop() {
    let mut s = healthy();
    s.routers[1].routes[0].next_hop = Some("127.0.1.9".parse().unwrap());
    let d = derive(&s);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DriftKind::WrongNextHop);
    assert!(
        d[0].detail.contains("via 127.0.1.9, expected 127.0.1.1"),
        "{d:?}"
    );
}

#[test]
fn routers_disagree_on_communities() {
    let mut s = healthy();
    s.routers[0].routes[0].communities = vec!["64500:1".into()];
    let d = derive(&s);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DriftKind::RoutersDisagree);
    assert!(d[0].detail.contains("bird: [64500:1], quagga: []"), "{d:?}");
}

#[test]
fn without_a_cluster_routers_that_hold_different_prefixes_disagree() {
    let mut s = healthy();
    s.cluster = None;
    s.services.clear();
    s.speakers.clear();
    s.routers[1].routes.clear();
    let d = derive(&s);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DriftKind::RoutersDisagree);
    assert!(
        d[0].detail.contains("held by bird but not by quagga"),
        "{d:?}"
    );
    // A disconnected router is session_down, not a disagreement.
    s.routers[1].sessions[0].state = SessionState::Active;
    assert_eq!(kinds(&s), vec![DriftKind::SessionDown]);
}

#[test]
fn findings_are_sorted_and_unique() {
    let mut s = healthy();
    s.config = ConfigState::Rejected {
        message: "x".into(),
        by: String::new(),
        at_ms: None,
    };
    s.routers[1].routes.clear();
    s.routers[0].routes[0].next_hop = Some("127.0.1.9".parse().unwrap());
    let k = kinds(&s);
    let mut sorted = k.clone();
    sorted.sort();
    assert_eq!(k, sorted);
    assert_eq!(
        k,
        vec![
            DriftKind::NotHeld,
            DriftKind::WrongNextHop,
            DriftKind::ConfigRejected
        ]
    );
}

#[test]
fn peer_addresses_parse_with_and_without_ports() {
    assert_eq!(
        peer_ip("10.96.0.100:179"),
        Some("10.96.0.100".parse().unwrap())
    );
    assert_eq!(peer_ip("10.96.0.100"), Some("10.96.0.100".parse().unwrap()));
    assert_eq!(
        peer_ip("[2001:db8::1]:179"),
        Some("2001:db8::1".parse().unwrap())
    );
    assert_eq!(peer_ip("2001:db8::1"), Some("2001:db8::1".parse().unwrap()));
    assert_eq!(peer_ip("nonsense"), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn state(i: u8) -> SessionState {
        match i % 7 {
            0 => SessionState::Idle,
            1 => SessionState::Connect,
            2 => SessionState::Active,
            3 => SessionState::OpenSent,
            4 => SessionState::OpenConfirm,
            5 => SessionState::Established,
            _ => SessionState::Unknown,
        }
    }

    proptest! {
        /// Whatever the sources say, drift is sorted, unique, names only routers and services
        /// that exist, and a fully healthy view has none.
        #[test]
        fn drift_is_sorted_unique_and_grounded(
            speaker_states in proptest::collection::vec(any::<u8>(), 2),
            router_states in proptest::collection::vec(any::<u8>(), 2),
            drop_routes in proptest::collection::vec(any::<bool>(), 2),
            extra in proptest::collection::vec((0u8..=255, any::<bool>(), any::<bool>()), 0..4),
            cluster in any::<bool>(),
        ) {
            let mut s = healthy();
            for (sp, st) in s.speakers.iter_mut().zip(&speaker_states) {
                sp.state = state(*st);
            }
            for (i, r) in s.routers.iter_mut().enumerate() {
                r.sessions[0].state = state(router_states[i]);
                if drop_routes[i] {
                    r.routes.clear();
                }
            }
            for (octet, to_bird, odd_hop) in &extra {
                let mut rt = healthy().routers[0].routes[0].clone();
                rt.prefix = format!("198.51.100.{octet}/32").parse().unwrap();
                if *odd_hop {
                    rt.next_hop = Some("127.0.9.9".parse().unwrap());
                }
                s.routers[usize::from(!*to_bird)].routes.push(rt);
            }
            if !cluster {
                s.cluster = None;
            }
            let d = derive(&s);
            let mut sorted = d.clone();
            sorted.sort_by(|a, b| {
                (a.kind, a.prefix, &a.service, &a.router, &a.node)
                    .cmp(&(b.kind, b.prefix, &b.service, &b.router, &b.node))
            });
            sorted.dedup();
            prop_assert_eq!(&d, &sorted);
            for f in &d {
                if let Some(r) = &f.router {
                    prop_assert!(s.routers.iter().any(|x| &x.name == r));
                }
                if let Some(svc) = &f.service {
                    prop_assert!(s.services.iter().any(|x| &x.key() == svc));
                }
                prop_assert!(!f.detail.is_empty());
            }
            let healthy_now = s.speakers.iter().all(|x| x.state.is_up())
                && s.routers.iter().all(|r| r.sessions.iter().all(|x| x.state.is_up()))
                && !drop_routes.iter().any(|d| *d)
                && extra.is_empty();
            if healthy_now {
                prop_assert_eq!(d, vec![]);
            }
        }
    }
}
