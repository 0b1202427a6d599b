//! `metallbctl bgp`: run a BGP router (`listen`) or speaker (`announce`) from the command line,
//! for debugging real networks. Parses flags, builds a tokio runtime, prints what changes.
//!
//! Thin shell over `crate::bgp`: no protocol logic here; anyhow errors stop at this edge.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use ipnet::IpNet;

use super::output::outln;
use crate::bgp::driver::{PeerConfig, TcpDialer};
use crate::bgp::rib_out::{Advert, Packing, Routes};
use crate::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};
use crate::bgp::session;
use crate::bgp::speaker::Speaker;
use crate::bgp::status::{PeerSnapshot, RouteSnapshot};
use crate::table::Table;

/// Run a BGP router or speaker on this machine.
#[derive(Debug, Args)]
pub struct BgpArgs {
    #[command(subcommand)]
    pub command: BgpCommand,
}

#[derive(Debug, Subcommand)]
pub enum BgpCommand {
    /// Accept sessions from peers and print sessions and received routes as they change.
    Listen(ListenArgs),
    /// Announce prefixes to a peer until interrupted, then withdraw them.
    Announce(AnnounceArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address and port to listen on, e.g. 127.0.0.1:1790 or 0.0.0.0:179.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Our AS number.
    #[arg(long = "as", value_name = "N")]
    pub local_as: u32,
    /// A peer allowed to connect (the port is ignored: peers are matched by source address).
    #[arg(long, value_name = "ADDR[:PORT]", required = true, value_parser = parse_peer_ip)]
    pub peer: Vec<IpAddr>,
    /// The peers' AS number: one for all peers, or one per --peer in order.
    #[arg(long, value_name = "N", required = true)]
    pub peer_as: Vec<u32>,
    /// Router ID; defaults to the listen address when it is a specific IPv4 address.
    #[arg(long, value_name = "IPV4")]
    pub router_id: Option<Ipv4Addr>,
    /// Hold time to offer, in seconds: 0 (no keepalives) or at least 3.
    #[arg(long, default_value_t = 90, value_parser = parse_hold_time)]
    pub hold_time: u16,
    /// TCP MD5 password (RFC 2385) for all peers.
    #[arg(long)]
    pub password: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct AnnounceArgs {
    /// The peer to connect to.
    #[arg(long, value_name = "ADDR:PORT")]
    pub peer: SocketAddr,
    /// Our AS number.
    #[arg(long = "as", value_name = "N")]
    pub local_as: u32,
    /// The peer's AS number (equal to --as for iBGP).
    #[arg(long, value_name = "N")]
    pub peer_as: u32,
    /// Local address to connect from.
    #[arg(long, value_name = "ADDR")]
    pub source: Option<IpAddr>,
    /// Next hop to announce; defaults to our end of the TCP connection.
    #[arg(long, value_name = "ADDR")]
    pub next_hop: Option<IpAddr>,
    /// Prefixes to announce, e.g. 198.51.100.10/32 (a bare address means a host route).
    #[arg(value_name = "PREFIX", required = true, value_parser = parse_prefix)]
    pub prefixes: Vec<IpNet>,
    /// LOCAL_PREF (sent on iBGP sessions only; iBGP defaults to 100).
    #[arg(long, value_name = "N")]
    pub local_pref: Option<u32>,
    /// A community to attach, as A:B (repeatable).
    #[arg(long, value_name = "A:B", value_parser = parse_community)]
    pub community: Vec<u32>,
    /// A large community to attach, as A:B:C (repeatable).
    #[arg(long, value_name = "A:B:C", value_parser = parse_large_community)]
    pub large_community: Vec<[u32; 3]>,
    /// Router ID; defaults to the local IPv4 address used to reach the peer.
    #[arg(long, value_name = "IPV4")]
    pub router_id: Option<Ipv4Addr>,
    /// Hold time to offer, in seconds: 0 (no keepalives) or at least 3.
    #[arg(long, default_value_t = 90, value_parser = parse_hold_time)]
    pub hold_time: u16,
    /// TCP MD5 password (RFC 2385).
    #[arg(long)]
    pub password: Option<String>,
    /// Connect timeout in seconds.
    #[arg(long, default_value_t = 10)]
    pub connect_timeout: u64,
    /// For scripts: do not retry; the first failure (connect, or a session that goes down)
    /// ends the run with exit status 2 and the reason.
    #[arg(long)]
    pub once: bool,
    /// For scripts: exit with status 2 when no session is Established within this long,
    /// e.g. 10s, 1m.
    #[arg(long, value_name = "DURATION", value_parser = super::install::parse_duration)]
    pub timeout: Option<Duration>,
    /// Send one prefix per UPDATE, as MetalLB's native speaker does.
    #[arg(long, hide = true)]
    pub one_per_update: bool,
}

/// Runs `metallbctl bgp ...`.
pub fn run(args: BgpArgs) -> Result<ExitCode> {
    super::shell::init_logging(super::shell::LogStyle::Terminal);
    let rt = super::shell::runtime()?;
    rt.block_on(async move {
        match args.command {
            BgpCommand::Listen(a) => listen(a).await,
            BgpCommand::Announce(a) => announce(a).await,
        }
    })
}

fn parse_hold_time(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(h) if h == 0 || h >= 3 => Ok(h),
        _ => Err(format!(
            "{s:?}: hold time must be 0 or 3..=65535 seconds (RFC 4271 §4.2)"
        )),
    }
}

fn parse_peer_ip(s: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ip);
    }
    s.parse::<SocketAddr>()
        .map(|a| a.ip())
        .map_err(|_| format!("{s:?} is not ADDR or ADDR:PORT"))
}

fn parse_prefix(s: &str) -> Result<IpNet, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not a prefix such as 198.51.100.10/32"))
}

fn parse_community(s: &str) -> Result<u32, String> {
    let err = || format!("{s:?} is not a community A:B with A, B in 0..=65535");
    let (a, b) = s.split_once(':').ok_or_else(err)?;
    let a: u16 = a.parse().map_err(|_| err())?;
    let b: u16 = b.parse().map_err(|_| err())?;
    Ok((u32::from(a) << 16) | u32::from(b))
}

fn parse_large_community(s: &str) -> Result<[u32; 3], String> {
    let parts: Vec<&str> = s.split(':').collect();
    let err = || format!("{s:?} is not a large community A:B:C");
    match parts[..] {
        [a, b, c] => Ok([
            a.parse().map_err(|_| err())?,
            b.parse().map_err(|_| err())?,
            c.parse().map_err(|_| err())?,
        ]),
        _ => Err(err()),
    }
}

async fn listen(a: ListenArgs) -> Result<ExitCode> {
    let neighbors = neighbors(&a)?;
    let router_id = match (a.router_id, a.listen.ip()) {
        (Some(id), _) => id,
        (None, IpAddr::V4(v4)) if !v4.is_unspecified() => v4,
        _ => bail!(
            "cannot derive a router ID from {}: pass --router-id",
            a.listen
        ),
    };
    let router = Router::bind(RouterConfig {
        listen: a.listen,
        local_as: a.local_as,
        router_id,
        hold_time: a.hold_time,
        neighbors,
    })
    .await?;
    let stop = super::shell::stop_signal();
    tokio::pin!(stop);
    let mut last: Option<RouterSnapshot> = None;
    loop {
        let snap = router.snapshot();
        let key = without_clocks(&snap);
        if last.as_ref() != Some(&key) {
            print_router(&snap, a.output)?;
            last = Some(key);
        }
        tokio::select! {
            r = &mut stop => { r?; break; }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    router.shutdown(Duration::from_secs(2)).await;
    Ok(ExitCode::SUCCESS)
}

fn neighbors(a: &ListenArgs) -> Result<Vec<Neighbor>> {
    if a.peer_as.len() != 1 && a.peer_as.len() != a.peer.len() {
        bail!("give one --peer-as for all peers or one per --peer");
    }
    Ok(a.peer
        .iter()
        .enumerate()
        .map(|(i, ip)| Neighbor {
            addr: *ip,
            peer_as: a.peer_as[i.min(a.peer_as.len() - 1)],
            md5_password: a.password.clone(),
        })
        .collect())
}

/// A copy with uptimes and ages zeroed, so that only real changes are printed.
fn without_clocks(s: &RouterSnapshot) -> RouterSnapshot {
    let mut s = s.clone();
    for p in &mut s.peers {
        p.uptime_secs = None;
        p.messages_received.keepalive = 0;
        p.messages_sent.keepalive = 0;
        p.bytes_received = 0;
        p.bytes_sent = 0;
        for r in &mut p.routes {
            r.age_secs = 0;
        }
    }
    s
}

fn print_router(s: &RouterSnapshot, out: Output) -> Result<()> {
    match out {
        Output::Json => outln!("{}", serde_json::to_string(s)?),
        Output::Table => outln!("{}", render_table(s)),
    }
    Ok(())
}

/// Sessions, then received routes, as aligned text.
pub fn render_table(s: &RouterSnapshot) -> String {
    let mut peers = Table::new([
        "PEER",
        "AS",
        "STATE",
        "UPTIME",
        "HOLD",
        "RECV",
        "MSGS-RX",
        "MSGS-TX",
        "LAST-ERROR",
    ]);
    peers.rows(s.peers.iter().map(peer_row));
    let mut routes = Table::new([
        "PEER",
        "PREFIX",
        "NEXT-HOP",
        "AS-PATH",
        "LOCAL-PREF",
        "ORIGIN",
        "COMMUNITIES",
    ]);
    for p in &s.peers {
        routes.rows(p.routes.iter().map(|r| route_row(&p.peer, r)));
    }
    let mut text = peers.render();
    text.push('\n');
    text.push_str(&routes.render());
    text.pop();
    text
}

fn peer_row(p: &PeerSnapshot) -> Vec<String> {
    vec![
        p.peer.clone(),
        p.peer_as.to_string(),
        p.state.as_str().to_string(),
        p.uptime_secs
            .map(format_duration)
            .unwrap_or_else(|| "-".into()),
        p.hold_time.map_or("-".into(), |h| h.to_string()),
        p.routes.len().to_string(),
        p.messages_received.total().to_string(),
        p.messages_sent.total().to_string(),
        p.last_error.clone().unwrap_or_else(|| "-".into()),
    ]
}

fn route_row(peer: &str, r: &RouteSnapshot) -> Vec<String> {
    let mut comms = r.communities.clone();
    comms.extend(r.large_communities.iter().cloned());
    vec![
        peer.to_string(),
        r.prefix.clone(),
        r.next_hop.clone().unwrap_or_else(|| "-".into()),
        if r.as_path.is_empty() {
            "-".into()
        } else {
            r.as_path.clone()
        },
        r.local_pref.map_or("-".into(), |l| l.to_string()),
        r.origin.unwrap_or("-").to_string(),
        if comms.is_empty() {
            "-".into()
        } else {
            comms.join(",")
        },
    ]
}

fn format_duration(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

async fn announce(a: AnnounceArgs) -> Result<ExitCode> {
    let router_id = match a.router_id {
        Some(id) => id,
        None => derive_router_id(a.source, a.peer)?,
    };
    let mut scfg = session::Config::new(a.local_as, a.peer_as, router_id);
    scfg.hold_time = a.hold_time;
    let mut cfg = PeerConfig::new(a.peer, scfg);
    cfg.source = a.source;
    cfg.md5_password = a.password.clone();
    cfg.connect_timeout = Duration::from_secs(a.connect_timeout);
    if a.one_per_update {
        cfg.packing = Packing::OnePerUpdate;
    }
    let advert = Advert {
        next_hop: a.next_hop,
        local_pref: a.local_pref,
        communities: a.community.clone(),
        large_communities: a.large_community.clone(),
    };
    if a.once {
        cfg.session.auto_restart = false;
    }
    let routes: Routes = a.prefixes.iter().map(|p| (*p, advert.clone())).collect();
    // Watch Ctrl-C before anything can be logged, so a script that interrupts on the first
    // line gets the orderly exit.
    let mut signals = super::shell::StopSignals::watch()?;
    let mut speaker = Speaker::new(Arc::new(TcpDialer::default()));
    speaker.add_peer(cfg, routes);
    let outcome = watch_announce(&speaker, &a, &mut signals).await;
    let snap = speaker.snapshot().into_iter().next();
    match snap.as_ref() {
        Some(p) if p.state == session::State::Established && p.advertised > 0 => {
            tracing::info!(
                "withdrawing {} prefix{} from {} and closing the session",
                p.advertised,
                if p.advertised == 1 { "" } else { "es" },
                a.peer
            );
        }
        Some(p) if p.established_count > 0 => {
            tracing::info!("the session to {} is down; nothing to withdraw", a.peer);
        }
        _ => tracing::info!(
            "no BGP session to {} came up; nothing was announced",
            a.peer
        ),
    }
    speaker.shutdown(Duration::from_secs(3)).await;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// Why `bgp announce` gave up (under --once or --timeout).
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("no BGP session to {peer} within {}s", timeout.as_secs_f64())]
    Timeout {
        peer: SocketAddr,
        timeout: Duration,
        /// The last failure, if any.
        #[source]
        last: Option<LastError>,
    },
    #[error("the BGP session to {peer} failed and --once does not retry")]
    Failed {
        peer: SocketAddr,
        #[source]
        last: LastError,
    },
}

/// A session's last failure, as the driver described it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LastError(String);

impl AnnounceError {
    /// What to do next, for the `help:` line.
    pub fn help(&self) -> Option<String> {
        let text = match self {
            AnnounceError::Timeout { last: Some(l), .. }
            | AnnounceError::Failed { last: l, .. } => &l.0,
            AnnounceError::Timeout { last: None, .. } => "",
        };
        use crate::kube::TROUBLESHOOTING;
        Some(if text.contains("Bad Peer AS") {
            format!("make --as and --peer-as match the peer's neighbour configuration (see {TROUBLESHOOTING}#bgp-session-refused-bad-peer-as)")
        } else {
            format!("check that the peer listens on that address and port and accepts us as a neighbour (see {TROUBLESHOOTING}#bgp-session-stays-active)")
        })
    }
}

/// Wait for Ctrl-C; under --once or --timeout also for the failure that ends the run.
async fn watch_announce(
    speaker: &Speaker,
    a: &AnnounceArgs,
    signals: &mut super::shell::StopSignals,
) -> Result<()> {
    let started = std::time::Instant::now();
    let mut ever_up = false;
    loop {
        if let Some(p) = speaker.snapshot().into_iter().next() {
            ever_up |= p.established_count > 0;
            let last = p.last_error.clone().map(LastError);
            if a.once && p.state == session::State::Idle {
                if let Some(last) = last {
                    return Err(AnnounceError::Failed { peer: a.peer, last }.into());
                }
            } else if let Some(timeout) = a.timeout {
                if !ever_up && started.elapsed() >= timeout {
                    return Err(AnnounceError::Timeout {
                        peer: a.peer,
                        timeout,
                        last,
                    }
                    .into());
                }
            }
        }
        tokio::select! {
            _ = signals.recv() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// The local IPv4 address the kernel would use towards the peer (no packet is sent).
fn derive_router_id(source: Option<IpAddr>, peer: SocketAddr) -> Result<Ipv4Addr> {
    if let Some(IpAddr::V4(v4)) = source {
        return Ok(v4);
    }
    let probe = || -> std::io::Result<IpAddr> {
        let sock = UdpSocket::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0))?;
        sock.connect(peer)?;
        Ok(sock.local_addr()?.ip())
    };
    match probe() {
        Ok(IpAddr::V4(v4)) if !v4.is_unspecified() => Ok(v4),
        _ => bail!("cannot derive a router ID towards {peer}: pass --router-id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Top,
    }

    #[derive(Debug, Subcommand)]
    enum Top {
        Bgp(BgpArgs),
    }

    fn parse(args: &[&str]) -> BgpCommand {
        let mut v = vec!["metallbctl", "bgp"];
        v.extend_from_slice(args);
        let Top::Bgp(b) = Cli::try_parse_from(v).unwrap().cmd;
        b.command
    }

    #[test]
    fn listen_flags() {
        let BgpCommand::Listen(l) = parse(&[
            "listen",
            "--listen",
            "127.0.0.1:1790",
            "--as",
            "64512",
            "--peer",
            "127.0.1.1:179",
            "--peer-as",
            "64500",
            "-o",
            "json",
        ]) else {
            panic!()
        };
        assert_eq!(l.peer, vec!["127.0.1.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(l.output, Output::Json);
        assert_eq!(l.hold_time, 90);
    }

    #[test]
    fn announce_flags() {
        let BgpCommand::Announce(a) = parse(&[
            "announce",
            "--peer",
            "127.0.0.1:1790",
            "--as",
            "64500",
            "--peer-as",
            "64512",
            "--next-hop",
            "192.0.2.1",
            "198.51.100.10",
            "198.51.100.0/24",
            "--community",
            "64500:100",
            "--community",
            "1:2",
            "--local-pref",
            "200",
        ]) else {
            panic!()
        };
        assert_eq!(a.prefixes.len(), 2);
        assert_eq!(a.prefixes[0].to_string(), "198.51.100.10/32");
        assert_eq!(a.community, vec![(64500 << 16) | 100, (1 << 16) | 2]);
        assert_eq!(a.local_pref, Some(200));
    }

    #[test]
    fn hold_time_of_one_or_two_is_rejected() {
        assert!(parse_hold_time("2").is_err());
        assert_eq!(parse_hold_time("0"), Ok(0));
        assert_eq!(parse_hold_time("3"), Ok(3));
    }

    #[test]
    fn bad_community_is_rejected() {
        assert!(parse_community("70000:1").is_err());
        assert!(parse_community("1").is_err());
        assert_eq!(parse_large_community("1:2:3"), Ok([1, 2, 3]));
    }

    #[test]
    fn table_lists_sessions_and_routes() {
        let snap = RouterSnapshot {
            listen: "127.0.0.1:1790".into(),
            local_as: 64512,
            router_id: "127.0.0.1".into(),
            peers: vec![],
        };
        let t = render_table(&snap);
        assert!(t.starts_with("PEER  AS  STATE"));
        assert!(t.contains("NEXT-HOP"));
    }
}
