//! History across polls: per session, up/down transitions and prefix counts over time, each
//! bounded. Speaker sessions are keyed `speaker/NODE/PEER`, router sessions
//! `router/NAME/PEER`. Pure: the caller passes each new snapshot in order.

use super::model::{History, PrefixSample, SessionHistory, Snapshot, Transition};

/// Transitions kept per session.
pub const MAX_TRANSITIONS: usize = 64;
/// Prefix samples kept per session (a minute and more at the default 2 s poll).
pub const MAX_SAMPLES: usize = 120;
/// Sessions kept; sessions absent from the newest snapshot go first when over.
pub const MAX_SESSIONS: usize = 4096;

/// Key of a speaker session.
pub fn speaker_key(node: &str, peer: &str) -> String {
    format!("speaker/{node}/{peer}")
}

/// Key of a router session.
pub fn router_key(router: &str, peer: &str) -> String {
    format!("router/{router}/{peer}")
}

/// The (key, up, prefix count) of every session in a snapshot.
fn observations(snap: &Snapshot) -> Vec<(String, bool, u64)> {
    let mut v: Vec<(String, bool, u64)> = snap
        .speakers
        .iter()
        .map(|s| {
            (
                speaker_key(&s.node, &s.peer),
                s.state.is_up(),
                s.prefixes_advertised,
            )
        })
        .collect();
    for r in &snap.routers {
        for s in &r.sessions {
            v.push((router_key(&r.name, &s.peer), s.state.is_up(), s.received));
        }
    }
    v
}

impl History {
    /// Record the sessions of `snap` (taken at `snap.taken_at_ms`). The first sighting of a
    /// session records its state as a transition; later ones only changes. A prefix sample is
    /// added when the count changes, and at most one per poll.
    pub fn record(&mut self, snap: &Snapshot) {
        let at_ms = snap.taken_at_ms;
        let seen = observations(snap);
        for (key, up, n) in &seen {
            let i = match self.sessions.binary_search_by(|h| h.key.as_str().cmp(key)) {
                Ok(i) => i,
                Err(i) => {
                    self.sessions.insert(
                        i,
                        SessionHistory {
                            key: key.clone(),
                            ..SessionHistory::default()
                        },
                    );
                    i
                }
            };
            let h = &mut self.sessions[i];
            if h.transitions.last().map(|t| t.up) != Some(*up) {
                push_bounded(
                    &mut h.transitions,
                    Transition { at_ms, up: *up },
                    MAX_TRANSITIONS,
                );
            }
            if h.prefix_counts.last().map(|s| s.n) != Some(*n) {
                push_bounded(
                    &mut h.prefix_counts,
                    PrefixSample { at_ms, n: *n },
                    MAX_SAMPLES,
                );
            }
        }
        if self.sessions.len() > MAX_SESSIONS {
            let live: std::collections::HashSet<&str> =
                seen.iter().map(|(k, _, _)| k.as_str()).collect();
            let mut excess = self.sessions.len() - MAX_SESSIONS;
            self.sessions.retain(|h| {
                if excess > 0 && !live.contains(h.key.as_str()) {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }

    /// The history of one session.
    pub fn get(&self, key: &str) -> Option<&SessionHistory> {
        self.sessions
            .binary_search_by(|h| h.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.sessions[i])
    }
}

impl SessionHistory {
    /// How often the session went down within the last `window_ms` before `now_ms`.
    pub fn flaps(&self, now_ms: u64, window_ms: u64) -> usize {
        let from = now_ms.saturating_sub(window_ms);
        self.transitions
            .iter()
            .skip(1)
            .filter(|t| !t.up && t.at_ms >= from)
            .count()
    }
}

fn push_bounded<T>(v: &mut Vec<T>, item: T, max: usize) {
    if v.len() >= max {
        let drop = v.len() + 1 - max;
        v.drain(..drop);
    }
    v.push(item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::SessionState;

    fn snap(at: u64, up: bool, n: u64) -> Snapshot {
        let mut s = crate::status::drift::tests::healthy();
        s.taken_at_ms = at;
        s.speakers.truncate(1);
        s.speakers[0].state = if up {
            SessionState::Established
        } else {
            SessionState::Active
        };
        s.speakers[0].prefixes_advertised = n;
        s.routers.clear();
        s
    }

    #[test]
    fn records_changes_only() {
        let mut h = History::default();
        h.record(&snap(1, true, 1));
        h.record(&snap(2, true, 1));
        h.record(&snap(3, false, 0));
        h.record(&snap(4, true, 0));
        h.record(&snap(5, true, 1));
        let s = h.get("speaker/minikube/10.96.0.100:179").unwrap();
        let t: Vec<(u64, bool)> = s.transitions.iter().map(|t| (t.at_ms, t.up)).collect();
        assert_eq!(t, vec![(1, true), (3, false), (4, true)]);
        let n: Vec<(u64, u64)> = s.prefix_counts.iter().map(|p| (p.at_ms, p.n)).collect();
        assert_eq!(n, vec![(1, 1), (3, 0), (5, 1)]);
        assert_eq!(s.flaps(5, 10), 1);
        assert_eq!(s.flaps(100, 10), 0);
    }

    #[test]
    fn router_sessions_are_recorded_too() {
        let mut h = History::default();
        h.record(&crate::status::drift::tests::healthy());
        let keys: Vec<&str> = h.sessions.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "router/bird/127.0.1.1",
                "router/quagga/127.0.1.1",
                "speaker/minikube/10.96.0.100:179",
                "speaker/minikube/10.96.0.101:179",
            ]
        );
    }

    #[test]
    fn is_bounded() {
        let mut h = History::default();
        for i in 0..1000u64 {
            h.record(&snap(i, i % 2 == 0, i));
        }
        let s = &h.sessions[0];
        assert_eq!(s.transitions.len(), MAX_TRANSITIONS);
        assert_eq!(s.prefix_counts.len(), MAX_SAMPLES);
        assert_eq!(s.transitions.last().unwrap().at_ms, 999);
        assert_eq!(s.prefix_counts.last().unwrap().n, 999);
    }
}
