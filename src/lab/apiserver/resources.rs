//! The resource types the server knows: built-in kinds plus those added by
//! CustomResourceDefinitions. Discovery, routing and storage all read this registry.

use std::sync::{Arc, RwLock};

use serde_json::Value;

/// One served resource (a group/version/plural) and what it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDef {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Has a `/status` subresource with the usual split of spec and status writes.
    pub status: bool,
    /// Has a `/log` subresource (pods).
    pub log: bool,
    /// A CRD's `additionalPrinterColumns` for this version (empty for built-ins).
    pub printer_columns: Vec<PrinterColumn>,
}

/// One `additionalPrinterColumns` entry of a CRD version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    pub kind: String,
    pub json_path: String,
    pub priority: u64,
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    version["additionalPrinterColumns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(PrinterColumn {
                name: c["name"].as_str()?.to_string(),
                kind: c["type"].as_str().unwrap_or("string").to_string(),
                json_path: c["jsonPath"].as_str()?.to_string(),
                priority: c["priority"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

impl ResourceDef {
    /// The `apiVersion` string of objects of this type.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The plural qualified by its group, as used in error messages (`deployments.apps`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The storage key of this resource type.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.group, self.version, self.plural)
    }
}

/// A built-in resource, written compactly: group, version, plural, singular, kind,
/// namespaced, short names, status subresource.
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    bool,
);

const BUILTINS: &[Builtin] = &[
    (
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        true,
    ),
    ("", "v1", "nodes", "node", "Node", false, &["no"], true),
    (
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
        false,
    ),
    ("", "v1", "secrets", "secret", "Secret", true, &[], false),
    (
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
        true,
    ),
    (
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        false,
    ),
    ("", "v1", "pods", "pod", "Pod", true, &["po"], true),
    (
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
        false,
    ),
    ("", "v1", "events", "event", "Event", true, &["ev"], false),
    (
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        true,
    ),
    (
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        true,
    ),
    (
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        &[],
        false,
    ),
    (
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        &[],
        false,
    ),
    (
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        false,
    ),
    (
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        &[],
        false,
    ),
    (
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "apiservice",
        "APIService",
        false,
        &[],
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        true,
    ),
    // Stored and served so MetalLB's install manifests apply; the lab's own admission hook
    // plays MetalLB's webhook (admission/metallb.rs).
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        false,
        &[],
        false,
    ),
];

fn builtin(b: &Builtin) -> ResourceDef {
    let (group, version, plural, singular, kind, namespaced, short, status) = *b;
    ResourceDef {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: singular.into(),
        kind: kind.into(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        status,
        log: plural == "pods",
        printer_columns: Vec::new(),
    }
}

/// The registry, shared by the store and the HTTP layer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Registry {
    defs: Arc<RwLock<Vec<ResourceDef>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            defs: Arc::new(RwLock::new(BUILTINS.iter().map(builtin).collect())),
        }
    }
}

impl Registry {
    /// All served resources, built-ins first.
    pub fn all(&self) -> Vec<ResourceDef> {
        self.defs.read().map(|d| d.clone()).unwrap_or_default()
    }

    /// The resource served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceDef> {
        let defs = self.defs.read().ok()?;
        defs.iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
            .cloned()
    }

    /// The resource of a kind in an apiVersion.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<ResourceDef> {
        let defs = self.defs.read().ok()?;
        defs.iter()
            .find(|d| d.api_version() == api_version && d.kind == kind)
            .cloned()
    }

    /// Replace the resources contributed by one CRD (by its name) with `defs`.
    pub fn set_crd(&self, crd_name: &str, defs: Vec<ResourceDef>) {
        if let Ok(mut all) = self.defs.write() {
            all.retain(|d| BUILTINS.iter().any(|b| builtin(b) == *d) || !crd_owns(crd_name, d));
            all.extend(defs);
        }
    }
}

/// A CRD's name is `<plural>.<group>`.
fn crd_owns(crd_name: &str, def: &ResourceDef) -> bool {
    format!("{}.{}", def.plural, def.group) == crd_name
}

/// The resources a CRD object defines: one per served version.
pub fn defs_from_crd(crd: &Value) -> Vec<ResourceDef> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let plural = text(&names["plural"]);
    let kind = text(&names["kind"]);
    let group = text(&spec["group"]);
    if plural.is_empty() || kind.is_empty() || group.is_empty() {
        return Vec::new();
    }
    let singular = match text(&names["singular"]) {
        s if s.is_empty() => kind.to_lowercase(),
        s => s,
    };
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .map(|v| ResourceDef {
            group: group.clone(),
            version: text(&v["name"]),
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            short_names: short_names.clone(),
            status: v["subresources"]["status"].is_object(),
            log: false,
            printer_columns: printer_columns(v),
        })
        .filter(|d| !d.version.is_empty())
        .collect()
}
