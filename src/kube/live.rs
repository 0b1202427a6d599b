//! What a cluster runs now, for the dry run ([`crate::alloc::check`]): the running MetalLB
//! configuration's pools and every Service, read from the cluster through kube-rs or from a
//! `kubectl get svc -A -o json` file.

use std::path::{Path, PathBuf};

use ::kube::Client;

use super::KubeError;
use crate::alloc::check::{running_pools, Live};
use crate::alloc::{parse_service_list, pool_specs_from_crds, ServiceListError};
use crate::config::Options;

/// Where the live assignments come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A cluster, through the kubeconfig; the running configuration is the ConfigMap
    /// `namespace/name`.
    Cluster {
        context: Option<String>,
        kubeconfig: Option<PathBuf>,
        namespace: String,
        name: String,
    },
    /// `kubectl get svc -A -o json` output.
    Assignments(PathBuf),
}

/// Reading what the cluster runs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The assignments file could not be read.
    #[error("cannot read assignments file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The assignments file is not a Service list.
    #[error("{} is not `kubectl get svc -A -o json` output", path.display())]
    Assignments {
        path: PathBuf,
        #[source]
        source: ServiceListError,
    },
    /// The cluster could not be read.
    #[error(transparent)]
    Cluster(#[from] KubeError),
}

/// Read what runs now from `source`; blocks (a private runtime reads the cluster).
pub fn load(source: &Source, options: &Options) -> Result<Live, LiveError> {
    match source {
        Source::Assignments(path) => from_file(path),
        Source::Cluster {
            context,
            kubeconfig,
            namespace,
            name,
        } => {
            let state = super::assignments::fetch_blocking(
                context.as_deref(),
                kubeconfig.as_deref(),
                namespace,
                name,
            )?;
            let context = context
                .as_deref()
                .map(|c| format!("context {c:?}, "))
                .unwrap_or_default();
            Ok(live_from(
                state,
                options,
                format!("the cluster ({context}ConfigMap {namespace}/{name})"),
                format!("the cluster ({context}IPAddressPools in {namespace})"),
            ))
        }
    }
}

/// Read the services of a `kubectl get svc -A -o json` file.
pub fn from_file(path: &Path) -> Result<Live, LiveError> {
    let text = std::fs::read_to_string(path).map_err(|source| LiveError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let services = parse_service_list(&text).map_err(|source| LiveError::Assignments {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Live {
        running: None,
        running_crds: None,
        services,
        described: format!("assignments in {}", path.display()),
        described_crds: format!("assignments in {}", path.display()),
    })
}

/// Read what runs now from the cluster `client` talks to (`server` names it in errors); the
/// running configuration is the ConfigMap `namespace/name`.
pub async fn fetch(
    client: Client,
    server: &str,
    namespace: &str,
    name: &str,
    options: &Options,
) -> Result<Live, KubeError> {
    let state = super::assignments::fetch_at(client, server, namespace, name).await?;
    Ok(live_from(
        state,
        options,
        format!("the cluster (ConfigMap {namespace}/{name})"),
        format!("the cluster (IPAddressPools in {namespace})"),
    ))
}

/// What runs now, from what was read of the cluster: the running configuration's pools (when
/// it parses) and the Services.
fn live_from(
    state: super::assignments::ClusterState,
    options: &Options,
    described: String,
    described_crds: String,
) -> Live {
    Live {
        running: state
            .running_config
            .as_deref()
            .and_then(|t| running_pools(t, options)),
        running_crds: state.running_pools.as_deref().map(pool_specs_from_crds),
        services: state.services,
        described,
        described_crds,
    }
}
