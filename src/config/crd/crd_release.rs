//! One release's CustomResourceDefinitions from the newest types (`kube::crds`), as JSON: every `spec`
//! field newer than the release is dropped, by the same field tables `validate` decodes with
//! (`schema.rs`), and the few schema details that changed between releases are set back.

use serde_json::Value;

use super::model::*;
use crate::config::decode::{Field, Record};
use crate::config::Version;

/// The keys of a field table that `release` serves.
fn served<T: Record>(release: Version) -> Vec<&'static str> {
    keys(T::FIELDS, release)
}

fn keys<T>(fields: &[Field<T>], release: Version) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|f| f.since().is_some_and(|s| s <= release))
        .map(|f| f.key())
        .collect()
}

/// The `spec` keys of `kind` at `version` that `release` serves, per validate's tables; `None`
/// for kinds without a configuration spec (the status kinds).
pub fn spec_keys(kind: &str, version: &str, release: Version) -> Option<Vec<&'static str>> {
    Some(match (kind, version) {
        ("IPAddressPool", _) => served::<PoolSpec>(release),
        ("BGPPeer", "v1beta1") => served::<PeerSpecV1beta1>(release),
        ("BGPPeer", _) => served::<PeerSpec>(release),
        ("BGPAdvertisement", _) => served::<BgpAdvertisementSpec>(release),
        ("L2Advertisement", _) => served::<L2AdvertisementSpec>(release),
        ("Community", _) => served::<CommunitySpec>(release),
        ("BFDProfile", _) => served::<BfdSpec>(release),
        _ => return None,
    })
}

/// The schema node at `path` (property names from the root).
fn node<'a>(schema: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = schema;
    for p in path {
        cur = cur.get_mut("properties")?.get_mut(*p)?;
    }
    Some(cur)
}

fn set_required(schema: &mut Value, path: &[&str], key: &str, required: bool) {
    let Some(n) = node(schema, path) else { return };
    let mut list: Vec<Value> = n
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.retain(|v| v != key);
    if required {
        list.push(Value::from(key));
        list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    if list.is_empty() {
        if let Some(o) = n.as_object_mut() {
            o.remove("required");
        }
    } else {
        n["required"] = Value::from(list);
    }
}

/// What the derive writes differently from controller-gen, on every schema node: whole-number
/// bounds as integers (schemars writes `2.0`), no `null` among an optional enum's values.
fn normalize(schema: &mut Value) {
    let Some(o) = schema.as_object_mut() else {
        return;
    };
    for k in ["minimum", "maximum"] {
        if let Some(f) = o.get(k).and_then(Value::as_f64) {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                o.insert(k.into(), Value::from(f as i64));
            }
        }
    }
    if let Some(e) = o.get_mut("enum").and_then(Value::as_array_mut) {
        e.retain(|v| !v.is_null());
    }
    for (_, v) in o.iter_mut() {
        match v {
            Value::Object(_) => normalize(v),
            Value::Array(items) => items.iter_mut().for_each(normalize),
            _ => {}
        }
    }
}

/// `crd` (a CustomResourceDefinition as JSON, every version) as `release` serves it.
pub fn for_release(mut crd: Value, release: Version) -> Value {
    let kind = crd["spec"]["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    crd["spec"]["names"]["listKind"] = Value::from(format!("{kind}List"));
    let minor = release.minor;
    let Some(versions) = crd["spec"]["versions"].as_array_mut() else {
        return crd;
    };
    // Upstream lists versions oldest first.
    versions.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    for v in versions.iter_mut() {
        let version = v["name"].as_str().unwrap_or_default().to_string();
        let schema = &mut v["schema"]["openAPIV3Schema"];
        normalize(schema);
        // Like controller-gen: apiVersion and kind are declared, and only IPAddressPool
        // requires its spec.
        for k in ["apiVersion", "kind"] {
            schema["properties"][k] = serde_json::json!({"type": "string"});
        }
        set_required(schema, &[], "spec", kind == "IPAddressPool");
        if let Some(keep) = spec_keys(&kind, &version, release) {
            if let Some(spec) = node(schema, &["spec"]) {
                if let Some(p) = spec.get_mut("properties").and_then(Value::as_object_mut) {
                    p.retain(|k, _| keep.contains(&k.as_str()));
                }
            }
        }
        match (kind.as_str(), version.as_str()) {
            ("BGPPeer", _) => {
                // ASNs: uint32 declared as int32 until v0.16 switched to int64.
                if minor < 16 {
                    for f in ["myASN", "peerASN"] {
                        if let Some(n) = node(schema, &["spec", f]) {
                            n["format"] = Value::from("int32");
                        }
                    }
                }
                if version == "v1beta2" {
                    if minor < 15 {
                        if let Some(n) = node(schema, &["spec", "peerPort"]) {
                            n["minimum"] = Value::from(0);
                        }
                    }
                    set_required(schema, &["spec"], "peerASN", minor <= 13);
                    set_required(schema, &["spec"], "peerAddress", minor <= 14);
                }
            }
            ("BGPAdvertisement", _) if minor < 16 => {
                if let Some(spec) = node(schema, &["spec"]).and_then(Value::as_object_mut) {
                    spec.remove("x-kubernetes-validations");
                }
            }
            ("ConfigurationState", _) => {
                // No spec: the object is all status.
                if let Some(p) = schema["properties"].as_object_mut() {
                    p.remove("spec");
                }
            }
            ("IPAddressPool", _) if minor < 15 => {
                if let Some(status) = node(schema, &["status"]).and_then(Value::as_object_mut) {
                    status.remove("properties");
                    status.remove("required");
                }
            }
            _ => {}
        }
        // v1beta1 BGPPeer carries its deprecation from v0.14.9 on.
        if kind == "BGPPeer" && version == "v1beta1" && minor < 14 {
            if let Some(o) = v.as_object_mut() {
                o.remove("deprecated");
                o.remove("deprecationWarning");
            }
        }
    }
    crd
}
