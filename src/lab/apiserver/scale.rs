//! The `scale` subresource of Deployments and ReplicaSets (`kubectl scale`): an
//! autoscaling/v1 Scale view of `spec.replicas`, read and written through the store.

use serde_json::{json, Value};

use super::error::ApiError;
use super::patch::{self, PatchKind, PatchRequest};
use super::resources::ResourceDef;
use super::store::{Store, Subresource, WriteOptions};

/// Does this resource have a scale subresource?
pub fn has_scale(def: &ResourceDef) -> bool {
    def.group == "apps" && matches!(def.plural.as_str(), "deployments" | "replicasets")
}

fn selector(obj: &Value) -> String {
    obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The Scale view of an object.
pub fn to_scale(obj: &Value) -> Value {
    let m = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
                     "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector(obj)},
    })
}

/// GET .../scale.
pub fn get(
    store: &Store,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
) -> Result<Value, ApiError> {
    let obj = store.get(def, ns, name)?;
    Ok(to_scale(&obj))
}

/// PUT (when `kind` is `None`) or PATCH .../scale: compute the new Scale, write its replicas.
pub fn update(
    store: &Store,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
    kind: Option<PatchKind>,
    body: &Value,
) -> Result<Value, ApiError> {
    let current = store.get(def, ns, name)?;
    let mut scale = to_scale(&current);
    match kind {
        None => scale = body.clone(),
        Some(PatchKind::Json) => patch::json_patch(&mut scale, body)?,
        Some(PatchKind::Strategic | PatchKind::Apply) => patch::strategic_merge(&mut scale, body)?,
        Some(PatchKind::Merge) => patch::merge_patch(&mut scale, body),
    }
    let replicas = scale["spec"]["replicas"]
        .as_i64()
        .filter(|r| *r >= 0)
        .ok_or_else(|| ApiError::Invalid {
            kind: "Scale".into(),
            name: name.to_string(),
            causes: "spec.replicas: Invalid value: must be greater than or equal to 0".into(),
        })?;
    let mut change = json!({"spec": {"replicas": replicas}});
    if let Some(rv) = scale["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
    {
        change["metadata"] = json!({"resourceVersion": rv});
    }
    let req = PatchRequest {
        kind: PatchKind::Merge,
        body: &change,
    };
    let (updated, _) = store.patch(
        def,
        ns,
        name,
        req,
        Subresource::Main,
        &WriteOptions::default(),
    )?;
    Ok(to_scale(&updated))
}
