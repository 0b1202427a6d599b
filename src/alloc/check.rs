//! The dry run as findings: run [`super::dryrun()`] for one configuration found in a file against
//! what a cluster runs now ([`Live`]), and turn each verdict into a diagnostic pointing into
//! the file (MLB080 and friends). Used by `validate --cluster | --assignments` and by
//! `install --config`, so both say the same thing.
//!
//! Pure: reading the cluster or an assignments file is `crate::kube::live`'s job; printing the
//! table is the CLI's.

use std::ops::Range;

use super::dryrun::LossCause;
use super::{dryrun, pool_specs, AllocError, PoolSpec, Report, ServiceInfo, SuggestedFix, Verdict};
use crate::config::report::Reporter;
use crate::config::{self, rule, FoundConfig, Options};
use crate::diag::{Diagnostic, SourceFile};

/// What the cluster runs now.
#[derive(Debug, Clone)]
pub struct Live {
    /// Pools of the running configuration; `None` when it is unknown (assignments file, no
    /// ConfigMap yet, or a running configuration that does not parse).
    pub running: Option<Vec<PoolSpec>>,
    pub services: Vec<ServiceInfo>,
    /// For headings: `the cluster (ConfigMap metallb-system/config)` or the file name.
    pub described: String,
}

/// The pools of a running configuration body, when it lints without errors.
pub fn running_pools(text: &str, options: &Options) -> Option<Vec<PoolSpec>> {
    let (config, diagnostics) = config::lint_body_text("running", text, options);
    let clean = diagnostics.iter().all(|d| !d.is_error());
    config.filter(|_| clean).map(|c| pool_specs(&c))
}

/// The dry run of one configuration could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The configuration's pools cannot be built (overlapping or malformed ranges).
    #[error("the configuration's pools cannot be used")]
    Pools(#[source] AllocError),
}

/// Dry-run one configuration found in `file`; returns the findings and the report.
pub fn check(
    found: &FoundConfig,
    file: &SourceFile,
    live: &Live,
) -> Result<(Vec<Diagnostic>, Report), CheckError> {
    let pools = pool_specs(&found.config);
    let report =
        dryrun(live.running.as_deref(), &pools, &live.services).map_err(CheckError::Pools)?;
    let mut reporter = Reporter::new(file);
    let start = found.config.span.start..found.config.span.start;
    for verdict in &report.services {
        let service = format!("{}/{}", verdict.namespace, verdict.name);
        match &verdict.verdict {
            Verdict::Loses {
                ip,
                message,
                cause,
                suggested_fix,
            } => {
                let span = loss_span(found, cause);
                let d = reporter.report(
                    rule::SERVICE_LOSES_IP,
                    span,
                    format!("configuration rejected: {message}"),
                );
                d.with_label(format!("{service} holds {ip}: {cause}"));
                let help = match suggested_fix {
                    SuggestedFix::SetLoadBalancerIp { ip: new, .. } => format!(
                        "move the service first: {suggested_fix} (kubectl patch service {} -n {} -p '{{\"spec\":{{\"loadBalancerIP\":\"{new}\"}}}}'), then apply this configuration",
                        verdict.name, verdict.namespace
                    ),
                    other => other.to_string(),
                };
                d.with_help(help);
            }
            Verdict::Moves {
                ip,
                from_pool,
                to_pool,
            } => {
                reporter.report(
                    rule::SERVICE_MOVES_POOL,
                    start.clone(),
                    format!("service {service:?} keeps {ip}, which moves from pool {from_pool:?} to {to_pool:?}"),
                );
            }
            Verdict::PendingNowAllocatable { ip, pool } => {
                reporter.report(
                    rule::PENDING_NOW_ALLOCATABLE,
                    start.clone(),
                    format!("pending service {service:?} would get {ip} from pool {pool:?}"),
                );
            }
            Verdict::PendingStill { reason } => {
                reporter.report(
                    rule::SERVICE_STAYS_PENDING,
                    start.clone(),
                    format!("service {service:?} would still get no address: {reason}"),
                );
            }
            Verdict::Keeps { .. } => {}
        }
    }
    Ok((reporter.diagnostics, report))
}

/// Point a loss at what causes it: the `avoid-buggy-ips` that now excludes the address, else the
/// start of the configuration.
fn loss_span(found: &FoundConfig, cause: &LossCause) -> Range<usize> {
    if let LossCause::BuggyIpAvoided { pools } = cause {
        let flag = found
            .config
            .pools
            .iter()
            .filter(|p| pools.iter().any(|n| n == p.name_str()))
            .find_map(|p| p.avoid_buggy_ips.as_ref());
        if let Some(flag) = flag {
            return flag.span.clone();
        }
    }
    found.config.span.start..found.config.span.start
}
