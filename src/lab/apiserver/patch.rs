//! Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
//! patch with the merge keys and directives kubectl sends. Pure functions over JSON values.

use serde_json::{Map, Value};

use super::error::ApiError;

/// The patch types this server accepts, by request Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchKind {
    /// The patch type for a Content-Type header value.
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(PatchKind::Apply),
            _ => Err(ApiError::UnsupportedMediaType(
                "application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml, application/strategic-merge-patch+json"
                    .into(),
            )),
        }
    }
}

/// A patch as received: its type and its decoded body.
#[derive(Debug, Clone, Copy)]
pub struct PatchRequest<'a> {
    pub kind: PatchKind,
    pub body: &'a Value,
}

/// RFC 7386: maps merge recursively, `null` deletes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The merge key of a list field, as in Kubernetes' `patchMergeKey` tags. `sample` is an item
/// of the list, used where the same field name has different keys (container vs service ports).
fn merge_key(field: &str, sample: Option<&Value>) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" | "volumeDevices" => Some("mountPath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" => match sample {
            Some(item) if item.get("containerPort").is_some() => Some("containerPort"),
            Some(item) if item.get("port").is_some() => Some("port"),
            _ => None,
        },
        _ => None,
    }
}

/// Strategic merge patch as kubectl sends it.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let Value::Object(patch_map) = patch else {
        return Err(ApiError::BadRequest(
            "strategic merge patch must be a JSON object".into(),
        ));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    smp_map(target, patch_map)
}

fn smp_map(target: &mut Value, patch: &Map<String, Value>) -> Result<(), ApiError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replaced = patch.clone();
            replaced.remove("$patch");
            *target = Value::Object(replaced);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        _ => {}
    }
    let Value::Object(t) = target else {
        return Ok(());
    };
    let mut orders = Vec::new();
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            orders.push((field.to_string(), v.clone()));
        } else if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            delete_from_primitive_list(t, field, v);
        } else if k.starts_with('$') {
            // $retainKeys and other directives: handled below or ignored.
        } else if v.is_null() {
            t.remove(k);
        } else {
            smp_field(t, k, v)?;
        }
    }
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (field, order) in orders {
        apply_order(t, &field, &order);
    }
    Ok(())
}

fn smp_field(t: &mut Map<String, Value>, k: &str, v: &Value) -> Result<(), ApiError> {
    match v {
        Value::Object(pm) => {
            let slot = t.entry(k.to_string()).or_insert(Value::Null);
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            smp_map(slot, pm)?;
            if slot.is_null() {
                t.remove(k);
            }
        }
        Value::Array(items) => {
            let key = merge_key(k, items.iter().find(|i| i.is_object()));
            match (key, t.get_mut(k)) {
                (Some(key), Some(Value::Array(existing))) => merge_list(existing, items, key)?,
                _ => {
                    let cleaned: Vec<Value> = items
                        .iter()
                        .filter(|i| i.get("$patch").is_none())
                        .cloned()
                        .collect();
                    t.insert(k.to_string(), Value::Array(cleaned));
                }
            }
        }
        other => {
            t.insert(k.to_string(), other.clone());
        }
    }
    Ok(())
}

fn merge_list(existing: &mut Vec<Value>, items: &[Value], key: &str) -> Result<(), ApiError> {
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        existing.retain(|_| false);
        existing.extend(items.iter().filter(|i| i.get("$patch").is_none()).cloned());
        return Ok(());
    }
    // A container port is identified by port and protocol (server-side apply's list-map keys),
    // so MetalLB's memberlist 7946/TCP and 7946/UDP stay two entries.
    let protocol = |v: &Value| -> Option<String> {
        (key == "containerPort").then(|| {
            v.get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("TCP")
                .to_string()
        })
    };
    for item in items {
        let id = item.get(key);
        let pos = id.and_then(|id| {
            existing
                .iter()
                .position(|e| e.get(key) == Some(id) && protocol(e) == protocol(item))
        });
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(p), true) => {
                existing.remove(p);
            }
            (None, true) => {}
            (Some(p), false) => {
                if let (Value::Object(pm), Some(slot)) = (item, existing.get_mut(p)) {
                    smp_map(slot, pm)?;
                }
            }
            (None, false) => existing.push(item.clone()),
        }
    }
    Ok(())
}

fn delete_from_primitive_list(t: &mut Map<String, Value>, field: &str, values: &Value) {
    if let (Some(Value::Array(list)), Value::Array(remove)) = (t.get_mut(field), values) {
        list.retain(|v| !remove.contains(v));
    }
}

/// Reorder a list after `$setElementOrder/<field>`: listed items first, in the given order.
fn apply_order(t: &mut Map<String, Value>, field: &str, order: &Value) {
    let (Some(Value::Array(list)), Value::Array(order)) = (t.get_mut(field), order) else {
        return;
    };
    let rank = |item: &Value| {
        order.iter().position(|o| match o {
            Value::Object(keys) => keys.iter().all(|(k, v)| item.get(k) == Some(v)),
            prim => prim == item,
        })
    };
    let mut ranked: Vec<(usize, Value)> = list
        .drain(..)
        .map(|item| (rank(&item).unwrap_or(usize::MAX), item))
        .collect();
    ranked.sort_by_key(|(r, _)| *r);
    list.extend(ranked.into_iter().map(|(_, v)| v));
}

/// Split a JSON pointer into unescaped tokens.
fn pointer_tokens(path: &str) -> Result<Vec<String>, ApiError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| ApiError::BadRequest(format!("invalid JSON pointer: {path:?}")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, ApiError> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(move |i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| ApiError::BadRequest(format!("jsonpatch: path segment {t:?} not found")))?;
    }
    Ok(cur)
}

fn json_add(doc: &mut Value, path: &str, value: Value) -> Result<(), ApiError> {
    let tokens = pointer_tokens(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parents)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
        }
        Value::Array(a) if last == "-" => a.push(value),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i <= a.len() => a.insert(i, value),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "jsonpatch add: bad index {last}"
                )))
            }
        },
        _ => {
            return Err(ApiError::BadRequest(format!(
                "jsonpatch add: no parent for {path}"
            )))
        }
    }
    Ok(())
}

fn json_remove(doc: &mut Value, path: &str) -> Result<Value, ApiError> {
    let tokens = pointer_tokens(path)?;
    let (last, parents) = tokens
        .split_last()
        .ok_or_else(|| ApiError::BadRequest("jsonpatch remove: cannot remove the root".into()))?;
    let removed = match parent_mut(doc, parents)? {
        Value::Object(m) => m.remove(last),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Some(a.remove(i)),
            _ => None,
        },
        _ => None,
    };
    removed.ok_or_else(|| ApiError::BadRequest(format!("jsonpatch remove: {path} not found")))
}

fn json_get(doc: &Value, path: &str) -> Result<Value, ApiError> {
    doc.pointer(path)
        .cloned()
        .ok_or_else(|| ApiError::BadRequest(format!("jsonpatch: {path} not found")))
}

/// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::BadRequest("json patch must be an array of operations".into()))?;
    for op in ops {
        let path = op["path"].as_str().unwrap_or_default();
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ApiError::BadRequest("jsonpatch: missing value".into()))
        };
        let from = || op["from"].as_str().unwrap_or_default();
        match op["op"].as_str().unwrap_or_default() {
            "add" => json_add(doc, path, value()?)?,
            "remove" => drop(json_remove(doc, path)?),
            "replace" => {
                json_remove(doc, path)?;
                json_add(doc, path, value()?)?;
            }
            "move" => {
                let v = json_remove(doc, from())?;
                json_add(doc, path, v)?;
            }
            "copy" => {
                let v = json_get(doc, from())?;
                json_add(doc, path, v)?;
            }
            "test" => {
                if json_get(doc, path)? != value()? {
                    return Err(ApiError::Invalid {
                        kind: "JSONPatch".into(),
                        name: String::new(),
                        causes: format!("test operation failed at {path}"),
                    });
                }
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "jsonpatch: unsupported operation {other:?}"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn smp_merges_containers_by_name_and_orders() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b:1"}]}}}});
        let p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}]}]}}}});
        assert!(strategic_merge(&mut d, &p).is_ok());
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["name"], "b");
        assert_eq!(c[1]["image"], "a:2");
        assert_eq!(c[1]["env"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn smp_delete_directives_and_null() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
                           "spec": {"ports": [{"port": 80}, {"port": 443}], "finalizers": ["x", "y"]}});
        let p = json!({"metadata": {"labels": {"a": null}},
                       "spec": {"ports": [{"port": 443, "$patch": "delete"}],
                                "$deleteFromPrimitiveList/finalizers": ["x"]}});
        assert!(strategic_merge(&mut d, &p).is_ok());
        assert_eq!(d["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(d["spec"]["ports"], json!([{"port": 80}]));
        assert_eq!(d["spec"]["finalizers"], json!(["y"]));
    }

    #[test]
    fn merge_and_json_patch() {
        let mut d = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut d, &json!({"a": {"b": null, "d": 3}}));
        assert_eq!(d["a"], json!({"c": 2, "d": 3}));
        let ops = json!([{"op": "add", "path": "/l/-", "value": 3},
                         {"op": "replace", "path": "/a/c", "value": 9},
                         {"op": "test", "path": "/a/c", "value": 9},
                         {"op": "move", "from": "/a/d", "path": "/e"}]);
        assert!(json_patch(&mut d, &ops).is_ok());
        assert_eq!(d, json!({"a": {"c": 9}, "l": [1, 2, 3], "e": 3}));
        assert!(json_patch(&mut d, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }

    #[test]
    fn container_ports_are_keyed_by_port_and_protocol() {
        let ports = json!([{"containerPort": 7946, "name": "tcp"},
                           {"containerPort": 7946, "name": "udp", "protocol": "UDP"}]);
        let mut d = json!({"spec": {"ports": ports.clone()}});
        strategic_merge(&mut d, &json!({"spec": {"ports": ports.clone()}})).unwrap();
        assert_eq!(d["spec"]["ports"], ports);
    }
}
