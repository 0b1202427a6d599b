//! The cluster path of the dry run against a recorded-response mock API server: a tiny HTTP/1.1
//! responder on 127.0.0.1:0 serving recorded ConfigMap and Service JSON, reached through a
//! kubeconfig written to a temporary directory. Also: an unreachable server fails fast.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metallbctl::alloc::{dryrun, AddrRange, PoolSpec, Verdict};
use metallbctl::kube::assignments::{fetch, fetch_from};
use metallbctl::kube::{client, KubeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONFIGMAP: &str = include_str!("../fixtures/alloc/recorded/configmap-config.json");
const CONFIGMAP_404: &str = include_str!("../fixtures/alloc/recorded/configmap-notfound.json");
const SERVICES: &str = include_str!("../fixtures/alloc/recorded/services.json");

#[derive(Clone, Copy)]
enum Behaviour {
    /// Serve the recorded responses; Services in two pages.
    Recorded,
    /// Serve 404 for the ConfigMap.
    NoConfigMap,
    /// Accept connections and never answer.
    Silent,
}

struct Mock {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

/// Two pages: the first with a continue token, the second when it is sent back.
fn services_page(second: bool) -> String {
    let mut list: serde_json::Value = serde_json::from_str(SERVICES).unwrap();
    let items = list["items"].as_array().unwrap().clone();
    let (a, b) = items.split_at(2);
    if second {
        list["items"] = serde_json::Value::Array(b.to_vec());
    } else {
        list["items"] = serde_json::Value::Array(a.to_vec());
        list["metadata"]["continue"] = "page-2".into();
    }
    list.to_string()
}

fn respond(behaviour: Behaviour, target: &str) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (behaviour, path) {
        (Behaviour::Recorded, "/api/v1/namespaces/metallb-system/configmaps/config") => {
            (200, CONFIGMAP.to_string())
        }
        (Behaviour::NoConfigMap, "/api/v1/namespaces/metallb-system/configmaps/config") => {
            (404, CONFIGMAP_404.to_string())
        }
        (_, "/api/v1/services") => (200, services_page(query.contains("continue="))),
        _ => (
            404,
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#
                .to_string(),
        ),
    }
}

async fn serve_conn(mut sock: TcpStream, behaviour: Behaviour, log: Arc<Mutex<Vec<String>>>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end + 4);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_string();
        log.lock().unwrap().push(target.clone());
        if let Behaviour::Silent = behaviour {
            // Hold the connection and never answer: the client's timeout must fire.
            std::future::pending::<()>().await;
        }
        let (status, body) = respond(behaviour, &target);
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let resp = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn start(behaviour: Behaviour) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve_conn(sock, behaviour, log.clone()));
        }
    });
    Mock { addr, requests }
}

/// A kubeconfig with one context, `mock`, pointing at `server`, in a fresh temporary directory.
fn kubeconfig(server: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "alloc-kube-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: mock\n  cluster:\n    server: {server}\n\
         users:\n- name: mock\n  user: {{}}\ncontexts:\n- name: mock\n  context:\n    cluster: mock\n    user: mock\n    namespace: default\n\
         current-context: mock\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn reads_configmap_and_all_services_then_dry_runs() {
    let mock = start(Behaviour::Recorded).await;
    let kc = kubeconfig(&format!("http://{}", mock.addr));
    let c = client(Some("mock"), Some(&kc)).await.unwrap();
    let state = fetch(c, "metallb-system", "config").await.unwrap();

    let running = state.running_config.as_deref().unwrap();
    assert!(running.contains("198.51.100.0/24"));
    assert_eq!(state.services.len(), 4, "both pages");
    let nginx = state.services.iter().find(|s| s.name == "nginx").unwrap();
    assert_eq!(nginx.current_ip(), Some("198.51.100.0".parse().unwrap()));
    assert_eq!(nginx.ports, vec![metallbctl::alloc::Port::tcp(80)]);

    let requests = mock.requests.lock().unwrap().clone();
    assert_eq!(
        requests[0],
        "/api/v1/namespaces/metallb-system/configmaps/config"
    );
    // No IPAddressPool CRD served (404): the custom resources' running pools are unknown.
    assert!(
        requests[1]
            .starts_with("/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools"),
        "{requests:?}"
    );
    assert_eq!(state.running_pools, None);
    assert!(requests[2].starts_with("/api/v1/services?"), "{requests:?}");
    assert!(requests[2].contains("limit=500"));
    assert!(requests[3].contains("continue=page-2"));

    // The tutorial: tutorial-3 over what the cluster runs.
    let pools = |avoid| {
        vec![PoolSpec::new(
            "my-ip-space",
            vec![AddrRange::parse("198.51.100.0/24").unwrap()],
        )
        .avoid_buggy_ips(avoid)]
    };
    let report = dryrun(Some(&pools(false)), &pools(true), &state.services).unwrap();
    assert!(!report.accepted);
    match &report.services[0].verdict {
        Verdict::Loses { suggested_fix, .. } => {
            assert_eq!(
                suggested_fix.to_string(),
                "set spec.loadBalancerIP: 198.51.100.1"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_configmap_is_no_running_config() {
    let mock = start(Behaviour::NoConfigMap).await;
    let kc = kubeconfig(&format!("http://{}", mock.addr));
    let state = fetch_from(None, Some(&kc), "metallb-system", "config")
        .await
        .unwrap();
    assert_eq!(state.running_config, None);
    assert_eq!(state.services.len(), 4);
}

#[tokio::test]
async fn an_unknown_context_is_a_kubeconfig_error() {
    let kc = kubeconfig("http://127.0.0.1:9");
    let Err(err) = client(Some("nope"), Some(&kc)).await else {
        panic!("an unknown context was accepted");
    };
    assert!(matches!(err, KubeError::Kubeconfig { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"could not load kubeconfig context "nope""#
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_with_a_clear_error() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let kc = kubeconfig(&format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    let err = fetch_from(Some("mock"), Some(&kc), "metallb-system", "config")
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, KubeError::Unreachable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot reach the Kubernetes API server at http://127.0.0.1:{port}/ (connection refused)"
        )
    );
}

#[tokio::test]
async fn a_silent_server_times_out_instead_of_hanging() {
    let mock = start(Behaviour::Silent).await;
    let kc = kubeconfig(&format!("http://{}", mock.addr));
    let started = Instant::now();
    let err = fetch_from(None, Some(&kc), "metallb-system", "config")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, KubeError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("(no answer in time"), "{err}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

/// The blocking entry point (for a CLI without its own runtime), with the server on another
/// thread's runtime.
#[test]
fn fetch_blocking_reads_the_cluster() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mock = start(Behaviour::Recorded).await;
            tx.send(mock.addr).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let addr = rx.recv().unwrap();
    let kc = kubeconfig(&format!("http://{addr}"));
    let state = metallbctl::kube::assignments::fetch_blocking(
        Some("mock"),
        Some(&kc),
        "metallb-system",
        "config",
    )
    .unwrap();
    assert!(state.running_config.is_some());
    assert_eq!(state.services.len(), 4);
}
