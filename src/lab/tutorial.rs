//! `lab up --tutorial`: install MetalLB and the test routers into a running lab, apply the
//! tutorial's first two manifests (the address pool and nginx), then wait until nginx has an
//! EXTERNAL-IP and every router has learned it. Progress goes through
//! [`crate::kube::install::Progress`]; the caller prints the outcome.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;

use super::control::{self, ControlError, LabStatus, Layout};
use super::topology::Topology;
use crate::kube::install::{self, InstallError, InstallSettings, Progress};

/// The tutorial's manifests, as the README runs them.
pub const TUTORIAL_1: &str = include_str!("../../manifests/tutorial-1.yaml");
pub const TUTORIAL_2: &str = include_str!("../../manifests/tutorial-2.yaml");
/// The same two steps in custom-resource form (MetalLB v0.13 and later).
pub const TUTORIAL_CRDS_1: &str = include_str!("../../manifests/tutorial-crds-1.yaml");
pub const TUTORIAL_CRDS_2: &str = include_str!("../../manifests/tutorial-crds-2.yaml");

/// How long to wait for nginx's address, and then for the routes.
pub const WAIT: Duration = Duration::from_secs(30);

/// Why the tutorial stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TutorialError {
    #[error(transparent)]
    Client(#[from] crate::kube::KubeError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error("cannot read service default/nginx")]
    Read(#[source] kube::Error),
    #[error("nginx got no EXTERNAL-IP within 30s; see `metallbctl lab logs controller`")]
    NoExternalIp,
    #[error(transparent)]
    Control(#[from] ControlError),
    /// The topology's routers cannot peer with the tutorial's configuration.
    #[error(
        "--tutorial cannot run on topology {topology:?}: {problems}\nhelp: use the tutorial's \
         topology (lab/tutorial.yaml, the default), or start the lab without --tutorial and \
         apply a configuration whose peers match the topology's routers (see docs/lab.md)"
    )]
    TopologyMismatch { topology: String, problems: String },
    /// nginx has an address but not every router learned it.
    #[error(
        "not every router learned {ip}/32 within {}s: {routers}\nhelp: `metallbctl status` \
         shows each session's last error; `metallbctl lab logs speaker` the speaker's log",
        WAIT.as_secs()
    )]
    NoRoutes { ip: String, routers: String },
    /// The embedded tutorial manifest does not hold a configuration (a build defect).
    #[error("the embedded tutorial-1 manifest has no MetalLB configuration: {0}")]
    Manifest(String),
}

/// What the tutorial installs: MetalLB `release` (default: v0.12.1, the tutorial's ConfigMap
/// release) with the test routers, waiting up to a minute for the rollout.
pub fn install_settings(release: Option<crate::config::Version>) -> InstallSettings {
    InstallSettings {
        version: Some(release.map_or(install::LEGACY_TAG.to_string(), |v| v.to_string())),
        with_test_router: true,
        timeout: Duration::from_secs(60),
        ..InstallSettings::default()
    }
}

/// The tutorial's first two steps for `release`: the ConfigMap form up to v0.12, the
/// custom-resource form (manifests/tutorial-crds-1..2.yaml) from v0.13.
pub fn first_steps(release: Option<crate::config::Version>) -> [&'static str; 2] {
    match release {
        Some(v) if v >= crate::config::Version::FIRST_CRD => [TUTORIAL_CRDS_1, TUTORIAL_CRDS_2],
        _ => [TUTORIAL_1, TUTORIAL_2],
    }
}

/// Install MetalLB and the routers through `kubeconfig`, apply tutorial-1 and tutorial-2, and
/// return nginx's EXTERNAL-IP once the controller assigned it.
pub async fn install_and_apply(
    kubeconfig: &Path,
    release: Option<crate::config::Version>,
    progress: &mut dyn Progress,
) -> Result<String, TutorialError> {
    let (client, server) = crate::kube::connect(None, Some(kubeconfig)).await?;
    install::install(&client, &server, &install_settings(release), progress).await?;
    for m in first_steps(release) {
        // apply_all gives each object kubectl's last-applied annotation.
        let docs = install::documents(m)?;
        install::apply_all(&client, &docs, false, progress).await?;
    }
    wait_external_ip(&client).await
}

async fn wait_external_ip(client: &kube::Client) -> Result<String, TutorialError> {
    let api: kube::Api<Service> = kube::Api::namespaced(client.clone(), "default");
    let t = Instant::now();
    loop {
        if let Some(ip) = api
            .get_opt("nginx")
            .await
            .map_err(TutorialError::Read)?
            .and_then(|s| s.status?.load_balancer?.ingress?.first()?.ip.clone())
        {
            return Ok(ip);
        }
        if t.elapsed() > WAIT {
            return Err(TutorialError::NoExternalIp);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether every router of `st` has learned `ip/32` (and there is a router).
pub fn all_routers_learned(st: &LabStatus, ip: &str) -> bool {
    let prefix = format!("{ip}/32");
    !st.routers.is_empty()
        && st.routers.iter().all(|r| {
            r.sessions
                .iter()
                .any(|s| s.routes.iter().any(|x| x.prefix == prefix))
        })
}

/// Poll the lab's status until every router learned `ip/32`; after [`WAIT`], an error that
/// says what each router's session is doing.
pub fn wait_routes(layout: &Layout, ip: &str) -> Result<LabStatus, TutorialError> {
    let t = Instant::now();
    loop {
        let st = control::status(&layout.socket(), Duration::from_secs(5))?;
        if all_routers_learned(&st, ip) {
            return Ok(st);
        }
        if t.elapsed() > WAIT {
            return Err(TutorialError::NoRoutes {
                ip: ip.to_string(),
                routers: sessions_summary(&st),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One clause per router: its sessions' states, or that it has none.
fn sessions_summary(st: &LabStatus) -> String {
    let per_router: Vec<String> = st
        .routers
        .iter()
        .map(|r| {
            let sessions: Vec<String> = r
                .sessions
                .iter()
                .map(|s| format!("session with {} {}", s.peer, s.state))
                .collect();
            if sessions.is_empty() {
                format!("router {} has no session", r.name)
            } else {
                format!("router {}: {}", r.name, sessions.join(", "))
            }
        })
        .collect();
    if per_router.is_empty() {
        "the lab has no routers".to_string()
    } else {
        per_router.join("; ")
    }
}

/// Refuse, before anything starts, a topology the tutorial's configuration cannot peer with:
/// every router must sit at an address tutorial-1 names as a peer, be in the AS it names, and
/// expect the nodes in the AS the configuration speaks as. Otherwise the sessions can never
/// come up (BIRD and FRR answer "Bad Peer AS") and the tutorial would only time out.
pub fn check_topology(topology: &Topology) -> Result<(), TutorialError> {
    let peers = tutorial_peers()?;
    let problems: Vec<String> = topology
        .routers
        .iter()
        .filter_map(|r| match peers.iter().find(|p| p.address == r.cluster_ip) {
            None => Some(format!(
                "router {} at {} is not a peer of the tutorial's configuration (its peers are {})",
                r.name,
                r.cluster_ip,
                peers
                    .iter()
                    .map(|p| p.address.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(p) if p.peer_asn != r.asn || p.my_asn != r.peer_as() => Some(format!(
                "router {} is AS {} and expects the nodes as AS {}, but the tutorial's \
                 configuration peers with AS {} as AS {}",
                r.name,
                r.asn,
                r.peer_as(),
                p.peer_asn,
                p.my_asn
            )),
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TutorialError::TopologyMismatch {
            topology: topology.name.clone(),
            problems: problems.join("; "),
        })
    }
}

/// The peers of the tutorial-1 ConfigMap.
fn tutorial_peers() -> Result<Vec<crate::metallb::config::PeerSpec>, TutorialError> {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(TUTORIAL_1).map_err(|e| TutorialError::Manifest(e.to_string()))?;
    let config = doc["data"]["config"]
        .as_str()
        .ok_or_else(|| TutorialError::Manifest("no data.config".to_string()))?;
    let parsed = crate::metallb::config::parse(config)
        .map_err(|e| TutorialError::Manifest(e.to_string()))?;
    Ok(parsed.peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_topology_fits_the_tutorial() {
        assert!(check_topology(&Topology::tutorial()).is_ok());
    }

    #[test]
    fn routers_in_other_ases_are_refused_with_both_ases_named() {
        let multi = Topology::parse(include_str!("../../lab/multi-node.yaml")).expect("topology");
        let e = check_topology(&multi).expect_err("AS 64512/64513 cannot peer with AS 64500");
        let text = e.to_string();
        assert!(
            text.contains("router bird is AS 64512")
                && text.contains("router quagga is AS 64513")
                && text.contains("peers with AS 64500 as AS 64500"),
            "{text}"
        );
    }
}
