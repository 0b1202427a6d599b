//! The pods proxy subresource, `GET /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy/PATH`, as far
//! as status readers need it (speaker metrics). Pods in the lab have virtual IPs, so the runtime
//! records where a container port really listens as the pod annotation
//! `lab.metallbctl.io/port-<PORT>: 127.0.x.y:NNNNN`; the proxy forwards a plain HTTP/1.0 GET
//! there (loopback only, with a timeout) and relays status, content type and body.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use serde_json::Value;

use super::error::ApiError;
use super::rest::App;

/// Annotation prefix the runtime sets on a pod for each container port that really listens.
pub const PORT_ANNOTATION_PREFIX: &str = "lab.metallbctl.io/port-";

/// Where each of a pod's ports really listens.
pub type Ports = BTreeMap<u16, SocketAddr>;

/// The ports the runtime recorded on `pod`, loopback only.
pub fn ports_of(pod: &Value) -> Ports {
    pod["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let port = k
                .strip_prefix(PORT_ANNOTATION_PREFIX)?
                .parse::<u16>()
                .ok()?;
            let addr = v.as_str()?.parse::<SocketAddr>().ok()?;
            addr.ip().is_loopback().then_some((port, addr))
        })
        .collect()
}

/// How long a proxied request may take in all.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest proxied answer relayed.
const MAX_ANSWER: u64 = 8 * 1024 * 1024;

/// `NAME`, `NAME:PORT` or `SCHEME:NAME:PORT` (kubectl's forms); only http is served.
fn split_target(target: &str) -> Result<(&str, Option<u16>), ApiError> {
    let parts: Vec<&str> = target.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, port] => (*name, Some(*port)),
        ["http" | "", name, port] => (*name, Some(*port)),
        _ => {
            return Err(ApiError::BadRequest(format!(
                "invalid pod proxy target {target:?}: only http is supported"
            )))
        }
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| {
            ApiError::BadRequest(format!("invalid port {p:?} in pod proxy target"))
        })?),
    };
    Ok((name, port))
}

/// The handler.
pub async fn pod(
    State(app): State<App>,
    Path((ns, target, path)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    match forward(&app, &ns, &target, &path, query.as_deref()).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn forward(
    app: &App,
    ns: &str,
    target: &str,
    path: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let (name, port) = split_target(target)?;
    let def = app
        .store
        .registry()
        .find("", "v1", "pods")
        .ok_or(ApiError::NoRoute)?;
    let pod = app.store.get(&def, Some(ns), name)?;
    let port = match port {
        Some(p) => p,
        None => pod["spec"]["containers"][0]["ports"][0]["containerPort"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| {
                ApiError::BadRequest(format!("pod {name} has no port to proxy to; name one"))
            })?,
    };
    let Some(addr) = ports_of(&pod).get(&port).copied() else {
        return Ok(unavailable(format!(
            "error trying to reach service: nothing listens on port {port} of pod {ns}/{name}"
        )));
    };
    let mut request_path = format!("/{path}");
    if let Some(q) = query {
        request_path.push('?');
        request_path.push_str(q);
    }
    match tokio::time::timeout(TIMEOUT, get(addr, &request_path)).await {
        Ok(Ok((status, content_type, body))) => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, content_type)],
            body,
        )
            .into_response()),
        Ok(Err(e)) => Ok(unavailable(format!(
            "error trying to reach service: dial tcp {addr}: {e}"
        ))),
        Err(_) => Ok(unavailable(format!(
            "error trying to reach service: {addr}: timed out after {}s",
            TIMEOUT.as_secs()
        ))),
    }
}

fn unavailable(message: String) -> Response {
    let status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": "ServiceUnavailable", "code": 503,
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/json".to_string())],
        status.to_string(),
    )
        .into_response()
}

/// One HTTP/1.0 GET; the server closes the connection after the answer.
async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n").as_bytes())
        .await?;
    let mut raw = Vec::new();
    s.take(MAX_ANSWER).read_to_end(&mut raw).await?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(bad)?;
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "text/plain".to_string());
    Ok((status, content_type, raw[split + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("speaker-x").unwrap(), ("speaker-x", None));
        assert_eq!(
            split_target("speaker-x:7472").unwrap(),
            ("speaker-x", Some(7472))
        );
        assert_eq!(
            split_target("http:speaker-x:7472").unwrap(),
            ("speaker-x", Some(7472))
        );
        assert!(split_target("https:speaker-x:7472").is_err());
        assert!(split_target("speaker-x:http").is_err());
    }
}
