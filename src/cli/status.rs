//! `metallbctl status` and `metallbctl routes`: the status model without the UI. Both read
//! the same sources as `tui` (the cluster, speaker metrics through the pod proxy, the lab's
//! routers when the context is a lab, and `--router NAME=SPEC`), print a table, JSON or YAML,
//! and with `--watch` keep printing. `status --require all|any` exits 1 when sessions are down
//! or drift exists, like `cilium-dbg bgp status --require-all`.

use crate::table::Table;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::sources::{self, Collector};
use crate::status::explain::{age, check, Require};
use crate::status::model::{ClusterInfo, ConfigState, Health, Snapshot};
use crate::status::sessions;
use crate::status::source::{ClusterReading, ClusterSource, SourceFuture};

/// Where the status comes from (shared by `status`, `routes` and `tui`).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// kubeconfig file [default: KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context [default: the current one].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Do not read a cluster (routers only).
    #[arg(long)]
    pub no_cluster: bool,
    /// MetalLB's namespace.
    #[arg(long, value_name = "NS", default_value = "metallb-system")]
    pub namespace: String,
    /// A router to read, repeatable: NAME=bird:/path/to/bird.ctl, NAME=frr[:VTYSH_DIR],
    /// NAME=gobgp:HOST:PORT, or NAME=listen:IP:PORT,as=N[,peer-as=M][,peer=ADDR...]
    /// (metallbctl itself is the passive BGP peer MetalLB announces to).
    #[arg(long = "router", value_name = "NAME=SPEC")]
    pub routers: Vec<String>,
    /// Do not read the lab's routers even when the context is a lab.
    #[arg(long)]
    pub no_lab_routers: bool,
    /// Timeout of each source call, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequireArg {
    /// Every session established and no drift.
    All,
    /// At least one session established and no drift other than down sessions.
    Any,
}

/// What `status` and `routes` share: where to read from, how to print, and whether to keep
/// watching.
#[derive(Debug, Args)]
pub struct ViewArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Keep printing a fresh view every --interval.
    #[arg(short, long)]
    pub watch: bool,
    /// Seconds between polls with --watch.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub interval: f64,
}

/// `metallbctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    /// Exit 1 unless all sessions are up (all) or some are (any), and nothing drifts.
    #[arg(long, value_enum)]
    pub require: Option<RequireArg>,
}

/// `metallbctl routes`.
#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(flatten)]
    pub view: ViewArgs,
}

/// A `--router` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterArg {
    Bird {
        name: String,
        socket: PathBuf,
    },
    Frr {
        name: String,
        vty_dir: Option<PathBuf>,
    },
    Gobgp {
        name: String,
        addr: String,
    },
    Listen {
        name: String,
        spec: sources::listen::ListenSpec,
    },
}

/// Parse `NAME=KIND[:ARG]`.
pub fn parse_router(s: &str) -> Result<RouterArg, String> {
    let (name, spec) = s
        .split_once('=')
        .ok_or_else(|| format!("--router {s:?}: expected NAME=SPEC"))?;
    if name.is_empty() {
        return Err(format!("--router {s:?}: the name is empty"));
    }
    let name = name.to_string();
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    match kind {
        "bird" if !arg.is_empty() => Ok(RouterArg::Bird {
            name,
            socket: PathBuf::from(arg),
        }),
        "bird" => Err(format!(
            "--router {s:?}: bird needs the control socket, bird:/path/to/bird.ctl"
        )),
        "frr" => Ok(RouterArg::Frr {
            name,
            vty_dir: (!arg.is_empty()).then(|| PathBuf::from(arg)),
        }),
        "gobgp" if !arg.is_empty() => Ok(RouterArg::Gobgp {
            name,
            addr: arg.to_string(),
        }),
        "gobgp" => Err(format!(
            "--router {s:?}: gobgp needs the API address, gobgp:HOST:PORT"
        )),
        "listen" => {
            let mut parts = arg.split(',');
            let listen: SocketAddr = parts.next().unwrap_or("").parse().map_err(|_| {
                format!(
                    "--router {s:?}: listen needs IP:PORT, e.g. listen:127.0.0.50:1790,as=64500"
                )
            })?;
            if !listen.ip().is_loopback() {
                return Err(format!(
                    "--router {s:?}: listen binds loopback addresses only"
                ));
            }
            let mut spec = sources::listen::ListenSpec {
                listen,
                asn: 0,
                peer_as: None,
                peers: Vec::new(),
            };
            for p in parts {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let bad = || format!("--router {s:?}: bad {k}={v}");
                match k {
                    "as" => spec.asn = v.parse().map_err(|_| bad())?,
                    "peer-as" => spec.peer_as = Some(v.parse().map_err(|_| bad())?),
                    "peer" => spec.peers.push(v.parse().map_err(|_| bad())?),
                    _ => {
                        return Err(format!(
                            "--router {s:?}: unknown option {k:?} (as, peer-as, peer)"
                        ))
                    }
                }
            }
            if spec.asn == 0 {
                return Err(format!("--router {s:?}: listen needs as=N"));
            }
            Ok(RouterArg::Listen { name, spec })
        }
        other => Err(format!(
            "--router {s:?}: unknown router kind {other:?} (bird, frr, gobgp, listen)"
        )),
    }
}

/// A cluster that could not even be configured: every read fails with why.
struct Unconfigured(String);
impl ClusterSource for Unconfigured {
    fn read(&self) -> SourceFuture<'_, ClusterReading> {
        let e = self.0.clone();
        Box::pin(async move { Err(e) })
    }
}

/// The context name a kubeconfig selects.
fn context_name(a: &SourceArgs) -> Option<String> {
    if a.context.is_some() {
        return a.context.clone();
    }
    let kc = match &a.kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
        None => kube::config::Kubeconfig::read().ok(),
    };
    kc.and_then(|k| k.current_context)
}

/// Build the collector for `a` (binds `listen` routers; call inside a runtime).
pub async fn collector(
    a: &SourceArgs,
) -> anyhow::Result<(Collector, Vec<Arc<sources::listen::ListenSource>>)> {
    let timeout = Duration::try_from_secs_f64(a.timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    let mut c = Collector::new(timeout);
    let routers = a
        .routers
        .iter()
        .map(|r| parse_router(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    // The collector keeps each source's routers by its name: names must not collide.
    let mut names = std::collections::BTreeSet::from(["lab"]);
    for r in &a.routers {
        let name = r.split_once('=').map_or(r.as_str(), |(n, _)| n);
        if !names.insert(name) {
            anyhow::bail!(
                "--router {name:?}: the name is taken (names are unique, and \"lab\" stands for \
                 the lab's own routers)"
            );
        }
    }
    let mut client = None;
    if !a.no_cluster {
        match crate::kube::config(a.context.as_deref(), a.kubeconfig.as_deref()).await {
            Ok(cfg) => {
                let server = cfg.cluster_url.to_string();
                let info = ClusterInfo {
                    context: context_name(a),
                    server: server.clone(),
                    namespace: a.namespace.clone(),
                };
                match kube::Client::try_from(cfg) {
                    Ok(k) => {
                        c = c
                            .with_cluster(Arc::new(sources::cluster::KubeCluster {
                                client: k.clone(),
                                info,
                                namespace: a.namespace.clone(),
                                config_map: crate::metallb::DEFAULT_CONFIG_MAP.to_string(),
                            }))
                            .with_speakers(Arc::new(sources::speakers::PodProxySpeakers {
                                client: k.clone(),
                                port: sources::speakers::METRICS_PORT,
                            }));
                        client = Some(k);
                    }
                    Err(e) => {
                        c = c.with_cluster(Arc::new(Unconfigured(sources::chain(&e))));
                    }
                }
                if !a.no_lab_routers {
                    let kubeconfig = a.kubeconfig.clone();
                    let found = tokio::task::spawn_blocking(move || {
                        // A lab's kubeconfig sits next to its control socket.
                        let beside = kubeconfig
                            .as_deref()
                            .and_then(|k| k.parent())
                            .and_then(|d| sources::lab::lab_in(&server, d));
                        beside.or_else(|| {
                            sources::lab::labs_dir()
                                .and_then(|d| sources::lab::find_lab(&server, &d))
                        })
                    })
                    .await
                    .ok()
                    .flatten();
                    if let Some(socket) = found {
                        c = c.with_router(Arc::new(sources::lab::LabSource { socket, timeout }));
                    }
                }
            }
            Err(e) if routers.is_empty() => {
                return Err(
                    anyhow::Error::new(e).context("no cluster to read and no --router given")
                )
            }
            Err(e) => c = c.with_cluster(Arc::new(Unconfigured(sources::chain(&e)))),
        }
    }
    let mut listeners = Vec::new();
    for r in routers {
        c = match r {
            RouterArg::Bird { name, socket } => c.with_router(Arc::new(
                sources::bird::BirdSource::new(&name, socket, timeout),
            )),
            RouterArg::Frr { name, vty_dir } => c.with_router(Arc::new(
                sources::frr::FrrSource::new(&name, vty_dir, timeout),
            )),
            RouterArg::Gobgp { name, addr } => c.with_router(Arc::new(
                sources::gobgp::GobgpSource::new(&name, &addr, timeout),
            )),
            RouterArg::Listen { name, mut spec } => {
                if spec.peers.is_empty() {
                    if let Some(k) = &client {
                        spec.peers = node_addresses(k).await;
                    }
                }
                let l = Arc::new(
                    sources::listen::ListenSource::start(&name, &spec)
                        .await
                        .map_err(anyhow::Error::msg)?,
                );
                listeners.push(l.clone());
                c.with_router(l)
            }
        };
    }
    Ok((c, listeners))
}

/// The nodes' InternalIPs (the speakers' source addresses), for `listen` without `peer=`.
async fn node_addresses(client: &kube::Client) -> Vec<IpAddr> {
    let api = kube::Api::<k8s_openapi::api::core::v1::Node>::all(client.clone());
    let Ok(Ok(list)) = tokio::time::timeout(
        Duration::from_secs(5),
        api.list(&kube::api::ListParams::default()),
    )
    .await
    else {
        return Vec::new();
    };
    list.items
        .iter()
        .flat_map(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()))
        .filter(|a| a.type_ == "InternalIP")
        .filter_map(|a| a.address.parse().ok())
        .collect()
}

pub(super) fn interval(secs: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| *d >= Duration::from_millis(100))
        .context("--interval must be at least 0.1 seconds")
}

/// Render `snap` with `render`, once or on every new snapshot.
fn drive(
    view: &ViewArgs,
    mut render: impl FnMut(&Snapshot, bool) -> anyhow::Result<bool>,
) -> anyhow::Result<ExitCode> {
    let every = interval(view.interval)?;
    let rt = super::shell::runtime()?;
    rt.block_on(async {
        let (mut c, listeners) = collector(&view.source).await?;
        let result = if !view.watch {
            let snap = c.poll().await;
            render(&snap, false).map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(super::EXIT_PROBLEMS)
                }
            })
        } else {
            let mut feed = c.spawn(every).await;
            let mut last_ok;
            loop {
                let snap = feed.snapshots.borrow_and_update().clone();
                last_ok = render(&snap, true)?;
                tokio::select! {
                    r = feed.snapshots.changed() => if r.is_err() { break },
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
            feed.stop();
            Ok(if last_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(super::EXIT_PROBLEMS)
            })
        };
        for l in listeners {
            if let Ok(l) = Arc::try_unwrap(l) {
                l.shutdown().await;
            }
        }
        result
    })
}

fn print_doc<T: Serialize>(v: &T, output: Output, watching: bool) -> anyhow::Result<()> {
    let text = match output {
        Output::Json if watching => format!("{}\n", serde_json::to_string(v)?),
        Output::Json => format!("{}\n", serde_json::to_string_pretty(v)?),
        Output::Yaml if watching => format!("---\n{}", serde_yaml::to_string(v)?),
        Output::Yaml => serde_yaml::to_string(v)?,
        Output::Table => String::new(),
    };
    super::output::stdout(&text)?;
    Ok(())
}

fn clear_if_terminal(watching: bool) -> String {
    use std::io::IsTerminal;
    if !watching {
        String::new()
    } else if std::io::stdout().is_terminal() {
        "\x1b[2J\x1b[H".to_string()
    } else {
        "\n".to_string()
    }
}

pub fn run_status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let require = args.require.map(|r| match r {
        RequireArg::All => Require::All,
        RequireArg::Any => Require::Any,
    });
    let output = args.view.output;
    drive(&args.view, |snap, watching| {
        let pass = require.is_none_or(|r| check(snap, r).pass);
        match output {
            Output::Table => {
                let mut text = clear_if_terminal(watching);
                text.push_str(&status_table(snap, require.unwrap_or(Require::All)));
                super::output::stdout(&text)?;
            }
            o => print_doc(snap, o, watching)?,
        }
        Ok(pass)
    })
}

pub fn run_routes(args: RoutesArgs) -> anyhow::Result<ExitCode> {
    let output = args.view.output;
    drive(&args.view, |snap, watching| {
        let doc = RoutesDoc {
            taken_at_ms: snap.taken_at_ms,
            routes: route_rows(snap),
        };
        match output {
            Output::Table => {
                let mut text = clear_if_terminal(watching);
                text.push_str(&routes_table(snap.taken_at_ms, &doc.routes));
                text.push_str(&failed_sources(snap));
                super::output::stdout(&text)?;
            }
            o => print_doc(&doc, o, watching)?,
        }
        Ok(true)
    })
}

pub use crate::status::routes::{route_rows, RouteRow, RoutesDoc};

/// Rows, headers first, as a text table with three spaces between columns.
fn table(rows: &[Vec<String>]) -> String {
    let Some((headers, body)) = rows.split_first() else {
        return String::new();
    };
    let mut t = Table::new(headers.iter().map(String::as_str)).gap("   ");
    t.rows(body.iter().map(|r| r.iter().map(String::as_str)));
    t.render()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The routes table.
pub fn routes_table(now_ms: u64, rows: &[RouteRow]) -> String {
    let mut t = vec![[
        "PREFIX",
        "NEXT HOP",
        "AS PATH",
        "LOCAL PREF",
        "COMMUNITIES",
        "AGE",
        "ROUTERS",
    ]
    .map(String::from)
    .to_vec()];
    for r in rows {
        t.push(vec![
            r.prefix.to_string(),
            opt(r.next_hop),
            if r.as_path.is_empty() {
                "-".into()
            } else {
                r.as_path
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            opt(r.local_pref),
            if r.communities.is_empty() {
                "-".into()
            } else {
                r.communities.join(" ")
            },
            r.since_ms.map_or("-".into(), |s| age(now_ms, s)),
            r.routers.join(","),
        ]);
    }
    if rows.is_empty() {
        return "No routes held by any router.\n".to_string();
    }
    table(&t)
}

/// The sessions table: one row per BGP session (`status::sessions::session_rows`).
pub fn sessions_table(snap: &Snapshot) -> String {
    let now = snap.taken_at_ms;
    let mut t = vec![sessions::COLUMNS.map(String::from).to_vec()];
    for s in sessions::session_rows(snap) {
        t.push(vec![
            s.node,
            s.peer,
            opt(s.local_as),
            opt(s.peer_as),
            s.state.to_string(),
            s.since_ms
                .filter(|_| s.state.is_up())
                .map_or("-".into(), |u| age(now, u)),
            opt(s.received),
            opt(s.advertised),
            s.last_error.unwrap_or_else(|| "-".into()),
        ]);
    }
    if t.len() == 1 {
        return "No BGP sessions found.\n".to_string();
    }
    table(&t)
}

fn failed_sources(snap: &Snapshot) -> String {
    let mut out = String::new();
    for s in &snap.sources {
        if let Health::Failed { error, since_ms } = &s.health {
            out.push_str(&format!(
                "! source {} failing for {}: {error}{}\n",
                s.name,
                age(snap.taken_at_ms, *since_ms),
                s.last_ok_ms
                    .map(|t| format!(" (last good read {} ago)", age(snap.taken_at_ms, t)))
                    .unwrap_or_default()
            ));
        }
    }
    out
}

/// The whole human status: where, config, routers, sessions, services, drift, check lines.
pub fn status_table(snap: &Snapshot, require: Require) -> String {
    let mut out = String::new();
    if let Some(c) = &snap.cluster {
        out.push_str(&format!(
            "Cluster: {} ({})\n",
            c.context.as_deref().unwrap_or("-"),
            c.server
        ));
    }
    out.push_str(&match &snap.config {
        ConfigState::Accepted => "Config:  accepted\n".to_string(),
        ConfigState::Unknown => "Config:  unknown\n".to_string(),
        ConfigState::Rejected { message, by, .. } => {
            format!("Config:  REJECTED by {by}: {message}\n")
        }
    });
    out.push_str(&failed_sources(snap));
    if !snap.routers.is_empty() {
        out.push_str("\nROUTERS\n");
        let mut t = vec![["ROUTER", "KIND", "ADDRESS", "VERDICT"]
            .map(String::from)
            .to_vec()];
        for r in &snap.routers {
            let v = crate::status::router_verdict(snap, r);
            t.push(vec![
                r.name.clone(),
                r.kind.as_str().to_string(),
                r.address.clone().unwrap_or_else(|| "-".into()),
                v.text,
            ]);
        }
        out.push_str(&table(&t));
    }
    out.push_str("\nSESSIONS\n");
    out.push_str(&sessions_table(snap));
    if !snap.services.is_empty() {
        out.push_str("\nSERVICES\n");
        let mut t = vec![["SERVICE", "ADDRESSES", "POOL", "POLICY", "STATUS"]
            .map(String::from)
            .to_vec()];
        for s in &snap.services {
            let why = crate::status::why_not_advertised(snap, &s.key());
            t.push(vec![
                s.key(),
                if s.addresses.is_empty() {
                    "<pending>".into()
                } else {
                    s.addresses
                        .iter()
                        .map(IpAddr::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                },
                s.pool.clone().unwrap_or_else(|| "-".into()),
                s.external_traffic_policy.clone(),
                why.first()
                    .map_or_else(|| "advertised".to_string(), |r| r.detail.clone()),
            ]);
        }
        out.push_str(&table(&t));
    }
    if !snap.drift.is_empty() {
        out.push_str("\nDRIFT\n");
        let mut t = vec![["KIND", "PREFIX", "SERVICE", "ROUTER", "NODE", "DETAIL"]
            .map(String::from)
            .to_vec()];
        for d in &snap.drift {
            t.push(vec![
                d.kind.as_str().to_string(),
                opt(d.prefix),
                d.service.clone().unwrap_or_else(|| "-".into()),
                d.router.clone().unwrap_or_else(|| "-".into()),
                d.node.clone().unwrap_or_else(|| "-".into()),
                d.detail.clone(),
            ]);
        }
        out.push_str(&table(&t));
    }
    out.push('\n');
    for l in check(snap, require).lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Snapshot {
        serde_json::from_str(include_str!("../../tests/fixtures/status/healthy.json")).unwrap()
    }

    #[test]
    fn router_specs() {
        assert_eq!(
            parse_router("b=bird:/run/bird.ctl").unwrap(),
            RouterArg::Bird {
                name: "b".into(),
                socket: "/run/bird.ctl".into()
            }
        );
        assert_eq!(
            parse_router("f=frr").unwrap(),
            RouterArg::Frr {
                name: "f".into(),
                vty_dir: None
            }
        );
        assert_eq!(
            parse_router("g=gobgp:127.0.0.1:50051").unwrap(),
            RouterArg::Gobgp {
                name: "g".into(),
                addr: "127.0.0.1:50051".into()
            }
        );
        let RouterArg::Listen { spec, .. } =
            parse_router("me=listen:127.0.0.50:1790,as=64500,peer=127.0.1.1").unwrap()
        else {
            panic!()
        };
        assert_eq!(spec.asn, 64500);
        assert_eq!(spec.peers, vec!["127.0.1.1".parse::<IpAddr>().unwrap()]);
        for bad in [
            "nope",
            "=bird:/x",
            "b=bird",
            "x=ospf",
            "g=gobgp",
            "me=listen:127.0.0.50:1790",
            "me=listen:10.0.0.1:179,as=1",
            "me=listen:127.0.0.1:179,as=1,color=red",
        ] {
            assert!(parse_router(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tables() {
        let s = healthy();
        let t = status_table(&s, Require::All);
        for want in [
            "Config:  accepted",
            "bird     bird   10.96.0.100:179   MetalLB is connected — 1 route",
            "NODE       PEER              LOCAL AS   PEER AS   STATE         UPTIME   RECEIVED   ADVERTISED   LAST ERROR",
            "minikube   10.96.0.100:179   64500      64500     Established   10s      1          1            -",
            "default/nginx   198.51.100.0   my-ip-space   Cluster   advertised",
            "[OK] All peers established (2/2)",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        let rows = route_rows(&s);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].routers, vec!["bird", "quagga"]);
        let r = routes_table(s.taken_at_ms, &rows);
        assert!(
            r.contains("198.51.100.0/32   127.0.1.1   -         100          -             9s    bird,quagga"),
            "{r}"
        );
    }
}
