//! `kubectl port-forward` (`/api/v1/namespaces/NS/pods/NAME/portforward`): SPDY/3.1 streams,
//! either tunnelled in WebSocket binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`,
//! what kubectl 1.31+ tries first) or over a plain `Upgrade: SPDY/3.1` (its fallback, and
//! every older kubectl). Both carry the same session: per forwarded connection kubectl opens
//! an error stream and a data stream, each with the headers `streamType`, `port` and
//! `requestID`; the server answers each with SYN_REPLY, copies the data stream to and from the
//! pod's port, writes a failure (if any) on the error stream and closes both.
//!
//! A pod's ports are where the lab runtime really listens, recorded as the pod annotations
//! `lab.metallbctl.io/port-<PORT>: 127.x.y.z:NNNNN` (the same the pods proxy follows):
//! router pods' BGP ports and status page, speakers' metrics. A pod with none is refused
//! before the upgrade with a message kubectl prints; a port with nothing behind it fails on
//! the error stream with the kubelet's wording, which kubectl prints as it would on a cluster.
//!
//! ```text
//!  transport reader ──bytes──▶ session (decode, pair streams) ──spawn──▶ forward(pair) ⇄ TCP
//!         ▲                            │ Out::Frame                         │ Out::Frame
//!  transport writer ◀──────────────────┴────────────────────────────────────┘ (encode, write)
//! ```

pub mod spdy;

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use self::spdy::{Frame, Headers, FLAG_FIN};
use super::error::ApiError;
use super::proxy::{ports_of, Ports};
use super::store::Store;
use super::websocket;

/// The port-forward protocol inside SPDY.
pub const PROTOCOL: &str = "portforward.k8s.io";
/// The WebSocket subprotocol that tunnels it.
pub const TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";
/// How long connecting to a pod port may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes read from the pod port per DATA frame.
const CHUNK: usize = 32 * 1024;
/// The largest WebSocket frame of the tunnel accepted: room for two SPDY frames of the
/// largest size their 24-bit length field allows.
const MAX_TUNNEL_FRAME: usize = 1 << 25;

/// The handler: check the pod, upgrade (WebSocket tunnel or plain SPDY), serve the session.
pub async fn handle(
    store: &Store,
    namespace: &str,
    pod_name: &str,
    mut req: Request<Body>,
) -> Response {
    let pods = store.registry().find("", "v1", "pods");
    let pod = match pods.map(|d| store.get(&d, Some(namespace), pod_name)) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return e.into_response(),
        None => return ApiError::NoRoute.into_response(),
    };
    let ports = ports_of(&pod);
    if ports.is_empty() {
        return ApiError::BadRequest(format!(
            "pod {namespace}/{pod_name} has no port to forward: its containers are simulated by the metallbctl lab and run no processes; port-forward works to router pods (the status page on port 80, BGP on their container ports) and to speakers' metrics port"
        ))
        .into_response();
    }
    let target = Target {
        pod: format!("{namespace}/{pod_name}"),
        uid: pod["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        ports,
    };
    let (transport, switching) = match negotiate(req.headers()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            let (r, w) = tokio::io::split(TokioIo::new(upgraded));
            run(transport, r, w, target).await;
        }
    });
    switching
}

/// The transport a port-forward request asks for, and the 101 answer that accepts it.
fn negotiate(headers: &HeaderMap) -> Result<(Transport, Response), ApiError> {
    if websocket::is_upgrade(headers) {
        let offered = websocket::offered_protocols(headers);
        if !offered.iter().any(|p| p == TUNNEL_PROTOCOL) {
            return Err(ApiError::BadRequest(format!(
                "port-forward over WebSocket needs the subprotocol {TUNNEL_PROTOCOL}"
            )));
        }
        let switching = websocket::switching(headers, TUNNEL_PROTOCOL)
            .ok_or_else(|| ApiError::BadRequest("missing Sec-WebSocket-Key".into()))?;
        return Ok((Transport::WebSocket, switching));
    }
    let spdy_upgrade = headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("spdy/3.1"));
    let offers_protocol = headers
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim() == PROTOCOL);
    if !spdy_upgrade || !offers_protocol {
        return Err(ApiError::BadRequest(format!(
            "port-forward needs an upgrade: WebSocket with the subprotocol {TUNNEL_PROTOCOL}, or SPDY/3.1 with X-Stream-Protocol-Version {PROTOCOL}"
        )));
    }
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    h.insert(
        "x-stream-protocol-version",
        HeaderValue::from_static(PROTOCOL),
    );
    Ok((Transport::Spdy, resp))
}

/// The pod being forwarded to.
struct Target {
    pod: String,
    uid: String,
    ports: Ports,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Spdy,
    WebSocket,
}

/// What the writer task sends.
enum Out {
    Frame(Frame),
    /// A WebSocket pong for the tunnel's ping.
    Pong(Vec<u8>),
}

/// What a forwarded connection receives from kubectl's data stream.
enum Inbound {
    Data(Vec<u8>),
    Fin,
}

async fn run<R, W>(transport: Transport, r: R, w: W, target: Target)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::channel::<Out>(64);
    let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>(16);
    let writer = tokio::spawn(write_loop(transport, w, out_rx));
    let reader = tokio::spawn(read_loop(transport, r, in_tx, out_tx.clone()));
    serve(in_rx, out_tx, target).await;
    reader.abort();
    // The writer ends once every sender (the session's and the forwarders') is gone.
    let _ = writer.await;
}

/// Transport bytes in: raw for SPDY, binary messages for the tunnel.
async fn read_loop<R: AsyncRead + Unpin>(
    transport: Transport,
    mut r: R,
    tx: mpsc::Sender<Vec<u8>>,
    out: mpsc::Sender<Out>,
) {
    match transport {
        Transport::Spdy => {
            let mut buf = vec![0u8; CHUNK];
            while let Ok(n) = r.read(&mut buf).await {
                if n == 0 || tx.send(buf[..n].to_vec()).await.is_err() {
                    break;
                }
            }
        }
        Transport::WebSocket => {
            while let Ok(Some(f)) = websocket::read_frame(&mut r, MAX_TUNNEL_FRAME).await {
                let go_on = match f.opcode {
                    0x0..=0x2 => tx.send(f.payload).await.is_ok(),
                    0x9 => out.send(Out::Pong(f.payload)).await.is_ok(),
                    0x8 => false,
                    _ => true,
                };
                if !go_on {
                    break;
                }
            }
        }
    }
}

/// Frames out: encoded with the connection's header compression, then written.
async fn write_loop<W: AsyncWrite + Unpin>(
    transport: Transport,
    mut w: W,
    mut rx: mpsc::Receiver<Out>,
) {
    let mut enc = spdy::Encoder::new();
    while let Some(out) = rx.recv().await {
        let result = match (out, transport) {
            (Out::Frame(f), Transport::Spdy) => {
                let bytes = enc.encode(&f);
                match w.write_all(&bytes).await {
                    Ok(()) => w.flush().await,
                    Err(e) => Err(e),
                }
            }
            (Out::Frame(f), Transport::WebSocket) => {
                websocket::write_frame(&mut w, 0x2, &enc.encode(&f)).await
            }
            (Out::Pong(p), _) => websocket::write_frame(&mut w, 0xA, &p).await,
        };
        if result.is_err() {
            return;
        }
    }
    if transport == Transport::WebSocket {
        let _ = websocket::write_frame(&mut w, 0x8, &1000u16.to_be_bytes()).await;
    }
    let _ = w.shutdown().await;
}

/// One forwarded connection's two streams, gathered as their SYN_STREAMs arrive.
#[derive(Default)]
struct Pair {
    port: Option<u16>,
    error: Option<u32>,
    data: Option<(u32, mpsc::Receiver<Inbound>)>,
}

/// The session: decode frames, reply to streams, pair them by request id, hand data on.
async fn serve(mut input: mpsc::Receiver<Vec<u8>>, out: mpsc::Sender<Out>, target: Target) {
    let target = std::sync::Arc::new(target);
    let mut dec = spdy::Decoder::new();
    let mut buf = Vec::new();
    let mut pairs: HashMap<String, Pair> = HashMap::new();
    let mut data: HashMap<u32, mpsc::Sender<Inbound>> = HashMap::new();
    let mut forwards = tokio::task::JoinSet::new();
    let send = |f: Frame| {
        let out = out.clone();
        async move { out.send(Out::Frame(f)).await.is_ok() }
    };
    'session: while let Some(chunk) = input.recv().await {
        buf.extend(chunk);
        loop {
            let frame = match dec.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("port-forward to {}: {e}", target.pod);
                    let _ = send(Frame::GoAway {
                        last_good: 0,
                        status: 1,
                    })
                    .await;
                    break 'session;
                }
            };
            match frame {
                Frame::SynStream {
                    stream_id, headers, ..
                } => {
                    let Some((kind, port, request)) = stream_headers(&headers) else {
                        let _ = send(Frame::RstStream {
                            stream_id,
                            status: spdy::RST_PROTOCOL_ERROR,
                        })
                        .await;
                        continue;
                    };
                    if !send(Frame::SynReply {
                        stream_id,
                        flags: 0,
                        headers: Vec::new(),
                    })
                    .await
                    {
                        break 'session;
                    }
                    let pair = pairs.entry(request.clone()).or_default();
                    pair.port = pair.port.or(port);
                    match kind.as_str() {
                        "error" => pair.error = Some(stream_id),
                        "data" => {
                            let (tx, rx) = mpsc::channel(16);
                            data.insert(stream_id, tx);
                            pair.data = Some((stream_id, rx));
                        }
                        _ => {
                            let _ = send(Frame::RstStream {
                                stream_id,
                                status: spdy::RST_PROTOCOL_ERROR,
                            })
                            .await;
                            continue;
                        }
                    }
                    if pair.error.is_some() && pair.data.is_some() {
                        if let Some(Pair {
                            port,
                            error: Some(error),
                            data: Some((data_id, rx)),
                        }) = pairs.remove(&request)
                        {
                            forwards.spawn(forward(
                                out.clone(),
                                target.clone(),
                                port,
                                error,
                                data_id,
                                rx,
                            ));
                        }
                    }
                }
                Frame::Data {
                    stream_id,
                    flags,
                    data: bytes,
                } => {
                    let Some(tx) = data.get(&stream_id) else {
                        continue;
                    };
                    if !bytes.is_empty() && tx.send(Inbound::Data(bytes)).await.is_err() {
                        data.remove(&stream_id);
                        continue;
                    }
                    if flags & FLAG_FIN != 0 {
                        if let Some(tx) = data.remove(&stream_id) {
                            let _ = tx.send(Inbound::Fin).await;
                        }
                    }
                }
                // A reset drops the sender: the forward ends without a FIN.
                Frame::RstStream { stream_id, .. } => {
                    data.remove(&stream_id);
                }
                Frame::Ping(id) => {
                    if !send(Frame::Ping(id)).await {
                        break 'session;
                    }
                }
                Frame::GoAway { .. } => break 'session,
                Frame::SynReply { .. }
                | Frame::Settings(_)
                | Frame::Headers { .. }
                | Frame::WindowUpdate { .. } => {}
            }
        }
    }
    // The connection is gone: stop forwarding.
    drop(data);
    forwards.shutdown().await;
}

/// `streamType`, `port` and `requestID` of a new stream.
fn stream_headers(headers: &Headers) -> Option<(String, Option<u16>, String)> {
    let kind = spdy::header(headers, "streamtype")?.to_string();
    let port = spdy::header(headers, "port").and_then(|p| p.parse::<u16>().ok());
    let request = spdy::header(headers, "requestid")?.to_string();
    Some((kind, port, request))
}

/// Copy one forwarded connection between kubectl's data stream and the pod's port.
async fn forward(
    out: mpsc::Sender<Out>,
    target: std::sync::Arc<Target>,
    port: Option<u16>,
    error_id: u32,
    data_id: u32,
    mut inbound: mpsc::Receiver<Inbound>,
) {
    let frame = |stream_id: u32, flags: u8, data: Vec<u8>| {
        Out::Frame(Frame::Data {
            stream_id,
            flags,
            data,
        })
    };
    let failure = match connect(&target, port).await {
        Err(message) => Some(message),
        Ok(tcp) => {
            let (mut r, mut w) = tcp.into_split();
            let up = async {
                while let Some(m) = inbound.recv().await {
                    match m {
                        Inbound::Data(d) => {
                            if w.write_all(&d).await.is_err() {
                                return;
                            }
                        }
                        Inbound::Fin => {
                            let _ = w.shutdown().await;
                            // Keep the half open until the other side finishes.
                            std::future::pending::<()>().await;
                        }
                    }
                }
            };
            let down = async {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match r.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if out
                                .send(frame(data_id, 0, buf[..n].to_vec()))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                }
                let _ = out.send(frame(data_id, FLAG_FIN, Vec::new())).await;
            };
            // Ends when the pod side closes (after its FIN is sent) or kubectl resets.
            tokio::select! {
                () = down => {}
                () = up => {}
            }
            None
        }
    };
    if let Some(message) = failure {
        let _ = out.send(frame(error_id, 0, message.into_bytes())).await;
        let _ = out.send(frame(data_id, FLAG_FIN, Vec::new())).await;
    }
    let _ = out.send(frame(error_id, FLAG_FIN, Vec::new())).await;
}

/// Connect to the pod's `port`; `Err` is the message for the error stream, in the kubelet's
/// words (`error forwarding port P to pod UID, uid : ...`), which kubectl prints.
async fn connect(target: &Target, port: Option<u16>) -> Result<TcpStream, String> {
    let Some(port) = port else {
        return Err("invalid port header".to_string());
    };
    let prefix = format!(
        "error forwarding port {port} to pod {}, uid {}",
        target.pod, target.uid
    );
    let Some(addr) = target.ports.get(&port) else {
        return Err(format!(
            "{prefix}: failed to connect to localhost:{port} inside the pod: connect: connection refused (nothing listens on port {port}; the pod's ports are {})",
            target
                .ports
                .keys()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!(
            "{prefix}: failed to connect to localhost:{port} inside the pod: dial tcp {addr}: {e}"
        )),
        Err(_) => Err(format!(
            "{prefix}: failed to connect to localhost:{port} inside the pod: dial tcp {addr}: i/o timeout"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_loopback_annotations() {
        let pod = serde_json::json!({"metadata": {"annotations": {
            "lab.metallbctl.io/port-80": "127.0.0.100:40000",
            "lab.metallbctl.io/port-179": "127.0.0.100:1790",
            "lab.metallbctl.io/port-81": "10.0.0.1:80",
            "lab.metallbctl.io/port-x": "127.0.0.1:1",
            "other": "127.0.0.1:2",
        }}});
        let ports = ports_of(&pod);
        assert_eq!(ports.keys().copied().collect::<Vec<_>>(), vec![80, 179]);
    }

    /// A client speaking kubectl's side of the protocol over an in-memory pipe: one forwarded
    /// connection to a real loopback listener, one to a port with nothing behind it.
    #[tokio::test]
    async fn forwards_a_connection_and_reports_a_closed_port() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let mut req = vec![0u8; 5];
                let _ = s.read_exact(&mut req).await;
                let _ = s.write_all(b"pong:").await;
                let _ = s.write_all(&req).await;
            }
        });
        let target = Target {
            pod: "ns/p".into(),
            uid: "u".into(),
            ports: [(80, addr)].into_iter().collect(),
        };
        let (client, server) = tokio::io::duplex(1 << 16);
        let (sr, sw) = tokio::io::split(server);
        let session = tokio::spawn(run(Transport::Spdy, sr, sw, target));
        let (mut cr, mut cw) = tokio::io::split(client);
        let mut enc = spdy::Encoder::new();
        let mut dec = spdy::Decoder::new();
        let syn = |id: u32, kind: &str, port: &str, req: &str| Frame::SynStream {
            stream_id: id,
            associated: 0,
            priority: 0,
            flags: 0,
            headers: vec![
                ("streamtype".into(), kind.into()),
                ("port".into(), port.into()),
                ("requestid".into(), req.into()),
            ],
        };
        for f in [
            syn(1, "error", "80", "0"),
            syn(3, "data", "80", "0"),
            Frame::Data {
                stream_id: 3,
                flags: FLAG_FIN,
                data: b"hello".to_vec(),
            },
            syn(5, "error", "9999", "1"),
            syn(7, "data", "9999", "1"),
            Frame::Ping(1),
        ] {
            cw.write_all(&enc.encode(&f)).await.expect("write");
        }
        let mut got: HashMap<u32, (Vec<u8>, bool)> = HashMap::new();
        let mut replies = Vec::new();
        let mut pinged = false;
        let mut buf = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let all_done = |g: &HashMap<u32, (Vec<u8>, bool)>| {
            [1u32, 3, 5, 7]
                .iter()
                .all(|id| g.get(id).is_some_and(|(_, fin)| *fin))
        };
        while !(all_done(&got) && pinged) {
            let mut chunk = vec![0u8; 4096];
            let n = tokio::time::timeout_at(deadline, cr.read(&mut chunk))
                .await
                .expect("in time")
                .expect("read");
            assert!(n > 0, "server hung up early");
            buf.extend_from_slice(&chunk[..n]);
            while let Some(f) = dec.decode(&mut buf).expect("decode") {
                match f {
                    Frame::SynReply { stream_id, .. } => replies.push(stream_id),
                    Frame::Data {
                        stream_id,
                        flags,
                        data,
                    } => {
                        let e = got.entry(stream_id).or_default();
                        e.0.extend(data);
                        e.1 |= flags & FLAG_FIN != 0;
                    }
                    Frame::Ping(1) => pinged = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        replies.sort_unstable();
        assert_eq!(replies, vec![1, 3, 5, 7]);
        assert_eq!(got[&3].0, b"pong:hello");
        assert!(got[&1].0.is_empty(), "no error for the open port");
        let error = String::from_utf8_lossy(&got[&5].0).into_owned();
        assert!(
            error.starts_with("error forwarding port 9999 to pod ns/p, uid u: failed to connect to localhost:9999"),
            "{error}"
        );
        assert!(got[&7].0.is_empty());
        cw.write_all(&enc.encode(&Frame::GoAway {
            last_good: 0,
            status: 0,
        }))
        .await
        .expect("goaway");
        tokio::time::timeout(Duration::from_secs(5), session)
            .await
            .expect("session ends")
            .expect("join");
    }

    /// Megabytes each way through one forwarded connection: back-pressure, not a deadlock or a
    /// loss; kubectl's FIN reaches the pod as a half-close.
    #[tokio::test]
    async fn large_transfers_both_ways() {
        const UP: usize = 3 << 20;
        const DOWN: usize = 5 << 20;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Like a request and its answer: the pod reads the whole upload (until kubectl's FIN
        // closes its side), then answers. As on a cluster, the forward ends when the pod
        // closes its side, so it does not close before it has read.
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.expect("read");
            let chunk = vec![7u8; 64 * 1024];
            for _ in 0..DOWN / chunk.len() {
                s.write_all(&chunk).await.expect("write");
            }
            got.len()
        });
        let target = Target {
            pod: "ns/p".into(),
            uid: "u".into(),
            ports: [(80, addr)].into_iter().collect(),
        };
        let (client, server_io) = tokio::io::duplex(64 * 1024);
        let (sr, sw) = tokio::io::split(server_io);
        tokio::spawn(run(Transport::Spdy, sr, sw, target));
        let (mut cr, mut cw) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            let mut enc = spdy::Encoder::new();
            let syn = |id: u32, kind: &str| Frame::SynStream {
                stream_id: id,
                associated: 0,
                priority: 0,
                flags: 0,
                headers: vec![
                    ("streamtype".into(), kind.into()),
                    ("port".into(), "80".into()),
                    ("requestid".into(), "0".into()),
                ],
            };
            for f in [syn(1, "error"), syn(3, "data")] {
                cw.write_all(&enc.encode(&f)).await.expect("syn");
            }
            let chunk = vec![9u8; 32 * 1024];
            for i in 0..UP / chunk.len() {
                let flags = if i + 1 == UP / chunk.len() {
                    FLAG_FIN
                } else {
                    0
                };
                let f = Frame::Data {
                    stream_id: 3,
                    flags,
                    data: chunk.clone(),
                };
                cw.write_all(&enc.encode(&f)).await.expect("data");
            }
            cw
        });
        let mut dec = spdy::Decoder::new();
        let mut buf = Vec::new();
        let (mut down, mut fins) = (0usize, 0);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while fins < 2 {
            let mut chunk = vec![0u8; 64 * 1024];
            let n = tokio::time::timeout_at(deadline, cr.read(&mut chunk))
                .await
                .expect("in time")
                .expect("read");
            assert!(n > 0, "server hung up early");
            buf.extend_from_slice(&chunk[..n]);
            while let Some(f) = dec.decode(&mut buf).expect("decode") {
                if let Frame::Data {
                    stream_id,
                    flags,
                    data,
                } = f
                {
                    if stream_id == 3 {
                        down += data.len();
                    } else {
                        assert!(data.is_empty(), "{}", String::from_utf8_lossy(&data));
                    }
                    if flags & FLAG_FIN != 0 {
                        fins += 1;
                    }
                }
            }
        }
        assert_eq!(down, DOWN);
        assert_eq!(server.await.expect("server"), UP);
        drop(writer.await.expect("writer"));
    }
}
