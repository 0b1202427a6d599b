//! Discovery documents: `/version`, aggregated discovery v2 for `/api` and `/apis` (with the
//! exact Content-Type kubectl requires), the legacy forms, and the APIService objects of the
//! served group/versions. (OpenAPI documents are in `openapi`.)

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::resources::{Registry, ResourceDef};

/// The Content-Type of an aggregated discovery answer. Sent as plain `application/json`,
/// kubectl silently treats the body as legacy discovery and sees no resources.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The Kubernetes version reported. The kubectl dispatcher picks its build from it.
pub fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.4",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.6", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// Does the Accept header ask for aggregated discovery?
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"as=APIGroupDiscoveryList") && params.contains(&"v=v2")
    })
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn grouped(
    registry: &Registry,
    core: bool,
) -> BTreeMap<String, BTreeMap<String, Vec<ResourceDef>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<ResourceDef>>> = BTreeMap::new();
    for def in registry
        .all()
        .into_iter()
        .filter(|d| d.group.is_empty() == core)
    {
        out.entry(def.group.clone())
            .or_default()
            .entry(def.version.clone())
            .or_default()
            .push(def);
    }
    out
}

/// `kubectl get all` expands the `all` category.
fn categories(def: &ResourceDef) -> Vec<&'static str> {
    let all = matches!(
        (def.group.as_str(), def.plural.as_str()),
        ("", "pods" | "services") | ("apps", "deployments" | "daemonsets" | "replicasets")
    );
    if all {
        vec!["all"]
    } else {
        Vec::new()
    }
}

fn aggregated_resource(def: &ResourceDef) -> Value {
    let kind = json!({"group": def.group, "version": def.version, "kind": def.kind});
    let mut subs = Vec::new();
    if def.status {
        subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
    }
    if super::scale::has_scale(def) {
        subs.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
    }
    if def.log {
        subs.push(json!({"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"}, "verbs": ["get"]}));
    }
    json!({
        "resource": def.plural, "responseKind": kind,
        "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": def.singular, "shortNames": def.short_names,
        "verbs": VERBS, "subresources": subs, "categories": categories(def),
    })
}

/// `/api` or `/apis` as an APIGroupDiscoveryList.
pub fn aggregated(registry: &Registry, core: bool) -> Value {
    let items: Vec<Value> = grouped(registry, core)
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .rev()
                .map(|(v, defs)| {
                    json!({"version": v, "freshness": "Current",
                    "resources": defs.iter().map(aggregated_resource).collect::<Vec<_>>()})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// Legacy `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

fn legacy_group(group: &str, versions: &BTreeMap<String, Vec<ResourceDef>>) -> Value {
    let vs: Vec<Value> = versions
        .keys()
        .rev()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

/// Legacy `/apis`.
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = grouped(registry, false)
        .iter()
        .map(|(g, vs)| legacy_group(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/apis/{group}`, if the group exists.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let all = grouped(registry, false);
    let versions = all.get(group)?;
    let mut doc = legacy_group(group, versions);
    if let Some(map) = doc.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(doc)
}

/// Legacy `/api/v1` or `/apis/{group}/{version}` as an APIResourceList.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<ResourceDef> = registry
        .all()
        .into_iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for d in &defs {
        resources.push(json!({"name": d.plural, "singularName": d.singular, "namespaced": d.namespaced,
            "kind": d.kind, "verbs": VERBS, "shortNames": d.short_names, "categories": categories(d)}));
        if d.status {
            resources.push(json!({"name": format!("{}/status", d.plural), "singularName": "", "namespaced": d.namespaced, "kind": d.kind, "verbs": ["get", "patch", "update"]}));
        }
        if super::scale::has_scale(d) {
            resources.push(json!({"name": format!("{}/scale", d.plural), "singularName": "", "namespaced": true, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
        if d.log {
            resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// The APIService objects of a cluster serving what the registry holds: one per group/version,
/// all `Local` and Available (the lab aggregates nothing). Priorities are kube-aggregator's for
/// the built-in groups; CRD groups get the automanaged defaults (1000/100).
pub fn api_services(registry: &Registry, now: &str) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for def in registry.all() {
        if !seen.insert((def.group.clone(), def.version.clone())) {
            continue;
        }
        let (group_priority, version_priority, managed) = match def.group.as_str() {
            "" => (18000, 1, "onstart"),
            "apps" => (17800, 15, "onstart"),
            "events.k8s.io" => (17750, 15, "onstart"),
            "rbac.authorization.k8s.io" => (17000, 15, "onstart"),
            "apiextensions.k8s.io" => (16700, 15, "onstart"),
            "coordination.k8s.io" => (16500, 15, "onstart"),
            "discovery.k8s.io" => (16200, 15, "onstart"),
            "apiregistration.k8s.io" => (18000, 15, "onstart"),
            _ => (1000, 100, "true"),
        };
        out.push(json!({
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {
                "name": format!("{}.{}", def.version, def.group),
                "labels": {"kube-aggregator.kubernetes.io/automanaged": managed},
            },
            "spec": {
                "group": def.group,
                "version": def.version,
                "groupPriorityMinimum": group_priority,
                "versionPriority": version_priority,
            },
            "status": {"conditions": [{
                "type": "Available", "status": "True", "reason": "Local",
                "message": "Local APIServices are always available",
                "lastTransitionTime": now,
            }]},
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_has_services_and_apps() {
        let r = Registry::default();
        let core = aggregated(&r, true);
        let svc = &core["items"][0]["versions"][0]["resources"];
        assert!(svc.as_array().is_some_and(|a| a
            .iter()
            .any(|x| x["resource"] == "services" && x["shortNames"][0] == "svc")));
        let apis = aggregated(&r, false);
        assert!(apis["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|g| g["metadata"]["name"] == "apps")));
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
    }
}
