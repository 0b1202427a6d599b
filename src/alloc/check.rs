//! The dry run as findings: run [`super::dryrun()`] for one configuration found in a file against
//! what a cluster runs now ([`Live`]), and turn each verdict into a diagnostic pointing into
//! the file (MLB080 and friends). Used by `validate --cluster | --assignments` and by
//! `install --config`, so both say the same thing.
//!
//! Pure: reading the cluster or an assignments file is `crate::kube::live`'s job; printing the
//! table is the CLI's.

use std::ops::Range;

use super::dryrun::LossCause;
use super::{
    dryrun_with, pool_specs, AllocError, PoolSpec, Report, Semantics, ServiceInfo, SuggestedFix,
    Verdict,
};
use crate::config::model::Config;
use crate::config::report::Reporter;
use crate::config::{self, rule, FoundConfig, Options};
use crate::diag::{Diagnostic, Severity, SourceFile};

/// What the cluster runs now.
#[derive(Debug, Clone)]
pub struct Live {
    /// Pools of the running configuration; `None` when it is unknown (assignments file, no
    /// ConfigMap yet, or a running configuration that does not parse).
    pub running: Option<Vec<PoolSpec>>,
    /// Pools of the running custom resources (the cluster's IPAddressPools); `None` when they
    /// are unknown (assignments file, or no IPAddressPool CRD served).
    pub running_crds: Option<Vec<PoolSpec>>,
    pub services: Vec<ServiceInfo>,
    /// For headings: `the cluster (ConfigMap metallb-system/config)` or the file name.
    pub described: String,
    /// For the headings of the custom resources' dry run: `the cluster (IPAddressPools in
    /// metallb-system)` or the file name.
    pub described_crds: String,
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

/// Dry-run one ConfigMap configuration found in `file`; returns the findings and the report.
pub fn check(
    found: &FoundConfig,
    file: &SourceFile,
    live: &Live,
) -> Result<(Vec<Diagnostic>, Report), CheckError> {
    let at = found.config.span.start;
    check_config(
        &found.config,
        file,
        live.running.as_deref(),
        live,
        at,
        Release::Reject,
    )
}

/// How the release judges a configuration that takes addresses away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Up to v0.13: MetalLB rejects it (MLB100).
    Reject,
    /// From v0.14: MetalLB re-allocates the services (MLB104); an error unless
    /// `allow_reallocation`, then a warning.
    Reallocate { allow_reallocation: bool },
}

/// Dry-run the custom resources mapped onto `config` (spans in `file`, the joined text of the
/// CRD front end) against the cluster's running IPAddressPools. Findings without a better place
/// point at `at` (the first IPAddressPool).
pub fn check_crds(
    config: &Config,
    file: &SourceFile,
    live: &Live,
    at: usize,
    release: Release,
) -> Result<(Vec<Diagnostic>, Report), CheckError> {
    check_config(
        config,
        file,
        live.running_crds.as_deref(),
        live,
        at,
        release,
    )
}

fn check_config(
    config: &Config,
    file: &SourceFile,
    running: Option<&[PoolSpec]>,
    live: &Live,
    at: usize,
    release: Release,
) -> Result<(Vec<Diagnostic>, Report), CheckError> {
    let pools = pool_specs(config);
    let semantics = match release {
        Release::Reject => Semantics::Reject,
        Release::Reallocate { .. } => Semantics::Reallocate,
    };
    let report =
        dryrun_with(running, &pools, &live.services, semantics).map_err(CheckError::Pools)?;
    let mut reporter = Reporter::new(file);
    let start = at..at;
    for verdict in &report.services {
        let service = format!("{}/{}", verdict.namespace, verdict.name);
        match &verdict.verdict {
            Verdict::Loses {
                ip,
                message,
                cause,
                suggested_fix,
            } => {
                let span = loss_span(config, cause, &start);
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
            Verdict::Reallocated {
                ip,
                cause,
                new_ip,
                pool,
                reason,
            } => {
                let severity = match release {
                    Release::Reallocate {
                        allow_reallocation: true,
                    } => Severity::Warning,
                    _ => rule::SERVICE_REALLOCATED.severity,
                };
                let span = loss_span(config, cause, &start);
                let gets = match (new_ip, pool, reason) {
                    (Some(new), Some(pool), _) => format!("gets {new} from pool {pool:?} instead"),
                    (Some(new), None, _) => format!("gets {new} instead"),
                    (None, _, Some(reason)) => format!("gets no address ({reason})"),
                    (None, _, None) => "gets no address".to_string(),
                };
                let d = reporter.report_as(
                    rule::SERVICE_REALLOCATED,
                    severity,
                    span,
                    format!("service {service:?} loses {ip} and {gets}"),
                );
                d.with_label(format!("{service} holds {ip}: {cause}"));
                // MetalLB's ClearAssignment event (v0.14+ controller/service.go).
                let event = format!(
                    "current IP for {service:?} not allowed by config, will attempt for new IP assignment: [{:?}] is not allowed in config",
                    ip.to_string()
                );
                d.with_help(if severity == Severity::Warning {
                    format!("MetalLB applies this configuration and re-allocates the service (event ClearAssignment: {event}), so its EXTERNAL-IP changes (allowed by --allow-reallocation); update whatever points at {ip}")
                } else {
                    format!("MetalLB applies this configuration and re-allocates the service (event ClearAssignment: {event}), so its EXTERNAL-IP changes; keep {ip} in a pool, or pass --allow-reallocation if the change is intended")
                });
            }
            Verdict::Keeps { .. } => {}
        }
    }
    Ok((reporter.diagnostics, report))
}

/// Point a loss at what causes it: the `avoid-buggy-ips` that now excludes the address, else
/// `start`.
fn loss_span(config: &Config, cause: &LossCause, start: &Range<usize>) -> Range<usize> {
    if let LossCause::BuggyIpAvoided { pools } = cause {
        let flag = config
            .pools
            .iter()
            .filter(|p| pools.iter().any(|n| n == p.name_str()))
            .find_map(|p| p.avoid_buggy_ips.as_ref());
        if let Some(flag) = flag {
            return flag.span.clone();
        }
    }
    start.clone()
}
