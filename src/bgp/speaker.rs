//! The speaker: runs one driver task per peer and feeds it route sets. The route diff and
//! UPDATE packing live in the pure `rib_out`; `Speaker` only wires channels to `driver`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::driver::{self, Dialer, PeerConfig};
use super::rib_out::{Routes, Table};
use super::status::{PeerSnapshot, PeerState};

/// Handle on one peer's session task.
struct PeerHandle {
    routes: watch::Sender<Arc<Table>>,
    stop: watch::Sender<bool>,
    status: Arc<Mutex<PeerState>>,
    task: JoinHandle<()>,
}

/// Runs sessions to a set of peers and keeps each one's desired routes.
pub struct Speaker {
    dialer: Arc<dyn Dialer>,
    peers: BTreeMap<SocketAddr, PeerHandle>,
}

impl Speaker {
    pub fn new(dialer: Arc<dyn Dialer>) -> Self {
        Speaker {
            dialer,
            peers: BTreeMap::new(),
        }
    }

    /// Starts a session task to `cfg.peer` (replacing any previous one).
    pub fn add_peer(&mut self, cfg: PeerConfig, routes: Routes) {
        let status = Arc::new(Mutex::new(PeerState::new(
            cfg.peer.to_string(),
            cfg.session.local_as,
            cfg.session.peer_as,
        )));
        let (routes_tx, routes_rx) = watch::channel(Arc::new(Table::new(routes)));
        let (stop_tx, stop_rx) = watch::channel(false);
        let peer = cfg.peer;
        let link = driver::Link {
            status: status.clone(),
            routes: Some(routes_rx),
            stop: stop_rx,
        };
        let task = tokio::spawn(driver::run_active(cfg, self.dialer.clone(), link));
        let handle = PeerHandle {
            routes: routes_tx,
            stop: stop_tx,
            status,
            task,
        };
        if let Some(old) = self.peers.insert(peer, handle) {
            old.task.abort();
        }
    }

    /// Replaces the routes wanted for `peer`; the session sends only the difference.
    pub fn set_routes(&self, peer: &SocketAddr, routes: Routes) -> bool {
        match self.peers.get(peer) {
            Some(h) => h.routes.send(Arc::new(Table::new(routes))).is_ok(),
            None => false,
        }
    }

    pub fn snapshot(&self) -> Vec<PeerSnapshot> {
        let now = SystemTime::now();
        self.peers
            .values()
            .filter_map(|h| h.status.lock().ok().map(|s| s.snapshot(now)))
            .collect()
    }

    /// Withdraws everything, closes each session with Cease, and waits (bounded) for the tasks.
    pub async fn shutdown(self, wait: Duration) {
        for h in self.peers.values() {
            let _ = h.stop.send(true);
        }
        for (_, h) in self.peers {
            let abort = h.task.abort_handle();
            if tokio::time::timeout(wait, h.task).await.is_err() {
                abort.abort();
            }
        }
    }
}
