//! The status objects MetalLB v0.15 writes, for a configuration read from custom resources:
//!
//! - `IPAddressPool.status` (controller): `assignedIPv4`, `assignedIPv6`, `availableIPv4`,
//!   `availableIPv6`, written to the status subresource whenever the counts change.
//! - `ConfigurationState` (controller `controller`, speaker `speaker-<node>`): a condition
//!   (`poolReconcilerValid` / `configReconcilerValid`, reason `Reconciled` or
//!   `ConfigurationError` with "configuration error: <why>"), plus `result` (`Valid` /
//!   `Invalid`) and `errorSummary`.
//!
//! The counts are pure ([`pool_counts`]); the writers only diff and write, on background tasks,
//! and a kind the cluster does not serve (404) is skipped quietly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde::Serialize;
use serde_json::json;

use super::crds::{ConfigKind, GROUP};
use crate::alloc::{AddrRange, Allocator, PoolSpec};

/// One IPAddressPool's `status` (v0.15).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolCounts {
    #[serde(rename = "assignedIPv4")]
    pub assigned_ipv4: i64,
    #[serde(rename = "assignedIPv6")]
    pub assigned_ipv6: i64,
    #[serde(rename = "availableIPv4")]
    pub available_ipv4: i64,
    #[serde(rename = "availableIPv6")]
    pub available_ipv6: i64,
}

/// MetalLB's counts for a pool with the distinct addresses `assigned`: the family's addresses
/// the pool may hand out (without `.0`/`.255` under avoidBuggyIPs) minus those assigned; a
/// family too large for an int64 counts as `i64::MAX` (MetalLB's `math.MaxInt64`).
pub fn pool_counts(spec: &PoolSpec, assigned: &BTreeSet<IpAddr>) -> PoolCounts {
    let capacity = |v4: bool| -> i64 {
        let ranges: Vec<AddrRange> = spec
            .ranges
            .iter()
            .filter(|r| r.first.is_ipv4() == v4)
            .copied()
            .collect();
        let family = PoolSpec {
            ranges,
            ..spec.clone()
        };
        family
            .capacity()
            .ok()
            .map_or(0, |c| i64::try_from(c).unwrap_or(i64::MAX))
    };
    let count = |v4: bool| {
        let n = assigned.iter().filter(|ip| ip.is_ipv4() == v4).count();
        i64::try_from(n).unwrap_or(i64::MAX)
    };
    let (a4, a6) = (count(true), count(false));
    PoolCounts {
        assigned_ipv4: a4,
        assigned_ipv6: a6,
        available_ipv4: capacity(true).saturating_sub(a4),
        available_ipv6: capacity(false).saturating_sub(a6),
    }
}

/// The counts of every pool of `alloc`.
pub fn all_pool_counts(alloc: &Allocator) -> BTreeMap<String, PoolCounts> {
    let mut used: BTreeMap<&str, BTreeSet<IpAddr>> = BTreeMap::new();
    let assignments = alloc.assignments();
    for a in &assignments {
        if let Some(p) = a.pool.as_deref() {
            used.entry(p).or_default().insert(a.ip);
        }
    }
    alloc
        .pools()
        .map(|p| {
            let empty = BTreeSet::new();
            let ips = used.get(p.name.as_str()).unwrap_or(&empty);
            (p.name.clone(), pool_counts(p, ips))
        })
        .collect()
}

const POOLS: ConfigKind = ConfigKind {
    kind: "IPAddressPool",
    version: "v1beta1",
    plural: "ipaddresspools",
};

const CONFIGURATION_STATES: ConfigKind = ConfigKind {
    kind: "ConfigurationState",
    version: "v1beta1",
    plural: "configurationstates",
};

/// Writes IPAddressPool status counts (controller).
pub struct PoolStatusWriter {
    api: Api<DynamicObject>,
    written: BTreeMap<String, PoolCounts>,
}

impl PoolStatusWriter {
    pub fn new(client: Client, namespace: &str) -> PoolStatusWriter {
        PoolStatusWriter {
            api: POOLS.api(client, namespace),
            written: BTreeMap::new(),
        }
    }

    /// Write the counts that changed since the last call.
    pub fn sync(&mut self, counts: BTreeMap<String, PoolCounts>) {
        for (name, c) in &counts {
            if self.written.get(name) == Some(c) {
                continue;
            }
            let api = self.api.clone();
            let name = name.clone();
            let status = json!(c);
            tokio::spawn(async move {
                match update_status(&api, &name, status).await {
                    Ok(()) | Err(kube::Error::Api(_)) => {}
                    Err(e) => tracing::warn!(pool = %name, error = %e, "cannot write pool status"),
                }
            });
        }
        self.written = counts;
    }
}

/// Replace `name`'s status with `status` by an update of the status subresource, as MetalLB's
/// controller does: its RBAC grants `ipaddresspools/status` update, not patch. A custom
/// resource's update needs the current resourceVersion, so a conflict (someone wrote the object
/// in between) reads it again, a few times.
async fn update_status(
    api: &Api<DynamicObject>,
    name: &str,
    status: serde_json::Value,
) -> Result<(), kube::Error> {
    const ATTEMPTS: usize = 3;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut obj = api.get(name).await?;
        obj.data["status"] = status.clone();
        match api.replace_status(name, &PostParams::default(), &obj).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => last = Some(kube::Error::Api(s)),
            Err(e) => return Err(e),
        }
    }
    match last {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Which component reports a ConfigurationState.
#[derive(Debug, Clone)]
pub struct StateReporter {
    api: Api<DynamicObject>,
    name: String,
    labels: BTreeMap<String, String>,
    condition: &'static str,
    last: Option<Result<(), String>>,
}

impl StateReporter {
    /// The controller's object, `controller`.
    pub fn controller(client: Client, namespace: &str) -> StateReporter {
        StateReporter {
            api: CONFIGURATION_STATES.api(client, namespace),
            name: "controller".into(),
            labels: BTreeMap::from([(
                "metallb.io/component-type".to_string(),
                "controller".to_string(),
            )]),
            condition: "poolReconcilerValid",
            last: None,
        }
    }

    /// A speaker's object, `speaker-<node>`.
    pub fn speaker(client: Client, namespace: &str, node: &str) -> StateReporter {
        StateReporter {
            api: CONFIGURATION_STATES.api(client, namespace),
            name: format!("speaker-{node}"),
            labels: BTreeMap::from([
                (
                    "metallb.io/component-type".to_string(),
                    "speaker".to_string(),
                ),
                ("metallb.io/node-name".to_string(), node.to_string()),
            ]),
            condition: "configReconcilerValid",
            last: None,
        }
    }

    /// Report the outcome of the latest parse (`Err(why)`: rejected), if it changed.
    pub fn report(&mut self, outcome: Result<(), String>) {
        if self.last.as_ref() == Some(&outcome) {
            return;
        }
        let status = state_status(self.condition, &outcome, &now());
        self.last = Some(outcome);
        let api = self.api.clone();
        let name = self.name.clone();
        let object = json!({
            "apiVersion": format!("{GROUP}/{}", CONFIGURATION_STATES.version),
            "kind": CONFIGURATION_STATES.kind,
            "metadata": {"name": name, "labels": self.labels},
        });
        tokio::spawn(async move {
            let Ok(obj) = serde_json::from_value::<DynamicObject>(object) else {
                return;
            };
            match api.create(&PostParams::default(), &obj).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                // Not served (v0.15's CRDs are not installed): nothing to report to.
                Err(kube::Error::Api(s)) if s.code == 404 => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create ConfigurationState {name}");
                    return;
                }
            }
            let patch = json!({ "status": status });
            if let Err(e) = api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                tracing::warn!(error = %e, "cannot write ConfigurationState {name}");
            }
        });
    }
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A ConfigurationState's `status` for one component's latest outcome.
pub fn state_status(condition: &str, outcome: &Result<(), String>, at: &str) -> serde_json::Value {
    let (status, reason, message, result, summary) = match outcome {
        Ok(()) => ("True", "Reconciled", String::new(), "Valid", String::new()),
        Err(why) => {
            let m = format!("configuration error: {why}");
            ("False", "ConfigurationError", m.clone(), "Invalid", m)
        }
    };
    json!({
        "conditions": [{
            "type": condition,
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": at,
        }],
        "result": result,
        "errorSummary": summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ranges: &[&str]) -> PoolSpec {
        PoolSpec::new(
            "p",
            ranges
                .iter()
                .map(|r| AddrRange::parse(r).unwrap())
                .collect(),
        )
    }

    #[test]
    fn counts_follow_metallb() {
        let s = spec(&["198.51.100.0/24", "2001:db8::/120"]);
        let ips: BTreeSet<IpAddr> = ["198.51.100.0".parse().unwrap()].into();
        let c = pool_counts(&s, &ips);
        assert_eq!(
            c,
            PoolCounts {
                assigned_ipv4: 1,
                assigned_ipv6: 0,
                available_ipv4: 255,
                available_ipv6: 256
            }
        );
        let buggy = pool_counts(&s.clone().avoid_buggy_ips(true), &BTreeSet::new());
        assert_eq!(buggy.available_ipv4, 254);
        let huge = pool_counts(&spec(&["2001:db8::/48"]), &BTreeSet::new());
        assert_eq!(huge.available_ipv6, i64::MAX);
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            json!({"assignedIPv4": 1, "assignedIPv6": 0, "availableIPv4": 255, "availableIPv6": 256})
        );
    }

    #[test]
    fn configuration_state_reads_like_metallb() {
        let bad = state_status("poolReconcilerValid", &Err("overlap".into()), "t");
        assert_eq!(bad["result"], "Invalid");
        assert_eq!(bad["errorSummary"], "configuration error: overlap");
        assert_eq!(bad["conditions"][0]["reason"], "ConfigurationError");
        assert_eq!(bad["conditions"][0]["status"], "False");
        let ok = state_status("configReconcilerValid", &Ok(()), "t");
        assert_eq!(ok["result"], "Valid");
        assert_eq!(ok["conditions"][0]["type"], "configReconcilerValid");
        assert_eq!(ok["conditions"][0]["reason"], "Reconciled");
    }
}
