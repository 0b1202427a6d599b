//! The lab's Kubernetes-compatible API server: enough of the real API that kubectl 1.32 and
//! kube-rs work against it unchanged (discovery, OpenAPI stub, CRUD, patches, watch, Tables,
//! logs). It binds loopback only, requires a bearer token, and persists to a state directory.
//!
//! ```text
//!   kubectl / kube-rs ──HTTP──> rest (auth, routing, handlers) ──> store (one mutex, global rv)
//!                                    │                                 │ watch::Sender<rv>
//!                                    │                                 │ admission hooks (one chain:
//!                                    │                                 │ namespaces, services, CRDs,
//!                                    │                                 │ events)
//!                                    └── watch streams <───────────────┤
//!                                         finalizer (namespaces) ◄─────┤
//!                                                     persistence ◄────┘ (state.json, ≤100 ms)
//!   in-process users (runtime, controllers) ──> ApiServerHandle::store()
//! ```
//!
//! Must not depend on the rest of metallbctl.

pub mod admission;
pub mod auth;
pub mod body;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod events;
pub mod exec;
pub mod finalizer;
pub mod kubeconfig;
pub mod log_follow;
pub mod logs;
pub mod malformed;
pub mod meta;
pub mod openapi;
pub mod patch;
pub mod paths;
pub mod persistence;
pub mod portforward;
pub mod protobuf;
pub mod proxy;
pub mod query;
pub mod resources;
pub mod rest;
pub mod scale;
pub mod selectors;
pub mod serve;
pub mod services;
pub mod store;
pub mod tables;
pub mod tls;
pub mod validation;
pub mod watch;
pub mod websocket;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::ApiError;
pub use persistence::PersistError;
pub use resources::{Registry, ResourceDef};
pub use store::{DeleteOptions, Propagation, Store, Subresource, WriteOptions};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; must be a loopback address. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where to persist objects; `None` keeps them in memory only.
    pub state_dir: Option<PathBuf>,
    /// Where to write a kubeconfig for this server; `None` writes none.
    pub kubeconfig: Option<PathBuf>,
    /// The bearer token; `None` uses the state directory's token, or a fresh random one.
    pub token: Option<String>,
    /// How many changes watches can resume from before getting 410 Expired. Each kept change
    /// holds its object, so this bounds the server's memory under churn (the soak measured
    /// 100,000 at +180 % resident memory after warm-up in 60 s of churn, 10,000 at +31 %); a
    /// watcher further behind re-lists, as with a real server's watch cache.
    pub watch_history: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Print one line per request to stderr.
    pub request_log: bool,
    /// How long a client may take to send a request head before its connection is closed.
    pub header_read_timeout: std::time::Duration,
    /// Where the lab runtime installs what runs `kubectl exec` commands; empty, exec says
    /// the lab has no containers.
    pub sessions: exec::Sessions,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: None,
            kubeconfig: None,
            token: None,
            watch_history: 10_000,
            max_body_bytes: 3 * 1024 * 1024,
            request_log: false,
            header_read_timeout: serve::HEADER_READ_TIMEOUT,
            sessions: exec::Sessions::default(),
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("refusing to listen on {0}: the lab API server binds loopback addresses only")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] PersistError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("the server task failed: {0}")]
    Task(String),
}

/// The entry point: `ApiServer::start(config)`.
#[derive(Debug)]
pub struct ApiServer;

/// A running server. Dropping it without `shutdown` leaves the server running until the
/// runtime ends.
#[derive(Debug)]
pub struct ApiServerHandle {
    addr: SocketAddr,
    token: String,
    ca_pem: String,
    kubeconfig: Option<PathBuf>,
    store: Store,
    watchers: watch::Watchers,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    writer: Option<JoinHandle<()>>,
    finalizer: JoinHandle<()>,
}

fn random_token() -> String {
    meta::random_bytes::<32>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn open_store(config: &Config) -> Result<(Store, String), ServerError> {
    let store = Store::with_admission(
        Registry::default(),
        config.watch_history,
        admission::Admission::standard(),
    );
    let Some(dir) = &config.state_dir else {
        auth::bootstrap::ensure(&store);
        return Ok((store, config.token.clone().unwrap_or_else(random_token)));
    };
    std::fs::create_dir_all(dir).map_err(|source| PersistError::Io {
        path: dir.clone(),
        source,
    })?;
    if let Some(snap) = persistence::load(dir)? {
        store.restore(snap)?;
        admission::finalize_terminating(&store);
    }
    auth::bootstrap::ensure(&store);
    let token = match &config.token {
        Some(t) => t.clone(),
        None => persistence::token(dir, random_token)?,
    };
    Ok((store, token))
}

impl From<ApiError> for ServerError {
    fn from(e: ApiError) -> Self {
        ServerError::Task(e.to_string())
    }
}

impl ApiServer {
    /// Restore state, bind, write the kubeconfig and serve in the background.
    pub async fn start(config: Config) -> Result<ApiServerHandle, ServerError> {
        Self::start_with_routes(config, axum::Router::new()).await
    }

    /// `start`, serving `extra` routes next to the API, behind the same TLS, authentication
    /// and request log (see `rest::router_with`).
    pub async fn start_with_routes(
        config: Config,
        extra: axum::Router<rest::App>,
    ) -> Result<ApiServerHandle, ServerError> {
        if !config.listen.ip().is_loopback() {
            return Err(ServerError::NotLoopback(config.listen));
        }
        let (store, token) = open_store(&config)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        let material = tls::load_or_create(config.state_dir.as_deref())?;
        let listener =
            tls::TlsListener::new(listener, tls::acceptor(&material)?).map_err(|source| {
                ServerError::Bind {
                    addr: config.listen,
                    source,
                }
            })?;
        if let Some(path) = &config.kubeconfig {
            kubeconfig::write(path, &format!("https://{addr}"), &token, &material.ca_pem)?;
        }
        let app = rest::App {
            store: store.clone(),
            token: Arc::from(token.as_str()),
            max_body: config.max_body_bytes,
            server_address: Arc::from(addr.to_string()),
            request_log: config.request_log,
            watchers: watch::Watchers::default(),
        };
        let watchers = app.watchers.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let sessions = config.sessions.clone();
        let router = rest::router_with(app, extra).layer(axum::Extension(sessions));
        let server = tokio::spawn(serve::serve(
            listener,
            router,
            config.header_read_timeout,
            stopped,
        ));
        let finalizer = finalizer::spawn(store.clone(), finalizer::NAMESPACE_FINALIZE_DELAY);
        let writer = config
            .state_dir
            .clone()
            .map(|dir| persistence::spawn_writer(store.clone(), dir));
        Ok(ApiServerHandle {
            addr,
            token,
            ca_pem: material.ca_pem,
            kubeconfig: config.kubeconfig,
            store,
            watchers,
            stop: Some(stop),
            server,
            writer,
            finalizer,
        })
    }
}

impl ApiServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server URL for clients (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Issues ServiceAccount tokens this server accepts (for in-process components).
    pub fn token_issuer(&self) -> auth::TokenIssuer {
        auth::TokenIssuer::new(self.store.clone(), &self.token)
    }

    /// Where the kubeconfig was written, if anywhere.
    pub fn kubeconfig_path(&self) -> Option<&Path> {
        self.kubeconfig.as_deref()
    }

    /// In-process access to the objects (for the runtime and controllers), including
    /// `Store::append_log` for pod logs.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How many watch streams are open right now (each one's state is freed when it ends).
    pub fn active_watches(&self) -> usize {
        self.watchers.active()
    }

    /// Stop serving: end watches, finish requests, write the state a last time.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.store.close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.server).await;
        let _ = (&mut self.finalizer).await;
        if let Some(writer) = self.writer.take() {
            writer.await.map_err(|e| ServerError::Task(e.to_string()))?;
        }
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Task(e.to_string())),
            Err(e) => Err(ServerError::Task(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_non_loopback_and_serves_in_memory() {
        let wide = Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            ..Config::default()
        };
        assert!(matches!(
            ApiServer::start(wide).await,
            Err(ServerError::NotLoopback(_))
        ));
        let server = ApiServer::start(Config::default())
            .await
            .expect("in-memory server");
        assert!(server.url().starts_with("https://127.0.0.1:"));
        assert_eq!(server.token().len(), 64);
        assert!(server.ca_pem().contains("BEGIN CERTIFICATE"));
        assert!(server.kubeconfig_path().is_none());
        server.shutdown().await.expect("shutdown");
    }
}
