//! Interop with real BGP daemons on loopback: our speaker announcing to BIRD 2 and FRR, BIRD
//! and FRR announcing to our router, iBGP and eBGP, and recovery (peer restart, our shutdown,
//! a frozen peer). Each daemon runs as a child with its own config, socket and pid files in a
//! temp dir, on 127.0.0.x and a high port, and is killed by PID when the test ends.
//!
//! Without the daemons the tests print SKIP; with METALLBCTL_REQUIRE_PEERS=1 they fail instead.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{eventually, free_port, MovingPeer};
use metallbctl::bgp::driver::{PeerConfig, TcpDialer};
use metallbctl::bgp::rib_out::{Advert, Routes};
use metallbctl::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};
use metallbctl::bgp::session::{Config, State};
use metallbctl::bgp::speaker::Speaker;
use metallbctl::lab::routers::{self, BGPD, BIRD, BIRDC, VTYSH};

/// True when the daemons are installed; prints SKIP or panics under METALLBCTL_REQUIRE_PEERS=1.
fn have(bins: &[&str]) -> bool {
    crate::support::have_files("BIRD 2 / FRR", bins, "apt-get install -y bird2 frr")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metallbctl-bgp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A daemon child process, killed by PID on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bird,
    Frr,
}

impl Daemon {
    fn bird(dir: &Path, conf: &str) -> Daemon {
        let child = routers::start_bird(dir, conf).expect("start bird");
        Daemon::started(child, dir, Kind::Bird)
    }

    fn frr(dir: &Path, listen: &str, port: u16, conf: &str) -> Daemon {
        let listen = SocketAddr::new(listen.parse().expect("listen address"), port);
        let child = routers::start_bgpd(dir, listen, conf).expect("start bgpd");
        Daemon::started(child, dir, Kind::Frr)
    }

    fn started(child: Child, dir: &Path, kind: Kind) -> Daemon {
        let d = Daemon {
            child,
            dir: dir.to_path_buf(),
            kind,
        };
        d.wait_ready();
        d
    }

    fn wait_ready(&self) {
        let sock = match self.kind {
            Kind::Bird => self.dir.join("bird.ctl"),
            Kind::Frr => self.dir.join("bgpd.vty"),
        };
        let t = Instant::now();
        while !sock.exists() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(sock.exists(), "daemon did not start: {}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(routers::daemon_log(&self.dir)).unwrap_or_default()
    }

    fn query(&self, cmd: &str) -> String {
        let out = match self.kind {
            Kind::Bird => Command::new(BIRDC)
                .arg("-s")
                .arg(self.dir.join("bird.ctl"))
                .args(cmd.split(' '))
                .output(),
            Kind::Frr => Command::new(VTYSH)
                .arg("--vty_socket")
                .arg(&self.dir)
                .args(["-d", "bgpd", "-c", cmd])
                .output(),
        }
        .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's PID has no memory-safety requirements.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    fn kill(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn speaker_peer(peer: &str, source: &str, local_as: u32, peer_as: u32, hold: u16) -> PeerConfig {
    let mut s = Config::new(local_as, peer_as, Ipv4Addr::new(10, 1, 0, 1));
    s.hold_time = hold;
    s.ipv6 = false;
    s.backoff_min = Duration::from_millis(200);
    s.backoff_max = Duration::from_secs(1);
    let mut c = PeerConfig::new(peer.parse().unwrap(), s);
    c.source = Some(ip(source));
    c
}

fn routes(prefixes: &[&str], advert: &Advert) -> Routes {
    prefixes
        .iter()
        .map(|p| (p.parse().unwrap(), advert.clone()))
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn dialer() -> Arc<TcpDialer> {
    Arc::new(TcpDialer {
        loopback_only: true,
    })
}

/// BIRD's `show route all` block for one prefix, if BIRD holds it.
fn bird_route(d: &Daemon, proto: &str, prefix: &str) -> Option<String> {
    let out = d.query(&format!("show route all {prefix} protocol {proto}"));
    out.contains(prefix).then_some(out)
}

fn bird_count(d: &Daemon, proto: &str) -> usize {
    let out = d.query(&format!("show route count protocol {proto}"));
    out.split_whitespace()
        .zip(out.split_whitespace().skip(1))
        .find(|(_, w)| w.starts_with("of"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

fn bird_passive_conf(local: &str, port: u16, local_as: u32, peer: &str, peer_as: u32) -> String {
    let multihop = if local_as == peer_as { "" } else { "multihop;" };
    format!(
        "log stderr all;\nrouter id 10.2.0.1;\nprotocol device {{ }}\n\
         protocol static reach {{ ipv4; route 192.0.2.0/24 blackhole; }}\n\
         protocol bgp speaker {{\n  local {local} port {port} as {local_as};\n  \
         neighbor {peer} as {peer_as};\n  passive; {multihop} strict bind on;\n  hold time 3;\n  \
         ipv4 {{ import all; export none; }};\n}}\n"
    )
}

const AD_COMMUNITY: u32 = (64500 << 16) | 100;

fn advert(local_pref: Option<u32>) -> Advert {
    Advert {
        next_hop: Some(ip("192.0.2.1")),
        local_pref,
        communities: vec![AD_COMMUNITY],
        large_communities: vec![],
    }
}

#[test]
fn speaker_to_bird_ebgp_announce_withdraw_and_stop() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let dir = temp_dir("bird-ebgp");
    let port = free_port("127.0.0.71");
    let bird = Daemon::bird(
        &dir,
        &bird_passive_conf("127.0.0.71", port, 64512, "127.0.1.71", 64500),
    );
    let rt = rt();
    let mut sp = Speaker::new(dialer());
    let peer = format!("127.0.0.71:{port}");
    let peer = peer.as_str();
    let _g = rt.enter();
    sp.add_peer(
        speaker_peer(peer, "127.0.1.71", 64500, 64512, 3),
        routes(
            &["198.51.100.10/32", "198.51.100.11/32"],
            &advert(Some(300)),
        ),
    );
    let r = eventually(
        10,
        "BIRD to hold 198.51.100.10/32",
        || bird_route(&bird, "speaker", "198.51.100.10/32"),
        || bird.log(),
    );
    assert!(r.contains("BGP.next_hop: 192.0.2.1"), "{r}");
    assert!(r.contains("BGP.as_path: 64500"), "{r}");
    assert!(r.contains("BGP.origin: Incomplete"), "{r}");
    assert!(r.contains("BGP.community: (64500,100)"), "{r}");
    assert!(
        !r.contains("BGP.local_pref: 300"),
        "LOCAL_PREF must not be sent on eBGP: {r}"
    );

    sp.set_routes(
        &peer.parse().unwrap(),
        routes(&["198.51.100.11/32"], &advert(None)),
    );
    eventually(
        5,
        "withdrawal in BIRD",
        || {
            bird_route(&bird, "speaker", "198.51.100.10/32")
                .is_none()
                .then_some(())
        },
        || bird.log(),
    );
    assert!(bird_route(&bird, "speaker", "198.51.100.11/32").is_some());

    rt.block_on(sp.shutdown(Duration::from_secs(2)));
    eventually(
        5,
        "BIRD to drop routes after our shutdown",
        || (bird_count(&bird, "speaker") == 0).then_some(()),
        || bird.query("show route"),
    );
    let st = bird.query("show protocols all speaker");
    assert!(st.contains("Administrative shutdown"), "{st}");
}

#[test]
fn speaker_to_bird_ibgp_local_pref_and_recovery_after_restart() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let dir = temp_dir("bird-ibgp");
    let conf = |port| bird_passive_conf("127.0.0.72", port, 64500, "127.0.1.72", 64500);
    let port = free_port("127.0.0.72");
    let mut bird = Daemon::bird(&dir, &conf(port));
    let rt = rt();
    let _g = rt.enter();
    // The restarted BIRD gets a fresh port; the speaker dials a virtual address mapped to it.
    let peer = MovingPeer::new(
        "10.96.0.72:179",
        format!("127.0.0.72:{port}").parse().unwrap(),
    );
    let mut sp = Speaker::new(peer.dialer());
    sp.add_peer(
        speaker_peer(&peer.virt.to_string(), "127.0.1.72", 64500, 64500, 3),
        routes(&["198.51.100.20/32"], &advert(Some(250))),
    );
    let r = eventually(
        10,
        "iBGP route in BIRD",
        || bird_route(&bird, "speaker", "198.51.100.20/32"),
        || bird.log(),
    );
    assert!(r.contains("BGP.local_pref: 250"), "{r}");
    assert!(
        r.contains("BGP.as_path: \n"),
        "iBGP AS_PATH must be empty: {r}"
    );

    // Restart the peer daemon: our speaker reconnects and resends.
    bird.kill();
    let port = free_port("127.0.0.72");
    peer.set(format!("127.0.0.72:{port}").parse().unwrap());
    let bird = Daemon::bird(&dir, &conf(port));
    eventually(
        10,
        "route back after BIRD restart",
        || bird_route(&bird, "speaker", "198.51.100.20/32"),
        || bird.log(),
    );
    rt.block_on(sp.shutdown(Duration::from_secs(2)));
}

#[test]
fn frozen_bird_is_dropped_after_hold_time() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let dir = temp_dir("bird-stop");
    let port = free_port("127.0.0.73");
    let bird = Daemon::bird(
        &dir,
        &bird_passive_conf("127.0.0.73", port, 64512, "127.0.1.73", 64500),
    );
    let rt = rt();
    let _g = rt.enter();
    let mut sp = Speaker::new(dialer());
    sp.add_peer(
        speaker_peer(&format!("127.0.0.73:{port}"), "127.0.1.73", 64500, 64512, 3),
        routes(&["198.51.100.30/32"], &advert(None)),
    );
    eventually(
        10,
        "session",
        || bird_route(&bird, "speaker", "198.51.100.30/32"),
        || bird.log(),
    );
    bird.signal(libc::SIGSTOP);
    let frozen = Instant::now();
    let down = eventually(
        8,
        "our side to drop the frozen peer",
        || {
            let s = &sp.snapshot()[0];
            (s.state != State::Established).then(|| s.last_error.clone())
        },
        || format!("{:#?}", sp.snapshot()),
    );
    let took = frozen.elapsed();
    assert_eq!(down.as_deref(), Some("hold timer expired"));
    assert!(
        took >= Duration::from_millis(1900) && took <= Duration::from_secs(5),
        "{took:?}"
    );
    bird.signal(libc::SIGCONT);
    rt.block_on(sp.shutdown(Duration::from_secs(1)));
}

fn frr_passive_conf(asn: u32, peer: &str, peer_as: u32) -> String {
    format!(
        "frr defaults traditional\nhostname frr-lab\nlog stdout informational\n!\n\
         router bgp {asn}\n bgp router-id 10.3.0.1\n no bgp ebgp-requires-policy\n \
         bgp allow-martian-nexthop\n neighbor {peer} remote-as {peer_as}\n \
         neighbor {peer} passive\n neighbor {peer} disable-connected-check\n \
         neighbor {peer} timers 1 3\n !\n address-family ipv4 unicast\n  \
         neighbor {peer} activate\n exit-address-family\n!\n"
    )
}

fn frr_route(d: &Daemon, prefix: &str) -> Option<serde_json::Value> {
    let out = d.query(&format!("show bgp ipv4 unicast {prefix} json"));
    let v: serde_json::Value = serde_json::from_str(&out).ok()?;
    let path = v.get("paths")?.get(0)?.clone();
    Some(path)
}

#[test]
fn speaker_to_frr_ebgp_and_ibgp() {
    if !have(&[BGPD, VTYSH]) {
        return;
    }
    let rt = rt();
    let _g = rt.enter();
    for (n, (local_as, frr_as)) in [(64500u32, 64512u32), (64500, 64500)]
        .into_iter()
        .enumerate()
    {
        let dir = temp_dir(&format!("frr-{n}"));
        let listen = format!("127.0.0.8{n}");
        let source = format!("127.0.1.8{n}");
        let port = free_port(&listen);
        let frr = Daemon::frr(
            &dir,
            &listen,
            port,
            &frr_passive_conf(frr_as, &source, local_as),
        );
        let mut sp = Speaker::new(dialer());
        let peer = format!("{listen}:{port}");
        sp.add_peer(
            speaker_peer(&peer, &source, local_as, frr_as, 3),
            routes(
                &["198.51.100.40/32", "198.51.100.41/32"],
                &advert(Some(220)),
            ),
        );
        let p = eventually(
            15,
            "FRR to hold the route",
            || frr_route(&frr, "198.51.100.40/32"),
            || frr.log(),
        );
        assert_eq!(p["nexthops"][0]["ip"], "192.0.2.1", "{p}");
        assert_eq!(p["community"]["string"], "64500:100", "{p}");
        if local_as == frr_as {
            assert_eq!(p["locPrf"], 220, "{p}");
            assert_eq!(p["aspath"]["length"], 0, "{p}");
        } else {
            assert_eq!(p["aspath"]["string"], "64500", "{p}");
        }
        sp.set_routes(
            &peer.parse().unwrap(),
            routes(&["198.51.100.41/32"], &advert(Some(220))),
        );
        eventually(
            5,
            "withdrawal in FRR",
            || frr_route(&frr, "198.51.100.40/32").is_none().then_some(()),
            || frr.log(),
        );
        rt.block_on(sp.shutdown(Duration::from_secs(2)));
        eventually(
            5,
            "FRR to drop routes after our shutdown",
            || frr_route(&frr, "198.51.100.41/32").is_none().then_some(()),
            || frr.log(),
        );
    }
}

fn router(
    rt: &tokio::runtime::Runtime,
    listen: &str,
    local_as: u32,
    peer: &str,
    peer_as: u32,
) -> Router {
    rt.block_on(Router::bind(RouterConfig {
        listen: listen.parse().unwrap(),
        local_as,
        router_id: Ipv4Addr::new(10, 4, 0, 1),
        hold_time: 9,
        neighbors: vec![Neighbor {
            addr: ip(peer),
            peer_as,
            md5_password: None,
        }],
    }))
    .unwrap()
}

fn router_routes(r: &Router, n: usize) -> Option<RouterSnapshot> {
    let s = r.snapshot();
    (s.peers[0].state == State::Established && s.peers[0].routes.len() == n).then_some(s)
}

#[test]
fn bird_announces_to_our_router_ebgp() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let rt = rt();
    let r = router(&rt, "127.0.0.90:0", 64512, "127.0.1.90", 65001);
    let port = r.local_addr().port();
    // BIRD also listens on its local address (port 179 unless told otherwise), even when it
    // connects out: give it a free port too, so two suites at once do not collide.
    let bird_port = free_port("127.0.1.90");
    let dir = temp_dir("bird-announce");
    let conf = format!("log stderr all;\nrouter id 10.5.0.1;\nprotocol device {{ }}\n\
         protocol static svc {{ ipv4; route 198.51.100.50/32 blackhole; route 198.51.100.51/32 blackhole; }}\n\
         protocol bgp ours {{\n  local 127.0.1.90 port {bird_port} as 65001;\n  neighbor 127.0.0.90 port {port} as 64512;\n  \
         multihop; strict bind on; connect delay time 1; hold time 9;\n  \
         ipv4 {{ import none; export filter {{ bgp_community.add((65001,7)); accept; }}; }};\n}}\n");
    let bird = Daemon::bird(&dir, &conf);
    let s = eventually(
        10,
        "routes from BIRD",
        || router_routes(&r, 2),
        || format!("{:#?}\n{}", r.snapshot(), bird.log()),
    );
    let p = &s.peers[0];
    assert_eq!(p.hold_time, Some(9));
    assert!(p.peer_capabilities.contains(&"4-octet-as".to_string()));
    let route = &p.routes[0];
    assert_eq!(route.prefix, "198.51.100.50/32");
    assert_eq!(route.as_path, "65001");
    assert_eq!(route.next_hop.as_deref(), Some("127.0.1.90"));
    assert_eq!(route.communities, vec!["65001:7"]);
    drop(bird);
    eventually(
        5,
        "session down when BIRD dies",
        || (r.snapshot().peers[0].state != State::Established).then_some(()),
        || format!("{:#?}", r.snapshot()),
    );
    assert!(r.snapshot().peers[0].routes.is_empty());
}

#[test]
fn frr_announces_to_our_router_ibgp() {
    if !have(&[BGPD, VTYSH]) {
        return;
    }
    let rt = rt();
    let r = router(&rt, "127.0.0.91:0", 64500, "127.0.1.91", 64500);
    let port = r.local_addr().port();
    let dir = temp_dir("frr-announce");
    let conf = format!("frr defaults traditional\nhostname frr-ann\nlog stdout informational\n!\n\
         router bgp 64500\n bgp router-id 10.6.0.1\n no bgp ebgp-requires-policy\n no bgp network import-check\n \
         neighbor 127.0.0.91 remote-as 64500\n neighbor 127.0.0.91 port {port}\n \
         neighbor 127.0.0.91 update-source 127.0.1.91\n neighbor 127.0.0.91 timers 3 9\n \
         neighbor 127.0.0.91 timers connect 1\n !\n address-family ipv4 unicast\n  \
         network 198.51.100.60/32\n  neighbor 127.0.0.91 activate\n exit-address-family\n!\n");
    let frr = Daemon::frr(&dir, "127.0.1.91", free_port("127.0.1.91"), &conf);
    let s = eventually(
        15,
        "route from FRR",
        || router_routes(&r, 1),
        || format!("{:#?}\n{}", r.snapshot(), frr.log()),
    );
    let route = &s.peers[0].routes[0];
    assert_eq!(route.prefix, "198.51.100.60/32");
    assert_eq!(route.local_pref, Some(100));
    assert_eq!(route.as_path, "");
    assert_eq!(s.peers[0].hold_time, Some(9));
}

#[test]
fn speaker_to_frr_routes_come_back_after_frr_restart() {
    if !have(&[BGPD, VTYSH]) {
        return;
    }
    let rt = rt();
    let _g = rt.enter();
    let dir = temp_dir("frr-restart");
    let conf = frr_passive_conf(64512, "127.0.1.85", 64500);
    let port = free_port("127.0.0.85");
    let mut frr = Daemon::frr(&dir, "127.0.0.85", port, &conf);
    // The restarted FRR gets a fresh port; the speaker dials a virtual address mapped to it.
    let peer = MovingPeer::new(
        "10.96.0.85:179",
        format!("127.0.0.85:{port}").parse().unwrap(),
    );
    let mut sp = Speaker::new(peer.dialer());
    sp.add_peer(
        speaker_peer(&peer.virt.to_string(), "127.0.1.85", 64500, 64512, 3),
        routes(&["198.51.100.45/32"], &advert(None)),
    );
    eventually(
        15,
        "route in FRR",
        || frr_route(&frr, "198.51.100.45/32"),
        || frr.log(),
    );
    frr.kill();
    let port = free_port("127.0.0.85");
    peer.set(format!("127.0.0.85:{port}").parse().unwrap());
    let frr = Daemon::frr(&dir, "127.0.0.85", port, &conf);
    eventually(
        15,
        "route back after FRR restart",
        || frr_route(&frr, "198.51.100.45/32"),
        || frr.log(),
    );
    assert!(sp.snapshot()[0].established_count >= 2);
    rt.block_on(sp.shutdown(Duration::from_secs(2)));
}

#[test]
fn speaker_to_bird_ipv6_over_an_ipv4_session() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let dir = temp_dir("bird-v6");
    let port = free_port("127.0.0.74");
    let conf = format!(
        "log stderr all;\nrouter id 10.7.0.1;\nprotocol device {{ }}\n\
         protocol static r6 {{ ipv6; route 2001:db8:ffff::/48 blackhole; }}\n\
         protocol bgp speaker {{\n  local 127.0.0.74 port {port} as 64512;\n  \
         neighbor 127.0.1.74 as 64500;\n  passive; multihop; strict bind on; hold time 9;\n  \
         ipv4 {{ import all; export none; }};\n  ipv6 {{ import all; export none; }};\n}}\n"
    );
    let bird = Daemon::bird(&dir, &conf);
    let peer: SocketAddr = format!("127.0.0.74:{port}").parse().unwrap();
    let rt = rt();
    let _g = rt.enter();
    let mut cfg = speaker_peer(&peer.to_string(), "127.0.1.74", 64500, 64512, 9);
    cfg.session.ipv6 = true;
    let ad = Advert {
        next_hop: Some(ip("2001:db8:ffff::1")),
        communities: vec![AD_COMMUNITY],
        ..Default::default()
    };
    let mut sp = Speaker::new(dialer());
    sp.add_peer(cfg, routes(&["2001:db8::10/128", "2001:db8::11/128"], &ad));
    let r = eventually(
        10,
        "IPv6 route in BIRD",
        || bird_route(&bird, "speaker", "2001:db8::10/128"),
        || bird.log(),
    );
    assert!(r.contains("BGP.next_hop: 2001:db8:ffff::1"), "{r}");
    assert!(r.contains("BGP.community: (64500,100)"), "{r}");
    sp.set_routes(&peer, routes(&["2001:db8::11/128"], &ad));
    eventually(
        5,
        "IPv6 withdrawal (MP_UNREACH) in BIRD",
        || {
            bird_route(&bird, "speaker", "2001:db8::10/128")
                .is_none()
                .then_some(())
        },
        || bird.log(),
    );
    assert!(bird_route(&bird, "speaker", "2001:db8::11/128").is_some());
    rt.block_on(sp.shutdown(Duration::from_secs(2)));
}

// ---- TCP MD5 (RFC 2385) with BIRD and FRR, both directions, and a wrong password ----

/// Segments the kernel dropped because their MD5 signature did not match
/// (`TcpExt: TCPMD5Failure` in /proc/net/netstat): the only trace a wrong password leaves.
fn md5_failures() -> u64 {
    let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    while let (Some(keys), Some(values)) = (lines.next(), lines.next()) {
        let found = keys
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(k, _)| *k == "TCPMD5Failure");
        if let Some((_, v)) = found {
            return v.parse().unwrap_or(0);
        }
    }
    0
}

fn md5_router(
    rt: &tokio::runtime::Runtime,
    listen: &str,
    local_as: u32,
    peer: &str,
    peer_as: u32,
    pw: &str,
) -> Router {
    rt.block_on(Router::bind(RouterConfig {
        listen: listen.parse().unwrap(),
        local_as,
        router_id: Ipv4Addr::new(10, 4, 0, 1),
        hold_time: 9,
        neighbors: vec![Neighbor {
            addr: ip(peer),
            peer_as,
            md5_password: Some(pw.into()),
        }],
    }))
    .unwrap()
}

/// `Some` once the router's first session is Established and holds `prefix`.
fn router_holds(r: &Router, prefix: &str) -> Option<()> {
    let s = r.snapshot();
    let p = &s.peers[0];
    let held = p.routes.iter().any(|r| r.prefix == prefix);
    (p.state == State::Established && held).then_some(())
}

/// A speaker session with a TCP MD5 password and a short connect timeout, so that a
/// wrong password shows up quickly as a timed-out attempt.
fn md5_speaker(
    peer: &str,
    source: &str,
    local_as: u32,
    peer_as: u32,
    pw: &str,
    prefix: &str,
) -> Speaker {
    let mut cfg = speaker_peer(peer, source, local_as, peer_as, 9);
    cfg.md5_password = Some(pw.into());
    cfg.connect_timeout = Duration::from_millis(700);
    let mut sp = Speaker::new(dialer());
    sp.add_peer(cfg, routes(&[prefix], &advert(None)));
    sp
}

/// Waits until the speaker's connection attempt has timed out, and returns what its status
/// says; the session must never have come up.
fn refused_attempt(sp: &Speaker) -> String {
    let why = eventually(
        15,
        "the connection attempt with the wrong password to time out",
        || {
            sp.snapshot()[0]
                .last_error
                .clone()
                .filter(|e| e.contains("timed out"))
        },
        || format!("{:#?}", sp.snapshot()),
    );
    let s = &sp.snapshot()[0];
    assert_eq!(s.established_count, 0, "{s:#?}");
    assert_ne!(s.state, State::Established);
    why
}

/// Both directions with BIRD: our speaker dials BIRD, BIRD dials our router; then the same
/// with passwords that differ, which neither side lets through.
#[test]
fn md5_with_bird_both_ways_and_a_wrong_password_refused() {
    if !have(&[BIRD, BIRDC]) {
        return;
    }
    let rt = rt();
    let _g = rt.enter();
    let pw = "bird-md5-secret";
    // Our routers: one shares BIRD's password, one has another.
    let good_r = md5_router(&rt, "127.0.0.101:0", 64512, "127.0.1.101", 65001, pw);
    let bad_r = md5_router(
        &rt,
        "127.0.0.102:0",
        64512,
        "127.0.1.102",
        65001,
        "not-birds-password",
    );
    let (good_port, bad_port) = (good_r.local_addr().port(), bad_r.local_addr().port());
    // BIRD's own listeners, for our speaker (good and bad password) and for its dialers.
    // `strict bind` binds each to its address: without it BIRD listens on 0.0.0.0:PORT,
    // which collides with any socket on this machine that happens to use PORT.
    let listen_good = free_port("127.0.0.103");
    let listen_bad = free_port("127.0.0.104");
    let dial_good = free_port("127.0.1.101");
    let dial_bad = free_port("127.0.1.102");
    let dir = temp_dir("bird-md5");
    let failures_before = md5_failures();
    let conf = format!(
        "log stderr all;\nrouter id 10.8.0.1;\nprotocol device {{ }}\n\
         protocol static svc {{ ipv4; route 198.51.100.101/32 blackhole; }}\n\
         protocol bgp dialgood {{\n  local 127.0.1.101 port {dial_good} as 65001;\n  \
         neighbor 127.0.0.101 port {good_port} as 64512;\n  password \"{pw}\";\n  \
         multihop; strict bind on; connect delay time 1; hold time 9;\n  ipv4 {{ import none; export all; }};\n}}\n\
         protocol bgp dialbad {{\n  local 127.0.1.102 port {dial_bad} as 65001;\n  \
         neighbor 127.0.0.102 port {bad_port} as 64512;\n  password \"{pw}\";\n  \
         multihop; strict bind on; connect delay time 1; hold time 9;\n  ipv4 {{ import none; export all; }};\n}}\n\
         protocol bgp fromgood {{\n  local 127.0.0.103 port {listen_good} as 65001;\n  \
         neighbor 127.0.1.103 as 64500;\n  password \"{pw}\";\n  passive; multihop; strict bind on; hold time 9;\n  \
         ipv4 {{ import all; export none; }};\n}}\n\
         protocol bgp frombad {{\n  local 127.0.0.104 port {listen_bad} as 65001;\n  \
         neighbor 127.0.1.104 as 64500;\n  password \"{pw}\";\n  passive; multihop; strict bind on; hold time 9;\n  \
         ipv4 {{ import all; export none; }};\n}}\n"
    );
    let bird = Daemon::bird(&dir, &conf);

    // Our speaker -> BIRD, same password.
    let sp = md5_speaker(
        &format!("127.0.0.103:{listen_good}"),
        "127.0.1.103",
        64500,
        65001,
        pw,
        "198.51.100.103/32",
    );
    eventually(
        15,
        "BIRD to hold our route over MD5",
        || bird_route(&bird, "fromgood", "198.51.100.103/32"),
        || bird.log(),
    );
    // BIRD -> our router, same password. (BIRD passes our speaker's route on too.)
    eventually(
        15,
        "our router to hold BIRD's route over MD5",
        || router_holds(&good_r, "198.51.100.101/32"),
        || format!("{:#?}\n{}", good_r.snapshot(), bird.log()),
    );

    // BIRD -> our router, other password: the kernel drops BIRD's SYNs.
    eventually(
        15,
        "the kernel to drop BIRD's mis-signed SYNs",
        || (md5_failures() > failures_before).then_some(()),
        || bird.query("show protocols all dialbad"),
    );
    assert_ne!(bad_r.snapshot().peers[0].state, State::Established);
    assert!(bad_r.snapshot().peers[0].routes.is_empty());
    let dialbad = bird.query("show protocols dialbad");
    assert!(!dialbad.contains("Established"), "{dialbad}");
    rt.block_on(bad_r.shutdown(Duration::from_secs(1)));

    // Our speaker -> BIRD, other password.
    let bad_sp = md5_speaker(
        &format!("127.0.0.104:{listen_bad}"),
        "127.0.1.104",
        64500,
        65001,
        "not-birds-password",
        "198.51.100.104/32",
    );
    let why = refused_attempt(&bad_sp);
    assert!(why.contains("MD5"), "status says why: {why}");
    assert!(
        !why.contains("not-birds-password"),
        "the password leaked: {why}"
    );
    let frombad = bird.query("show protocols frombad");
    assert!(!frombad.contains("Established"), "{frombad}");
    assert_eq!(bird_count(&bird, "frombad"), 0);
    // The good session was not disturbed by any of this.
    assert!(bird_route(&bird, "fromgood", "198.51.100.103/32").is_some());
    rt.block_on(bad_sp.shutdown(Duration::from_secs(1)));
    rt.block_on(sp.shutdown(Duration::from_secs(1)));
}

/// FRR's `neighbor ... state`, e.g. "Established", "Active", "Connect".
fn frr_state(d: &Daemon, neighbor: &str) -> String {
    let out = d.query(&format!("show bgp neighbors {neighbor} json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    v[neighbor]["bgpState"].as_str().unwrap_or("?").to_string()
}

/// Both directions with FRR: our speaker dials FRR, FRR dials our router; then the same
/// with passwords that differ, which neither side lets through.
#[test]
fn md5_with_frr_both_ways_and_a_wrong_password_refused() {
    if !have(&[BGPD, VTYSH]) {
        return;
    }
    let rt = rt();
    let _g = rt.enter();
    let pw = "frr-md5-secret";
    let good_r = md5_router(&rt, "127.0.0.111:0", 64512, "127.0.1.111", 64512, pw);
    let bad_r = md5_router(
        &rt,
        "127.0.0.112:0",
        64512,
        "127.0.1.112",
        64512,
        "not-frrs-password",
    );
    let (good_port, bad_port) = (good_r.local_addr().port(), bad_r.local_addr().port());
    let listen = "127.0.0.113";
    let port = free_port(listen);
    let failures_before = md5_failures();
    let conf = format!(
        "frr defaults traditional\nhostname frr-md5\nlog stdout informational\n!\n\
         router bgp 64512\n bgp router-id 10.9.0.1\n no bgp ebgp-requires-policy\n \
         no bgp network import-check\n bgp allow-martian-nexthop\n\
         {n}\
         !\n address-family ipv4 unicast\n  network 198.51.100.111/32\n{a} exit-address-family\n!\n",
        n = [
            // Our speaker, good and bad password: passive eBGP.
            ("127.0.1.113", "64500", String::from(" passive\n disable-connected-check\n timers 3 9\n")),
            ("127.0.1.114", "64500", String::from(" passive\n disable-connected-check\n timers 3 9\n")),
            // Our routers, dialled from FRR: iBGP.
            ("127.0.0.111", "64512", format!(" port {good_port}\n update-source 127.0.1.111\n timers 3 9\n timers connect 1\n")),
            ("127.0.0.112", "64512", format!(" port {bad_port}\n update-source 127.0.1.112\n timers 3 9\n timers connect 1\n")),
        ]
        .iter()
        .map(|(addr, asn, extra)| {
            let extra: String = extra
                .lines()
                .map(|l| format!(" neighbor {addr}{l}\n"))
                .collect();
            format!(" neighbor {addr} remote-as {asn}\n neighbor {addr} password {pw}\n{extra}")
        })
        .collect::<String>(),
        a = ["127.0.1.113", "127.0.1.114", "127.0.0.111", "127.0.0.112"]
            .iter()
            .map(|n| format!("  neighbor {n} activate\n"))
            .collect::<String>(),
    );
    let dir = temp_dir("frr-md5");
    let frr = Daemon::frr(&dir, listen, port, &conf);

    // Our speaker -> FRR, same password.
    let sp = md5_speaker(
        &format!("{listen}:{port}"),
        "127.0.1.113",
        64500,
        64512,
        pw,
        "198.51.100.113/32",
    );
    eventually(
        15,
        "FRR to hold our route over MD5",
        || frr_route(&frr, "198.51.100.113/32"),
        || frr.log(),
    );
    // FRR -> our router, same password.
    // FRR passes our speaker's route on too (eBGP-learned, to an iBGP peer): look for its own.
    eventually(
        15,
        "our router to hold FRR's route over MD5",
        || router_holds(&good_r, "198.51.100.111/32"),
        || format!("{:#?}\n{}", good_r.snapshot(), frr.log()),
    );

    // FRR -> our router, other password.
    eventually(
        15,
        "the kernel to drop FRR's mis-signed SYNs",
        || (md5_failures() > failures_before).then_some(()),
        || frr.log(),
    );
    assert_ne!(bad_r.snapshot().peers[0].state, State::Established);
    assert_ne!(frr_state(&frr, "127.0.0.112"), "Established");
    rt.block_on(bad_r.shutdown(Duration::from_secs(1)));

    // Our speaker -> FRR, other password.
    let bad_sp = md5_speaker(
        &format!("{listen}:{port}"),
        "127.0.1.114",
        64500,
        64512,
        "not-frrs-password",
        "198.51.100.114/32",
    );
    let why = refused_attempt(&bad_sp);
    assert!(why.contains("MD5"), "status says why: {why}");
    assert!(
        !why.contains("not-frrs-password"),
        "the password leaked: {why}"
    );
    assert_ne!(frr_state(&frr, "127.0.1.114"), "Established");
    assert!(frr_route(&frr, "198.51.100.114/32").is_none());
    assert!(frr_route(&frr, "198.51.100.113/32").is_some());
    rt.block_on(bad_sp.shutdown(Duration::from_secs(1)));
    rt.block_on(sp.shutdown(Duration::from_secs(1)));
}
