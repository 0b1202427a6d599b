//! The speaker's Prometheus metrics, in the text exposition format on `/metrics`:
//! `metallb_bgp_session_up`, `metallb_bgp_announced_prefixes_total`,
//! `metallb_bgp_updates_total` (label `peer` = `addr:port`) and
//! `metallb_k8s_client_config_loaded_bool`, `metallb_k8s_client_config_stale_bool`.
//!
//! metallbctl adds, under its own prefix so real MetalLB's series stay as they are:
//! `metallbctl_bgp_session_info{peer,state,local_as,peer_as} 1`,
//! `metallbctl_bgp_session_established_timestamp_seconds{peer}` (Established sessions only) and
//! `metallbctl_bgp_session_last_error_info{peer,error} 1` (sessions with an error). The status
//! model's parser (`crate::status::prom`) reads both MetalLB's and these.
//!
//! Values are read at scrape time from the sessions' shared status; no metrics crate.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Error;
use crate::bgp::session::State as SessionState;
use crate::bgp::status::PeerState;

/// One session's figures: label, up, advertised prefixes, UPDATEs sent.
type Row = (String, bool, usize, u64);

/// What metallbctl adds per session: state, ASes, established since, last error.
struct Extra {
    label: String,
    state: &'static str,
    local_as: u32,
    peer_as: u32,
    established_unix: Option<u64>,
    last_error: Option<String>,
}

/// A Prometheus label value, escaped (backslash, double quote, newline).
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[derive(Default)]
struct Inner {
    config_loaded: bool,
    config_stale: bool,
    peers: Vec<(String, Arc<Mutex<PeerState>>)>,
}

/// What the speaker reports.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Record whether a configuration is in force and whether a newer one was rejected.
    pub fn set_config(&self, loaded: bool, stale: bool) {
        if let Ok(mut i) = self.inner.lock() {
            i.config_loaded = loaded;
            i.config_stale = stale;
        }
    }

    /// Replace the set of sessions reported, as (`addr:port`, status) pairs.
    pub fn set_peers(&self, peers: Vec<(String, Arc<Mutex<PeerState>>)>) {
        if let Ok(mut i) = self.inner.lock() {
            i.peers = peers;
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let Ok(i) = self.inner.lock() else {
            return String::new();
        };
        let rows: Vec<Row> = i
            .peers
            .iter()
            .filter_map(|(label, st)| {
                st.lock().ok().map(|s| {
                    (
                        label.clone(),
                        s.state == SessionState::Established,
                        s.advertised,
                        s.sent.update,
                    )
                })
            })
            .collect();
        let extras: Vec<Extra> = i
            .peers
            .iter()
            .filter_map(|(label, st)| {
                st.lock().ok().map(|s| Extra {
                    label: label.clone(),
                    state: s.state.as_str(),
                    local_as: s.local_as,
                    peer_as: s.peer_as,
                    established_unix: s
                        .established_at
                        .filter(|_| s.state == SessionState::Established)
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs()),
                    last_error: s.last_error.clone().filter(|e| !e.is_empty()),
                })
            })
            .collect();
        let mut out = String::new();
        let mut family = |name: &str, help: &str, kind: &str, value: &dyn Fn(&Row) -> String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for r in &rows {
                let _ = writeln!(out, "{name}{{peer=\"{}\"}} {}", r.0, value(r));
            }
        };
        family(
            "metallb_bgp_session_up",
            "BGP session state (1 is up, 0 is down)",
            "gauge",
            &|r| u8::from(r.1).to_string(),
        );
        family(
            "metallb_bgp_announced_prefixes_total",
            "Number of prefixes currently being advertised on the BGP session",
            "gauge",
            &|r| r.2.to_string(),
        );
        family(
            "metallb_bgp_updates_total",
            "Number of BGP UPDATE messages sent",
            "counter",
            &|r| r.3.to_string(),
        );
        for (name, help, v) in [
            (
                "metallb_k8s_client_config_loaded_bool",
                "1 if the MetalLB configuration was successfully loaded at least once",
                i.config_loaded,
            ),
            (
                "metallb_k8s_client_config_stale_bool",
                "1 if running on a stale configuration, because the latest config failed to load",
                i.config_stale,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", u8::from(v));
        }
        render_extras(&mut out, &extras);
        out
    }
}

fn render_extras(out: &mut String, extras: &[Extra]) {
    let _ = writeln!(
        out,
        "# HELP metallbctl_bgp_session_info BGP session state name and ASes (always 1)"
    );
    let _ = writeln!(out, "# TYPE metallbctl_bgp_session_info gauge");
    for e in extras {
        let _ = writeln!(
            out,
            "metallbctl_bgp_session_info{{peer=\"{}\",state=\"{}\",local_as=\"{}\",peer_as=\"{}\"}} 1",
            escape_label(&e.label),
            e.state,
            e.local_as,
            e.peer_as
        );
    }
    let _ = writeln!(
        out,
        "# HELP metallbctl_bgp_session_established_timestamp_seconds When the BGP session was established (unix seconds)"
    );
    let _ = writeln!(
        out,
        "# TYPE metallbctl_bgp_session_established_timestamp_seconds gauge"
    );
    for e in extras {
        if let Some(t) = e.established_unix {
            let _ = writeln!(
                out,
                "metallbctl_bgp_session_established_timestamp_seconds{{peer=\"{}\"}} {t}",
                escape_label(&e.label)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP metallbctl_bgp_session_last_error_info The BGP session's last error (always 1)"
    );
    let _ = writeln!(out, "# TYPE metallbctl_bgp_session_last_error_info gauge");
    for e in extras {
        if let Some(err) = &e.last_error {
            let _ = writeln!(
                out,
                "metallbctl_bgp_session_last_error_info{{peer=\"{}\",error=\"{}\"}} 1",
                escape_label(&e.label),
                escape_label(err)
            );
        }
    }
}

async fn scrape(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m.render(),
    )
}

/// Serve `/metrics` on `addr` until `shutdown` becomes true. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Metrics { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| Error::Metrics { addr, source })?;
    let app = axum::Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                super::stopped(&mut shutdown).await;
            })
            .await;
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sessions_and_config_state() {
        let m = Metrics::default();
        let mut st = PeerState::new("10.96.0.100:179".into(), 64500, 64500);
        st.state = SessionState::Established;
        st.advertised = 3;
        st.sent.update = 2;
        st.last_error = Some("say \"hi\"\nbye".into());
        m.set_peers(vec![(st.peer.clone(), Arc::new(Mutex::new(st)))]);
        m.set_config(true, true);
        let text = m.render();
        for want in [
            "# TYPE metallb_bgp_session_up gauge",
            "metallb_bgp_session_up{peer=\"10.96.0.100:179\"} 1",
            "metallb_bgp_announced_prefixes_total{peer=\"10.96.0.100:179\"} 3",
            "# TYPE metallb_bgp_updates_total counter",
            "metallb_bgp_updates_total{peer=\"10.96.0.100:179\"} 2",
            "metallb_k8s_client_config_loaded_bool 1",
            "metallb_k8s_client_config_stale_bool 1",
            "metallbctl_bgp_session_info{peer=\"10.96.0.100:179\",state=\"Established\",local_as=\"64500\",peer_as=\"64500\"} 1",
            "metallbctl_bgp_session_last_error_info{peer=\"10.96.0.100:179\",error=\"say \\\"hi\\\"\\nbye\"} 1",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }
}
