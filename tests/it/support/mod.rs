//! What the integration tests share: how to run the `metallbctl` binary, the skip-or-fail gate
//! for outside programs (`METALLBCTL_REQUIRE_PEERS=1` turns a missing BIRD, FRR or kubectl into a
//! failure, as in CI), polling with a deadline instead of sleeps, temporary directories and child
//! processes cleaned up on drop, the one [`Lab`] harness, and the MetalLB [`metallb::Env`].
#![allow(dead_code)]

pub mod lab;
pub mod metallb;

use std::ffi::OsStr;
use std::future::Future;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use lab::Lab;

/// The `metallbctl` binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_metallbctl");

/// `metallbctl`, run from the repository root (so fixture paths are relative to it) and without
/// the caller's `KUBECONFIG` or `NO_COLOR`, so a developer's environment cannot change a result.
/// Tests that need either set it on the returned command.
pub fn metallbctl() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("KUBECONFIG")
        .env_remove("NO_COLOR");
    cmd
}

/// [`metallbctl`] wrapped for assert_cmd (stdin from a string, exit-code assertions).
pub fn metallbctl_assert() -> assert_cmd::Command {
    assert_cmd::Command::from_std(metallbctl())
}

/// The path of a file in this repository.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The path of a manifest under manifests/, as a string for command lines.
pub fn manifest(name: &str) -> String {
    repo_path("manifests").join(name).display().to_string()
}

/// True when the test may run; prints SKIP, or panics under METALLBCTL_REQUIRE_PEERS=1.
pub fn require(what: &str, present: bool, hint: &str) -> bool {
    if present {
        return true;
    }
    if std::env::var("METALLBCTL_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("METALLBCTL_REQUIRE_PEERS=1 but {what} is missing ({hint})");
    }
    eprintln!("SKIP: {what} is missing ({hint}); set METALLBCTL_REQUIRE_PEERS=1 to fail instead");
    false
}

/// The real kubectl is on PATH (gated as above).
pub fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require("kubectl", ok, "put kubectl on PATH")
}

/// All of these files exist (gated as above).
pub fn have_files(what: &str, paths: &[&str], hint: &str) -> bool {
    let missing: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    require(&format!("{what} ({missing:?})"), missing.is_empty(), hint)
}

/// BIRD 2 and FRR are installed (gated as above).
pub fn have_real_routers() -> bool {
    have_files(
        "BIRD 2 / FRR",
        &[
            "/usr/sbin/bird",
            "/usr/sbin/birdc",
            "/usr/lib/frr/bgpd",
            "/usr/bin/vtysh",
        ],
        "apt-get install -y bird2 frr",
    )
}

/// Poll `f` every 50 ms for up to `secs`; panic with `what` and `ctx()` on timeout.
pub fn eventually<T>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> Option<T>,
    ctx: impl Fn() -> String,
) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            panic!("timed out after {secs}s waiting for {what}\n{}", ctx());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The async form of [`eventually`]: poll `f` every 25 ms until it yields `Some`, or panic after
/// `limit` naming `what`.
pub async fn eventually_async<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A name unique to this test process and call: `tag-PID-N-NANOS`.
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{n}-{nanos}", std::process::id())
}

/// A fresh directory under the system temp dir, removed on drop. Derefs to its path.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("metallbctl-{}", unique(tag)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<OsStr> for TempDir {
    fn as_ref(&self) -> &OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed and reaped on drop, so a failing test leaves nothing running.
pub struct Proc(pub Child);

impl Proc {
    /// Spawn `cmd` with stdin and stderr discarded and stdout as given.
    pub fn spawn(cmd: &mut Command, stdout: Stdio) -> Proc {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        Proc(child)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Is the process alive (and not a zombie)?
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next())
                != Some("Z")
        })
        .unwrap_or(false)
}

/// SIGKILL a process this test started, if it is still alive.
pub fn kill_if_alive(pid: u32) {
    if alive(pid) {
        // SAFETY: kill(2) on the PID of a process this test started.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
}

/// PIDs of processes whose command line contains `needle` and our marker.
pub fn processes_with(needle: &str, marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c).replace('\0', " ");
                    c.contains(needle) && c.contains(marker)
                })
                .unwrap_or(false)
                && alive(*pid)
        })
        .collect()
}

/// A TCP port on `ip` that the OS reports free: bind port 0, read the port back, release it.
/// For daemons that must be told their port on the command line or in a config file (BIRD,
/// FRR, `metallbctl bgp listen`); in-process listeners bind port 0 themselves.
pub fn free_port(ip: &str) -> u16 {
    let l = std::net::TcpListener::bind((ip, 0)).expect("bind port 0 on loopback");
    l.local_addr().expect("bound address").port()
}

/// A child whose stdout and stderr lines arrive on a channel as they are printed, so a test can
/// wait for a line (a readiness signal) instead of sleeping. Killed and reaped on drop.
pub struct Streaming {
    pub proc: Proc,
    rx: tokio::sync::mpsc::UnboundedReceiver<(Pipe, String)>,
    /// Every line read so far, in order of arrival.
    pub seen: Vec<(Pipe, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipe {
    Stdout,
    Stderr,
}

impl Streaming {
    pub fn spawn(cmd: &mut Command) -> Streaming {
        use std::io::{BufRead, BufReader};
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send((Pipe::Stdout, l));
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send((Pipe::Stderr, l));
            }
        });
        Streaming {
            proc: Proc(child),
            rx,
            seen: Vec::new(),
        }
    }

    /// Wait up to `limit` for a line matching `f`; panic naming `what` (and what was printed).
    pub async fn wait_line(
        &mut self,
        what: &str,
        limit: Duration,
        f: impl Fn(Pipe, &str) -> bool,
    ) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some((pipe, line))) => {
                    self.seen.push((pipe, line.clone()));
                    if f(pipe, &line) {
                        return line;
                    }
                }
                Ok(None) => panic!("the process ended before {what}: {:?}", self.seen),
                Err(_) => panic!(
                    "timed out after {limit:?} waiting for {what}: {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Wait for the process to exit (within `limit`) and return everything it printed on stdout.
    pub async fn finish(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(l)) => self.seen.push(l),
                Ok(None) => break,
                Err(_) => panic!("the process did not end within {limit:?}: {:?}", self.seen),
            }
        }
        let status = self.proc.0.wait().expect("wait");
        let out = self
            .seen
            .iter()
            .filter(|(p, _)| *p == Pipe::Stdout)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        (status, out)
    }

    /// Everything printed on stdout so far.
    pub fn stdout(&self) -> Vec<&str> {
        self.seen
            .iter()
            .filter(|(p, _)| *p == Pipe::Stdout)
            .map(|(_, l)| l.as_str())
            .collect()
    }
}

/// Snapshot `value` as `snapshots/NAME.snap` (the one snapshot directory of the project).
/// Volatile parts (ports, PIDs, ages, temporary paths) must be normalised by the caller first;
/// see [`redact`].
pub fn snapshot(name: &str, value: &str) {
    insta::with_settings!({ snapshot_path => "../../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, value);
    });
}

/// Replace every occurrence of each `(needle, placeholder)` in `text`, longest needle first, so
/// a snapshot does not depend on a temporary path, a port or a name made unique per run.
pub fn redact(text: &str, pairs: &[(&str, &str)]) -> String {
    let mut pairs: Vec<&(&str, &str)> = pairs.iter().filter(|(n, _)| !n.is_empty()).collect();
    pairs.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for (needle, placeholder) in pairs {
        out = out.replace(needle, placeholder);
    }
    out
}

/// Mask the cells of the named columns of a whitespace-aligned table (kubectl's, ours) with
/// `*`: for ages, uptimes and other clocks. Cells are cut at the header's column starts, and the
/// table is re-aligned (two spaces between columns) so a wider or narrower clock does not move
/// the other columns.
pub fn mask_columns(table: &str, columns: &[&str]) -> String {
    let mut lines = table.lines();
    let Some(header) = lines.next() else {
        return String::new();
    };
    let mut starts = Vec::new();
    let mut prev_space = true;
    for (i, c) in header.char_indices() {
        if !c.is_whitespace() && prev_space {
            starts.push(i);
        }
        prev_space = c.is_whitespace();
    }
    let cut = |line: &str| -> Vec<String> {
        (0..starts.len())
            .map(|i| {
                let end = starts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                line.get(starts[i].min(end)..end)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let names = cut(header);
    let mut rows = vec![names.clone()];
    for line in lines {
        let mut cells = cut(line);
        for (cell, name) in cells.iter_mut().zip(&names) {
            if columns.contains(&name.as_str()) && !cell.is_empty() {
                *cell = "*".into();
            }
        }
        rows.push(cells);
    }
    let widths: Vec<usize> = (0..names.len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A BGP peer whose real address changes when it restarts (a fresh port each time, so a port is
/// never handed back and forth between two test suites running at once). Speakers are
/// configured with the fixed virtual address [`MovingPeer::virt`] and dial through
/// [`MovingPeer::dialer`], which resolves it to the current real address; nothing else is
/// dialled.
pub struct MovingPeer {
    pub virt: std::net::SocketAddr,
    real: std::sync::Arc<std::sync::Mutex<std::net::SocketAddr>>,
}

impl MovingPeer {
    pub fn new(virt: &str, real: std::net::SocketAddr) -> MovingPeer {
        MovingPeer {
            virt: virt.parse().expect("virtual address"),
            real: std::sync::Arc::new(std::sync::Mutex::new(real)),
        }
    }

    /// The peer now listens at `real`.
    pub fn set(&self, real: std::net::SocketAddr) {
        if let Ok(mut r) = self.real.lock() {
            *r = real;
        }
    }

    pub fn dialer(&self) -> std::sync::Arc<metallbctl::lab::net::MappedDialer> {
        let (virt, real) = (self.virt, self.real.clone());
        std::sync::Arc::new(metallbctl::lab::net::MappedDialer::new(
            metallbctl::bgp::driver::TcpDialer {
                loopback_only: true,
            },
            std::sync::Arc::new(move |a| {
                if a == virt {
                    real.lock().ok().map(|r| *r)
                } else {
                    None
                }
            }),
        ))
    }
}
