//! `metallbctl completions SHELL`: shell completion scripts. They register metallbctl itself
//! as the completer (clap_complete's environment-activated completions: the shell runs
//! `COMPLETE=<shell> metallbctl -- <words>`), so values that depend on this machine complete
//! too: `--name` to the labs that exist, `--target-version` to the versions the rules know.
//! The scripts are also committed in completions/, and a test fails when they are stale.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::builder::{PossibleValue, TypedValueParser};
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use clap_complete::Shell;

use crate::config::Version;

/// The environment variable that asks metallbctl for completions instead of running.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Answer a completion request (when [`COMPLETE_VAR`] is set) and exit; otherwise return.
/// Must run before anything is printed.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(<super::Cli as clap::CommandFactory>::command)
        .var(COMPLETE_VAR)
        .complete();
}

/// Names of the labs in the default state directory, for `--name`.
pub fn lab_names() -> Vec<CompletionCandidate> {
    crate::lab::control::existing_labs()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// The releases `--target-version` accepts, newest first.
pub const VERSIONS: &[&str] = &[
    "v0.16", "v0.15", "v0.14", "v0.13", "v0.12", "v0.11", "v0.10", "v0.9", "v0.8", "v0.7", "v0.6",
];

/// `--target-version`: parsed by [`Version::from_str`] (so `0.12.1` still works), offering the
/// supported releases for help and completion.
#[derive(Debug, Clone, Copy)]
pub struct VersionParser;

impl TypedValueParser for VersionParser {
    type Value = Version;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Version, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        text.parse::<Version>().map_err(|e| {
            let name = arg.map_or_else(|| "--target-version".to_string(), |a| a.to_string());
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("invalid value '{text}' for '{name}': {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(VERSIONS.iter().map(|v| PossibleValue::new(*v))))
    }
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for one shell.
pub fn script(shell: Shell) -> Vec<u8> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::PowerShell => &clap_complete::env::Powershell,
        Shell::Elvish => &clap_complete::env::Elvish,
        _ => &clap_complete::env::Bash,
    };
    let mut out = Vec::new();
    let _ = completer.write_registration(
        COMPLETE_VAR,
        "metallbctl",
        "metallbctl",
        "metallbctl",
        &mut out,
    );
    out
}

/// The candidates the shell is offered after `words` (the last one being completed).
pub fn candidates(words: &[&str]) -> Vec<String> {
    let mut cmd = <super::Cli as clap::CommandFactory>::command();
    let args: Vec<OsString> = words.iter().map(OsString::from).collect();
    let index = args.len() - 1;
    clap_complete::engine::complete(&mut cmd, args, index, None)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.get_value().to_string_lossy().into_owned())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offered_versions_are_exactly_the_supported_ones() {
        let supported: Vec<String> = (Version::OLDEST.minor..=Version::NEWEST.minor)
            .rev()
            .map(|m| Version::v0(m).to_string())
            .collect();
        assert_eq!(
            VERSIONS,
            supported.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn target_version_completes_to_the_versions() {
        let offered = candidates(&["metallbctl", "validate", "--target-version", ""]);
        assert_eq!(offered, VERSIONS);
        let offered = candidates(&["metallbctl", "validate", "--target-version", "v0.1"]);
        assert_eq!(
            offered,
            ["v0.16", "v0.15", "v0.14", "v0.13", "v0.12", "v0.11", "v0.10"]
        );
    }
}
