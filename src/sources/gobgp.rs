//! GoBGP through its CLI with JSON (`gobgp -u HOST -p PORT -j neighbor` and `... global rib`).
//! If `gobgp` is not installed the source fails with that message; it never panics.

use std::time::Duration;

use ipnet::IpNet;
use serde_json::Value;

use crate::bgp::status::format_community;
use crate::status::model::{RouterKind, RouterRoute, RouterSession, RouterView, SessionState};
use crate::status::source::{RouterSource, SourceFuture};

/// The gobgp binary.
pub const GOBGP: &str = "gobgp";

/// GoBGP's numeric session states (protobuf enum), or their names.
fn state(v: &Value) -> SessionState {
    match v.as_u64() {
        Some(1) => SessionState::Idle,
        Some(2) => SessionState::Connect,
        Some(3) => SessionState::Active,
        Some(4) => SessionState::OpenSent,
        Some(5) => SessionState::OpenConfirm,
        Some(6) => SessionState::Established,
        Some(_) => SessionState::Unknown,
        None => SessionState::parse(v.as_str().unwrap_or("")),
    }
}

fn u32_of(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// Sessions from `gobgp -j neighbor`.
pub fn parse_neighbors(v: &Value) -> Vec<RouterSession> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let st = state(&n["state"]["session_state"]);
            let uptime = n["timers"]["state"]["uptime"]["seconds"].as_u64();
            RouterSession {
                peer: n["conf"]["neighbor_address"]
                    .as_str()
                    .or_else(|| n["state"]["neighbor_address"].as_str())
                    .unwrap_or("")
                    .to_string(),
                peer_as: u32_of(&n["conf"]["peer_asn"]).or_else(|| u32_of(&n["state"]["peer_asn"])),
                state: st,
                since_ms: uptime.filter(|_| st.is_up()).map(|s| s * 1000),
                last_error: None,
                received: n["afi_safis"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["state"]["received"].as_u64())
                    .sum(),
            }
        })
        .collect()
}

/// Routes from `gobgp -j global rib`: prefix -> paths with numbered attributes.
pub fn parse_rib(v: &Value) -> Vec<RouterRoute> {
    let mut out = Vec::new();
    let Some(map) = v.as_object() else {
        return out;
    };
    for (prefix, paths) in map {
        let Ok(prefix) = prefix.parse::<IpNet>() else {
            continue;
        };
        for p in paths.as_array().into_iter().flatten() {
            let mut r = RouterRoute {
                prefix,
                from_peer: p["neighbor-ip"].as_str().map(str::to_string),
                since_ms: p["age"]
                    .as_u64()
                    .filter(|a| *a > 1_000_000_000)
                    .map(|a| a * 1000),
                ..RouterRoute::default()
            };
            for a in p["attrs"].as_array().into_iter().flatten() {
                match a["type"].as_u64() {
                    Some(2) => {
                        for seg in a["as_paths"].as_array().into_iter().flatten() {
                            r.as_path.extend(
                                seg["asns"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(u32_of),
                            );
                        }
                    }
                    Some(3) => r.next_hop = a["nexthop"].as_str().and_then(|n| n.parse().ok()),
                    Some(5) => r.local_pref = u32_of(&a["value"]),
                    Some(8) => r.communities.extend(
                        a["communities"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(u32_of)
                            .map(format_community),
                    ),
                    Some(14) if r.next_hop.is_none() => {
                        r.next_hop = a["nexthop"].as_str().and_then(|n| n.parse().ok());
                    }
                    _ => {}
                }
            }
            out.push(r);
        }
    }
    out
}

/// A GoBGP daemon's API at `host:port`.
pub struct GobgpSource {
    pub name: String,
    pub addr: String,
    pub timeout: Duration,
    pub gobgp: String,
}

impl GobgpSource {
    pub fn new(name: &str, addr: &str, timeout: Duration) -> Self {
        GobgpSource {
            name: name.to_string(),
            addr: addr.to_string(),
            timeout,
            gobgp: GOBGP.to_string(),
        }
    }

    fn args(&self, cmd: &[&str]) -> Vec<String> {
        let mut a = Vec::new();
        let (host, port) = match self.addr.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => (h.trim_matches(['[', ']']), Some(p)),
            _ => (self.addr.as_str(), None),
        };
        if !host.is_empty() {
            a.extend(["-u".to_string(), host.to_string()]);
        }
        if let Some(p) = port {
            a.extend(["-p".to_string(), p.to_string()]);
        }
        a.push("-j".to_string());
        a.extend(cmd.iter().map(|s| s.to_string()));
        a
    }
}

impl RouterSource for GobgpSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        Box::pin(async move {
            let n = super::cmd::run(&self.gobgp, self.args(&["neighbor"]), self.timeout).await?;
            let rib =
                super::cmd::run(&self.gobgp, self.args(&["global", "rib"]), self.timeout).await?;
            let nv: Value = serde_json::from_str(&n).map_err(|e| format!("gobgp neighbor: {e}"))?;
            let rv: Value = serde_json::from_str(&rib).unwrap_or(Value::Null);
            Ok(vec![RouterView {
                name: self.name.clone(),
                kind: RouterKind::Gobgp,
                address: Some(self.addr.clone()),
                asn: None,
                sessions: parse_neighbors(&nv),
                routes: parse_rib(&rv),
                raw: Some(format!(
                    "$ gobgp neighbor -j\n{n}\n$ gobgp global rib -j\n{rib}"
                )),
            }])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_neighbors_and_rib() {
        let n = serde_json::json!([{"conf": {"neighbor_address": "127.0.0.1", "peer_asn": 65001},
            "state": {"session_state": 6}, "timers": {"state": {"uptime": {"seconds": 1764499990}}},
            "afi_safis": [{"state": {"received": 2}}]},
            {"conf": {"neighbor_address": "127.0.0.10", "peer_asn": 65004}, "state": {"session_state": 3}}]);
        let s = parse_neighbors(&n);
        assert_eq!(s[0].state, SessionState::Established);
        assert_eq!(s[0].received, 2);
        assert_eq!(s[0].since_ms, Some(1_764_499_990_000));
        assert_eq!(s[1].state, SessionState::Active);
        assert_eq!(s[1].peer_as, Some(65004));
        let rib = serde_json::json!({"198.51.100.10/32": [{"neighbor-ip": "127.0.0.1", "age": 1764499999,
            "attrs": [{"type": 1, "value": 0},
                      {"type": 2, "as_paths": [{"segment_type": 2, "num": 1, "asns": [65001]}]},
                      {"type": 3, "nexthop": "192.0.2.1"}, {"type": 5, "value": 100},
                      {"type": 8, "communities": [4259840001u64]}]}]});
        let r = parse_rib(&rib);
        assert_eq!(r[0].as_path, vec![65001]);
        assert_eq!(r[0].next_hop, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(r[0].local_pref, Some(100));
        assert_eq!(r[0].communities, vec!["65000:1"]);
    }

    #[tokio::test]
    async fn a_missing_gobgp_is_a_clear_error() {
        let mut g = GobgpSource::new("g", "127.0.0.1:50051", Duration::from_secs(1));
        g.gobgp = "/nonexistent/gobgp".into();
        let e = g.read().await.unwrap_err();
        assert!(e.contains("/nonexistent/gobgp is not installed"), "{e}");
        assert_eq!(
            g.args(&["neighbor"]),
            vec!["-u", "127.0.0.1", "-p", "50051", "-j", "neighbor"]
        );
    }
}
