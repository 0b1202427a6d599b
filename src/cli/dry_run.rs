//! Printing the dry run of `metallbctl validate --cluster | --assignments` (and of
//! `install --config`): the per-service SERVICE/VERDICT table.
//!
//! Reading the cluster is `kube::live`; the judgement and the findings are `alloc::check`.

use crate::alloc::check::Live;
use crate::alloc::{self, Report, Verdict};
use crate::diag::render::{self, text::TextOptions};
use crate::diag::{Diagnostic, SourceFile, Sources};
use crate::table::Table;

/// The findings about one file, rendered as `validate` renders them in text mode.
pub fn findings(file: &SourceFile, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut sources = Sources::default();
    let inputs = [file.name.clone()];
    sources.insert(file.clone());
    let report = render::Report {
        diagnostics,
        sources: &sources,
        inputs: &inputs,
        failures: &[],
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    render::text::render(&report, TextOptions { color })
}

/// The per-service table shown in text mode.
pub fn table(report: &Report, file: &str, live: &Live) -> String {
    let reallocated = report
        .services
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Reallocated { .. }))
        .count();
    let reallocations;
    let verdict = if reallocated > 0 {
        reallocations = format!(
            "would be applied and RE-ALLOCATE {reallocated} service{}",
            if reallocated == 1 { "" } else { "s" }
        );
        reallocations.as_str()
    } else if report.accepted {
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
        Verdict::Reallocated {
            ip,
            new_ip,
            pool,
            reason,
            ..
        } => [
            service,
            ip.to_string(),
            "RE-ALLOCATED".into(),
            match (new_ip, pool, reason) {
                (Some(new), Some(pool), _) => format!("-> {new} from pool {pool}"),
                (Some(new), None, _) => format!("-> {new}"),
                (None, _, Some(reason)) => format!("-> <pending>: {reason}"),
                (None, _, None) => "-> <pending>".into(),
            },
        ],
        Verdict::PendingStill { reason } => [
            service,
            "<pending>".into(),
            "pending".into(),
            reason.clone(),
        ],
    }
}
