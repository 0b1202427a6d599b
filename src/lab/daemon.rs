//! The lab daemon: one process per named lab (`metallbctl lab up` starts it in the
//! background; `--foreground` runs it in place). It owns the API server, the runtime and the
//! control socket, writes the pid file, and on SIGTERM/SIGINT stops everything in reverse.
//!
//! ```text
//!   kubectl / kube-rs ──HTTPS──> ApiServer ──── Store (objects, pod logs) ◄──────────────┐
//!                                                │ watch::Receiver<rv>                    │
//!                                                ▼                                        │
//!                                 Runtime task (kubelet + workload controllers) ──writes──┤
//!                                   │ per pod:                                            │
//!                                   ├─ controller task ── kube::Client ──HTTPS──> ApiServer
//!                                   ├─ speaker task(s) ── kube::Client; BGP via VirtualNet dialer
//!                                   │        10.96.0.100:179 ──map──> 127.0.0.100:P
//!                                   ├─ routers: builtin Router tasks | bird / bgpd children
//!                                   └─ simulated containers (a log line)
//!   lab status/logs ──unix socket──> control task ──> Runtime::shared (routers, components)
//!   SIGTERM ──> stop: runtime (components, routers) ─> control ─> ApiServer (persist) ─> pid
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::apiserver::auth::TokenIssuer;
use super::apiserver::{self, ApiServer, ApiServerHandle, ServerError, Store};
use super::control::{self, LabStatus, Layout, PidState};
use super::routers::RouterMode;
use super::runtime::exec::RuntimeSessions;
use super::runtime::{PodClient, Runtime, RuntimeConfig, Shared};
use super::topology::Topology;

/// How to run one lab.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub name: String,
    pub state_dir: PathBuf,
    pub topology: Topology,
    pub routers: RouterMode,
    /// API server port; `None` reuses the last one if free, else picks one.
    pub port: Option<u16>,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    #[error("lab {name:?} is already running (pid {pid}); stop it with `metallbctl lab down --name {name}`")]
    AlreadyRunning { name: String, pid: u32 },
    #[error("cannot use state directory {}", path.display())]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the lab API server on 127.0.0.1:{port}")]
    ApiServer {
        port: u16,
        #[source]
        source: ServerError,
    },
    #[error("cannot build a client for the lab API server")]
    Client(#[source] crate::kube::KubeError),
    #[error("cannot open the control socket {}", path.display())]
    Control {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the runtime could not start (resource registry incomplete)")]
    Runtime,
    #[error(
        "router {name} cannot listen on {addr} (port in use? change `listen` in the topology)"
    )]
    RouterPort {
        name: String,
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A running lab inside this process.
pub struct Daemon {
    layout: Layout,
    server: ApiServerHandle,
    runtime: Runtime,
    control_stop: watch::Sender<bool>,
    control: tokio::task::JoinHandle<()>,
    logs_saver: tokio::task::JoinHandle<()>,
}

/// One lab holds many descriptors: at 100 nodes x 2 routers, 400 BGP socket ends plus each
/// speaker's API connections and watches, both ends in this process. Raise the soft limit on
/// open files to the hard limit (commonly 1,024 soft, far more hard).
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    if ok && lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            tracing::warn!("cannot raise the open-file limit above {}", lim.rlim_cur);
        }
    }
}

fn state_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DaemonError + '_ {
    move |source| DaemonError::StateDir {
        path: path.to_path_buf(),
        source,
    }
}

impl Daemon {
    /// Start everything; returns once the control socket answers.
    pub async fn start(cfg: DaemonConfig) -> Result<Daemon, DaemonError> {
        let layout = Layout::new(&cfg.state_dir);
        std::fs::create_dir_all(&layout.dir).map_err(state_err(&layout.dir))?;
        check_router_ports(&cfg.topology)?;
        claim_pid(&cfg.name, &layout)?;
        let started = Self::start_claimed(cfg, layout.clone()).await;
        if started.is_err() {
            // Nothing of a lab that did not start stays behind (a busy --port, ...).
            let _ = std::fs::remove_file(layout.pid());
            let _ = std::fs::remove_file(layout.socket());
        }
        started
    }

    /// [`Daemon::start`] once the pid file is ours.
    async fn start_claimed(cfg: DaemonConfig, layout: Layout) -> Result<Daemon, DaemonError> {
        raise_fd_limit();
        for pid in control::reap_router_daemons(&layout) {
            tracing::warn!("stopped router daemon {pid} left by a previous run");
        }
        let sessions = apiserver::exec::Sessions::default();
        let server = start_server(&cfg, &layout, &sessions).await?;
        // Component logs of earlier runs: restarted pods show them as their previous logs.
        if let Err(e) = server.store().logs().load(&layout.logs()) {
            tracing::warn!("cannot read {}: {e}", layout.logs().display());
        }
        let logs_saver = spawn_log_saver(server.store().clone(), layout.logs());
        let client_for_pod = pod_clients(&layout, server.token_issuer()).await?;
        let rcfg = RuntimeConfig {
            topology: cfg.topology.clone(),
            routers: cfg.routers,
            work_dir: layout.routers_dir(),
            client_for_pod: Some(client_for_pod),
        };
        let runtime = Runtime::start(server.store().clone(), rcfg).ok_or(DaemonError::Runtime)?;
        sessions.install(RuntimeSessions::new(runtime.shared().clone()));
        let info = Arc::new(Info {
            cfg: cfg.clone(),
            url: server.url(),
            layout: layout.clone(),
        });
        let (control_stop, rx) = watch::channel(false);
        let listener = bind_control(&layout)?;
        let control = tokio::spawn(serve_control(
            listener,
            info,
            runtime.shared().clone(),
            server.store().clone(),
            rx,
        ));
        Ok(Daemon {
            layout,
            server,
            runtime,
            control_stop,
            control,
            logs_saver,
        })
    }

    /// The API server URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The kubeconfig path.
    pub fn kubeconfig(&self) -> PathBuf {
        self.layout.kubeconfig()
    }

    /// Stop in reverse order and remove the pid file and socket.
    /// Each step is logged with its duration, so a slow stop says which part held it.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let started = std::time::Instant::now();
        self.runtime.shutdown().await;
        tracing::info!("pods and routers stopped ({:.2?})", started.elapsed());
        self.logs_saver.abort();
        if let Err(e) = self.server.store().logs().save(&self.layout.logs()) {
            tracing::warn!("cannot write {}: {e}", self.layout.logs().display());
        }
        let _ = self.control_stop.send(true);
        let _ = self.control.await;
        tracing::info!("control socket closed ({:.2?})", started.elapsed());
        let r = self.server.shutdown().await;
        tracing::info!("API server stopped ({:.2?})", started.elapsed());
        let _ = std::fs::remove_file(self.layout.socket());
        let _ = std::fs::remove_file(self.layout.pid());
        r
    }
}

/// How often, at most, the component logs are written to the state directory while the lab
/// runs (so most of them survive even a SIGKILL; a clean stop writes them a last time).
const LOG_SAVE_EVERY: Duration = Duration::from_secs(2);

fn spawn_log_saver(store: Store, path: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut changed = store.logs().subscribe();
        while changed.changed().await.is_ok() {
            tokio::time::sleep(LOG_SAVE_EVERY).await;
            changed.borrow_and_update();
            let (store, path) = (store.clone(), path.clone());
            let saved = tokio::task::spawn_blocking(move || store.logs().save(&path)).await;
            if let Ok(Err(e)) = saved {
                tracing::warn!("cannot write component logs: {e}");
            }
        }
    })
}

/// Routers with a fixed listen port must find it free (port 0 always is).
fn check_router_ports(t: &Topology) -> Result<(), DaemonError> {
    for r in t.routers.iter().filter(|r| r.listen.port() != 0) {
        std::net::TcpListener::bind(r.listen).map_err(|source| DaemonError::RouterPort {
            name: r.name.clone(),
            addr: r.listen,
            source,
        })?;
    }
    Ok(())
}

fn claim_pid(name: &str, layout: &Layout) -> Result<(), DaemonError> {
    match control::pid_state(layout) {
        PidState::Running(pid) if pid != std::process::id() => {
            return Err(DaemonError::AlreadyRunning {
                name: name.to_string(),
                pid,
            })
        }
        PidState::Stale(pid) => {
            tracing::warn!("removing stale pid file (pid {pid} is gone)");
        }
        _ => {}
    }
    let pid = layout.pid();
    std::fs::write(&pid, format!("{}\n", std::process::id())).map_err(state_err(&pid))
}

fn previous_port(layout: &Layout) -> Option<u16> {
    std::fs::read_to_string(layout.port())
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn start_server(
    cfg: &DaemonConfig,
    layout: &Layout,
    sessions: &apiserver::exec::Sessions,
) -> Result<ApiServerHandle, DaemonError> {
    let config = |port: u16| apiserver::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        state_dir: Some(layout.apiserver()),
        kubeconfig: Some(layout.kubeconfig()),
        sessions: sessions.clone(),
        ..apiserver::Config::default()
    };
    let result = match (cfg.port, previous_port(layout)) {
        (Some(p), _) => ApiServer::start(config(p)).await.map_err(|e| (p, e)),
        (None, Some(p)) => match ApiServer::start(config(p)).await {
            Ok(s) => Ok(s),
            Err(ServerError::Bind { .. }) => ApiServer::start(config(0)).await.map_err(|e| (0, e)),
            Err(e) => Err((p, e)),
        },
        (None, None) => ApiServer::start(config(0)).await.map_err(|e| (0, e)),
    };
    let server = result.map_err(|(port, source)| DaemonError::ApiServer { port, source })?;
    let _ = std::fs::write(layout.port(), server.addr().port().to_string());
    Ok(server)
}

/// Kube clients for in-lab components: the lab kubeconfig's server and CA, no read timeout
/// (long watches), and the pod's own ServiceAccount token instead of the admin token, as the
/// kubelet would project it into the pod.
async fn pod_clients(layout: &Layout, tokens: TokenIssuer) -> Result<PodClient, DaemonError> {
    let mut config = crate::kube::config(None, Some(&layout.kubeconfig()))
        .await
        .map_err(DaemonError::Client)?;
    config.read_timeout = None;
    Ok(Arc::new(move |ns: &str, pod: &str| {
        let token = tokens.for_pod(ns, pod).map_err(|e| e.to_string())?;
        let mut config = config.clone();
        config.auth_info.token = Some(token.into());
        kube::Client::try_from(config).map_err(|e| e.to_string())
    }))
}

fn bind_control(layout: &Layout) -> Result<UnixListener, DaemonError> {
    let path = layout.socket();
    let _ = std::fs::remove_file(&path);
    UnixListener::bind(&path).map_err(|source| DaemonError::Control { path, source })
}

struct Info {
    cfg: DaemonConfig,
    url: String,
    layout: Layout,
}

async fn serve_control(
    listener: UnixListener,
    info: Arc<Info>,
    shared: Shared,
    store: Store,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = conn else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (info, shared, store) = (info.clone(), shared.clone(), store.clone());
        tokio::spawn(async move {
            let _ = answer(stream, &info, &shared, &store).await;
        });
    }
}

async fn answer(
    stream: UnixStream,
    info: &Info,
    shared: &Shared,
    store: &Store,
) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).await?;
    let mut words = line.split_whitespace();
    let request = (words.next(), words.next());
    if let (Some("follow"), Some(what)) = request {
        return follow_logs(&mut w, shared, store, what).await;
    }
    let reply = match request {
        (Some("status"), _) => {
            let st = status(info, shared).await;
            serde_json::to_string(&st).unwrap_or_default()
        }
        (Some("logs"), Some(what)) => logs(info, shared, store, what),
        (Some("kill"), Some(what)) => {
            let killed = shared.kill(what);
            if killed.is_empty() {
                format!("no MetalLB component named {what} runs\n")
            } else {
                killed.iter().map(|k| format!("killed {k}\n")).collect()
            }
        }
        _ => "unknown request; try `status` or `logs NAME`\n".to_string(),
    };
    w.write_all(reply.as_bytes()).await?;
    w.shutdown().await
}

async fn status(info: &Info, shared: &Shared) -> LabStatus {
    LabStatus {
        name: info.cfg.name.clone(),
        pid: std::process::id(),
        api_server: info.url.clone(),
        kubeconfig: info.layout.kubeconfig().display().to_string(),
        state_dir: info.layout.dir.display().to_string(),
        topology: info.cfg.topology.name.clone(),
        routers_mode: match info.cfg.routers {
            RouterMode::Builtin => "builtin".into(),
            RouterMode::Real => "real".into(),
        },
        nodes: info.cfg.topology.nodes.clone(),
        components: shared.components(),
        routers: shared.router_statuses().await,
        virtual_network: shared.net.entries(),
    }
}

/// Logs of a component: a real router daemon's log file, else the pod logs of matching pods
/// (by pod name, pod name prefix, container name or role).
fn logs(info: &Info, shared: &Shared, store: &Store, what: &str) -> String {
    let file = info.layout.routers_dir().join(what).join("daemon.log");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return text;
    }
    let keys = matching_logs(shared, what);
    let mut out = String::new();
    for (key, prefix) in &keys {
        let lines = store.log_lines(&key.0, &key.1, &key.2, None);
        push_lines(&mut out, prefix, &lines);
    }
    out
}

/// The log buffers of the pods matching `what` (pod name, pod name prefix, container name or
/// role), each with the prefix its lines get when there are several.
fn matching_logs(shared: &Shared, what: &str) -> Vec<(apiserver::logs::LogKey, String)> {
    let comps = shared.components();
    let matching: Vec<_> = comps
        .iter()
        .filter(|c| {
            c.pod == what
                || c.pod.starts_with(&format!("{what}-"))
                || c.container == what
                || c.role == what
        })
        .collect();
    let many = matching.len() > 1;
    matching
        .into_iter()
        .map(|c| {
            let prefix = if many {
                format!("[{}/{}] ", c.pod, c.container)
            } else {
                String::new()
            };
            (
                (c.namespace.clone(), c.pod.clone(), c.container.clone()),
                prefix,
            )
        })
        .collect()
}

fn push_lines(out: &mut String, prefix: &str, lines: &[String]) {
    for l in lines {
        out.push_str(prefix);
        out.push_str(l);
        out.push('\n');
    }
}

/// `follow NAME`: the logs of the matching pods, then every new line as it is appended, until
/// the client goes away or the lab stops. An unknown name gets one line saying so.
async fn follow_logs(
    w: &mut tokio::net::unix::OwnedWriteHalf,
    shared: &Shared,
    store: &Store,
    what: &str,
) -> std::io::Result<()> {
    let keys = matching_logs(shared, what);
    if keys.is_empty() {
        w.write_all(format!("no pod, container or role {what:?} to follow\n").as_bytes())
            .await?;
        return w.shutdown().await;
    }
    let mut rx = store.logs().subscribe();
    let mut next: Vec<u64> = keys
        .iter()
        .map(|(k, _)| store.logs().start(k, None))
        .collect();
    loop {
        rx.borrow_and_update();
        let mut out = String::new();
        for ((key, prefix), from) in keys.iter().zip(next.iter_mut()) {
            let (lines, after) = store.logs().since(key, *from);
            *from = after;
            push_lines(&mut out, prefix, &lines);
        }
        if !out.is_empty() {
            w.write_all(out.as_bytes()).await?;
        }
        if store.is_closed() || rx.changed().await.is_err() {
            return w.shutdown().await;
        }
    }
}
