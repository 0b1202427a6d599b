//! Discovery documents: `/version`, aggregated discovery v2 for `/api` and `/apis` (with the
//! exact Content-Type kubectl requires), the legacy forms, and the `/openapi/v3` stub that lets
//! kubectl's default strict validation use server-side field validation.

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

/// The openapi path of a group/version: `api/v1` or `apis/{group}/{version}`.
fn openapi_gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A hash that changes with the registry, so kubectl's URL-keyed openapi cache stays fresh.
fn registry_hash(registry: &Registry) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for d in registry.all() {
        for b in d.key().bytes().chain(d.kind.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016X}")
}

/// `/openapi/v3`: one entry per group/version.
pub fn openapi_root(registry: &Registry) -> Value {
    let hash = registry_hash(registry);
    let mut paths = serde_json::Map::new();
    for d in registry.all() {
        let p = openapi_gv_path(&d.group, &d.version);
        let url = format!("/openapi/v3/{p}?hash={hash}");
        paths.insert(p, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

/// `/openapi/v3/{gv}`: one PATCH operation per kind, declaring the fieldValidation parameter,
/// which makes kubectl validate on the server. No schemas.
pub fn openapi_group_version(registry: &Registry, gv_path: &str) -> Option<Value> {
    let defs: Vec<ResourceDef> = registry
        .all()
        .into_iter()
        .filter(|d| openapi_gv_path(&d.group, &d.version) == gv_path)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut paths = serde_json::Map::new();
    for d in &defs {
        let url = if d.namespaced {
            format!("/{gv_path}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("/{gv_path}/{}/{{name}}", d.plural)
        };
        let op = json!({
            "x-kubernetes-group-version-kind": {"group": d.group, "version": d.version, "kind": d.kind},
            "x-kubernetes-action": "patch",
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
            "responses": {"200": {"description": "OK"}}
        });
        paths.insert(url, json!({"patch": op}));
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"}, "paths": paths, "components": {"schemas": {}}}),
    )
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
        assert!(openapi_group_version(&r, "apis/apps/v1").is_some());
    }
}
