//! The router: a passive BGP listener that accepts configured neighbours (by source address),
//! keeps an Adj-RIB-In per session with full attributes and counts what it sees, and exposes
//! a cloneable, serialisable snapshot for the lab, the CLI and the TUI.
//!
//! Socket work goes through `driver`; protocol work through `session`. No kube, no ratatui.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ipnet::IpNet;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::driver::{self, md5, DriverError, Link};
use super::packet::iana::err;
use super::packet::{Ctx, Message, Notification};
use super::session::{self, State};
use super::status::{PeerSnapshot, PeerState};

/// A neighbour allowed to connect.
#[derive(Clone)]
pub struct Neighbor {
    pub addr: IpAddr,
    pub peer_as: u32,
    pub md5_password: Option<String>,
}

impl std::fmt::Debug for Neighbor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neighbor")
            .field("addr", &self.addr)
            .field("peer_as", &self.peer_as)
            .field(
                "md5_password",
                &format_args!("{}", driver::redacted(&self.md5_password)),
            )
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub listen: SocketAddr,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub hold_time: u16,
    pub neighbors: Vec<Neighbor>,
}

/// Everything the router knows, at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouterSnapshot {
    pub listen: String,
    pub local_as: u32,
    pub router_id: String,
    pub peers: Vec<PeerSnapshot>,
}

struct Slot {
    neighbor: Neighbor,
    status: Arc<Mutex<PeerState>>,
    conn: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

type Slots = Arc<Mutex<BTreeMap<IpAddr, Slot>>>;

/// A running router; dropping it without `shutdown` aborts the accept loop.
pub struct Router {
    cfg: RouterConfig,
    local_addr: SocketAddr,
    slots: Slots,
    accept: JoinHandle<()>,
}

impl Router {
    /// Binds the listener (with MD5 keys for neighbours that have one) and starts accepting.
    pub async fn bind(cfg: RouterConfig) -> Result<Router, DriverError> {
        let listener = listen(&cfg)?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| DriverError::Listen {
                addr: cfg.listen,
                source,
            })?;
        let slots: Slots = Arc::new(Mutex::new(
            cfg.neighbors
                .iter()
                .map(|n| (n.addr, new_slot(&cfg, n)))
                .collect(),
        ));
        info!("BGP router listening on {local_addr} as AS{}", cfg.local_as);
        let accept = tokio::spawn(accept_loop(listener, cfg.clone(), slots.clone()));
        Ok(Router {
            cfg,
            local_addr,
            slots,
            accept,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn snapshot(&self) -> RouterSnapshot {
        let now = SystemTime::now();
        let peers = match self.slots.lock() {
            Ok(slots) => slots
                .values()
                .filter_map(|s| s.status.lock().ok().map(|st| st.snapshot(now)))
                .collect(),
            Err(_) => Vec::new(),
        };
        RouterSnapshot {
            listen: self.local_addr.to_string(),
            local_as: self.cfg.local_as,
            router_id: self.cfg.router_id.to_string(),
            peers,
        }
    }

    /// How many sessions hold each prefix in their Adj-RIB-In. Much cheaper than a
    /// [`snapshot`](Self::snapshot) (no attributes formatted), for polling at scale.
    pub fn paths_per_prefix(&self) -> BTreeMap<IpNet, usize> {
        let mut out: BTreeMap<IpNet, usize> = BTreeMap::new();
        let Ok(slots) = self.slots.lock() else {
            return out;
        };
        for slot in slots.values() {
            if let Ok(st) = slot.status.lock() {
                for p in st.rib_in.keys() {
                    *out.entry(*p).or_default() += 1;
                }
            }
        }
        out
    }

    /// Closes every session with Cease and stops listening.
    pub async fn shutdown(self, wait: Duration) {
        self.accept.abort();
        let conns: Vec<_> = match self.slots.lock() {
            Ok(mut slots) => slots.values_mut().filter_map(|s| s.conn.take()).collect(),
            Err(_) => Vec::new(),
        };
        for (stop, task) in conns {
            let _ = stop.send(true);
            let abort = task.abort_handle();
            if tokio::time::timeout(wait, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut slots) = self.slots.lock() {
            for s in slots.values_mut() {
                if let Some((_, task)) = s.conn.take() {
                    task.abort();
                }
            }
        }
    }
}

fn new_slot(cfg: &RouterConfig, n: &Neighbor) -> Slot {
    let mut st = PeerState::new(n.addr.to_string(), cfg.local_as, n.peer_as);
    st.state = State::Active;
    Slot {
        neighbor: n.clone(),
        status: Arc::new(Mutex::new(st)),
        conn: None,
    }
}

fn listen(cfg: &RouterConfig) -> Result<TcpListener, DriverError> {
    let err = |source| DriverError::Listen {
        addr: cfg.listen,
        source,
    };
    let sock = if cfg.listen.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    sock.set_reuseaddr(true).map_err(err)?;
    sock.bind(cfg.listen).map_err(err)?;
    for n in &cfg.neighbors {
        if let Some(pw) = &n.md5_password {
            md5::set(&sock, n.addr, pw)?;
        }
    }
    sock.listen(64).map_err(err)
}

async fn accept_loop(listener: TcpListener, cfg: RouterConfig, slots: Slots) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = canonical(remote.ip());
        let Ok(mut slots) = slots.lock() else { return };
        let Some(slot) = slots.get_mut(&ip) else {
            warn!("rejecting BGP connection from unconfigured peer {remote}");
            continue;
        };
        if established(slot) {
            // RFC 4271 §6.8: a collision with an Established session closes the new
            // connection. Our router never dials, so both connections come from the peer and
            // the BGP Identifier comparison has nothing to choose between; without this
            // rule any host at the neighbour's address could tear the session down by
            // connecting again.
            warn!(
                "connection collision with {remote}: keeping the established session, \
                 closing the new connection with Cease / Connection Collision Resolution"
            );
            tokio::spawn(refuse(stream, err::CONNECTION_COLLISION_RESOLUTION));
            continue;
        }
        // Not established: the peer gave up on the old connection (it restarted, or its
        // OPEN exchange stalled), so the new one replaces it.
        if let Some((_, old)) = slot.conn.take() {
            old.abort();
        }
        if let Ok(mut st) = slot.status.lock() {
            st.clear_rib();
            st.negotiated = None;
            st.established_at = None;
        }
        let mut scfg = session::Config::new(cfg.local_as, slot.neighbor.peer_as, cfg.router_id);
        scfg.hold_time = cfg.hold_time;
        scfg.passive = true;
        scfg.auto_restart = false;
        let (stop_tx, stop_rx) = watch::channel(false);
        let link = Link {
            status: slot.status.clone(),
            routes: None,
            stop: stop_rx,
        };
        let label = ip.to_string();
        let task = tokio::spawn(driver::run_passive(stream, scfg, label, link));
        slot.conn = Some((stop_tx, task));
    }
}

/// True while the slot's session task runs and is Established.
fn established(slot: &Slot) -> bool {
    let running = slot.conn.as_ref().is_some_and(|(_, t)| !t.is_finished());
    running
        && slot
            .status
            .lock()
            .is_ok_and(|st| st.state == State::Established)
}

/// Answers a connection we will not use with NOTIFICATION Cease / `subcode`, then closes it
/// once the peer has read it, within a bound: closing with unread input would reset the
/// connection, and the reset could destroy the NOTIFICATION before the peer reads it.
async fn refuse(mut stream: TcpStream, subcode: u8) {
    let n = Message::Notification(Notification {
        code: err::CEASE,
        subcode,
        data: Vec::new(),
    });
    // A NOTIFICATION without data always fits.
    let Ok(bytes) = n.encode(&Ctx::default()) else {
        return;
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
