//! What a container image becomes in the lab: MetalLB's controller and speaker images start
//! our `crate::metallb` components as tasks, the test-router images start routers, and every
//! other image (nginx, ...) is a simulated process that only writes a start-up log line.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bgp::driver::Dialer;
use crate::lab::topology::{RouterKind, Topology};

/// One pod-log line per call.
pub use crate::metallb::LogSink;

/// What a container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Controller,
    Speaker,
    /// The named topology routers.
    Routers(Vec<String>),
    Simulated,
}

/// Classify an image: `metallb/controller`, `metallb/speaker` (any registry, any tag), router
/// images (`test-bgp-router` plays all routers, `*bird*` the BIRD ones, `*frr*`/`*quagga*`
/// the FRR ones), anything else simulated.
pub fn classify(image: &str, topo: &Topology) -> Role {
    let repo = image
        .rsplit_once(':')
        .map_or(image, |(r, tag)| if tag.contains('/') { image } else { r });
    if repo.ends_with("metallb/controller") {
        return Role::Controller;
    }
    if repo.ends_with("metallb/speaker") {
        return Role::Speaker;
    }
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let kind = if repo.contains("test-bgp-router") {
        None
    } else if last.contains("bird") {
        Some(RouterKind::Bird)
    } else if last.contains("frr") || last.contains("quagga") {
        Some(RouterKind::Frr)
    } else {
        return Role::Simulated;
    };
    let names: Vec<String> = topo
        .routers
        .iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .map(|r| r.name.clone())
        .collect();
    if names.is_empty() {
        Role::Simulated
    } else {
        Role::Routers(names)
    }
}

/// The MetalLB release an image plays, from its tag (`quay.io/metallb/controller:v0.15.3` is
/// v0.15): it decides whether the custom resources are read and how a configuration that takes
/// addresses away is handled. A tag that names no known release (`main`, none) plays v0.12, the
/// ConfigMap release our manifests/metallb.yaml installs.
pub fn metallb_version(image: &str) -> crate::config::Version {
    image
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .and_then(|(_, tag)| tag.parse().ok())
        .unwrap_or(crate::config::Version::LATEST)
}

/// Everything a MetalLB component needs from the lab.
#[derive(Clone)]
pub struct Launch {
    pub client: Option<kube::Client>,
    pub node_name: String,
    pub node_address: IpAddr,
    /// The release the image plays ([`metallb_version`]).
    pub version: crate::config::Version,
    pub dialer: Arc<dyn Dialer>,
    pub log: LogSink,
    /// Told where the speaker's metrics listener is bound (the pod proxy's target).
    pub metrics_bound: Option<Arc<dyn Fn(std::net::SocketAddr) + Send + Sync>>,
    /// Called each time the component is started again after it ended or was killed (the
    /// kubelet's container restart: restart count, previous log).
    pub restarted: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// A started component: stop it by sending `true`, then await (or abort) the task.
pub struct Task {
    pub stop: watch::Sender<bool>,
    pub handle: JoinHandle<()>,
    /// Kill the running instance at once, as SIGKILL would (its sockets close without a
    /// goodbye); the supervisor then restarts it like any component that ended.
    pub kill: Arc<tokio::sync::Notify>,
}

impl Task {
    /// Signal stop, give the task a moment, then abort it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.handle.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(2), self.handle)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Start the controller or speaker for `role` (other roles start nothing). A component that
/// stops on its own is restarted with a capped backoff, as the kubelet would.
pub fn start(role: &Role, l: Launch) -> Option<Task> {
    if !matches!(role, Role::Controller | Role::Speaker) {
        return None;
    }
    let (stop, rx) = watch::channel(false);
    let role = role.clone();
    let kill = Arc::new(tokio::sync::Notify::new());
    let killed = kill.clone();
    let handle = tokio::spawn(async move {
        const FIRST: std::time::Duration = std::time::Duration::from_secs(1);
        const MAX: std::time::Duration = std::time::Duration::from_secs(10);
        let mut backoff = FIRST;
        loop {
            let fut = match role {
                Role::Controller => metallb_glue::controller(l.clone(), rx.clone()),
                _ => metallb_glue::speaker(l.clone(), rx.clone()),
            };
            let Some(fut) = fut else { return };
            let started = tokio::time::Instant::now();
            // Dropping the future on a kill drops its sockets and tasks' handles at once.
            let result = tokio::select! {
                r = fut => Some(r),
                _ = killed.notified() => None,
            };
            if *rx.borrow() {
                return;
            }
            // A run that lasted a while was healthy: start the backoff over, as the kubelet does.
            if started.elapsed() >= MAX {
                backoff = FIRST;
            }
            match result {
                None => (l.log)(&format!("component killed; restarting in {backoff:?}")),
                Some(Err(e)) => {
                    (l.log)(&format!("component exited: {e}; restarting in {backoff:?}"))
                }
                Some(Ok(())) => (l.log)(&format!("component stopped; restarting in {backoff:?}")),
            }
            let mut stop = rx.clone();
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => return,
            }
            backoff = (backoff * 2).min(MAX);
            if let Some(restarted) = &l.restarted {
                restarted();
            }
        }
    });
    Some(Task { stop, handle, kill })
}

mod metallb_glue {
    //! The only place that calls into `crate::metallb`.
    use super::Launch;
    use crate::metallb::{self, ControllerOptions, SpeakerOptions};
    use futures_util::future::BoxFuture;
    use futures_util::FutureExt;
    use tokio::sync::watch;

    pub type Run = BoxFuture<'static, Result<(), String>>;

    pub fn controller(l: Launch, stop: watch::Receiver<bool>) -> Option<Run> {
        let Some(client) = l.client else {
            (l.log)("no API client: the controller cannot start");
            return None;
        };
        let opts = ControllerOptions {
            log: Some(l.log),
            version: l.version,
            ..ControllerOptions::default()
        };
        Some(run(metallb::run_controller(client, opts, stop)))
    }

    pub fn speaker(l: Launch, stop: watch::Receiver<bool>) -> Option<Run> {
        let Some(client) = l.client else {
            (l.log)("no API client: the speaker cannot start");
            return None;
        };
        // Like a hostNetwork speaker on its node address; port 0 so nodes never collide.
        let metrics_ip = if l.node_address.is_loopback() {
            l.node_address
        } else {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        };
        let opts = SpeakerOptions {
            dialer: l.dialer,
            log: Some(l.log),
            metrics_listen: Some(std::net::SocketAddr::new(metrics_ip, 0)),
            metrics_bound: l.metrics_bound,
            version: l.version,
            ..SpeakerOptions::new(l.node_name, l.node_address)
        };
        Some(run(metallb::run_speaker(client, opts, stop)))
    }

    /// A component's run, its error reported with its whole chain of causes.
    fn run(
        fut: impl std::future::Future<Output = Result<(), metallb::Error>> + Send + 'static,
    ) -> Run {
        async move { fut.await.map_err(|e| error_chain(&e)) }.boxed()
    }

    fn error_chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            s.push_str(&format!(": {c}"));
            cur = c.source();
        }
        s
    }
}

/// The log line a simulated container writes when it starts.
pub fn simulated_banner(image: &str) -> String {
    if image.contains("nginx") {
        "/docker-entrypoint.sh: Configuration complete; ready for start up".into()
    } else {
        format!("{image}: started (simulated by metallbctl lab)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_map_to_roles() {
        let t = Topology::tutorial();
        assert_eq!(classify("metallb/speaker:v0.12.1", &t), Role::Speaker);
        assert_eq!(
            classify("quay.io/metallb/controller:v0.12.1", &t),
            Role::Controller
        );
        assert_eq!(
            classify("metallb/test-bgp-router:v0.6.2", &t),
            Role::Routers(vec!["bird".into(), "quagga".into()])
        );
        assert_eq!(
            classify("quay.io/frrouting/frr:9.1.0", &t),
            Role::Routers(vec!["quagga".into()])
        );
        assert_eq!(
            classify("ghcr.io/sonix-network/bird:2.15", &t),
            Role::Routers(vec!["bird".into()])
        );
        assert_eq!(classify("nginx:1", &t), Role::Simulated);
        assert_eq!(classify("localhost:5000/nginx", &t), Role::Simulated);
        assert_eq!(classify("", &t), Role::Simulated);
    }

    #[test]
    fn image_tags_name_the_release() {
        use crate::config::Version;
        assert_eq!(
            metallb_version("quay.io/metallb/controller:v0.15.3"),
            Version::v0(15)
        );
        assert_eq!(metallb_version("metallb/speaker:v0.12.1"), Version::v0(12));
        assert_eq!(metallb_version("metallb/speaker:main"), Version::LATEST);
        assert_eq!(
            metallb_version("localhost:5000/metallb/speaker"),
            Version::LATEST
        );
    }
}
