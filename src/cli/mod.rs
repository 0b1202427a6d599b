//! Command-line shells: one module per command. Each holds a clap `Args` struct and a `run`
//! function returning the process exit code; errors become messages here, at the edge.

pub mod bgp;
pub mod completions;
pub mod controller;
pub mod convert;
pub mod dry_run;
pub mod install;
pub mod lab;
pub mod output;
pub mod shell;
pub mod speaker;
pub mod status;
pub mod tui;
pub mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code: the run found no problems.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run worked and found problems (errors, or warnings under --deny-warnings).
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: the run could not do its job (usage, I/O, input that is not YAML, no cluster).
pub const EXIT_TROUBLE: u8 = 2;

/// Validate, install, watch and simulate MetalLB in BGP mode.
#[derive(Debug, Parser)]
#[command(
    name = "metallbctl",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The `--help` heading of the options every command understands; they come after the
/// command's own.
pub const GLOBAL_HEADING: &str = "Global options";

/// Options every command understands.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// When to colour output; `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, help_heading = GLOBAL_HEADING, display_order = 1000)]
    pub color: ColorChoice,
    /// Say more (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet", help_heading = GLOBAL_HEADING, display_order = 1001)]
    pub verbose: u8,
    /// Say only what is wrong.
    #[arg(short, long, global = true, help_heading = GLOBAL_HEADING, display_order = 1002)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// Whether to colour what goes to a stream, given whether that stream is a terminal.
    pub fn use_color(&self, is_terminal: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint MetalLB configurations offline (files, directories or stdin).
    Validate(validate::ValidateArgs),
    /// Convert a MetalLB ConfigMap to the custom resources of MetalLB v0.13 and later.
    Convert(convert::ConvertArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Run a BGP router (listen) or speaker (announce) for debugging real networks.
    Bgp(bgp::BgpArgs),
    /// Run the lab: a simulated cluster with a Kubernetes-compatible API.
    Lab(lab::LabArgs),
    /// Install MetalLB (and optionally the test BGP routers) into a cluster and wait for it.
    Install(install::InstallArgs),
    /// Remove what `install` installed.
    Uninstall(install::UninstallArgs),
    /// Run MetalLB's controller: assign addresses to LoadBalancer Services.
    Controller(controller::ControllerArgs),
    /// Run MetalLB's speaker for one node: announce assigned addresses over BGP.
    Speaker(speaker::SpeakerArgs),
    /// Show BGP sessions, what routers hold and drift from MetalLB's intent.
    Status(status::StatusArgs),
    /// Show the routes every router holds, with their attributes.
    Routes(status::RoutesArgs),
    /// Watch sessions, routes, drift and events live in the terminal (k9s-style keys; ? for help).
    Tui(tui::TuiArgs),
}

/// Parse the process arguments, run the chosen command and map the outcome to an exit code:
/// 0 clean, 1 problems found, 2 could not run.
pub fn main() -> ExitCode {
    completions::complete_if_asked();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_TROUBLE
            } else {
                EXIT_OK
            });
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::run(&cli.global, args),
        Command::Convert(args) => convert::run(&cli.global, args),
        Command::Completions(args) => completions::run(args),
        Command::Bgp(args) => bgp::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Install(args) => install::run(args),
        Command::Uninstall(args) => install::run_uninstall(args),
        Command::Controller(args) => controller::run(args),
        Command::Speaker(args) => speaker::run(args),
        Command::Status(args) => status::run_status(args),
        Command::Routes(args) => status::run_routes(args),
        Command::Tui(args) => tui::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&e);
            ExitCode::from(EXIT_TROUBLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_parse_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "metallbctl",
            "validate",
            "x.yaml",
            "--color",
            "never",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.global.color, ColorChoice::Never);
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        assert!(Cli::try_parse_from(["metallbctl", "validate", "-v", "-q", "x"]).is_err());
    }
}
