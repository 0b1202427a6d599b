//! The one road to a cluster: kube-rs clients built with the usual kubeconfig rules, and the
//! reads the `validate` dry run needs ([`assignments`]). A thin shell: no allocation logic
//! here, and every network wait is bounded so an unreachable cluster is a prompt error.
//!
//! Configuration sources, in kubectl's order: an explicit kubeconfig file; else `KUBECONFIG`
//! (colon-separated list) or `~/.kube/config`; else the in-cluster service account. A named
//! context applies to whichever file is used.

pub mod assignments;
pub mod crds;
pub mod install;
pub mod live;
pub mod release;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ::kube::config::{InferConfigError, KubeConfigOptions, Kubeconfig, KubeconfigError};
use ::kube::{Client, Config};
use thiserror::Error;

/// How long to wait for a TCP (and TLS) connection to the API server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to wait for a response once a request is sent.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait while sending a request.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Talking to a cluster failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KubeError {
    /// An explicit kubeconfig file could not be read or parsed.
    #[error("could not read kubeconfig {}", path.display())]
    ReadKubeconfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig could not be turned into a client configuration (unknown context,
    /// missing cluster, bad server URL, ...).
    #[error("could not load kubeconfig{}", context.as_deref().map(|c| format!(" context {c:?}")).unwrap_or_default())]
    Kubeconfig {
        /// The requested context, if any.
        context: Option<String>,
        /// Why.
        #[source]
        source: KubeconfigError,
    },
    /// `KUBECONFIG` names a file that cannot be read (a lab that was reset, a typo).
    #[error("KUBECONFIG names {}, which cannot be read", path.display())]
    KubeconfigEnv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither a kubeconfig (`KUBECONFIG`, `~/.kube/config`) nor an in-cluster service account
    /// was found.
    #[error("no kubeconfig found (KUBECONFIG, ~/.kube/config) and not running inside a cluster")]
    NoConfig(#[source] InferConfigError),
    /// The client could not be built (for example a TLS setup failure).
    #[error("could not create a Kubernetes client")]
    Client(#[source] ::kube::Error),
    /// The API server could not be reached or did not answer in time. The message carries the
    /// root reason (`connection refused`, `no answer within 10s`); the full kube/hyper chain
    /// stays in `source` but out of `Error::source`, so it is said once.
    #[error("cannot reach the Kubernetes API server{} ({reason})", at(server))]
    Unreachable {
        /// The server URL (empty when unknown).
        server: String,
        /// The root reason, from the OS or TLS layer.
        reason: String,
        /// The whole failure, for debugging (not `source`: the reason above says it).
        error: ::kube::Error,
    },
    /// The API server answered a request with an error status.
    #[error("the Kubernetes API server{} refused to {action}", at(server))]
    Api {
        /// The server URL (empty when unknown).
        server: String,
        /// What was attempted, e.g. "list services in all namespaces".
        action: String,
        /// The server's answer.
        #[source]
        source: ::kube::Error,
    },
    /// A Service from the server could not be read.
    #[error(
        "a Service from the Kubernetes API server{} could not be read",
        at(server)
    )]
    BadService {
        /// The server URL (empty when unknown).
        server: String,
        /// Why.
        #[source]
        source: crate::alloc::ServiceParseError,
    },
    /// The async runtime for a blocking call could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Where the troubleshooting guide lives, for `help:` lines.
pub const TROUBLESHOOTING: &str = "docs/troubleshooting.md";

impl KubeError {
    /// What to do next, for the `help:` line.
    pub fn help(&self) -> Option<String> {
        match self {
            KubeError::Unreachable { .. } => Some(format!(
                "check that the cluster is up and the kubeconfig names the right server (`kubectl cluster-info`); for a lab, `metallbctl lab status` (see {TROUBLESHOOTING}#cannot-reach-the-kubernetes-api-server)"
            )),
            KubeError::NoConfig(_) => Some(format!(
                "pass --kubeconfig FILE or set KUBECONFIG; `metallbctl lab up` prints the export line for its lab (see {TROUBLESHOOTING}#no-kubeconfig-found)"
            )),
            KubeError::KubeconfigEnv { .. } => Some(format!(
                "point KUBECONFIG at an existing file, or unset it; a lab's kubeconfig is back after `metallbctl lab up` (see {TROUBLESHOOTING}#no-kubeconfig-found)"
            )),
            KubeError::ReadKubeconfig { .. } | KubeError::Kubeconfig { .. } => Some(
                "check the file and the context name (`kubectl config get-contexts`)".into(),
            ),
            KubeError::Api { .. } => Some(
                "the server's answer above says why; check the kubeconfig's user has access (`kubectl auth can-i`)".into(),
            ),
            _ => None,
        }
    }
}

fn at(server: &str) -> String {
    if server.is_empty() {
        String::new()
    } else {
        format!(" at {server}")
    }
}

/// Load a client configuration: `kubeconfig` if given, else `KUBECONFIG` / `~/.kube/config`,
/// else in-cluster; `context` selects a context (default: the current one). Timeouts are set
/// to [`CONNECT_TIMEOUT`], [`READ_TIMEOUT`] and [`WRITE_TIMEOUT`].
pub async fn config(context: Option<&str>, kubeconfig: Option<&Path>) -> Result<Config, KubeError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let kc_err = |source| KubeError::Kubeconfig {
        context: context.map(str::to_string),
        source,
    };
    let mut config = match (kubeconfig, context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path).map_err(|source| KubeError::ReadKubeconfig {
                path: path.to_path_buf(),
                source,
            })?;
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(kc_err)?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options).await.map_err(kc_err)?,
        (None, None) => {
            check_kubeconfig_env()?;
            Config::infer().await.map_err(KubeError::NoConfig)?
        }
    };
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.reset_reader_on_write = true;
    config.write_timeout = Some(WRITE_TIMEOUT);
    Ok(config)
}

/// A kube-rs client for `context` in `kubeconfig` (see [`config`] for the rules). Must be
/// called inside a tokio runtime.
pub async fn client(context: Option<&str>, kubeconfig: Option<&Path>) -> Result<Client, KubeError> {
    let config = config(context, kubeconfig).await?;
    Client::try_from(config).map_err(KubeError::Client)
}

/// Every file `KUBECONFIG` names must be readable; kube-rs would otherwise report it only as
/// one of two failed ways to find a configuration.
fn check_kubeconfig_env() -> Result<(), KubeError> {
    let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    for path in std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()) {
        if let Err(source) = std::fs::File::open(&path) {
            return Err(KubeError::KubeconfigEnv { path, source });
        }
    }
    Ok(())
}

/// [`client`], with the server URL for error messages.
pub async fn connect(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
) -> Result<(Client, String), KubeError> {
    let config = config(context, kubeconfig).await?;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(KubeError::Client)?;
    Ok((client, server))
}

/// Map a request failure: error statuses from the server are `Api`, everything else
/// (refused, reset, timed out, TLS) is `Unreachable`.
pub(crate) fn request_error(server: &str, action: &str, e: ::kube::Error) -> KubeError {
    match e {
        ::kube::Error::Api(_) => KubeError::Api {
            server: server.to_string(),
            action: action.to_string(),
            source: e,
        },
        other => KubeError::Unreachable {
            server: server.to_string(),
            reason: unreachable_reason(&other),
            error: other,
        },
    }
}

/// The root reason of a failed request, said the way a person would: the OS's reason for an
/// I/O error (`connection refused`), a timeout with its limit, else the innermost message.
pub(crate) fn unreachable_reason(e: &::kube::Error) -> String {
    let mut innermost: &dyn std::error::Error = e;
    let mut io: Option<&std::io::Error> = None;
    let mut timed_out = false;
    let mut current: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = current {
        innermost = c;
        if let Some(i) = c.downcast_ref::<std::io::Error>() {
            io = Some(i);
        }
        timed_out |= c.to_string().to_ascii_lowercase().contains("timed out")
            || c.to_string()
                .to_ascii_lowercase()
                .contains("deadline has elapsed");
        current = c.source();
    }
    if let Some(io) = io {
        use std::io::ErrorKind as K;
        return match io.kind() {
            K::ConnectionRefused => "connection refused".into(),
            K::ConnectionReset => "connection reset by the server".into(),
            K::TimedOut => format!(
                "no answer in time: connect timeout {}s, read timeout {}s",
                CONNECT_TIMEOUT.as_secs(),
                READ_TIMEOUT.as_secs()
            ),
            _ => strip_os_error(&io.to_string()),
        };
    }
    if timed_out {
        return format!(
            "no answer in time: connect timeout {}s, read timeout {}s",
            CONNECT_TIMEOUT.as_secs(),
            READ_TIMEOUT.as_secs()
        );
    }
    strip_os_error(&innermost.to_string())
}

/// `No such file or directory (os error 2)` -> `No such file or directory`.
fn strip_os_error(text: &str) -> String {
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}
