//! `metallbctl speaker`: run MetalLB's speaker for one node against a cluster until
//! interrupted: BGP sessions to the configured peers, announcing assigned addresses.
//!
//! Thin shell over `crate::metallb`: flags, runtime, Ctrl-C; anyhow errors stop at this edge.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::controller::{init_logging, runtime, shutdown_on_ctrl_c};
use crate::bgp::driver::TcpDialer;
use crate::metallb::{self, SpeakerOptions};

/// Run MetalLB's speaker for one node: announce assigned addresses over BGP.
#[derive(Debug, Args)]
pub struct SpeakerArgs {
    /// The Node this speaker runs on.
    #[arg(long, value_name = "NAME")]
    pub node: String,
    /// Source address of BGP sessions and next hop of announced routes.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub node_address: IpAddr,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:7472).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// Refuse to dial peers outside 127.0.0.0/8 and ::1.
    #[arg(long)]
    pub loopback_only: bool,
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

/// Run the speaker until Ctrl-C.
pub fn run(args: SpeakerArgs) -> Result<ExitCode> {
    init_logging();
    let rt = runtime()?;
    rt.block_on(async move {
        let client = crate::kube::client(args.context.as_deref(), args.kubeconfig.as_deref())
            .await
            .context("cannot connect to the cluster")?;
        let mut opts = SpeakerOptions::new(args.node, args.node_address);
        opts.namespace = args.namespace;
        opts.config_map = args.config_map;
        opts.metrics_listen = args.metrics;
        opts.dialer = Arc::new(TcpDialer {
            loopback_only: args.loopback_only,
        });
        let shutdown = shutdown_on_ctrl_c();
        metallb::run_speaker(client, opts, shutdown)
            .await
            .context("the speaker stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}
