//! The router pods' ports, as `kubectl port-forward` and the pods proxy reach them: each
//! router container's declared port is its router's real BGP listener, and port 80 is a
//! status page, the tutorial's `test-bgp-router-ui` in plain text: every router of the pod
//! with its sessions and routes, as its own CLI prints them (`birdc show protocols`/`show
//! route`, `vtysh -c 'show ip bgp summary'`/`'show ip bgp'`; the real tools with
//! `--routers real`). The page is a small HTTP/1.0 server on the router's loopback address;
//! the runtime records where each port listens as the pod annotations the API server follows.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::RouterMap;
use crate::lab::topology::RouterKind;

/// The pod port of the status page (the tutorial's UI served on 80).
pub const PAGE_PORT: u16 = 80;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Start the status page of the routers `names` on `ip` (a free port); its address and task.
pub async fn start(
    ip: IpAddr,
    routers: RouterMap,
    names: Vec<String>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let (routers, names) = (routers.clone(), names.clone());
            tokio::spawn(async move {
                let _ = answer(conn, routers, names).await;
            });
        }
    });
    Ok((addr, handle))
}

async fn answer(
    mut conn: TcpStream,
    routers: RouterMap,
    names: Vec<String>,
) -> std::io::Result<()> {
    // Read the request head (the page ignores the path), bounded in size and time.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    tokio::time::timeout(READ_TIMEOUT, read_head)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let is_head = head.starts_with(b"HEAD ");
    let body = tokio::task::spawn_blocking(move || page(&routers, &names))
        .await
        .unwrap_or_else(|e| format!("status page failed: {e}\n"));
    let mut out = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !is_head {
        out.extend(body.into_bytes());
    }
    conn.write_all(&out).await?;
    conn.shutdown().await
}

/// The page: each router's status through its own CLI (blocks while a real tool runs).
pub fn page(routers: &RouterMap, names: &[String]) -> String {
    let running = routers.lock().map(|m| m.clone()).unwrap_or_default();
    let mut out = String::new();
    for name in names {
        let Some(r) = running.get(name) else {
            out.push_str(&format!("=== {name}: not running ===\n\n"));
            continue;
        };
        let spec = r.spec();
        out.push_str(&format!(
            "=== {name} ({}, AS{}, {} -> {}) ===\n",
            r.status().implementation,
            spec.asn,
            spec.virtual_addr(),
            r.listen()
        ));
        let commands: [Vec<&str>; 2] = match spec.kind {
            RouterKind::Bird => [
                vec!["birdc", "show", "protocols"],
                vec!["birdc", "show", "route"],
            ],
            RouterKind::Frr => [
                vec!["vtysh", "-c", "show ip bgp summary"],
                vec!["vtysh", "-c", "show ip bgp"],
            ],
        };
        for argv in commands {
            let argv: Vec<String> = argv.into_iter().map(String::from).collect();
            out.push_str(&format!("$ {}\n", argv.join(" ")));
            match r.exec(&argv) {
                Ok(o) => {
                    out.push_str(&o.stdout);
                    out.push_str(&o.stderr);
                }
                Err(e) => out.push_str(&e),
            }
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}
