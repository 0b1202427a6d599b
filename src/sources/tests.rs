//! The collector with fake sources: failures are marked and aged, the last reading is kept,
//! a hanging source times out, history accumulates, drift is derived.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::status::model::{DriftKind, Health, SessionState};
use crate::status::source::SourceFuture;

fn fixture() -> Snapshot {
    serde_json::from_str(include_str!("../../tests/fixtures/status/healthy.json")).unwrap()
}

struct FakeCluster;
impl ClusterSource for FakeCluster {
    fn read(&self) -> SourceFuture<'_, ClusterReading> {
        let f = fixture();
        Box::pin(async move {
            Ok(ClusterReading {
                cluster: f.cluster.unwrap_or_default(),
                config: f.config,
                services: f.services,
                events: f.events,
                speaker_pods: vec![SpeakerPod {
                    namespace: "metallb-system".into(),
                    name: "speaker-minikube".into(),
                    node: "minikube".into(),
                }],
            })
        })
    }
}

struct FakeSpeakers;
impl SpeakerSource for FakeSpeakers {
    fn scrape<'a>(&'a self, _pod: &'a SpeakerPod) -> SourceFuture<'a, SpeakerReading> {
        Box::pin(async move {
            Ok(SpeakerReading {
                sessions: fixture().speakers,
                config_stale: Some(false),
            })
        })
    }
}

/// A router that answers from a script: Some(view) or None (fail); hangs when the script ends.
struct Scripted {
    name: String,
    script: Mutex<Vec<Option<RouterView>>>,
    calls: AtomicUsize,
}
impl RouterSource for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap().pop();
        Box::pin(async move {
            match next {
                Some(Some(v)) => Ok(vec![v]),
                Some(None) => Err("connection refused".to_string()),
                None => std::future::pending().await,
            }
        })
    }
}

#[tokio::test]
async fn a_failing_router_is_marked_and_aged_and_keeps_its_last_view() {
    let f = fixture();
    let bird = f.routers[0].clone();
    // Popped from the end: ok, fail, fail, then hang.
    let scripted = Arc::new(Scripted {
        name: "bird".into(),
        script: Mutex::new(vec![None, None, Some(bird.clone())]),
        calls: AtomicUsize::new(0),
    });
    let quagga = Arc::new(Scripted {
        name: "quagga".into(),
        script: Mutex::new(vec![Some(f.routers[1].clone()); 4]),
        calls: AtomicUsize::new(0),
    });
    let mut c = Collector::new(Duration::from_millis(200))
        .with_cluster(Arc::new(FakeCluster))
        .with_speakers(Arc::new(FakeSpeakers))
        .with_router(scripted.clone())
        .with_router(quagga);
    let s1 = c.poll().await;
    assert_eq!(s1.drift, vec![], "{:?}", s1.drift);
    assert_eq!(s1.config, crate::status::model::ConfigState::Accepted);
    assert_eq!(s1.speakers.len(), 2);
    assert!(
        s1.sources.iter().all(|s| s.health == Health::Ok),
        "{:?}",
        s1.sources
    );

    let s2 = c.poll().await;
    let h = s2.sources.iter().find(|s| s.name == "bird").unwrap();
    let Health::Failed { error, since_ms } = &h.health else {
        panic!("{h:?}")
    };
    assert_eq!(error, "connection refused");
    assert_eq!(s2.routers[0], bird, "the last view is kept");
    let first_failure = *since_ms;

    let s3 = c.poll().await;
    let h = s3.sources.iter().find(|s| s.name == "bird").unwrap();
    assert_eq!(
        h.health,
        Health::Failed {
            error: "connection refused".into(),
            since_ms: first_failure
        },
        "the streak keeps its start"
    );
    assert_eq!(
        h.last_ok_ms,
        Some(s1.taken_at_ms.min(h.last_ok_ms.unwrap()))
    );

    // The script is exhausted: the router hangs; the poll still returns.
    let t = std::time::Instant::now();
    let s4 = c.poll().await;
    assert!(t.elapsed() < Duration::from_secs(2));
    let h = s4.sources.iter().find(|s| s.name == "bird").unwrap();
    assert!(
        matches!(&h.health, Health::Failed { error, .. } if error.contains("no answer within")),
        "{h:?}"
    );
    assert_eq!(scripted.calls.load(Ordering::SeqCst), 4);
    assert!(s4.history.sessions.len() >= 4);
}

#[tokio::test]
async fn a_router_that_never_answered_is_an_empty_failed_panel() {
    let r = Arc::new(Scripted {
        name: "gobgp1".into(),
        script: Mutex::new(vec![None]),
        calls: AtomicUsize::new(0),
    });
    let mut c = Collector::new(Duration::from_millis(100)).with_router(r);
    let s = c.poll().await;
    assert_eq!(s.routers.len(), 1);
    assert_eq!(s.routers[0].name, "gobgp1");
    assert!(matches!(s.sources[0].health, Health::Failed { .. }));
    let v = crate::status::router_verdict(&s, &s.routers[0]);
    assert!(v.text.starts_with("cannot read the router"), "{v:?}");
}

#[tokio::test]
async fn the_feed_publishes_and_refreshes_on_demand() {
    let f = fixture();
    let r = Arc::new(Scripted {
        name: "bird".into(),
        script: Mutex::new(vec![Some(f.routers[0].clone()); 10]),
        calls: AtomicUsize::new(0),
    });
    let c = Collector::new(Duration::from_millis(200)).with_router(r.clone());
    let mut feed = c.spawn(Duration::from_secs(3600)).await;
    assert_eq!(feed.snapshots.borrow().routers.len(), 1);
    feed.refresh();
    tokio::time::timeout(Duration::from_secs(5), feed.snapshots.changed())
        .await
        .expect("a refresh publishes a new snapshot")
        .unwrap();
    assert_eq!(r.calls.load(Ordering::SeqCst), 2);
    feed.stop();
}

#[tokio::test]
async fn a_speaker_session_down_is_drift() {
    struct DownSpeakers;
    impl SpeakerSource for DownSpeakers {
        fn scrape<'a>(&'a self, _pod: &'a SpeakerPod) -> SourceFuture<'a, SpeakerReading> {
            Box::pin(async move {
                let mut s = fixture().speakers;
                s[0].state = SessionState::Active;
                Ok(SpeakerReading {
                    sessions: s,
                    config_stale: Some(true),
                })
            })
        }
    }
    let mut c = Collector::new(Duration::from_millis(200))
        .with_cluster(Arc::new(FakeCluster))
        .with_speakers(Arc::new(DownSpeakers));
    let s = c.poll().await;
    let kinds: Vec<DriftKind> = s.drift.iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DriftKind::SessionDown), "{kinds:?}");
    assert!(kinds.contains(&DriftKind::ConfigRejected), "{kinds:?}");
}

/// A lab router that was never read carries the kind the lab configured, not "builtin".
#[test]
fn idle_lab_router_keeps_its_configured_kind() {
    use crate::lab::routers::{idle_status, RouterMode};
    use crate::status::RouterKind;
    let topo = crate::lab::topology::Topology::tutorial();
    let kinds = |mode| -> Vec<RouterKind> {
        topo.routers
            .iter()
            .map(|spec| lab::router_view(&idle_status(spec, "127.0.0.1:0", mode)).kind)
            .collect()
    };
    assert_eq!(kinds(RouterMode::Real), [RouterKind::Bird, RouterKind::Frr]);
    assert_eq!(
        kinds(RouterMode::Builtin),
        [RouterKind::Builtin, RouterKind::Builtin]
    );
}
