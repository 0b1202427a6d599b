//! Shared helpers for the lab API server tests: a server on a free loopback port with its own
//! state directory and kubeconfig, and kube-rs clients built from that kubeconfig.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use metallbctl::lab::apiserver::{ApiServer, ApiServerHandle, Config};

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("metallbctl-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server with its directory.
pub struct Lab {
    pub server: ApiServerHandle,
    pub dir: TempDir,
}

impl Lab {
    pub async fn start(tag: &str) -> Lab {
        Self::start_with(tag, |_| {}).await
    }

    pub async fn start_with(tag: &str, tweak: impl FnOnce(&mut Config)) -> Lab {
        let dir = TempDir::new(tag);
        let mut config = Config {
            state_dir: Some(dir.path().join("state")),
            kubeconfig: Some(dir.path().join("kubeconfig")),
            ..Config::default()
        };
        tweak(&mut config);
        let server = ApiServer::start(config).await.expect("server starts");
        Lab { server, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub async fn client(&self) -> kube::Client {
        client_for(&self.kubeconfig()).await
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
