//! Speaker metrics through the API server's pod proxy
//! (`/api/v1/namespaces/NS/pods/NAME:7472/proxy/metrics`), so the same code works on a real
//! cluster and on the lab (whose API server implements the proxy).

use crate::status::prom;
use crate::status::source::{SourceFuture, SpeakerPod, SpeakerReading, SpeakerSource};

/// MetalLB's metrics port.
pub const METRICS_PORT: u16 = 7472;

/// Scrapes speakers through the API server.
pub struct PodProxySpeakers {
    pub client: kube::Client,
    pub port: u16,
}

/// The proxy path of a pod's metrics.
pub fn metrics_path(pod: &SpeakerPod, port: u16) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}:{port}/proxy/metrics",
        pod.namespace, pod.name
    )
}

impl SpeakerSource for PodProxySpeakers {
    fn scrape<'a>(&'a self, pod: &'a SpeakerPod) -> SourceFuture<'a, SpeakerReading> {
        Box::pin(async move {
            let req = http::Request::get(metrics_path(pod, self.port))
                .body(Vec::new())
                .map_err(|e| e.to_string())?;
            let text = self
                .client
                .request_text(req)
                .await
                .map_err(|e| crate::sources::kube_error(&e))?;
            let samples = prom::parse_samples(&text);
            Ok(SpeakerReading {
                sessions: prom::speaker_sessions(&samples, &pod.node, Some(&pod.name)),
                config_stale: prom::config_stale(&samples),
            })
        })
    }
}
