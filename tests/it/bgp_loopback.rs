//! Our speaker against our router over real TCP on loopback: routes, withdrawals, resync,
//! hold timer on a silent peer, malformed input, TCP MD5. No external daemons.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use metallbctl::bgp::driver::{PeerConfig, TcpDialer};
use metallbctl::bgp::packet::{Capability, Ctx, Message, Open};
use metallbctl::bgp::rib_out::{Advert, Routes};
use metallbctl::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};
use metallbctl::bgp::session::{Config, State};
use metallbctl::bgp::speaker::Speaker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{eventually_async, MovingPeer};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn router(listen: &str, local_as: u32, peer: &str, peer_as: u32, pw: Option<&str>) -> Router {
    Router::bind(RouterConfig {
        listen: listen.parse().unwrap(),
        local_as,
        router_id: Ipv4Addr::new(10, 0, 0, 100),
        hold_time: 3,
        neighbors: vec![Neighbor {
            addr: ip(peer),
            peer_as,
            md5_password: pw.map(String::from),
        }],
    })
    .await
    .unwrap()
}

fn speaker_cfg(peer: SocketAddr, source: &str, local_as: u32, peer_as: u32) -> PeerConfig {
    let mut s = Config::new(local_as, peer_as, Ipv4Addr::new(10, 0, 0, 1));
    s.hold_time = 3;
    s.backoff_min = Duration::from_millis(100);
    let mut c = PeerConfig::new(peer, s);
    c.source = Some(ip(source));
    c
}

fn routes(prefixes: &[&str], advert: Advert) -> Routes {
    prefixes
        .iter()
        .map(|p| (p.parse().unwrap(), advert.clone()))
        .collect()
}

async fn wait_for(r: &Router, what: &str, f: impl Fn(&RouterSnapshot) -> bool) -> RouterSnapshot {
    for _ in 0..100 {
        let s = r.snapshot();
        if f(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}: {:#?}", r.snapshot());
}

fn dialer() -> Arc<TcpDialer> {
    Arc::new(TcpDialer {
        loopback_only: true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebgp_routes_arrive_change_and_are_withdrawn() {
    let r = router("127.0.0.51:0", 64512, "127.0.1.1", 64500, None).await;
    let mut sp = Speaker::new(dialer());
    let peer = r.local_addr();
    let ad = Advert {
        next_hop: Some(ip("192.0.2.1")),
        local_pref: Some(300),
        communities: vec![(64500 << 16) | 100],
        large_communities: vec![[64500, 1, 2]],
    };
    sp.add_peer(
        speaker_cfg(peer, "127.0.1.1", 64500, 64512),
        routes(
            &["198.51.100.10/32", "198.51.100.11/32", "2001:db8::10/128"],
            ad.clone(),
        ),
    );
    let s = wait_for(&r, "3 routes", |s| s.peers[0].routes.len() == 3).await;
    let p = &s.peers[0];
    assert_eq!(p.state, State::Established);
    assert_eq!(p.hold_time, Some(3));
    assert!(p.peer_capabilities.contains(&"4-octet-as".to_string()));
    let r10 = &p
        .routes
        .iter()
        .find(|r| r.prefix == "198.51.100.10/32")
        .unwrap();
    assert_eq!(r10.next_hop.as_deref(), Some("192.0.2.1"));
    assert_eq!(r10.as_path, "64500");
    assert_eq!(r10.local_pref, None, "no LOCAL_PREF on eBGP");
    assert_eq!(r10.origin, Some("incomplete"));
    assert_eq!(r10.communities, vec!["64500:100"]);
    assert_eq!(r10.large_communities, vec!["64500:1:2"]);
    let v6 = &p
        .routes
        .iter()
        .find(|r| r.prefix == "2001:db8::10/128")
        .unwrap();
    assert_eq!(v6.next_hop.as_deref(), Some("::ffff:192.0.2.1"));

    sp.set_routes(&peer, routes(&["198.51.100.11/32"], ad));
    wait_for(&r, "withdrawal", |s| s.peers[0].routes.len() == 1).await;

    sp.shutdown(Duration::from_secs(2)).await;
    let s = wait_for(&r, "session down", |s| s.peers[0].state == State::Active).await;
    assert!(s.peers[0].routes.is_empty());
    assert!(s.peers[0]
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("Administrative Shutdown"));
    r.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ibgp_sends_local_pref_and_empty_as_path_and_resyncs_after_router_restart() {
    let r = router("127.0.0.52:0", 64500, "127.0.1.2", 64500, None).await;
    // The restarted router gets a fresh port; the speaker dials a virtual address mapped to
    // whichever port the router has now.
    let peer = MovingPeer::new("10.96.0.52:179", r.local_addr());
    let mut sp = Speaker::new(peer.dialer());
    sp.add_peer(
        speaker_cfg(peer.virt, "127.0.1.2", 64500, 64500),
        routes(&["198.51.100.20/32"], Advert::default()),
    );
    let s = wait_for(&r, "route", |s| s.peers[0].routes.len() == 1).await;
    let route = &s.peers[0].routes[0];
    assert_eq!(route.local_pref, Some(100));
    assert_eq!(route.as_path, "");
    assert_eq!(
        route.next_hop.as_deref(),
        Some("127.0.1.2"),
        "default next hop is the source"
    );
    r.shutdown(Duration::from_secs(1)).await;
    // A new router: the speaker reconnects (backoff) and resends.
    let r2 = router("127.0.0.52:0", 64500, "127.0.1.2", 64500, None).await;
    peer.set(r2.local_addr());
    wait_for(&r2, "route after restart", |s| s.peers[0].routes.len() == 1).await;
    assert!(sp.snapshot()[0].established_count >= 2);
    sp.shutdown(Duration::from_secs(1)).await;
    r2.shutdown(Duration::from_secs(1)).await;
}

/// Sends OPEN and KEEPALIVE by hand, then `then`; returns the reply bytes until close.
async fn raw_peer(router: SocketAddr, source: &str, asn: u32, then: &[u8]) -> Vec<u8> {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(ip(source), 0)).unwrap();
    let mut s: TcpStream = sock.connect(router).await.unwrap();
    let open = Message::Open(Open {
        asn,
        hold_time: 3,
        bgp_id: Ipv4Addr::new(10, 9, 9, 9),
        capabilities: vec![Capability::FourOctetAs(asn)],
    });
    let _ = s.write_all(&open.encode(&Ctx::default()).unwrap()).await;
    let _ = s
        .write_all(&Message::Keepalive.encode(&Ctx::default()).unwrap())
        .await;
    let _ = s.write_all(then).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut got)).await;
    got
}

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
async fn silent_peer_is_dropped_when_the_hold_time_passes() {
    let r = router("127.0.0.53:0", 64512, "127.0.1.3", 64501, None).await;
    let start = std::time::Instant::now();
    let got = raw_peer(r.local_addr(), "127.0.1.3", 64501, &[]).await;
    let took = start.elapsed();
    assert_eq!(notifications(&got), vec![(4, 0)], "Hold Timer Expired");
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let s = r.snapshot();
    assert_eq!(s.peers[0].last_error.as_deref(), Some("hold timer expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_update_gets_notification_and_reset() {
    let r = router("127.0.0.54:0", 64512, "127.0.1.4", 64501, None).await;
    // UPDATE whose withdrawn length runs past the end.
    let mut bad = vec![0xff; 16];
    bad.extend_from_slice(&[0, 23, 2, 0, 9, 0, 0]);
    let got = raw_peer(r.local_addr(), "127.0.1.4", 64501, &bad).await;
    assert_eq!(notifications(&got), vec![(3, 1)]);
    let got = raw_peer(r.local_addr(), "127.0.1.4", 64999, &[]).await;
    assert_eq!(notifications(&got), vec![(2, 2)], "Bad Peer AS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfigured_peer_is_refused() {
    let r = router("127.0.0.55:0", 64512, "127.0.1.5", 64501, None).await;
    let got = raw_peer(r.local_addr(), "127.0.1.99", 64501, &[]).await;
    assert!(got.is_empty());
    assert_eq!(r.snapshot().peers[0].state, State::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_md5_password_protects_the_session() {
    let r = match Router::bind(RouterConfig {
        listen: "127.0.0.56:0".parse().unwrap(),
        local_as: 64512,
        router_id: Ipv4Addr::new(10, 0, 0, 100),
        hold_time: 3,
        neighbors: vec![Neighbor {
            addr: ip("127.0.1.6"),
            peer_as: 64500,
            md5_password: Some("s3cret".into()),
        }],
    })
    .await
    {
        Ok(r) => r,
        Err(e) => {
            // Skips locally, fails under METALLBCTL_REQUIRE_PEERS=1 (CI), like the daemons.
            let hint = format!("the kernel refused TCP MD5: {e}");
            assert!(!crate::support::require(
                "kernel TCP MD5 (CONFIG_TCP_MD5SIG)",
                false,
                &hint
            ));
            return;
        }
    };
    let mut sp = Speaker::new(dialer());
    let mut cfg = speaker_cfg(r.local_addr(), "127.0.1.6", 64500, 64512);
    cfg.md5_password = Some("s3cret".into());
    sp.add_peer(cfg, routes(&["198.51.100.30/32"], Advert::default()));
    wait_for(&r, "route over MD5", |s| s.peers[0].routes.len() == 1).await;
    sp.shutdown(Duration::from_secs(1)).await;

    // Without the key the SYN is dropped: no session. The speaker's own report that its
    // connection attempt timed out is the signal that the attempt which would have delivered
    // the route has happened; only then is the route's absence meaningful.
    let mut sp = Speaker::new(dialer());
    let mut cfg = speaker_cfg(r.local_addr(), "127.0.1.6", 64500, 64512);
    cfg.connect_timeout = Duration::from_millis(500);
    sp.add_peer(cfg, routes(&["198.51.100.31/32"], Advert::default()));
    let attempt = eventually_async(
        "the keyless connection attempt to time out",
        Duration::from_secs(10),
        || {
            let err = sp.snapshot()[0].last_error.clone();
            async move { err.filter(|e| e.contains("timed out")) }
        },
    )
    .await;
    let speaker = &sp.snapshot()[0];
    assert_eq!(speaker.established_count, 0, "{attempt}");
    assert_ne!(speaker.state, State::Established);
    assert!(r.snapshot().peers[0]
        .routes
        .iter()
        .all(|r| r.prefix != "198.51.100.31/32"));
    sp.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn loopback_only_dialer_refuses_other_addresses() {
    use metallbctl::bgp::driver::{DialOptions, Dialer};
    let d = TcpDialer {
        loopback_only: true,
    };
    let opts = DialOptions {
        source: None,
        timeout: Duration::from_millis(100),
        md5_password: None,
    };
    let e = d
        .dial("10.96.0.100:179".parse().unwrap(), &opts)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("non-loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapped_dialer_reaches_a_virtual_service_address_on_loopback() {
    use metallbctl::lab::net::MappedDialer;
    let r = router("127.0.0.57:0", 64512, "127.0.1.7", 64500, None).await;
    let real = r.local_addr();
    let virtual_addr: SocketAddr = "10.96.0.100:179".parse().unwrap();
    let map = Arc::new(move |a: SocketAddr| (a == virtual_addr).then_some(real));
    let dialer = Arc::new(MappedDialer::new(
        TcpDialer {
            loopback_only: true,
        },
        map,
    ));
    let mut sp = Speaker::new(dialer);
    sp.add_peer(
        speaker_cfg(virtual_addr, "127.0.1.7", 64500, 64512),
        routes(&["198.51.100.40/32"], Advert::default()),
    );
    wait_for(&r, "route via the virtual address", |s| {
        s.peers[0].routes.len() == 1
    })
    .await;
    assert_eq!(sp.snapshot()[0].peer, "10.96.0.100:179");
    sp.shutdown(Duration::from_secs(1)).await;
}

/// `Router::paths_per_prefix` (the cheap count the 100-node bench polls) agrees with the
/// router's snapshot, and paths from different neighbours with different next hops keep their
/// own attributes although each session shares equal ones between its paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_per_prefix_counts_what_the_snapshot_shows() {
    let nodes = ["127.0.1.21", "127.0.1.22"];
    let r = Router::bind(RouterConfig {
        listen: "127.0.0.58:0".parse().unwrap(),
        local_as: 64512,
        router_id: Ipv4Addr::new(10, 0, 0, 100),
        hold_time: 3,
        neighbors: nodes
            .iter()
            .map(|n| Neighbor {
                addr: ip(n),
                peer_as: 64500,
                md5_password: None,
            })
            .collect(),
    })
    .await
    .unwrap();
    let peer = r.local_addr();
    let mut speakers = Vec::new();
    for (node, prefixes) in nodes.iter().zip([
        &["198.51.100.1/32", "198.51.100.2/32"][..],
        &["198.51.100.2/32", "198.51.100.3/32"][..],
    ]) {
        let mut sp = Speaker::new(dialer());
        let ad = Advert {
            next_hop: Some(ip(node)),
            ..Advert::default()
        };
        sp.add_peer(speaker_cfg(peer, node, 64500, 64512), routes(prefixes, ad));
        speakers.push(sp);
    }
    let s = wait_for(&r, "4 paths", |s| {
        s.peers.iter().map(|p| p.routes.len()).sum::<usize>() == 4
    })
    .await;
    let counts: Vec<(String, usize)> = r
        .paths_per_prefix()
        .into_iter()
        .map(|(p, n)| (p.to_string(), n))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("198.51.100.1/32".to_string(), 1),
            ("198.51.100.2/32".to_string(), 2),
            ("198.51.100.3/32".to_string(), 1),
        ]
    );
    for p in &s.peers {
        for route in &p.routes {
            assert_eq!(
                route.next_hop.as_deref(),
                Some(p.peer.as_str()),
                "{route:?}"
            );
            assert_eq!(route.as_path, "64500");
        }
    }
    for sp in speakers {
        sp.shutdown(Duration::from_secs(2)).await;
    }
    wait_for(&r, "withdrawn", |s| {
        s.peers.iter().all(|p| p.routes.is_empty())
    })
    .await;
    assert!(r.paths_per_prefix().is_empty());
    r.shutdown(Duration::from_secs(1)).await;
}
