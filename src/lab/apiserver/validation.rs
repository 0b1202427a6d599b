//! Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`) of create, update, patch
//! and apply bodies, as the real API server does it:
//!
//! - unknown fields (not in the kind's schema) and duplicate fields (the same key twice in one
//!   JSON object) are found with their paths (`spec.loadBalancerIp`,
//!   `spec.template.spec.containers[0].imagePullPolicyy`);
//! - Strict refuses the request with the real server's message
//!   (`Service in version "v1" cannot be handled as a Service: strict decoding error: unknown
//!   field "spec.loadBalancerIp"`); Warn accepts it with one `Warning` header per field; Ignore
//!   accepts it silently. In every mode that accepts, unknown fields are dropped (the real server
//!   never stores them). No parameter means Warn, the server default.
//!
//! Schemas: built-in kinds use the message layouts of the vendored upstream protobuf files (field
//! names are the JSON names); CRDs use their structural schema (`openAPIV3Schema`, with
//! `x-kubernetes-preserve-unknown-fields` and `x-kubernetes-embedded-resource`). Kinds with
//! neither are not checked.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::protobuf::{self, schema::FieldType, schema::Label};

const OBJECT_META: &str = "apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Warn,
    Ignore,
}

impl Mode {
    /// Parse the parameter; absent or empty is the server default, Warn.
    pub fn parse(param: Option<&str>) -> Result<Mode, ApiError> {
        match param.unwrap_or_default() {
            "" | "Warn" => Ok(Mode::Warn),
            "Strict" => Ok(Mode::Strict),
            "Ignore" => Ok(Mode::Ignore),
            other => Err(ApiError::BadRequest(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got {other:?}"
            ))),
        }
    }
}

/// What a kind's objects are checked against.
pub enum Schema {
    /// A built-in kind: a message of the vendored protobuf layouts.
    Builtin(String),
    /// A CRD version's `openAPIV3Schema`.
    Structural(Value),
}

impl Schema {
    /// The schema of a built-in kind, if the lab has its layout.
    pub fn builtin(api_version: &str, kind: &str) -> Option<Schema> {
        protobuf::message_for(api_version, kind).map(Schema::Builtin)
    }

    /// The schema of one version of a CRD object.
    pub fn from_crd(crd: &Value, version: &str) -> Option<Schema> {
        crd["spec"]["versions"]
            .as_array()?
            .iter()
            .find(|v| v["name"] == version)
            .map(|v| &v["schema"]["openAPIV3Schema"])
            .filter(|s| s.is_object())
            .map(|s| Schema::Structural(s.clone()))
    }
}

/// What the body was found to contain, in document order.
#[derive(Debug, Default)]
struct Findings {
    unknown: Vec<String>,
    duplicate: Vec<String>,
}

/// Check (and prune) a decoded body. `raw_json` is the body's bytes when it was JSON, for finding
/// duplicate keys (YAML bodies with duplicate keys are already refused by the YAML parser).
/// Returns the warnings to send (Warn), or the Strict error.
pub fn check(
    schema: &Schema,
    kind: &str,
    version: &str,
    body: &mut Value,
    raw_json: Option<&[u8]>,
    mode: Mode,
) -> Result<Vec<String>, ApiError> {
    let mut found = Findings::default();
    if mode != Mode::Ignore {
        if let Some(raw) = raw_json {
            find_duplicates(raw, &mut found.duplicate);
        }
    }
    found.unknown = prune_unknown(schema, body);
    let mut messages: Vec<String> = found
        .unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    messages.extend(
        found
            .duplicate
            .iter()
            .map(|p| format!("duplicate field \"{p}\"")),
    );
    match mode {
        Mode::Strict if !messages.is_empty() => Err(ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            messages.join(", ")
        ))),
        Mode::Warn => Ok(messages),
        _ => Ok(Vec::new()),
    }
}

/// The unknown fields of a decoded object, by path (`spec.loadBalancerIp`), removed from it.
pub fn prune_unknown(schema: &Schema, body: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    match schema {
        Schema::Builtin(message) => {
            if let Value::Object(map) = body {
                let api_version = map.remove("apiVersion");
                let kind_field = map.remove("kind");
                walk_message(message, map, "", &mut unknown);
                if let Some(v) = api_version {
                    map.insert("apiVersion".into(), v);
                }
                if let Some(v) = kind_field {
                    map.insert("kind".into(), v);
                }
            }
        }
        Schema::Structural(s) => walk_structural(s, body, "", true, &mut unknown),
    }
    unknown
}

/// The paths of keys that appear twice in one object of a JSON document (`data`,
/// `[0].op` in a JSON patch's list of operations).
pub fn duplicates(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    find_duplicates(raw, &mut out);
    out
}

/// A value as Go's `fmt` prints a decoded JSON value with `%+v` (`map[a:1 b:[x y]]`, keys
/// sorted), which is how the real server quotes a strategic merge patch in its errors.
pub fn go_format(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_format).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let pairs: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_format(&m[k])))
                .collect();
            format!("map[{}]", pairs.join(" "))
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Walk an object against a message layout, dropping (and recording) unknown fields. Keys
/// starting with `$` are strategic-merge-patch directives, not fields.
fn walk_message(message: &str, obj: &mut Map<String, Value>, path: &str, out: &mut Vec<String>) {
    if !protobuf::schema::schema().messages.contains_key(message) {
        return;
    }
    let mut unknown = Vec::new();
    for (key, value) in obj.iter_mut() {
        if key.starts_with('$') {
            continue;
        }
        let Some((_, field)) = protobuf::field_by_json_name(message, key) else {
            unknown.push(key.clone());
            out.push(join(path, key));
            continue;
        };
        let FieldType::Message(m) = &field.ty else {
            continue;
        };
        if protobuf::is_opaque(m) {
            continue;
        }
        let here = join(path, key);
        match (field.label, value) {
            (Label::Optional, Value::Object(o)) => walk_message(m, o, &here, out),
            (Label::Repeated, Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(o) = item {
                        walk_message(m, o, &format!("{here}[{i}]"), out);
                    }
                }
            }
            (Label::Map, Value::Object(entries)) => {
                for (k, item) in entries.iter_mut() {
                    if let Value::Object(o) = item {
                        walk_message(m, o, &join(&here, k), out);
                    }
                }
            }
            _ => {}
        }
    }
    for key in unknown {
        obj.remove(&key);
    }
}

/// Walk a value against a structural schema. At the root (and in embedded resources),
/// `apiVersion`, `kind` and `metadata` are implied; `metadata` follows ObjectMeta.
fn walk_structural(
    schema: &Value,
    value: &mut Value,
    path: &str,
    root: bool,
    out: &mut Vec<String>,
) {
    if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true)
        && schema.get("properties").is_none()
        && schema.get("additionalProperties").is_none()
        && schema.get("items").is_none()
    {
        return;
    }
    let embedded = root || schema["x-kubernetes-embedded-resource"] == Value::Bool(true);
    match value {
        Value::Object(obj) => {
            if let Some(props) = schema["properties"].as_object() {
                let preserve = schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true);
                let additional = &schema["additionalProperties"];
                let mut unknown = Vec::new();
                for (key, v) in obj.iter_mut() {
                    if embedded && (key == "apiVersion" || key == "kind") {
                        continue;
                    }
                    if embedded && key == "metadata" {
                        if let Value::Object(m) = v {
                            walk_message(OBJECT_META, m, &join(path, key), out);
                        }
                        continue;
                    }
                    match props.get(key) {
                        Some(s) => walk_structural(s, v, &join(path, key), false, out),
                        None if additional.is_object() => {
                            walk_structural(additional, v, &join(path, key), false, out)
                        }
                        None if preserve || additional == &Value::Bool(true) => {}
                        None if key.starts_with('$') => {}
                        None => {
                            unknown.push(key.clone());
                            out.push(join(path, key));
                        }
                    }
                }
                for key in unknown {
                    obj.remove(&key);
                }
            } else if schema["additionalProperties"].is_object() {
                for (key, v) in obj.iter_mut() {
                    walk_structural(
                        &schema["additionalProperties"],
                        v,
                        &join(path, key),
                        false,
                        out,
                    );
                }
            } else if embedded {
                if let Some(Value::Object(m)) = obj.get_mut("metadata") {
                    walk_message(OBJECT_META, m, &join(path, "metadata"), out);
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, item) in items.iter_mut().enumerate() {
                walk_structural(&schema["items"], item, &format!("{path}[{i}]"), false, out);
            }
        }
        _ => {}
    }
}

/// Record the path of every key that occurs twice in one JSON object. Malformed JSON records
/// nothing (the body decoder reports it).
fn find_duplicates(raw: &[u8], out: &mut Vec<String>) {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let _ = Dups { path: "", out }.deserialize(&mut de);
}

struct Dups<'p, 'o> {
    path: &'p str,
    out: &'o mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Dups<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Dups<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let here = join(self.path, &key);
            if !seen.insert(key) {
                self.out.push(here.clone());
            }
            map.next_value_seed(Dups {
                path: &here,
                out: self.out,
            })?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let here = format!("{}[{i}]", self.path);
            if seq
                .next_element_seed(Dups {
                    path: &here,
                    out: self.out,
                })?
                .is_none()
            {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc() -> Schema {
        Schema::builtin("v1", "Service").unwrap()
    }

    #[test]
    fn strict_names_unknown_fields_with_their_paths() {
        let mut body = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "x", "labelz": {}},
            "spec": {"loadBalancerIp": "1.2.3.4", "ports": [{"port": 80, "targetport": 80}]}});
        let err = check(&svc(), "Service", "v1", &mut body, None, Mode::Strict).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Service in version \"v1\" cannot be handled as a Service: strict decoding error: \
             unknown field \"metadata.labelz\", unknown field \"spec.loadBalancerIp\", \
             unknown field \"spec.ports[0].targetport\""
        );
    }

    #[test]
    fn warn_prunes_and_warns_ignore_prunes_silently() {
        let raw = br#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},
            "spec":{"type":"ClusterIP","type":"LoadBalancer","loadBalancerIp":"1.2.3.4"}}"#;
        let mut body: Value = serde_json::from_slice(raw).unwrap();
        let w = check(&svc(), "Service", "v1", &mut body, Some(raw), Mode::Warn).unwrap();
        assert_eq!(
            w,
            [
                "unknown field \"spec.loadBalancerIp\"",
                "duplicate field \"spec.type\""
            ]
        );
        assert_eq!(body["spec"], json!({"type": "LoadBalancer"}));
        let mut body: Value = serde_json::from_slice(raw).unwrap();
        let w = check(&svc(), "Service", "v1", &mut body, Some(raw), Mode::Ignore).unwrap();
        assert!(w.is_empty());
        assert_eq!(body["spec"], json!({"type": "LoadBalancer"}));
        let mut body: Value = serde_json::from_slice(raw).unwrap();
        let err = check(&svc(), "Service", "v1", &mut body, Some(raw), Mode::Strict).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("unknown field \"spec.loadBalancerIp\", duplicate field \"spec.type\""),
            "{err}"
        );
    }

    #[test]
    fn known_fields_maps_and_special_types_pass() {
        let mut body = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"a": "b"}, "annotations": {"k": "v"},
                "creationTimestamp": null},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                    "volumes": [{"name": "v", "configMap": {"name": "c", "defaultMode": 420}},
                                {"name": "e", "emptyDir": {}}],
                    "containers": [
                    {"name": "c", "image": "i", "resources": {"limits": {"cpu": "1"}},
                     "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}],
                     "livenessProbe": {"httpGet": {"port": 80}, "periodSeconds": 5},
                     "ports": [{"containerPort": 80}]}]}}},
            "status": {}});
        let before = body.clone();
        let d = Schema::builtin("apps/v1", "Deployment").unwrap();
        let w = check(&d, "Deployment", "apps/v1", &mut body, None, Mode::Strict).unwrap();
        assert!(w.is_empty());
        assert_eq!(body, before);
    }

    #[test]
    fn structural_schemas_of_crds() {
        let crd = json!({"spec": {"versions": [{"name": "v1beta1", "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "addresses": {"type": "array", "items": {"type": "string"}},
                    "autoAssign": {"type": "boolean"},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "status": {"type": "object"}}}}}]}});
        let s = Schema::from_crd(&crd, "v1beta1").unwrap();
        let mut body = json!({"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "p", "namespace": "metallb-system"},
            "spec": {"addresses": ["10.0.0.0/24"], "autoassign": false,
                "extra": {"anything": 1}, "labels": {"a": "b"}}});
        let err = check(
            &s,
            "IPAddressPool",
            "metallb.io/v1beta1",
            &mut body.clone(),
            None,
            Mode::Strict,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("unknown field \"spec.autoassign\""),
            "{err}"
        );
        let w = check(
            &s,
            "IPAddressPool",
            "metallb.io/v1beta1",
            &mut body,
            None,
            Mode::Warn,
        )
        .unwrap();
        assert_eq!(w, ["unknown field \"spec.autoassign\""]);
        assert!(body["spec"].get("autoassign").is_none());
        assert_eq!(body["spec"]["extra"]["anything"], 1);
    }

    #[test]
    fn bad_modes_are_400() {
        assert!(Mode::parse(Some("strict")).is_err());
        assert_eq!(Mode::parse(None).unwrap(), Mode::Warn);
    }

    #[test]
    fn go_format_is_gos_percent_plus_v_of_a_decoded_patch() {
        let v = serde_json::json!({"spec": {"b": [1, "x", null, true], "a": 1.5}, "m": {}});
        assert_eq!(
            go_format(&v),
            "map[m:map[] spec:map[a:1.5 b:[1 x <nil> true]]]"
        );
    }

    #[test]
    fn duplicates_of_a_json_patch_are_found_by_operation() {
        let raw = br#"[{"op":"add","path":"/a"},{"op":"add","op":"remove","path":"/b"}]"#;
        assert_eq!(duplicates(raw), vec!["[1].op".to_string()]);
        assert!(duplicates(br#"{"a":{"b":1},"c":{"b":2}}"#).is_empty());
    }
}
