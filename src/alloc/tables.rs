//! MetalLB's allocator test tables (v0.6.2 `internal/allocator/allocator_test.go`: assignment,
//! pool allocation and exhaustion, auto-assign, buggy IPs, sharing, config reload, pool
//! counts), restated as our cases, plus the project's additions (TCP/53 + UDP/53, IPv6,
//! configuration-order pools, exact messages).

use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pool(name: &str, avoid: bool, auto: bool, cidrs: &[&str]) -> PoolSpec {
    PoolSpec {
        name: name.to_string(),
        ranges: cidrs.iter().map(|c| AddrRange::parse(c).unwrap()).collect(),
        avoid_buggy_ips: avoid,
        auto_assign: auto,
    }
}

fn req(ports: &[&str], sharing: &str, backend: &str) -> ShareRequest {
    ShareRequest {
        ports: ports
            .iter()
            .map(|p| {
                let (proto, n) = p.split_once('/').unwrap();
                let n: u16 = n.parse().unwrap();
                match proto {
                    "tcp" => Port::tcp(n),
                    "udp" => Port::udp(n),
                    _ => unreachable!(),
                }
            })
            .collect(),
        sharing_key: sharing.to_string(),
        backend_key: backend.to_string(),
    }
}

/// An allocator over `pools`, which must be valid.
fn alloc(pools: Vec<PoolSpec>) -> Allocator {
    Allocator::new(pools).unwrap()
}

fn none() -> ShareRequest {
    ShareRequest::default()
}

#[test]
fn assignment() {
    let mut a = alloc(vec![
        pool("test", false, true, &["1.2.3.4/31"]),
        pool("test2", true, true, &["1.2.4.0/24"]),
    ]);
    // (desc, svc, ip ("" = unassign), ports, sharing, backend, want_err)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a [&'a str],
        &'a str,
        &'a str,
        bool,
    );
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("assign s1", "s1", "1.2.3.4", &[], "", "", false),
        ("s1 idempotent reassign", "s1", "1.2.3.4", &[], "", "", false),
        ("s2 can't grab s1's IP", "s2", "1.2.3.4", &[], "", "", true),
        ("s2 can get the other IP", "s2", "1.2.3.5", &[], "", "", false),
        ("s1 now can't grab s2's IP", "s1", "1.2.3.5", &[], "", "", true),
        ("s1 frees its IP", "s1", "", &[], "", "", false),
        ("s2 can grab s1's former IP", "s2", "1.2.3.4", &[], "", "", false),
        ("s1 can now grab s2's former IP", "s1", "1.2.3.5", &[], "", "", false),
        ("s3 cannot grab a 0 buggy IP", "s3", "1.2.4.0", &[], "", "", true),
        ("s3 cannot grab a 255 buggy IP", "s3", "1.2.4.255", &[], "", "", true),
        ("s3 can grab another IP in that pool", "s3", "1.2.4.254", &[], "", "", false),
        ("s4 takes an IP, with sharing", "s4", "1.2.4.3", &["tcp/80"], "share", "backend", false),
        ("s3 can't share with s4 (port conflict)", "s3", "1.2.4.3", &["tcp/80"], "share", "backend", true),
        ("s3 can't share with s4 (wrong sharing key)", "s3", "1.2.4.3", &["tcp/443"], "othershare", "backend", true),
        ("s3 can't share with s4 (wrong backend key)", "s3", "1.2.4.3", &["tcp/443"], "share", "otherbackend", true),
        ("s3 takes the same IP as s4", "s3", "1.2.4.3", &["tcp/443"], "share", "backend", false),
        // v0.6.2 updates ports in place when they don't clash with another service's.
        ("s3 can't move its ports onto s4's", "s3", "1.2.4.3", &["tcp/80"], "share", "backend", true),
        ("s3 can change its ports while keeping the same IP", "s3", "1.2.4.3", &["udp/53"], "share", "backend", false),
        ("s3 can't change its sharing key while keeping the same IP", "s3", "1.2.4.3", &["udp/53"], "othershare", "backend", true),
        ("s3 can't change its backend key while keeping the same IP", "s3", "1.2.4.3", &["udp/53"], "share", "otherbackend", true),
        ("s4 takes s3's former IP", "s4", "1.2.4.254", &[], "", "", false),
        ("s3, now alone, may change its sharing key in place", "s3", "1.2.4.3", &["udp/53"], "othershare", "", false),
    ];
    for &(desc, svc, addr, ports, sk, bk, want_err) in table {
        if addr.is_empty() {
            a.unassign(svc);
            continue;
        }
        let before = a.ip(svc);
        let r = a.assign(svc, ip(addr), &req(ports, sk, bk));
        if want_err {
            assert!(r.is_err(), "{desc}: should have failed");
            assert_eq!(a.ip(svc), before, "{desc}: failed assign changed state");
        } else {
            assert!(r.is_ok(), "{desc}: {r:?}");
            assert_eq!(a.ip(svc), Some(ip(addr)), "{desc}");
        }
        a.check_invariants();
    }
}

#[test]
fn exact_messages() {
    let mut a = alloc(vec![pool("test", true, true, &["1.2.4.0/24"])]);
    let e = a.assign("default/a", ip("1.2.4.0"), &none()).unwrap_err();
    assert_eq!(e.to_string(), r#""1.2.4.0" is not allowed in config"#);
    a.assign("default/a", ip("1.2.4.1"), &req(&["tcp/80"], "k", ""))
        .unwrap();
    let e = a
        .assign("default/b", ip("1.2.4.1"), &req(&["tcp/80"], "k", ""))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"port TCP/80 is already in use on "1.2.4.1""#
    );
    let e = a
        .assign("default/b", ip("1.2.4.1"), &req(&["tcp/81"], "other", ""))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"can't change sharing key for "default/b", address also in use by default/a"#
    );
    match e {
        AllocError::CannotShare { conflict, .. } => assert_eq!(
            conflict.to_string(),
            r#"sharing key "other" does not match existing sharing key "k""#
        ),
        other => panic!("{other:?}"),
    }
    let e = a
        .allocate_from_pool("default/c", "nope", None, &none())
        .unwrap_err();
    assert_eq!(e.to_string(), r#"unknown pool "nope""#);
    let mut small = alloc(vec![pool("tiny", false, false, &["1.2.3.4/32"])]);
    small
        .allocate_from_pool("x/a", "tiny", None, &none())
        .unwrap();
    let e = small
        .allocate_from_pool("x/b", "tiny", None, &none())
        .unwrap_err();
    assert_eq!(e.to_string(), r#"no available IPs in pool "tiny""#);
    assert_eq!(
        small
            .allocate("x/b", None, &none())
            .unwrap_err()
            .to_string(),
        "no available IPs"
    );
}

#[test]
fn pool_allocation_and_exhaustion() {
    let mut a = alloc(vec![
        pool("not_this_one", false, true, &["192.168.0.0/16"]),
        pool("test", false, true, &["1.2.3.4/31", "1.2.3.10/31"]),
        pool("test2", false, true, &["10.20.30.0/24"]),
    ]);
    let valid = ["1.2.3.4", "1.2.3.5", "1.2.3.10", "1.2.3.11"].map(ip);
    // (svc, unassign, ports, sharing, want_err)
    let table: &[(&str, bool, &[&str], &str, bool)] = &[
        ("s1", false, &[], "", false),
        ("s2", false, &[], "", false),
        ("s3", false, &[], "", false),
        ("s4", false, &[], "", false),
        ("s5", false, &[], "", true),
        ("s6", false, &[], "", true),
        ("s1", true, &[], "", false),
        ("s5", false, &[], "", false),
        ("s6", false, &[], "", true),
        ("s5", true, &[], "", false),
        ("s5", false, &["tcp/80"], "share", false),
        ("s6", false, &["tcp/443"], "share", false),
    ];
    for (i, &(svc, unassign, ports, sk, want_err)) in table.iter().enumerate() {
        if unassign {
            a.unassign(svc);
            continue;
        }
        let r = a.allocate_from_pool(svc, "test", None, &req(ports, sk, ""));
        if want_err {
            assert!(r.is_err(), "#{i}");
        } else {
            let got = r.unwrap();
            assert!(valid.contains(&got), "#{i}: {got}");
        }
        a.check_invariants();
    }
    // s6 shares s5's address.
    assert_eq!(a.ip("s5"), a.ip("s6"));
    // Configuration order within the pool: first CIDR first, ascending.
    a.unassign("s2");
    a.unassign("s3");
    assert_eq!(
        a.allocate_from_pool("n", "test", None, &none()).unwrap(),
        ip("1.2.3.5")
    );
    a.unassign("s5");
    a.unassign("s6");
    assert!(a
        .allocate_from_pool("s5", "nonexistentpool", None, &none())
        .is_err());
}

#[test]
fn allocation_across_pools_in_config_order() {
    let mut a = alloc(vec![
        pool("test1", false, true, &["1.2.3.4/31"]),
        pool("test2", false, true, &["1.2.3.10/31"]),
    ]);
    let got: Vec<IpAddr> = (1..=4)
        .map(|i| a.allocate(&format!("s{i}"), None, &none()).unwrap())
        .collect();
    assert_eq!(got, ["1.2.3.4", "1.2.3.5", "1.2.3.10", "1.2.3.11"].map(ip));
    assert!(a.allocate("s5", None, &none()).is_err());
    assert!(a.allocate("s6", None, &none()).is_err());
    a.unassign("s1");
    assert_eq!(
        a.allocate("s5", None, &req(&["tcp/80"], "share", ""))
            .unwrap(),
        ip("1.2.3.4")
    );
    assert!(a.allocate("s6", None, &none()).is_err());
    assert_eq!(
        a.allocate("s6", None, &req(&["tcp/443"], "share", ""))
            .unwrap(),
        ip("1.2.3.4")
    );
    a.check_invariants();
}

#[test]
fn buggy_ips() {
    let mut a = alloc(vec![
        pool("test", false, true, &["1.2.3.0/31"]),
        pool("test2", false, true, &["1.2.3.254/31"]),
        pool("test3", true, true, &["1.2.4.0/31"]),
        pool("test4", true, true, &["1.2.4.254/31"]),
    ]);
    let got: Vec<IpAddr> = (1..=6)
        .map(|i| a.allocate(&format!("s{i}"), None, &none()).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "1.2.3.0",
            "1.2.3.1",
            "1.2.3.254",
            "1.2.3.255",
            "1.2.4.1",
            "1.2.4.254"
        ]
        .map(ip)
    );
    assert!(a.allocate("s7", None, &none()).is_err());
}

#[test]
fn auto_assign() {
    let mut a = alloc(vec![
        pool("test1", false, false, &["1.2.3.4/31"]),
        pool("test2", false, true, &["1.2.3.10/31"]),
    ]);
    assert_eq!(a.allocate("s1", None, &none()).unwrap(), ip("1.2.3.10"));
    assert_eq!(a.allocate("s2", None, &none()).unwrap(), ip("1.2.3.11"));
    for s in ["s3", "s4", "s5"] {
        assert!(a.allocate(s, None, &none()).is_err());
    }
    // The annotation reaches an auto-assign: false pool.
    assert_eq!(
        a.allocate_from_pool("s3", "test1", None, &none()).unwrap(),
        ip("1.2.3.4")
    );
}

#[test]
fn dns_tcp_and_udp_53_share() {
    let mut a = alloc(vec![pool("p", false, true, &["10.0.0.0/30"])]);
    let tcp = a
        .allocate("kube-system/dns-tcp", None, &req(&["tcp/53"], "dns", ""))
        .unwrap();
    let udp = a
        .allocate("kube-system/dns-udp", None, &req(&["udp/53"], "dns", ""))
        .unwrap();
    assert_eq!(tcp, udp);
    assert_eq!(a.services_on(tcp).len(), 2);
    // A third with TCP/53 clashes on that address and gets the next one.
    let other = a
        .allocate("kube-system/dns-tcp2", None, &req(&["tcp/53"], "dns", ""))
        .unwrap();
    assert_ne!(other, tcp);
    // Under Local, the backend key must match too.
    let local = a
        .allocate("x/local", None, &req(&["tcp/80"], "dns", "app=x"))
        .unwrap();
    assert_ne!(local, tcp);
    assert_eq!(a.stats()[0].in_use, 3);
    a.unassign("kube-system/dns-tcp");
    assert_eq!(a.services_on(tcp), vec!["kube-system/dns-udp"]);
    a.check_invariants();
}

#[test]
fn ipv4_and_ipv6() {
    let mut a = alloc(vec![pool(
        "dual",
        true,
        true,
        &["198.51.100.0/31", "2001:db8::/64"],
    )]);
    assert_eq!(
        a.allocate("a", Some(Family::V6), &none()).unwrap(),
        ip("2001:db8::")
    );
    assert_eq!(a.allocate("b", None, &none()).unwrap(), ip("198.51.100.1"));
    assert_eq!(a.allocate("c", None, &none()).unwrap(), ip("2001:db8::1"));
    assert!(a.allocate("d", Some(Family::V4), &none()).is_err());
    assert_eq!(a.stats()[0].capacity, 1 + (1u128 << 64));
}

/// MetalLB's TestConfigReload / TestSetPools, in order: s1 holds 1.2.3.0 throughout.
#[test]
fn set_pools_table() {
    let mut a = alloc(vec![pool("test", false, true, &["1.2.3.0/30"])]);
    a.assign("s1", ip("1.2.3.0"), &none()).unwrap();
    // (desc, pools as (name, avoid-buggy-ips, cidr), want_err, want_pool)
    type Row<'a> = (&'a str, &'a [(&'a str, bool, &'a str)], bool, &'a str);
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("set same config is no-op", &[("test", false, "1.2.3.0/30")], false, "test"),
        ("expand pool", &[("test", false, "1.2.3.0/24")], false, "test"),
        ("shrink pool", &[("test", false, "1.2.3.0/30")], false, "test"),
        ("can't shrink further", &[("test", false, "1.2.3.2/31")], true, "test"),
        ("rename the pool", &[("test2", false, "1.2.3.0/30")], false, "test2"),
        ("split pool", &[("test", false, "1.2.3.0/31"), ("test2", false, "1.2.3.2/31")], false, "test"),
        ("swap pool names", &[("test2", false, "1.2.3.0/31"), ("test", false, "1.2.3.2/31")], false, "test2"),
        ("delete used pool", &[("test", true, "1.2.3.2/31")], true, "test2"),
        ("delete unused pool", &[("test2", false, "1.2.3.0/31")], false, "test2"),
        ("enable buggy IPs not allowed", &[("test2", true, "1.2.3.0/31")], true, "test2"),
    ];
    for &(desc, pools, want_err, want_pool) in table {
        let pools = pools
            .iter()
            .map(|&(name, avoid, cidr)| pool(name, avoid, true, &[cidr]))
            .collect();
        let r = a.set_pools(pools);
        assert_eq!(r.is_err(), want_err, "{desc}: {r:?}");
        if let Err(e) = r {
            assert_eq!(
                e.to_string(),
                r#"new config not compatible with assigned IPs: service "s1" cannot own "1.2.3.0" under new config"#
            );
        }
        assert_eq!(a.pool("s1"), Some(want_pool), "{desc}");
        assert_eq!(a.ip("s1"), Some(ip("1.2.3.0")), "{desc}");
        a.check_invariants();
    }
}

#[test]
fn set_pools_tutorial_message_and_rehoming_index() {
    let mut a = alloc(vec![pool("my-ip-space", false, true, &["198.51.100.0/24"])]);
    assert_eq!(
        a.allocate("default/nginx", None, &req(&["tcp/80"], "", ""))
            .unwrap(),
        ip("198.51.100.0")
    );
    let e = a
        .set_pools(vec![pool("my-ip-space", true, true, &["198.51.100.0/24"])])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"new config not compatible with assigned IPs: service "default/nginx" cannot own "198.51.100.0" under new config"#
    );
    // Split into two pools: the address is re-homed, and the new pools' indexes know it.
    a.set_pools(vec![
        pool("low", false, false, &["198.51.100.0/25"]),
        pool("high", false, true, &["198.51.100.128/25"]),
    ])
    .unwrap();
    assert_eq!(a.pool("default/nginx"), Some("low"));
    assert_eq!(
        a.allocate_from_pool("default/other", "low", None, &none())
            .unwrap(),
        ip("198.51.100.1")
    );
    assert_eq!(a.stats()[0].in_use, 2);
    a.check_invariants();
}

#[test]
fn pool_counts() {
    assert_eq!(
        pool("p", false, true, &["1.2.3.0/24"]).capacity().unwrap(),
        256
    );
    assert_eq!(
        pool("p", false, true, &["1.2.3.0/24", "2.3.4.128/25"])
            .capacity()
            .unwrap(),
        384
    );
    assert_eq!(
        pool("p", true, true, &["1.2.3.0/24", "2.3.4.128/25"])
            .capacity()
            .unwrap(),
        381
    );
}

#[test]
fn invalid_pool_lists() {
    let e = Allocator::new(vec![
        pool("a", false, true, &["1.2.3.0/24"]),
        pool("a", false, true, &["1.2.4.0/24"]),
    ])
    .unwrap_err();
    assert_eq!(e.to_string(), r#"duplicate definition of pool "a""#);
    let reversed = PoolSpec::new("r", vec![AddrRange::new(ip("1.2.3.9"), ip("1.2.3.1"))]);
    assert!(matches!(
        Allocator::new(vec![reversed]),
        Err(AllocError::InvalidRange { .. })
    ));
}

#[test]
fn converge_follows_the_controller() {
    let mut a = alloc(vec![
        pool("auto", false, true, &["10.0.0.0/30"]),
        pool("manual", false, false, &["10.0.1.0/30"]),
    ]);
    let mut s = ServiceInfo::load_balancer("default", "web");
    assert_eq!(a.converge(&s).unwrap(), Some(ip("10.0.0.0")));
    // Idempotent.
    assert_eq!(a.converge(&s).unwrap(), Some(ip("10.0.0.0")));
    // Requesting a different IP moves it.
    s.load_balancer_ip = Some("10.0.1.2".to_string());
    assert_eq!(a.converge(&s).unwrap(), Some(ip("10.0.1.2")));
    s.load_balancer_ip = Some("banana".to_string());
    assert_eq!(
        a.converge(&s).unwrap_err().to_string(),
        r#"invalid spec.loadBalancerIP "banana""#
    );
    s.load_balancer_ip = None;
    s.address_pool = Some("manual".to_string());
    assert_eq!(a.converge(&s).unwrap(), Some(ip("10.0.1.0")));
    // An ingress IP no longer allowed is cleared and replaced.
    s.ingress_ips = vec![ip("192.0.2.1")];
    assert_eq!(a.converge(&s).unwrap(), Some(ip("10.0.1.0")));
    s.service_type = "ClusterIP".to_string();
    assert_eq!(a.converge(&s).unwrap(), None);
    assert!(a.is_empty());
    a.check_invariants();
}
