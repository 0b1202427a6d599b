//! The lab's test routers: the built-in passive BGP router (`bgp::router::Router`), or with
//! `--routers real` BIRD 2 and FRR bgpd as child processes with generated configs (loopback
//! pitfalls handled: BIRD `multihop`, FRR `disable-connected-check`, `allow-martian-nexthop`,
//! `no bgp ebgp-requires-policy`). Either way a router reports a [`RouterStatus`]: its
//! sessions and the routes it learned. Children are killed by PID when the router stops.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::topology::{RouterKind, RouterSpec};
use crate::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};

/// BIRD 2's daemon and control client.
pub const BIRD: &str = "/usr/sbin/bird";
pub const BIRDC: &str = "/usr/sbin/birdc";
/// FRR's BGP daemon and shell.
pub const BGPD: &str = "/usr/lib/frr/bgpd";
pub const VTYSH: &str = "/usr/bin/vtysh";

/// Which implementation plays the routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RouterMode {
    #[default]
    Builtin,
    Real,
}

/// Why a router could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    #[error("router {name}: cannot listen on {addr} (port in use? pick another in the topology)")]
    Listen {
        name: String,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("router {name}: {source}")]
    Builtin {
        name: String,
        #[source]
        source: crate::bgp::driver::DriverError,
    },
    #[error("--routers real needs {0} (apt-get install -y bird2 frr)")]
    Missing(String),
    #[error("router {name}: cannot start {program}")]
    Spawn {
        name: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("router {name}: {program} did not start: {log}")]
    NotReady {
        name: String,
        program: String,
        log: String,
    },
}

/// A route a router learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedRoute {
    pub prefix: String,
    #[serde(default)]
    pub next_hop: Option<String>,
}

/// One BGP session of a router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    pub peer: String,
    pub state: String,
    pub routes: Vec<LearnedRoute>,
}

/// What `lab status` shows for a router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterStatus {
    pub name: String,
    /// builtin, bird or frr.
    pub implementation: String,
    pub cluster_ip: String,
    pub listen: String,
    pub asn: u32,
    pub peer_asn: u32,
    pub running: bool,
    pub sessions: Vec<SessionStatus>,
    /// Everything the status model shows: sessions and routes with full attributes, and the
    /// router's raw output (absent when the router does not run).
    #[serde(default)]
    pub view: Option<crate::status::RouterView>,
}

/// Is everything `--routers real` needs installed? Err names what is missing.
pub fn check_real_installed() -> Result<(), RouterError> {
    let missing: Vec<&str> = [BIRD, BIRDC, BGPD, VTYSH]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RouterError::Missing(missing.join(", ")))
    }
}

enum Imp {
    Builtin(Router),
    Daemon(Daemon),
}

/// A running router.
pub struct RunningRouter {
    spec: RouterSpec,
    listen: SocketAddr,
    imp: Imp,
}

impl RunningRouter {
    /// Start `spec` accepting sessions from `nodes`; real daemons keep files in `dir`.
    pub async fn start(
        spec: &RouterSpec,
        mode: RouterMode,
        nodes: &[IpAddr],
        dir: &Path,
    ) -> Result<RunningRouter, RouterError> {
        let imp = match mode {
            RouterMode::Builtin => Imp::Builtin(start_builtin(spec, nodes).await?),
            RouterMode::Real => {
                let (spec, nodes, dir) = (spec.clone(), nodes.to_vec(), dir.to_path_buf());
                let joined =
                    tokio::task::spawn_blocking(move || Daemon::start(&spec, &nodes, &dir)).await;
                Imp::Daemon(joined.map_err(|e| RouterError::NotReady {
                    name: "router".into(),
                    program: "daemon".into(),
                    log: e.to_string(),
                })??)
            }
        };
        let listen = match &imp {
            Imp::Builtin(r) => r.local_addr(),
            Imp::Daemon(d) => d.listen,
        };
        Ok(RunningRouter {
            spec: spec.clone(),
            listen,
            imp,
        })
    }

    /// The real loopback listener.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    pub fn spec(&self) -> &RouterSpec {
        &self.spec
    }

    /// The builtin router's full snapshot (attributes, counters), if builtin.
    pub fn snapshot(&self) -> Option<RouterSnapshot> {
        match &self.imp {
            Imp::Builtin(r) => Some(r.snapshot()),
            Imp::Daemon(_) => None,
        }
    }

    /// Sessions and learned routes, asking the daemon if real (blocking for a few ms).
    pub fn status(&self) -> RouterStatus {
        let (implementation, sessions, mut view) = match &self.imp {
            Imp::Builtin(r) => {
                let snap = r.snapshot();
                let view = crate::sources::listen::builtin_view(
                    &self.spec.name,
                    crate::status::RouterKind::Builtin,
                    &snap,
                    std::time::SystemTime::now(),
                );
                ("builtin", builtin_sessions(&snap), view)
            }
            Imp::Daemon(d) => {
                // One read of the daemon: the per-node session list comes from the full view.
                let view = d.view(&self.spec.name);
                (d.program_name(), sessions_from_view(&d.nodes, &view), view)
            }
        };
        view.address = Some(self.spec.virtual_addr().to_string());
        view.asn = Some(self.spec.asn);
        RouterStatus {
            implementation: implementation.to_string(),
            sessions,
            running: true,
            view: Some(view),
            ..idle_status(&self.spec, &self.listen.to_string(), RouterMode::Builtin)
        }
    }

    /// Run a router tool for `kubectl exec` (`birdc ...` or `vtysh ...`): the real tool
    /// against the daemon's control socket, or the built-in command set. Blocks while a real
    /// tool runs. `Err` is a message for commands the container has no tool for.
    pub fn exec(&self, argv: &[String]) -> Result<crate::lab::router_cli::Output, String> {
        use crate::lab::router_cli;
        let (tool, args) = argv.split_first().ok_or("no command")?;
        let tool_name = tool.rsplit('/').next().unwrap_or(tool);
        let kind_tool = match self.spec.kind {
            RouterKind::Bird => "birdc",
            RouterKind::Frr => "vtysh",
        };
        if tool_name != kind_tool && !(tool_name == "birdcl" && kind_tool == "birdc") {
            return Err(format!(
                "exec: {tool:?}: not found in this container: router {} ({}) runs only `{kind_tool}` in the lab",
                self.spec.name,
                program(self.spec.kind).rsplit('/').next().unwrap_or_default()
            ));
        }
        match &self.imp {
            Imp::Builtin(r) => {
                let snap = r.snapshot();
                Ok(match self.spec.kind {
                    RouterKind::Bird => router_cli::birdc(&snap, args),
                    RouterKind::Frr => router_cli::vtysh(&snap, args),
                })
            }
            Imp::Daemon(d) => d.exec(args),
        }
    }

    /// Close sessions and stop (kills a daemon by PID).
    pub async fn stop(self) {
        match self.imp {
            Imp::Builtin(r) => r.shutdown(Duration::from_millis(500)).await,
            Imp::Daemon(mut d) => {
                let _ = tokio::task::spawn_blocking(move || d.kill()).await;
            }
        }
    }
}

/// The implementation that plays `spec` under `mode`: builtin, bird or frr.
pub fn implementation(spec: &RouterSpec, mode: RouterMode) -> &'static str {
    match (mode, spec.kind) {
        (RouterMode::Builtin, _) => "builtin",
        (RouterMode::Real, RouterKind::Bird) => "bird",
        (RouterMode::Real, RouterKind::Frr) => "frr",
    }
}

/// The status of a router that is not running (no router pod), with the implementation the
/// lab configured for it (`mode`), so it is not mistaken for another kind before its first read.
pub fn idle_status(spec: &RouterSpec, listen: &str, mode: RouterMode) -> RouterStatus {
    RouterStatus {
        name: spec.name.clone(),
        implementation: implementation(spec, mode).to_string(),
        cluster_ip: spec.virtual_addr().to_string(),
        listen: listen.to_string(),
        asn: spec.asn,
        peer_asn: spec.peer_as(),
        running: false,
        sessions: Vec::new(),
        view: None,
    }
}

async fn start_builtin(spec: &RouterSpec, nodes: &[IpAddr]) -> Result<Router, RouterError> {
    let cfg = RouterConfig {
        listen: spec.listen,
        local_as: spec.asn,
        router_id: spec.id(),
        hold_time: 90,
        neighbors: nodes
            .iter()
            .map(|a| Neighbor {
                addr: *a,
                peer_as: spec.peer_as(),
                md5_password: None,
            })
            .collect(),
    };
    Router::bind(cfg)
        .await
        .map_err(|source| RouterError::Builtin {
            name: spec.name.clone(),
            source,
        })
}

fn builtin_sessions(s: &RouterSnapshot) -> Vec<SessionStatus> {
    s.peers
        .iter()
        .map(|p| SessionStatus {
            peer: p.peer.clone(),
            state: p.state.as_str().to_string(),
            routes: p
                .routes
                .iter()
                .map(|r| LearnedRoute {
                    prefix: r.prefix.clone(),
                    next_hop: r.next_hop.clone(),
                })
                .collect(),
        })
        .collect()
}

/// Reserve a concrete port for `addr` (port 0 picks one), checking that it is free.
fn concrete_listen(spec: &RouterSpec) -> Result<SocketAddr, RouterError> {
    let l = TcpListener::bind(spec.listen).map_err(|source| RouterError::Listen {
        name: spec.name.clone(),
        addr: spec.listen,
        source,
    })?;
    l.local_addr().map_err(|source| RouterError::Listen {
        name: spec.name.clone(),
        addr: spec.listen,
        source,
    })
}

/// A BIRD or FRR child process.
struct Daemon {
    kind: RouterKind,
    child: Child,
    dir: PathBuf,
    listen: SocketAddr,
    nodes: Vec<IpAddr>,
}

impl Daemon {
    fn start(spec: &RouterSpec, nodes: &[IpAddr], dir: &Path) -> Result<Daemon, RouterError> {
        check_real_installed()?;
        let listen = concrete_listen(spec)?;
        let dir = dir.join(&spec.name);
        let _ = std::fs::remove_dir_all(&dir);
        let spawn_err = |program: &str| {
            let (name, program) = (spec.name.clone(), program.to_string());
            move |source| RouterError::Spawn {
                name,
                program,
                source,
            }
        };
        std::fs::create_dir_all(&dir).map_err(spawn_err("mkdir"))?;
        let child = match spec.kind {
            RouterKind::Bird => spawn_bird(spec, listen, nodes, &dir),
            RouterKind::Frr => spawn_frr(spec, listen, nodes, &dir),
        }
        .map_err(spawn_err(program(spec.kind)))?;
        let mut d = Daemon {
            kind: spec.kind,
            child,
            dir,
            listen,
            nodes: nodes.to_vec(),
        };
        if let Err(log) = d.wait_ready() {
            d.kill();
            return Err(RouterError::NotReady {
                name: spec.name.clone(),
                program: program(spec.kind).into(),
                log,
            });
        }
        Ok(d)
    }

    fn program_name(&self) -> &'static str {
        match self.kind {
            RouterKind::Bird => "bird",
            RouterKind::Frr => "frr",
        }
    }

    fn socket(&self) -> PathBuf {
        match self.kind {
            RouterKind::Bird => self.dir.join("bird.ctl"),
            RouterKind::Frr => self.dir.join("bgpd.vty"),
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if self.socket().exists() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}): {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!("no control socket after 10 s: {}", self.log()))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    fn query(&self, cmd: &[&str]) -> String {
        let out = match self.kind {
            RouterKind::Bird => Command::new(BIRDC)
                .arg("-s")
                .arg(self.socket())
                .args(cmd)
                .output(),
            RouterKind::Frr => Command::new(VTYSH)
                .arg("--vty_socket")
                .arg(&self.dir)
                .args(["-d", "bgpd", "-c"])
                .arg(cmd.join(" "))
                .output(),
        };
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// The status model's view: BIRD's texts or FRR's JSON, with the raw output.
    fn view(&self, name: &str) -> crate::status::RouterView {
        use crate::sources::{bird, frr};
        match self.kind {
            RouterKind::Bird => bird::view(
                name,
                &self.query(&["show", "protocols", "all"]),
                &self.query(&["show", "route", "all"]),
                Some(bird::local_clock()),
            ),
            RouterKind::Frr => {
                let cmds: Vec<String> = frr::STATE_COMMANDS.iter().map(|c| c.to_string()).collect();
                let state = frr::json_documents(&self.vtysh(&cmds));
                let routes = frr::view(name, &state, &[], None).routes;
                let mut more = frr::detail_commands(&routes);
                let n = more.len();
                more.push("show bgp summary".into());
                more.push("show bgp ipv4 unicast".into());
                let (details, raw) = frr::split_details(&self.vtysh(&more), n);
                frr::view(name, &state, &details, Some(raw))
            }
        }
    }

    /// The real `birdc` or `vtysh` with the user's arguments, pointed at this daemon.
    fn exec(&self, args: &[String]) -> Result<crate::lab::router_cli::Output, String> {
        let mut cmd = match self.kind {
            RouterKind::Bird => {
                let mut c = Command::new(BIRDC);
                c.arg("-s").arg(self.socket());
                c
            }
            RouterKind::Frr => {
                let mut c = Command::new(VTYSH);
                c.arg("--vty_socket").arg(&self.dir);
                if !args.iter().any(|a| a == "-d" || a == "--daemon") {
                    c.args(["-d", "bgpd"]);
                }
                c
            }
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program(self.kind)))?;
        Ok(crate::lab::router_cli::Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            exit_code: out.status.code().unwrap_or(1),
        })
    }

    /// One vtysh run with several commands (FRR only).
    fn vtysh(&self, cmds: &[String]) -> String {
        Command::new(VTYSH)
            .args(crate::sources::frr::vtysh_args(Some(&self.dir), cmds))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A SIGKILLed daemon cannot remove its pid file and control socket itself.
        remove_runtime_files(&self.dir);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The files a BIRD or FRR daemon keeps in its directory only while it runs.
const RUNTIME_FILES: [&str; 4] = ["bird.pid", "bird.ctl", "bgpd.pid", "bgpd.vty"];

/// Remove the pid files and control sockets of a router daemon that no longer runs.
pub fn remove_runtime_files(dir: &Path) {
    for f in RUNTIME_FILES {
        let _ = std::fs::remove_file(dir.join(f));
    }
}

fn program(kind: RouterKind) -> &'static str {
    match kind {
        RouterKind::Bird => BIRD,
        RouterKind::Frr => BGPD,
    }
}

fn log_file(dir: &Path) -> std::io::Result<(Stdio, Stdio)> {
    let f = std::fs::File::create(daemon_log(dir))?;
    Ok((Stdio::from(f.try_clone()?), Stdio::from(f)))
}

fn bird_proto(i: usize) -> String {
    format!("node{}", i + 1)
}

/// BIRD 2 config: one passive multihop session per node.
pub fn bird_config(spec: &RouterSpec, listen: SocketAddr, nodes: &[IpAddr]) -> String {
    let mut s = format!(
        "log stderr all;\nrouter id {};\nprotocol device {{ }}\n",
        spec.id()
    );
    for (i, n) in nodes.iter().enumerate() {
        s.push_str(&format!(
            "protocol bgp {} {{\n  local {} port {} as {};\n  neighbor {n} as {};\n  \
             passive; multihop; strict bind on;\n  ipv4 {{ import all; export none; }};\n}}\n",
            bird_proto(i),
            listen.ip(),
            listen.port(),
            spec.asn,
            spec.peer_as()
        ));
    }
    s
}

/// FRR bgpd config: one passive session per node, loopback pitfalls handled.
pub fn frr_config(spec: &RouterSpec, nodes: &[IpAddr]) -> String {
    let mut s = format!(
        "frr defaults traditional\nhostname {}\nlog stdout informational\n!\nrouter bgp {}\n \
         bgp router-id {}\n no bgp ebgp-requires-policy\n bgp allow-martian-nexthop\n",
        spec.name,
        spec.asn,
        spec.id()
    );
    for n in nodes {
        s.push_str(&format!(
            " neighbor {n} remote-as {}\n neighbor {n} passive\n neighbor {n} disable-connected-check\n",
            spec.peer_as()
        ));
    }
    s.push_str(" !\n address-family ipv4 unicast\n");
    for n in nodes {
        s.push_str(&format!("  neighbor {n} activate\n"));
    }
    s.push_str(" exit-address-family\n!\n");
    s
}

fn spawn_bird(
    spec: &RouterSpec,
    listen: SocketAddr,
    nodes: &[IpAddr],
    dir: &Path,
) -> std::io::Result<Child> {
    start_bird(dir, &bird_config(spec, listen, nodes))
}

fn spawn_frr(
    spec: &RouterSpec,
    listen: SocketAddr,
    nodes: &[IpAddr],
    dir: &Path,
) -> std::io::Result<Child> {
    start_bgpd(dir, listen, &frr_config(spec, nodes))
}

/// Start BIRD 2 in the foreground with `conf`; its config, control socket (`bird.ctl`), pid file
/// and log (`daemon.log`) live in `dir`. Shared by the lab, the interop tests and the benchmark.
pub fn start_bird(dir: &Path, conf: &str) -> std::io::Result<Child> {
    std::fs::write(dir.join("bird.conf"), conf)?;
    let (out, err) = log_file(dir)?;
    Command::new(BIRD)
        .arg("-f")
        .arg("-c")
        .arg(dir.join("bird.conf"))
        .arg("-s")
        .arg(dir.join("bird.ctl"))
        .arg("-P")
        .arg(dir.join("bird.pid"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
}

/// Start FRR's bgpd alone (no zebra, no kernel routes) listening on `listen`, with `conf`; its
/// config, pid file, vty socket (`bgpd.vty`) and log (`daemon.log`) live in `dir`.
pub fn start_bgpd(dir: &Path, listen: SocketAddr, conf: &str) -> std::io::Result<Child> {
    std::fs::write(dir.join("bgpd.conf"), conf)?;
    let (out, err) = log_file(dir)?;
    Command::new(BGPD)
        .arg("-f")
        .arg(dir.join("bgpd.conf"))
        .args(["-p", &listen.port().to_string(), "-l"])
        .arg(listen.ip().to_string())
        .args(["-Z", "-S", "-P", "0", "-i"])
        .arg(dir.join("bgpd.pid"))
        .arg("--vty_socket")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
}

/// Where [`start_bird`] and [`start_bgpd`] write the daemon's output.
pub fn daemon_log(dir: &Path) -> PathBuf {
    dir.join("daemon.log")
}

/// One session per node the router accepts (`Unknown` when it has none with that node), with
/// the routes learned from it, read off the router's full view.
fn sessions_from_view(nodes: &[IpAddr], view: &crate::status::RouterView) -> Vec<SessionStatus> {
    use crate::status::drift::peer_ip;
    nodes
        .iter()
        .map(|n| {
            let state = view
                .sessions
                .iter()
                .find(|s| peer_ip(&s.peer) == Some(*n))
                .map_or_else(|| "Unknown".to_string(), |s| s.state.to_string());
            let routes = view
                .routes
                .iter()
                .filter(|r| r.from_peer.as_deref().and_then(peer_ip) == Some(*n))
                .map(|r| LearnedRoute {
                    prefix: r.prefix.to_string(),
                    next_hop: r.next_hop.map(|h| h.to_string()),
                })
                .collect();
            SessionStatus {
                peer: n.to_string(),
                state,
                routes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::topology::Topology;

    #[test]
    fn configs_handle_loopback_pitfalls() {
        let t = Topology::tutorial();
        let nodes = [t.nodes[0].address];
        let listen: SocketAddr = "127.0.0.100:1790".parse().unwrap();
        let b = bird_config(&t.routers[0], listen, &nodes);
        assert!(b.contains("local 127.0.0.100 port 1790 as 64500;"), "{b}");
        assert!(b.contains("neighbor 127.0.1.1 as 64500;"), "{b}");
        assert!(b.contains("passive; multihop;"), "{b}");
        let f = frr_config(&t.routers[1], &nodes);
        for needle in [
            "bgp allow-martian-nexthop",
            "no bgp ebgp-requires-policy",
            "neighbor 127.0.1.1 disable-connected-check",
            "neighbor 127.0.1.1 activate",
        ] {
            assert!(f.contains(needle), "{f}");
        }
    }

    #[test]
    fn sessions_come_from_the_view_one_per_node() {
        use crate::status::{RouterRoute, RouterSession, RouterView, SessionState};
        let view = RouterView {
            sessions: vec![RouterSession {
                peer: "127.0.1.1".into(),
                state: SessionState::Established,
                ..RouterSession::default()
            }],
            routes: vec![RouterRoute {
                prefix: "198.51.100.0/32".parse().unwrap(),
                next_hop: Some("127.0.1.1".parse().unwrap()),
                from_peer: Some("127.0.1.1".into()),
                ..RouterRoute::default()
            }],
            ..RouterView::default()
        };
        let nodes = ["127.0.1.1".parse().unwrap(), "127.0.1.2".parse().unwrap()];
        let s = sessions_from_view(&nodes, &view);
        assert_eq!(s[0].state, "Established");
        assert_eq!(s[0].routes[0].prefix, "198.51.100.0/32");
        assert_eq!(s[0].routes[0].next_hop.as_deref(), Some("127.0.1.1"));
        assert_eq!((s[1].state.as_str(), s[1].routes.len()), ("Unknown", 0));
    }
}
