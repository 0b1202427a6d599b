//! Allocator benchmarks (not timed tests), all in one run:
//!
//! 1. 100,000 allocations from a /15 with `avoid-buggy-ips`: ours (free-space index) against a
//!    reference linear scan that mirrors MetalLB's `AllocateFromPool` (walk the pool from its
//!    first address, skip buggy IPs, check whether each candidate is in use, take the first free).
//! 2. 10,000 allocations from an IPv6 /64, ours and the same reference scan.
//! 3. The compatibility check of a new configuration against 100,000 assignments
//!    (`incompatible`, `set_pools`) and the whole dry run over 100,000 services.
//!
//! Run: `cargo bench --bench alloc` (release profile). `ALLOC_BENCH_REF_N` lowers the number
//! of reference allocations in (1) if the full quadratic scan is too slow for a machine.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use metallbctl::alloc::{
    dryrun, is_buggy, AddrRange, Allocator, PoolSpec, ServiceInfo, ShareRequest,
};

/// MetalLB's algorithm: per candidate, `poolFor` (is the address in the pool's CIDRs, not
/// avoided) and the in-use lookup that `Assign` does; the first free one is recorded.
struct LinearScan {
    range: AddrRange,
    avoid_buggy: bool,
    in_use: HashMap<IpAddr, String>,
    allocated: HashMap<String, IpAddr>,
}

fn next(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v) => IpAddr::V4(u32::from(v).wrapping_add(1).into()),
        IpAddr::V6(v) => IpAddr::V6(u128::from(v).wrapping_add(1).into()),
    }
}

impl LinearScan {
    fn new(range: AddrRange, avoid_buggy: bool) -> LinearScan {
        LinearScan {
            range,
            avoid_buggy,
            in_use: HashMap::new(),
            allocated: HashMap::new(),
        }
    }

    fn allocate(&mut self, svc: &str) -> Option<IpAddr> {
        let mut ip = self.range.first;
        loop {
            let skip = self.avoid_buggy && is_buggy(ip);
            if !skip && self.range.contains(ip) && !self.in_use.contains_key(&ip) {
                self.in_use.insert(ip, svc.to_string());
                self.allocated.insert(svc.to_string(), ip);
                return Some(ip);
            }
            if ip == self.range.last {
                return None;
            }
            ip = next(ip);
        }
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

fn fmt(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// Best of `runs` fresh runs of `f`.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut out = None;
    let mut min = Duration::MAX;
    for _ in 0..runs {
        let (v, d) = time(&mut f);
        min = min.min(d);
        out = Some(v);
    }
    (out.expect("at least one run"), min)
}

fn main() {
    // cargo bench passes "--bench"; ignore arguments.
    let ref_n: usize = std::env::var("ALLOC_BENCH_REF_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let req = ShareRequest::default();

    // 1. /15, avoid-buggy-ips, 100,000 services.
    let n = 100_000usize;
    let v4 = AddrRange::parse("10.0.0.0/15").expect("cidr");
    let pools = vec![PoolSpec::new("big", vec![v4]).avoid_buggy_ips(true)];
    let names: Vec<String> = (0..n).map(|i| format!("ns{}/svc-{i}", i % 50)).collect();
    let (ours, ours_t) = best(5, || {
        let mut a = Allocator::new(pools.clone()).expect("pools");
        for s in &names {
            black_box(a.allocate(s, None, &req).expect("space"));
        }
        a
    });
    let (last_ref, ref_t) = time(|| {
        let mut r = LinearScan::new(v4, true);
        let mut last = None;
        for s in names.iter().take(ref_n) {
            last = black_box(r.allocate(s));
        }
        last
    });
    let ours_last = ours.ip(&names[ref_n.min(n) - 1]);
    assert_eq!(ours_last, last_ref, "both pick the same addresses");
    let ours_per = ours_t.as_secs_f64() / n as f64;
    let ref_per = ref_t.as_secs_f64() / ref_n as f64;
    // Compare like with like: ours over the same first ref_n allocations.
    let (_, ours_prefix_t) = best(5, || {
        let mut a = Allocator::new(pools.clone()).expect("pools");
        for s in names.iter().take(ref_n) {
            black_box(a.allocate(s, None, &req).expect("space"));
        }
    });
    println!("alloc bench (release), one run");
    println!();
    println!(
        "1. {n} allocations, 10.0.0.0/15, avoid-buggy-ips (capacity {})",
        ours.stats()[0].capacity
    );
    println!(
        "   ours (index), best of 5:        {:>10}  ({:.0} ns/allocation)",
        fmt(ours_t),
        ours_per * 1e9
    );
    println!(
        "   ours, first {ref_n}, best of 5: {:>10}",
        fmt(ours_prefix_t)
    );
    println!(
        "   MetalLB linear scan, {ref_n}:    {:>10}  ({:.0} ns/allocation)",
        fmt(ref_t),
        ref_per * 1e9
    );
    println!(
        "   speed-up on the same {ref_n} allocations: {:.0}x",
        ref_t.as_secs_f64() / ours_prefix_t.as_secs_f64()
    );

    // 2. IPv6 /64, 10,000 services.
    let n6 = 10_000usize;
    let v6 = AddrRange::parse("2001:db8::/64").expect("cidr");
    let pools6 = vec![PoolSpec::new("v6", vec![v6])];
    let (a6, t6) = best(5, || {
        let mut a = Allocator::new(pools6.clone()).expect("pools");
        for s in names.iter().take(n6) {
            black_box(a.allocate(s, None, &req).expect("space"));
        }
        a
    });
    let (last6, r6) = time(|| {
        let mut r = LinearScan::new(v6, false);
        let mut last = None;
        for s in names.iter().take(n6) {
            last = black_box(r.allocate(s));
        }
        last
    });
    assert_eq!(a6.ip(&names[n6 - 1]), last6);
    println!();
    println!(
        "2. {n6} allocations, 2001:db8::/64 (capacity {})",
        a6.stats()[0].capacity
    );
    println!(
        "   ours (index), best of 5:        {:>10}  ({:.0} ns/allocation)",
        fmt(t6),
        t6.as_secs_f64() / n6 as f64 * 1e9
    );
    println!(
        "   MetalLB linear scan:            {:>10}  ({:.1}x slower)",
        fmt(r6),
        r6.as_secs_f64() / t6.as_secs_f64()
    );

    // 3. Compatibility of a new configuration with 100,000 assignments.
    let compatible = vec![PoolSpec::new(
        "renamed",
        vec![AddrRange::parse("10.0.0.0/15").expect("cidr")],
    )
    .avoid_buggy_ips(true)];
    let shrunk = vec![PoolSpec::new(
        "big",
        vec![AddrRange::parse("10.0.0.0/16").expect("cidr")],
    )];
    let (inc, t_inc) = best(5, || ours.incompatible(&compatible).expect("pools"));
    assert!(inc.is_empty());
    let (lost, t_inc2) = best(5, || ours.incompatible(&shrunk).expect("pools"));
    let (_, t_set) = best(5, || {
        let mut a = ours.clone();
        a.set_pools(compatible.clone()).expect("compatible");
        a
    });
    let (_, t_clone) = best(5, || ours.clone());
    let services: Vec<ServiceInfo> = ours
        .assignments()
        .into_iter()
        .map(|a| {
            let (ns, name) = a.service.split_once('/').expect("key");
            let mut s = ServiceInfo::load_balancer(ns, name);
            s.ingress_ips = vec![a.ip];
            s
        })
        .collect();
    let (report, t_dry) = best(3, || {
        dryrun(Some(&pools), &shrunk, &services).expect("dry run")
    });
    let losses = report
        .services
        .iter()
        .filter(|s| matches!(s.verdict, metallbctl::alloc::Verdict::Loses { .. }))
        .count();
    let (report_ok, t_dry_ok) = best(3, || {
        dryrun(Some(&pools), &compatible, &services).expect("dry run")
    });
    println!();
    println!("3. a new configuration against {} assignments", ours.len());
    println!(
        "   incompatible(), compatible config (rename), best of 5: {:>10}",
        fmt(t_inc)
    );
    println!(
        "   incompatible(), /16 instead of /15 ({} lose), best of 5: {:>10}",
        lost.len(),
        fmt(t_inc2)
    );
    println!(
        "   clone + set_pools() (check and re-home), best of 5:   {:>10}  (clone alone {})",
        fmt(t_set),
        fmt(t_clone)
    );
    println!(
        "   dryrun() over {} services, rename (accepted={}), best of 3: {:>10}",
        services.len(),
        report_ok.accepted,
        fmt(t_dry_ok)
    );
    println!(
        "   dryrun() over {} services, /16 ({losses} lose, each with a fix), best of 3: {:>10}",
        services.len(),
        fmt(t_dry)
    );
}
