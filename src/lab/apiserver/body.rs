//! Request bodies: size limits and decoding of JSON, YAML or Kubernetes protobuf into JSON values, with a 400 Status
//! (never a panic) for anything malformed.

use axum::body::{Body, Bytes};
use serde_json::Value;

use super::error::ApiError;
use super::protobuf::{self, ProtoError};

/// Read a whole body, refusing more than `limit` bytes.
pub async fn read(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge(limit))
}

fn is_yaml(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    base.ends_with("yaml")
}

/// Decode a body as JSON, or as YAML when the Content-Type says so.
pub fn decode(bytes: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    if protobuf::is_protobuf(content_type) {
        return protobuf::decode(bytes).map_err(|e| match e {
            ProtoError::UnknownKind { .. } | ProtoError::ContentEncoding(_) => {
                ApiError::UnsupportedKind(e.to_string())
            }
            e => ApiError::BadRequest(format!("error decoding protobuf body: {e}")),
        });
    }
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::UnsupportedMediaType(
            "application/json, application/yaml, application/vnd.kubernetes.protobuf (the lab API \
             server does not speak CBOR; use kubectl apply -f or create -f)"
                .into(),
        ));
    }
    if is_yaml(content_type) {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not UTF-8: {e}")))?;
        serde_yaml::from_str::<Value>(text)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))
    } else {
        serde_json::from_slice::<Value>(bytes)
            .map_err(|e| ApiError::BadRequest(format!("json parse error: {e}")))
    }
}

/// Decode an optional body (DELETE options): empty means `None`.
pub fn decode_optional(bytes: &[u8], content_type: &str) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    decode(bytes, content_type).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_are_400() {
        for (b, ct) in [
            ("{", "application/json"),
            (": :\n- [", "application/apply-patch+yaml"),
            ("", "application/json"),
        ] {
            assert_eq!(
                decode(b.as_bytes(), ct).err().map(|e| e.code()),
                Some(400),
                "{b}"
            );
        }
        assert!(decode(b"a: 1", "application/yaml").is_ok_and(|v| v["a"] == 1));
    }
}
