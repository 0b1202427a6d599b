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
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Where MetalLB's configuration lives and how to reach the cluster; shared with the speaker.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Namespace of MetalLB's configuration ConfigMap.
    #[arg(long, default_value = metallb::DEFAULT_NAMESPACE, value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of MetalLB's configuration ConfigMap.
    #[arg(long = "config", default_value = metallb::DEFAULT_CONFIG_MAP, value_name = "NAME")]
    pub config_map: String,
    /// The MetalLB release to behave as: v0.13 and later read the custom resources (the
    /// ConfigMap when there are none); v0.14 and later re-allocate services whose address a
    /// new configuration takes away, instead of rejecting it.
    #[arg(long, default_value = "v0.12", value_name = "VERSION")]
    pub metallb_version: crate::config::Version,
    /// Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    pub async fn client(&self) -> Result<kube::Client> {
        crate::kube::client(self.context.as_deref(), self.kubeconfig.as_deref())
            .await
            .context("cannot connect to the cluster")
    }
}

/// Run the controller until Ctrl-C.
pub fn run(args: ControllerArgs) -> Result<ExitCode> {
    super::shell::init_logging(super::shell::LogStyle::Terminal);
    let rt = super::shell::runtime()?;
    rt.block_on(async move {
        let client = args.cluster.client().await?;
        let opts = ControllerOptions {
            namespace: args.cluster.namespace,
            config_map: args.cluster.config_map,
            version: args.cluster.metallb_version,
            log: None,
        };
        let shutdown = super::shell::shutdown_on_ctrl_c();
        metallb::run_controller(client, opts, shutdown)
            .await
            .context("the controller stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}
