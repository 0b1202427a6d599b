//! `metallbctl completions SHELL`: shell completion scripts, generated from the clap definition.
//! The scripts are also committed in completions/, and a test fails when they are stale.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for one shell.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "metallbctl", &mut out);
    out
}

/// File name under completions/ for a shell's script.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "metallbctl.bash",
        Shell::Zsh => "_metallbctl",
        Shell::Fish => "metallbctl.fish",
        Shell::PowerShell => "_metallbctl.ps1",
        Shell::Elvish => "metallbctl.elv",
        _ => "metallbctl.unknown",
    }
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let script = String::from_utf8_lossy(&script(args.shell)).into_owned();
    super::output::stdout(&script)?;
    Ok(ExitCode::SUCCESS)
}
