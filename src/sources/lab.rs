//! The lab's routers, through the lab daemon's control socket (`status` answers a LabStatus
//! whose routers carry full views), and finding the lab behind a kubeconfig's server URL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lab::control;
use crate::lab::routers::RouterStatus;
use crate::status::model::{RouterKind, RouterRoute, RouterSession, RouterView, SessionState};
use crate::status::source::{RouterSource, SourceFuture};

/// The lab's routers.
pub struct LabSource {
    pub socket: PathBuf,
    pub timeout: Duration,
}

/// The view of a lab router: the daemon's full view, or (from a daemon that sends none, or a
/// router that does not run) what its session list says.
pub fn router_view(r: &RouterStatus) -> RouterView {
    if let Some(v) = &r.view {
        return v.clone();
    }
    let routes = r
        .sessions
        .iter()
        .flat_map(|s| {
            s.routes.iter().filter_map(|l| {
                Some(RouterRoute {
                    prefix: l.prefix.parse().ok()?,
                    next_hop: l.next_hop.as_deref().and_then(|n| n.parse().ok()),
                    from_peer: Some(s.peer.clone()),
                    ..RouterRoute::default()
                })
            })
        })
        .collect();
    RouterView {
        name: r.name.clone(),
        kind: match r.implementation.as_str() {
            "bird" => RouterKind::Bird,
            "frr" => RouterKind::Frr,
            _ => RouterKind::Builtin,
        },
        address: Some(r.cluster_ip.clone()),
        asn: Some(r.asn),
        sessions: r
            .sessions
            .iter()
            .map(|s| RouterSession {
                peer: s.peer.clone(),
                peer_as: Some(r.peer_asn),
                state: SessionState::parse(&s.state),
                received: s.routes.len() as u64,
                ..RouterSession::default()
            })
            .collect(),
        routes,
        raw: None,
    }
}

impl RouterSource for LabSource {
    fn name(&self) -> &str {
        "lab"
    }

    fn grouped(&self) -> bool {
        true
    }

    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        let (socket, timeout) = (self.socket.clone(), self.timeout);
        Box::pin(async move {
            let st = tokio::task::spawn_blocking(move || control::status(&socket, timeout))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| crate::sources::chain(&e))?;
            Ok(st.routers.iter().map(router_view).collect())
        })
    }
}

/// Where labs keep their state: `$XDG_STATE_HOME/metallbctl/lab` (or `~/.local/state/...`).
pub fn labs_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))
        .map(|b| b.join("metallbctl").join("lab"))
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The control socket of the lab in state directory `dir`, if it runs and serves `server`
/// (checked cheaply: the pid file and the API server port the daemon records).
pub fn lab_in(server: &str, dir: &Path) -> Option<PathBuf> {
    let layout = control::Layout::new(dir);
    let sock = layout.socket();
    if !sock.exists() || !matches!(control::pid_state(&layout), control::PidState::Running(_)) {
        return None;
    }
    let port = std::fs::read_to_string(layout.port()).ok()?;
    let want = format!("https://127.0.0.1:{}", port.trim());
    same_server(server, &want).then_some(sock)
}

/// The control socket of the running lab under `dir` (one state directory per lab) whose API
/// server is `server`, if any.
pub fn find_lab(server: &str, dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find_map(|e| lab_in(server, &e.path()))
}
