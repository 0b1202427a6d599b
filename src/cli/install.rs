//! `metallbctl install` and `metallbctl uninstall`: clap options, turned into
//! [`InstallSettings`] for [`crate::kube::install`], which does the work; this module prints its
//! progress (one rewritten line for the rollout on a terminal, plain lines otherwise).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::output::{out, outln};
use crate::kube::install::{self, ConfigCheck, InstallSettings, Progress};

/// Options of `metallbctl install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// MetalLB release to install: v0.12 (the ConfigMap release) or v0.13 to v0.16 (custom
    /// resources, with CRDs and the webhook), or a patch tag such as v0.15.2 (`-V`/`--version`
    /// print metallbctl's own version). Default: the release installed now, else v0.16.
    #[arg(id = "metallb_version", long = "metallb-version", value_name = "TAG")]
    pub version: Option<String>,
    /// Also install the tutorial's test BGP routers (BIRD and FRR).
    #[arg(long)]
    pub with_test_router: bool,
    /// A MetalLB configuration (ConfigMap YAML or bare config) to apply after a dry run.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until the controller and speakers are ready (the default; --wait=false to skip).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub wait: bool,
    /// How long to wait for the rollout, e.g. 90s, 2m.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Apply the configuration even if the dry run says a service would lose its address.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl InstallArgs {
    /// The library's settings for these options.
    pub fn settings(&self) -> InstallSettings {
        InstallSettings {
            version: self.version.clone(),
            with_test_router: self.with_test_router,
            config: self.config.clone(),
            dry_run: self.dry_run,
            wait: self.wait,
            timeout: self.timeout,
            force: self.force,
        }
    }
}

/// Which cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// kubeconfig file [default: KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context [default: the current one].
    #[arg(long)]
    pub context: Option<String>,
}

/// Options of `metallbctl uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Also remove the test BGP routers.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub with_test_router: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Parse `90s`, `2m`, `1m30s`, `500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let nanos = crate::config::duration::parse_go_duration(s, true)?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("negative duration {s:?}"))
}

/// Install progress on stdout: the rollout state rewrites one line on a terminal.
#[derive(Debug)]
pub struct StdoutProgress {
    tty: bool,
}

impl StdoutProgress {
    pub fn new() -> Self {
        StdoutProgress {
            tty: std::io::stdout().is_terminal(),
        }
    }
}

impl Default for StdoutProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for StdoutProgress {
    fn line(&mut self, line: &str) {
        outln!("{line}");
    }

    fn rollout(&mut self, line: &str) {
        if self.tty {
            out!("\r\x1b[2K{line}");
            let _ = std::io::stdout().flush();
        } else {
            outln!("{line}");
        }
    }

    fn rollout_end(&mut self) {
        if self.tty {
            outln!();
        }
    }

    /// The same findings and SERVICE/VERDICT table as `validate --cluster`.
    fn config_check(&mut self, check: &ConfigCheck) {
        let color = self.tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        out!(
            "{}",
            super::dry_run::findings(&check.file, &check.diagnostics, color)
        );
        if let Some(dry_run) = &check.dry_run {
            out!(
                "{}",
                super::dry_run::table(
                    &dry_run.report,
                    &format!("{}:{}", check.file.name, check.line),
                    &dry_run.live
                )
            );
        }
    }
}

/// Run `metallbctl install`.
pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    super::shell::runtime()?.block_on(async move {
        let (client, server) = crate::kube::connect(
            args.cluster.context.as_deref(),
            args.cluster.kubeconfig.as_deref(),
        )
        .await?;
        install::install(&client, &server, &settings, &mut StdoutProgress::new()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Run `metallbctl uninstall`: delete what install created, namespace last.
pub fn run_uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    super::shell::runtime()?.block_on(async move {
        let (client, server) = crate::kube::connect(
            args.cluster.context.as_deref(),
            args.cluster.kubeconfig.as_deref(),
        )
        .await?;
        install::uninstall(
            &client,
            &server,
            args.with_test_router,
            &mut StdoutProgress::new(),
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn install_args(args: &[&str]) -> Option<InstallArgs> {
        let argv = ["metallbctl", "install"].iter().chain(args);
        match Cli::try_parse_from(argv).ok()?.command {
            Command::Install(a) => Some(a),
            _ => None,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("nonsense").is_err());
    }

    #[test]
    fn no_flags_give_the_default_settings() {
        let a = install_args(&[]).expect("parse");
        assert_eq!(a.settings(), InstallSettings::default());
    }

    #[test]
    fn flags_become_settings() {
        let a = install_args(&[
            "--metallb-version",
            "v0.12.0",
            "--with-test-router",
            "--config",
            "c.yaml",
            "--dry-run",
            "--wait=false",
            "--timeout",
            "90s",
            "--force",
        ])
        .expect("parse");
        let s = a.settings();
        assert_eq!(s.version.as_deref(), Some("v0.12.0"));
        assert!(s.with_test_router && s.dry_run && s.force && !s.wait);
        assert_eq!(s.config.as_deref(), Some(std::path::Path::new("c.yaml")));
        assert_eq!(s.timeout, Duration::from_secs(90));
    }
}
