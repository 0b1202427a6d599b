//! BIRD 2 through its control socket (`birdc -s SOCKET`): `show protocols all` for sessions
//! and `show route all` for routes with their BGP attributes. BIRD has no JSON, so this parses
//! its text (the parsers are pure and also serve the lab's BIRD routers).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::status::model::{RouterKind, RouterRoute, RouterSession, RouterView, SessionState};
use crate::status::source::{RouterSource, SourceFuture};

/// The birdc binary.
pub const BIRDC: &str = "birdc";

/// Sessions (and the local AS) from `show protocols all`: every protocol with a `BGP state:`.
pub fn parse_protocols(text: &str) -> (Vec<RouterSession>, Option<u32>) {
    let mut sessions = Vec::new();
    let mut local_as = None;
    let mut cur: Option<RouterSession> = None;
    for line in text.lines() {
        let t = line.trim();
        // A protocol header line starts at column 0: `name BGP --- up 06:59:53.535 Established`.
        if !line.starts_with(char::is_whitespace) && !t.is_empty() {
            if let Some(s) = cur.take() {
                sessions.push(s);
            }
            let cols: Vec<&str> = t.split_whitespace().collect();
            if cols.get(1) == Some(&"BGP") {
                cur = Some(RouterSession::default());
            }
            continue;
        }
        let Some(s) = cur.as_mut() else { continue };
        let (key, value) = match t.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => continue,
        };
        match key {
            "BGP state" => s.state = SessionState::parse(value),
            "Neighbor address" => s.peer = value.to_string(),
            "Neighbor AS" => s.peer_as = value.parse().ok(),
            "Local AS" => local_as = value.parse().ok(),
            "Last error" => s.last_error = Some(value.to_string()).filter(|v| !v.is_empty()),
            "Routes" => {
                s.received = value
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            }
            _ => {}
        }
    }
    if let Some(s) = cur.take() {
        sessions.push(s);
    }
    (sessions, local_as)
}

/// Routes from `show route all`: a line starting with a prefix opens a route, an indented
/// line with `[proto time from X]` another path for the same prefix; `BGP.*` lines fill the
/// attributes.
pub fn parse_routes(text: &str) -> Vec<RouterRoute> {
    let mut routes: Vec<RouterRoute> = Vec::new();
    let mut prefix: Option<IpNet> = None;
    for line in text.lines() {
        let t = line.trim();
        let first = t.split_whitespace().next().unwrap_or("");
        if !line.starts_with(char::is_whitespace) {
            if let Ok(p) = first.parse::<IpNet>() {
                prefix = Some(p);
                routes.push(path(p, t));
            }
            continue;
        }
        if let Some(attr) = t.strip_prefix("BGP.") {
            let Some(r) = routes.last_mut() else { continue };
            let (k, v) = attr.split_once(':').unwrap_or((attr, ""));
            let v = v.trim();
            match k.trim() {
                "next_hop" => r.next_hop = v.split_whitespace().next().and_then(|a| a.parse().ok()),
                "as_path" => {
                    r.as_path = v
                        .split_whitespace()
                        .filter_map(|a| a.parse().ok())
                        .collect()
                }
                "local_pref" => r.local_pref = v.parse().ok(),
                "community" => r.communities.extend(parse_communities(v)),
                "large_community" => r.communities.extend(parse_communities(v)),
                _ => {}
            }
            continue;
        }
        let Some(p) = prefix else { continue };
        match first {
            "unicast" | "unreachable" | "blackhole" | "prohibited" if t.contains('[') => {
                routes.push(path(p, t));
            }
            "via" => {
                if let Some(r) = routes.last_mut().filter(|r| r.next_hop.is_none()) {
                    r.next_hop = t.split_whitespace().nth(1).and_then(|a| a.parse().ok());
                }
            }
            _ => {}
        }
    }
    routes
}

/// One path line: `[proto time from 127.0.1.1]`, and `via X` for the next hop.
fn path(prefix: IpNet, line: &str) -> RouterRoute {
    let words: Vec<&str> = line.split_whitespace().collect();
    let from_peer = words
        .iter()
        .position(|w| *w == "from")
        .and_then(|i| words.get(i + 1))
        .map(|w| w.trim_end_matches(']').to_string());
    let next_hop = words
        .iter()
        .position(|w| *w == "via")
        .and_then(|i| words.get(i + 1))
        .and_then(|w| w.parse::<IpAddr>().ok());
    RouterRoute {
        prefix,
        next_hop,
        from_peer,
        ..RouterRoute::default()
    }
}

/// `(64500,1) (64500,2)` -> `64500:1 64500:2`; large `(1, 2, 3)` -> `1:2:3`.
fn parse_communities(v: &str) -> Vec<String> {
    v.split(')')
        .filter_map(|c| {
            let c = c.trim().trim_start_matches('(');
            let parts: Vec<&str> = c.split(',').map(str::trim).collect();
            (!c.is_empty() && parts.iter().all(|p| p.parse::<u32>().is_ok()))
                .then(|| parts.join(":"))
        })
        .collect()
}

/// A BIRD reached through its control socket.
pub struct BirdSource {
    pub name: String,
    pub socket: PathBuf,
    pub timeout: Duration,
    /// The birdc program (`birdc`, or a full path).
    pub birdc: String,
}

impl BirdSource {
    pub fn new(name: &str, socket: PathBuf, timeout: Duration) -> Self {
        BirdSource {
            name: name.to_string(),
            socket,
            timeout,
            birdc: BIRDC.to_string(),
        }
    }

    async fn birdc(&self, cmd: &[&str]) -> Result<String, String> {
        let mut args = vec!["-s".to_string(), self.socket.display().to_string()];
        args.extend(cmd.iter().map(|s| s.to_string()));
        let out = super::cmd::run(&self.birdc, args, self.timeout).await?;
        // birdc prints a connect failure on stdout and still exits 0 in some versions.
        if let Some(l) = out
            .lines()
            .find(|l| l.starts_with("Unable to connect") || l.contains("No such file"))
        {
            return Err(format!("birdc: {}", l.trim()));
        }
        Ok(out)
    }
}

/// A router view from BIRD's texts.
pub fn view(name: &str, protocols: &str, routes: &str) -> RouterView {
    let (sessions, asn) = parse_protocols(protocols);
    RouterView {
        name: name.to_string(),
        kind: RouterKind::Bird,
        asn,
        sessions,
        routes: parse_routes(routes),
        raw: Some(format!(
            "$ birdc show protocols all\n{protocols}\n$ birdc show route all\n{routes}"
        )),
        ..RouterView::default()
    }
}

impl RouterSource for BirdSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self) -> SourceFuture<'_, Vec<RouterView>> {
        Box::pin(async move {
            let protocols = self.birdc(&["show", "protocols", "all"]).await?;
            let routes = self.birdc(&["show", "route", "all"]).await?;
            let mut v = view(&self.name, &protocols, &routes);
            v.address = Some(self.socket.display().to_string());
            Ok(vec![v])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOLS: &str = include_str!("../../tests/fixtures/status/bird_protocols_all.txt");
    const ROUTES: &str = include_str!("../../tests/fixtures/status/bird_route_all.txt");

    #[test]
    fn parses_protocols() {
        let (s, asn) = parse_protocols(PROTOCOLS);
        assert_eq!(asn, Some(64500));
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].peer, "127.0.1.1");
        assert_eq!(s[0].state, SessionState::Established);
        assert_eq!(s[0].peer_as, Some(64500));
        assert_eq!(s[0].received, 1);
        assert_eq!(s[1].state, SessionState::Active);
        assert_eq!(
            s[1].last_error.as_deref(),
            Some("Socket: Connection refused")
        );
    }

    #[test]
    fn parses_routes_with_attributes() {
        let r = parse_routes(ROUTES);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(r[0].prefix, "198.51.100.0/32".parse::<IpNet>().unwrap());
        assert_eq!(r[0].next_hop, Some("127.0.1.1".parse().unwrap()));
        assert_eq!(r[0].from_peer.as_deref(), Some("127.0.1.1"));
        assert_eq!(r[0].local_pref, Some(100));
        assert_eq!(r[0].communities, vec!["64500:1", "64500:2"]);
        assert_eq!(r[1].as_path, vec![64501, 64502]);
        assert_eq!(r[1].communities, vec!["1:2:3"]);
    }
}
