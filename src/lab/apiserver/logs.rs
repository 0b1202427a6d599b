//! Pod log buffers: the runtime appends lines per (namespace, pod, container); `pods/log`
//! reads them, whole or as a tail, and `log_follow` streams them (`kubectl logs -f`). Each
//! buffer keeps the last `MAX_LINES` lines and counts every line ever appended, so followers
//! never skip or repeat a line. When a container restarts its log becomes the `previous` one
//! (`kubectl logs --previous`), and the buffers can be saved to and loaded from a file, so
//! they outlive a lab restart.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

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
    /// The log of each container's previous instance.
    previous: Mutex<HashMap<LogKey, Vec<String>>>,
    notify: watch::Sender<u64>,
}

/// The buffers as saved to disk.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    current: Vec<(LogKey, Vec<String>)>,
    previous: Vec<(LogKey, Vec<String>)>,
}

impl Default for LogBuffers {
    fn default() -> Self {
        LogBuffers {
            buffers: Mutex::default(),
            previous: Mutex::default(),
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

    /// A container restarted: its log so far becomes its previous instance's log, and its
    /// current log starts empty (followers keep their place: line indexes go on counting).
    pub fn rotate(&self, key: &LogKey) {
        let lines = match self.buffers.lock() {
            Ok(mut all) => all
                .get_mut(key)
                .map(|b| b.lines.drain(..).collect::<Vec<_>>())
                .unwrap_or_default(),
            Err(_) => return,
        };
        if let Ok(mut prev) = self.previous.lock() {
            prev.insert(key.clone(), lines);
        }
    }

    /// The log of the container's previous instance, if it restarted.
    pub fn previous(&self, key: &LogKey) -> Option<Vec<String>> {
        self.previous.lock().ok()?.get(key).cloned()
    }

    /// Write every buffer (current and previous) to `path`, atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut saved = Saved::default();
        if let Ok(all) = self.buffers.lock() {
            saved.current = all
                .iter()
                .map(|(k, b)| (k.clone(), b.lines.iter().cloned().collect()))
                .collect();
        }
        if let Ok(prev) = self.previous.lock() {
            saved.previous = prev.iter().map(|(k, l)| (k.clone(), l.clone())).collect();
        }
        let bytes = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }

    /// Load buffers saved by [`LogBuffers::save`]; lines already here come after them. A
    /// missing file loads nothing.
    pub fn load(&self, path: &Path) -> std::io::Result<()> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let saved: Saved = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
        if let Ok(mut all) = self.buffers.lock() {
            for (key, lines) in saved.current {
                let buf = all.entry(key).or_default();
                buf.total += lines.len() as u64;
                let mut restored: VecDeque<String> = lines.into();
                restored.extend(buf.lines.drain(..));
                buf.lines = restored;
                while buf.lines.len() > MAX_LINES {
                    buf.lines.pop_front();
                }
            }
        }
        if let Ok(mut prev) = self.previous.lock() {
            prev.extend(saved.previous);
        }
        self.notify.send_modify(|n| *n += 1);
        Ok(())
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

    #[test]
    fn restarts_keep_the_previous_log_and_files_restore_both() {
        let logs = LogBuffers::default();
        let key: LogKey = ("ns".into(), "p".into(), "c".into());
        assert_eq!(logs.previous(&key), None);
        logs.append(key.clone(), "first run");
        let follower = logs.start(&key, None);
        logs.rotate(&key);
        logs.append(key.clone(), "second run");
        assert_eq!(logs.previous(&key), Some(vec!["first run".to_string()]));
        assert_eq!(logs.since(&key, 0).0, ["second run"]);
        assert_eq!(logs.since(&key, follower).0, ["second run"]);
        let dir = std::env::temp_dir().join(format!("logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("logs.json");
        logs.save(&file).expect("save");
        let again = LogBuffers::default();
        again.append(key.clone(), "third run");
        again.load(&file).expect("load");
        assert_eq!(again.since(&key, 0).0, ["second run", "third run"]);
        assert_eq!(again.previous(&key), Some(vec!["first run".to_string()]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
