//! `metallbctl lab ...`: the simulated cluster. `lab up` starts a named lab's daemon in the
//! background (or `--foreground`), `lab down` stops it, `lab status` and `lab logs` ask it over
//! its control socket, `lab reset` forgets its state. `lab up --tutorial` also installs MetalLB
//! and the test routers and applies tutorial-1 and tutorial-2. `lab apiserver` runs the API
//! server alone (tests, debugging).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use super::output::outln;
use crate::lab::apiserver::{ApiServer, Config};
use crate::lab::control::{self, Down, LabStatus, Layout, PidState, SpawnOptions};
use crate::lab::daemon::{Daemon, DaemonConfig};
use crate::lab::routers::{self, RouterMode};
use crate::lab::topology::Topology;
use crate::lab::{kubeconfig, tutorial};
use crate::table::Table;

/// Run and inspect the lab cluster.
#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

/// The lab's subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start a lab (in the background unless --foreground) and print its kubeconfig.
    Up(UpArgs),
    /// Stop a lab; its objects stay for the next `lab up`.
    Down(NameArgs),
    /// Show a lab's components, addresses, ports, router sessions and learned routes.
    Status(StatusArgs),
    /// Print a lab's logs: the daemon's, or a component's (pod, container, role or router).
    Logs(LogsArgs),
    /// Stop a lab and delete its state, so the next `lab up` starts empty.
    Reset(NameArgs),
    /// Run only the lab's Kubernetes API server, in the foreground, until Ctrl-C or SIGTERM.
    Apiserver(ApiserverArgs),
}

/// Which lab.
#[derive(Debug, Clone, Args)]
pub struct NameArgs {
    /// The lab's name; several named labs can run at once.
    #[arg(long, default_value = "default", add = clap_complete::engine::ArgValueCandidates::new(super::completions::lab_names))]
    pub name: String,
    /// The lab's state directory [default: $XDG_STATE_HOME/metallbctl/lab/NAME].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

/// Which routers play the test routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoutersArg {
    /// metallbctl's own BGP router.
    Builtin,
    /// BIRD 2 and FRR (apt-get install -y bird2 frr).
    Real,
}

/// Options of `lab up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub lab: NameArgs,
    /// Topology file [default: the last one used, else lab/tutorial.yaml].
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Which routers to run [default: the last one used, else builtin].
    #[arg(long, value_enum)]
    pub routers: Option<RoutersArg>,
    /// API server port [default: the last one if free, else any free port].
    #[arg(long)]
    pub port: Option<u16>,
    /// Run the daemon in this process until Ctrl-C or SIGTERM.
    #[arg(long)]
    pub foreground: bool,
    /// Add a `metallbctl-lab-<name>` context to your kubeconfig (KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub merge_kubeconfig: bool,
    /// Also install MetalLB and the test routers, apply tutorial-1 and tutorial-2, and show
    /// nginx's EXTERNAL-IP and what each router learned.
    #[arg(long)]
    pub tutorial: bool,
    /// With --tutorial: the MetalLB release to install, v0.12 (the ConfigMap, the default) or
    /// v0.13 to v0.16 (custom resources: the tutorial's steps from manifests/tutorial-crds-*.yaml).
    #[arg(long, value_name = "VERSION", requires = "tutorial")]
    pub metallb_version: Option<crate::config::Version>,
}

/// Output format of `lab status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// Options of `lab status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub lab: NameArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StatusFormat::Table)]
    pub output: StatusFormat,
}

/// Options of `lab logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub lab: NameArgs,
    /// A pod (or its name prefix, e.g. speaker), container, role or router; none: the daemon.
    pub component: Option<String>,
    /// Keep printing new lines as they come, until Ctrl-C or the lab stops.
    #[arg(short, long)]
    pub follow: bool,
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
    /// Where to write the kubeconfig [default: STATE_DIR/kubeconfig]
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Print one line per request (method, URL, status, duration) to stderr.
    #[arg(long)]
    pub log_requests: bool,
}

/// Run a `lab` subcommand.
pub fn run(args: LabArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LabCommand::Up(a) => run_up(a),
        LabCommand::Down(a) => run_down(&a),
        LabCommand::Status(a) => run_status(a),
        LabCommand::Logs(a) => run_logs(a),
        LabCommand::Reset(a) => run_reset(&a),
        LabCommand::Apiserver(a) => run_apiserver(a),
    }
}

impl RoutersArg {
    fn mode(self) -> RouterMode {
        match self {
            RoutersArg::Builtin => RouterMode::Builtin,
            RoutersArg::Real => RouterMode::Real,
        }
    }
}

fn layout(a: &NameArgs) -> anyhow::Result<Layout> {
    Ok(Layout::named(&a.name, a.state_dir.as_deref())?)
}

fn run_up(args: UpArgs) -> anyhow::Result<ExitCode> {
    let layout = layout(&args.lab)?;
    if let Some(pid) = control::check_not_running(&args.lab.name, &layout)? {
        eprintln!(
            "note: removing stale pid file {} (pid {pid} no longer runs)",
            layout.pid().display()
        );
    }
    let topology = control::resolve_topology(args.topology.as_deref(), &layout)?;
    if args.tutorial {
        // Before anything starts: a topology the tutorial cannot peer with would only time out.
        tutorial::check_topology(&topology)?;
    }
    let (mode, replaced) = control::resolve_routers(args.routers.map(RoutersArg::mode), &layout)?;
    if let Some(old) = replaced {
        if !args.foreground || std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            outln!(
                "note: lab {:?} last ran with --routers {}; now --routers {}",
                args.lab.name,
                routers_word(old),
                routers_word(mode)
            );
        }
    }
    if mode == RouterMode::Real {
        routers::check_real_installed().context("cannot use --routers real")?;
    }
    if args.foreground {
        return run_foreground(&args, &layout, topology, mode);
    }
    let started = Instant::now();
    let opts = SpawnOptions {
        name: args.lab.name.clone(),
        routers: mode,
        port: args.port,
    };
    let pid = control::spawn_daemon(&opts, &layout)?;
    outln!(
        "lab {:?} is up (pid {pid}, {:.2}s, routers {})",
        args.lab.name,
        started.elapsed().as_secs_f64(),
        routers_word(mode)
    );
    if !args.tutorial {
        print_access(&layout);
    }
    after_up(&args, &layout)
}

/// `metallbctl lab SUB --name N` as a hint that works as printed (see [`self_command`]).
fn lab_hint(lab: &NameArgs, sub: &str) -> String {
    let (cmd, flags) = self_command(lab);
    format!("{cmd} lab {sub}{flags}")
}

fn routers_word(mode: RouterMode) -> &'static str {
    match mode {
        RouterMode::Builtin => "builtin",
        RouterMode::Real => "real",
    }
}

fn print_access(layout: &Layout) {
    // The port file the daemon writes names the API server without a status round trip (which
    // would query every router).
    if let Ok(port) = std::fs::read_to_string(layout.port()) {
        outln!("API server: https://127.0.0.1:{}", port.trim());
    }
    outln!("kubeconfig: {}", layout.kubeconfig().display());
    outln!("export KUBECONFIG={}", layout.kubeconfig().display());
}

/// How to run this metallbctl again, as typed: `metallbctl` when that name on PATH is this
/// executable, else its full path (after `cargo run`, `metallbctl` is not on PATH); and the
/// flags that select this lab.
fn self_command(lab: &NameArgs) -> (String, String) {
    let exe = std::env::current_exe().ok();
    let on_path = exe.as_ref().and_then(|exe| {
        let exe = exe.canonicalize().ok()?;
        std::env::split_paths(&std::env::var_os("PATH")?)
            .filter_map(|d| d.join("metallbctl").canonicalize().ok())
            .next()
            .filter(|found| *found == exe)
    });
    let cmd = match (on_path, exe) {
        (Some(_), _) | (None, None) => "metallbctl".to_string(),
        (None, Some(exe)) => exe.display().to_string(),
    };
    let mut flags = String::new();
    if lab.name != "default" {
        flags.push_str(&format!(" --name {}", lab.name));
    }
    if let Some(dir) = &lab.state_dir {
        flags.push_str(&format!(" --state-dir {}", dir.display()));
    }
    (cmd, flags)
}

fn after_up(args: &UpArgs, layout: &Layout) -> anyhow::Result<ExitCode> {
    if args.merge_kubeconfig {
        let target = kubeconfig::default_target()?;
        let ctx = kubeconfig::merge_into(&target, &args.lab.name, &layout.kubeconfig())?;
        outln!(
            "added context {ctx} to {}; use: kubectl --context {ctx} get nodes",
            target.display()
        );
    }
    if args.tutorial {
        return run_tutorial(args, layout);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_foreground(
    args: &UpArgs,
    layout: &Layout,
    topology: Topology,
    mode: RouterMode,
) -> anyhow::Result<ExitCode> {
    super::shell::init_logging(super::shell::LogStyle::Daemon);
    let cfg = DaemonConfig {
        name: args.lab.name.clone(),
        state_dir: layout.dir.clone(),
        topology,
        routers: mode,
        port: args.port,
    };
    let rt = super::shell::runtime()?;
    rt.block_on(async move {
        let daemon = Daemon::start(cfg).await?;
        outln!(
            "lab {:?} is up in the foreground (pid {})",
            args.lab.name,
            std::process::id()
        );
        outln!("API server: {}", daemon.url());
        outln!("kubeconfig: {}", daemon.kubeconfig().display());
        outln!("export KUBECONFIG={}", daemon.kubeconfig().display());
        super::shell::stop_signal().await?;
        tracing::info!("stopping");
        daemon
            .shutdown()
            .await
            .context("the lab did not stop cleanly")?;
        Ok(ExitCode::SUCCESS)
    })
}

fn run_down(a: &NameArgs) -> anyhow::Result<ExitCode> {
    print_down(a, &control::down(&layout(a)?));
    Ok(ExitCode::SUCCESS)
}

fn print_down(a: &NameArgs, d: &Down) {
    match d {
        Down::Stopped { pid, clean: true } => outln!("lab {:?} stopped (pid {pid})", a.name),
        Down::Stopped { pid, clean: false } => outln!(
            "lab {:?} killed (pid {pid} ignored SIGTERM for 10s)",
            a.name
        ),
        Down::Stale { pid, reaped } => {
            for p in reaped {
                outln!("stopped router daemon {p} left behind by the dead lab daemon");
            }
            outln!(
                "lab {:?} was not running; removed a stale pid file (pid {pid})",
                a.name
            );
        }
        Down::NotRunning => outln!("lab {:?} is not running", a.name),
    }
}

fn run_reset(a: &NameArgs) -> anyhow::Result<ExitCode> {
    let layout = layout(a)?;
    print_down(a, &control::down(&layout));
    control::remove_state(&layout)?;
    outln!("lab {:?} reset: the next `lab up` starts empty", a.name);
    Ok(ExitCode::SUCCESS)
}

fn running_status(a: &NameArgs) -> anyhow::Result<Option<(Layout, LabStatus)>> {
    let layout = layout(a)?;
    if !matches!(control::pid_state(&layout), PidState::Running(_)) {
        return Ok(None);
    }
    let st = control::status(&layout.socket(), Duration::from_secs(10))
        .with_context(|| format!("lab {:?} runs but does not answer", a.name))?;
    Ok(Some((layout, st)))
}

fn run_status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let Some((_, st)) = running_status(&args.lab)? else {
        match args.output {
            StatusFormat::Json => outln!(
                "{}",
                serde_json::json!({"name": args.lab.name, "running": false})
            ),
            StatusFormat::Table => outln!(
                "lab {:?} is not running; start it with `{}`",
                args.lab.name,
                lab_hint(&args.lab, "up")
            ),
        }
        return Ok(ExitCode::from(super::EXIT_PROBLEMS));
    };
    let text = match args.output {
        StatusFormat::Json => serde_json::to_string_pretty(&st)? + "\n",
        StatusFormat::Table => status_table(&st),
    };
    super::output::stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// The human view of a lab's status.
pub fn status_table(st: &LabStatus) -> String {
    let mut out = format!(
        "lab {:?} (pid {}): topology {}, routers {}\nAPI server   {}\nkubeconfig   {}\n\n",
        st.name, st.pid, st.topology, st.routers_mode, st.api_server, st.kubeconfig
    );
    let mut nodes = Table::new(["NODE", "ADDRESS"]).gap("   ");
    nodes.rows(
        st.nodes
            .iter()
            .map(|n| [n.name.clone(), n.address.to_string()]),
    );
    out.push_str(&nodes.render());
    let mut comps = Table::new(["NAMESPACE", "POD", "CONTAINER", "ROLE", "NODE", "IP"]).gap("   ");
    comps.rows(st.components.iter().map(|c| {
        [
            c.namespace.clone(),
            c.pod.clone(),
            c.container.clone(),
            c.role.clone(),
            c.node.clone(),
            c.pod_ip.clone(),
        ]
    }));
    out.push('\n');
    out.push_str(&comps.render());
    let mut routers = Table::new([
        "ROUTER", "IMPL", "SERVICE", "LISTEN", "AS", "PEER", "STATE", "ROUTES",
    ])
    .gap("   ");
    for r in &st.routers {
        let base = [
            r.name.clone(),
            if r.running {
                r.implementation.clone()
            } else {
                "not deployed".into()
            },
            r.cluster_ip.clone(),
            r.listen.clone(),
            r.asn.to_string(),
        ];
        if r.sessions.is_empty() {
            routers.row(
                base.iter()
                    .cloned()
                    .chain(["-", "-", "-"].map(String::from)),
            );
        }
        for s in &r.sessions {
            let routes: Vec<&str> = s.routes.iter().map(|x| x.prefix.as_str()).collect();
            let routes = if routes.is_empty() {
                "-".to_string()
            } else {
                routes.join(",")
            };
            routers.row(
                base.iter()
                    .cloned()
                    .chain([s.peer.clone(), s.state.clone(), routes]),
            );
        }
    }
    out.push('\n');
    out.push_str(&routers.render());
    // The verdicts come from the status model, as in `metallbctl status` and `tui`.
    let now = crate::sources::now_ms();
    let mut verdicts = Table::new(["ROUTER", "VERDICT"]).gap("   ");
    verdicts.rows(st.routers.iter().map(|r| {
        let view = crate::sources::lab::router_view(r);
        [r.name.clone(), crate::status::verdict(&view, now).text]
    }));
    out.push('\n');
    out.push_str(&verdicts.render());
    out
}

fn run_logs(args: LogsArgs) -> anyhow::Result<ExitCode> {
    if args.follow {
        return follow_logs(&args);
    }
    let layout = layout(&args.lab)?;
    let Some(what) = &args.component else {
        let text = std::fs::read_to_string(layout.log())
            .with_context(|| format!("no daemon log at {}", layout.log().display()))?;
        super::output::stdout(&text)?;
        return Ok(ExitCode::SUCCESS);
    };
    if !matches!(control::pid_state(&layout), PidState::Running(_)) {
        bail!(
            "lab {:?} is not running\nhelp: start it with `{}`",
            args.lab.name,
            lab_hint(&args.lab, "up")
        );
    }
    let text = control::request(
        &layout.socket(),
        &format!("logs {what}"),
        Duration::from_secs(10),
    )?;
    if text.is_empty() {
        eprintln!("error: no logs for {what:?}\nhelp: name a pod (or its prefix, e.g. speaker), a container, a role (controller, speaker, router) or a router (bird); `{}` lists them", lab_hint(&args.lab, "status"));
        return Ok(ExitCode::from(super::EXIT_PROBLEMS));
    }
    super::output::stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `lab logs -f`: the daemon's log or a router daemon's log file followed as it grows, or a
/// pod's logs streamed by the daemon.
fn follow_logs(args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let layout = layout(&args.lab)?;
    let print = |text: &str| super::output::stdout(text);
    let running = || matches!(control::pid_state(&layout), PidState::Running(_));
    let file = match &args.component {
        None => Some(layout.log()),
        Some(what) => {
            Some(layout.routers_dir().join(what).join("daemon.log")).filter(|f| f.exists())
        }
    };
    if let Some(file) = file {
        if !file.exists() {
            bail!(
                "no daemon log at {}; has lab {:?} ever run?",
                file.display(),
                args.lab.name
            );
        }
        control::follow_file(&file, running, print)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !running() {
        bail!(
            "lab {:?} is not running\nhelp: start it with `{}`",
            args.lab.name,
            lab_hint(&args.lab, "up")
        );
    }
    let what = args.component.as_deref().unwrap_or_default();
    control::follow(&layout.socket(), &format!("follow {what}"), print)?;
    Ok(ExitCode::SUCCESS)
}

fn run_tutorial(args: &UpArgs, layout: &Layout) -> anyhow::Result<ExitCode> {
    let kubeconfig = layout.kubeconfig();
    let lab = &args.lab;
    let ip = super::shell::runtime()?.block_on(tutorial::install_and_apply(
        &kubeconfig,
        args.metallb_version,
        &mut super::install::StdoutProgress::new(),
    ))?;
    outln!("\nnginx EXTERNAL-IP: {ip}");
    let st = tutorial::wait_routes(layout, &ip)?;
    for r in &st.routers {
        for s in &r.sessions {
            let routes: Vec<String> = s
                .routes
                .iter()
                .map(|x| format!("{} via {}", x.prefix, x.next_hop.as_deref().unwrap_or("?")))
                .collect();
            outln!(
                "router {} ({}, {}): session with {} {}; learned: {}",
                r.name,
                r.implementation,
                r.cluster_ip,
                s.peer,
                s.state,
                if routes.is_empty() {
                    "nothing".into()
                } else {
                    routes.join(", ")
                }
            );
        }
    }
    // What to type next comes last, so it is on screen when the command returns.
    outln!();
    print_access(layout);
    let (me, lab_flags) = self_command(lab);
    outln!("next:");
    outln!("  kubectl get svc nginx");
    outln!("  kubectl logs -n metallb-system -l app=speaker");
    outln!("  {me} lab status{lab_flags}");
    Ok(ExitCode::SUCCESS)
}

fn run_apiserver(args: ApiserverArgs) -> anyhow::Result<ExitCode> {
    let state_dir = args.state_dir.unwrap_or_else(control::state_base);
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
    super::shell::runtime()?.block_on(async move {
        let server = ApiServer::start(config)
            .await
            .context("cannot start the lab API server")?;
        outln!("lab API server listening on {}", server.url());
        outln!("state directory: {}", state_dir.display());
        outln!("kubeconfig written to {}", kubeconfig.display());
        outln!(
            "try: KUBECONFIG={} kubectl get namespaces",
            kubeconfig.display()
        );
        super::shell::stop_signal().await?;
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
                _ => None,
            },
            _ => None,
        }
    }

    fn up(args: &[&str]) -> Option<super::UpArgs> {
        let argv = ["metallbctl", "lab", "up"].iter().chain(args);
        match Cli::try_parse_from(argv).ok()?.command {
            Command::Lab(lab) => match lab.command {
                LabCommand::Up(a) => Some(a),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn up_flags() {
        let a = up(&[]).expect("defaults parse");
        assert_eq!(a.lab.name, "default");
        assert_eq!(a.routers, None, "the recorded choice, else builtin");
        assert!(!a.foreground && !a.tutorial && !a.merge_kubeconfig && a.port.is_none());
        let a = up(&[
            "--name",
            "x",
            "--topology",
            "t.yaml",
            "--routers",
            "real",
            "--state-dir",
            "d",
            "--foreground",
            "--merge-kubeconfig",
            "--tutorial",
            "--port",
            "6443",
        ])
        .expect("parse");
        assert_eq!(a.lab.name, "x");
        assert_eq!(a.routers, Some(super::RoutersArg::Real));
        assert!(a.foreground && a.tutorial && a.merge_kubeconfig);
        assert_eq!(a.port, Some(6443));
        assert!(up(&["--routers", "quagga"]).is_none());
    }

    /// A real lab's status (tutorial, builtin routers) and what `lab status` printed for it
    /// before the table module existed: the layout must not change.
    #[test]
    fn status_table_is_unchanged() {
        let st: crate::lab::control::LabStatus =
            serde_json::from_str(include_str!("testdata/lab-status.json")).expect("json");
        assert_eq!(
            super::status_table(&st),
            include_str!("testdata/lab-status.txt")
        );
    }

    #[test]
    fn a_router_without_sessions_gets_dashes() {
        let mut st: crate::lab::control::LabStatus =
            serde_json::from_str(include_str!("testdata/lab-status.json")).expect("json");
        st.routers.truncate(1);
        st.routers[0].running = false;
        st.routers[0].sessions.clear();
        let text = super::status_table(&st);
        let row = text
            .lines()
            .find(|l| l.starts_with("bird     not deployed"))
            .expect("a router row");
        assert_eq!(
            row,
            "bird     not deployed   10.96.0.100:179   127.0.0.100:32909   64500   -      -       -"
        );
        assert_eq!(
            text.lines().last(),
            Some("bird     not connected: no session from MetalLB")
        );
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
