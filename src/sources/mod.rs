//! The sources behind the status model (`crate::status::source` has their traits): the
//! cluster through kube-rs, speaker metrics through the API server's pod proxy, and routers
//! (the lab's, BIRD, FRR, GoBGP, or metallbctl itself listening). The [`Collector`] polls
//! them all, each call bounded by a timeout, and publishes [`Snapshot`]s; a failing source is
//! a marked, aged entry (its last reading is kept), never a crash or a hang.

pub mod bird;
pub mod cluster;
pub mod cmd;
pub mod frr;
pub mod gobgp;
pub mod lab;
pub mod listen;
pub mod speakers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::status::model::{History, RouterView, Snapshot, SourceKind, SpeakerSession};
use crate::status::source::{
    decide_config, ClusterReading, ClusterSource, HealthBook, RouterSource, SpeakerPod,
    SpeakerReading, SpeakerSource,
};
use crate::status::{drift, history};

/// Now, in unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An error and its causes on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// A kube error on one line: the API's message for error statuses, else the cause chain.
pub fn kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => chain(other),
    }
}

async fn bounded<T>(
    timeout: Duration,
    what: &str,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "{what}: no answer within {}s",
            timeout.as_secs_f32()
        )),
    }
}

/// Polls every source and assembles snapshots, keeping history and the last good readings.
pub struct Collector {
    cluster: Option<Arc<dyn ClusterSource>>,
    speakers: Option<Arc<dyn SpeakerSource>>,
    routers: Vec<Arc<dyn RouterSource>>,
    timeout: Duration,
    health: HealthBook,
    history: History,
    last_cluster: Option<ClusterReading>,
    last_speakers: BTreeMap<String, SpeakerReading>,
    /// Per router source, the names of the routers it reported and their last views.
    last_routers: BTreeMap<String, Vec<RouterView>>,
}

impl Collector {
    pub fn new(timeout: Duration) -> Self {
        Collector {
            cluster: None,
            speakers: None,
            routers: Vec::new(),
            timeout,
            health: HealthBook::default(),
            history: History::default(),
            last_cluster: None,
            last_speakers: BTreeMap::new(),
            last_routers: BTreeMap::new(),
        }
    }

    pub fn with_cluster(mut self, c: Arc<dyn ClusterSource>) -> Self {
        self.cluster = Some(c);
        self
    }

    pub fn with_speakers(mut self, s: Arc<dyn SpeakerSource>) -> Self {
        self.speakers = Some(s);
        self
    }

    pub fn with_router(mut self, r: Arc<dyn RouterSource>) -> Self {
        self.routers.push(r);
        self
    }

    /// Read every source once (concurrently, each bounded) and assemble a snapshot.
    pub async fn poll(&mut self) -> Snapshot {
        let timeout = self.timeout;
        let cluster_f = async {
            match &self.cluster {
                Some(c) => Some(bounded(timeout, "cluster", c.read()).await),
                None => None,
            }
        };
        let routers_f = futures_util::future::join_all(self.routers.iter().map(|r| async move {
            (
                r.name().to_string(),
                r.grouped(),
                bounded(timeout, r.name(), r.read()).await,
            )
        }));
        let (cluster, routers) = tokio::join!(cluster_f, routers_f);
        let now = now_ms();
        if let Some(result) = cluster {
            match result {
                Ok(r) => {
                    self.health
                        .record("cluster", SourceKind::Cluster, Ok(()), now);
                    self.last_cluster = Some(r);
                }
                Err(e) => self
                    .health
                    .record("cluster", SourceKind::Cluster, Err(&e), now),
            }
        }
        // Speakers: the pods the cluster (last) reported.
        let pods: Vec<SpeakerPod> = self
            .last_cluster
            .as_ref()
            .map(|c| c.speaker_pods.clone())
            .unwrap_or_default();
        if let Some(src) = &self.speakers {
            let results = futures_util::future::join_all(pods.iter().map(|p| {
                let src = src.clone();
                async move {
                    let what = format!("speaker/{}", p.node);
                    (p.clone(), bounded(timeout, &what, src.scrape(p)).await)
                }
            }))
            .await;
            let now = now_ms();
            for (pod, r) in results {
                let name = format!("speaker/{}", pod.node);
                match r {
                    Ok(reading) => {
                        self.health.record(&name, SourceKind::Speaker, Ok(()), now);
                        self.last_speakers.insert(pod.node.clone(), reading);
                    }
                    Err(e) => self.health.record(&name, SourceKind::Speaker, Err(&e), now),
                }
            }
            // Speakers whose pod is gone are forgotten.
            let live: Vec<&str> = pods.iter().map(|p| p.node.as_str()).collect();
            self.last_speakers.retain(|n, _| live.contains(&n.as_str()));
            for name in self.health.names(SourceKind::Speaker) {
                let node = name.trim_start_matches("speaker/");
                if !live.contains(&node) {
                    self.health.forget(&name);
                }
            }
        }
        let now = now_ms();
        for (source, grouped, r) in routers {
            match r {
                Ok(views) => {
                    for v in &views {
                        self.health.record(&v.name, SourceKind::Router, Ok(()), now);
                    }
                    if grouped || views.iter().all(|v| v.name != source) {
                        self.health.record(&source, SourceKind::Router, Ok(()), now);
                    }
                    self.last_routers.insert(source, views);
                }
                Err(e) => {
                    let known: Vec<String> = self
                        .last_routers
                        .get(&source)
                        .map(|v| v.iter().map(|r| r.name.clone()).collect())
                        .unwrap_or_default();
                    if known.is_empty() || grouped {
                        self.health
                            .record(&source, SourceKind::Router, Err(&e), now);
                    }
                    for name in known {
                        self.health.record(&name, SourceKind::Router, Err(&e), now);
                    }
                    if !self.last_routers.contains_key(&source) && !grouped {
                        // Never answered: an empty panel that says why.
                        self.last_routers.insert(
                            source.clone(),
                            vec![RouterView {
                                name: source.clone(),
                                ..RouterView::default()
                            }],
                        );
                    }
                }
            }
        }
        self.assemble(now)
    }

    fn assemble(&mut self, now: u64) -> Snapshot {
        let speakers: Vec<SpeakerSession> = self
            .last_speakers
            .values()
            .flat_map(|r| r.sessions.iter().cloned())
            .collect();
        let stale: Vec<bool> = self
            .last_speakers
            .values()
            .filter_map(|r| r.config_stale)
            .collect();
        let mut snap = Snapshot {
            taken_at_ms: now,
            speakers,
            routers: self.last_routers.values().flatten().cloned().collect(),
            sources: self.health.all(),
            ..Snapshot::default()
        };
        if let Some(c) = &self.last_cluster {
            snap.cluster = Some(c.cluster.clone());
            snap.config = decide_config(&c.config, &stale, &c.events);
            snap.services = c.services.clone();
            snap.events = c.events.clone();
        }
        snap.drift = drift::derive(&snap);
        self.history.record(&snap);
        snap.history = self.history.clone();
        snap
    }

    /// Poll every `every` (and at once on [`Feed::refresh`]) in a task; snapshots go to the
    /// feed's watch channel. The first snapshot is published before this returns.
    pub async fn spawn(mut self, every: Duration) -> Feed {
        let first = self.poll().await;
        let (tx, rx) = watch::channel(first);
        let (refresh_tx, mut refresh_rx) = mpsc::channel::<()>(1);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    r = refresh_rx.recv() => if r.is_none() { return },
                }
                let snap = self.poll().await;
                if tx.send(snap).is_err() {
                    return;
                }
            }
        });
        Feed {
            snapshots: rx,
            refresh: refresh_tx,
            task,
        }
    }
}

/// The live feed of snapshots.
pub struct Feed {
    /// The newest snapshot; `changed()` wakes on each new one.
    pub snapshots: watch::Receiver<Snapshot>,
    refresh: mpsc::Sender<()>,
    task: JoinHandle<()>,
}

impl Feed {
    /// Ask for a poll now (the `r` key); a request already queued is enough.
    pub fn refresh(&self) {
        let _ = self.refresh.try_send(());
    }

    /// Stop polling.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Keys for history lookups (re-exported for views).
pub use history::{router_key, speaker_key};

#[cfg(test)]
mod tests;
