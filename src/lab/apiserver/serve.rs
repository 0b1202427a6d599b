//! The accept loop: HTTP/1.1 over the TLS listener, like `axum::serve`, plus what it cannot
//! set: a header read timeout, so a client that trickles its request head (slow loris) is cut
//! off instead of holding a connection and a task forever. The real API server's Go HTTP
//! server does the same with `ReadHeaderTimeout` (32 s).

use std::pin::pin;
use std::time::Duration;

use axum::serve::Listener;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::tls::TlsListener;

/// How long a client may take to send a whole request head (the real server's value). The
/// clock also runs while a kept-alive connection waits for its next request, so idle
/// connections are closed after this long too; clients reconnect.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);

/// Serve `router` on `listener` until `stop` fires (or its sender is dropped), then stop
/// accepting, ask every connection to finish its current request, and wait for them.
pub async fn serve(
    mut listener: TlsListener,
    router: Router,
    header_read_timeout: Duration,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut stop = pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            (io, _peer) = listener.accept() => {
                let service = TowerToHyperService::new(router.clone());
                let mut closing = closing_rx.clone();
                connections.spawn(async move {
                    let mut builder = http1::Builder::new();
                    builder
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_read_timeout);
                    let mut conn =
                        pin!(builder.serve_connection(TokioIo::new(io), service).with_upgrades());
                    tokio::select! {
                        _ = conn.as_mut() => return,
                        _ = closing.wait_for(|c| *c) => conn.as_mut().graceful_shutdown(),
                    }
                    let _ = conn.await;
                });
            }
            // Reap finished connections so the set does not grow with every one ever served.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
