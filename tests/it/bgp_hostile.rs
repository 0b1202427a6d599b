//! Hostile BGP input over real TCP on loopback, from hand-driven peers: oversized messages,
//! OPENs where none may come, connection collisions (RFC 4271 §6.8) and malformed UPDATEs
//! handled per RFC 7606. Each checks the NOTIFICATION on the wire, or its absence, and what
//! the router's status says afterwards.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use metallbctl::bgp::driver::PeerConfig;
use metallbctl::bgp::packet::{
    frame, AsSegment, Attributes, Capability, Ctx, Message, Notification, Open, Origin, Update,
};
use metallbctl::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};
use metallbctl::bgp::session::{Config, State};
use metallbctl::bgp::speaker::Speaker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::support::eventually_async;

const CTX: Ctx = Ctx {
    four_octet_as: true,
};
const PEER_AS: u32 = 64501;
/// Every read from a peer is bounded by this; a healthy reply takes milliseconds.
const READ_LIMIT: Duration = Duration::from_secs(5);

async fn router(listen: &str, peer: &str) -> Router {
    Router::bind(RouterConfig {
        listen: listen.parse().unwrap(),
        local_as: 64512,
        router_id: Ipv4Addr::new(10, 0, 0, 100),
        hold_time: 3,
        neighbors: vec![Neighbor {
            addr: peer.parse().unwrap(),
            peer_as: PEER_AS,
            md5_password: None,
        }],
    })
    .await
    .unwrap()
}

async fn router_until(
    r: &Router,
    what: &str,
    f: impl Fn(&RouterSnapshot) -> bool,
) -> RouterSnapshot {
    eventually_async(what, READ_LIMIT, || {
        let s = r.snapshot();
        let ok = f(&s);
        async move { ok.then_some(s) }
    })
    .await
}

/// A BGP peer driven by hand over one TCP connection.
struct Raw {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    async fn connect(to: SocketAddr, source: &str) -> Raw {
        let sock = TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::new(source.parse().unwrap(), 0))
            .unwrap();
        Raw {
            s: sock.connect(to).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// OPEN with hold time 0, so no timer runs out while a test takes its time.
    fn open() -> Message {
        Message::Open(Open {
            asn: PEER_AS,
            hold_time: 0,
            bgp_id: Ipv4Addr::new(10, 9, 9, 9),
            capabilities: vec![
                Capability::Multiprotocol { afi: 1, safi: 1 },
                Capability::FourOctetAs(PEER_AS),
            ],
        })
    }

    async fn send_bytes(&mut self, b: &[u8]) {
        self.s.write_all(b).await.unwrap();
    }

    async fn send(&mut self, m: &Message) {
        self.send_bytes(&m.encode(&CTX).unwrap()).await;
    }

    /// The next message, or `None` once the router closed the connection.
    async fn recv(&mut self) -> Option<Message> {
        loop {
            if let Ok(Some(n)) = frame(&self.buf) {
                let m = Message::decode(&self.buf[..n], &CTX).unwrap();
                self.buf.drain(..n);
                return Some(m);
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(READ_LIMIT, self.s.read(&mut chunk))
                .await
                .expect("the router neither answered nor closed")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Every NOTIFICATION until the router closes the connection.
    async fn notifications(&mut self) -> Vec<Notification> {
        let mut out = Vec::new();
        while let Some(m) = self.recv().await {
            if let Message::Notification(n) = m {
                out.push(n);
            }
        }
        out
    }

    /// Connects and completes the OPEN exchange: the session is Established on return.
    async fn established(to: SocketAddr, source: &str) -> Raw {
        let mut p = Raw::connect(to, source).await;
        p.send(&Raw::open()).await;
        assert!(matches!(p.recv().await, Some(Message::Open(_))));
        assert_eq!(p.recv().await, Some(Message::Keepalive));
        p.send(&Message::Keepalive).await;
        p
    }
}

fn codes(ns: &[Notification]) -> Vec<(u8, u8)> {
    ns.iter().map(|n| (n.code, n.subcode)).collect()
}

/// A message header announcing `len` octets; the body does not matter, the header is enough.
fn header(len: u16, t: u8) -> Vec<u8> {
    let mut b = vec![0xff; 16];
    b.extend_from_slice(&len.to_be_bytes());
    b.push(t);
    b
}

fn announce(prefix: &str) -> Message {
    Message::Update(Update {
        attrs: Attributes {
            origin: Some(Origin::Igp),
            as_path: Some(vec![AsSegment::Sequence(vec![PEER_AS])]),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..Default::default()
        },
        nlri: vec![prefix.parse().unwrap()],
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_gets_bad_message_length_with_the_length() {
    let r = router("127.0.0.61:0", "127.0.1.61").await;
    let mut p = Raw::established(r.local_addr(), "127.0.1.61").await;
    router_until(&r, "Established", |s| {
        s.peers[0].state == State::Established
    })
    .await;
    // 5000 > 4096 without the extended message capability (RFC 4271 §4.1, §6.1).
    p.send_bytes(&header(5000, 2)).await;
    let ns = p.notifications().await;
    assert_eq!(
        codes(&ns),
        vec![(1, 2)],
        "Message Header Error / Bad Message Length"
    );
    assert_eq!(
        ns[0].data,
        5000u16.to_be_bytes(),
        "the erroneous Length field"
    );
    let s = router_until(&r, "the session to drop", |s| {
        s.peers[0].state != State::Established
    })
    .await;
    let why = s.peers[0].last_error.clone().unwrap_or_default();
    assert!(why.contains("Bad Message Length"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_in_established_is_an_fsm_error() {
    let r = router("127.0.0.62:0", "127.0.1.62").await;
    let mut p = Raw::established(r.local_addr(), "127.0.1.62").await;
    router_until(&r, "Established", |s| {
        s.peers[0].state == State::Established
    })
    .await;
    p.send(&Raw::open()).await;
    // RFC 6608: Receive Unexpected Message in Established State.
    assert_eq!(codes(&p.notifications().await), vec![(5, 3)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_opens_gets_an_fsm_error_in_openconfirm() {
    let r = router("127.0.0.63:0", "127.0.1.63").await;
    let mut p = Raw::connect(r.local_addr(), "127.0.1.63").await;
    let open = Raw::open().encode(&CTX).unwrap();
    let flood: Vec<u8> = open.iter().copied().cycle().take(open.len() * 50).collect();
    // The first OPEN is answered, the second arrives in OpenConfirm (RFC 6608 subcode 2);
    // the rest must not get more than one NOTIFICATION or a crash.
    p.send_bytes(&flood).await;
    let mut got = Vec::new();
    while let Some(m) = p.recv().await {
        got.push(m);
    }
    assert!(matches!(got[0], Message::Open(_)), "{got:?}");
    assert_eq!(got[1], Message::Keepalive);
    let ns: Vec<_> = got
        .iter()
        .filter_map(|m| match m {
            Message::Notification(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(codes(&ns), vec![(5, 2)]);
    // The router is still there for a well-behaved peer.
    let _p = Raw::established(r.local_addr(), "127.0.1.63").await;
    router_until(&r, "Established again", |s| {
        s.peers[0].state == State::Established
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collision_with_an_established_session_closes_the_new_connection() {
    let r = router("127.0.0.64:0", "127.0.1.64").await;
    let mut first = Raw::established(r.local_addr(), "127.0.1.64").await;
    router_until(&r, "Established", |s| {
        s.peers[0].state == State::Established
    })
    .await;
    for _ in 0..3 {
        let mut second = Raw::connect(r.local_addr(), "127.0.1.64").await;
        second.send(&Raw::open()).await;
        assert_eq!(
            codes(&second.notifications().await),
            vec![(6, 7)],
            "Cease / Connection Collision Resolution"
        );
    }
    // The first connection is untouched: it still carries routes.
    first.send(&announce("198.51.100.64/32")).await;
    let s = router_until(&r, "the route over the first connection", |s| {
        s.peers[0].routes.len() == 1
    })
    .await;
    assert_eq!(s.peers[0].state, State::Established);
    assert_eq!(s.peers[0].established_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_replaces_one_that_never_got_established() {
    let r = router("127.0.0.65:0", "127.0.1.65").await;
    // OPEN sent, never confirmed: the peer gave up on it.
    let mut stale = Raw::connect(r.local_addr(), "127.0.1.65").await;
    stale.send(&Raw::open()).await;
    assert!(matches!(stale.recv().await, Some(Message::Open(_))));
    let _fresh = Raw::established(r.local_addr(), "127.0.1.65").await;
    router_until(&r, "Established", |s| {
        s.peers[0].state == State::Established
    })
    .await;
    // The stale connection is closed.
    while stale.recv().await.is_some() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_updates_are_treated_as_withdraw_without_a_reset() {
    let r = router("127.0.0.66:0", "127.0.1.66").await;
    let mut p = Raw::established(r.local_addr(), "127.0.1.66").await;
    p.send(&announce("198.51.100.66/32")).await;
    router_until(&r, "the route", |s| s.peers[0].routes.len() == 1).await;
    // The same prefix again, with ORIGIN 9 (RFC 7606 §7.1: treat-as-withdraw).
    let mut bad = announce("198.51.100.66/32").encode(&CTX).unwrap();
    let origin_value = 19 + 2 + 2 + 3;
    assert_eq!(&bad[origin_value - 3..origin_value], &[0x40, 1, 1]);
    bad[origin_value] = 9;
    p.send_bytes(&bad).await;
    let s = router_until(&r, "the route to be withdrawn", |s| {
        s.peers[0].routes.is_empty()
    })
    .await;
    assert_eq!(s.peers[0].state, State::Established);
    assert_eq!(s.peers[0].update_errors.treat_as_withdraw, 1);
    let json = serde_json::to_value(&s.peers[0]).unwrap();
    assert_eq!(json["update_errors"]["treat_as_withdraw"], 1, "{json}");
    // The session carries routes again right after.
    p.send(&announce("198.51.100.67/32")).await;
    router_until(&r, "a new route", |s| s.peers[0].routes.len() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaker_answers_an_oversized_message_and_says_why() {
    let listener = TcpListener::bind("127.0.0.67:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = Config::new(64500, PEER_AS, Ipv4Addr::new(10, 0, 0, 1));
    cfg.backoff_min = Duration::from_secs(30);
    let mut pc = PeerConfig::new(addr, cfg);
    pc.source = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 67)));
    let mut sp = Speaker::new(std::sync::Arc::new(metallbctl::bgp::driver::TcpDialer {
        loopback_only: true,
    }));
    sp.add_peer(pc, Default::default());
    let (s, _) = tokio::time::timeout(READ_LIMIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut p = Raw { s, buf: Vec::new() };
    assert!(matches!(p.recv().await, Some(Message::Open(_))));
    p.send(&Raw::open()).await;
    p.send(&Message::Keepalive).await;
    p.send_bytes(&header(65535, 2)).await;
    let ns = p.notifications().await;
    assert_eq!(codes(&ns), vec![(1, 2)]);
    assert_eq!(ns[0].data, 65535u16.to_be_bytes());
    let why = eventually_async("the speaker's status to say why", READ_LIMIT, || {
        let e = sp.snapshot()[0].last_error.clone();
        async move { e }
    })
    .await;
    assert!(
        why.contains("Message Header Error / Bad Message Length"),
        "{why}"
    );
    sp.shutdown(Duration::from_secs(1)).await;
}
