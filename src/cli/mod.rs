//! Command-line shells: one module per command. Each holds a clap `Args` struct and a `run`
//! function returning the process exit code; errors become messages here, at the edge.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod lab;

/// Validate, install, watch and simulate MetalLB in BGP mode.
#[derive(Debug, Parser)]
#[command(name = "metallbctl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the lab: a simulated cluster with a Kubernetes-compatible API.
    Lab(lab::LabArgs),
}

/// Parse the process arguments, run the chosen command and map the outcome to an exit code:
/// 0 clean, 1 problems found, 2 could not run.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Lab(args) => lab::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("metallbctl: {e:#}");
            ExitCode::from(2)
        }
    }
}
