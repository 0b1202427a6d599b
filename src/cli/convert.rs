//! `metallbctl convert`: a MetalLB ConfigMap (or a raw configuration body) to the custom
//! resources of MetalLB v0.13 and later, as MetalLB's configmaptocrs does it.
//! Exit codes: 0 converted, 1 the configuration has errors (nothing written), 2 could not run.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{output, GlobalArgs, EXIT_OK, EXIT_PROBLEMS, EXIT_TROUBLE};
use crate::config::crd::{convert, NAMESPACE};
use crate::config::{self, BgpMode, InputKind, Options, Origin, Version};
use crate::diag::render::{self, text::TextOptions, Report};
use crate::diag::{Severity, SourceFile, Sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// YAML documents, as configmaptocrs writes them.
    Yaml,
    /// One JSON `v1` List.
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 converted, 1 the configuration has errors (nothing is written), 2 could not run."
)]
pub struct ConvertArgs {
    /// The ConfigMap (or a bare configuration body); `-` reads standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
    /// Namespace of the objects (default: the ConfigMap's, else metallb-system).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

pub fn run(global: &GlobalArgs, args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let file = match read(&args.input) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(EXIT_TROUBLE));
        }
    };
    // configmaptocrs parses without a BGP-mode filter: FRR-only fields convert too.
    let options = Options {
        target: Version::LATEST,
        mode: BgpMode::Frr,
    };
    let report = match config::lint(&file, InputKind::Auto, &options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_TROUBLE));
        }
    };
    let found = match report.configs.as_slice() {
        [one] => one,
        [] => {
            eprintln!(
                "error: {}: no MetalLB ConfigMap or configuration body found",
                file.name
            );
            return Ok(ExitCode::from(EXIT_TROUBLE));
        }
        more => {
            eprintln!(
                "error: {}: {} MetalLB configurations found; convert one at a time",
                file.name,
                more.len()
            );
            return Ok(ExitCode::from(EXIT_TROUBLE));
        }
    };
    let shown: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .cloned()
        .collect();
    let errors = shown.iter().any(|d| d.is_error());
    if !shown.is_empty() {
        let inputs = [file.name.clone()];
        let mut sources = Sources::default();
        sources.insert(file.clone());
        let rendered = render::text::render(
            &Report {
                diagnostics: &shown,
                sources: &sources,
                inputs: &inputs,
                failures: &[],
                tool_version: env!("CARGO_PKG_VERSION"),
            },
            TextOptions {
                color: global.use_color(std::io::stderr().is_terminal()),
            },
        );
        eprint!("{rendered}");
    }
    if errors {
        eprintln!(
            "error: not converted: MetalLB rejects this configuration; fix the errors above first"
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    let namespace = args
        .namespace
        .clone()
        .or_else(|| match &found.origin {
            Origin::ConfigMap { namespace, .. } => namespace.clone(),
            Origin::Raw => None,
        })
        .unwrap_or_else(|| NAMESPACE.to_string());
    let objects = match convert::convert(&found.config, &namespace) {
        Ok(objects) => objects,
        Err(e) => {
            eprintln!("error: not converted: {e}");
            return Ok(ExitCode::from(EXIT_PROBLEMS));
        }
    };
    for o in &objects {
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        if !config::crd::rules::is_dns_subdomain(name) {
            eprintln!(
                "warning: {} {name:?} is not a valid Kubernetes name (configmaptocrs converts it the same way); rename it before applying",
                o["kind"].as_str().unwrap_or_default()
            );
        }
    }
    let text = match args.output {
        OutputFormat::Yaml => convert::to_yaml(&objects),
        OutputFormat::Json => convert::to_json(&objects),
    };
    output::stdout(&text)?;
    Ok(ExitCode::from(EXIT_OK))
}

fn read(path: &PathBuf) -> anyhow::Result<SourceFile> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(SourceFile::new("<stdin>", text));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}
