//! Controlling labs from outside: the on-disk layout of a lab's state directory and its pid
//! file; starting the daemon in the background ([`spawn_daemon`]), stopping it ([`down`],
//! [`remove_state`]) and reaping the BIRD/FRR processes a killed daemon left behind
//! ([`reap_router_daemons`]); and the daemon's control socket (`<state-dir>/control.sock`):
//! one request line in, one answer out, then close. `status` answers a JSON [`LabStatus`];
//! `logs NAME` answers log text.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::routers::{RouterMode, RouterStatus};
use super::runtime::ComponentStatus;
use super::topology::{NodeSpec, Topology, TopologyError};

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
    /// The layout of lab `name`: in `state_dir` if given, else in [`state_base`]`/NAME`. The
    /// name must be letters, digits, '-' and '_' (it becomes a directory name).
    pub fn named(name: &str, state_dir: Option<&Path>) -> Result<Layout, ControlError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ControlError::BadName(name.to_string()));
        }
        Ok(Layout::new(state_dir.map_or_else(
            || state_base().join(name),
            Path::to_path_buf,
        )))
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
    /// The component (pod) logs, kept across restarts.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs.json")
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
    /// The router mode of the last `lab up` (`builtin` or `real`).
    pub fn routers_mode(&self) -> PathBuf {
        self.dir.join("routers-mode")
    }
}

/// Where labs keep their state: `$XDG_STATE_HOME/metallbctl/lab`, else
/// `~/.local/state/metallbctl/lab`, else under the temporary directory.
pub fn state_base() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("metallbctl")
        .join("lab")
}

/// The names of the labs that have a state directory under [`state_base`], sorted.
pub fn existing_labs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state_base())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
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
///
/// A process that is exiting has already given back its memory, so its command line reads
/// empty while it still closes its sockets and files: that still counts as alive (it is not a
/// recycled pid, which would show another command line), or `lab down` would report a daemon
/// stopped while it still holds its ports.
pub fn alive(pid: u32) -> bool {
    let Some(stat) = proc_stat(pid) else {
        return false;
    };
    if !stat.runs() || stat.is_kernel_thread() {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| c.is_empty() || String::from_utf8_lossy(&c).contains("metallbctl"))
        .unwrap_or(false)
}

/// The fields of `/proc/PID/stat` the liveness checks read.
struct ProcStat {
    state: String,
    flags: u64,
}

impl ProcStat {
    /// Exists and is not a zombie.
    fn runs(&self) -> bool {
        self.state != "Z" && self.state != "X"
    }

    /// Kernel threads have an empty command line too; their `PF_KTHREAD` flag tells them
    /// apart from an exiting process.
    fn is_kernel_thread(&self) -> bool {
        const PF_KTHREAD: u64 = 0x0020_0000;
        self.flags & PF_KTHREAD != 0
    }
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name: state, ppid, pgrp, session, tty_nr, tpgid, flags.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.to_string();
    let flags = fields.nth(5).and_then(|f| f.parse().ok()).unwrap_or(0);
    Some(ProcStat { state, flags })
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
    #[error("lab name {0:?}: use letters, digits, '-' and '_'")]
    BadName(String),
    #[error("lab {name:?} is already running (pid {pid}); stop it with `metallbctl lab down --name {name}`")]
    AlreadyRunning { name: String, pid: u32 },
    #[error("cannot read topology {}", path.display())]
    ReadTopology {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid topology")]
    Topology(#[from] TopologyError),
    /// Creating, writing or removing something in the state directory failed.
    #[error("{what} {}", path.display())]
    State {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find the metallbctl executable")]
    Exe(#[source] std::io::Error),
    #[error("cannot start the lab daemon")]
    Spawn(#[source] std::io::Error),
    #[error(
        "the lab daemon exited ({status}) before it was ready; its log says:\n{}",
        indent(log)
    )]
    DaemonExited {
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("the lab daemon did not become ready in 30s; see {}", log.display())]
    NotReady { log: PathBuf },
}

impl ControlError {
    /// What to do next, for the `help:` line.
    pub fn help(&self) -> Option<String> {
        use crate::kube::TROUBLESHOOTING;
        match self {
            ControlError::DaemonExited { .. } | ControlError::NotReady { .. } => Some(format!(
                "a busy --port? leave it out to take any free port (see {TROUBLESHOOTING}#the-lab-does-not-start)"
            )),
            _ => None,
        }
    }
}

/// Each line of a quoted log, indented under the message that quotes it.
fn indent(log: &str) -> String {
    log.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn state_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ControlError {
    let path = path.to_path_buf();
    move |source| ControlError::State { what, path, source }
}

/// Send one request and hand each line of the answer to `on` as it arrives, until the daemon
/// closes the connection (it stopped) or `on` fails (say, stdout closed).
pub fn follow(
    socket: &Path,
    line: &str,
    mut on: impl FnMut(&str) -> std::io::Result<()>,
) -> Result<(), ControlError> {
    use std::io::BufRead;
    let err = |source| ControlError::Connect {
        path: socket.to_path_buf(),
        source,
    };
    let mut s = UnixStream::connect(socket).map_err(err)?;
    s.write_all(format!("{line}\n").as_bytes()).map_err(err)?;
    let mut reader = std::io::BufReader::new(s);
    let mut buf = String::new();
    loop {
        buf.clear();
        if reader.read_line(&mut buf).map_err(err)? == 0 {
            return Ok(());
        }
        if on(&buf).is_err() {
            return Ok(());
        }
    }
}

/// How often [`follow_file`] looks for new lines (as `tail -f` does).
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);

/// Print `path` and then whatever is appended to it, until `on` fails or `keep_going` says
/// stop (checked each [`FOLLOW_INTERVAL`]). A file that is truncated is read again from its
/// start.
pub fn follow_file(
    path: &Path,
    mut keep_going: impl FnMut() -> bool,
    mut on: impl FnMut(&str) -> std::io::Result<()>,
) -> Result<(), ControlError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(state_err("cannot read", path))?;
    let mut pos = 0u64;
    let mut pending = Vec::new();
    loop {
        let len = f.metadata().map_err(state_err("cannot read", path))?.len();
        if len < pos {
            pos = 0;
        }
        f.seek(SeekFrom::Start(pos))
            .map_err(state_err("cannot read", path))?;
        let mut chunk = Vec::new();
        pos += f
            .read_to_end(&mut chunk)
            .map_err(state_err("cannot read", path))? as u64;
        pending.extend_from_slice(&chunk);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let text = String::from_utf8_lossy(&pending[..=end]).into_owned();
            pending.drain(..=end);
            if on(&text).is_err() {
                return Ok(());
            }
        }
        if !keep_going() {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_INTERVAL);
    }
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

/// Before `lab up`: fail if lab `name` runs; remove a stale pid file and return its pid.
pub fn check_not_running(name: &str, layout: &Layout) -> Result<Option<u32>, ControlError> {
    match pid_state(layout) {
        PidState::Running(pid) => Err(ControlError::AlreadyRunning {
            name: name.to_string(),
            pid,
        }),
        PidState::Stale(pid) => {
            let _ = std::fs::remove_file(layout.pid());
            Ok(Some(pid))
        }
        PidState::None => Ok(None),
    }
}

/// The topology for `lab up`: the file given, else the one saved by the last run, else the
/// tutorial's. It is saved in the state directory for the next run.
pub fn resolve_topology(file: Option<&Path>, layout: &Layout) -> Result<Topology, ControlError> {
    let text = match file {
        Some(p) => std::fs::read_to_string(p).map_err(|source| ControlError::ReadTopology {
            path: p.to_path_buf(),
            source,
        })?,
        None => std::fs::read_to_string(layout.topology())
            .unwrap_or_else(|_| super::topology::TUTORIAL.to_string()),
    };
    let topo = Topology::parse(&text)?;
    std::fs::create_dir_all(&layout.dir).map_err(state_err("cannot create", &layout.dir))?;
    std::fs::write(layout.topology(), text)
        .map_err(state_err("cannot save the topology to", &layout.topology()))?;
    Ok(topo)
}

/// The routers for `lab up`: the mode given, else the one the last run recorded, else the
/// built-in ones; recorded for the next run. Also returns the recorded mode when a given mode
/// replaces a different one, so the caller can say so.
pub fn resolve_routers(
    given: Option<RouterMode>,
    layout: &Layout,
) -> Result<(RouterMode, Option<RouterMode>), ControlError> {
    let recorded = std::fs::read_to_string(layout.routers_mode())
        .ok()
        .and_then(|t| match t.trim() {
            "builtin" => Some(RouterMode::Builtin),
            "real" => Some(RouterMode::Real),
            _ => None,
        });
    let mode = given.or(recorded).unwrap_or_default();
    let replaced = recorded.filter(|r| *r != mode);
    std::fs::create_dir_all(&layout.dir).map_err(state_err("cannot create", &layout.dir))?;
    let word = match mode {
        RouterMode::Builtin => "builtin",
        RouterMode::Real => "real",
    };
    std::fs::write(layout.routers_mode(), format!("{word}\n")).map_err(state_err(
        "cannot save the router mode to",
        &layout.routers_mode(),
    ))?;
    Ok((mode, replaced))
}

/// How to start a lab daemon in the background.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    pub name: String,
    pub routers: RouterMode,
    pub port: Option<u16>,
}

/// How long [`spawn_daemon`] waits for the daemon's control socket.
pub const SPAWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Start `metallbctl lab up --foreground` as a background process (its own process group,
/// output to the daemon log) and return its pid once its control socket answers with that pid.
pub fn spawn_daemon(opts: &SpawnOptions, layout: &Layout) -> Result<u32, ControlError> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(ControlError::Exe)?;
    let log_path = layout.log();
    let log = std::fs::File::create(&log_path).map_err(state_err("cannot create", &log_path))?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "lab",
        "up",
        "--foreground",
        "--name",
        &opts.name,
        "--state-dir",
    ])
    .arg(&layout.dir)
    .args([
        "--routers",
        match opts.routers {
            RouterMode::Builtin => "builtin",
            RouterMode::Real => "real",
        },
    ]);
    if let Some(p) = opts.port {
        cmd.args(["--port", &p.to_string()]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(state_err("cannot open", &log_path))?,
        )
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(ControlError::Spawn)?;
    let pid = child.id();
    let t = Instant::now();
    loop {
        if status(&layout.socket(), Duration::from_secs(2)).is_ok_and(|s| s.pid == pid) {
            return Ok(pid);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(ControlError::DaemonExited {
                status,
                log: log.trim_end().to_string(),
            });
        }
        if t.elapsed() > SPAWN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ControlError::NotReady { log: log_path });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How long [`stop`] waits after SIGTERM before it sends SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Send SIGTERM to lab daemon `pid` and wait for it to go; SIGKILL after [`STOP_TIMEOUT`].
/// Returns whether it stopped on SIGTERM.
pub fn stop(pid: u32) -> bool {
    signal(pid, libc::SIGTERM);
    let t = Instant::now();
    while alive(pid) {
        if t.elapsed() > STOP_TIMEOUT {
            signal(pid, libc::SIGKILL);
            std::thread::sleep(Duration::from_millis(200));
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What [`down`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Down {
    /// The daemon stopped on SIGTERM (`clean`) or was killed after [`STOP_TIMEOUT`].
    Stopped { pid: u32, clean: bool },
    /// The pid file named a dead process: it was removed, and so were the router daemons
    /// (`reaped`) the dead daemon left.
    Stale { pid: u32, reaped: Vec<u32> },
    /// No pid file.
    NotRunning,
}

/// Stop a lab: its daemon, or what a dead daemon left behind. Its objects stay on disk.
pub fn down(layout: &Layout) -> Down {
    match pid_state(layout) {
        PidState::Running(pid) => {
            let clean = stop(pid);
            let _ = std::fs::remove_file(layout.pid());
            let _ = std::fs::remove_file(layout.socket());
            // A daemon that had to be SIGKILLed could not stop its BIRD/FRR children.
            if !clean {
                reap_router_daemons(layout);
            }
            Down::Stopped { pid, clean }
        }
        PidState::Stale(pid) => {
            let _ = std::fs::remove_file(layout.pid());
            let _ = std::fs::remove_file(layout.socket());
            Down::Stale {
                pid,
                reaped: reap_router_daemons(layout),
            }
        }
        PidState::None => Down::NotRunning,
    }
}

/// Delete a lab's state directory (`lab reset`, after [`down`]), so the next `lab up` starts
/// empty.
pub fn remove_state(layout: &Layout) -> Result<(), ControlError> {
    if layout.dir.exists() {
        std::fs::remove_dir_all(&layout.dir).map_err(state_err("cannot remove", &layout.dir))?;
    }
    Ok(())
}

/// How long [`reap_router_daemons`] waits after SIGTERM before it sends SIGKILL.
pub const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// Stop BIRD/FRR daemons left behind by a lab daemon that died without cleaning up (SIGKILL):
/// every live process whose command line names a path under `<state-dir>/routers/` gets
/// SIGTERM, and SIGKILL if it is still there after [`REAP_TIMEOUT`]. Returns once they are
/// gone, with the PIDs signalled.
///
/// The processes are found in /proc, not through the daemons' own pid files: BIRD and bgpd
/// write those some time after they start, so a lab daemon killed right after starting a
/// router left a router with no pid file (or a pid file still being written), and that
/// router outlived `lab down`.
pub fn reap_router_daemons(layout: &Layout) -> Vec<u32> {
    let marker = format!("{}/", layout.routers_dir().display());
    let found = processes_naming(&marker);
    for &pid in &found {
        signal(pid, libc::SIGTERM);
    }
    let t = Instant::now();
    loop {
        let left: Vec<u32> = found
            .iter()
            .copied()
            .filter(|&p| process_runs(p) && cmdline_names(p, &marker))
            .collect();
        if left.is_empty() {
            break;
        }
        if t.elapsed() > REAP_TIMEOUT {
            for p in left {
                signal(p, libc::SIGKILL);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Their pid files and control sockets, which a killed daemon could not remove.
    if let Ok(dirs) = std::fs::read_dir(layout.routers_dir()) {
        for d in dirs.flatten() {
            super::routers::remove_runtime_files(&d.path());
        }
    }
    found
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(raw) = i32::try_from(pid) {
        // SAFETY: kill(2) on a process this lab started (its daemon from our pid file, or a
        // router whose command line names our lab's router directory); no memory is touched.
        unsafe { libc::kill(raw, sig) };
    }
}

/// Live processes (not zombies) whose command line contains `marker`, except this one.
fn processes_naming(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| p != me && cmdline_names(p, marker) && process_runs(p))
        .collect();
    pids.sort_unstable();
    pids
}

fn cmdline_names(pid: u32, marker: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
}

/// Whether `pid` exists and is not a zombie.
fn process_runs(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|s| s.runs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_threads_and_other_programs_are_not_a_lab_daemon() {
        // pid 2 is kthreadd on Linux (unless in a pid namespace): empty command line, but
        // not an exiting daemon.
        let comm = std::fs::read_to_string("/proc/2/comm").unwrap_or_default();
        if comm.trim() == "kthreadd" {
            assert!(proc_stat(2).is_some_and(|s| s.is_kernel_thread()));
            assert!(!alive(2));
        }
        let own = proc_stat(std::process::id()).expect("our own stat");
        assert!(own.runs() && !own.is_kernel_thread());
        // A running program that is not metallbctl is not a lab daemon.
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        assert!(process_runs(other.id()));
        assert!(!alive(other.id()));
        let _ = other.kill();
        let _ = other.wait();
    }

    #[test]
    fn lab_names_are_checked() {
        assert!(matches!(
            Layout::named("../x", None),
            Err(ControlError::BadName(_))
        ));
        assert!(Layout::named("", None).is_err());
        assert!(Layout::named("a-1", None)
            .unwrap()
            .dir
            .ends_with("metallbctl/lab/a-1"));
        assert_eq!(
            Layout::named("b_2", Some(Path::new("d"))).unwrap().dir,
            PathBuf::from("d")
        );
    }

    #[test]
    fn stale_pid_files_are_removed_and_running_labs_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        assert_eq!(check_not_running("t", &layout).unwrap(), None);
        // A pid that is not a metallbctl process counts as stale.
        std::fs::write(layout.pid(), "999999999\n").unwrap();
        assert_eq!(check_not_running("t", &layout).unwrap(), Some(999_999_999));
        assert!(!layout.pid().exists());
        assert_eq!(down(&layout), Down::NotRunning);
    }

    #[test]
    fn reaping_finds_a_router_process_without_any_pid_file() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let rdir = layout.routers_dir().join("bird");
        std::fs::create_dir_all(&rdir).unwrap();
        // A stand-in router: a process whose command line names a file in its directory, as
        // BIRD's `-c <dir>/bird.conf` does, and which never writes a pid file.
        let conf = rdir.join("bird.conf");
        std::fs::write(&conf, "").unwrap();
        let mut child = Command::new("tail").arg("-f").arg(&conf).spawn().unwrap();
        let pid = child.id();
        let marker = format!("{}/", layout.routers_dir().display());
        let t = Instant::now();
        while !cmdline_names(pid, &marker) {
            assert!(t.elapsed() < Duration::from_secs(10), "tail never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let reaped = reap_router_daemons(&layout);
        let status = child.wait().unwrap();
        assert_eq!(reaped, vec![pid]);
        assert!(!status.success(), "the stand-in was signalled: {status}");
        assert!(reap_router_daemons(&layout).is_empty());
    }
}
