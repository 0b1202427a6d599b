//! `exec` on a pod over kubectl's WebSocket channel protocols (`v5.channel.k8s.io`, else
//! `v4.channel.k8s.io`): every message is one channel byte and data; 1 is stdout, 2 stderr,
//! 3 the final Status (success, or the exit code); v5 adds 255, with which the client closes
//! its stdin (the lab takes no stdin, so it needs no more than v4 from v5). kubectl 1.32
//! tries this first and falls back to SPDY only when the upgrade fails, so SPDY is not needed.
//!
//! What a container runs is not the server's business: the lab runtime installs a
//! [`PodSessions`] in the server's [`Sessions`] slot and answers each command. Without one
//! (an API server on its own) exec says the lab has no containers.

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::error::ApiError;
use super::store::Store;
use super::websocket::{self, Message, WebSocket};

/// The channel protocols served, best first.
pub const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;

/// One command to run in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub image: String,
    pub command: Vec<String>,
}

/// What the command wrote, and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// Runs commands in the lab's containers.
pub trait PodSessions: Send + Sync {
    /// Run `req.command`; `Err` is a message for the user (the container cannot run it).
    fn exec(&self, req: ExecRequest) -> BoxFuture<'static, Result<ExecOutput, String>>;
}

/// The server's slot for the runtime's [`PodSessions`], filled once the runtime runs.
#[derive(Clone, Default)]
pub struct Sessions(Arc<RwLock<Option<Arc<dyn PodSessions>>>>);

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let installed = self.get().is_some();
        f.debug_struct("Sessions")
            .field("installed", &installed)
            .finish()
    }
}

impl Sessions {
    /// Answer exec with `s` from now on.
    pub fn install(&self, s: Arc<dyn PodSessions>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(s);
        }
    }

    fn get(&self) -> Option<Arc<dyn PodSessions>> {
        self.0.read().ok().and_then(|s| s.clone())
    }
}

/// The query of an exec request: `command` repeats.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                super::query::percent_decode(k),
                super::query::percent_decode(v),
            )
        })
        .collect()
}

/// The container an exec names, checked against the pod; kubectl always sends one.
fn container_of(
    pod: &Value,
    name: &str,
    wanted: Option<&str>,
) -> Result<(String, String), ApiError> {
    let containers: Vec<(&str, &str)> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?, c["image"].as_str().unwrap_or_default())))
        .collect();
    let pick =
        match wanted.filter(|w| !w.is_empty()) {
            Some(w) => containers.iter().find(|(n, _)| *n == w).ok_or_else(|| {
                ApiError::BadRequest(format!("container {w} is not valid for pod {name}"))
            })?,
            None => {
                match containers.as_slice() {
                    [only] => only,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
                )))
                    }
                }
            }
        };
    Ok((pick.0.to_string(), pick.1.to_string()))
}

/// The Status kubectl reads from the error channel at the end.
pub fn final_status(exit_code: i32) -> Value {
    if exit_code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: exit status {exit_code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
    })
}

fn failure(message: &str) -> Value {
    json!({"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500})
}

/// The exec handler: check the pod and container, upgrade, run, stream the answer.
pub async fn handle(
    store: &Store,
    sessions: Option<&Sessions>,
    namespace: &str,
    pod_name: &str,
    mut req: Request<Body>,
) -> Response {
    let Some(sessions) = sessions.and_then(Sessions::get) else {
        return super::rest::not_in_the_lab(namespace, pod_name, super::rest::PodSession::Exec)
            .into_response();
    };
    let pairs = query_pairs(req.uri().query().unwrap_or_default());
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let command: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let pods = store.registry().find("", "v1", "pods");
    let pod = match pods.map(|d| store.get(&d, Some(namespace), pod_name)) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return e.into_response(),
        None => return ApiError::NoRoute.into_response(),
    };
    let (container, image) = match container_of(&pod, pod_name, get("container")) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if command.is_empty() {
        return ApiError::BadRequest("you must specify at least 1 command".into()).into_response();
    }
    if get("stdin").is_some_and(|v| v == "true" || v == "1")
        || get("tty").is_some_and(|v| v == "true" || v == "1")
    {
        // Interactive sessions would need a process to hold open; the lab answers one
        // command at a time.
        return ApiError::BadRequest(format!(
            "the metallbctl lab runs one command at a time in {container}: run `kubectl exec` without -i/-t"
        ))
        .into_response();
    }
    let headers: HeaderMap = req.headers().clone();
    let offered = websocket::offered_protocols(&headers);
    let protocol = PROTOCOLS
        .iter()
        .find(|p| offered.iter().any(|o| o == *p))
        .copied();
    let (true, Some(protocol)) = (websocket::is_upgrade(&headers), protocol) else {
        return ApiError::BadRequest(format!(
            "exec needs a WebSocket upgrade with one of the subprotocols {}",
            PROTOCOLS.join(", ")
        ))
        .into_response();
    };
    let Some(switching) = websocket::switching(&headers, protocol) else {
        return ApiError::BadRequest("missing Sec-WebSocket-Key".into()).into_response();
    };
    let upgrade = hyper::upgrade::on(&mut req);
    let exec = ExecRequest {
        namespace: namespace.into(),
        pod: pod_name.into(),
        container,
        image,
        command,
    };
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = WebSocket::new(TokioIo::new(upgraded));
        let result = sessions.exec(exec).await;
        let _ = stream(&mut ws, result).await;
    });
    switching
}

async fn stream<S>(ws: &mut WebSocket<S>, result: Result<ExecOutput, String>) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let status = match result {
        Ok(out) => {
            for (channel, data) in [(STDOUT, &out.stdout), (STDERR, &out.stderr)] {
                for chunk in data.chunks(32 * 1024) {
                    let mut msg = Vec::with_capacity(chunk.len() + 1);
                    msg.push(channel);
                    msg.extend_from_slice(chunk);
                    ws.send_binary(&msg).await?;
                }
            }
            final_status(out.exit_code)
        }
        Err(message) => failure(&message),
    };
    let mut msg = vec![ERROR];
    msg.extend(serde_json::to_vec(&status).unwrap_or_default());
    ws.send_binary(&msg).await?;
    ws.close().await?;
    // Wait for the client's close (or its hang-up), so it reads everything first.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Ok(Ok(m)) = tokio::time::timeout_at(deadline, ws.recv()).await {
        if m == Message::Close {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_status_carries_the_exit_code() {
        assert_eq!(final_status(0)["status"], "Success");
        let s = final_status(3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "3");
    }

    #[test]
    fn containers_are_checked() {
        let pod = json!({"spec": {"containers": [{"name": "bird", "image": "b"}, {"name": "frr", "image": "f"}]}});
        assert_eq!(
            container_of(&pod, "p", Some("frr")).ok(),
            Some(("frr".into(), "f".into()))
        );
        assert!(container_of(&pod, "p", Some("x")).is_err());
        let err = container_of(&pod, "p", None).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("a container name must be specified for pod p, choose one of: [bird frr]")
        );
    }
}
