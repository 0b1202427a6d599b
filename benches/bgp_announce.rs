//! Benchmark: announce N /32s to BIRD 2 on loopback and time, from Established until BIRD holds
//! all N, three senders in the same run: our speaker (packed UPDATEs), our speaker with one
//! prefix per UPDATE (MetalLB's way), and BIRD itself exporting N static routes.
//!
//! Times come from the receiving BIRD's own clock: the protocol's "Since" (Established) and
//! the newest route's import time, so polling does not blur them. Bytes on the wire are our
//! session's TCP payload (OPEN, KEEPALIVEs and End-of-RIB included) and, for BIRD, the
//! receiver socket's `bytes_received` from `ss -ti`.
//!
//! Run: `cargo bench --bench bgp_announce` (env BGP_BENCH_N="1000,10000,100000").

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net};
use metallbctl::bgp::driver::{PeerConfig, TcpDialer};
use metallbctl::bgp::rib_out::{Advert, Packing, Routes};
use metallbctl::bgp::session::Config;
use metallbctl::bgp::speaker::Speaker;
use metallbctl::lab::routers;

const RECV: &str = "127.0.0.200";
const RECV_PORT: u16 = 18000;
const OURS: &str = "127.0.1.200";
const OURS_1PU: &str = "127.0.1.201";
const BIRD_SENDER: &str = "127.0.0.201";

struct Bird {
    child: Child,
    dir: PathBuf,
}

impl Bird {
    fn start(dir: &Path, conf: &str) -> Bird {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        let child =
            routers::start_bird(dir, conf).expect("bird 2 is installed (apt-get install -y bird2)");
        let t = Instant::now();
        while !dir.join("bird.ctl").exists() && t.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        Bird {
            child,
            dir: dir.to_path_buf(),
        }
    }

    fn query(&self, cmd: &str) -> String {
        let out = Command::new(routers::BIRDC)
            .arg("-s")
            .arg(self.dir.join("bird.ctl"))
            .args(cmd.split(' '))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn count(&self, proto: &str) -> usize {
        let out = self.query(&format!("show route count protocol {proto}"));
        let w: Vec<&str> = out.split_whitespace().collect();
        w.windows(2)
            .find(|p| p[1] == "of")
            .and_then(|p| p[0].parse().ok())
            .unwrap_or(0)
    }

    /// Seconds since midnight of the protocol's last state change, if it is Established.
    fn established_at(&self, proto: &str) -> Option<f64> {
        let out = self.query(&format!("show protocols {proto}"));
        let line = out.lines().find(|l| l.starts_with(proto))?;
        line.contains("Established")
            .then(|| line.split_whitespace().nth(4).and_then(tod))
            .flatten()
    }

    /// Seconds since midnight of the newest route import from `proto`.
    fn last_import(&self, proto: &str) -> Option<f64> {
        let out = self.query(&format!("show route protocol {proto}"));
        out.lines()
            .filter_map(|l| {
                let i = l.find(&format!("[{proto} "))?;
                l[i..].split_whitespace().nth(1).and_then(tod)
            })
            .reduce(f64::max)
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Parses BIRD's "HH:MM:SS.mmm" time of day.
fn tod(s: &str) -> Option<f64> {
    let mut p = s.split(':');
    let h: f64 = p.next()?.parse().ok()?;
    let m: f64 = p.next()?.parse().ok()?;
    let sec: f64 = p.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + sec)
}

fn prefixes(n: usize) -> Vec<Ipv4Net> {
    (0..n as u32)
        .map(|i| Ipv4Net::new(Ipv4Addr::from(0x6440_0000 + i), 32).unwrap())
        .collect()
}

fn receiver_conf() -> String {
    let proto = |name: &str, nb: &str, asn: u32| {
        format!(
            "protocol bgp {name} {{ local {RECV} port {RECV_PORT} as 64512; neighbor {nb} as {asn}; \
             passive; multihop; hold time 240; ipv4 {{ import all; export none; }}; }}\n"
        )
    };
    format!(
        "router id 10.9.0.1;\nprotocol device {{ }}\n\
         protocol static reach {{ ipv4; route 192.0.2.0/24 blackhole; }}\n{}{}{}",
        proto("ours", OURS, 64500),
        proto("ours1pu", OURS_1PU, 64500),
        proto("frombird", BIRD_SENDER, 64501)
    )
}

fn sender_conf(n: usize) -> String {
    let mut s =
        String::from("router id 10.9.0.2;\nprotocol device { }\nprotocol static svc { ipv4;\n");
    for p in prefixes(n) {
        s.push_str(&format!("  route {p} blackhole;\n"));
    }
    s.push_str(&format!(
        "}}\nprotocol bgp torecv {{ local {BIRD_SENDER} as 64501; neighbor {RECV} port {RECV_PORT} as 64512; \
         multihop; connect delay time 1; hold time 240; ipv4 {{ import none; export all; next hop address 192.0.2.1; }}; }}\n"
    ));
    s
}

/// Seconds since midnight now, on the same (UTC) clock BIRD prints.
fn now_tod() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() % 86_400) as f64 + f64::from(d.subsec_millis()) / 1000.0
}

/// Waits until the receiver holds `n` routes from `proto`; returns Established→last import
/// by BIRD's clock, and Established→seen by our polling (20 ms steps) as a cross-check.
fn wait_all(recv: &Bird, proto: &str, n: usize) -> (f64, f64) {
    let t = Instant::now();
    while recv.count(proto) < n {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "timed out on {proto}: {}",
            recv.query(&format!("show protocols all {proto}"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = now_tod();
    let up = recv.established_at(proto).expect("established");
    let last = recv.last_import(proto).expect("routes");
    (last - up, seen - up)
}

/// TCP payload bytes the receiver got from `peer`, from `ss -ti`.
fn ss_bytes_received(peer: &str) -> Option<u64> {
    let out = Command::new("ss")
        .args(["-tinH", "state", "established", "dst", peer])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("bytes_received:"))
        .and_then(|v| v.parse().ok())
}

fn run_ours(
    rt: &tokio::runtime::Runtime,
    recv: &Bird,
    n: usize,
    packing: Packing,
) -> ((f64, f64), u64) {
    let (source, proto) = match packing {
        Packing::Packed => (OURS, "ours"),
        Packing::OnePerUpdate => (OURS_1PU, "ours1pu"),
    };
    let _g = rt.enter();
    let mut s = Config::new(64500, 64512, Ipv4Addr::new(10, 9, 0, 3));
    s.ipv6 = false;
    let mut cfg = PeerConfig::new(format!("{RECV}:{RECV_PORT}").parse().unwrap(), s);
    cfg.source = Some(source.parse::<IpAddr>().unwrap());
    cfg.packing = packing;
    let advert = Advert {
        next_hop: Some("192.0.2.1".parse().unwrap()),
        ..Default::default()
    };
    let routes: Routes = prefixes(n)
        .into_iter()
        .map(|p| (IpNet::V4(p), advert.clone()))
        .collect();
    let mut sp = Speaker::new(Arc::new(TcpDialer {
        loopback_only: true,
    }));
    sp.add_peer(cfg, routes);
    let secs = wait_all(recv, proto, n);
    let bytes = sp.snapshot()[0].bytes_sent;
    rt.block_on(sp.shutdown(Duration::from_secs(5)));
    (secs, bytes)
}

fn run_bird(n: usize, recv: &Bird, dir: &Path) -> ((f64, f64), Option<u64>) {
    let sender = Bird::start(&dir.join(format!("sender-{n}")), &sender_conf(n));
    let secs = wait_all(recv, "frombird", n);
    let bytes = ss_bytes_received(BIRD_SENDER);
    drop(sender);
    (secs, bytes)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run only
    // when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ns: Vec<usize> = std::env::var("BGP_BENCH_N")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = std::env::temp_dir().join(format!("metallbctl-bgp-bench-{}", std::process::id()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!("| N | sender | Established → all N held (s) | polled (s) | bytes on the wire | bytes per /32 |");
    println!("|---:|---|---:|---:|---:|---:|");
    for n in ns {
        let recv = Bird::start(&dir.join(format!("recv-{n}")), &receiver_conf());
        let ((t, p), b) = run_ours(&rt, &recv, n, Packing::Packed);
        let per = b as f64 / n as f64;
        println!("| {n} | metallbctl (packed) | {t:.3} | {p:.2} | {b} | {per:.2} |");
        let ((t, p), b) = run_ours(&rt, &recv, n, Packing::OnePerUpdate);
        let per = b as f64 / n as f64;
        println!("| {n} | metallbctl (one prefix per UPDATE) | {t:.3} | {p:.2} | {b} | {per:.2} |");
        let ((t, p), b) = run_bird(n, &recv, &dir);
        let (bs, per) = match b {
            Some(b) => (b.to_string(), format!("{:.2}", b as f64 / n as f64)),
            None => ("n/a".into(), "n/a".into()),
        };
        println!("| {n} | BIRD 2 static export | {t:.3} | {p:.2} | {bs} | {per} |");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
