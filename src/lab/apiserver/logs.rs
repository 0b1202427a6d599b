//! Pod log buffers: the runtime appends lines per (namespace, pod, container); `pods/log`
//! reads them, whole or as a tail, and `log_follow` streams them (`kubectl logs -f`). Each
//! buffer keeps the last `MAX_LINES` lines and counts every line ever appended, so followers
//! never skip or repeat a line.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::watch;

const MAX_LINES: usize = 10_000;

/// (namespace, pod, container).
pub type LogKey = (String, String, String);

#[derive(Debug, Default)]
struct Buffer {
    lines: VecDeque<String>,
    /// Lines ever appended; the first kept line has index `total - lines.len()`.
    total: u64,
}

/// All containers' log buffers.
#[derive(Debug)]
pub struct LogBuffers {
    buffers: Mutex<HashMap<LogKey, Buffer>>,
    notify: watch::Sender<u64>,
}

impl Default for LogBuffers {
    fn default() -> Self {
        LogBuffers {
            buffers: Mutex::default(),
            notify: watch::channel(0).0,
        }
    }
}

impl LogBuffers {
    /// Append text (one or more lines) to a container's log.
    pub fn append(&self, key: LogKey, text: &str) {
        let Ok(mut all) = self.buffers.lock() else {
            return;
        };
        let buf = all.entry(key).or_default();
        for line in text.lines() {
            buf.lines.push_back(line.to_string());
            buf.total += 1;
        }
        while buf.lines.len() > MAX_LINES {
            buf.lines.pop_front();
        }
        drop(all);
        self.notify.send_modify(|n| *n += 1);
    }

    /// The index to start reading at for the last `tail` lines (or all kept lines).
    pub fn start(&self, key: &LogKey, tail: Option<usize>) -> u64 {
        let Ok(all) = self.buffers.lock() else {
            return 0;
        };
        let Some(buf) = all.get(key) else { return 0 };
        let kept = buf.lines.len() as u64;
        let want = tail.map_or(kept, |t| kept.min(t as u64));
        buf.total - want
    }

    /// Lines with index >= `from`, and the index after the last one.
    pub fn since(&self, key: &LogKey, from: u64) -> (Vec<String>, u64) {
        let Ok(all) = self.buffers.lock() else {
            return (Vec::new(), from);
        };
        let Some(buf) = all.get(key) else {
            return (Vec::new(), from);
        };
        let first = buf.total - buf.lines.len() as u64;
        let skip = from.saturating_sub(first) as usize;
        (buf.lines.iter().skip(skip).cloned().collect(), buf.total)
    }

    /// Changes whenever any line is appended.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_and_since_survive_trimming() {
        let logs = LogBuffers::default();
        let key: LogKey = ("ns".into(), "p".into(), "c".into());
        for i in 0..(MAX_LINES + 5) {
            logs.append(key.clone(), &format!("l{i}"));
        }
        let start = logs.start(&key, Some(2));
        let (lines, next) = logs.since(&key, start);
        assert_eq!(
            lines,
            [format!("l{}", MAX_LINES + 3), format!("l{}", MAX_LINES + 4)]
        );
        assert_eq!(logs.since(&key, next).0.len(), 0);
        let (all, _) = logs.since(&key, 0);
        assert_eq!(
            all.len(),
            MAX_LINES,
            "trimmed lines are gone, the rest is read from the oldest kept"
        );
    }
}
