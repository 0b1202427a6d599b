//! `lab up --tutorial`: install MetalLB and the test routers into a running lab, apply the
//! tutorial's first two manifests (the address pool and nginx), then wait until nginx has an
//! EXTERNAL-IP and every router has learned it. Progress goes through
//! [`crate::kube::install::Progress`]; the caller prints the outcome.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;

use super::control::{self, ControlError, LabStatus, Layout};
use crate::kube::install::{self, InstallError, InstallSettings, Progress};

/// The tutorial's manifests, as the README runs them.
pub const TUTORIAL_1: &str = include_str!("../../manifests/tutorial-1.yaml");
pub const TUTORIAL_2: &str = include_str!("../../manifests/tutorial-2.yaml");

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
}

/// What the tutorial installs: MetalLB at its default version with the test routers, waiting
/// up to a minute for the rollout.
pub fn install_settings() -> InstallSettings {
    InstallSettings {
        with_test_router: true,
        timeout: Duration::from_secs(60),
        ..InstallSettings::default()
    }
}

/// Install MetalLB and the routers through `kubeconfig`, apply tutorial-1 and tutorial-2, and
/// return nginx's EXTERNAL-IP once the controller assigned it.
pub async fn install_and_apply(
    kubeconfig: &Path,
    progress: &mut dyn Progress,
) -> Result<String, TutorialError> {
    let (client, server) = crate::kube::connect(None, Some(kubeconfig)).await?;
    install::install(&client, &server, &install_settings(), progress).await?;
    for m in [TUTORIAL_1, TUTORIAL_2] {
        install::apply_all(&client, &install::documents(m)?, false, progress).await?;
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

/// Poll the lab's status until every router learned `ip/32`, or [`WAIT`] passed; returns the
/// last status either way (the caller shows what each router has).
pub fn wait_routes(layout: &Layout, ip: &str) -> Result<LabStatus, ControlError> {
    let t = Instant::now();
    loop {
        let st = control::status(&layout.socket(), Duration::from_secs(5))?;
        if all_routers_learned(&st, ip) || t.elapsed() > WAIT {
            return Ok(st);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
