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

/// A clock for BIRD's local times: now (unix ms) and the local UTC offset (seconds).
pub type Clock = (u64, i64);

/// Now and the local UTC offset, as BIRD (which prints local times) sees them.
pub fn local_clock() -> Clock {
    let now_ms = crate::sources::now_ms();
    let secs = libc::time_t::try_from(now_ms / 1000).unwrap_or(0);
    // SAFETY: localtime_r writes only into the tm we own; a zeroed tm is a valid value.
    let offset = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            0
        } else {
            i64::from(tm.tm_gmtoff as i32)
        }
    };
    (now_ms, offset)
}

/// A BIRD time (`15:50:20.749` today, or `2026-11-29` for older) as unix ms. A time of day
/// later than now is yesterday's.
pub fn bird_time_ms(s: &str, clock: Clock) -> Option<u64> {
    let (now_ms, offset) = clock;
    let day_ms: i64 = 86_400_000;
    let local_now = now_ms as i64 + offset * 1000;
    if let Some((y, rest)) = s.split_once('-') {
        let mut parts = rest.split('-');
        let (m, d) = (parts.next()?, parts.next()?);
        let date = jiff::civil::date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let days = i64::from(date.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days());
        return u64::try_from(days * day_ms - offset * 1000).ok();
    }
    let mut hms = s.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let sec: f64 = hms.next()?.parse().ok()?;
    if hms.next().is_some() || h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    let tod = h * 3_600_000 + m * 60_000 + (sec * 1000.0) as i64;
    let mut local = local_now - local_now.rem_euclid(day_ms) + tod;
    if local > local_now + 60_000 {
        local -= day_ms;
    }
    u64::try_from(local - offset * 1000).ok()
}

/// Sessions (and the local AS) from `show protocols all`: every protocol with a `BGP state:`.
/// `Since` becomes `since_ms` when a clock is given.
pub fn parse_protocols_at(text: &str, clock: Option<Clock>) -> (Vec<RouterSession>, Option<u32>) {
    let (mut sessions, asn) = parse_protocols(text);
    if let Some(clock) = clock {
        let since: Vec<Option<u64>> = text
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|c| c.get(1) == Some(&"BGP"))
            .map(|c| c.get(4).and_then(|t| bird_time_ms(t, clock)))
            .collect();
        for (s, t) in sessions.iter_mut().zip(since) {
            s.since_ms = t;
        }
    }
    (sessions, asn)
}

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

/// Routes as [`parse_routes`], with `since_ms` from each path's time when a clock is given.
pub fn parse_routes_at(text: &str, clock: Option<Clock>) -> Vec<RouterRoute> {
    let mut routes = parse_routes(text);
    if let Some(clock) = clock {
        let times: Vec<Option<u64>> = text
            .lines()
            .filter_map(|l| {
                let inner = l.split_once('[')?.1.split_once(']')?.0;
                inner.contains(" from ").then(|| {
                    inner
                        .split_whitespace()
                        .nth(1)
                        .and_then(|t| bird_time_ms(t, clock))
                })
            })
            .collect();
        if times.len() == routes.len() {
            for (r, t) in routes.iter_mut().zip(times) {
                r.since_ms = t;
            }
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

/// A router view from BIRD's texts; with a clock, session and route times become ages.
pub fn view(name: &str, protocols: &str, routes: &str, clock: Option<Clock>) -> RouterView {
    let (sessions, asn) = parse_protocols_at(protocols, clock);
    RouterView {
        name: name.to_string(),
        kind: RouterKind::Bird,
        asn,
        sessions,
        routes: parse_routes_at(routes, clock),
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
            let mut v = view(&self.name, &protocols, &routes, Some(local_clock()));
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

    #[test]
    fn bird_times_become_unix_ms() {
        // 2025-11-30 10:00:00 UTC; BIRD in UTC+1 prints 11:00:00.
        let now = 1_764_496_800_000;
        let clock = (now, 3600);
        assert_eq!(bird_time_ms("10:59:50.500", clock), Some(now - 9_500));
        // Later than now: yesterday.
        assert_eq!(
            bird_time_ms("11:30:00", clock),
            Some(now + 1_800_000 - 86_400_000)
        );
        assert_eq!(bird_time_ms("2025-11-29", clock), Some(1_764_370_800_000));
        assert_eq!(bird_time_ms("nonsense", clock), None);
        assert_eq!(bird_time_ms("25:00:00", clock), None);
        let v = view("b", PROTOCOLS, ROUTES, Some((1_764_496_800_000, 0)));
        assert_eq!(v.sessions[0].since_ms, Some(1_764_489_601_000));
        assert_eq!(v.routes[0].since_ms, Some(1_764_489_602_000));
        assert_eq!(v.routes[1].since_ms, Some(1_764_489_603_000));
    }
}
