//! The `validate` dry run: given the running pools (if known), a new configuration's pools and
//! the cluster's services, say per `LoadBalancer` service what applying the new configuration
//! would do (keeps, moves pool, loses its address, pending and now allocatable, still pending),
//! whether MetalLB would accept the configuration at all, and, for every service that would lose
//! its address, a concrete fix. Pure data (serde `Serialize`); rendering is the caller's job.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::addr::{is_buggy, Family};
use super::allocator::{Allocator, PoolStats};
use super::error::AllocError;
use super::pool::PoolSpec;
use super::service::ServiceInfo;

/// The dry run's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether MetalLB would accept the new configuration (always, under
    /// [`Semantics::Reallocate`]).
    pub accepted: bool,
    /// When rejected: MetalLB's message, naming the first incompatible service by
    /// `namespace/name` (MetalLB names an arbitrary one; every one is in `services`).
    pub rejection: Option<String>,
    /// One verdict per `LoadBalancer` service, sorted by namespace, then name.
    pub services: Vec<ServiceVerdict>,
    /// Services of other types, left out of the verdicts.
    pub skipped: usize,
    /// The new configuration's pools after the change (with the suggested fixes, or the
    /// re-allocations, and the pending allocations applied), in configuration order.
    pub pools: Vec<PoolStats>,
}

impl Report {
    /// Whether any service would lose its address (rejected, or re-allocated from v0.14).
    pub fn has_losses(&self) -> bool {
        self.services.iter().any(|s| {
            matches!(
                s.verdict,
                Verdict::Loses { .. } | Verdict::Reallocated { .. }
            )
        })
    }
}

/// One service's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceVerdict {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// What the new configuration does to it.
    pub verdict: Verdict,
}

/// What a new configuration does to one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Keeps its address, in the same pool (or the running pool is unknown).
    Keeps {
        /// The address.
        ip: IpAddr,
        /// The pool owning it under the new configuration.
        pool: String,
    },
    /// Keeps its address, which now belongs to another pool (renamed or split pools).
    Moves {
        /// The address.
        ip: IpAddr,
        /// The owning pool under the running configuration.
        from_pool: String,
        /// The owning pool under the new configuration.
        to_pool: String,
    },
    /// The new configuration cannot own the service's address: MetalLB rejects it.
    Loses {
        /// The address.
        ip: IpAddr,
        /// MetalLB's message for this service.
        message: String,
        /// Why the address is not allowed.
        cause: LossCause,
        /// What to change so that the configuration is accepted.
        suggested_fix: SuggestedFix,
    },
    /// Has no address now, and would get one under the new configuration.
    PendingNowAllocatable {
        /// The address it would get.
        ip: IpAddr,
        /// The pool it would come from.
        pool: String,
    },
    /// Has no address now, and would still get none.
    PendingStill {
        /// MetalLB's allocation error.
        reason: String,
    },
    /// From v0.14: MetalLB applies the configuration and takes the service's address away; the
    /// controller allocates it another one (or none). Its EXTERNAL-IP changes.
    Reallocated {
        /// The address it holds now and loses.
        ip: IpAddr,
        /// Why the address is not allowed any more.
        cause: LossCause,
        /// The address the controller would give it instead, and its pool; `None` when none is
        /// free for it (it goes `<pending>`).
        new_ip: Option<IpAddr>,
        /// The pool `new_ip` comes from.
        pool: Option<String>,
        /// MetalLB's allocation error when `new_ip` is `None`.
        reason: Option<String>,
    },
}

/// What MetalLB does with a configuration that takes addresses away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Semantics {
    /// Up to v0.13: it rejects the configuration and keeps running the old one.
    Reject,
    /// From v0.14: it applies the configuration and re-allocates the services that lost their
    /// address.
    Reallocate,
}

/// Why a new configuration cannot own an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LossCause {
    /// The address is in these pools' ranges, but they set `avoid-buggy-ips` and it ends in .0
    /// or .255.
    BuggyIpAvoided {
        /// The pools whose ranges hold the address.
        pools: Vec<String>,
    },
    /// No pool's ranges hold the address.
    NotInAnyPool,
}

impl fmt::Display for LossCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LossCause::BuggyIpAvoided { pools } => write!(
                f,
                "the address ends in .0 or .255 and pool {} sets avoid-buggy-ips",
                pools.join(", ")
            ),
            LossCause::NotInAnyPool => {
                f.write_str("no pool in the new configuration holds the address")
            }
        }
    }
}

/// A concrete change that keeps a service working under the new configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fix", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuggestedFix {
    /// Pin the service to an address the new configuration allows: the first free one (in the
    /// annotated pool if any, else the auto-assign pools, else any pool, in configuration order).
    SetLoadBalancerIp {
        /// The address to set.
        ip: IpAddr,
        /// The pool it belongs to.
        pool: String,
    },
    /// No address is available for the service under the new configuration.
    NoAddress {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for SuggestedFix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuggestedFix::SetLoadBalancerIp { ip, .. } => {
                write!(f, "set spec.loadBalancerIP: {ip}")
            }
            SuggestedFix::NoAddress { reason } => {
                write!(
                    f,
                    "no address is free for this service under the new config: {reason}"
                )
            }
        }
    }
}

/// Run the dry run. `running` is the configuration MetalLB runs now (`None` when unknown: every
/// current ingress address then counts as held, and no verdict says `Moves`). Services may be
/// of any type; only `LoadBalancer` ones get verdicts. Fails only on invalid pool lists
/// (duplicate names, reversed ranges). MetalLB's v0.6 to v0.13 semantics: a configuration that
/// takes an address away is rejected ([`Semantics::Reject`]).
pub fn dryrun(
    running: Option<&[PoolSpec]>,
    new: &[PoolSpec],
    services: &[ServiceInfo],
) -> Result<Report, AllocError> {
    dryrun_with(running, new, services, Semantics::Reject)
}

/// [`dryrun`] with the given release semantics. Under [`Semantics::Reallocate`] the
/// configuration is always accepted; every service that loses its address gets
/// [`Verdict::Reallocated`] with the address the controller would give it (services that lost
/// an address first, by namespace and name, then the pending ones).
pub fn dryrun_with(
    running: Option<&[PoolSpec]>,
    new: &[PoolSpec],
    services: &[ServiceInfo],
    semantics: Semantics,
) -> Result<Report, AllocError> {
    let reallocate = semantics == Semantics::Reallocate;
    let mut lbs: Vec<&ServiceInfo> = services.iter().filter(|s| s.is_load_balancer()).collect();
    let skipped = services.len() - lbs.len();
    lbs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    lbs.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);

    // The state MetalLB holds now.
    let mut current = Allocator::new(running.map(<[PoolSpec]>::to_vec).unwrap_or_default())?;
    for svc in &lbs {
        let Some(ip) = svc.current_ip() else { continue };
        if running.is_some() && current.pool_for(ip).is_none() {
            // The controller would clear an address its running config does not allow.
            continue;
        }
        current.restore(&svc.key(), ip, &svc.share_request());
    }

    // Apply the new pools; MetalLB rejects the whole config if any address is lost.
    let mut next = current.clone();
    let lost = next.set_pools_clearing(new.to_vec())?;
    let accepted = lost.is_empty() || reallocate;
    let rejection = lost.first().filter(|_| !reallocate).map(|l| {
        AllocError::Incompatible {
            service: l.service.clone(),
            ip: l.ip,
        }
        .to_string()
    });

    let lost_by_service: HashMap<&str, IpAddr> =
        lost.iter().map(|l| (l.service.as_str(), l.ip)).collect();
    let new_alloc = Allocator::new(new.to_vec())?;
    let mut verdicts: Vec<ServiceVerdict> = Vec::with_capacity(lbs.len());
    let mut pending: Vec<(usize, &ServiceInfo)> = Vec::new();
    let mut reallocated: Vec<(usize, &ServiceInfo, IpAddr)> = Vec::new();
    for svc in &lbs {
        let key = svc.key();
        let verdict =
            if let (true, Some(&lost_ip)) = (reallocate, lost_by_service.get(key.as_str())) {
                reallocated.push((verdicts.len(), svc, lost_ip));
                Verdict::PendingStill {
                    reason: String::new(),
                }
            } else if let Some(&lost_ip) = lost_by_service.get(key.as_str()) {
                let message = AllocError::Incompatible {
                    service: key.clone(),
                    ip: lost_ip,
                }
                .to_string();
                let cause = loss_cause(&new_alloc, new, lost_ip);
                let suggested_fix = suggest_fix(&mut next, svc, lost_ip);
                Verdict::Loses {
                    ip: lost_ip,
                    message,
                    cause,
                    suggested_fix,
                }
            } else if let Some(ip) = next.ip(&key) {
                let to_pool = next.pool(&key).unwrap_or_default().to_string();
                match (running.is_some(), current.pool(&key)) {
                    (true, Some(from)) if from != to_pool => Verdict::Moves {
                        ip,
                        from_pool: from.to_string(),
                        to_pool,
                    },
                    _ => Verdict::Keeps { ip, pool: to_pool },
                }
            } else {
                pending.push((verdicts.len(), svc));
                Verdict::PendingStill {
                    reason: String::new(),
                }
            };
        verdicts.push(ServiceVerdict {
            namespace: svc.namespace.clone(),
            name: svc.name.clone(),
            verdict,
        });
    }

    // From v0.14 the controller re-allocates the services that lost their address.
    for (i, svc, lost_ip) in reallocated {
        let mut fresh = (*svc).clone();
        fresh.ingress_ips.clear();
        let cause = loss_cause(&new_alloc, new, lost_ip);
        let (new_ip, pool, reason) = match next.converge(&fresh) {
            Ok(Some(ip)) => (Some(ip), next.pool(&svc.key()).map(str::to_string), None),
            Ok(None) => (None, None, Some("not a LoadBalancer service".to_string())),
            Err(e) => (None, None, Some(e.to_string())),
        };
        if let Some(v) = verdicts.get_mut(i) {
            v.verdict = Verdict::Reallocated {
                ip: lost_ip,
                cause,
                new_ip,
                pool,
                reason,
            };
        }
    }

    // Pending services, after the fixes: what the controller would do under the new config.
    for (i, svc) in pending {
        let mut fresh = (*svc).clone();
        fresh.ingress_ips.clear();
        let verdict = match next.converge(&fresh) {
            Ok(Some(ip)) => Verdict::PendingNowAllocatable {
                ip,
                pool: next.pool(&svc.key()).unwrap_or_default().to_string(),
            },
            Ok(None) => Verdict::PendingStill {
                reason: "not a LoadBalancer service".to_string(),
            },
            Err(e) => Verdict::PendingStill {
                reason: e.to_string(),
            },
        };
        if let Some(v) = verdicts.get_mut(i) {
            v.verdict = verdict;
        }
    }

    Ok(Report {
        accepted,
        rejection,
        services: verdicts,
        skipped,
        pools: next.stats(),
    })
}

fn loss_cause(new_alloc: &Allocator, new: &[PoolSpec], ip: IpAddr) -> LossCause {
    let holders: Vec<String> = new
        .iter()
        .filter(|p| p.ranges.iter().any(|r| r.contains(ip)))
        .map(|p| p.name.clone())
        .collect();
    if !holders.is_empty() && is_buggy(ip) && new_alloc.pool_for(ip).is_none() {
        LossCause::BuggyIpAvoided { pools: holders }
    } else {
        LossCause::NotInAnyPool
    }
}

/// The first address the new configuration allows for `svc`, respecting its pool annotation,
/// sharing and the other assignments; recorded in `next` so later fixes do not collide.
fn suggest_fix(next: &mut Allocator, svc: &ServiceInfo, lost_ip: IpAddr) -> SuggestedFix {
    let key = svc.key();
    let family = Some(svc.ip_family.unwrap_or(Family::of(lost_ip)));
    let order: Vec<usize> = match svc.address_pool.as_deref() {
        Some(name) => match next.pool_index(name) {
            Some(idx) => vec![idx],
            None => {
                return SuggestedFix::NoAddress {
                    reason: AllocError::UnknownPool {
                        pool: name.to_string(),
                    }
                    .to_string(),
                }
            }
        },
        None => {
            let n = next.pool_count();
            let auto = (0..n).filter(|&i| next.pool_auto_assign(i));
            let manual = (0..n).filter(|&i| !next.pool_auto_assign(i));
            auto.chain(manual).collect()
        }
    };
    match next.allocate_from_any(&key, &order, family, &svc.share_request()) {
        Some((ip, pool)) => SuggestedFix::SetLoadBalancerIp { ip, pool },
        None => SuggestedFix::NoAddress {
            reason: match svc.address_pool.as_deref() {
                Some(p) => AllocError::PoolExhausted {
                    pool: p.to_string(),
                }
                .to_string(),
                None => AllocError::NoAvailableIps.to_string(),
            },
        },
    }
}
