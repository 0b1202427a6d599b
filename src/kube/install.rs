//! Installing MetalLB into a cluster: server-side apply of MetalLB's manifests (embedded:
//! manifests/metallb.yaml and, with the test routers, manifests/test-bgp-router.yaml) with field
//! manager `metallbctl`, the speaker's `memberlist` Secret, an optional configuration applied
//! after a dry run against the live assignments, and waiting for the rollout. Used by
//! `metallbctl install`/`uninstall` and by the lab tutorial.
//!
//! What it does is reported line by line through [`Progress`]; nothing here prints.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::Client;
use serde_json::{json, Value};

use crate::alloc::check::Live;
use crate::alloc::Report;
use crate::config::{self, InputKind, Options};
use crate::diag::{Diagnostic, SourceFile};

/// MetalLB's manifest (v0.12.1 images).
pub const METALLB_YAML: &str = include_str!("../../manifests/metallb.yaml");
/// The test routers' manifest.
pub const TEST_ROUTER_YAML: &str = include_str!("../../manifests/test-bgp-router.yaml");
/// The image tag manifests/metallb.yaml names (v0.12, the last ConfigMap release).
pub const LEGACY_TAG: &str = "v0.12.1";
/// The release installed by default: the newest (its manifest is `kube::release`'s).
pub const DEFAULT_VERSION: &str = "v0.16";
/// The field manager of every write.
pub const FIELD_MANAGER: &str = "metallbctl";
const NAMESPACE: &str = "metallb-system";

/// What to install and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallSettings {
    /// The release to install ([`manifest_text`]); `None`: the release installed now (the
    /// controller's image tag), else [`DEFAULT_VERSION`], so a re-install or `--config` never
    /// changes MetalLB's release unasked.
    pub version: Option<String>,
    /// Also install the tutorial's test BGP routers.
    pub with_test_router: bool,
    /// A MetalLB configuration (ConfigMap YAML or bare config) to apply after a dry run.
    pub config: Option<PathBuf>,
    /// Server-side dry run: change nothing.
    pub dry_run: bool,
    /// Wait until the workloads are ready.
    pub wait: bool,
    /// How long to wait for the rollout.
    pub timeout: Duration,
    /// Apply the configuration even if a service would lose its address.
    pub force: bool,
}

impl Default for InstallSettings {
    /// `metallbctl install` without flags.
    fn default() -> Self {
        InstallSettings {
            version: None,
            with_test_router: false,
            config: None,
            dry_run: false,
            wait: true,
            timeout: Duration::from_secs(120),
            force: false,
        }
    }
}

/// Where install reports what it does.
pub trait Progress {
    /// A finished line, such as `deployment.apps/controller created`.
    fn line(&mut self, line: &str);
    /// The rollout's state, such as `waiting for rollout: controller 0/1 ready, ...`; given
    /// again only when it changes.
    fn rollout(&mut self, line: &str);
    /// The rollout wait ended (ready or timed out); no more [`Progress::rollout`] calls follow.
    fn rollout_end(&mut self);
    /// The dry run of `--config` against the cluster, before it is applied (or refused).
    fn config_check(&mut self, check: &ConfigCheck) {
        for d in &check.diagnostics {
            self.line(&format!("{}: {}", d.code, d.message));
        }
    }
}

/// Why an install step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    #[error("manifest is not valid YAML")]
    Yaml(#[source] serde_yaml::Error),
    #[error("a manifest document has no apiVersion or kind")]
    NoKind,
    #[error("the cluster does not serve {api_version}/{kind}")]
    Discovery {
        api_version: String,
        kind: String,
        #[source]
        source: kube::Error,
    },
    /// A read, write or delete of one object failed.
    #[error("cannot {verb} {label}")]
    Request {
        verb: &'static str,
        label: String,
        #[source]
        source: kube::Error,
    },
    #[error("no randomness: {0}")]
    Random(String),
    #[error("cannot read configuration file {}", path.display())]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not YAML.
    #[error(transparent)]
    ConfigYaml(#[from] crate::config::InputError),
    /// The configuration file holds no MetalLB configuration.
    #[error("no MetalLB configuration in {}", path.display())]
    NoConfig { path: PathBuf },
    /// The configuration has lint errors (reported through [`Progress::config_check`]).
    #[error("refusing to apply {}: MetalLB would reject it ({errors} error{})", path.display(), if *errors == 1 { "" } else { "s" })]
    InvalidConfig { path: PathBuf, errors: usize },
    /// Talking to the cluster failed.
    #[error(transparent)]
    Cluster(#[from] super::KubeError),
    /// The configuration's pools cannot be dry-run.
    #[error("cannot dry-run {}", path.display())]
    DryRun {
        path: PathBuf,
        #[source]
        source: Box<crate::alloc::check::CheckError>,
    },
    /// The dry run says a service would lose its address (reported through
    /// [`Progress::config_check`]).
    #[error("refusing to apply {}: a service would lose its address", path.display())]
    WouldLoseAddress { path: PathBuf },
    #[error("timed out after {timeout:?} waiting for the rollout ({last})")]
    Timeout { timeout: Duration, last: String },
}

impl InstallError {
    /// What to do next, for the `help:` line.
    pub fn help(&self) -> Option<String> {
        let guide = super::TROUBLESHOOTING;
        match self {
            InstallError::WouldLoseAddress { .. } => Some(format!(
                "move the services first as the table suggests, or pass --force to apply anyway (see {guide}#configuration-rejected)"
            )),
            InstallError::InvalidConfig { path, .. } => Some(format!(
                "fix the errors above; `metallbctl validate {}` checks the file offline",
                path.display()
            )),
            InstallError::NoConfig { .. } => Some(
                "expected a ConfigMap with data.config, or a bare configuration body".into(),
            ),
            InstallError::Timeout { .. } => Some(format!(
                "see what the workloads say: `kubectl -n metallb-system get pods` and `kubectl -n metallb-system logs deploy/controller` (see {guide}#install-times-out)"
            )),
            InstallError::Cluster(k) => k.help(),
            _ => None,
        }
    }

    fn is_not_found(&self) -> bool {
        match self {
            InstallError::Request { source, .. } | InstallError::Discovery { source, .. } => {
                matches!(source, kube::Error::Api(s) if s.code == 404)
            }
            _ => false,
        }
    }
}

/// What an apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl Outcome {
    /// The word kubectl prints.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// Split a multi-document YAML manifest into JSON objects (empty documents skipped).
pub fn documents(yaml: &str) -> Result<Vec<Value>, InstallError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v: Value = serde::Deserialize::deserialize(doc).map_err(InstallError::Yaml)?;
        if v.is_object() {
            out.push(v);
        }
    }
    Ok(out)
}

/// The manifest of `version`: `v0.13` to `v0.16` (or a patch release of one, e.g. `v0.15.2`)
/// pick that release's manifest (`kube::release`: CRDs, RBAC, webhook), with the images at the
/// patch release given or the pinned one; `v0.12` and anything else is manifests/metallb.yaml
/// (the ConfigMap release) with the images at that tag (`v0.12` alone means v0.12.1).
pub fn manifest_text(version: &str) -> String {
    let tag = if version.starts_with('v') {
        version.to_string()
    } else {
        format!("v{version}")
    };
    let has_patch = tag.matches('.').count() >= 2;
    match version.parse::<config::Version>() {
        Ok(v) => match (super::release::committed(v), super::release::pinned_tag(v)) {
            (Some(text), Some(pinned)) if has_patch => text.replace(pinned, &tag),
            (Some(text), _) => text.to_string(),
            _ if has_patch => METALLB_YAML.replace(LEGACY_TAG, &tag),
            _ => METALLB_YAML.replace(LEGACY_TAG, if v.minor == 12 { LEGACY_TAG } else { &tag }),
        },
        Err(_) => METALLB_YAML.replace(LEGACY_TAG, version),
    }
}

/// The manifests to install, with images at `version` ([`manifest_text`]).
pub fn install_documents(version: &str, with_router: bool) -> Result<Vec<Value>, InstallError> {
    let mut docs = documents(&manifest_text(version))?;
    if with_router {
        docs.extend(documents(TEST_ROUTER_YAML)?);
    }
    Ok(docs)
}

fn gvk_of(obj: &Value) -> Result<GroupVersionKind, InstallError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        return Err(InstallError::NoKind);
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
) -> Result<(Api<DynamicObject>, ApiResource, bool), InstallError> {
    let gvk = gvk_of(obj)?;
    let (ar, caps): (ApiResource, ApiCapabilities) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|source| InstallError::Discovery {
            api_version: gvk.api_version(),
            kind: gvk.kind.clone(),
            source,
        })?;
    let namespaced = matches!(caps.scope, Scope::Namespaced);
    let api = match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &ar),
        Scope::Namespaced => {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        }
    };
    Ok((api, ar, namespaced))
}

fn request_err(verb: &'static str, label: &str) -> impl FnOnce(kube::Error) -> InstallError {
    let label = label.to_string();
    move |source| InstallError::Request {
        verb,
        label,
        source,
    }
}

/// The annotation `kubectl apply` keeps its last applied configuration in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The most an object's annotations may hold, keys and values together (256 KiB).
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// `doc` with the annotation `kubectl apply -f` would have given it, so that a later
/// `kubectl apply` of the same manifest patches it quietly (`unchanged`) instead of warning
/// that the annotation is missing. The value is what kubectl writes: the object as read from
/// the manifest, with `metadata.annotations` present (empty if it had none) but without this
/// annotation, and the default namespace filled in for a namespaced kind, as Go's encoder
/// prints it (keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped), followed by a newline.
pub fn with_last_applied(doc: &Value, namespaced: bool) -> Value {
    let mut applied = doc.clone();
    if let Some(meta) = applied["metadata"].as_object_mut() {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.remove(LAST_APPLIED);
        }
        if namespaced {
            meta.entry("namespace").or_insert_with(|| json!("default"));
        }
    }
    let mut text = String::new();
    go_json(&applied, &mut text);
    text.push('\n');
    // The API server refuses annotations above 256 KiB in all; so does kubectl apply. An object
    // that big is installed without the annotation (server-side apply does not need it).
    let others: usize = applied["metadata"]["annotations"]
        .as_object()
        .map(|a| {
            a.iter()
                .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    if others + LAST_APPLIED.len() + text.len() > ANNOTATIONS_LIMIT {
        return doc.clone();
    }
    let mut out = doc.clone();
    if let Some(meta) = out["metadata"].as_object_mut() {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(LAST_APPLIED.into(), Value::String(text));
        }
    }
    out
}

/// Compact JSON as Go's `encoding/json` writes a decoded object: map keys sorted, and the
/// characters it escapes for HTML safety escaped.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::String(s) => go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn go_string(s: &str, out: &mut String) {
    let quoted = Value::String(s.to_string()).to_string();
    for c in quoted.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

/// Server-side apply one object; report what happened.
pub async fn apply_one(
    client: &Client,
    obj: &Value,
    dry_run: bool,
) -> Result<(String, Outcome), InstallError> {
    let (api, ar, namespaced) = api_for(client, obj).await?;
    let obj = &with_last_applied(obj, namespaced);
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let label = display_name(obj, &ar);
    let before = api
        .get_opt(name)
        .await
        .map_err(request_err("read", &label))?;
    let mut pp = PatchParams::apply(FIELD_MANAGER).force();
    pp.dry_run = dry_run;
    let after = api
        .patch(name, &pp, &Patch::Apply(obj))
        .await
        .map_err(request_err("apply", &label))?;
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

/// Apply documents in order, reporting kubectl-style lines; returns how many changed.
pub async fn apply_all(
    client: &Client,
    docs: &[Value],
    dry_run: bool,
    progress: &mut dyn Progress,
) -> Result<usize, InstallError> {
    let mut changed = 0;
    let suffix = if dry_run { " (server dry run)" } else { "" };
    for d in docs {
        let (label, outcome) = match apply_one(client, d, dry_run).await {
            Ok(x) => x,
            Err(e) if dry_run && e.is_not_found() => {
                // A real API server too refuses a dry run into a namespace not yet created.
                progress.line(&format!(
                    "{} created{suffix}: its namespace does not exist yet",
                    label_of(d)
                ));
                changed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if outcome != Outcome::Unchanged {
            changed += 1;
        }
        progress.line(&format!("{label} {}{suffix}", outcome.word()));
    }
    Ok(changed)
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

/// Create the speaker's memberlist Secret if absent (MetalLB v0.12 needs it on real clusters);
/// returns whether it was created.
pub async fn ensure_memberlist(
    client: &Client,
    dry_run: bool,
    progress: &mut dyn Progress,
) -> Result<bool, InstallError> {
    use base64::Engine;
    let label = "secret/memberlist";
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let existing = match api.get_opt("memberlist").await {
        Ok(s) => s,
        Err(kube::Error::Api(e)) if dry_run && e.code == 404 => None,
        Err(e) => return Err(request_err("read", label)(e)),
    };
    if existing.is_some() {
        progress.line("secret/memberlist unchanged");
        return Ok(false);
    }
    let mut key = [0u8; 128];
    getrandom::fill(&mut key).map_err(|e| InstallError::Random(e.to_string()))?;
    let mut secret = k8s_openapi::api::core::v1::Secret::default();
    secret.metadata.name = Some("memberlist".into());
    secret.metadata.namespace = Some(NAMESPACE.into());
    secret.string_data = Some(
        [(
            "secretkey".to_string(),
            base64::engine::general_purpose::STANDARD.encode(key),
        )]
        .into(),
    );
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    match api.create(&pp, &secret).await {
        Err(kube::Error::Api(e)) if dry_run && e.code == 404 => {}
        r => {
            r.map_err(request_err("create", label))?;
        }
    }
    progress.line(&format!(
        "secret/memberlist created{}",
        if dry_run { " (server dry run)" } else { "" }
    ));
    Ok(true)
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

/// Wait until every workload is ready, reporting each change of the rollout state.
pub async fn wait_rollout(
    client: &Client,
    with_router: bool,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<(), InstallError> {
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
            progress.rollout(&line);
            last = line;
        }
        if done {
            progress.rollout_end();
            progress.line(&format!(
                "rollout complete in {:.1}s",
                started.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        if started.elapsed() > timeout {
            progress.rollout_end();
            return Err(InstallError::Timeout { timeout, last });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Read a config file: a ConfigMap manifest, or the bare config text (wrapped in one).
fn config_map_from(text: &str) -> Result<Value, InstallError> {
    let docs = documents(text)?;
    if let Some(cm) = docs.iter().find(|d| d["kind"] == "ConfigMap") {
        let mut cm = cm.clone();
        cm["metadata"]["namespace"] = json!(NAMESPACE);
        return Ok(cm);
    }
    Ok(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "config", "namespace": NAMESPACE}, "data": {"config": text}}))
}

/// The dry run of `install --config FILE` against what the cluster runs: the same findings
/// and verdicts as `validate --cluster FILE`.
#[derive(Debug, Clone)]
pub struct ConfigCheck {
    /// The configuration file.
    pub file: SourceFile,
    /// 1-based line where the configuration starts.
    pub line: usize,
    /// Lint errors, or the dry run's findings.
    pub diagnostics: Vec<Diagnostic>,
    /// The dry run; `None` when the configuration has lint errors (the cluster is not read).
    pub dry_run: Option<DryRun>,
}

/// A dry run of the configuration against what the cluster runs now.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub report: Report,
    /// What the cluster runs now.
    pub live: Live,
}

impl ConfigCheck {
    /// Whether applying the configuration keeps every service's address.
    pub fn is_safe(&self) -> bool {
        self.dry_run
            .as_ref()
            .is_some_and(|d| d.report.accepted && !d.report.has_losses())
    }
}

/// Lint `path` and dry-run it against the cluster; returns the ConfigMap to apply and the check.
async fn check_config(
    client: &Client,
    server: &str,
    path: &Path,
    version: &str,
    force: bool,
) -> Result<(Vec<Value>, ConfigCheck), InstallError> {
    let text = std::fs::read_to_string(path).map_err(|source| InstallError::ReadConfig {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    let options = Options::default();
    let lint = config::lint(&file, InputKind::Auto, &options)?;
    if lint.configs.is_empty() && lint.crds.iter().any(config::crd::Document::is_metallb) {
        return check_crd_config(client, server, path, file, &lint.crds, version, force).await;
    }
    let cm = vec![config_map_from(&file.text)?];
    let Some(found) = lint.configs.first() else {
        return Err(InstallError::NoConfig {
            path: path.to_path_buf(),
        });
    };
    let errors: Vec<Diagnostic> = lint
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    // With lint errors there is nothing to dry-run: the cluster is not read.
    let check = if errors.is_empty() {
        let live =
            super::live::fetch(client.clone(), server, NAMESPACE, "config", &options).await?;
        let (diagnostics, report) =
            crate::alloc::check::check(found, &file, &live).map_err(|source| {
                InstallError::DryRun {
                    path: path.to_path_buf(),
                    source: Box::new(source),
                }
            })?;
        ConfigCheck {
            line: found.line,
            diagnostics,
            dry_run: Some(DryRun { report, live }),
            file,
        }
    } else {
        ConfigCheck {
            line: found.line,
            diagnostics: errors,
            dry_run: None,
            file,
        }
    };
    Ok((cm, check))
}

/// `install --config` with MetalLB's custom resources: checked as the installed release reads
/// them, then dry-run against the cluster's live assignments with that release's rule (reject
/// before v0.14, re-allocate from v0.14: refused unless `--force`), as `validate --cluster`
/// does. Returns the objects to apply.
async fn check_crd_config(
    client: &Client,
    server: &str,
    path: &Path,
    file: SourceFile,
    crd_docs: &[config::crd::Document],
    version: &str,
    force: bool,
) -> Result<(Vec<Value>, ConfigCheck), InstallError> {
    let release = version
        .parse::<config::Version>()
        .unwrap_or(config::Version::NEWEST);
    let objects: Vec<Value> = documents(&file.text)?
        .into_iter()
        .filter(|d| {
            d["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("metallb.io/"))
        })
        .map(|mut d| {
            d["metadata"]["namespace"] = json!(NAMESPACE);
            d
        })
        .collect();
    let inputs = [config::crd::Input {
        file: &file,
        documents: crd_docs,
        configmaps: Vec::new(),
    }];
    let report = config::crd::lint(&inputs, Some(release), config::BgpMode::Native);
    let line = crd_docs.first().map_or(1, |d| d.line);
    let errors: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let Some(config) = report.config.filter(|_| errors.is_empty()) else {
        let check = ConfigCheck {
            line,
            diagnostics: errors,
            dry_run: None,
            file,
        };
        return Ok((objects, check));
    };
    let options = Options::default();
    let live = super::live::fetch(client.clone(), server, NAMESPACE, "config", &options).await?;
    let live = crate::alloc::check::Live {
        running: live.running_crds.clone(),
        described: live.described_crds.clone(),
        ..live
    };
    let (joined, bases) = config::crd::join(&inputs);
    let at = config
        .pools
        .first()
        .map_or(config.span.start, |p| p.span.start);
    let semantics = if release >= config::Version::v0(14) {
        crate::alloc::check::Release::Reallocate {
            allow_reallocation: force,
        }
    } else {
        crate::alloc::check::Release::Reject
    };
    let (found, report) = crate::alloc::check::check_crds(&config, &joined, &live, at, semantics)
        .map_err(|source| InstallError::DryRun {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let diagnostics = found
        .into_iter()
        .map(|d| config::crd::relocate(d, &inputs, &bases))
        .collect();
    let check = ConfigCheck {
        line,
        diagnostics,
        dry_run: Some(DryRun { report, live }),
        file,
    };
    Ok((objects, check))
}

/// The tag of the MetalLB controller image installed now, if any.
async fn installed_version(client: &Client) -> Option<String> {
    let api: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), NAMESPACE);
    let d = api.get_opt("controller").await.ok()??;
    let image = d.spec?.template.spec?.containers.first()?.image.clone()?;
    let (repo, tag) = image.rsplit_once(':')?;
    (repo.ends_with("metallb/controller") && !tag.contains('/')).then(|| tag.to_string())
}

/// Check that the API server at `server` answers at all, so an unreachable cluster is one
/// clear error rather than the failure of the first apply.
async fn reachable(client: &Client, server: &str) -> Result<(), InstallError> {
    client
        .apiserver_version()
        .await
        .map(|_| ())
        .map_err(|e| super::request_error(server, "tell its version", e).into())
}

/// Install into the cluster `client` talks to (`server`, its URL, names it in errors).
pub async fn install(
    client: &Client,
    server: &str,
    settings: &InstallSettings,
    progress: &mut dyn Progress,
) -> Result<(), InstallError> {
    reachable(client, server).await?;
    let version = match &settings.version {
        Some(v) => v.clone(),
        None => installed_version(client)
            .await
            .unwrap_or_else(|| DEFAULT_VERSION.to_string()),
    };
    let config = match &settings.config {
        Some(p) => Some((
            p,
            check_config(client, server, p, &version, settings.force).await?,
        )),
        None => None,
    };
    // A configuration MetalLB would reject, or one that takes an address away, is refused
    // before anything changes.
    if let Some((path, (_, check))) = &config {
        progress.config_check(check);
        if check.dry_run.is_none() {
            return Err(InstallError::InvalidConfig {
                path: path.to_path_buf(),
                errors: check.diagnostics.len(),
            });
        }
        if !check.is_safe() {
            if !settings.force {
                return Err(InstallError::WouldLoseAddress {
                    path: path.to_path_buf(),
                });
            }
            progress.line("--force: applying anyway");
        }
    }
    let docs = install_documents(&version, settings.with_test_router)?;
    let mut changed = apply_all(client, &docs, settings.dry_run, progress).await?;
    let mut total = docs.len() + 1;
    if ensure_memberlist(client, settings.dry_run, progress).await? {
        changed += 1;
    }
    if let Some((_, (objects, _))) = config {
        changed += apply_all(client, &objects, settings.dry_run, progress).await?;
        total += objects.len();
    }
    let suffix = if settings.dry_run {
        " (server dry run)"
    } else {
        ""
    };
    if changed == 0 {
        progress.line(&format!(
            "MetalLB {} is installed; everything unchanged",
            version
        ));
    } else {
        progress.line(&format!(
            "MetalLB {}: {changed} of {total} objects created or configured{suffix}",
            version
        ));
    }
    if settings.wait && !settings.dry_run {
        wait_rollout(
            client,
            settings.with_test_router,
            settings.timeout,
            progress,
        )
        .await?;
    }
    Ok(())
}

/// Delete what [`install`] created, namespace last; reports `<kind>/<name> deleted` or
/// `not found` per object.
pub async fn uninstall(
    client: &Client,
    server: &str,
    with_test_router: bool,
    progress: &mut dyn Progress,
) -> Result<(), InstallError> {
    reachable(client, server).await?;
    // Whatever release was installed: the newest's objects plus the ConfigMap release's.
    let mut docs = install_documents(DEFAULT_VERSION, with_test_router)?;
    docs.extend(install_documents(LEGACY_TAG, false)?);
    docs.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "memberlist", "namespace": NAMESPACE}}));
    docs.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config", "namespace": NAMESPACE}}));
    docs.sort_by_key(|d| d["kind"] == "Namespace");
    docs.dedup_by(|a, b| a["kind"] == b["kind"] && a["metadata"]["name"] == b["metadata"]["name"]);
    for d in &docs {
        let (api, ar, _) = api_for(client, d).await?;
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let label = display_name(d, &ar);
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => progress.line(&format!("{label} deleted")),
            Err(kube::Error::Api(e)) if e.code == 404 => {
                progress.line(&format!("{label} not found"));
            }
            Err(e) => return Err(request_err("delete", &label)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_applied_is_what_kubectl_writes() {
        use super::{with_last_applied, LAST_APPLIED};
        let doc = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "config"},
            "data": {"config": "a <b> & c\n", "z": 1, "b": [true, null]}});
        let out = with_last_applied(&doc, true);
        assert_eq!(
            out["metadata"]["annotations"][LAST_APPLIED],
            "{\"apiVersion\":\"v1\",\"data\":{\"b\":[true,null],\"config\":\"a \\u003cb\\u003e \\u0026 c\\n\",\"z\":1},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"config\",\"namespace\":\"default\"}}\n"
        );
        // The object itself keeps its (absent) namespace; applying twice changes nothing.
        assert!(out["metadata"].get("namespace").is_none());
        assert_eq!(with_last_applied(&out, true), out);
        let cluster = with_last_applied(&doc, false);
        let text = cluster["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap_or_default();
        assert!(
            text.contains("\"metadata\":{\"annotations\":{},\"name\":\"config\"}"),
            "{text}"
        );
    }

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
        let crds = install_documents("v0.15", false).unwrap();
        let text = serde_json::to_string(&crds).unwrap();
        assert!(text.contains("controller:v0.15.3") && text.contains("ipaddresspools.metallb.io"));
        let patch = serde_json::to_string(&install_documents("v0.15.2", false).unwrap()).unwrap();
        assert!(patch.contains("speaker:v0.15.2") && !patch.contains("v0.15.3"));
        let legacy = serde_json::to_string(&install_documents("v0.12", false).unwrap()).unwrap();
        assert!(legacy.contains("speaker:v0.12.1") && !legacy.contains("metallb.io/v1beta1"));
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
    fn readiness_needs_the_observed_generation() {
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}});
        assert_eq!(readiness("Deployment", &d), (1, 1));
        let ds = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        assert_eq!(readiness("DaemonSet", &ds), (0, 1));
    }

    #[test]
    fn a_document_without_kind_is_refused() {
        assert!(matches!(
            gvk_of(&json!({"apiVersion": "v1"})),
            Err(InstallError::NoKind)
        ));
        assert!(matches!(documents("a: [\n"), Err(InstallError::Yaml(_))));
    }
}
