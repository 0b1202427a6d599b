//! `metallbctl controller`: run MetalLB's controller against a cluster (the current kubeconfig
//! context, or the given one) until interrupted.
//!
//! Thin shell over `crate::metallb`: flags, runtime, Ctrl-C; anyhow errors stop at this edge.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::metallb::{self, ControllerOptions};

/// Run MetalLB's controller: assign addresses to LoadBalancer Services.
#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// Namespace of MetalLB's configuration ConfigMap.
    #[arg(long, default_value = metallb::DEFAULT_NAMESPACE, value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of MetalLB's configuration ConfigMap.
    #[arg(long = "config", default_value = metallb::DEFAULT_CONFIG_MAP, value_name = "NAME")]
    pub config_map: String,
    /// Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// Run the controller until Ctrl-C.
pub fn run(args: ControllerArgs) -> Result<ExitCode> {
    init_logging();
    let rt = runtime()?;
    rt.block_on(async move {
        let client = crate::kube::client(args.context.as_deref(), args.kubeconfig.as_deref())
            .await
            .context("cannot connect to the cluster")?;
        let opts = ControllerOptions {
            namespace: args.namespace,
            config_map: args.config_map,
            log: None,
        };
        let shutdown = shutdown_on_ctrl_c();
        metallb::run_controller(client, opts, shutdown)
            .await
            .context("the controller stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A receiver that becomes `true` on Ctrl-C (or SIGTERM on Unix).
pub(crate) fn shutdown_on_ctrl_c() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = tx.send(true);
    });
    rx
}
