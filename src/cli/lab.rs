//! `metallbctl lab ...`: the simulated cluster. Today: `lab apiserver`, the API server alone in
//! the foreground (for tests and debugging). `lab up/down/...` join later.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::lab::apiserver::{ApiServer, Config};

/// Run and inspect the lab cluster.
#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

/// The lab's subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Run only the lab's Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM.
    Apiserver(ApiserverArgs),
}

/// Options of `lab apiserver`.
#[derive(Debug, Args)]
pub struct ApiserverArgs {
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Directory for persisted objects and the token [default: ~/.local/state/metallbctl/lab]
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Where to write the kubeconfig [default: <state-dir>/kubeconfig]
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Print one line per request (method, URL, status, duration) to stderr.
    #[arg(long)]
    pub log_requests: bool,
}

/// Run a `lab` subcommand.
pub fn run(args: LabArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LabCommand::Apiserver(a) => run_apiserver(a),
    }
}

fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("metallbctl").join("lab")
}

/// Wait for Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")
    }
}

fn run_apiserver(args: ApiserverArgs) -> anyhow::Result<ExitCode> {
    let state_dir = args.state_dir.unwrap_or_else(default_state_dir);
    let kubeconfig = args
        .kubeconfig
        .unwrap_or_else(|| state_dir.join("kubeconfig"));
    let config = Config {
        listen: args.listen,
        state_dir: Some(state_dir.clone()),
        kubeconfig: Some(kubeconfig.clone()),
        request_log: args.log_requests,
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = ApiServer::start(config)
            .await
            .context("cannot start the lab API server")?;
        println!("lab API server listening on {}", server.url());
        println!("state directory: {}", state_dir.display());
        println!("kubeconfig written to {}", kubeconfig.display());
        println!(
            "try: KUBECONFIG={} kubectl get namespaces",
            kubeconfig.display()
        );
        wait_for_stop_signal().await?;
        server
            .shutdown()
            .await
            .context("the lab API server did not stop cleanly")?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::LabCommand;
    use crate::cli::{Cli, Command};

    fn apiserver(args: &[&str]) -> Option<super::ApiserverArgs> {
        let argv = ["metallbctl", "lab", "apiserver"].iter().chain(args);
        match Cli::try_parse_from(argv).ok()?.command {
            Command::Lab(lab) => match lab.command {
                LabCommand::Apiserver(a) => Some(a),
            },
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    #[test]
    fn apiserver_flags() {
        let a = apiserver(&[]).expect("defaults parse");
        assert_eq!(a.listen.to_string(), "127.0.0.1:0");
        assert!(a.state_dir.is_none() && a.kubeconfig.is_none() && !a.log_requests);
        let a = apiserver(&[
            "--listen",
            "127.0.0.1:6443",
            "--state-dir",
            "s",
            "--kubeconfig",
            "k",
            "--log-requests",
        ])
        .expect("parse");
        assert_eq!(a.listen.port(), 6443);
        assert_eq!(a.state_dir.as_deref(), Some(std::path::Path::new("s")));
        assert_eq!(a.kubeconfig.as_deref(), Some(std::path::Path::new("k")));
        assert!(a.log_requests);
        assert!(apiserver(&["--listen", "not-an-address"]).is_none());
    }
}
