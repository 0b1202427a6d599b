//! BGP faults seen from our speaker, each with a bound on recovery (no external daemons):
//!
//! - the router is killed and comes back after a while: the speaker retries with backoff
//!   (a handful of connection attempts, not a tight loop; cf. metallb/metallb#1114), and the
//!   routes are back within the connect-retry time plus 1 s of the router's return;
//! - the peer goes silent (keeps the socket open, stops sending): the speaker notices when the
//!   hold timer expires (cf. metallb/metallb#777), says so in its status, and tells the peer
//!   with a Hold Timer Expired NOTIFICATION.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metallbctl::bgp::driver::{DialFuture, DialOptions, Dialer, PeerConfig};
use metallbctl::bgp::packet::{Capability, Ctx, Message, Open};
use metallbctl::bgp::rib_out::{Advert, Routes};
use metallbctl::bgp::router::{Neighbor, Router, RouterConfig};
use metallbctl::bgp::session::{Config, State};
use metallbctl::bgp::speaker::Speaker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{eventually_async, MovingPeer};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// Counts every connection attempt the speaker makes.
struct Counting {
    inner: Arc<dyn Dialer>,
    attempts: Arc<AtomicUsize>,
}

impl Dialer for Counting {
    fn dial(&self, target: SocketAddr, opts: &DialOptions) -> DialFuture {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.inner.dial(target, opts)
    }
}

fn routes(prefix: &str) -> Routes {
    std::iter::once((prefix.parse().expect("prefix"), Advert::default())).collect()
}

async fn router(listen: &str, neighbor: &str) -> Router {
    Router::bind(RouterConfig {
        listen: listen.parse().expect("listen"),
        local_as: 64512,
        router_id: Ipv4Addr::new(10, 0, 0, 100),
        hold_time: 9,
        neighbors: vec![Neighbor {
            addr: ip(neighbor),
            peer_as: 64500,
            md5_password: None,
        }],
    })
    .await
    .expect("router binds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_router_is_redialled_with_backoff_and_gets_its_routes_back() {
    const RETRY_MIN: Duration = Duration::from_millis(500);
    const CONNECT_RETRY: Duration = Duration::from_secs(2);
    const DOWN: Duration = Duration::from_secs(4);
    let r = router("127.0.0.61:0", "127.0.1.61").await;
    let peer = MovingPeer::new("10.96.0.61:179", r.local_addr());
    let attempts = Arc::new(AtomicUsize::new(0));
    let dialer = Arc::new(Counting {
        inner: peer.dialer(),
        attempts: attempts.clone(),
    });
    let mut session = Config::new(64500, 64512, Ipv4Addr::new(10, 0, 0, 1));
    session.hold_time = 9;
    session.backoff_min = RETRY_MIN;
    session.backoff_max = CONNECT_RETRY;
    let mut cfg = PeerConfig::new(peer.virt, session);
    cfg.source = Some(ip("127.0.1.61"));
    let mut sp = Speaker::new(dialer);
    sp.add_peer(cfg, routes("198.51.100.61/32"));
    eventually_async("the route at the router", Duration::from_secs(10), || {
        let n = r.snapshot().peers[0].routes.len();
        async move { (n == 1).then_some(()) }
    })
    .await;

    // The router dies; it stays away for DOWN.
    r.shutdown(Duration::ZERO).await;
    let before = attempts.load(Ordering::SeqCst);
    let down_at = Instant::now();
    tokio::time::sleep(DOWN).await;
    let while_down = attempts.load(Ordering::SeqCst) - before;
    assert!(
        !matches!(sp.snapshot()[0].state, State::Established),
        "the speaker noticed the router is gone"
    );
    // Backoff 0.5 s, 1 s, 2 s, 2 s ...: about 3 attempts in 4 s. A tight loop makes thousands.
    let most = 2 + (DOWN.as_millis() / RETRY_MIN.as_millis()) as usize / 2;
    assert!(
        (1..=most).contains(&while_down),
        "{while_down} connection attempts in {:?} (expected 1..={most})",
        down_at.elapsed()
    );

    let r2 = router("127.0.0.61:0", "127.0.1.61").await;
    peer.set(r2.local_addr());
    let back_at = Instant::now();
    eventually_async(
        "the route back at the restarted router",
        CONNECT_RETRY + Duration::from_secs(5),
        || {
            let n = r2.snapshot().peers[0].routes.len();
            async move { (n == 1).then_some(()) }
        },
    )
    .await;
    let back = back_at.elapsed();
    eprintln!(
        "router killed for {DOWN:?}: {while_down} connection attempts while down; routes back {back:?} after it returned (connect-retry {CONNECT_RETRY:?})"
    );
    assert!(
        back <= CONNECT_RETRY + Duration::from_secs(1),
        "routes back after {back:?}, more than connect-retry {CONNECT_RETRY:?} + 1 s"
    );
    assert!(sp.snapshot()[0].established_count >= 2);
    sp.shutdown(Duration::from_secs(1)).await;
    r2.shutdown(Duration::from_secs(1)).await;
}

/// (code, subcode) of every NOTIFICATION in `b`.
fn notifications(mut b: &[u8]) -> Vec<(u8, u8)> {
    let ctx = Ctx {
        four_octet_as: true,
    };
    let mut out = Vec::new();
    while let Ok(Some(n)) = metallbctl::bgp::packet::frame(b) {
        if let Ok(Message::Notification(x)) = Message::decode(&b[..n], &ctx) {
            out.push((x.code, x.subcode));
        }
        b = &b[n..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_detected_at_hold_timer_expiry_and_reported() {
    const HOLD: u16 = 3;
    let listener = tokio::net::TcpListener::bind("127.0.0.62:0")
        .await
        .expect("bind");
    let peer = MovingPeer::new("10.96.0.62:179", listener.local_addr().expect("addr"));
    let mut session = Config::new(64500, 64512, Ipv4Addr::new(10, 0, 0, 1));
    session.hold_time = HOLD;
    // Long enough that the speaker does not redial within this test.
    session.backoff_min = Duration::from_secs(30);
    let mut cfg = PeerConfig::new(peer.virt, session);
    cfg.source = Some(ip("127.0.1.62"));
    let mut sp = Speaker::new(peer.dialer());
    sp.add_peer(cfg, routes("198.51.100.62/32"));

    // The peer: OPEN and one KEEPALIVE, then nothing, socket kept open; it records what the
    // speaker sends until the speaker closes.
    let (mut sock, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the speaker dials")
        .expect("accept");
    let open = Message::Open(Open {
        asn: 64512,
        hold_time: HOLD,
        bgp_id: Ipv4Addr::new(10, 9, 9, 62),
        capabilities: vec![Capability::FourOctetAs(64512)],
    });
    sock.write_all(&open.encode(&Ctx::default()).expect("encode OPEN"))
        .await
        .expect("OPEN");
    sock.write_all(
        &Message::Keepalive
            .encode(&Ctx::default())
            .expect("encode KEEPALIVE"),
    )
    .await
    .expect("KEEPALIVE");
    let established_at = eventually_async("Established", Duration::from_secs(5), || {
        let s = sp.snapshot()[0].state;
        async move { (s == State::Established).then(Instant::now) }
    })
    .await;
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(15), sock.read_to_end(&mut got)).await;
        got
    });
    let detected = eventually_async(
        "the speaker to report the hold timer",
        Duration::from_secs(u64::from(HOLD) + 5),
        || {
            let s = sp.snapshot()[0].clone();
            async move {
                (s.state != State::Established
                    && s.last_error.as_deref() == Some("hold timer expired"))
                .then(|| established_at.elapsed())
            }
        },
    )
    .await;
    let got = reader.await.expect("reader");
    eprintln!("silent peer: detected {detected:?} after Established (hold time {HOLD} s)");
    assert!(
        detected >= Duration::from_millis(u64::from(HOLD) * 1000 - 200),
        "detected too early: {detected:?}"
    );
    assert!(
        detected <= Duration::from_secs(u64::from(HOLD) + 1),
        "detected late: {detected:?}"
    );
    assert_eq!(notifications(&got), vec![(4, 0)], "Hold Timer Expired sent");
    sp.shutdown(Duration::from_secs(1)).await;
}
