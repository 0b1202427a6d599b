//! MetalLB's controller and speaker (BGP mode), written as kube-rs watch loops that run against
//! any Kubernetes API server: a real cluster, or the lab's in-process server.
//!
//! ```text
//!   ConfigMap or custom resources (`source`, v0.13+) feed both loops as "the configuration".
//!
//!   ConfigMap ─┐                       ┌─▶ Service status (ingress IP)
//!   Services  ─┼─▶ controller loop ────┼─▶ Events (IPAllocated, AllocationFailed, InvalidConfig)
//!              │   (alloc::Allocator)  └─▶ log lines
//!   ConfigMap ─┐
//!   Services  ─┤
//!   Endpoint- ─┼─▶ speaker loop ──routes (watch)──▶ one bgp::driver session per peer ──▶ routers
//!    Slices    │   (desired routes)  ──────────────▶ Events (InvalidConfig), metrics, log lines
//!   Node      ─┘
//! ```
//!
//! The decisions are pure and live elsewhere: configuration parsing in `crate::config` (with the
//! conversion in [`config`]), allocation in `crate::alloc`, route diffs in `crate::bgp::rib_out`.
//! This module only watches, decides what to write, and writes it. It must not depend on
//! `crate::lab` (the lab starts these components; they do not know about the lab) or on `cli`.

pub mod bgp_status;
pub mod config;
pub mod controller;
pub mod crds;
pub mod events;
pub mod metrics;
pub mod source;
pub mod speaker;
pub mod status;
pub mod watch;

pub use controller::run as run_controller;
pub use speaker::run as run_speaker;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::bgp::driver::{Dialer, TcpDialer};
use crate::config::Version;

/// Where a component's log lines go, one line per call (pod logs in the lab).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The namespace MetalLB runs in by default.
pub const DEFAULT_NAMESPACE: &str = "metallb-system";
/// The ConfigMap holding MetalLB's configuration by default.
pub const DEFAULT_CONFIG_MAP: &str = "config";
/// The event source of the controller.
pub const CONTROLLER_COMPONENT: &str = "metallb-controller";
/// The event source of the speaker.
pub const SPEAKER_COMPONENT: &str = "metallb-speaker";

/// How to run the controller.
#[derive(Clone)]
pub struct ControllerOptions {
    /// Namespace of the configuration ConfigMap (`metallb-system`).
    pub namespace: String,
    /// Name of the configuration ConfigMap (`config`).
    pub config_map: String,
    /// The MetalLB release played: from v0.13 the custom resources are read when present
    /// (`source`), and from v0.14 a configuration that takes addresses away re-allocates.
    pub version: Version,
    /// Where log lines go besides `tracing`.
    pub log: Option<LogSink>,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            config_map: DEFAULT_CONFIG_MAP.to_string(),
            version: Version::LATEST,
            log: None,
        }
    }
}

impl std::fmt::Debug for ControllerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerOptions")
            .field("namespace", &self.namespace)
            .field("config_map", &self.config_map)
            .field("version", &self.version)
            .field("log", &self.log.is_some())
            .finish()
    }
}

/// How to run the speaker on one node.
#[derive(Clone)]
pub struct SpeakerOptions {
    /// Namespace of the configuration ConfigMap (`metallb-system`).
    pub namespace: String,
    /// Name of the configuration ConfigMap (`config`).
    pub config_map: String,
    /// The MetalLB release played (see [`ControllerOptions::version`]).
    pub version: Version,
    /// The Node this speaker runs on (peer node selectors, `Local` traffic policy).
    pub node_name: String,
    /// Source address of BGP sessions and next hop of every route (e.g. 127.0.1.1 in the lab).
    /// Unspecified (0.0.0.0) lets the kernel choose the source, and each session's local
    /// address is the next hop (MetalLB's behaviour).
    pub node_address: IpAddr,
    /// Opens the TCP connections to peers; the lab maps virtual peer addresses to loopback.
    pub dialer: Arc<dyn Dialer>,
    /// Where to serve Prometheus metrics (`/metrics`), if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Told the bound metrics address once it listens (the lab records it for its pod proxy).
    pub metrics_bound: Option<Arc<dyn Fn(SocketAddr) + Send + Sync>>,
    /// Where log lines go besides `tracing`.
    pub log: Option<LogSink>,
}

impl SpeakerOptions {
    /// Options for `node_name` at `node_address`, dialling peers directly.
    pub fn new(node_name: impl Into<String>, node_address: IpAddr) -> Self {
        SpeakerOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            config_map: DEFAULT_CONFIG_MAP.to_string(),
            version: Version::LATEST,
            node_name: node_name.into(),
            node_address,
            dialer: Arc::new(TcpDialer::default()),
            metrics_listen: None,
            metrics_bound: None,
            log: None,
        }
    }
}

impl Default for SpeakerOptions {
    fn default() -> Self {
        SpeakerOptions::new("", IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

impl std::fmt::Debug for SpeakerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerOptions")
            .field("namespace", &self.namespace)
            .field("config_map", &self.config_map)
            .field("version", &self.version)
            .field("node_name", &self.node_name)
            .field("node_address", &self.node_address)
            .field("metrics_listen", &self.metrics_listen)
            .field("log", &self.log.is_some())
            .finish()
    }
}

/// Why a component stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request to the Kubernetes API failed.
    #[error("Kubernetes API request failed: {action}")]
    Kube {
        /// What was attempted.
        action: &'static str,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// A watch stream ended with an error the watcher could not recover from.
    #[error("watching {what} failed")]
    Watch {
        /// What was watched.
        what: &'static str,
        /// The watcher's error.
        #[source]
        source: kube::runtime::watcher::Error,
    },
    /// An object could not be converted to or from JSON.
    #[error("could not convert a {kind} to JSON")]
    Json {
        /// The object's kind.
        kind: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The metrics endpoint could not listen.
    #[error("cannot serve metrics on {addr}")]
    Metrics {
        /// The requested address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A configuration could not be applied.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

impl Error {
    /// Is this the API server's "not found"?
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Kube { source: kube::Error::Api(s), .. } if s.code == 404)
    }
}

/// Send `line` to `tracing` and the log sink.
pub(crate) fn log_line(sink: &Option<LogSink>, line: &str) {
    tracing::info!("{line}");
    if let Some(s) = sink {
        s(line);
    }
}

/// Resolve once `shutdown` is `true` (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await.map(|_| ());
}
