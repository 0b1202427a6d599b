//! MetalLB's controller allocator (v0.6.2 semantics, pools tried in configuration order): assign
//! a requested address, allocate from one pool or from the auto-assign pools, share addresses
//! under `allow-shared-ip`, and check a new configuration against the current assignments
//! (`SetPools`). Pure state; the O(log n) search lives in [`super::pool`].

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use super::addr::{Addr, Family};
use super::error::{AllocError, SharingConflict};
use super::pool::{Pool, PoolSpec};
use super::service::{Port, ServiceInfo, ShareRequest};

/// (sharing key, backend key).
type ShareKey = (String, String);

#[derive(Debug, Clone)]
struct Allocation {
    ip: Addr,
    /// The owning pool's name; `None` for a restored address no pool owns.
    pool: Option<String>,
}

impl Allocation {
    /// The public view of this allocation, held by `service`.
    fn assignment(&self, service: &str) -> Assignment {
        Assignment {
            service: service.to_string(),
            ip: self.ip.to_ip(),
            pool: self.pool.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct IpUse {
    /// The key of the last service assigned here (MetalLB's `sharingKeyForIP`).
    key: ShareKey,
    services: BTreeSet<String>,
    ports: HashMap<Port, String>,
}

/// One service's assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// `namespace/name`.
    pub service: String,
    /// The address.
    pub ip: IpAddr,
    /// The pool that owns it, if any.
    pub pool: Option<String>,
}

/// A pool's size and use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// The pool's name.
    pub name: String,
    /// Addresses it may hand out (exact; `u128` for IPv6).
    pub capacity: u128,
    /// Addresses of it in use (a shared address counts once).
    pub in_use: u128,
}

/// The allocator: pools in configuration order plus every service's assignment.
#[derive(Debug, Clone, Default)]
pub struct Allocator {
    pools: Vec<Pool>,
    by_name: HashMap<String, usize>,
    allocated: HashMap<String, Allocation>,
    ips: HashMap<Addr, IpUse>,
    /// Addresses in use by sharing key, for services that may join them.
    shared: HashMap<ShareKey, BTreeSet<Addr>>,
}

fn build_pools(specs: Vec<PoolSpec>) -> Result<(Vec<Pool>, HashMap<String, usize>), AllocError> {
    let mut pools = Vec::with_capacity(specs.len());
    let mut by_name = HashMap::with_capacity(specs.len());
    for spec in specs {
        let pool = Pool::new(spec)?;
        if by_name
            .insert(pool.name().to_string(), pools.len())
            .is_some()
        {
            return Err(AllocError::DuplicatePool {
                name: pool.name().to_string(),
            });
        }
        pools.push(pool);
    }
    Ok((pools, by_name))
}

fn sharing_ok(existing: &ShareKey, new: &ShareKey) -> Result<(), SharingConflict> {
    if existing.0.is_empty() {
        return Err(SharingConflict::ExistingDoesNotAllow);
    }
    if new.0.is_empty() {
        return Err(SharingConflict::NewDoesNotAllow);
    }
    if existing.0 != new.0 {
        return Err(SharingConflict::SharingKey {
            new: new.0.clone(),
            existing: existing.0.clone(),
        });
    }
    if existing.1 != new.1 {
        return Err(SharingConflict::BackendKey {
            new: new.1.clone(),
            existing: existing.1.clone(),
        });
    }
    Ok(())
}

fn key_of(req: &ShareRequest) -> ShareKey {
    (req.sharing_key.clone(), req.backend_key.clone())
}

impl Allocator {
    /// An allocator over `pools` (configuration order), with nothing assigned.
    pub fn new(pools: Vec<PoolSpec>) -> Result<Allocator, AllocError> {
        let (pools, by_name) = build_pools(pools)?;
        Ok(Allocator {
            pools,
            by_name,
            ..Allocator::default()
        })
    }

    /// The pools, in configuration order.
    pub fn pools(&self) -> impl Iterator<Item = &PoolSpec> {
        self.pools.iter().map(|p| &p.spec)
    }

    /// Size and use of every pool, in configuration order.
    pub fn stats(&self) -> Vec<PoolStats> {
        self.pools
            .iter()
            .map(|p| PoolStats {
                name: p.name().to_string(),
                capacity: p.capacity,
                in_use: p.in_use,
            })
            .collect()
    }

    /// The first pool (configuration order) that may hand out `ip`: MetalLB's `poolFor`.
    pub fn pool_for(&self, ip: IpAddr) -> Option<&str> {
        pool_for(&self.pools, Addr::from_ip(ip))
    }

    /// The address assigned to `service` (`namespace/name`).
    pub fn ip(&self, service: &str) -> Option<IpAddr> {
        self.allocated.get(service).map(|a| a.ip.to_ip())
    }

    /// The pool owning `service`'s address.
    pub fn pool(&self, service: &str) -> Option<&str> {
        self.allocated.get(service).and_then(|a| a.pool.as_deref())
    }

    /// The services on `ip`, sorted.
    pub fn services_on(&self, ip: IpAddr) -> Vec<&str> {
        self.ips
            .get(&Addr::from_ip(ip))
            .map(|u| u.services.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Every assignment, sorted by service.
    pub fn assignments(&self) -> Vec<Assignment> {
        let mut v: Vec<Assignment> = self
            .allocated
            .iter()
            .map(|(s, a)| a.assignment(s))
            .collect();
        v.sort_by(|a, b| a.service.cmp(&b.service));
        v
    }

    /// How many services hold an address.
    pub fn len(&self) -> usize {
        self.allocated.len()
    }

    /// Whether no service holds an address.
    pub fn is_empty(&self) -> bool {
        self.allocated.is_empty()
    }

    /// Every assignment the configuration `pools` could not own, sorted by service: the
    /// services MetalLB's `SetPools` would name. Only membership counts, as in MetalLB.
    pub fn incompatible(&self, pools: &[PoolSpec]) -> Result<Vec<Assignment>, AllocError> {
        let (new_pools, _) = build_pools(pools.to_vec())?;
        Ok(self.unowned_by(&new_pools))
    }

    /// Every assignment that no pool of `pools` owns, sorted by service.
    fn unowned_by(&self, pools: &[Pool]) -> Vec<Assignment> {
        let mut out: Vec<Assignment> = self
            .allocated
            .iter()
            .filter(|(_, a)| pool_for(pools, a.ip).is_none())
            .map(|(s, a)| a.assignment(s))
            .collect();
        out.sort_by(|a, b| a.service.cmp(&b.service));
        out
    }

    /// MetalLB's `SetPools`: accept the new pools only if every assigned address stays in some
    /// pool; then re-home assignments whose owning pool changed (renamed or split pools). On
    /// error nothing changes; the error names the first incompatible service by name.
    pub fn set_pools(&mut self, pools: Vec<PoolSpec>) -> Result<(), AllocError> {
        let (new_pools, by_name) = build_pools(pools)?;
        let mut first: Option<(&String, Addr)> = None;
        for (svc, a) in &self.allocated {
            if pool_for(&new_pools, a.ip).is_none() && first.is_none_or(|(s, _)| svc < s) {
                first = Some((svc, a.ip));
            }
        }
        if let Some((svc, ip)) = first {
            return Err(AllocError::Incompatible {
                service: svc.clone(),
                ip: ip.to_ip(),
            });
        }
        self.install_pools(new_pools, by_name);
        Ok(())
    }

    /// Like [`Allocator::set_pools`], but accept the configuration regardless and clear the
    /// assignments it cannot own (MetalLB v0.14 behaviour). Returns the cleared assignments.
    pub fn set_pools_clearing(
        &mut self,
        pools: Vec<PoolSpec>,
    ) -> Result<Vec<Assignment>, AllocError> {
        let (new_pools, by_name) = build_pools(pools)?;
        let lost = self.unowned_by(&new_pools);
        for l in &lost {
            self.unassign(&l.service);
        }
        self.install_pools(new_pools, by_name);
        Ok(lost)
    }

    fn install_pools(&mut self, new_pools: Vec<Pool>, by_name: HashMap<String, usize>) {
        self.pools = new_pools;
        self.by_name = by_name;
        for a in self.allocated.values_mut() {
            a.pool = pool_for(&self.pools, a.ip).map(str::to_string);
        }
        for addr in self.ips.keys() {
            for p in &mut self.pools {
                if p.owns(*addr) {
                    p.mark_used(*addr);
                }
            }
        }
    }

    /// Check whether `service` may take `ip` with `req`, without changing anything.
    fn check(&self, service: &str, a: Addr, req: &ShareRequest) -> Result<(), AllocError> {
        if let Some(usage) = self.ips.get(&a) {
            if let Err(conflict) = sharing_ok(&usage.key, &key_of(req)) {
                let others: Vec<String> = usage
                    .services
                    .iter()
                    .filter(|s| s.as_str() != service)
                    .cloned()
                    .collect();
                if !others.is_empty() {
                    return Err(AllocError::CannotShare {
                        service: service.to_string(),
                        others,
                        conflict,
                    });
                }
            }
            for port in &req.ports {
                if let Some(owner) = usage.ports.get(port) {
                    if owner != service {
                        return Err(AllocError::PortInUse {
                            port: *port,
                            ip: a.to_ip(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// MetalLB's `Assign`: give `ip` to `service` if a pool owns it and sharing allows it. An
    /// existing assignment of `service` is replaced; re-assigning the same address is a no-op
    /// apart from updating ports and keys.
    pub fn assign(
        &mut self,
        service: &str,
        ip: IpAddr,
        req: &ShareRequest,
    ) -> Result<(), AllocError> {
        let a = Addr::from_ip(ip);
        let Some(pool) = pool_for(&self.pools, a).map(str::to_string) else {
            return Err(AllocError::NotAllowed { ip });
        };
        self.check(service, a, req)?;
        self.commit(service, a, Some(pool), req);
        Ok(())
    }

    /// Record that `service` holds `ip`, without checking pools or sharing: for rebuilding
    /// state from live services when the running configuration is unknown.
    pub fn restore(&mut self, service: &str, ip: IpAddr, req: &ShareRequest) {
        let a = Addr::from_ip(ip);
        let pool = pool_for(&self.pools, a).map(str::to_string);
        self.commit(service, a, pool, req);
    }

    fn commit(&mut self, service: &str, a: Addr, pool: Option<String>, req: &ShareRequest) {
        self.unassign(service);
        let key = key_of(req);
        let fresh = !self.ips.contains_key(&a);
        let usage = self.ips.entry(a).or_default();
        if !fresh && usage.key != key && !usage.key.0.is_empty() {
            if let Some(set) = self.shared.get_mut(&usage.key) {
                set.remove(&a);
                if set.is_empty() {
                    self.shared.remove(&usage.key);
                }
            }
        }
        usage.key = key.clone();
        usage.services.insert(service.to_string());
        for port in &req.ports {
            usage.ports.insert(*port, service.to_string());
        }
        if !key.0.is_empty() {
            self.shared.entry(key).or_default().insert(a);
        }
        if fresh {
            for p in &mut self.pools {
                if p.owns(a) {
                    p.mark_used(a);
                }
            }
        }
        self.allocated
            .insert(service.to_string(), Allocation { ip: a, pool });
    }

    /// Free `service`'s address. Returns whether it had one.
    pub fn unassign(&mut self, service: &str) -> bool {
        let Some(al) = self.allocated.remove(service) else {
            return false;
        };
        let a = al.ip;
        let mut now_free = false;
        if let Some(usage) = self.ips.get_mut(&a) {
            usage.services.remove(service);
            usage.ports.retain(|_, owner| owner != service);
            now_free = usage.services.is_empty();
        }
        if now_free {
            if let Some(usage) = self.ips.remove(&a) {
                if let Some(set) = self.shared.get_mut(&usage.key) {
                    set.remove(&a);
                    if set.is_empty() {
                        self.shared.remove(&usage.key);
                    }
                }
            }
            for p in &mut self.pools {
                if p.owns(a) {
                    p.mark_free(a);
                }
            }
        }
        true
    }

    /// The first address of pool `idx` in pool order that `service` may take: a free one, or
    /// one already shared under the same keys without a port clash.
    fn first_candidate(
        &self,
        idx: usize,
        service: &str,
        family: Option<Family>,
        req: &ShareRequest,
    ) -> Option<Addr> {
        let pool = self.pools.get(idx)?;
        let mut best = pool.first_free(family);
        if !req.sharing_key.is_empty() {
            if let Some(set) = self.shared.get(&key_of(req)) {
                for &a in set {
                    if family.is_some_and(|f| f != a.family) {
                        continue;
                    }
                    let Some(pos) = pool.position(a) else {
                        continue;
                    };
                    if best.is_some_and(|(b, _)| b <= pos) {
                        continue;
                    }
                    if self.check(service, a, req).is_ok() {
                        best = Some((pos, a));
                    }
                }
            }
        }
        best.map(|(_, a)| a)
    }

    /// MetalLB's `AllocateFromPool`: keep `service`'s current address if it still may, else
    /// take the first address of `pool` (configuration order, ascending, skipping buggy IPs
    /// under `avoid-buggy-ips`) it may have. Works for `auto-assign: false` pools.
    pub fn allocate_from_pool(
        &mut self,
        service: &str,
        pool: &str,
        family: Option<Family>,
        req: &ShareRequest,
    ) -> Result<IpAddr, AllocError> {
        if let Some(ip) = self.keep_current(service, req)? {
            return Ok(ip);
        }
        let Some(&idx) = self.by_name.get(pool) else {
            return Err(AllocError::UnknownPool {
                pool: pool.to_string(),
            });
        };
        self.allocate_in(idx, service, family, req)
    }

    /// Re-assign `service`'s current address, if it has one (MetalLB keeps it when allowed).
    fn keep_current(
        &mut self,
        service: &str,
        req: &ShareRequest,
    ) -> Result<Option<IpAddr>, AllocError> {
        let current = self.ip(service);
        if let Some(ip) = current {
            self.assign(service, ip, req)?;
        }
        Ok(current)
    }

    fn allocate_in(
        &mut self,
        idx: usize,
        service: &str,
        family: Option<Family>,
        req: &ShareRequest,
    ) -> Result<IpAddr, AllocError> {
        let pool_name = self.pools.get(idx).map(|p| p.name().to_string());
        if let Some(a) = self.first_candidate(idx, service, family, req) {
            let ip = a.to_ip();
            self.check(service, a, req)?;
            self.commit(
                service,
                a,
                pool_for(&self.pools, a).map(str::to_string),
                req,
            );
            return Ok(ip);
        }
        Err(AllocError::PoolExhausted {
            pool: pool_name.unwrap_or_default(),
        })
    }

    /// MetalLB's `Allocate`: keep `service`'s current address if it still may, else try every
    /// `auto-assign` pool in configuration order.
    pub fn allocate(
        &mut self,
        service: &str,
        family: Option<Family>,
        req: &ShareRequest,
    ) -> Result<IpAddr, AllocError> {
        if let Some(ip) = self.keep_current(service, req)? {
            return Ok(ip);
        }
        for idx in 0..self.pools.len() {
            if !self.pools[idx].spec.auto_assign {
                continue;
            }
            if let Ok(ip) = self.allocate_in(idx, service, family, req) {
                return Ok(ip);
            }
        }
        Err(AllocError::NoAvailableIps)
    }

    /// What MetalLB's controller does for one service (`convergeBalancer`): a service that is not
    /// `LoadBalancer` loses its address; a current address (the one ingress IP, else the one
    /// recorded here) is kept if still allowed and not contradicted by `spec.loadBalancerIP`;
    /// otherwise `spec.loadBalancerIP`, else the `address-pool` annotation, else the auto-assign
    /// pools. Returns the address the service ends up with.
    pub fn converge(&mut self, svc: &ServiceInfo) -> Result<Option<IpAddr>, AllocError> {
        let key = svc.key();
        if !svc.is_load_balancer() {
            self.unassign(&key);
            return Ok(None);
        }
        let req = svc.share_request();
        let mut current = svc.current_ip().or_else(|| self.ip(&key));
        if let Some(ip) = current {
            if self.assign(&key, ip, &req).is_err() {
                self.unassign(&key);
                current = None;
            }
        }
        if let (Some(ip), Some(want)) = (current, svc.load_balancer_ip.as_deref()) {
            if want.trim().parse::<IpAddr>().ok() != Some(ip) {
                self.unassign(&key);
                current = None;
            }
        }
        if current.is_some() {
            return Ok(current);
        }
        let ip = if let Some(want) = svc.load_balancer_ip.as_deref() {
            let ip: IpAddr =
                want.trim()
                    .parse()
                    .map_err(|_| AllocError::InvalidLoadBalancerIp {
                        value: want.to_string(),
                    })?;
            self.assign(&key, ip, &req)?;
            ip
        } else if let Some(pool) = svc.address_pool.as_deref() {
            self.allocate_from_pool(&key, pool, svc.ip_family, &req)?
        } else {
            self.allocate(&key, svc.ip_family, &req)?
        };
        Ok(Some(ip))
    }

    /// Allocate for `service` from the given pools (by index order given), first fit. Used by
    /// the dry run's fix suggestions.
    pub(crate) fn allocate_from_any(
        &mut self,
        service: &str,
        pools: &[usize],
        family: Option<Family>,
        req: &ShareRequest,
    ) -> Option<(IpAddr, String)> {
        for &idx in pools {
            if let Ok(ip) = self.allocate_in(idx, service, family, req) {
                let pool = self.pool(service).unwrap_or_default().to_string();
                return Some((ip, pool));
            }
        }
        None
    }

    pub(crate) fn pool_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn pool_count(&self) -> usize {
        self.pools.len()
    }

    pub(crate) fn pool_auto_assign(&self, idx: usize) -> bool {
        self.pools.get(idx).is_some_and(|p| p.spec.auto_assign)
    }

    /// Internal consistency, for tests: indexes agree with assignments.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        for (svc, a) in &self.allocated {
            let u = self.ips.get(&a.ip).expect("ip use");
            assert!(u.services.contains(svc));
        }
        for (addr, u) in &self.ips {
            assert!(!u.services.is_empty());
            for p in &self.pools {
                assert_eq!(p.is_used(*addr), p.owns(*addr), "index for {addr:?}");
            }
        }
        for p in &self.pools {
            let used = self.ips.keys().filter(|a| p.owns(**a)).count() as u128;
            assert_eq!(p.in_use, used);
        }
    }
}

fn pool_for(pools: &[Pool], a: Addr) -> Option<&str> {
    pools.iter().find(|p| p.owns(a)).map(|p| p.name())
}
