//! OpenAPI v3 (`/openapi/v3`, `/openapi/v3/{api/v1,apis/<group>/<version>}`) with real schemas, for `kubectl explain` (with `--recursive`, CRD fields included) and
//! kubectl's validation checks; and OpenAPI v2 (`/openapi/v2`, JSON only) from the same
//! definitions, for clients that still read v2.
//!
//! Built-in kinds: upstream's published OpenAPI document (Kubernetes v1.33.3 `swagger.json`),
//! cut down by `trim.py` to the kinds the lab serves and everything they reference
//! (`definitions.json`, unchanged otherwise). CRDs: each served version's `openAPIV3Schema`,
//! named and tagged like the real server does (`io.metallb.v1beta1.IPAddressPool`, with
//! `x-kubernetes-group-version-kind`), with `metadata` pointing at ObjectMeta.
//!
//! Each group/version document holds its kinds' schemas and the closure of what they reference,
//! plus one PATCH operation per kind declaring `fieldValidation` (kubectl checks that before it
//! asks the server to validate). Its `hash` changes with the registry and with the CRDs'
//! resourceVersions, so kubectl's URL-keyed cache never serves a stale schema.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::resources::ResourceDef;
use super::Store;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The vendored definitions, parsed once.
fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        // Compiled in and checked by a unit test; an empty map only loses explain output.
        serde_json::from_str(include_str!("definitions.json")).unwrap_or_default()
    })
}

/// The openapi path of a group/version: `api/v1` or `apis/{group}/{version}`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The definition name of a built-in kind, found by its `x-kubernetes-group-version-kind`.
fn builtin_name(def: &ResourceDef) -> Option<&'static str> {
    definitions().iter().find_map(|(name, d)| {
        d["x-kubernetes-group-version-kind"]
            .as_array()?
            .iter()
            .any(|g| {
                g["group"] == def.group && g["version"] == def.version && g["kind"] == def.kind
            })
            .then_some(name.as_str())
    })
}

/// `metallb.io` -> `io.metallb`, as the real server names CRD schemas.
fn reversed(group: &str) -> String {
    group.split('.').rev().collect::<Vec<_>>().join(".")
}

/// The CRD object behind a resource, if it is one.
fn crd_of(store: &Store, def: &ResourceDef) -> Option<std::sync::Arc<Value>> {
    let crds = store
        .registry()
        .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")?;
    store
        .get(&crds, None, &format!("{}.{}", def.plural, def.group))
        .ok()
}

/// A CRD version's schema as an OpenAPI component.
fn crd_schema(crd: &Value, def: &ResourceDef) -> Option<Value> {
    let mut schema = crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == def.version.as_str())?["schema"]["openAPIV3Schema"]
        .clone();
    let obj = schema.as_object_mut()?;
    obj.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([{"group": def.group, "version": def.version, "kind": def.kind}]),
    );
    let props = obj
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    props.insert(
        "apiVersion".into(),
        json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}),
    );
    props.insert(
        "kind".into(),
        json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}),
    );
    props.insert(
        "metadata".into(),
        json!({"allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
    );
    Some(schema)
}

/// v2 `#/definitions/` references rewritten for v3 components; `$ref` with siblings (a
/// description) becomes `allOf: [{$ref}]` plus the siblings, as upstream's v3 documents do.
fn to_v3(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut reference = None;
            for (k, v) in m {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        reference = Some(r.replace("#/definitions/", "#/components/schemas/"));
                    }
                } else {
                    out.insert(k.clone(), to_v3(v));
                }
            }
            if let Some(r) = reference {
                if out.is_empty() {
                    out.insert("$ref".into(), json!(r));
                } else {
                    out.insert("allOf".into(), json!([{"$ref": r}]));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_v3).collect()),
        other => other.clone(),
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.rsplit('/').next() {
                    out.insert(name.to_string());
                }
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The schemas of `defs` and the closure of what they reference, by definition name, in v2
/// form (`#/definitions/` references).
fn schemas(store: &Store, defs: &[ResourceDef]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut todo = Vec::new();
    for d in defs {
        if let Some(name) = builtin_name(d) {
            todo.push(name.to_string());
        } else if let Some(schema) = crd_of(store, d).and_then(|crd| crd_schema(&crd, d)) {
            let mut refs = BTreeSet::new();
            collect_refs(&schema, &mut refs);
            todo.extend(refs);
            out.insert(
                format!("{}.{}.{}", reversed(&d.group), d.version, d.kind),
                schema,
            );
        }
    }
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Some(schema) = definitions().get(&name) else {
            continue;
        };
        let mut refs = BTreeSet::new();
        collect_refs(schema, &mut refs);
        todo.extend(refs.into_iter().filter(|r| !out.contains_key(r)));
        out.insert(name, schema.clone());
    }
    out
}

fn served(store: &Store) -> Vec<ResourceDef> {
    store.registry().all()
}

/// A hash of what a group/version document is made of: its kinds, and its CRDs' versions.
fn hash(store: &Store, defs: &[&ResourceDef]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for d in defs {
        let rv = crd_of(store, d)
            .map(|c| {
                c["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default();
        for b in d.key().bytes().chain(d.kind.bytes()).chain(rv.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016X}")
}

/// `/openapi/v3`: one entry per served group/version.
pub fn root(store: &Store) -> Value {
    let all = served(store);
    let mut by_gv: BTreeMap<String, Vec<&ResourceDef>> = BTreeMap::new();
    for d in &all {
        by_gv
            .entry(gv_path(&d.group, &d.version))
            .or_default()
            .push(d);
    }
    let paths: Map<String, Value> = by_gv
        .into_iter()
        .map(|(p, defs)| {
            let url = format!("/openapi/v3/{p}?hash={}", hash(store, &defs));
            (p, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `/openapi/v3/{gv}`: the schemas of the group/version's kinds, and one PATCH operation per
/// kind declaring the fieldValidation parameter.
pub fn group_version(store: &Store, gv: &str) -> Option<Value> {
    let defs: Vec<ResourceDef> = served(store)
        .into_iter()
        .filter(|d| gv_path(&d.group, &d.version) == gv)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for d in &defs {
        let url = if d.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("/{gv}/{}/{{name}}", d.plural)
        };
        let op = json!({
            "x-kubernetes-group-version-kind": {"group": d.group, "version": d.version, "kind": d.kind},
            "x-kubernetes-action": "patch",
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}],
            "responses": {"200": {"description": "OK"}}
        });
        paths.insert(url, json!({"patch": op}));
    }
    let schemas: Map<String, Value> = schemas(store, &defs)
        .into_iter()
        .map(|(k, v)| (k, to_v3(&v)))
        .collect();
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// The v2 form of a schema: `allOf: [{$ref}]` plus siblings back to `$ref` with siblings,
/// `#/components/schemas/` references to `#/definitions/`, and what Swagger 2.0 cannot say
/// (`nullable`, `oneOf`, `anyOf`, `not`) dropped, as the real server publishes CRDs in v2.
fn to_v2(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match k.as_str() {
                    "nullable" | "oneOf" | "anyOf" | "not" => {}
                    "$ref" => {
                        if let Some(r) = v.as_str() {
                            out.insert(
                                k.clone(),
                                json!(r.replace("#/components/schemas/", "#/definitions/")),
                            );
                        }
                    }
                    "allOf" => match v.as_array().map(Vec::as_slice) {
                        Some([only]) if only.get("$ref").is_some() => {
                            if let Value::Object(r) = to_v2(only) {
                                out.extend(r);
                            }
                        }
                        _ => {
                            out.insert(k.clone(), to_v2(v));
                        }
                    },
                    _ => {
                        out.insert(k.clone(), to_v2(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_v2).collect()),
        other => other.clone(),
    }
}

/// `/openapi/v2`: one Swagger 2.0 document with every served kind's schema (built-in kinds
/// from the same vendored definitions as v3, applied CRDs from their structural schemas) and,
/// per kind, the object path with its PATCH operation declaring `fieldValidation`.
pub fn v2(store: &Store) -> Value {
    let defs = served(store);
    let mut paths = Map::new();
    for d in &defs {
        let gv = gv_path(&d.group, &d.version);
        let url = if d.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("/{gv}/{}/{{name}}", d.plural)
        };
        let op = json!({
            "x-kubernetes-group-version-kind": {"group": d.group, "version": d.version, "kind": d.kind},
            "x-kubernetes-action": "patch",
            "consumes": ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"],
            "produces": ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
            "parameters": [{"name": "fieldValidation", "in": "query", "type": "string", "uniqueItems": true}],
            "responses": {"200": {"description": "OK"}}
        });
        paths.insert(url, json!({"patch": op}));
    }
    let definitions: Map<String, Value> = schemas(store, &defs)
        .into_iter()
        .map(|(k, v)| (k, to_v2(&v)))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": paths,
        "definitions": definitions,
    })
}

/// Does an `Accept` header take the JSON form of `/openapi/v2`? No header, a wildcard or JSON
/// does; kubectl's protobuf-only request does not (the lab has no encoder for gnostic's
/// OpenAPI protobuf), and the real server answers what it cannot produce with 406.
pub fn v2_accepts_json(accept: &str) -> bool {
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|t| {
        let media = t.split(';').next().unwrap_or_default().trim();
        matches!(media, "*/*" | "application/*" | "application/json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::apiserver::protobuf;
    use crate::lab::apiserver::Registry;

    /// The protobuf layouts and upstream's OpenAPI agree on every field name of every type both
    /// have, except the inline ones (`protobuf::INLINE`), whose fields are the parent's.
    #[test]
    fn protobuf_layouts_and_openapi_agree_on_json_names() {
        let layouts = &protobuf::schema::schema().messages;
        let mut checked = 0;
        for (name, def) in definitions() {
            let Some(message) = name
                .strip_prefix("io.k8s.")
                .map(|m| m.replace("apiextensions-apiserver", "apiextensions_apiserver"))
                .map(|m| m.replace("kube-aggregator", "kube_aggregator"))
            else {
                continue;
            };
            let (Some(layout), Some(props)) =
                (layouts.get(&message), def["properties"].as_object())
            else {
                continue;
            };
            if protobuf::is_opaque(&message) {
                continue;
            }
            checked += 1;
            for f in layout.fields.values() {
                let json = protobuf::json_name(&message, &f.name);
                let inline = protobuf::is_inline(&message, &f.name);
                assert_eq!(
                    props.contains_key(&json),
                    !inline,
                    "{message}.{} (inline: {inline})",
                    f.name
                );
            }
            for key in props.keys() {
                if key == "apiVersion" || key == "kind" {
                    continue;
                }
                assert!(
                    protobuf::field_by_json_name(&message, key).is_some(),
                    "{message} has no field for {key}"
                );
            }
        }
        assert!(checked > 150, "{checked}");
    }

    #[test]
    fn v2_has_every_kind_and_resolves_every_reference() {
        let store = Store::new(Registry::default(), 10);
        let doc = v2(&store);
        assert_eq!(doc["swagger"], "2.0");
        let defs = doc["definitions"].as_object().expect("definitions");
        let mut refs = BTreeSet::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            assert!(defs.contains_key(&r), "{r} referenced, not included");
        }
        assert!(defs.contains_key("io.k8s.api.core.v1.Service"));
        assert!(defs.contains_key("io.k8s.api.apps.v1.Deployment"));
        assert!(
            doc["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"]["parameters"]
                [0]["name"]
                == "fieldValidation"
        );
        let text = doc.to_string();
        assert!(!text.contains("#/components/"), "v3 references in v2");
    }

    #[test]
    fn v2_conversion_of_a_crd_schema() {
        let crd = json!({"properties": {
            "metadata": {"allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"},
            "spec": {"type": "object", "nullable": true, "anyOf": [{"required": ["a"]}],
                     "properties": {"a": {"type": "string"}}},
        }});
        assert_eq!(
            to_v2(&crd),
            json!({"properties": {
                "metadata": {"$ref": "#/definitions/X", "description": "d"},
                "spec": {"type": "object", "properties": {"a": {"type": "string"}}},
            }})
        );
    }

    #[test]
    fn v2_content_negotiation() {
        assert!(v2_accepts_json(""));
        assert!(v2_accepts_json("application/json"));
        assert!(v2_accepts_json(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9"
        ));
        assert!(v2_accepts_json("*/*"));
        assert!(!v2_accepts_json(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        ));
    }

    #[test]
    fn every_builtin_kind_has_its_upstream_schema_and_every_reference_resolves() {
        assert!(definitions().len() > 200);
        let store = Store::new(Registry::default(), 10);
        for d in store.registry().all() {
            assert!(builtin_name(&d).is_some(), "{} has no schema", d.key());
        }
        let doc = group_version(&store, "api/v1").expect("api/v1");
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut refs = BTreeSet::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            assert!(schemas.contains_key(&r), "{r} referenced, not included");
        }
        let spec = &schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"];
        assert!(spec["loadBalancerIP"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("load balancer")));
    }
}
