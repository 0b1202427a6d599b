//! Query parameters of resource requests: decoding, selectors, paging tokens, write and
//! delete options.

use axum::http::Uri;
use serde_json::Value;

use super::admission::UserInfo;
use super::error::ApiError;
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{ListQuery, Propagation, WriteOptions};

/// Query parameters, decoded.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decode the query of a URI (tolerates a leading `&` and bare `?`, as kube-rs sends).
    pub fn parse(uri: &Uri) -> Self {
        let q = uri.query().unwrap_or_default();
        let pairs = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Params(pairs)
    }

    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true` or `1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The write options of a create, update or patch.
pub fn write_options(params: &Params) -> WriteOptions {
    WriteOptions {
        field_manager: params.get("fieldManager").map(String::from),
        force: params.flag("force"),
        dry_run: params.get("dryRun").is_some_and(|d| !d.is_empty()),
        user: UserInfo::token_holder(),
    }
}

/// The namespace, selectors and paging of a list or watch.
pub fn list_query(namespace: Option<String>, params: &Params) -> Result<ListQuery, ApiError> {
    let continue_after = match params.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    Ok(ListQuery {
        namespace,
        labels: LabelSelector::parse(params.get("labelSelector").unwrap_or_default())?,
        fields: FieldSelector::parse(params.get("fieldSelector").unwrap_or_default())?,
        limit: params.get("limit").and_then(|l| l.parse().ok()),
        continue_after,
    })
}

/// Continue tokens are the hex of `namespace/name` of the last item returned.
pub fn encode_continue(key: &(String, String)) -> String {
    format!("{}/{}", key.0, key.1)
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::BadRequest(format!("continue key is not valid: {token}"));
    let bytes: Result<Vec<u8>, _> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .ok_or(())
                .and_then(|h| u8::from_str_radix(h, 16).map_err(|_| ()))
        })
        .collect();
    let text = String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())?;
    let (ns, name) = text.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

/// The propagation policy of a delete, from the query or the DeleteOptions body.
pub fn propagation(params: &Params, options: Option<&Value>) -> Result<Propagation, ApiError> {
    let from_body = options.and_then(|o| o["propagationPolicy"].as_str());
    let orphan = options.and_then(|o| o["orphanDependents"].as_bool()) == Some(true);
    match params.get("propagationPolicy").or(from_body) {
        Some("Orphan") => Ok(Propagation::Orphan),
        Some("Foreground") => Ok(Propagation::Foreground),
        Some("Background") | Some("") => Ok(Propagation::Background),
        None if orphan => Ok(Propagation::Orphan),
        None => Ok(Propagation::Background),
        Some(other) => Err(ApiError::BadRequest(format!(
            "unknown propagationPolicy {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_continue_decoding() {
        assert_eq!(
            percent_decode("involvedObject.name%3Dnginx%2Cx%3Dy"),
            "involvedObject.name=nginx,x=y"
        );
        assert_eq!(percent_decode("100%"), "100%");
        let k = ("ns".to_string(), "a-b".to_string());
        assert!(decode_continue(&encode_continue(&k)).is_ok_and(|d| d == k));
        assert!(decode_continue("zz").is_err());
    }
}
