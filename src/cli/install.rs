//! `metallbctl install` and `metallbctl uninstall`: server-side apply MetalLB's manifests
//! (embedded: manifests/metallb.yaml and, with `--with-test-router`, manifests/test-bgp-router.yaml)
//! with field manager `metallbctl`, create the speaker's `memberlist` Secret, optionally apply a
//! configuration after dry-running it against the live assignments, and wait for the rollout
//! with live progress. Also used by `lab up --tutorial`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::Client;
use serde_json::{json, Value};

/// MetalLB's manifest (v0.12.1 images).
pub const METALLB_YAML: &str = include_str!("../../manifests/metallb.yaml");
/// The test routers' manifest.
pub const TEST_ROUTER_YAML: &str = include_str!("../../manifests/test-bgp-router.yaml");
/// The MetalLB version the manifest names.
pub const DEFAULT_VERSION: &str = "v0.12.1";
/// The field manager of every write.
pub const FIELD_MANAGER: &str = "metallbctl";
const NAMESPACE: &str = "metallb-system";

/// Options of `metallbctl install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// MetalLB image tag to install.
    #[arg(long, default_value = DEFAULT_VERSION)]
    pub version: String,
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

/// What an apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// Split a multi-document YAML manifest into JSON objects (empty documents skipped).
pub fn documents(yaml: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v: Value =
            serde::Deserialize::deserialize(doc).context("manifest is not valid YAML")?;
        if v.is_object() {
            out.push(v);
        }
    }
    Ok(out)
}

/// The manifests to install, with images at `version`.
pub fn install_documents(version: &str, with_router: bool) -> anyhow::Result<Vec<Value>> {
    let mut docs = documents(&METALLB_YAML.replace(DEFAULT_VERSION, version))?;
    if with_router {
        docs.extend(documents(TEST_ROUTER_YAML)?);
    }
    Ok(docs)
}

fn gvk_of(obj: &Value) -> anyhow::Result<GroupVersionKind> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        bail!("a manifest document has no apiVersion or kind");
    }
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Ok(GroupVersionKind::gvk(group, version, kind))
}

/// `kind/name` as kubectl prints it (`deployment.apps/controller`).
pub fn display_name(obj: &Value, ar: &ApiResource) -> String {
    let kind = ar.kind.to_lowercase();
    let name = obj["metadata"]["name"].as_str().unwrap_or("?");
    if ar.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", ar.group)
    }
}

async fn api_for(
    client: &Client,
    obj: &Value,
) -> anyhow::Result<(Api<DynamicObject>, ApiResource)> {
    let gvk = gvk_of(obj)?;
    let (ar, caps): (ApiResource, ApiCapabilities) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| {
            format!(
                "the cluster does not serve {}/{}",
                gvk.api_version(),
                gvk.kind
            )
        })?;
    let api = match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &ar),
        Scope::Namespaced => {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        }
    };
    Ok((api, ar))
}

/// Server-side apply one object; report what happened.
pub async fn apply_one(
    client: &Client,
    obj: &Value,
    dry_run: bool,
) -> anyhow::Result<(String, Outcome)> {
    let (api, ar) = api_for(client, obj).await?;
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let label = display_name(obj, &ar);
    let before = api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot read {label}"))?;
    let mut pp = PatchParams::apply(FIELD_MANAGER).force();
    pp.dry_run = dry_run;
    let after = api
        .patch(name, &pp, &Patch::Apply(obj))
        .await
        .with_context(|| format!("cannot apply {label}"))?;
    let outcome = match before {
        None => Outcome::Created,
        Some(b) if b.metadata.resource_version == after.metadata.resource_version => {
            Outcome::Unchanged
        }
        Some(b) if content(&b) == content(&after) => Outcome::Unchanged,
        Some(_) => Outcome::Configured,
    };
    Ok((label, outcome))
}

fn content(o: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["resourceVersion", "managedFields", "generation"] {
            m.remove(k);
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    v
}

/// Apply documents in order, printing kubectl-style lines; returns how many changed.
pub async fn apply_all(client: &Client, docs: &[Value], dry_run: bool) -> anyhow::Result<usize> {
    let mut changed = 0;
    let suffix = if dry_run { " (server dry run)" } else { "" };
    for d in docs {
        let (label, outcome) = match apply_one(client, d, dry_run).await {
            Ok(x) => x,
            Err(e) if dry_run && is_not_found(&e) => {
                // A real API server too refuses a dry run into a namespace not yet created.
                println!(
                    "{} created{suffix}: its namespace does not exist yet",
                    label_of(d)
                );
                changed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if outcome != Outcome::Unchanged {
            changed += 1;
        }
        println!("{label} {}{suffix}", outcome.word());
    }
    Ok(changed)
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.chain().any(
        |c| matches!(c.downcast_ref::<kube::Error>(), Some(kube::Error::Api(s)) if s.code == 404),
    )
}

fn label_of(d: &Value) -> String {
    let group = d["apiVersion"]
        .as_str()
        .and_then(|v| v.split_once('/'))
        .map_or(String::new(), |(g, _)| format!(".{g}"));
    format!(
        "{}{group}/{}",
        d["kind"].as_str().unwrap_or("?").to_lowercase(),
        d["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Create the speaker's memberlist Secret if absent (MetalLB v0.12 needs it on real clusters).
pub async fn ensure_memberlist(client: &Client, dry_run: bool) -> anyhow::Result<()> {
    use base64::Engine;
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let existing = match api.get_opt("memberlist").await {
        Ok(s) => s,
        Err(kube::Error::Api(e)) if dry_run && e.code == 404 => None,
        Err(e) => return Err(e).context("cannot read secret/memberlist"),
    };
    if existing.is_some() {
        println!("secret/memberlist unchanged");
        return Ok(());
    }
    let mut key = [0u8; 128];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "memberlist", "namespace": NAMESPACE},
        "stringData": {"secretkey": base64::engine::general_purpose::STANDARD.encode(key)}});
    let secret = serde_json::from_value(secret)?;
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    match api.create(&pp, &secret).await {
        Err(kube::Error::Api(e)) if dry_run && e.code == 404 => {}
        r => {
            r.context("cannot create secret/memberlist")?;
        }
    }
    println!(
        "secret/memberlist created{}",
        if dry_run { " (server dry run)" } else { "" }
    );
    Ok(())
}

/// One workload to wait for.
struct Rollout {
    kind: &'static str,
    name: &'static str,
}

fn rollouts(with_router: bool) -> Vec<Rollout> {
    let mut r = vec![
        Rollout {
            kind: "Deployment",
            name: "controller",
        },
        Rollout {
            kind: "DaemonSet",
            name: "speaker",
        },
    ];
    if with_router {
        r.push(Rollout {
            kind: "Deployment",
            name: "test-bgp-router",
        });
    }
    r
}

/// (ready, wanted) of a workload, from its status.
fn readiness(kind: &str, obj: &Value) -> (u64, u64) {
    let st = &obj["status"];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let observed = n(&st["observedGeneration"]) >= n(&obj["metadata"]["generation"]);
    let (ready, want) = if kind == "DaemonSet" {
        (n(&st["numberReady"]), n(&st["desiredNumberScheduled"]))
    } else {
        let want = obj["spec"]["replicas"].as_u64().unwrap_or(1);
        (n(&st["readyReplicas"]).min(n(&st["updatedReplicas"])), want)
    };
    if observed {
        (ready, want)
    } else {
        (0, want.max(1))
    }
}

async fn workload(client: &Client, r: &Rollout) -> Option<Value> {
    let ar = match r.kind {
        "DaemonSet" => ApiResource::erase::<k8s_openapi::api::apps::v1::DaemonSet>(&()),
        _ => ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, &ar);
    let obj = api.get_opt(r.name).await.ok()??;
    serde_json::to_value(obj).ok()
}

/// Wait until every workload is ready, showing progress (one rewritten line on a terminal,
/// plain lines otherwise).
pub async fn wait_rollout(
    client: &Client,
    with_router: bool,
    timeout: Duration,
) -> anyhow::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let mut parts = Vec::new();
        let mut done = true;
        for r in rollouts(with_router) {
            let (ready, want) = match workload(client, &r).await {
                Some(o) => readiness(r.kind, &o),
                None => (0, 1),
            };
            done &= want > 0 && ready >= want;
            parts.push(format!("{} {}/{} ready", r.name, ready, want));
        }
        let line = format!("waiting for rollout: {}", parts.join(", "));
        if line != last {
            if tty {
                print!("\r\x1b[2K{line}");
                let _ = std::io::stdout().flush();
            } else {
                println!("{line}");
            }
            last = line;
        }
        if done {
            if tty {
                println!();
            }
            println!(
                "rollout complete in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > timeout {
            if tty {
                println!();
            }
            bail!(
                "timed out after {:?} waiting for the rollout ({last})",
                timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Read a config file: a ConfigMap manifest, or the bare config text (wrapped in one).
fn config_map_from(path: &std::path::Path) -> anyhow::Result<(Value, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs = documents(&text)?;
    if let Some(cm) = docs.iter().find(|d| d["kind"] == "ConfigMap") {
        let config = cm["data"]["config"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut cm = cm.clone();
        cm["metadata"]["namespace"] = json!(NAMESPACE);
        return Ok((cm, config));
    }
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "config", "namespace": NAMESPACE}, "data": {"config": text}});
    Ok((cm, text))
}

/// Dry-run `config` against the live assignments; Ok(true) when safe.
async fn config_is_safe(client: &Client, config: &str) -> anyhow::Result<bool> {
    let new = crate::metallb::config::parse(config)
        .map_err(|e| anyhow::anyhow!("the configuration is invalid: {}", e.event_message()))?;
    let state = crate::kube::assignments::fetch(client.clone(), NAMESPACE, "config").await?;
    let running = state
        .running_config
        .as_deref()
        .and_then(|t| crate::metallb::config::parse(t).ok())
        .map(|p| p.pools);
    let report = crate::alloc::dryrun::dryrun(running.as_deref(), &new.pools, &state.services)?;
    for s in &report.services {
        println!("  {}/{}: {:?}", s.namespace, s.name, s.verdict);
    }
    if let Some(r) = &report.rejection {
        println!("dry run: MetalLB would reject this configuration: {r}");
    }
    Ok(report.accepted && !report.has_losses())
}

/// Run `metallbctl install`.
pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    super::shell::runtime()?.block_on(async move {
        let client = crate::kube::client(
            args.cluster.context.as_deref(),
            args.cluster.kubeconfig.as_deref(),
        )
        .await?;
        install(&client, &args).await
    })
}

/// Install into the cluster `client` talks to.
pub async fn install(client: &Client, args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(p) => Some(config_map_from(p)?),
        None => None,
    };
    let docs = install_documents(&args.version, args.with_test_router)?;
    let changed = apply_all(client, &docs, args.dry_run).await?;
    ensure_memberlist(client, args.dry_run).await?;
    if let Some((cm, text)) = config {
        if !config_is_safe(client, &text).await? {
            if !args.force {
                bail!("refusing to apply {}: a service would lose its address (use --force to apply anyway)", args.config.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
            }
            println!("--force: applying anyway");
        }
        apply_all(client, &[cm], args.dry_run).await?;
    }
    if changed == 0 {
        println!(
            "MetalLB {} is installed; everything unchanged",
            args.version
        );
    }
    if args.wait && !args.dry_run {
        wait_rollout(client, args.with_test_router, args.timeout).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `metallbctl uninstall`: delete what install created, namespace last.
pub fn run_uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    super::shell::runtime()?.block_on(async move {
        let client = crate::kube::client(args.cluster.context.as_deref(), args.cluster.kubeconfig.as_deref()).await?;
        let mut docs = install_documents(DEFAULT_VERSION, args.with_test_router)?;
        docs.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "memberlist", "namespace": NAMESPACE}}));
        docs.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config", "namespace": NAMESPACE}}));
        docs.sort_by_key(|d| d["kind"] == "Namespace");
        docs.dedup_by(|a, b| a["kind"] == b["kind"] && a["metadata"]["name"] == b["metadata"]["name"]);
        for d in &docs {
            let (api, ar) = api_for(&client, d).await?;
            let name = d["metadata"]["name"].as_str().unwrap_or_default();
            let label = display_name(d, &ar);
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => println!("{label} deleted"),
                Err(kube::Error::Api(e)) if e.code == 404 => println!("{label} not found"),
                Err(e) => return Err(e).with_context(|| format!("cannot delete {label}")),
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifests_parse_and_pin_the_version() {
        let docs = install_documents("v0.12.1", true).unwrap();
        assert!(docs.iter().all(|d| gvk_of(d).is_ok()));
        let ds = docs.iter().find(|d| d["kind"] == "DaemonSet").unwrap();
        assert_eq!(ds["spec"]["template"]["spec"]["hostNetwork"], true);
        assert_eq!(
            ds["spec"]["template"]["metadata"]["labels"]["app"],
            "speaker"
        );
        let other = install_documents("v0.12.0", false).unwrap();
        assert!(serde_json::to_string(&other)
            .unwrap()
            .contains("speaker:v0.12.0"));
        assert!(!other
            .iter()
            .any(|d| d["metadata"]["name"] == "test-bgp-router"));
        let svc = docs
            .iter()
            .find(|d| d["metadata"]["name"] == "test-bgp-router-quagga")
            .unwrap();
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.101");
    }

    #[test]
    fn durations_and_readiness() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("nonsense").is_err());
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}});
        assert_eq!(readiness("Deployment", &d), (1, 1));
        let ds = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        assert_eq!(readiness("DaemonSet", &ds), (0, 1));
    }
}
