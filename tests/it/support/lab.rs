//! The one lab harness. A [`Lab`] is a temporary directory laid out like a lab's
//! (`state/`, `state/kubeconfig`, a kubectl cache) with one of two servers behind it:
//!
//! - [`Lab::start`]: the lab API server in this test process, on a free loopback port; stop it
//!   with [`Lab::shutdown`].
//! - [`Lab::new`] then [`Lab::up`]: the daemon started by the CLI (`metallbctl lab up`); stopped
//!   on drop (`lab down`, then SIGKILL by PID if it is still alive).
//!
//! Either way, kube-rs clients and the real kubectl (with the lab's own cache directory) reach it
//! through the same kubeconfig.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube::config::{KubeConfigOptions, Kubeconfig};
use metallbctl::lab::apiserver::{ApiServer, ApiServerHandle, Config};
use serde_json::Value;

use super::{kill_if_alive, metallbctl, unique, TempDir};

pub struct Lab {
    /// The lab's name (`--name`), unique to this test.
    pub name: String,
    pub dir: TempDir,
    /// kubectl's cache directory, one per lab.
    pub cache: PathBuf,
    server: Option<ApiServerHandle>,
    in_process: bool,
}

impl Lab {
    /// A lab name and directory for a CLI-started lab (not started yet: see [`Lab::up`]).
    pub fn new(tag: &str) -> Lab {
        let name = unique(tag);
        let dir = TempDir::new(tag);
        let cache = dir.join("kubectl-cache");
        Lab {
            name,
            dir,
            cache,
            server: None,
            in_process: false,
        }
    }

    /// The name (`pod/…`) of the test router pod of a lab with the routers applied.
    pub fn router_pod(&self) -> String {
        let pods = self.k(&[
            "get",
            "pods",
            "-n",
            "metallb-system",
            "-l",
            "app=test-bgp-router",
            "-o",
            "name",
        ]);
        pods.lines()
            .next()
            .expect("a router pod")
            .trim()
            .to_string()
    }

    /// The lab API server in this process, with its state and kubeconfig in the lab directory.
    pub async fn start(tag: &str) -> Lab {
        Self::start_with(tag, |_| {}).await
    }

    pub async fn start_with(tag: &str, tweak: impl FnOnce(&mut Config)) -> Lab {
        let mut lab = Lab::new(tag);
        lab.in_process = true;
        let mut config = Config {
            state_dir: Some(lab.state()),
            kubeconfig: Some(lab.kubeconfig()),
            ..Config::default()
        };
        tweak(&mut config);
        lab.server = Some(ApiServer::start(config).await.expect("server starts"));
        lab
    }

    /// The in-process server (labs made by [`Lab::start`] only).
    pub fn server(&self) -> &ApiServerHandle {
        self.server
            .as_ref()
            .expect("an in-process lab (Lab::start) that is still running")
    }

    /// Stop the in-process server, asserting a clean shutdown.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("shutdown");
        }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.state().join("kubeconfig")
    }

    pub async fn client(&self) -> kube::Client {
        client_for(&self.kubeconfig()).await
    }

    /// `metallbctl lab <sub> --name N --state-dir D <extra>`.
    pub fn lab(&self, sub: &str, extra: &[&str]) -> Output {
        metallbctl()
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

    /// The daemon's PID from its state directory.
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

    /// For every router: does it hold `prefix` (a /32) from a session?
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

    /// The real kubectl pointed at this lab, with the lab's own cache directory.
    pub fn kubectl_cmd(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.env("KUBECONFIG", self.kubeconfig())
            .arg("--cache-dir")
            .arg(&self.cache);
        cmd
    }

    /// Run kubectl against the lab; returns (success, stdout + stderr).
    pub fn kubectl(&self, args: &[&str]) -> (bool, String) {
        self.kubectl_env(args, &[])
    }

    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let out = self
            .kubectl_cmd()
            .envs(env.iter().copied())
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

    /// Stop a CLI-started lab (`lab down`), then make sure its process is gone.
    pub fn down(&self) {
        let pid = self.pid();
        let _ = self.lab("down", &[]);
        if let Some(pid) = pid {
            kill_if_alive(pid);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.in_process {
            self.down();
        }
    }
}

/// A kube-rs client from a kubeconfig file, as any metallbctl command would build it.
pub async fn client_for(path: &Path) -> kube::Client {
    let kc = Kubeconfig::read_from(path).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is valid");
    kube::Client::try_from(config).expect("client")
}
