//! The dry run of `metallbctl validate --cluster | --assignments`: what a new configuration
//! would do to the services' live addresses, as findings and a table.
//!
//! Reading the cluster (kube-rs) or the assignments file happens here; the judgement is the
//! allocator's pure `alloc::dryrun`.

use std::path::PathBuf;

use anyhow::Context;

use crate::alloc::dryrun::LossCause;
use crate::alloc::{self, PoolSpec, Report, ServiceInfo, Verdict};
use crate::config::report::Reporter;
use crate::config::{self, rule, FoundConfig, Options};
use crate::diag::{Diagnostic, SourceFile};
use crate::table::Table;

/// Where the live assignments come from.
#[derive(Debug, Clone)]
pub enum Source {
    Cluster {
        context: Option<String>,
        kubeconfig: Option<PathBuf>,
        namespace: String,
        name: String,
    },
    Assignments(PathBuf),
}

/// What the cluster runs now.
pub struct Live {
    /// Pools of the running configuration; `None` when it is unknown (assignments file, no
    /// ConfigMap yet, or a running configuration that does not parse).
    pub running: Option<Vec<PoolSpec>>,
    pub services: Vec<ServiceInfo>,
    /// For headings: `cluster (ConfigMap metallb-system/config)` or the file name.
    pub described: String,
}

pub fn load(source: &Source, options: &Options) -> anyhow::Result<Live> {
    match source {
        Source::Assignments(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let services = alloc::parse_service_list(&text).with_context(|| {
                format!(
                    "{}: not `kubectl get svc -A -o json` output",
                    path.display()
                )
            })?;
            Ok(Live {
                running: None,
                services,
                described: format!("assignments in {}", path.display()),
            })
        }
        Source::Cluster {
            context,
            kubeconfig,
            namespace,
            name,
        } => {
            let state = crate::kube::assignments::fetch_blocking(
                context.as_deref(),
                kubeconfig.as_deref(),
                namespace,
                name,
            )?;
            let running = state.running_config.as_deref().and_then(|text| {
                let (config, diagnostics) = config::lint_body_text("running", text, options);
                let clean = diagnostics.iter().all(|d| !d.is_error());
                config.filter(|_| clean).map(|c| alloc::pool_specs(&c))
            });
            let context = context
                .as_deref()
                .map(|c| format!("context {c:?}, "))
                .unwrap_or_default();
            Ok(Live {
                running,
                services: state.services,
                described: format!("the cluster ({context}ConfigMap {namespace}/{name})"),
            })
        }
    }
}

/// Dry-run one configuration found in `file`; returns the findings and the report.
pub fn check(
    found: &FoundConfig,
    file: &SourceFile,
    live: &Live,
) -> anyhow::Result<(Vec<Diagnostic>, Report)> {
    let pools = alloc::pool_specs(&found.config);
    let report = alloc::dryrun(live.running.as_deref(), &pools, &live.services)
        .context("the configuration's pools cannot be used")?;
    let mut reporter = Reporter::new(file);
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
                    alloc::SuggestedFix::SetLoadBalancerIp { ip: new, .. } => format!(
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
                reporter.report(rule::SERVICE_MOVES_POOL, found.config.span.start..found.config.span.start, format!("service {service:?} keeps {ip}, which moves from pool {from_pool:?} to {to_pool:?}"));
            }
            Verdict::PendingNowAllocatable { ip, pool } => {
                reporter.report(
                    rule::PENDING_NOW_ALLOCATABLE,
                    found.config.span.start..found.config.span.start,
                    format!("pending service {service:?} would get {ip} from pool {pool:?}"),
                );
            }
            Verdict::PendingStill { reason } => {
                reporter.report(
                    rule::SERVICE_STAYS_PENDING,
                    found.config.span.start..found.config.span.start,
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
fn loss_span(found: &FoundConfig, cause: &LossCause) -> std::ops::Range<usize> {
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

/// The per-service table shown in text mode.
pub fn table(report: &Report, file: &str, live: &Live) -> String {
    let verdict = if report.accepted {
        "would be accepted"
    } else {
        "would be REJECTED"
    };
    let mut out = format!(
        "dry run of {file} against {}: the configuration {verdict}\n",
        live.described
    );
    if report.services.is_empty() {
        out.push_str("  (no LoadBalancer services)\n");
        return out;
    }
    let mut table = Table::new(["SERVICE", "ADDRESS", "VERDICT", "DETAIL"])
        .indent("  ")
        .trim(false);
    table.rows(report.services.iter().map(row));
    out.push_str(&table.render());
    out
}

fn row(v: &alloc::ServiceVerdict) -> [String; 4] {
    let service = format!("{}/{}", v.namespace, v.name);
    match &v.verdict {
        Verdict::Keeps { ip, pool } => [
            service,
            ip.to_string(),
            "keeps".into(),
            format!("pool {pool}"),
        ],
        Verdict::Moves {
            ip,
            from_pool,
            to_pool,
        } => [
            service,
            ip.to_string(),
            "moves".into(),
            format!("pool {from_pool} -> {to_pool}"),
        ],
        Verdict::Loses {
            ip, suggested_fix, ..
        } => [
            service,
            ip.to_string(),
            "LOSES".into(),
            suggested_fix.to_string(),
        ],
        Verdict::PendingNowAllocatable { ip, pool } => [
            service,
            "<pending>".into(),
            "gets".into(),
            format!("{ip} from pool {pool}"),
        ],
        Verdict::PendingStill { reason } => [
            service,
            "<pending>".into(),
            "pending".into(),
            reason.clone(),
        ],
    }
}
