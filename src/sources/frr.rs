//! FRR through vtysh's JSON: `show bgp summary json` and `show bgp neighbors json` for
//! sessions, `show bgp ipv4|ipv6 unicast json` for routes, and per-prefix detail JSON for
//! communities (the table view lacks them; at most [`DETAIL_LIMIT`] prefixes are asked, in
//! one vtysh run). The parsers are pure and also serve the lab's FRR routers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde_json::Value;

use crate::status::model::{RouterKind, RouterRoute, RouterSession, RouterView, SessionState};
use crate::status::source::{RouterSource, SourceFuture};

/// The vtysh binary.
pub const VTYSH: &str = "vtysh";
/// Most prefixes whose communities are asked per poll.
pub const DETAIL_LIMIT: usize = 200;

/// The commands of the first vtysh run, in output order.
pub const STATE_COMMANDS: [&str; 4] = [
    "show bgp summary json",
    "show bgp neighbors json",
    "show bgp ipv4 unicast json",
    "show bgp ipv6 unicast json",
];

/// Split vtysh's output of several `json` commands into the JSON documents.
pub fn json_documents(out: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

fn get_u32(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// Sessions and the local AS from `show bgp summary json` and `show bgp neighbors json`.
pub fn parse_sessions(summary: &Value, neighbors: &Value) -> (Vec<RouterSession>, Option<u32>) {
    let mut out = Vec::new();
    let mut asn = None;
    for family in ["ipv4Unicast", "ipv6Unicast"] {
        let f = &summary[family];
        asn = asn.or_else(|| get_u32(&f["as"]));
        let Some(peers) = f["peers"].as_object() else {
            continue;
        };
        for (addr, p) in peers {
            if out.iter().any(|s: &RouterSession| &s.peer == addr) {
                continue;
            }
            let n = &neighbors[addr];
            let state = SessionState::parse(p["state"].as_str().unwrap_or(""));
            let since_ms = p["peerUptimeEstablishedEpoch"]
                .as_u64()
                .filter(|_| state.is_up())
                .map(|s| s * 1000);
            let last_error = n["lastResetDueTo"]
                .as_str()
                .or_else(|| n["lastErrorCodeSubcode"].as_str())
                .filter(|e| !e.is_empty())
                .map(str::to_string);
            out.push(RouterSession {
                peer: addr.clone(),
                peer_as: get_u32(&p["remoteAs"]),
                state,
                since_ms,
                last_error,
                received: p["pfxRcd"].as_u64().unwrap_or(0),
            });
        }
    }
    (out, asn)
}

/// Routes from `show bgp ipv4|ipv6 unicast json`: every path of every prefix.
pub fn parse_routes(rib: &Value) -> Vec<RouterRoute> {
    let Some(routes) = rib["routes"].as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (prefix, paths) in routes {
        let Ok(prefix) = prefix.parse::<IpNet>() else {
            continue;
        };
        for p in paths.as_array().into_iter().flatten() {
            out.push(RouterRoute {
                prefix,
                next_hop: p["nexthops"][0]["ip"].as_str().and_then(|a| a.parse().ok()),
                as_path: p["path"]
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|a| a.parse().ok())
                    .collect(),
                local_pref: get_u32(&p["locPrf"]).or_else(|| get_u32(&p["localpref"])),
                communities: Vec::new(),
                from_peer: p["peerId"].as_str().map(str::to_string),
                since_ms: None,
            });
        }
    }
    out
}

/// Fill communities and age (`lastUpdate.epoch`) from per-prefix detail documents
/// (`show bgp ipv4 unicast P json`).
pub fn apply_details(routes: &mut [RouterRoute], details: &[Value]) {
    type Detail = (Vec<String>, Option<u64>);
    let mut by: BTreeMap<(String, String), Detail> = BTreeMap::new();
    for d in details {
        let Some(prefix) = d["prefix"].as_str() else {
            continue;
        };
        for p in d["paths"].as_array().into_iter().flatten() {
            let peer = p["peer"]["peerId"].as_str().unwrap_or("").to_string();
            let mut c: Vec<String> = Vec::new();
            for key in ["community", "largeCommunity"] {
                if let Some(s) = p[key]["string"].as_str() {
                    c.extend(s.split_whitespace().map(str::to_string));
                }
            }
            let since = p["lastUpdate"]["epoch"].as_u64().map(|s| s * 1000);
            by.insert((prefix.to_string(), peer), (c, since));
        }
    }
    for r in routes {
        let key = (
            r.prefix.to_string(),
            r.from_peer.clone().unwrap_or_default(),
        );
        if let Some((c, since)) = by.get(&key) {
            r.communities = c.clone();
            r.since_ms = r.since_ms.or(*since);
        }
    }
}

/// A router view from the documents of [`STATE_COMMANDS`] (in order) and the detail ones.
pub fn view(name: &str, state: &[Value], details: &[Value], raw: Option<String>) -> RouterView {
    let null = Value::Null;
    let doc = |i: usize| state.get(i).unwrap_or(&null);
    let (sessions, asn) = parse_sessions(doc(0), doc(1));
    let mut routes = parse_routes(doc(2));
    routes.extend(parse_routes(doc(3)));
    apply_details(&mut routes, details);
    RouterView {
        name: name.to_string(),
        kind: RouterKind::Frr,
        asn,
        sessions,
        routes,
        raw,
        ..RouterView::default()
    }
}

/// The per-prefix detail commands for `routes` (at most [`DETAIL_LIMIT`]).
pub fn detail_commands(routes: &[RouterRoute]) -> Vec<String> {
    let mut prefixes: Vec<IpNet> = routes.iter().map(|r| r.prefix).collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
        .iter()
        .take(DETAIL_LIMIT)
        .map(|p| {
            let fam = if matches!(p, IpNet::V4(_)) {
                "ipv4"
            } else {
                "ipv6"
            };
            format!("show bgp {fam} unicast {p} json")
        })
        .collect()
}

/// FRR reached with vtysh (optionally `--vty_socket DIR`).
pub struct FrrSource {
    pub name: String,
    pub vty_dir: Option<PathBuf>,
    pub timeout: Duration,
    pub vtysh: String,
}

impl FrrSource {
    pub fn new(name: &str, vty_dir: Option<PathBuf>, timeout: Duration) -> Self {
        FrrSource {
            name: name.to_string(),
            vty_dir,
            timeout,
            vtysh: VTYSH.to_string(),
        }
    }
}

/// vtysh arguments for `commands` against bgpd (and its socket directory, if given).
pub fn vtysh_args(vty_dir: Option<&std::path::Path>, commands: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(d) = vty_dir {
        args.push("--vty_socket".to_string());
        args.push(d.display().to_string());
    }
    args.push("-d".to_string());
    args.push("bgpd".to_string());
    for c in commands {
        args.push("-c".to_string());
        args.push(c.clone());
    }
    args
}

impl RouterSource for FrrSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        Box::pin(async move {
            let dir = self.vty_dir.as_deref();
            let cmds: Vec<String> = STATE_COMMANDS.iter().map(|c| c.to_string()).collect();
            let out = super::cmd::run(&self.vtysh, vtysh_args(dir, &cmds), self.timeout).await?;
            let state = json_documents(&out);
            if state.is_empty() {
                let why = out.lines().next().unwrap_or("no output").trim().to_string();
                return Err(format!("vtysh gave no JSON: {why}"));
            }
            let routes = view(&self.name, &state, &[], None).routes;
            let mut more = detail_commands(&routes);
            let n_details = more.len();
            more.push("show bgp summary".to_string());
            more.push("show bgp ipv4 unicast".to_string());
            let out2 = super::cmd::run(&self.vtysh, vtysh_args(dir, &more), self.timeout)
                .await
                .unwrap_or_default();
            let (details, raw) = split_details(&out2, n_details);
            let mut v = view(&self.name, &state, &details, Some(raw));
            v.address = self.vty_dir.as_ref().map(|d| d.display().to_string());
            Ok(vec![v])
        })
    }
}

/// The first `n` JSON documents of `out`, and the text after them.
pub fn split_details(out: &str, n: usize) -> (Vec<Value>, String) {
    let mut de = serde_json::Deserializer::from_str(out).into_iter::<Value>();
    let mut docs = Vec::new();
    let mut end = 0;
    for _ in 0..n {
        match de.next() {
            Some(Ok(v)) => {
                docs.push(v);
                end = de.byte_offset();
            }
            _ => break,
        }
    }
    (docs, out[end..].trim_start().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_state_routes_and_communities() {
        let summary: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/status/frr_summary.json"))
                .unwrap();
        let neighbors =
            serde_json::json!({"127.0.1.2": {"lastResetDueTo": "Waiting for peer OPEN"}});
        let rib = serde_json::json!({"routes": {"198.51.100.0/32": [
            {"valid": true, "peerId": "127.0.1.1", "path": "", "locPrf": 100,
             "nexthops": [{"ip": "127.0.1.1", "afi": "ipv4", "used": true}]}]}});
        let detail = serde_json::json!({"prefix": "198.51.100.0/32", "paths": [
            {"peer": {"peerId": "127.0.1.1"}, "community": {"string": "64500:1 64500:2"},
             "lastUpdate": {"epoch": 1764499991, "string": "Sun Nov 30 10:53:11 2025"}}]});
        let out = format!("{detail}\nBGP table version is 1\n");
        let (details, raw) = split_details(&out, 1);
        assert_eq!(raw, "BGP table version is 1\n");
        let v = view("quagga", &[summary, neighbors, rib], &details, Some(raw));
        assert_eq!(v.asn, Some(64500));
        assert_eq!(v.sessions.len(), 2);
        assert_eq!(v.sessions[0].peer, "127.0.1.1");
        assert_eq!(v.sessions[0].state, SessionState::Established);
        assert_eq!(v.sessions[0].since_ms, Some(1_764_499_990_000));
        assert_eq!(v.sessions[0].received, 1);
        assert_eq!(v.sessions[1].state, SessionState::Active);
        assert_eq!(
            v.sessions[1].last_error.as_deref(),
            Some("Waiting for peer OPEN")
        );
        assert_eq!(v.routes.len(), 1);
        assert_eq!(v.routes[0].next_hop, Some("127.0.1.1".parse().unwrap()));
        assert_eq!(v.routes[0].local_pref, Some(100));
        assert_eq!(v.routes[0].communities, vec!["64500:1", "64500:2"]);
        assert_eq!(v.routes[0].since_ms, Some(1_764_499_991_000));
        assert_eq!(
            detail_commands(&v.routes),
            vec!["show bgp ipv4 unicast 198.51.100.0/32 json"]
        );
    }

    #[test]
    fn several_documents_in_one_output() {
        let docs = json_documents("{\"a\":1}\n{\"b\":2}\n% trailing junk");
        assert_eq!(docs.len(), 2);
        assert!(json_documents("% Unknown command").is_empty());
    }
}
