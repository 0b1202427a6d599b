//! `--router NAME=listen:IP:PORT,as=N`: metallbctl itself is the passive BGP peer MetalLB
//! announces to (the built-in router, `bgp::router`), so users see exactly what MetalLB puts
//! on the wire. Also the conversion of the built-in router's snapshot into a [`RouterView`],
//! which the lab uses for its built-in routers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bgp::router::{Neighbor, Router, RouterConfig, RouterSnapshot};
use crate::status::model::{RouterKind, RouterRoute, RouterSession, RouterView, SessionState};
use crate::status::source::{RouterSource, SourceFuture};

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The view of a built-in router snapshot taken at `now`.
pub fn builtin_view(
    name: &str,
    kind: RouterKind,
    snap: &RouterSnapshot,
    now: SystemTime,
) -> RouterView {
    let now_ms = unix_ms(now);
    let mut routes = Vec::new();
    let sessions = snap
        .peers
        .iter()
        .map(|p| {
            let peer = p.peer.clone();
            for r in &p.routes {
                let Ok(prefix) = r.prefix.parse() else {
                    continue;
                };
                let mut communities = r.communities.clone();
                communities.extend(r.large_communities.iter().cloned());
                routes.push(RouterRoute {
                    prefix,
                    next_hop: r.next_hop.as_deref().and_then(|n| n.parse().ok()),
                    as_path: r
                        .as_path
                        .split_whitespace()
                        .filter_map(|a| a.trim_matches(['{', '}']).parse().ok())
                        .collect(),
                    local_pref: r.local_pref,
                    communities,
                    from_peer: Some(peer.clone()),
                    since_ms: Some(now_ms.saturating_sub(r.age_secs * 1000)),
                });
            }
            let state = SessionState::parse(p.state.as_str());
            RouterSession {
                peer,
                peer_as: Some(p.peer_as),
                state,
                since_ms: p
                    .established_unix
                    .filter(|_| state.is_up())
                    .map(|s| s * 1000),
                last_error: p.last_error.clone().filter(|e| !e.is_empty()),
                received: p.routes.len() as u64,
            }
        })
        .collect();
    RouterView {
        name: name.to_string(),
        kind,
        address: Some(snap.listen.clone()),
        asn: Some(snap.local_as),
        sessions,
        routes,
        raw: serde_json::to_string_pretty(snap).ok(),
    }
}

/// What `listen:` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenSpec {
    pub listen: SocketAddr,
    pub asn: u32,
    /// The peers' AS (default: `asn`, iBGP like the tutorial).
    pub peer_as: Option<u32>,
    /// The speakers' addresses allowed to connect (default: the cluster's node addresses).
    pub peers: Vec<IpAddr>,
}

/// A passive BGP peer run by metallbctl.
pub struct ListenSource {
    name: String,
    router: Router,
}

impl ListenSource {
    /// Bind and start accepting `spec.peers`.
    pub async fn start(name: &str, spec: &ListenSpec) -> Result<ListenSource, String> {
        if spec.peers.is_empty() {
            return Err(format!(
                "router {name}: listen needs the speakers' addresses (peer=ADDR), and the cluster gave none"
            ));
        }
        let router_id = match spec.listen.ip() {
            IpAddr::V4(a) if !a.is_unspecified() => a,
            _ => Ipv4Addr::new(127, 0, 0, 1),
        };
        let cfg = RouterConfig {
            listen: spec.listen,
            local_as: spec.asn,
            router_id,
            hold_time: 90,
            neighbors: spec
                .peers
                .iter()
                .map(|a| Neighbor {
                    addr: *a,
                    peer_as: spec.peer_as.unwrap_or(spec.asn),
                    md5_password: None,
                })
                .collect(),
        };
        let router = Router::bind(cfg)
            .await
            .map_err(|e| format!("router {name}: {e}"))?;
        Ok(ListenSource {
            name: name.to_string(),
            router,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.router.local_addr()
    }

    /// Close the sessions and stop listening.
    pub async fn shutdown(self) {
        self.router.shutdown(Duration::from_millis(500)).await;
    }
}

impl RouterSource for ListenSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        let v = builtin_view(
            &self.name,
            RouterKind::Listen,
            &self.router.snapshot(),
            SystemTime::now(),
        );
        Box::pin(async move { Ok(vec![v]) })
    }
}
