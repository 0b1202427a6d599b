//! The lab daemon's control socket (`<state-dir>/control.sock`): one request line in, one
//! answer out, then close. `status` answers a JSON [`LabStatus`]; `logs NAME` answers log
//! text. Also the on-disk layout of a lab's state directory and its pid file checks.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::routers::RouterStatus;
use super::runtime::ComponentStatus;
use super::topology::NodeSpec;

/// Everything `lab status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabStatus {
    pub name: String,
    pub pid: u32,
    pub api_server: String,
    pub kubeconfig: String,
    pub state_dir: String,
    pub topology: String,
    pub routers_mode: String,
    pub nodes: Vec<NodeSpec>,
    pub components: Vec<ComponentStatus>,
    pub routers: Vec<RouterStatus>,
    /// Virtual ClusterIP:port -> real loopback listener.
    pub virtual_network: Vec<(SocketAddr, SocketAddr)>,
}

/// Files in a lab's state directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Layout { dir: dir.into() }
    }
    pub fn pid(&self) -> PathBuf {
        self.dir.join("lab.pid")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }
    pub fn apiserver(&self) -> PathBuf {
        self.dir.join("apiserver")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }
    pub fn topology(&self) -> PathBuf {
        self.dir.join("topology.yaml")
    }
    pub fn port(&self) -> PathBuf {
        self.dir.join("port")
    }
    pub fn routers_dir(&self) -> PathBuf {
        self.dir.join("routers")
    }
}

/// What the pid file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidState {
    None,
    Running(u32),
    /// A pid file whose process is gone.
    Stale(u32),
}

/// Read the pid file and check the process is alive and is metallbctl.
pub fn pid_state(layout: &Layout) -> PidState {
    let Ok(text) = std::fs::read_to_string(layout.pid()) else {
        return PidState::None;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return PidState::Stale(0);
    };
    if alive(pid) {
        PidState::Running(pid)
    } else {
        PidState::Stale(pid)
    }
}

/// Is `pid` a live metallbctl process (not a zombie, not a recycled pid)?
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if state == Some("Z") {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("metallbctl"))
        .unwrap_or(false)
}

/// Why a control request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    #[error("cannot reach the lab daemon at {}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the lab daemon's answer was not understood")]
    Decode(#[from] serde_json::Error),
}

/// Send one request and read the whole answer.
pub fn request(socket: &Path, line: &str, timeout: Duration) -> Result<String, ControlError> {
    let err = |source| ControlError::Connect {
        path: socket.to_path_buf(),
        source,
    };
    let mut s = UnixStream::connect(socket).map_err(err)?;
    s.set_read_timeout(Some(timeout)).map_err(err)?;
    s.set_write_timeout(Some(timeout)).map_err(err)?;
    s.write_all(format!("{line}\n").as_bytes()).map_err(err)?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(err)?;
    Ok(out)
}

/// Ask for the status.
pub fn status(socket: &Path, timeout: Duration) -> Result<LabStatus, ControlError> {
    Ok(serde_json::from_str(&request(socket, "status", timeout)?)?)
}

/// Stop BIRD/FRR daemons left behind by a lab daemon that died without cleaning up (SIGKILL):
/// every `routers/*/{bird,bgpd}.pid` whose live process runs a config from that directory gets
/// SIGTERM. Returns the PIDs signalled.
pub fn reap_router_daemons(layout: &Layout) -> Vec<u32> {
    let Ok(dirs) = std::fs::read_dir(layout.routers_dir()) else {
        return Vec::new();
    };
    let mut killed = Vec::new();
    for dir in dirs.filter_map(|d| d.ok().map(|d| d.path())) {
        for file in ["bird.pid", "bgpd.pid"] {
            let Some(pid) = std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            else {
                continue;
            };
            if runs_from(pid, &dir) {
                if let Ok(raw) = i32::try_from(pid) {
                    // SAFETY: kill(2) on a router daemon whose command line names our directory.
                    unsafe { libc::kill(raw, libc::SIGTERM) };
                    killed.push(pid);
                }
            }
        }
    }
    killed
}

fn runs_from(pid: u32, dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains(&*dir.to_string_lossy())
}
