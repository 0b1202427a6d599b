//! `kubectl logs -f`: the HTTP stream that follows a container's log buffer (kept in the
//! store, see `logs`) until the pod is deleted or the server stops.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::Stream;
use tokio::sync::watch;

use super::logs::LogKey;
use super::store::Store;

/// How often a follower checks that its pod still exists while no lines arrive.
const RECHECK: Duration = Duration::from_secs(1);

fn text(lines: &[String]) -> Bytes {
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    Bytes::from(out)
}

struct Follow {
    store: Store,
    key: LogKey,
    next: u64,
    rx: watch::Receiver<u64>,
}

impl Follow {
    fn pod_exists(&self) -> bool {
        let def = self.store.registry().find("", "v1", "pods");
        def.is_some_and(|d| self.store.get(&d, Some(&self.key.0), &self.key.1).is_ok())
    }
}

async fn next_chunk(mut f: Follow) -> Option<(Result<Bytes, Infallible>, Follow)> {
    loop {
        f.rx.borrow_and_update();
        let (lines, next) = f.store.logs().since(&f.key, f.next);
        f.next = next;
        if !lines.is_empty() {
            return Some((Ok(text(&lines)), f));
        }
        if f.store.is_closed() || !f.pod_exists() {
            return None;
        }
        if let Ok(Err(_)) = tokio::time::timeout(RECHECK, f.rx.changed()).await {
            return None;
        }
    }
}

/// The log from `start` on, then every new line until the pod is deleted or the server stops.
pub fn follow(
    store: Store,
    key: LogKey,
    start: u64,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let rx = store.logs().subscribe();
    futures_util::stream::unfold(
        Follow {
            store,
            key,
            next: start,
            rx,
        },
        next_chunk,
    )
}
