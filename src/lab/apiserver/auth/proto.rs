//! Protobuf bodies of the review requests. kubectl sends `auth can-i` and `auth whoami`
//! reviews as `application/vnd.kubernetes.protobuf`: the `k8s\0` magic, then a
//! `runtime.Unknown` whose field 2 holds the object. Only the few string fields the reviews
//! carry are read (field numbers from `k8s.io/api/authorization/v1/generated.proto`), so this
//! is a reader for these kinds, not a general decoder; anything malformed is a 400.

use serde_json::{json, Map, Value};

use crate::lab::apiserver::error::ApiError;

const MAGIC: &[u8] = b"k8s\0";

fn bad(what: &str) -> ApiError {
    ApiError::BadRequest(format!("malformed protobuf body: {what}"))
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(bad("varint too long"))
}

/// The length-delimited fields of one message, in order: (field number, bytes). Varint and
/// fixed-width fields are skipped.
fn fields(buf: &[u8]) -> Result<Vec<(u64, &[u8])>, ApiError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => pos += 8,
            5 => pos += 4,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| bad("length"))?;
                let end = pos.checked_add(len).ok_or_else(|| bad("length"))?;
                let bytes = buf.get(pos..end).ok_or_else(|| bad("truncated field"))?;
                out.push((field, bytes));
                pos = end;
            }
            _ => return Err(bad("unsupported wire type")),
        }
        if pos > buf.len() {
            return Err(bad("truncated field"));
        }
    }
    Ok(out)
}

fn field(buf: &[u8], n: u64) -> Result<Option<&[u8]>, ApiError> {
    Ok(fields(buf)?
        .into_iter()
        .rev()
        .find(|(f, _)| *f == n)
        .map(|(_, b)| b))
}

/// A message of string fields as a JSON object: field number -> name.
fn strings(buf: &[u8], names: &[(u64, &str)]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    for (f, bytes) in fields(buf)? {
        if let Some((_, name)) = names.iter().find(|(n, _)| *n == f) {
            let s = std::str::from_utf8(bytes).map_err(|_| bad("string is not UTF-8"))?;
            m.insert((*name).into(), json!(s));
        }
    }
    Ok(Value::Object(m))
}

const RESOURCE_ATTRIBUTES: &[(u64, &str)] = &[
    (1, "namespace"),
    (2, "verb"),
    (3, "group"),
    (4, "version"),
    (5, "resource"),
    (6, "subresource"),
    (7, "name"),
];
const NON_RESOURCE_ATTRIBUTES: &[(u64, &str)] = &[(1, "path"), (2, "verb")];

/// Decode a review body: `{"kind", "apiVersion", "spec"}` in JSON form.
pub fn decode_review(body: &[u8]) -> Result<Value, ApiError> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("missing the k8s envelope"))?;
    let type_meta = strings(
        field(unknown, 1)?.unwrap_or_default(),
        &[(1, "apiVersion"), (2, "kind")],
    )?;
    let raw = field(unknown, 2)?.unwrap_or_default();
    let kind = type_meta["kind"].as_str().unwrap_or_default().to_string();
    let spec_bytes = field(raw, 2)?.unwrap_or_default();
    let spec = match kind.as_str() {
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let mut spec = json!({});
            for (f, bytes) in fields(spec_bytes)? {
                let text = || {
                    std::str::from_utf8(bytes)
                        .map(|s| json!(s))
                        .map_err(|_| bad("string is not UTF-8"))
                };
                match f {
                    1 => spec["resourceAttributes"] = strings(bytes, RESOURCE_ATTRIBUTES)?,
                    2 => spec["nonResourceAttributes"] = strings(bytes, NON_RESOURCE_ATTRIBUTES)?,
                    // SubjectAccessReviewSpec: user = 3, groups = 4 (repeated), uid = 6.
                    3 if kind != "SelfSubjectAccessReview" => spec["user"] = text()?,
                    4 if kind != "SelfSubjectAccessReview" => {
                        let g = text()?;
                        match spec["groups"].as_array_mut() {
                            Some(a) => a.push(g),
                            None => spec["groups"] = json!([g]),
                        }
                    }
                    6 if kind != "SelfSubjectAccessReview" => spec["uid"] = text()?,
                    _ => {}
                }
            }
            spec
        }
        "SelfSubjectRulesReview" => strings(spec_bytes, &[(1, "namespace")])?,
        "SelfSubjectReview" => json!({}),
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "application/json (the lab decodes protobuf review bodies only, not {other})"
            )))
        }
    };
    Ok(json!({"kind": kind, "apiVersion": type_meta["apiVersion"], "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(field << 3) | 2, u8::try_from(bytes.len()).unwrap_or(0)];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_self_subject_access_review() {
        let attrs = [ld(2, b"list"), ld(5, b"services"), ld(1, b"default")].concat();
        let spec = ld(1, &attrs);
        let raw = [ld(1, b""), ld(2, &spec)].concat();
        let type_meta = [
            ld(1, b"authorization.k8s.io/v1"),
            ld(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &raw), ld(3, b"")].concat();
        let v = decode_review(&body).expect("decodes");
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"verb": "list", "resource": "services", "namespace": "default"})
        );
        assert!(decode_review(b"k8s\0\x0a\xff").is_err());
        assert!(decode_review(b"{}").is_err());
    }
}
