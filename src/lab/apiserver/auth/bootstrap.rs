//! The bootstrap RBAC policy every real cluster has (`plugin/pkg/auth/authorizer/rbac/
//! bootstrappolicy`), the part kubectl and our components rely on: `cluster-admin` for
//! `system:masters`, discovery and health for everyone authenticated, self-reviews for every
//! user, and the aggregated user-facing roles `admin`, `edit` and `view`. Created at start-up
//! when missing; objects a user changed are left alone.

use serde_json::{json, Value};

use crate::lab::apiserver::store::{Store, WriteOptions};

const GROUP: &str = "rbac.authorization.k8s.io";

fn meta(name: &str, labels: Value) -> Value {
    let mut labels = labels;
    labels["kubernetes.io/bootstrapping"] = json!("rbac-defaults");
    json!({
        "name": name,
        "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn role(name: &str, rules: Value) -> Value {
    json!({"metadata": meta(name, json!({})), "rules": rules})
}

fn aggregated(name: &str, to: &str) -> Value {
    json!({
        "metadata": meta(name, json!({})),
        "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {format!("rbac.authorization.k8s.io/aggregate-to-{to}"): "true"}}
        ]},
        "rules": [],
    })
}

fn aggregate_to(name: &str, to: &[&str], rules: Value) -> Value {
    let mut labels = json!({});
    for t in to {
        labels[format!("rbac.authorization.k8s.io/aggregate-to-{t}")] = json!("true");
    }
    json!({"metadata": meta(name, labels), "rules": rules})
}

fn binding(name: &str, role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": GROUP, "kind": "Group", "name": g}))
        .collect();
    json!({
        "metadata": meta(name, json!({})),
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

/// The bootstrap ClusterRoles.
pub fn cluster_roles() -> Vec<Value> {
    let core_read = json!([
        {"apiGroups": [""], "resources": ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers", "serviceaccounts", "services", "pods/log", "pods/status", "services/status"], "verbs": READ},
        {"apiGroups": [""], "resources": ["events", "limitranges", "namespaces/status", "resourcequotas"], "verbs": READ},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": READ},
        {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets"], "verbs": READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": READ},
    ]);
    let core_write = json!([
        {"apiGroups": [""], "resources": ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers", "secrets", "serviceaccounts", "services"], "verbs": WRITE},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": READ},
        {"apiGroups": [""], "resources": ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], "verbs": ["create", "get"]},
        {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets"], "verbs": WRITE},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": WRITE},
    ]);
    let admin_only = json!([
        {"apiGroups": [GROUP], "resources": ["rolebindings", "roles"], "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]},
    ]);
    vec![
        role(
            "cluster-admin",
            json!([
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ]),
        ),
        role(
            "system:discovery",
            json!([{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        ),
        role(
            "system:public-info-viewer",
            json!([{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        ),
        role(
            "system:basic-user",
            json!([
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]},
            ]),
        ),
        aggregated("admin", "admin"),
        aggregated("edit", "edit"),
        aggregated("view", "view"),
        aggregate_to("system:aggregate-to-admin", &["admin"], admin_only),
        aggregate_to("system:aggregate-to-edit", &["admin", "edit"], core_write),
        aggregate_to(
            "system:aggregate-to-view",
            &["admin", "edit", "view"],
            core_read,
        ),
    ]
}

/// The bootstrap ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<Value> {
    vec![
        binding("cluster-admin", "cluster-admin", &["system:masters"]),
        binding(
            "system:discovery",
            "system:discovery",
            &["system:authenticated"],
        ),
        binding(
            "system:basic-user",
            "system:basic-user",
            &["system:authenticated"],
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}

/// Create what is missing of the bootstrap policy.
pub fn ensure(store: &Store) {
    let defs = |plural: &str| store.registry().find(GROUP, "v1", plural);
    for (plural, objects) in [
        ("clusterroles", cluster_roles()),
        ("clusterrolebindings", cluster_role_bindings()),
    ] {
        let Some(def) = defs(plural) else { continue };
        for obj in objects {
            let name = obj["metadata"]["name"].as_str().unwrap_or_default();
            if store.get(&def, None, name).is_ok() {
                continue;
            }
            // AlreadyExists from a concurrent writer is as good as created.
            let _ = store.create(&def, None, obj, &WriteOptions::default());
        }
    }
}
