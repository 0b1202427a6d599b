//! `metallbctl validate`: lint MetalLB configurations offline and render the findings.
//!
//! Inputs are read here (files, directories, stdin); everything else is the pure `config` and
//! `diag` code. Exit codes: 0 no errors, 1 errors (or warnings under --deny-warnings), 2 could
//! not run.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{dry_run, output, GlobalArgs, EXIT_OK, EXIT_PROBLEMS, EXIT_TROUBLE};
use crate::alloc::check::{self, Live};
use crate::config::{self, rule, BgpMode, InputKind, Options, Version};
use crate::diag::render::{self, text::TextOptions, Report};
use crate::diag::{Diagnostic, Failure, Severity, SourceFile, Sources, Summary};
use crate::kube::live;

const RULES_DOC: &str = include_str!("../../docs/rules.md");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, with the source line and a caret.
    Text,
    /// One JSON document (schema in docs/validate.md).
    Json,
    /// GitHub Actions annotations.
    Github,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 no errors, 1 errors found (or warnings with --deny-warnings), 2 could not run."
)]
pub struct ValidateArgs {
    /// Files or directories (searched for *.yaml and *.yml) to check; `-` reads standard input.
    #[arg(value_name = "PATH", required_unless_present = "explain")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// MetalLB release whose rules apply: v0.6 through v0.12 read the ConfigMap (default v0.12),
    /// v0.13 through v0.16 the custom resources (default v0.16).
    #[arg(long, value_name = "VERSION", value_parser = super::completions::VersionParser)]
    pub target_version: Option<Version>,
    /// BGP implementation the speaker runs (v0.12): native cannot announce IPv6 or run BFD.
    #[arg(long, value_enum, default_value_t = BgpMode::Native)]
    pub bgp_mode: BgpMode,
    /// Treat every document as a raw configuration body (what goes under data.config).
    #[arg(long)]
    pub raw: bool,
    /// Exit with 1 when there are warnings, too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Dry-run against the live cluster: read the running ConfigMap and every Service through
    /// the kubeconfig, and say which services the configuration would break.
    #[arg(long, conflicts_with = "assignments")]
    pub cluster: bool,
    /// Dry-run against `kubectl get svc -A -o json` output instead of a cluster (for CI jobs
    /// without cluster credentials).
    #[arg(long, value_name = "FILE")]
    pub assignments: Option<PathBuf>,
    /// From v0.14 MetalLB applies a configuration that takes addresses away and re-allocates the
    /// services (MLB104): report them as warnings instead of errors.
    #[arg(long)]
    pub allow_reallocation: bool,
    /// The kubeconfig context to use with --cluster.
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,
    /// The kubeconfig file to use with --cluster (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// The running MetalLB ConfigMap, as NAMESPACE/NAME.
    #[arg(
        long,
        value_name = "NS/NAME",
        default_value = "metallb-system/config",
        requires = "cluster"
    )]
    pub configmap: String,
    /// Print the documentation of a rule (code such as MLB013, or its name) and exit.
    #[arg(long, value_name = "RULE", conflicts_with = "paths")]
    pub explain: Option<String>,
}

/// One input to read: a path or standard input.
enum Input {
    Stdin,
    /// A file, and whether it was named on the command line (rather than found in a directory).
    File(PathBuf, bool),
}

impl Input {
    fn named(&self) -> bool {
        matches!(self, Input::Stdin | Input::File(_, true))
    }
}

pub fn run(global: &GlobalArgs, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    if let Some(code) = &args.explain {
        return explain(code);
    }
    let checked = check(global, args)?;
    output::stdout(&checked.rendered)?;
    Ok(ExitCode::from(checked.code))
}

/// What `validate` prints on standard output, and its exit status (0, 1 or 2).
#[derive(Debug, Clone)]
pub struct Checked {
    pub rendered: String,
    pub code: u8,
}

/// `validate` without printing its report (`--explain` is not handled here): the library
/// entry point the command and the no-panic property tests share.
pub fn check(global: &GlobalArgs, args: ValidateArgs) -> anyhow::Result<Checked> {
    // ConfigMaps are checked with the rules of the last release that reads them; crd::lint says
    // when the target reads the other format.
    let options = Options {
        target: args
            .target_version
            .unwrap_or(Version::LATEST)
            .min(Version::LATEST),
        mode: args.bgp_mode,
    };
    let live = match dry_run_source(&args)? {
        None => None,
        Some(source) => match live::load(&source, &options) {
            Ok(live) => Some(live),
            Err(e) => {
                output::print_error(&anyhow::Error::from(e));
                return Ok(Checked {
                    rendered: String::new(),
                    code: EXIT_TROUBLE,
                });
            }
        },
    };
    let mut tables = String::new();
    let kind = if args.raw {
        InputKind::Raw
    } else {
        InputKind::Auto
    };
    let mut trouble = false;
    let mut sources = Sources::default();
    let mut inputs = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut configs_found = 0;
    let mut unnamed_without_config = Vec::new();
    let mut crd_inputs: Vec<(String, Vec<config::crd::Document>, Vec<usize>)> = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    for input in expand_inputs(&args.paths, &mut trouble) {
        let file = match read_input(&input) {
            Ok(file) => file,
            Err(failure) => {
                eprintln!("error: {failure}");
                inputs.push(failure.file.clone());
                failures.push(failure);
                continue;
            }
        };
        match config::lint(&file, kind, &options) {
            Ok(report) => {
                note_file(global, &file, &report);
                let objects = report.crds.iter().filter(|d| d.is_metallb()).count();
                configs_found += report.configs.len() + objects;
                if report.configs.is_empty() && objects == 0 {
                    if input.named() {
                        diagnostics.push(no_config(&file));
                    } else {
                        unnamed_without_config.push(file.name.clone());
                    }
                }
                if let Some(live) = &live {
                    let (findings, table) = dry_run_file(&file, &report, live);
                    diagnostics.extend(findings);
                    tables.push_str(&table);
                }
                diagnostics.extend(report.diagnostics);
                let configmaps = report.configs.iter().map(|c| c.line).collect();
                crd_inputs.push((file.name.clone(), report.crds, configmaps));
            }
            Err(e) => {
                eprintln!("error: {e}");
                failures.push(Failure {
                    file: e.file,
                    line: Some(e.line),
                    column: Some(e.column),
                    message: format!("not valid YAML: {}", e.message),
                });
            }
        }
        inputs.push(file.name.clone());
        sources.insert(file);
    }
    let (crds, crd_tables) = crd_lint(global, &crd_inputs, &sources, &args, live.as_ref());
    diagnostics.extend(crds);
    tables.push_str(&crd_tables);
    if configs_found == 0 && !unnamed_without_config.is_empty() {
        if let Some(file) = sources.get(&unnamed_without_config[0]) {
            let mut d = no_config(file);
            d.message = format!(
                "no MetalLB configuration in any of the {} files searched",
                unnamed_without_config.len()
            );
            diagnostics.push(d);
        }
    }
    // Findings in reading order: by file as given, then by position.
    let order = |d: &Diagnostic| {
        let loc = d.location.as_ref();
        let file = loc.and_then(|l| inputs.iter().position(|i| *i == l.file));
        (file, loc.map(|l| l.span.start))
    };
    diagnostics.sort_by_key(order);
    trouble |= !failures.is_empty();
    let report = Report {
        diagnostics: &diagnostics,
        sources: &sources,
        inputs: &inputs,
        failures: &failures,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let rendered = match args.format {
        Format::Text => render_text(global, &report, &tables),
        Format::Json => render::json::render(&report),
        Format::Github => render::github::render(&report),
        Format::Sarif => render::sarif::render(&report, rule::ALL),
        Format::Junit => render::junit::render(&report),
    };
    let summary = Summary::of(&diagnostics);
    Ok(Checked {
        rendered,
        code: exit_code(trouble, summary, args.deny_warnings),
    })
}

/// The custom resources of all inputs, checked together (they refer to each other across files),
/// and dry-run against `live` when given; returns the findings and the dry run's text table.
fn crd_lint(
    global: &GlobalArgs,
    inputs: &[(String, Vec<config::crd::Document>, Vec<usize>)],
    sources: &Sources,
    args: &ValidateArgs,
    live: Option<&Live>,
) -> (Vec<Diagnostic>, String) {
    let inputs: Vec<config::crd::Input<'_>> = inputs
        .iter()
        .filter(|(_, docs, configmaps)| !docs.is_empty() || !configmaps.is_empty())
        .filter_map(|(name, documents, configmaps)| {
            Some(config::crd::Input {
                file: sources.get(name)?,
                documents,
                configmaps: configmaps.clone(),
            })
        })
        .collect();
    let report = config::crd::lint(&inputs, args.target_version, args.bgp_mode);
    if global.verbose > 0 {
        for found in &report.found {
            eprintln!("{}:{}: checked {}", found.file, found.line, found.what);
        }
    }
    let mut diagnostics = report.diagnostics;
    let mut table = String::new();
    if let (Some(live), Some(config)) = (live, &report.config) {
        let files: Vec<&str> = inputs
            .iter()
            .filter(|i| i.documents.iter().any(config::crd::Document::is_metallb))
            .map(|i| i.file.name.as_str())
            .collect();
        let what = format!("the custom resources in {}", files.join(", "));
        if diagnostics.iter().any(Diagnostic::is_error) {
            table.push_str(&format!("dry run of {what} skipped: MetalLB rejects these objects already; fix the errors first\n"));
        } else {
            let (joined, bases) = config::crd::join(&inputs);
            let at = config
                .pools
                .first()
                .map_or(config.span.start, |p| p.span.start);
            let target = args.target_version.unwrap_or(Version::NEWEST);
            let release = if target >= Version::v0(14) {
                check::Release::Reallocate {
                    allow_reallocation: args.allow_reallocation,
                }
            } else {
                check::Release::Reject
            };
            match check::check_crds(config, &joined, live, at, release) {
                Ok((found, dry)) => {
                    diagnostics.extend(found.into_iter().map(|mut d| {
                        // The cause after `SERVICE holds IP: ` names ConfigMap fields; spell
                        // them as the custom resources do (not in the service's name).
                        d.label = d.label.as_deref().map(|l| match l.split_once(": ") {
                            Some((who, cause)) => {
                                format!("{who}: {}", config::crd::crd_help(cause))
                            }
                            None => l.to_string(),
                        });
                        config::crd::relocate(d, &inputs, &bases)
                    }));
                    let live = Live {
                        described: live.described_crds.clone(),
                        ..live.clone()
                    };
                    table.push_str(&dry_run::table(&dry, &what, &live));
                }
                Err(e) => table.push_str(&format!("dry run of {what} not possible: {e:#}\n")),
            }
        }
    }
    (diagnostics, table)
}

fn dry_run_source(args: &ValidateArgs) -> anyhow::Result<Option<live::Source>> {
    if let Some(path) = &args.assignments {
        return Ok(Some(live::Source::Assignments(path.clone())));
    }
    if !args.cluster {
        return Ok(None);
    }
    let (namespace, name) = args
        .configmap
        .split_once('/')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("--configmap takes NAMESPACE/NAME, got {:?}", args.configmap)
        })?;
    Ok(Some(live::Source::Cluster {
        context: args.context.clone(),
        kubeconfig: args.kubeconfig.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    }))
}

/// Dry-run every configuration of one file that lints without errors; returns the findings
/// and the text tables.
fn dry_run_file(
    file: &SourceFile,
    report: &config::FileReport,
    live: &Live,
) -> (Vec<Diagnostic>, String) {
    let mut findings = Vec::new();
    let mut tables = String::new();
    for found in &report.configs {
        let has_errors = report.diagnostics.iter().any(|d| {
            d.is_error()
                && d.location.as_ref().is_some_and(|l| {
                    found.config.span.contains(&l.span.start)
                        || l.span.start == found.config.span.start
                })
        });
        if has_errors {
            tables.push_str(&format!("dry run of {}:{} skipped: MetalLB rejects this configuration already; fix the errors first\n", file.name, found.line));
            continue;
        }
        match check::check(found, file, live) {
            Ok((diagnostics, dry)) => {
                findings.extend(diagnostics);
                tables.push_str(&dry_run::table(
                    &dry,
                    &format!("{}:{}", file.name, found.line),
                    live,
                ));
            }
            Err(e) => tables.push_str(&format!(
                "dry run of {}:{} not possible: {e:#}\n",
                file.name, found.line
            )),
        }
    }
    (findings, tables)
}

/// MLB007: an input with no MetalLB configuration in it.
fn no_config(file: &SourceFile) -> Diagnostic {
    let rule = rule::NO_CONFIG;
    Diagnostic {
        code: rule.code,
        rule: rule.name,
        severity: rule.severity,
        message: format!("no MetalLB configuration found in {}", file.name),
        location: Some(file.location(0..0)),
        help: Some("expected a ConfigMap with data.config (in metallb-system) or a configuration body; -v lists what was skipped, --raw lints a bare body".into()),
        label: None,
    }
}

fn exit_code(trouble: bool, summary: Summary, deny_warnings: bool) -> u8 {
    if trouble {
        EXIT_TROUBLE
    } else if summary.errors > 0 || (deny_warnings && summary.warnings > 0) {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}

fn render_text(global: &GlobalArgs, report: &Report<'_>, tables: &str) -> String {
    let color = global.use_color(std::io::stdout().is_terminal());
    let shown: Vec<Diagnostic>;
    let report = if global.quiet {
        shown = report
            .diagnostics
            .iter()
            .filter(|d| d.severity != Severity::Info)
            .cloned()
            .collect();
        Report {
            diagnostics: &shown,
            ..*report
        }
    } else {
        Report { ..*report }
    };
    let mut text = render::text::render(&report, TextOptions { color });
    text.push_str(tables);
    // After an input that could not be checked, "no problems found" would be a lie; the
    // errors are on stderr already.
    let claims_success = report.diagnostics.is_empty() && !report.failures.is_empty();
    if !global.quiet && !claims_success {
        text.push_str(&render::text::summary_line(
            Summary::of(report.diagnostics),
            report.inputs.len(),
        ));
        text.push('\n');
    }
    text
}

/// Under -v, say what was found in each file and which documents were skipped (on stderr, so
/// machine-readable formats on stdout stay clean).
fn note_file(global: &GlobalArgs, file: &SourceFile, report: &config::FileReport) {
    if global.verbose == 0 {
        return;
    }
    for found in &report.configs {
        let what = match &found.origin {
            config::Origin::Raw => "configuration body".to_string(),
            config::Origin::ConfigMap { namespace, name } => format!(
                "ConfigMap {}/{}",
                namespace.as_deref().unwrap_or("<default>"),
                name.as_deref().unwrap_or("<unnamed>")
            ),
        };
        eprintln!("{}:{}: checked {what}", file.name, found.line);
    }
    for skipped in &report.skipped {
        eprintln!(
            "{}:{}: skipped {}: {}",
            file.name, skipped.line, skipped.what, skipped.reason
        );
    }
    if report.configs.is_empty() && report.skipped.is_empty() && report.crds.is_empty() {
        eprintln!("{}: empty", file.name);
    }
}

/// Files and directories to inputs; a directory yields its *.yaml and *.yml files, sorted.
fn expand_inputs(paths: &[PathBuf], trouble: &mut bool) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(path, &mut found) {
                eprintln!("error: reading directory {}: {e}", path.display());
                *trouble = true;
            }
            found.sort();
            if found.is_empty() {
                eprintln!("warning: {} holds no *.yaml or *.yml files", path.display());
            }
            inputs.extend(found.into_iter().map(|p| Input::File(p, false)));
        } else {
            inputs.push(Input::File(path.clone(), true));
        }
    }
    inputs
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(path);
        }
    }
    Ok(())
}

fn read_input(input: &Input) -> Result<SourceFile, Failure> {
    let failure = |file: String, message: String| Failure {
        file,
        line: None,
        column: None,
        message,
    };
    match input {
        Input::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| failure("<stdin>".into(), format!("cannot read: {e}")))?;
            Ok(SourceFile::new("<stdin>", text))
        }
        Input::File(path, _) => {
            let name = path.display().to_string();
            let bytes = std::fs::read(path)
                .map_err(|e| failure(name.clone(), format!("cannot read: {}", io_reason(&e))))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                failure(
                    name.clone(),
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            Ok(SourceFile::new(name, text))
        }
    }
}

/// The OS's reason without Rust's `(os error N)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `--explain CODE`: the rule's section of docs/rules.md.
fn explain(code: &str) -> anyhow::Result<ExitCode> {
    let Some(rule) = rule::find(code) else {
        eprintln!("error: no rule {code:?}; rules are listed in docs/rules.md (MLB001 to MLB090)");
        return Ok(ExitCode::from(EXIT_TROUBLE));
    };
    let heading = format!("## {} {}", rule.code, rule.name);
    let section = RULES_DOC
        .split("\n## ")
        .find(|s| format!("## {s}").starts_with(&heading))
        .map(|s| format!("## {}", s.trim_end()))
        .unwrap_or(heading);
    output::stdout(&format!("{section}\n"))?;
    Ok(ExitCode::SUCCESS)
}
