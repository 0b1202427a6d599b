//! The tutorial as a dry run from files (issue 3): tutorial-1 is running, nginx holds
//! 198.51.100.0, tutorial-3 adds `avoid-buggy-ips`. Plus the other verdicts.

use std::net::IpAddr;

use metallbctl::alloc::dryrun::LossCause;
use metallbctl::alloc::{
    dryrun, dryrun_with, parse_service_list, AddrRange, PoolSpec, Semantics, ServiceInfo,
    SuggestedFix, Verdict,
};

const ASSIGNMENTS: &str = include_str!("../fixtures/alloc/tutorial-assignments.json");
const PINNED: &str = include_str!("../fixtures/alloc/tutorial-assignments-pinned.json");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// tutorial-1: pool `my-ip-space`, protocol bgp, 198.51.100.0/24.
fn tutorial_1() -> Vec<PoolSpec> {
    vec![PoolSpec::new(
        "my-ip-space",
        vec![AddrRange::parse("198.51.100.0/24").unwrap()],
    )]
}

/// tutorial-3: the same pool with `avoid-buggy-ips: true`.
fn tutorial_3() -> Vec<PoolSpec> {
    vec![PoolSpec::new(
        "my-ip-space",
        vec![AddrRange::parse("198.51.100.0/24").unwrap()],
    )
    .avoid_buggy_ips(true)]
}

#[test]
fn tutorial_3_over_tutorial_2_is_rejected_with_the_fix() {
    let services = parse_service_list(ASSIGNMENTS).unwrap();
    assert_eq!(services.len(), 4);
    let report = dryrun(Some(&tutorial_1()), &tutorial_3(), &services).unwrap();
    assert!(!report.accepted);
    assert!(report.has_losses());
    assert_eq!(
        report.rejection.as_deref(),
        Some(
            r#"new config not compatible with assigned IPs: service "default/nginx" cannot own "198.51.100.0" under new config"#
        )
    );
    assert_eq!(report.skipped, 3, "kubernetes and the two router services");
    assert_eq!(report.services.len(), 1);
    let nginx = &report.services[0];
    assert_eq!(
        (nginx.namespace.as_str(), nginx.name.as_str()),
        ("default", "nginx")
    );
    match &nginx.verdict {
        Verdict::Loses {
            ip: lost,
            message,
            cause,
            suggested_fix,
        } => {
            assert_eq!(*lost, ip("198.51.100.0"));
            assert_eq!(
                message,
                r#"new config not compatible with assigned IPs: service "default/nginx" cannot own "198.51.100.0" under new config"#
            );
            assert_eq!(
                *cause,
                LossCause::BuggyIpAvoided {
                    pools: vec!["my-ip-space".to_string()]
                }
            );
            assert_eq!(
                *suggested_fix,
                SuggestedFix::SetLoadBalancerIp {
                    ip: ip("198.51.100.1"),
                    pool: "my-ip-space".to_string()
                }
            );
            assert_eq!(
                suggested_fix.to_string(),
                "set spec.loadBalancerIP: 198.51.100.1"
            );
        }
        other => panic!("expected Loses, got {other:?}"),
    }
    // The report is data: it serialises.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["services"][0]["verdict"]["verdict"], "loses");
    assert_eq!(
        json["services"][0]["verdict"]["suggested_fix"]["ip"],
        "198.51.100.1"
    );
}

#[test]
fn tutorial_3_over_the_pinned_service_is_accepted() {
    let services = parse_service_list(PINNED).unwrap();
    let report = dryrun(Some(&tutorial_1()), &tutorial_3(), &services).unwrap();
    assert!(report.accepted, "{report:?}");
    assert_eq!(report.rejection, None);
    assert_eq!(
        report.services[0].verdict,
        Verdict::Keeps {
            ip: ip("198.51.100.1"),
            pool: "my-ip-space".to_string()
        }
    );
    assert_eq!(report.pools[0].capacity, 254);
    assert_eq!(report.pools[0].in_use, 1);
}

#[test]
fn without_the_running_config_the_verdict_is_the_same() {
    let services = parse_service_list(ASSIGNMENTS).unwrap();
    let report = dryrun(None, &tutorial_3(), &services).unwrap();
    assert!(!report.accepted);
    assert!(matches!(report.services[0].verdict, Verdict::Loses { .. }));
}

#[test]
fn renamed_pool_moves_and_pending_services_are_judged() {
    let mut services = parse_service_list(ASSIGNMENTS).unwrap();
    let mut pending = ServiceInfo::load_balancer("web", "shop");
    pending.ports = vec![metallbctl::alloc::Port::tcp(443)];
    services.push(pending);
    let mut stuck = ServiceInfo::load_balancer("web", "stuck");
    stuck.address_pool = Some("gone".to_string());
    services.push(stuck);

    let renamed = vec![
        PoolSpec::new("public", vec![AddrRange::parse("198.51.100.0/24").unwrap()])
            .avoid_buggy_ips(false),
    ];
    let report = dryrun(Some(&tutorial_1()), &renamed, &services).unwrap();
    assert!(report.accepted);
    let by_name = |n: &str| {
        &report
            .services
            .iter()
            .find(|s| s.name == n)
            .unwrap()
            .verdict
    };
    assert_eq!(
        *by_name("nginx"),
        Verdict::Moves {
            ip: ip("198.51.100.0"),
            from_pool: "my-ip-space".to_string(),
            to_pool: "public".to_string()
        }
    );
    assert_eq!(
        *by_name("shop"),
        Verdict::PendingNowAllocatable {
            ip: ip("198.51.100.1"),
            pool: "public".to_string()
        }
    );
    assert_eq!(
        *by_name("stuck"),
        Verdict::PendingStill {
            reason: r#"unknown pool "gone""#.to_string()
        }
    );
}

#[test]
fn fixes_do_not_collide_and_respect_annotations_and_sharing() {
    let running = vec![
        PoolSpec::new("a", vec![AddrRange::parse("10.0.0.0/24").unwrap()]),
        PoolSpec::new("b", vec![AddrRange::parse("10.0.1.0/24").unwrap()]).auto_assign(false),
    ];
    let new = vec![
        PoolSpec::new("a", vec![AddrRange::parse("10.0.0.0/24").unwrap()]).avoid_buggy_ips(true),
        PoolSpec::new("b", vec![AddrRange::parse("10.0.1.0/24").unwrap()])
            .auto_assign(false)
            .avoid_buggy_ips(true),
    ];
    let mk = |name: &str, ingress: &str| {
        let mut s = ServiceInfo::load_balancer("ns", name);
        s.ingress_ips = vec![ip(ingress)];
        s.ports = vec![metallbctl::alloc::Port::tcp(80)];
        s
    };
    let keep = mk("keep", "10.0.0.1");
    let lose1 = mk("lose1", "10.0.0.0");
    let lose2 = mk("lose2", "10.0.0.255");
    let mut annotated = mk("manual", "10.0.1.255");
    annotated.address_pool = Some("b".to_string());
    let report = dryrun(Some(&running), &new, &[keep, lose1, lose2, annotated]).unwrap();
    assert!(!report.accepted);
    let fix = |n: &str| match &report
        .services
        .iter()
        .find(|s| s.name == n)
        .unwrap()
        .verdict
    {
        Verdict::Loses { suggested_fix, .. } => suggested_fix.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fix("lose1"), "set spec.loadBalancerIP: 10.0.0.2");
    assert_eq!(fix("lose2"), "set spec.loadBalancerIP: 10.0.0.3");
    assert_eq!(fix("manual"), "set spec.loadBalancerIP: 10.0.1.1");
    // The first one MetalLB would name, in name order.
    assert!(report.rejection.unwrap().contains(r#"service "ns/lose1""#));
}

#[test]
fn from_v0_14_tutorial_3_is_applied_and_nginx_is_reallocated() {
    let services = parse_service_list(ASSIGNMENTS).unwrap();
    let report = dryrun_with(
        Some(&tutorial_1()),
        &tutorial_3(),
        &services,
        Semantics::Reallocate,
    )
    .unwrap();
    assert!(report.accepted, "v0.14 applies the configuration");
    assert_eq!(report.rejection, None);
    assert!(report.has_losses());
    assert_eq!(
        report.services[0].verdict,
        Verdict::Reallocated {
            ip: ip("198.51.100.0"),
            cause: LossCause::BuggyIpAvoided {
                pools: vec!["my-ip-space".into()]
            },
            new_ip: Some(ip("198.51.100.1")),
            pool: Some("my-ip-space".into()),
            reason: None,
        }
    );
    let used: u128 = report.pools.iter().map(|p| p.in_use).sum();
    assert_eq!(
        used, 1,
        "the new address is taken in the pools after the change"
    );

    // The same change under v0.13 semantics is the rejection of MLB100.
    let old = dryrun_with(
        Some(&tutorial_1()),
        &tutorial_3(),
        &services,
        Semantics::Reject,
    )
    .unwrap();
    assert_eq!(
        old,
        dryrun(Some(&tutorial_1()), &tutorial_3(), &services).unwrap()
    );
    assert!(!old.accepted);
}

#[test]
fn a_reallocated_service_with_no_free_address_goes_pending() {
    let services = parse_service_list(ASSIGNMENTS).unwrap();
    // Only a manual pool is left: the controller gives an unannotated service nothing.
    let manual = vec![
        PoolSpec::new("manual", vec![AddrRange::parse("203.0.113.0/29").unwrap()])
            .auto_assign(false),
    ];
    let report = dryrun_with(None, &manual, &services, Semantics::Reallocate).unwrap();
    match &report.services[0].verdict {
        Verdict::Reallocated {
            ip: lost,
            cause,
            new_ip,
            pool,
            reason,
        } => {
            assert_eq!(*lost, ip("198.51.100.0"));
            assert_eq!(*cause, LossCause::NotInAnyPool);
            assert_eq!((*new_ip, pool.as_deref()), (None, None));
            assert!(
                reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{reason:?}"
            );
        }
        other => panic!("expected a re-allocation, got {other:?}"),
    }
}
