//! Property tests for the allocator: random sequences of service creates, deletes, edits and
//! configuration changes, driven through the controller's `converge` and `set_pools`, checked
//! against invariants and against a brute-force linear scan that mirrors MetalLB's algorithm.
//!
//! - no two services share an address unless sharing is legal (same non-empty sharing key,
//!   same backend key, no protocol/port clash);
//! - every assigned address is owned by the active configuration, by the recorded pool;
//! - an accepted configuration change keeps every existing address; a rejected one changes
//!   nothing and names a service whose address the new configuration cannot own;
//! - a fresh allocation picks exactly the address MetalLB's linear scan would;
//! - pool use counts match the assignments.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use metallbctl::alloc::{
    is_buggy, AddrRange, AllocError, Allocator, Family, PoolSpec, Port, ServiceInfo, ShareRequest,
    TrafficPolicy,
};
use proptest::prelude::*;

/// Small address blocks so that pools run out and overlap with .0/.255 boundaries.
fn blocks() -> Vec<(IpAddr, u32)> {
    vec![
        ("10.0.0.250".parse().unwrap(), 14), // 10.0.0.250 ..= 10.0.1.7
        ("10.0.2.0".parse().unwrap(), 4),
        ("2001:db8::".parse().unwrap(), 6),
    ]
}

fn offset(ip: IpAddr, n: u32) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) + n).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) + u128::from(n)).into()),
    }
}

fn range_strategy() -> impl Strategy<Value = AddrRange> {
    (0usize..3, 0u32..14, 0u32..14).prop_map(|(b, x, y)| {
        let (base, len) = blocks()[b];
        let (lo, hi) = (x.min(y) % len, x.max(y) % len);
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        AddrRange::new(offset(base, lo), offset(base, hi))
    })
}

fn pools_strategy() -> impl Strategy<Value = Vec<PoolSpec>> {
    prop::collection::vec(
        (
            prop::collection::vec(range_strategy(), 1..3),
            any::<bool>(),
            prop::bool::weighted(0.8),
        ),
        0..4,
    )
    .prop_map(|ps| {
        ps.into_iter()
            .enumerate()
            .map(|(i, (ranges, avoid, auto))| PoolSpec {
                name: format!("p{i}"),
                ranges,
                avoid_buggy_ips: avoid,
                auto_assign: auto,
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Spec {
    ports: Vec<Port>,
    sharing: Option<&'static str>,
    local: Option<&'static str>,
    pool: Option<usize>,
    lb_ip: Option<(usize, u32)>,
    family: Option<Family>,
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    let port = prop::sample::select(vec![
        Port::tcp(53),
        Port::udp(53),
        Port::tcp(80),
        Port::tcp(443),
    ]);
    (
        prop::collection::btree_set(port, 1..3),
        prop::option::weighted(0.6, prop::sample::select(vec!["a", "b"])),
        prop::option::weighted(0.3, prop::sample::select(vec!["x", "y"])),
        prop::option::weighted(0.2, 0usize..4),
        prop::option::weighted(0.15, (0usize..3, 0u32..14)),
        prop::option::weighted(0.3, prop::sample::select(vec![Family::V4, Family::V6])),
    )
        .prop_map(|(ports, sharing, local, pool, lb_ip, family)| Spec {
            ports: ports.into_iter().collect(),
            sharing,
            local,
            pool,
            lb_ip,
            family,
        })
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(usize, Spec),
    Delete(usize),
    Config(Vec<PoolSpec>),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..8, spec_strategy()).prop_map(|(i, s)| Op::Upsert(i, s)),
        2 => (0usize..8).prop_map(Op::Delete),
        2 => pools_strategy().prop_map(Op::Config),
    ]
}

fn service(i: usize, spec: &Spec) -> ServiceInfo {
    let mut s = ServiceInfo::load_balancer("ns", &format!("s{i}"));
    s.ports = spec.ports.clone();
    s.allow_shared_ip = spec.sharing.map(str::to_string);
    if let Some(app) = spec.local {
        s.external_traffic_policy = TrafficPolicy::Local;
        s.selector = BTreeMap::from([("app".to_string(), app.to_string())]);
    }
    s.address_pool = spec.pool.map(|p| format!("p{p}"));
    s.load_balancer_ip = spec.lb_ip.map(|(b, n)| {
        let (base, len) = blocks()[b];
        offset(base, n % len).to_string()
    });
    s.ip_family = spec.family;
    s
}

fn owns(p: &PoolSpec, ip: IpAddr) -> bool {
    !(p.avoid_buggy_ips && is_buggy(ip)) && p.ranges.iter().any(|r| r.contains(ip))
}

fn pool_for(pools: &[PoolSpec], ip: IpAddr) -> Option<&str> {
    pools.iter().find(|p| owns(p, ip)).map(|p| p.name.as_str())
}

fn addrs(r: &AddrRange) -> Vec<IpAddr> {
    let mut out = vec![r.first];
    let mut cur = r.first;
    while cur != r.last && out.len() < 64 {
        cur = offset(cur, 1);
        out.push(cur);
    }
    out
}

/// MetalLB's algorithm, brute force: pools in order, ranges in order, ascending, skip buggy
/// under avoid-buggy-ips, first address where `Assign` would succeed.
fn reference_pick(
    pools: &[PoolSpec],
    which: &[usize],
    family: Option<Family>,
    req: &ShareRequest,
    users: &BTreeMap<IpAddr, Vec<(String, ShareRequest)>>,
) -> Option<IpAddr> {
    for &pi in which {
        let p = &pools[pi];
        for r in &p.ranges {
            for ip in addrs(r) {
                if family.is_some_and(|f| f != Family::of(ip)) {
                    continue;
                }
                if p.avoid_buggy_ips && is_buggy(ip) {
                    continue;
                }
                if pool_for(pools, ip).is_none() {
                    continue;
                }
                let ok = match users.get(&ip) {
                    None => true,
                    Some(us) => us.iter().all(|(_, o)| {
                        !o.sharing_key.is_empty()
                            && o.sharing_key == req.sharing_key
                            && o.backend_key == req.backend_key
                            && o.ports.iter().all(|p| !req.ports.contains(p))
                    }),
                };
                if ok {
                    return Some(ip);
                }
            }
        }
    }
    None
}

struct World {
    pools: Vec<PoolSpec>,
    alloc: Allocator,
    services: BTreeMap<String, ServiceInfo>,
}

impl World {
    fn users(&self) -> BTreeMap<IpAddr, Vec<(String, ShareRequest)>> {
        let mut m: BTreeMap<IpAddr, Vec<(String, ShareRequest)>> = BTreeMap::new();
        for a in self.alloc.assignments() {
            let req = self.services[&a.service].share_request();
            m.entry(a.ip).or_default().push((a.service, req));
        }
        m
    }

    /// Converge one service like the controller, writing the result back as its status.
    fn converge(&mut self, key: &str) -> Result<(), TestCaseError> {
        let svc = self.services[key].clone();
        let fresh = self.alloc.ip(key).is_none() && svc.load_balancer_ip.is_none();
        let expected = if fresh {
            let which: Vec<usize> = match &svc.address_pool {
                Some(name) => self
                    .pools
                    .iter()
                    .position(|p| &p.name == name)
                    .into_iter()
                    .collect(),
                None => (0..self.pools.len())
                    .filter(|&i| self.pools[i].auto_assign)
                    .collect(),
            };
            Some(reference_pick(
                &self.pools,
                &which,
                svc.ip_family,
                &svc.share_request(),
                &self.users(),
            ))
        } else {
            None
        };
        let got = self.alloc.converge(&svc);
        if let Some(expected) = expected {
            let got_ip = got.as_ref().ok().copied().flatten();
            prop_assert_eq!(
                got_ip,
                expected,
                "fresh allocation for {} differs from MetalLB's scan",
                key
            );
        }
        let s = self.services.get_mut(key).unwrap();
        s.ingress_ips = self.alloc.ip(key).into_iter().collect();
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let assignments = self.alloc.assignments();
        for a in &assignments {
            let owner = pool_for(&self.pools, a.ip);
            prop_assert!(
                owner.is_some(),
                "{} holds {} outside the config",
                a.service,
                a.ip
            );
            prop_assert_eq!(owner, a.pool.as_deref());
        }
        for (ip, us) in self.users() {
            for (i, (s1, r1)) in us.iter().enumerate() {
                for (s2, r2) in &us[i + 1..] {
                    prop_assert!(
                        !r1.sharing_key.is_empty()
                            && r1.sharing_key == r2.sharing_key
                            && r1.backend_key == r2.backend_key,
                        "{} and {} share {} illegally",
                        s1,
                        s2,
                        ip
                    );
                    let p1: BTreeSet<_> = r1.ports.iter().collect();
                    prop_assert!(
                        r2.ports.iter().all(|p| !p1.contains(p)),
                        "port clash on {}",
                        ip
                    );
                }
            }
        }
        for (st, spec) in self.alloc.stats().iter().zip(&self.pools) {
            // Overlapping pools (which the config parser rejects) both count a shared address.
            let used: BTreeSet<IpAddr> = assignments
                .iter()
                .filter(|a| owns(spec, a.ip))
                .map(|a| a.ip)
                .collect();
            prop_assert_eq!(st.in_use, used.len() as u128, "in-use count of {}", st.name);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_keep_metallbs_invariants(
        initial in pools_strategy(),
        ops in prop::collection::vec(op_strategy(), 1..40),
    ) {
        let mut w = World {
            alloc: Allocator::new(initial.clone()).unwrap(),
            pools: initial,
            services: BTreeMap::new(),
        };
        for op in ops {
            match op {
                Op::Upsert(i, spec) => {
                    let mut s = service(i, &spec);
                    let key = s.key();
                    if let Some(old) = w.services.get(&key) {
                        s.ingress_ips = old.ingress_ips.clone();
                    }
                    w.services.insert(key.clone(), s);
                    w.converge(&key)?;
                }
                Op::Delete(i) => {
                    let key = format!("ns/s{i}");
                    w.alloc.unassign(&key);
                    w.services.remove(&key);
                }
                Op::Config(pools) => {
                    let before: BTreeMap<String, IpAddr> = w
                        .alloc
                        .assignments()
                        .into_iter()
                        .map(|a| (a.service, a.ip))
                        .collect();
                    let incompatible = w.alloc.incompatible(&pools).unwrap();
                    match w.alloc.set_pools(pools.clone()) {
                        Ok(()) => {
                            prop_assert!(incompatible.is_empty());
                            w.pools = pools;
                            let after: BTreeMap<String, IpAddr> = w
                                .alloc
                                .assignments()
                                .into_iter()
                                .map(|a| (a.service, a.ip))
                                .collect();
                            prop_assert_eq!(&before, &after, "accepted change moved an address");
                            // The controller then retries every service.
                            let keys: Vec<String> = w.services.keys().cloned().collect();
                            for k in keys {
                                w.converge(&k)?;
                            }
                        }
                        Err(AllocError::Incompatible { service, ip }) => {
                            prop_assert_eq!(Some(&ip), before.get(&service));
                            prop_assert!(pool_for(&pools, ip).is_none());
                            prop_assert_eq!(&incompatible[0].service, &service);
                            let after: BTreeMap<String, IpAddr> = w
                                .alloc
                                .assignments()
                                .into_iter()
                                .map(|a| (a.service, a.ip))
                                .collect();
                            prop_assert_eq!(&before, &after, "rejected change altered state");
                        }
                        Err(other) => prop_assert!(false, "unexpected error {other}"),
                    }
                }
            }
            w.check()?;
        }
    }

    #[test]
    fn service_json_never_panics(v in arb_json()) {
        let _ = ServiceInfo::from_json(&v);
        let _ = metallbctl::alloc::services_from_value(&v);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "Service",
            "List",
            "LoadBalancer",
            "1.2.3.4",
            "TCP",
            "x",
            "Local"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop::sample::select(vec![
            "kind",
            "items",
            "metadata",
            "name",
            "namespace",
            "spec",
            "status",
            "type",
            "ports",
            "port",
            "protocol",
            "loadBalancer",
            "ingress",
            "ip",
            "annotations",
            "selector",
            "ipFamilies",
            "clusterIP",
            "loadBalancerIP",
            "externalTrafficPolicy",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(key, inner, 0..5).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The dry run agrees with `set_pools`, and its fixes are usable: each suggested address
    /// is owned by the new configuration and collides with no kept address or other fix.
    #[test]
    fn dry_run_fixes_are_valid_and_distinct(
        running in pools_strategy(),
        new in pools_strategy(),
        specs in prop::collection::vec(spec_strategy(), 0..8),
    ) {
        let mut alloc = Allocator::new(running.clone()).unwrap();
        let mut services = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let mut spec = spec.clone();
            spec.sharing = None;
            let mut s = service(i, &spec);
            if let Ok(Some(ip)) = alloc.converge(&s) {
                s.ingress_ips = vec![ip];
            }
            services.push(s);
        }
        let report = metallbctl::alloc::dryrun(Some(&running), &new, &services).unwrap();
        let incompatible = alloc.incompatible(&new).unwrap();
        prop_assert_eq!(report.accepted, incompatible.is_empty());
        let mut taken: BTreeSet<IpAddr> = BTreeSet::new();
        for v in &report.services {
            match &v.verdict {
                metallbctl::alloc::Verdict::Keeps { ip, pool } => {
                    prop_assert_eq!(pool_for(&new, *ip), Some(pool.as_str()));
                    prop_assert!(taken.insert(*ip), "{} given twice", ip);
                }
                metallbctl::alloc::Verdict::Moves { ip, to_pool, .. } => {
                    prop_assert_eq!(pool_for(&new, *ip), Some(to_pool.as_str()));
                    prop_assert!(taken.insert(*ip), "{} given twice", ip);
                }
                metallbctl::alloc::Verdict::Loses { ip, suggested_fix, .. } => {
                    prop_assert!(pool_for(&new, *ip).is_none());
                    if let metallbctl::alloc::SuggestedFix::SetLoadBalancerIp { ip, pool } = suggested_fix {
                        prop_assert_eq!(pool_for(&new, *ip), Some(pool.as_str()));
                        prop_assert!(taken.insert(*ip), "fix {} collides", ip);
                    }
                }
                metallbctl::alloc::Verdict::PendingNowAllocatable { ip, .. } => {
                    prop_assert!(pool_for(&new, *ip).is_some());
                    prop_assert!(taken.insert(*ip), "{} given twice", ip);
                }
                _ => {}
            }
        }
    }

    /// From v0.14 (re-allocation): the configuration is always accepted, exactly the services
    /// that v0.13 would reject on lose their address, and every address handed out (kept,
    /// re-allocated or newly allocated) is owned by the new configuration and given once.
    #[test]
    fn reallocation_gives_valid_distinct_addresses(
        running in pools_strategy(),
        new in pools_strategy(),
        specs in prop::collection::vec(spec_strategy(), 0..8),
    ) {
        use metallbctl::alloc::{Semantics, Verdict};
        let mut alloc = Allocator::new(running.clone()).unwrap();
        let mut services = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let mut spec = spec.clone();
            spec.sharing = None;
            let mut s = service(i, &spec);
            if let Ok(Some(ip)) = alloc.converge(&s) {
                s.ingress_ips = vec![ip];
            }
            services.push(s);
        }
        let rejecting = metallbctl::alloc::dryrun(Some(&running), &new, &services).unwrap();
        let report = metallbctl::alloc::dryrun_with(Some(&running), &new, &services, Semantics::Reallocate).unwrap();
        prop_assert!(report.accepted);
        prop_assert_eq!(report.rejection.as_deref(), None);
        prop_assert_eq!(report.services.len(), rejecting.services.len());
        let mut taken: BTreeSet<IpAddr> = BTreeSet::new();
        for (v, r) in report.services.iter().zip(&rejecting.services) {
            prop_assert_eq!(&v.name, &r.name);
            let lost_before = matches!(r.verdict, Verdict::Loses { .. });
            let lost_now = matches!(v.verdict, Verdict::Reallocated { .. });
            prop_assert_eq!(lost_before, lost_now, "{:?} vs {:?}", v, r);
            match &v.verdict {
                Verdict::Keeps { ip, .. } | Verdict::Moves { ip, .. } | Verdict::PendingNowAllocatable { ip, .. } => {
                    prop_assert!(pool_for(&new, *ip).is_some());
                    prop_assert!(taken.insert(*ip), "{} given twice", ip);
                }
                Verdict::Reallocated { ip, new_ip, pool, reason, .. } => {
                    prop_assert!(pool_for(&new, *ip).is_none(), "{} was not lost", ip);
                    match new_ip {
                        Some(n) => {
                            prop_assert_eq!(pool_for(&new, *n), pool.as_deref());
                            prop_assert!(taken.insert(*n), "{} given twice", n);
                        }
                        None => prop_assert!(reason.is_some()),
                    }
                }
                _ => {}
            }
        }
    }
}
