//! Object metadata helpers: uids, timestamps, names, resourceVersions and generations.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::resources::ResourceDef;

/// Random bytes from the OS; a zeroed buffer if the OS has none to give (never panics).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let _ = getrandom::fill(&mut buf);
    buf
}

/// A random RFC 4122 version 4 UUID string.
pub fn new_uid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A random lowercase alphanumeric suffix, as used for generateName.
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    random_bytes::<16>()
        .iter()
        .take(len)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Now, as Kubernetes writes timestamps: RFC 3339 in UTC with whole seconds.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

/// Seconds elapsed since an RFC 3339 timestamp, if it parses.
pub fn age_seconds(ts: &str) -> Option<i64> {
    let then: jiff::Timestamp = ts.parse().ok()?;
    Some(jiff::Timestamp::now().as_second() - then.as_second())
}

/// The `metadata` map of an object, created if missing.
pub fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

/// A string field of `metadata`, or "".
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or_default()
}

/// The object's resourceVersion as a number (0 if absent or malformed).
pub fn resource_version(obj: &Value) -> u64 {
    meta_str(obj, "resourceVersion").parse().unwrap_or(0)
}

/// Set `metadata.resourceVersion`.
pub fn set_resource_version(obj: &mut Value, rv: u64) {
    if let Some(m) = meta_mut(obj) {
        m.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

/// Put the served apiVersion and kind on an object; a different kind is a client error.
pub fn stamp_type(obj: &mut Value, def: &ResourceDef) -> Result<(), ApiError> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::BadRequest(
            "the request body must be a JSON or YAML object".into(),
        ));
    };
    if let Some(kind) = map.get("kind").and_then(Value::as_str) {
        if kind != def.kind && !kind.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "the kind of the provided object ({kind}) does not match the resource ({})",
                def.qualified()
            )));
        }
    }
    map.insert("apiVersion".into(), Value::String(def.api_version()));
    map.insert("kind".into(), Value::String(def.kind.clone()));
    Ok(())
}

const SUBDOMAIN_HELP: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn is_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Check an object's name. Core and apps kinds need DNS subdomains; all need a path-safe name.
pub fn validate_name(def: &ResourceDef, name: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| ApiError::Invalid {
        kind: def.kind.clone(),
        name: name.to_string(),
        causes: format!("metadata.name: Invalid value: \"{name}\": {why}"),
    };
    if name.is_empty() {
        return Err(ApiError::Invalid {
            kind: def.kind.clone(),
            name: String::new(),
            causes: "metadata.name: Required value: name or generateName is required".into(),
        });
    }
    if name == "." || name == ".." || name.contains(['/', '%']) {
        return Err(invalid("may not contain '/' or '%'"));
    }
    let strict = matches!(def.group.as_str(), "" | "apps" | "discovery.k8s.io");
    if strict && !is_subdomain(name) {
        return Err(invalid(SUBDOMAIN_HELP));
    }
    Ok(())
}

/// Everything except metadata and status: a change here bumps `metadata.generation`.
pub fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

/// The object without its resourceVersion and managedFields, to detect no-op writes.
pub fn content_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = meta_mut(&mut v) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    v
}

/// Record a field manager in `metadata.managedFields` (one entry per manager and operation).
pub fn record_manager(obj: &mut Value, manager: &str, operation: &str, api_version: &str) {
    let Some(m) = meta_mut(obj) else { return };
    let entries = m
        .entry("managedFields")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(list) = entries else { return };
    list.retain(|e| !(e["manager"] == manager && e["operation"] == operation));
    list.push(serde_json::json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shape_and_names() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(is_subdomain("metallb-system"));
        assert!(is_subdomain("a.b-c"));
        assert!(!is_subdomain("Bad_Name"));
        assert!(!is_subdomain("-a"));
        assert!(now_rfc3339().ends_with('Z'));
        assert!(age_seconds(&now_rfc3339()).is_some_and(|s| s.abs() < 5));
    }
}
