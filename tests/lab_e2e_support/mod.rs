//! Shared helpers for the lab end-to-end tests: a lab started by the CLI (`metallbctl lab up`)
//! in its own state directory and stopped by a Drop guard (`lab down`, then SIGKILL by PID if
//! it is still alive), the real kubectl with a fresh cache directory, and polling.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

#[path = "../gate/mod.rs"]
mod gate;
pub use gate::{eventually, have_files, have_kubectl};

pub const BIN: &str = env!("CARGO_BIN_EXE_metallbctl");

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

/// A lab started by the CLI; stopped on drop.
pub struct Lab {
    pub name: String,
    pub dir: PathBuf,
    pub cache: PathBuf,
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{nanos}", std::process::id())
}

impl Lab {
    /// A lab name and state directory (not started).
    pub fn new(tag: &str) -> Lab {
        let name = unique(tag);
        let dir = std::env::temp_dir().join(format!("metallbctl-e2e-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cache = dir.join("kubectl-cache");
        Lab { name, dir, cache }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.state().join("kubeconfig")
    }

    /// `metallbctl lab <sub> --name N --state-dir D <extra>`.
    pub fn lab(&self, sub: &str, extra: &[&str]) -> Output {
        Command::new(BIN)
            .args(["lab", sub, "--name", &self.name, "--state-dir"])
            .arg(self.state())
            .args(extra)
            .output()
            .expect("run metallbctl")
    }

    /// `lab up`, asserting success.
    pub fn up(&self, extra: &[&str]) -> String {
        let out = self.lab("up", extra);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "lab up failed: {text}\n{}\nIf it says \"unrecognized subcommand\", another checkout sharing CARGO_TARGET_DIR replaced the binary; rerun.",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.state().join("lab.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// `lab status -o json`.
    pub fn status(&self) -> Value {
        let out = self.lab("status", &["-o", "json"]);
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Every router holds `prefix` (a /32) from a session, or none does when `want` is false.
    pub fn routers_hold(&self, prefix: &str) -> Vec<bool> {
        let st = self.status();
        st["routers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                r["sessions"].as_array().into_iter().flatten().any(|s| {
                    s["routes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["prefix"] == prefix)
                })
            })
            .collect()
    }

    /// Every router has an Established session.
    pub fn all_established(&self) -> bool {
        let st = self.status();
        let routers = st["routers"].as_array().cloned().unwrap_or_default();
        !routers.is_empty()
            && routers.iter().all(|r| {
                r["sessions"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["state"] == "Established"))
            })
    }

    /// Run kubectl against the lab; returns (success, stdout + stderr).
    pub fn kubectl(&self, args: &[&str]) -> (bool, String) {
        self.kubectl_env(args, &[])
    }

    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", self.kubeconfig())
            .envs(env.iter().copied())
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .output()
            .expect("run kubectl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// kubectl that must succeed.
    pub fn k(&self, args: &[&str]) -> String {
        let (ok, text) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed:\n{text}");
        text
    }

    /// Stop the lab (`lab down`), then make sure its process is gone.
    pub fn down(&self) {
        let pid = self.pid();
        let _ = self.lab("down", &[]);
        if let Some(pid) = pid {
            kill_if_alive(pid);
        }
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

fn kill_if_alive(pid: u32) {
    if alive(pid) {
        // SAFETY: kill(2) on the PID of a daemon this test started.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The path of a manifest in this repository.
pub fn manifest(name: &str) -> String {
    format!("{}/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
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
