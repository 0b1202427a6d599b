//! `metallbctl speaker`: run MetalLB's speaker for one node against a cluster until
//! interrupted: BGP sessions to the configured peers, announcing assigned addresses.
//!
//! Thin shell over `crate::metallb`: flags, runtime, Ctrl-C; anyhow errors stop at this edge.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use crate::bgp::driver::TcpDialer;
use crate::metallb::{self, SpeakerOptions};

/// Run MetalLB's speaker for one node: announce assigned addresses over BGP.
#[derive(Debug, Args)]
pub struct SpeakerArgs {
    /// The Node this speaker runs on.
    #[arg(long, value_name = "NAME")]
    pub node: String,
    /// Source address of BGP sessions and next hop of announced routes; 0.0.0.0 (the default)
    /// lets the kernel choose the source and uses each session's local address as next hop.
    #[arg(long, value_name = "IP", default_value = "0.0.0.0")]
    pub node_address: IpAddr,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:7472).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// Refuse to dial peers outside 127.0.0.0/8 and ::1.
    #[arg(long)]
    pub loopback_only: bool,
    #[command(flatten)]
    pub cluster: super::controller::ClusterArgs,
}

/// Run the speaker until Ctrl-C.
pub fn run(args: SpeakerArgs) -> Result<ExitCode> {
    super::shell::init_logging(super::shell::LogStyle::Terminal);
    let rt = super::shell::runtime()?;
    rt.block_on(async move {
        let client = args.cluster.client().await?;
        let mut opts = SpeakerOptions::new(args.node, args.node_address);
        opts.namespace = args.cluster.namespace;
        opts.config_map = args.cluster.config_map;
        opts.version = args.cluster.metallb_version;
        opts.metrics_listen = args.metrics;
        opts.dialer = Arc::new(TcpDialer {
            loopback_only: args.loopback_only,
        });
        let shutdown = super::shell::shutdown_on_ctrl_c();
        metallb::run_speaker(client, opts, shutdown)
            .await
            .context("the speaker stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}
