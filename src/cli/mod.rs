//! Command-line shells: one module per command. Each holds a clap `Args` struct and a `run`
//! function returning the process exit code; errors become messages here, at the edge.

pub mod bgp;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Validate, install, watch and simulate MetalLB in BGP mode.
#[derive(Debug, Parser)]
#[command(name = "metallbctl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a BGP router (listen) or speaker (announce) for debugging real networks.
    Bgp(bgp::BgpArgs),
}

/// Parse the process arguments, run the chosen command and map the outcome to an exit code:
/// 0 clean, 1 problems found, 2 could not run.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bgp(args) => bgp::run(args).unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }),
    }
}
