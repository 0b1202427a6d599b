//! The lab API server's limits against hostile or broken clients, over real TLS sockets:
//! bodies over 3 MiB get 413, malformed bodies get the real server's 400, a client that
//! trickles its request head is cut off by the header read timeout, and 1,000 concurrent
//! watches are held and give back their state when the clients go away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use metallbctl::lab::apiserver::ApiServerHandle;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::support::{eventually_async, Lab};

/// A TLS connection to the server, trusting its CA.
async fn connect(server: &ApiServerHandle) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(server.ca_pem().as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA cert");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(server.addr()).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

/// One request on its own connection (`Connection: close`): status and JSON body. The body
/// is written by a task of its own while the answer is read, as a real client does, so an
/// early answer (413) is read even while the upload is still going.
async fn request(
    server: &ApiServerHandle,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let stream = connect(server).await;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.token(),
        body.len()
    );
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        wr.write_all(&body).await?;
        wr.flush().await?;
        Ok::<_, std::io::Error>(wr)
    });
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        if complete(&out) {
            break;
        }
    }
    writer.abort();
    parse(&out)
}

fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&raw[..at], &raw[at + 4..]))
}

fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

fn complete(raw: &[u8]) -> bool {
    split_head(raw)
        .and_then(|(head, body)| Some(body.len() >= content_length(head)?))
        .unwrap_or(false)
}

fn parse(raw: &[u8]) -> (u16, Value) {
    let (head, body) = split_head(raw).unwrap_or_else(|| panic!("no response head in {raw:?}"));
    let status = String::from_utf8_lossy(head)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, serde_json::from_slice(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_3_mib_get_413_with_the_real_status() {
    let lab = Lab::start("limits-413").await;
    let server = lab.server();
    let path = "/api/v1/namespaces/default/configmaps";
    let over = 3 * 1024 * 1024 + 1;
    let big = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(over)
    );
    let (code, status) = request(server, "POST", path, "application/json", big.into_bytes()).await;
    assert_eq!(code, 413, "{status}");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "RequestEntityTooLarge");
    assert_eq!(status["code"], 413);
    assert_eq!(
        status["message"],
        "Request entity too large: limit is 3145728"
    );
    // Just under the limit is accepted (the object itself is then judged on its merits).
    let under = format!(
        "{{\"metadata\":{{\"name\":\"under\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(3 * 1024 * 1024 - 100)
    );
    let (code, body) = request(server, "POST", path, "application/json", under.into_bytes()).await;
    assert_eq!(code, 201, "{}", body["message"]);
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_yaml_get_the_real_400() {
    let lab = Lab::start("limits-400").await;
    let server = lab.server();
    let path = "/api/v1/namespaces/default/services";
    let prefix = "the object provided is unrecognized (must be of type Service): ";
    for (ct, body, cause) in [
        (
            "application/json",
            "{\"apiVersion\":\"v1\",",
            "couldn't get version/kind; json parse error: unexpected end of JSON input ({\"apiVersion\":\"v1\",)",
        ),
        (
            "application/json",
            "not json",
            "couldn't get version/kind; json parse error: invalid character 'o' in literal",
        ),
        (
            "application/yaml",
            "kind: Service\nmetadata: [x",
            "error converting YAML to JSON: yaml: line ",
        ),
    ] {
        let (code, status) = request(server, "POST", path, ct, body.as_bytes().to_vec()).await;
        assert_eq!(code, 400, "{body}: {status}");
        assert_eq!(status["kind"], "Status", "{status}");
        assert_eq!(status["reason"], "BadRequest", "{status}");
        assert_eq!(status["code"], 400, "{status}");
        let message = status["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{prefix}{cause}")),
            "{body:?}: {message}"
        );
    }
    // Updates read their body the same way.
    let (code, status) = request(
        server,
        "PUT",
        "/api/v1/namespaces/default/services/x",
        "application/json",
        b"[1]".to_vec(),
    )
    .await;
    assert_eq!(code, 400, "{status}");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("json: cannot unmarshal array into Go value")),
        "{status}"
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_loris_is_cut_off_by_the_header_timeout() {
    let timeout = Duration::from_secs(2);
    let lab = Lab::start_with("limits-loris", |c| c.header_read_timeout = timeout).await;
    let server = lab.server();
    // The clock starts before the connection: the server's starts when it has the connection.
    let start = Instant::now();
    let mut stream = connect(server).await;
    stream
        .write_all(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("first bytes");
    stream.flush().await.expect("flush");
    // Trickle one header byte every 200 ms, never finishing the head, until the server hangs
    // up (a read of 0 bytes or an error) or 5 timeouts pass.
    let cut = loop {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
        if start.elapsed() > timeout * 5 {
            break None;
        }
        if stream.write_all(b"X").await.is_err() || stream.flush().await.is_err() {
            break Some(start.elapsed());
        }
    };
    let cut = cut.expect("the server never closed a connection whose head never ended");
    eprintln!("slow loris cut off after {cut:?} (header read timeout {timeout:?})");
    assert!(cut >= timeout, "cut off before the timeout: {cut:?}");
    // A normal client on a fresh connection is unaffected.
    let (code, version) = request(server, "GET", "/version", "application/json", Vec::new()).await;
    assert_eq!(code, 200, "{version}");
    // The timeout covers request heads only: a watch idle for longer than it stays open and
    // still gets its events.
    let mut watch = connect(server).await;
    let head = format!(
        "GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
        server.token()
    );
    watch
        .write_all(head.as_bytes())
        .await
        .expect("watch request");
    watch.flush().await.expect("flush");
    tokio::time::sleep(timeout * 2).await;
    let client = lab.client().await;
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client, "default");
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "after-idle"}}))
            .expect("configmap");
    cms.create(&Default::default(), &cm).await.expect("create");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("after-idle") {
        match tokio::time::timeout(Duration::from_secs(10), watch.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            other => panic!(
                "the idle watch was cut off: {other:?}\n{}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    lab.shutdown().await;
}

/// Resident memory of this process, from /proc (Linux), in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_watches_are_held_and_freed_when_their_clients_go() {
    const WATCHES: usize = 1000;
    let lab = Lab::start("limits-watches").await;
    let server = lab.server();
    assert_eq!(server.active_watches(), 0);
    let rss_before = rss_kib();
    let mut clients = Vec::with_capacity(WATCHES);
    for i in 0..WATCHES {
        let mut stream = connect(server).await;
        let path = if i % 2 == 0 {
            "/api/v1/namespaces/default/configmaps?watch=true"
        } else {
            "/api/v1/services?watch=true&allowWatchBookmarks=true"
        };
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
            server.token()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .expect("watch request");
        stream.flush().await.expect("flush");
        clients.push(stream);
    }
    eventually_async("1000 open watches", Duration::from_secs(60), || async {
        (server.active_watches() == WATCHES).then_some(())
    })
    .await;
    // Every watch still gets its events while all are held.
    let client = lab.client().await;
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client, "default");
    let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(
        serde_json::json!({"metadata": {"name": "seen-by-all"}, "data": {"a": "b"}}),
    )
    .expect("configmap");
    cms.create(&Default::default(), &cm).await.expect("create");
    let mut seen = 0;
    for stream in clients.iter_mut().step_by(2) {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("seen-by-all") {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                other => panic!("watch {seen} ended without the event: {other:?}"),
            }
        }
        seen += 1;
    }
    assert_eq!(seen, WATCHES / 2);
    let rss_held = rss_kib();
    drop(clients);
    eventually_async(
        "every watch's state freed after its client closed",
        Duration::from_secs(60),
        || async { (server.active_watches() == 0).then_some(()) },
    )
    .await;
    eprintln!(
        "1000 watches: RSS before {rss_before:?} KiB, held {rss_held:?} KiB, after close {:?} KiB (test process, client and server)",
        rss_kib()
    );
    lab.shutdown().await;
}
