//! The sources behind the model, as small traits, so tests feed the model directly and the
//! real implementations (kube, pod proxy, routers) live in `crate::sources`. Also the pure
//! book-keeping the collector needs: source health over time and the configuration verdict.
//!
//! The traits return boxed futures (no executor is named here); errors are one-line texts,
//! shown in the failed-source cell.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::model::{
    ClusterInfo, ConfigState, EventRecord, Health, RouterView, ServiceIntent, SourceHealth,
    SourceKind, SpeakerSession,
};

/// A source's answer: the reading, or why it failed (one line).
pub type SourceResult<T> = Result<T, String>;
/// What a source call returns.
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = SourceResult<T>> + Send + 'a>>;

/// A speaker pod to scrape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpeakerPod {
    pub namespace: String,
    pub name: String,
    pub node: String,
}

/// What the cluster source reads in one go.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterReading {
    pub cluster: ClusterInfo,
    /// The configuration verdict from the ConfigMap and events alone (speakers may refine it).
    pub config: ConfigState,
    pub services: Vec<ServiceIntent>,
    pub events: Vec<EventRecord>,
    pub speaker_pods: Vec<SpeakerPod>,
}

/// What one speaker reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpeakerReading {
    pub sessions: Vec<SpeakerSession>,
    /// `metallb_k8s_client_config_stale_bool`: the latest configuration was rejected.
    pub config_stale: Option<bool>,
}

/// The cluster: services, endpoints, nodes, the MetalLB configuration and events.
pub trait ClusterSource: Send + Sync {
    fn read(&self) -> SourceFuture<'_, ClusterReading>;
}

/// Speaker metrics, one pod at a time.
pub trait SpeakerSource: Send + Sync {
    fn scrape<'a>(&'a self, pod: &'a SpeakerPod) -> SourceFuture<'a, SpeakerReading>;
}

/// One router, or several behind one control point (the lab's).
pub trait RouterSource: Send + Sync {
    /// The source's name: the router's name, or `lab` for the lab's routers.
    fn name(&self) -> &str;
    fn read(&self) -> SourceFuture<'_, Vec<RouterView>>;
    /// Whether the source reads a group of routers (the lab's) rather than the one router it is
    /// named after: a group that never answered gets no placeholder panel of its own.
    fn grouped(&self) -> bool {
        false
    }
}

/// Source health across polls: when a failure streak started, when the source last answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthBook {
    entries: BTreeMap<String, SourceHealth>,
}

impl HealthBook {
    /// Record one outcome at `now_ms`.
    pub fn record(&mut self, name: &str, kind: SourceKind, outcome: Result<(), &str>, now_ms: u64) {
        let e = self
            .entries
            .entry(name.to_string())
            .or_insert_with(|| SourceHealth {
                name: name.to_string(),
                kind,
                ..SourceHealth::default()
            });
        match outcome {
            Ok(()) => {
                e.health = Health::Ok;
                e.last_ok_ms = Some(now_ms);
            }
            Err(error) => {
                let since_ms = match &e.health {
                    Health::Failed { since_ms, .. } => *since_ms,
                    Health::Ok => now_ms,
                };
                e.health = Health::Failed {
                    error: error.to_string(),
                    since_ms,
                };
            }
        }
    }

    /// Forget a source (a speaker pod that is gone).
    pub fn forget(&mut self, name: &str) {
        self.entries.remove(name);
    }

    /// Names of the sources of a kind.
    pub fn names(&self, kind: SourceKind) -> Vec<String> {
        self.entries
            .values()
            .filter(|e| e.kind == kind)
            .map(|e| e.name.clone())
            .collect()
    }

    /// Every source, by name.
    pub fn all(&self) -> Vec<SourceHealth> {
        self.entries.values().cloned().collect()
    }
}

/// The configuration verdict: the speakers' `config_stale` flag wins when any speaker
/// reported one (MetalLB's own view); the message comes from the newest InvalidConfig event.
/// Without speaker flags the cluster's verdict stands.
pub fn decide_config(
    cluster: &ConfigState,
    stale_flags: &[bool],
    events: &[EventRecord],
) -> ConfigState {
    let newest_invalid = events
        .iter()
        .filter(|e| e.reason == "InvalidConfig")
        .max_by_key(|e| e.last_ms.unwrap_or(0));
    if stale_flags.is_empty() {
        return cluster.clone();
    }
    if stale_flags.iter().any(|s| *s) {
        return match (cluster, newest_invalid) {
            (ConfigState::Rejected { .. }, _) => cluster.clone(),
            (_, Some(e)) => ConfigState::Rejected {
                message: e.message.clone(),
                by: e.source.clone(),
                at_ms: e.last_ms,
            },
            (_, None) => ConfigState::Rejected {
                message: "the speakers run on a stale configuration: the latest one was rejected"
                    .to_string(),
                by: "metallb-speaker".to_string(),
                at_ms: None,
            },
        };
    }
    match cluster {
        // Our own parse found the text invalid: MetalLB cannot have accepted it.
        ConfigState::Rejected { by, .. } if by == OWN_PARSE => cluster.clone(),
        // A rejection read from events is superseded by speakers that all run on the latest
        // configuration: MetalLB re-evaluates a rejected config when Services change (the
        // tutorial's pin to .1) and says nothing when it then accepts it.
        _ => ConfigState::Accepted,
    }
}

/// The `by` of a rejection found by parsing the configuration ourselves, not read from MetalLB.
pub const OWN_PARSE: &str = "metallbctl";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_keeps_the_start_of_a_failure_streak() {
        let mut b = HealthBook::default();
        b.record("bird", SourceKind::Router, Ok(()), 1);
        b.record("bird", SourceKind::Router, Err("refused"), 2);
        b.record("bird", SourceKind::Router, Err("refused again"), 3);
        let h = &b.all()[0];
        assert_eq!(
            h.health,
            Health::Failed {
                error: "refused again".into(),
                since_ms: 2
            }
        );
        assert_eq!(h.last_ok_ms, Some(1));
        b.record("bird", SourceKind::Router, Ok(()), 4);
        assert_eq!(b.all()[0].health, Health::Ok);
        assert_eq!(b.names(SourceKind::Router), vec!["bird"]);
        b.forget("bird");
        assert!(b.all().is_empty());
    }

    #[test]
    fn config_verdict() {
        let ev = EventRecord {
            type_: "Warning".into(),
            reason: "InvalidConfig".into(),
            message: "configuration rejected: x".into(),
            source: "metallb-controller".into(),
            last_ms: Some(5),
            ..EventRecord::default()
        };
        let acc = ConfigState::Accepted;
        assert_eq!(decide_config(&acc, &[], std::slice::from_ref(&ev)), acc);
        assert_eq!(
            decide_config(&ConfigState::Unknown, &[false], std::slice::from_ref(&ev)),
            acc
        );
        assert_eq!(
            decide_config(&acc, &[false, true], std::slice::from_ref(&ev)),
            ConfigState::Rejected {
                message: "configuration rejected: x".into(),
                by: "metallb-controller".into(),
                at_ms: Some(5)
            }
        );
        let ours = ConfigState::Rejected {
            message: "bad".into(),
            by: "metallbctl".into(),
            at_ms: None,
        };
        assert_eq!(decide_config(&ours, &[false], &[]), ours);
        // Rejected by MetalLB (events), then every speaker reports a current configuration:
        // the rejection is over (nginx pinned to .1 made tutorial-3 acceptable).
        let by_events = ConfigState::Rejected {
            message: "configuration rejected: x".into(),
            by: "metallb-speaker".into(),
            at_ms: Some(5),
        };
        assert_eq!(
            decide_config(&by_events, &[false, false], std::slice::from_ref(&ev)),
            acc
        );
        assert_eq!(decide_config(&by_events, &[], &[]), by_events);
    }
}
