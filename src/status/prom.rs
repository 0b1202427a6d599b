//! Speaker sessions from a speaker's Prometheus text exposition. Reads MetalLB's series
//! (`metallb_bgp_session_up`, `metallb_bgp_announced_prefixes_total`,
//! `metallb_bgp_updates_total`, label `peer`) and, when present, metallbctl's additions
//! (`metallbctl_bgp_session_info`, `..._established_timestamp_seconds`, `..._last_error_info`).
//! Pure.
//!
//! MetalLB 0.15 changed the `peer` label from `addr:port` to the peer name and left a duplicate
//! bare-address series behind (metallb#2806): a bare address whose `addr:port` series also
//! exists is dropped, so every session is counted once.

use std::collections::BTreeMap;

use super::drift::peer_ip;
use super::model::{SessionState, SpeakerSession};

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parse the text exposition format; lines that do not parse are skipped.
pub fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, labels, rest) = match line.find('{') {
        Some(i) if line[..i].find(' ').is_none() => {
            let (labels, len) = parse_labels(&line[i + 1..])?;
            (&line[..i], labels, &line[i + 1 + len..])
        }
        _ => {
            let (n, r) = line.split_once(char::is_whitespace)?;
            (n, BTreeMap::new(), r)
        }
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Labels up to and including the closing `}`; returns them and the bytes consumed.
fn parse_labels(s: &str) -> Option<(BTreeMap<String, String>, usize)> {
    let mut labels = BTreeMap::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|(_, c)| *c == ',' || c.is_whitespace())
        {
            chars.next();
        }
        let (start, c) = *chars.peek()?;
        if c == '}' {
            return Some((labels, start + 1));
        }
        let mut key_end = start;
        for (i, c) in chars.by_ref() {
            if c == '=' {
                key_end = i;
                break;
            }
        }
        let key = s[start..key_end].trim().to_string();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '"' => break,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        labels.insert(key, value);
    }
}

/// The speaker sessions a speaker on `node` (pod `pod`) reports, from its parsed metrics
/// ([`parse_samples`]). Times in the exposition are unix seconds; `up_since_ms` is milliseconds.
pub fn speaker_sessions(samples: &[Sample], node: &str, pod: Option<&str>) -> Vec<SpeakerSession> {
    let mut by_peer: BTreeMap<String, SpeakerSession> = BTreeMap::new();
    let mut known_state: BTreeMap<String, bool> = BTreeMap::new();
    for s in samples {
        let Some(peer) = s.labels.get("peer") else {
            continue;
        };
        let e = by_peer
            .entry(peer.clone())
            .or_insert_with(|| SpeakerSession {
                node: node.to_string(),
                pod: pod.map(str::to_string),
                peer: peer.clone(),
                ..SpeakerSession::default()
            });
        let n = if s.value.is_finite() && s.value > 0.0 {
            s.value as u64
        } else {
            0
        };
        match s.name.as_str() {
            "metallb_bgp_session_up" if !known_state.contains_key(peer) => {
                e.state = if s.value >= 1.0 {
                    SessionState::Established
                } else {
                    SessionState::Active
                };
            }
            "metallb_bgp_announced_prefixes_total" => e.prefixes_advertised = n,
            "metallb_bgp_updates_total" | "metallb_bgp_updates_total_total" => e.updates_sent = n,
            "metallbctl_bgp_session_info" => {
                if let Some(st) = s.labels.get("state") {
                    e.state = SessionState::parse(st);
                    known_state.insert(peer.clone(), true);
                }
                e.local_as = s.labels.get("local_as").and_then(|v| v.parse().ok());
                e.peer_as = s.labels.get("peer_as").and_then(|v| v.parse().ok());
            }
            "metallbctl_bgp_session_established_timestamp_seconds" => {
                e.up_since_ms = Some(n.saturating_mul(1000))
            }
            "metallbctl_bgp_session_last_error_info" => {
                e.last_error = s.labels.get("error").cloned().filter(|v| !v.is_empty())
            }
            _ => {}
        }
    }
    // Drop bare-address duplicates of an `addr:port` series (metallb#2806).
    let with_port: Vec<std::net::IpAddr> = by_peer
        .keys()
        .filter(|k| k.parse::<std::net::IpAddr>().is_err())
        .filter_map(|k| peer_ip(k))
        .collect();
    by_peer
        .into_values()
        .filter(|s| match s.peer.parse::<std::net::IpAddr>() {
            Ok(ip) => !with_port.contains(&ip),
            Err(_) => true,
        })
        .map(|mut s| {
            if !s.state.is_up() {
                s.up_since_ms = None;
            }
            s
        })
        .collect()
}

/// `metallb_k8s_client_config_stale_bool`, if the exposition has it.
pub fn config_stale(samples: &[Sample]) -> Option<bool> {
    samples
        .iter()
        .find(|s| s.name == "metallb_k8s_client_config_stale_bool")
        .map(|s| s.value >= 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = r#"# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down)
# TYPE metallb_bgp_session_up gauge
metallb_bgp_session_up{peer="10.96.0.100:179"} 1
metallb_bgp_session_up{peer="10.96.0.101:179"} 0
metallb_bgp_announced_prefixes_total{peer="10.96.0.100:179"} 1
metallb_bgp_announced_prefixes_total{peer="10.96.0.101:179"} 0
metallb_bgp_updates_total{peer="10.96.0.100:179"} 3
metallb_k8s_client_config_loaded_bool 1
metallbctl_bgp_session_info{peer="10.96.0.100:179",state="Established",local_as="64500",peer_as="64500"} 1
metallbctl_bgp_session_info{peer="10.96.0.101:179",state="Active",local_as="64500",peer_as="64501"} 1
metallbctl_bgp_session_established_timestamp_seconds{peer="10.96.0.100:179"} 1764499990
metallbctl_bgp_session_last_error_info{peer="10.96.0.101:179",error="dial: \"refused\"\nagain"} 1
"#;

    #[test]
    fn reads_our_speakers_exposition() {
        let s = speaker_sessions(&parse_samples(OURS), "minikube", Some("speaker-x"));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].peer, "10.96.0.100:179");
        assert_eq!(s[0].state, SessionState::Established);
        assert_eq!(s[0].prefixes_advertised, 1);
        assert_eq!(s[0].updates_sent, 3);
        assert_eq!(s[0].up_since_ms, Some(1_764_499_990_000));
        assert_eq!((s[0].local_as, s[0].peer_as), (Some(64500), Some(64500)));
        assert_eq!(s[1].state, SessionState::Active);
        assert_eq!(s[1].peer_as, Some(64501));
        assert_eq!(s[1].last_error.as_deref(), Some("dial: \"refused\"\nagain"));
        assert_eq!(s[1].pod.as_deref(), Some("speaker-x"));
        assert_eq!(config_stale(&parse_samples(OURS)), None);
        assert_eq!(
            config_stale(&parse_samples("metallb_k8s_client_config_stale_bool 1\n")),
            Some(true)
        );
    }

    #[test]
    fn reads_real_metallb_and_drops_the_0_15_duplicates() {
        let text = "metallb_bgp_session_up{peer=\"172.18.0.5:179\"} 1\n\
                    metallb_bgp_session_up{peer=\"172.18.0.5\"} 0\n\
                    metallb_bgp_updates_total{peer=\"172.18.0.5:179\"} 7 1700000000000\n\
                    metallb_bgp_announced_prefixes_total{peer=\"172.18.0.5:179\"} 2\n\
                    garbage line {\n";
        let s = speaker_sessions(&parse_samples(text), "n1", None);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].state, SessionState::Established);
        assert_eq!(s[0].updates_sent, 7);
        assert_eq!(s[0].prefixes_advertised, 2);
        assert_eq!(s[0].local_as, None);
    }

    #[test]
    fn the_metallb_exporter_output_parses_back() {
        use crate::bgp::session::State;
        use crate::bgp::status::PeerState;
        use std::sync::{Arc, Mutex};
        let m = crate::metallb::metrics::Metrics::default();
        let mut st = PeerState::new("10.96.0.100:179".into(), 64500, 64501);
        st.state = State::Active;
        st.last_error = Some("Connection refused (os error 111)".into());
        m.set_peers(vec![(st.peer.clone(), Arc::new(Mutex::new(st)))]);
        let s = speaker_sessions(&parse_samples(&m.render()), "minikube", None);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].state, SessionState::Active);
        assert_eq!(
            s[0].last_error.as_deref(),
            Some("Connection refused (os error 111)")
        );
        assert_eq!(s[0].peer_as, Some(64501));
    }
}
