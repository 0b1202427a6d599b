//! The tokio driver: owns a session's socket and timers and translates between I/O and the
//! Sans-IO `session` machine. One task per session.
//!
//! ```text
//!   Speaker / Router ──routes (watch)──▶ ┌─────────── session task ───────────┐
//!                    ──stop (watch)────▶ │ select! { socket read, FSM deadline, │──▶ TCP peer
//!                                        │           route change, stop }      │◀──
//!   PeerState (Arc<Mutex>) ◀──status──── │ Session::handle → Actions → I/O     │
//!                                        └─────────────────────────────────────┘
//! ```
//!
//! No protocol decisions here: timers, message handling and errors live in `session`; the
//! route diff lives in `rib_out::AdjRibOut`. Dialling goes through a `Dialer`, so the lab can
//! map virtual peer addresses to loopback listeners.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use super::rib_out::{AdjRibOut, Packing, PeerEnv, Table};
use super::session::{self, Action, DownReason, Input, Negotiated, Session, State};
use super::status::PeerState;

/// Errors from dialling and socket setup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    #[error("refusing to dial non-loopback address {0}")]
    NonLoopback(SocketAddr),
    #[error("connect to {0} timed out")]
    ConnectTimeout(SocketAddr),
    /// RFC 2385: the kernel drops segments whose MD5 signature does not match, so a wrong
    /// password shows up only as silence.
    #[error("connect to {0} timed out with a TCP MD5 password set: the peer may have no password or another one for us (segments whose signature does not match are dropped without a reply)")]
    ConnectTimeoutMd5(SocketAddr),
    #[error("connect to {addr} failed")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused TCP MD5 signatures (RFC 2385) for {peer}; is CONFIG_TCP_MD5SIG enabled?")]
    Md5 {
        peer: IpAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// A `Dialer` of another layer refused or failed in its own terms (for example the lab's
    /// virtual network, for an address nothing is mapped to).
    #[error(transparent)]
    Dialer(Box<dyn std::error::Error + Send + Sync>),
}

/// How to open a connection.
#[derive(Clone)]
pub struct DialOptions {
    /// Local address to bind before connecting (the lab's node address).
    pub source: Option<IpAddr>,
    pub timeout: Duration,
    pub md5_password: Option<String>,
}

/// How a TCP MD5 password appears in `Debug` output: whether there is one, never what it is.
pub fn redacted(password: &Option<String>) -> &'static str {
    match password {
        Some(_) => "Some(<redacted>)",
        None => "None",
    }
}

impl std::fmt::Debug for DialOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialOptions")
            .field("source", &self.source)
            .field("timeout", &self.timeout)
            .field(
                "md5_password",
                &format_args!("{}", redacted(&self.md5_password)),
            )
            .finish()
    }
}

pub type DialFuture = Pin<Box<dyn Future<Output = Result<TcpStream, DriverError>> + Send>>;

/// Opens TCP connections to peers: the seam where the lab plugs in its virtual network
/// (`lab::net`), which maps virtual peer addresses to loopback listeners.
pub trait Dialer: Send + Sync {
    fn dial(&self, target: SocketAddr, opts: &DialOptions) -> DialFuture;
}

/// Dials the address as given; with `loopback_only`, refuses anything off 127/8 and ::1.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpDialer {
    pub loopback_only: bool,
}

impl Dialer for TcpDialer {
    fn dial(&self, target: SocketAddr, opts: &DialOptions) -> DialFuture {
        let opts = opts.clone();
        let loopback_only = self.loopback_only;
        Box::pin(async move {
            if loopback_only && !target.ip().is_loopback() {
                return Err(DriverError::NonLoopback(target));
            }
            connect(target, &opts).await
        })
    }
}

async fn connect(target: SocketAddr, opts: &DialOptions) -> Result<TcpStream, DriverError> {
    let err = |source| DriverError::Connect {
        addr: target,
        source,
    };
    let sock = if target.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    if let Some(src) = opts.source {
        sock.bind(SocketAddr::new(src, 0)).map_err(err)?;
    }
    if let Some(pw) = &opts.md5_password {
        md5::set(&sock, target.ip(), pw)?;
    }
    match tokio::time::timeout(opts.timeout, sock.connect(target)).await {
        Err(_) if opts.md5_password.is_some() => Err(DriverError::ConnectTimeoutMd5(target)),
        Err(_) => Err(DriverError::ConnectTimeout(target)),
        Ok(r) => r.map_err(err),
    }
}

/// TCP MD5 signatures (RFC 2385) through `setsockopt(TCP_MD5SIG)`.
pub mod md5 {
    use super::DriverError;
    use std::net::IpAddr;

    /// Sets the MD5 key for `peer` on a socket (connecting or listening).
    pub fn set(
        sock: &impl std::os::fd::AsRawFd,
        peer: IpAddr,
        key: &str,
    ) -> Result<(), DriverError> {
        imp::set(sock.as_raw_fd(), peer, key.as_bytes())
            .map_err(|source| DriverError::Md5 { peer, source })
    }

    #[cfg(target_os = "linux")]
    mod imp {
        use std::io;
        use std::net::IpAddr;

        /// `struct tcp_md5sig` from <linux/tcp.h>.
        #[repr(C)]
        struct TcpMd5Sig {
            addr: libc::sockaddr_storage,
            flags: u8,
            prefixlen: u8,
            keylen: u16,
            ifindex: u32,
            key: [u8; 80],
        }

        // `struct tcp_md5sig` is 216 bytes: its size fits socklen_t on every target.
        #[allow(clippy::cast_possible_truncation)]
        const SIG_LEN: libc::socklen_t = std::mem::size_of::<TcpMd5Sig>() as libc::socklen_t;

        pub(super) fn set(fd: i32, peer: IpAddr, key: &[u8]) -> io::Result<()> {
            if key.is_empty() || key.len() > 80 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "key must be 1..=80 bytes",
                ));
            }
            // SAFETY: all-zero bytes are a valid value for this plain C struct.
            let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
            write_addr(&mut sig.addr, peer);
            sig.keylen = u16::try_from(key.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "key too long"))?;
            sig.key[..key.len()].copy_from_slice(key);
            // SAFETY: `sig` is a live, correctly sized tcp_md5sig; the kernel only reads it.
            let rc = unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_MD5SIG,
                    (&sig as *const TcpMd5Sig).cast(),
                    SIG_LEN,
                )
            };
            if rc == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        }

        // AF_INET (2) and AF_INET6 (10) are small constants that fit sa_family_t (u16).
        #[allow(clippy::cast_possible_truncation)]
        fn write_addr(storage: &mut libc::sockaddr_storage, peer: IpAddr) {
            let p: *mut libc::sockaddr_storage = storage;
            match peer {
                IpAddr::V4(a) => {
                    // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
                    let sin = unsafe { &mut *p.cast::<libc::sockaddr_in>() };
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
                }
                IpAddr::V6(a) => {
                    // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
                    let sin6 = unsafe { &mut *p.cast::<libc::sockaddr_in6>() };
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_addr.s6_addr = a.octets();
                }
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    mod imp {
        pub(super) fn set(_fd: i32, _peer: std::net::IpAddr, _key: &[u8]) -> std::io::Result<()> {
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "TCP MD5 is only supported on Linux",
            ))
        }
    }
}

/// An active session's settings.
#[derive(Clone)]
pub struct PeerConfig {
    /// The peer as configured; the dialer may map it to another address.
    pub peer: SocketAddr,
    pub session: session::Config,
    pub source: Option<IpAddr>,
    pub connect_timeout: Duration,
    pub md5_password: Option<String>,
    pub packing: Packing,
}

impl std::fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConfig")
            .field("peer", &self.peer)
            .field("session", &self.session)
            .field("source", &self.source)
            .field("connect_timeout", &self.connect_timeout)
            .field(
                "md5_password",
                &format_args!("{}", redacted(&self.md5_password)),
            )
            .field("packing", &self.packing)
            .finish()
    }
}

impl PeerConfig {
    pub fn new(peer: SocketAddr, session: session::Config) -> Self {
        PeerConfig {
            peer,
            session,
            source: None,
            connect_timeout: Duration::from_secs(10),
            md5_password: None,
            packing: Packing::Packed,
        }
    }
}

/// What a session task shares with its owner.
pub struct Link {
    pub status: Arc<Mutex<PeerState>>,
    /// Routes to announce (speaker side); `None` for a receive-only session.
    pub routes: Option<watch::Receiver<Table>>,
    /// Becomes `true` to withdraw everything and close with Cease.
    pub stop: watch::Receiver<bool>,
}

/// An error and its causes in one line, each said once, without Rust's `(os error N)`.
fn describe(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = current {
        let mut text = c.to_string();
        if let Some(i) = text.rfind(" (os error ") {
            text.truncate(i);
        }
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = c.source();
    }
    parts.join(": ")
}

/// What to change after a refused OPEN, naming both ASes.
fn refusal_hint(
    reason: &DownReason,
    n: &super::packet::Notification,
    cfg: &session::Config,
    open_as: Option<u32>,
) -> String {
    use super::packet::iana::err;
    if (n.code, n.subcode) != (err::OPEN_MESSAGE, err::BAD_PEER_AS) {
        return String::new();
    }
    match reason {
        DownReason::Sent(_) => format!(
            " (the peer says it is AS {}, we expect AS {}): set the peer AS (--peer-as) to {}, or change the peer's own AS",
            open_as.map_or("?".into(), |a| a.to_string()),
            cfg.peer_as,
            open_as.map_or("its AS".into(), |a| a.to_string()),
        ),
        _ => format!(
            " (we are AS {}, peer AS {}): the peer expects another AS from us; make our AS (--as) match the remote AS the peer configures for this neighbour (BIRD: `neighbor ... as N`, FRR: `neighbor ... remote-as N`)",
            cfg.local_as, cfg.peer_as
        ),
    }
}

/// Runs an active session until stopped: dial, negotiate, announce, reconnect with backoff.
pub async fn run_active(cfg: PeerConfig, dialer: Arc<dyn Dialer>, link: Link) {
    info!(
        "Peer \"{}\" configured, starting BGP session",
        cfg.peer.ip()
    );
    let opts = DialOptions {
        source: cfg.source,
        timeout: cfg.connect_timeout,
        md5_password: cfg.md5_password.clone(),
    };
    let mut task = Task::new(cfg.session.clone(), cfg.peer.to_string(), link, cfg.packing);
    task.dial = Some((dialer, cfg.peer, opts));
    task.push(Input::Start);
    task.run().await;
}

/// Runs a session on an accepted connection until it ends (router side).
pub async fn run_passive(stream: TcpStream, cfg: session::Config, label: String, link: Link) {
    let status = link.status.clone();
    let mut task = Task::new(cfg, label, link, Packing::Packed);
    task.push(Input::Start);
    task.attach(stream);
    task.push(Input::Connected);
    task.run().await;
    // The listener keeps waiting for this neighbour: report it as Active, as FRR does.
    let lock = status.lock();
    if let Ok(mut st) = lock {
        st.state = State::Active;
    }
}

enum Wake {
    Read(io::Result<usize>),
    Wrote(io::Result<usize>),
    Timer,
    Routes,
    Stop,
}

struct Task {
    s: Session,
    label: String,
    link: Link,
    rib_out: AdjRibOut,
    env: Option<PeerEnv>,
    rd: Option<OwnedReadHalf>,
    wr: Option<OwnedWriteHalf>,
    local_addr: Option<IpAddr>,
    rbuf: Vec<u8>,
    /// Bytes queued for the peer; written inside `wait` so reads and timers never stall.
    tx: Vec<u8>,
    tx_off: usize,
    pending: VecDeque<Action>,
    dial: Option<(Arc<dyn Dialer>, SocketAddr, DialOptions)>,
    stopping: bool,
    /// Malformed UPDATE errors seen, for rate-limiting their log lines.
    malformed: u64,
}

impl Task {
    fn new(cfg: session::Config, label: String, link: Link, packing: Packing) -> Self {
        Task {
            s: Session::new(cfg),
            label,
            link,
            rib_out: AdjRibOut::new(packing),
            env: None,
            rd: None,
            wr: None,
            local_addr: None,
            // Four maximum-size messages per read; the session reassembles what spans reads.
            // (Hundreds of sessions live in one lab process: 64 KiB each was 26 MB at 100
            // nodes.)
            rbuf: vec![0; 16 * 1024],
            tx: Vec::new(),
            tx_off: 0,
            pending: VecDeque::new(),
            dial: None,
            stopping: false,
            malformed: 0,
        }
    }

    fn push(&mut self, input: Input<'_>) {
        let actions = self.s.handle(input, Instant::now());
        self.pending.extend(actions);
    }

    fn attach(&mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        self.local_addr = stream.local_addr().ok().map(|a| a.ip());
        let (rd, wr) = stream.into_split();
        self.tx.clear();
        self.tx_off = 0;
        self.rd = Some(rd);
        self.wr = Some(wr);
    }

    async fn run(mut self) {
        loop {
            self.drain().await;
            self.publish();
            let idle = self.s.state() == State::Idle;
            if idle && (self.stopping || self.s.poll_timeout().is_none()) {
                break;
            }
            let wake = self.wait().await;
            self.on_wake(wake);
        }
    }

    /// Carries out queued actions; some (dial, established) queue more.
    async fn drain(&mut self) {
        while let Some(a) = self.pending.pop_front() {
            match a {
                Action::Connect => self.connect().await,
                Action::Send(bytes) => self.tx.extend_from_slice(&bytes),
                Action::Disconnect => {
                    // Let a final NOTIFICATION out, but never wait long for it.
                    self.flush(Duration::from_secs(3)).await;
                    self.rd = None;
                    self.wr = None;
                }
                Action::StateChanged { from, to } => {
                    debug!(peer = %self.label, "BGP state {} -> {}", from.as_str(), to.as_str());
                }
                Action::Established(n) => self.established(*n),
                Action::NotSent(e) => {
                    error!(peer = %self.label, "BGP message not sent: {e}");
                    self.set_error(format!("message not sent: {e}"));
                }
                Action::UpdateErrors(faults) => {
                    for f in &faults {
                        self.malformed += 1;
                        // A peer sending nothing but malformed UPDATEs must not flood the log:
                        // the first ten, then the 16th, 32nd, 64th, ... (the counters in the
                        // status have them all).
                        let n = self.malformed;
                        if n <= 10 || n.is_power_of_two() {
                            warn!(peer = %self.label, "malformed UPDATE: {f} (#{n} from this peer)");
                        } else {
                            debug!(peer = %self.label, "malformed UPDATE: {f} (#{n} from this peer)");
                        }
                    }
                }
                Action::Received(u) => {
                    if let Ok(mut st) = self.link.status.lock() {
                        st.apply_update(&u, SystemTime::now());
                    }
                }
                Action::RouteRefresh => self.announce(true),
                Action::Down(reason) => self.down(reason),
            }
        }
    }

    async fn connect(&mut self) {
        let Some((dialer, target, opts)) = self.dial.clone() else {
            return self.push(Input::ConnectFailed);
        };
        let mut stop = self.link.stop.clone();
        let res = tokio::select! {
            r = dialer.dial(target, &opts) => Some(r),
            _ = stop.wait_for(|s| *s) => None,
        };
        match res {
            Some(Ok(stream)) => {
                self.attach(stream);
                self.push(Input::Connected);
            }
            Some(Err(e)) => {
                let reason = describe(&e);
                self.set_error(reason.clone());
                self.push(Input::ConnectFailed);
                warn!(peer = %self.label, "{reason}{}", self.retry_note());
            }
            None => {
                self.stopping = true;
                self.push(Input::Stop);
            }
        }
    }

    fn established(&mut self, n: Negotiated) {
        self.env = self.local_addr.map(|local_addr| PeerEnv {
            local_as: self.s.config().local_as,
            peer_as: n.peer_as,
            ctx: n.ctx,
            local_addr,
            ipv4: n.ipv4,
            ipv6: n.ipv6,
        });
        if let Ok(mut st) = self.link.status.lock() {
            st.established_at = Some(SystemTime::now());
            st.established_count += 1;
            st.negotiated = Some(n);
        }
        self.announce(true);
        // Logged once the status says so, so whoever reacts to this line sees it there too.
        info!("BGP session to \"{}\" established", self.label);
    }

    /// Sends the route difference (or, with `full`, everything plus End-of-RIB).
    fn announce(&mut self, full: bool) {
        let (Some(env), Some(routes)) = (self.env, self.link.routes.as_mut()) else {
            return;
        };
        // The prefixes changed since the last sync are read under the channel's read lock; a
        // whole-table comparison (a new session, or one that fell behind) copies the table out
        // first, so the speaker is never kept waiting on it.
        let updates = if self.stopping {
            self.rib_out.withdraw_all(&env)
        } else if full {
            let table = routes.borrow_and_update().clone();
            self.rib_out.resync_table(&table, &env)
        } else {
            let table = routes.borrow_and_update();
            match self.rib_out.changes_in(&table, &env) {
                Some(changed) => self.rib_out.sync_table_changes(&table, Some(changed), &env),
                None => {
                    let copy = table.clone();
                    drop(table);
                    self.rib_out.sync_table(&copy, &env)
                }
            }
        };
        let (mut ann, mut wd) = (0u64, 0u64);
        for u in &updates {
            ann += u.announced().count() as u64;
            wd += u.withdrawn_all().count() as u64;
            self.push(Input::Send(u));
        }
        if let Ok(mut st) = self.link.status.lock() {
            st.prefixes_announced += ann;
            st.prefixes_withdrawn += wd;
            st.advertised = self.rib_out.len();
        }
    }

    /// `; retrying in 4s` when the session starts again, else nothing.
    fn retry_note(&self) -> String {
        match self.s.restart_at() {
            Some(at) if !self.stopping => {
                let secs = at.saturating_duration_since(Instant::now()).as_secs_f64();
                format!("; retrying in {}s", secs.round().max(1.0))
            }
            _ => String::new(),
        }
    }

    fn down(&mut self, reason: DownReason) {
        match &reason {
            DownReason::Received(n) | DownReason::Sent(n) => {
                // The peer refused us or we refused it: a configuration mistake that retrying
                // will not fix, so it is an error, with what to change.
                let hint = refusal_hint(&reason, n, self.s.config(), self.s.open_as());
                error!(peer = %self.label, "BGP session refused: {reason}{hint}{}", self.retry_note());
            }
            DownReason::ConnectFailed => {}
            _ if self.env.is_some() => {
                info!(peer = %self.label, reason = %reason, "BGP session down");
            }
            _ => {}
        }
        self.env = None;
        self.rd = None;
        self.wr = None;
        // Bytes queued for the old connection must never reach a new one.
        self.tx.clear();
        self.tx_off = 0;
        if !matches!(reason, DownReason::Stopped | DownReason::ConnectFailed) {
            self.set_error(reason.to_string());
        }
        if let Ok(mut st) = self.link.status.lock() {
            st.clear_rib();
            st.negotiated = None;
            st.established_at = None;
            st.advertised = 0;
        }
    }

    fn set_error(&self, e: String) {
        if let Ok(mut st) = self.link.status.lock() {
            st.last_error = Some(e);
        }
    }

    /// Writes all queued bytes within `limit` (used only before closing the connection).
    async fn flush(&mut self, limit: Duration) {
        let pending = &self.tx[self.tx_off..];
        if let Some(wr) = self.wr.as_mut() {
            if !pending.is_empty() {
                let _ = tokio::time::timeout(limit, wr.write_all(pending)).await;
                self.count_sent(pending.len());
            }
        }
        self.tx.clear();
        self.tx_off = 0;
    }

    fn count_sent(&self, n: usize) {
        if let Ok(mut st) = self.link.status.lock() {
            st.bytes_sent += n as u64;
        }
    }

    /// Accounts for a partial write done inside `wait`; the buffer resets once drained.
    fn wrote(&mut self, n: usize) {
        self.count_sent(n);
        self.tx_off += n;
        if self.tx_off >= self.tx.len() {
            self.tx.clear();
            self.tx_off = 0;
        }
    }

    fn publish(&self) {
        if let Ok(mut st) = self.link.status.lock() {
            st.state = self.s.state();
            st.sent = self.s.sent;
            st.received = self.s.received;
            st.update_errors = self.s.update_errors;
        }
    }

    async fn wait(&mut self) -> Wake {
        let deadline = self.s.poll_timeout().map(tokio::time::Instant::from_std);
        let established = self.s.state() == State::Established && !self.stopping;
        let rd = self.rd.as_mut();
        let buf = &mut self.rbuf;
        let wr = self.wr.as_mut();
        let out = &self.tx[self.tx_off..];
        let routes = self.link.routes.as_mut().filter(|_| established);
        let stop = &mut self.link.stop;
        let stopping = self.stopping;
        tokio::select! {
            r = read_opt(rd, buf) => Wake::Read(r),
            r = write_opt(wr, out), if !out.is_empty() => Wake::Wrote(r),
            _ = sleep_opt(deadline) => Wake::Timer,
            ok = changed_opt(routes) => if ok { Wake::Routes } else { Wake::Timer },
            _ = stop.wait_for(|s| *s), if !stopping => Wake::Stop,
        }
    }

    fn on_wake(&mut self, wake: Wake) {
        match wake {
            Wake::Read(Ok(0)) | Wake::Read(Err(_)) | Wake::Wrote(Err(_)) | Wake::Wrote(Ok(0)) => {
                self.rd = None;
                self.wr = None;
                self.tx.clear();
                self.tx_off = 0;
                self.push(Input::Disconnected);
            }
            Wake::Wrote(Ok(n)) => self.wrote(n),
            Wake::Read(Ok(n)) => {
                if let Ok(mut st) = self.link.status.lock() {
                    st.bytes_received += n as u64;
                }
                let actions = self.s.handle(Input::Data(&self.rbuf[..n]), Instant::now());
                self.pending.extend(actions);
            }
            Wake::Timer => self.push(Input::Timeout),
            Wake::Routes => self.announce(false),
            Wake::Stop => {
                self.stopping = true;
                // Withdraw explicitly before Cease, so peers drop routes at once.
                self.announce(false);
                self.push(Input::Stop);
            }
        }
    }
}

async fn read_opt(rd: Option<&mut OwnedReadHalf>, buf: &mut [u8]) -> io::Result<usize> {
    match rd {
        Some(rd) => rd.read(buf).await,
        None => std::future::pending().await,
    }
}

async fn write_opt(wr: Option<&mut OwnedWriteHalf>, buf: &[u8]) -> io::Result<usize> {
    match wr {
        Some(wr) => wr.write(buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn changed_opt(rx: Option<&mut watch::Receiver<Table>>) -> bool {
    match rx {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_md5_password() {
        let mut cfg = PeerConfig::new(
            "127.0.0.1:179".parse().unwrap(),
            session::Config::new(1, 2, std::net::Ipv4Addr::new(10, 0, 0, 1)),
        );
        cfg.md5_password = Some("hunter2-secret".into());
        let text = format!("{cfg:?} {cfg:#?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("md5_password: Some(<redacted>)"), "{text}");
        let opts = DialOptions {
            source: None,
            timeout: Duration::from_secs(1),
            md5_password: cfg.md5_password.clone(),
        };
        assert!(!format!("{opts:?}").contains("hunter2"));
        let n = super::super::router::Neighbor {
            addr: "127.0.0.2".parse().unwrap(),
            peer_as: 2,
            md5_password: cfg.md5_password.clone(),
        };
        assert!(!format!("{n:?}").contains("hunter2"));
    }
}
