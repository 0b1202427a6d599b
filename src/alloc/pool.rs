//! Address pools as the allocator sees them: a spans-free [`PoolSpec`] from the configuration,
//! and a validated `Pool` with a free-space index so that finding the first free address in
//! pool order costs O(log n), whatever the pool's size (an IPv6 /64 is never enumerated).
//!
//! The index keeps the pool's *used* addresses as maximal runs, where "next" means the next
//! address the pool may hand out (with `avoid-buggy-ips`, x.x.x.255 is followed by x.x.x+1.1).
//! Because runs are maximal, the address after a run is always free.

use serde::Serialize;
use std::collections::BTreeMap;

use super::addr::{buggy_count_v4, span, Addr, AddrRange, Family};
use super::error::AllocError;

/// One MetalLB address pool, independent of the configuration parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolSpec {
    /// The pool's name (`address-pools[].name`).
    pub name: String,
    /// The pool's addresses, in configuration order. A CIDR is its first..last address.
    pub ranges: Vec<AddrRange>,
    /// `avoid-buggy-ips`: never hand out IPv4 addresses ending in .0 or .255.
    pub avoid_buggy_ips: bool,
    /// `auto-assign` (default true): whether services without a pool annotation or a requested
    /// address may get addresses from this pool.
    pub auto_assign: bool,
}

impl PoolSpec {
    /// A pool with `auto-assign: true` and `avoid-buggy-ips: false`.
    pub fn new(name: impl Into<String>, ranges: Vec<AddrRange>) -> PoolSpec {
        PoolSpec {
            name: name.into(),
            ranges,
            avoid_buggy_ips: false,
            auto_assign: true,
        }
    }

    /// Builder: set `avoid-buggy-ips`.
    pub fn avoid_buggy_ips(mut self, yes: bool) -> PoolSpec {
        self.avoid_buggy_ips = yes;
        self
    }

    /// Builder: set `auto-assign`.
    pub fn auto_assign(mut self, yes: bool) -> PoolSpec {
        self.auto_assign = yes;
        self
    }

    /// The exact number of addresses this pool may hand out: every address in its ranges, less
    /// buggy ones under `avoid-buggy-ips`. Overlapping ranges are counted once. Saturates at
    /// `u128::MAX` (only for a pool holding all of IPv6).
    pub fn capacity(&self) -> Result<u128, AllocError> {
        Ok(Pool::new(self.clone())?.capacity)
    }
}

/// A validated pool plus its free-space index.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(crate) spec: PoolSpec,
    /// `(family, first, last)` per range, in configuration order.
    pub(crate) ranges: Vec<(Family, u128, u128)>,
    pub(crate) capacity: u128,
    /// Used addresses of this pool as maximal runs: start -> last (same family).
    runs: BTreeMap<Addr, u128>,
    /// How many addresses of this pool are in use.
    pub(crate) in_use: u128,
}

impl Pool {
    pub(crate) fn new(spec: PoolSpec) -> Result<Pool, AllocError> {
        if spec.name.is_empty() {
            return Err(AllocError::MissingPoolName);
        }
        let mut ranges = Vec::with_capacity(spec.ranges.len());
        for r in &spec.ranges {
            match r.bounds() {
                Some(b) => ranges.push(b),
                None => {
                    return Err(AllocError::InvalidRange {
                        pool: spec.name.clone(),
                        range: *r,
                    })
                }
            }
        }
        let capacity = exact_capacity(&ranges, spec.avoid_buggy_ips);
        Ok(Pool {
            spec,
            ranges,
            capacity,
            runs: BTreeMap::new(),
            in_use: 0,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.spec.name
    }

    fn avoid(&self, family: Family) -> bool {
        self.spec.avoid_buggy_ips && family == Family::V4
    }

    /// Whether the pool may hand out `a` (MetalLB's `poolFor` membership test).
    pub(crate) fn owns(&self, a: Addr) -> bool {
        if self.spec.avoid_buggy_ips && a.is_buggy() {
            return false;
        }
        self.ranges
            .iter()
            .any(|&(f, lo, hi)| f == a.family && lo <= a.value && a.value <= hi)
    }

    /// The pool-order position of `a`: (index of the first range holding it, address).
    pub(crate) fn position(&self, a: Addr) -> Option<(usize, u128)> {
        if self.spec.avoid_buggy_ips && a.is_buggy() {
            return None;
        }
        self.ranges
            .iter()
            .position(|&(f, lo, hi)| f == a.family && lo <= a.value && a.value <= hi)
            .map(|i| (i, a.value))
    }

    fn max_of(family: Family) -> u128 {
        match family {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    /// The next address after `x` this pool could hand out, ignoring range bounds.
    fn succ(&self, family: Family, x: u128) -> Option<u128> {
        let max = Self::max_of(family);
        let mut y = x;
        loop {
            if y >= max {
                return None;
            }
            y += 1;
            if !(self.avoid(family) && matches!(y & 0xff, 0 | 0xff)) {
                return Some(y);
            }
        }
    }

    /// The address before `x` this pool could hand out, ignoring range bounds.
    fn pred(&self, family: Family, x: u128) -> Option<u128> {
        let mut y = x;
        loop {
            if y == 0 {
                return None;
            }
            y -= 1;
            if !(self.avoid(family) && matches!(y & 0xff, 0 | 0xff)) {
                return Some(y);
            }
        }
    }

    /// The first eligible address >= x (ignoring range bounds).
    fn eligible_from(&self, family: Family, x: u128) -> Option<u128> {
        if self.avoid(family) && matches!(x & 0xff, 0 | 0xff) {
            self.succ(family, x)
        } else {
            Some(x)
        }
    }

    /// The run holding `a`, if `a` is in use in this pool.
    fn run_of(&self, a: Addr) -> Option<(Addr, u128)> {
        let (start, end) = self.runs.range(..=a).next_back()?;
        (start.family == a.family && a.value <= *end).then_some((*start, *end))
    }

    pub(crate) fn is_used(&self, a: Addr) -> bool {
        self.run_of(a).is_some()
    }

    /// Record `a` as used. Callers only pass addresses the pool owns.
    pub(crate) fn mark_used(&mut self, a: Addr) {
        if self.is_used(a) {
            return;
        }
        let f = a.family;
        let mut start = a.value;
        let mut end = a.value;
        if let Some(p) = self.pred(f, a.value) {
            if let Some((s, e)) = self.run_of(Addr {
                family: f,
                value: p,
            }) {
                if e == p {
                    self.runs.remove(&s);
                    start = s.value;
                }
            }
        }
        if let Some(n) = self.succ(f, a.value) {
            let key = Addr {
                family: f,
                value: n,
            };
            if let Some(e) = self.runs.remove(&key) {
                end = e;
            }
        }
        self.runs.insert(
            Addr {
                family: f,
                value: start,
            },
            end,
        );
        self.in_use += 1;
    }

    /// Record `a` as free again.
    pub(crate) fn mark_free(&mut self, a: Addr) {
        let Some((s, e)) = self.run_of(a) else {
            return;
        };
        let f = a.family;
        self.runs.remove(&s);
        if s.value < a.value {
            if let Some(p) = self.pred(f, a.value) {
                self.runs.insert(s, p);
            }
        }
        if a.value < e {
            if let Some(n) = self.succ(f, a.value) {
                self.runs.insert(
                    Addr {
                        family: f,
                        value: n,
                    },
                    e,
                );
            }
        }
        self.in_use = self.in_use.saturating_sub(1);
    }

    /// The first free address this pool may hand out within `lo..=hi`, in O(log n).
    pub(crate) fn first_free_in(&self, family: Family, lo: u128, hi: u128) -> Option<u128> {
        let mut x = self.eligible_from(family, lo)?;
        // At most two steps: past the run holding x, the next eligible address is free.
        for _ in 0..2 {
            if x > hi {
                return None;
            }
            match self.run_of(Addr { family, value: x }) {
                Some((_, e)) => x = self.succ(family, e)?,
                None => return Some(x),
            }
        }
        (x <= hi && !self.is_used(Addr { family, value: x })).then_some(x)
    }

    /// The first free address in pool order, optionally of one family.
    pub(crate) fn first_free(&self, family: Option<Family>) -> Option<((usize, u128), Addr)> {
        for (i, &(f, lo, hi)) in self.ranges.iter().enumerate() {
            if family.is_some_and(|want| want != f) {
                continue;
            }
            if let Some(v) = self.first_free_in(f, lo, hi) {
                return Some((
                    (i, v),
                    Addr {
                        family: f,
                        value: v,
                    },
                ));
            }
        }
        None
    }
}

/// The exact number of distinct addresses in `ranges` (less buggy ones under `avoid`).
fn exact_capacity(ranges: &[(Family, u128, u128)], avoid: bool) -> u128 {
    let mut sorted: Vec<(Family, u128, u128)> = ranges.to_vec();
    sorted.sort();
    let mut merged: Vec<(Family, u128, u128)> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match merged.last_mut() {
            Some(m) if m.0 == r.0 && r.1 <= m.2.saturating_add(1) => {
                m.2 = m.2.max(r.2);
            }
            _ => merged.push(r),
        }
    }
    merged
        .iter()
        .map(|&(f, lo, hi)| {
            let n = span(lo, hi);
            if avoid && f == Family::V4 {
                n - buggy_count_v4(lo, hi)
            } else {
                n
            }
        })
        .fold(0u128, |acc, n| acc.saturating_add(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> AddrRange {
        AddrRange::parse(s).unwrap()
    }

    fn a(s: &str) -> Addr {
        Addr::from_ip(s.parse().unwrap())
    }

    /// Mark the first `n` free addresses of the pool's first range used, one at a time.
    fn take_first_free(p: &mut Pool, n: usize) {
        let (family, lo, hi) = p.ranges[0];
        for _ in 0..n {
            let value = p.first_free_in(family, lo, hi).unwrap();
            p.mark_used(Addr { family, value });
        }
    }

    #[test]
    fn capacity_like_metallb_pool_count() {
        let p = PoolSpec::new("p", vec![range("1.2.3.0/24")]);
        assert_eq!(p.capacity().unwrap(), 256);
        let p = PoolSpec::new("p", vec![range("1.2.3.0/24"), range("2.3.4.128/25")]);
        assert_eq!(p.capacity().unwrap(), 384);
        assert_eq!(p.clone().avoid_buggy_ips(true).capacity().unwrap(), 381);
        // Exact where MetalLB's poolCount is off by one: a /32 at .0 holds no usable address.
        let p = PoolSpec::new("p", vec![range("1.2.3.0/32")]).avoid_buggy_ips(true);
        assert_eq!(p.capacity().unwrap(), 0);
        let p = PoolSpec::new("p", vec![range("2001:db8::/64")]).avoid_buggy_ips(true);
        assert_eq!(p.capacity().unwrap(), 1u128 << 64);
        let p = PoolSpec::new("p", vec![range("::/0")]);
        assert_eq!(p.capacity().unwrap(), u128::MAX);
        let p = PoolSpec::new("p", vec![range("10.0.0.0/15")]).avoid_buggy_ips(true);
        assert_eq!(p.capacity().unwrap(), 512 * 254);
    }

    #[test]
    fn runs_skip_buggy_addresses() {
        let mut p = Pool::new(PoolSpec::new("p", vec![range("10.0.0.0/23")]).avoid_buggy_ips(true))
            .unwrap();
        let (f, lo, hi) = p.ranges[0];
        take_first_free(&mut p, 254);
        assert_eq!(p.runs.len(), 1);
        let next = p.first_free_in(f, lo, hi).unwrap();
        assert_eq!(
            Addr {
                family: f,
                value: next
            },
            a("10.0.1.1")
        );
        p.mark_used(a("10.0.1.1"));
        assert_eq!(p.runs.len(), 1, "runs join across .255/.0");
        p.mark_free(a("10.0.0.7"));
        assert_eq!(p.runs.len(), 2);
        assert_eq!(p.first_free_in(f, lo, hi), Some(a("10.0.0.7").value));
        p.mark_used(a("10.0.0.7"));
        assert_eq!(p.runs.len(), 1);
        assert_eq!(p.in_use, 255);
    }

    #[test]
    fn ipv6_slash_64_is_not_enumerated() {
        let mut p = Pool::new(PoolSpec::new("v6", vec![range("2001:db8::/64")])).unwrap();
        let (f, lo, hi) = p.ranges[0];
        take_first_free(&mut p, 1000);
        assert_eq!(p.runs.len(), 1);
        assert_eq!(p.first_free_in(f, lo, hi), Some(lo + 1000));
    }

    #[test]
    fn top_of_address_space() {
        let mut p = Pool::new(PoolSpec::new("p", vec![range("255.255.255.254/31")])).unwrap();
        let (f, lo, hi) = p.ranges[0];
        p.mark_used(a("255.255.255.255"));
        p.mark_used(a("255.255.255.254"));
        assert_eq!(p.first_free_in(f, lo, hi), None);
        p.mark_free(a("255.255.255.255"));
        assert_eq!(p.first_free_in(f, lo, hi), Some(a("255.255.255.255").value));
    }
}
