//! Durable state, in the state directory:
//!
//! - `state.json`, a snapshot: every object and the global resourceVersion, replaced
//!   atomically (temp file, fsync, rename) when the log is compacted;
//! - `changes.<n>.log`, an append-only log of the changes after it, one JSON record per line
//!   (`{"rv":N,"type":"ADDED|MODIFIED|DELETED","resource":..,"object":..}`), appended and
//!   fdatasync'ed as soon as the previous append is done (group commit; the durability
//!   bound is 100 ms).
//!
//! A write costs the size of the change, not of the store. When the log has grown past the
//! size of the last snapshot (at least [`COMPACT_MIN`]), the writer starts a new segment, takes
//! a snapshot and writes it in the background while appends go on into the new segment; once
//! the snapshot is durable, the older segments are deleted. Restore reads the snapshot and
//! replays every segment in order, skipping records the snapshot already holds; a torn last
//! record (the process died mid-append) is ignored. Also the bearer token file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::meta;
use super::store::{Change, EventType, Snapshot, Store, Stored, StoredSnapshot};

/// The log is compacted once it holds more bytes than the last snapshot, and at least this.
pub const COMPACT_MIN: u64 = 8 << 20;

/// Failures reading or writing the state directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PersistError + '_ {
    move |source| PersistError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const STATE_FILE: &str = "state.json";

/// The snapshot file inside a state directory.
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// Log segment `n` inside a state directory.
pub fn segment_file(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("changes.{n}.log"))
}

/// The number of the log segment named `file_name` (`changes.<n>.log`), if it is one.
fn segment_number(file_name: &str) -> Option<u64> {
    file_name
        .strip_prefix("changes.")
        .and_then(|n| n.strip_suffix(".log"))
        .and_then(|n| n.parse::<u64>().ok())
}

/// Is `path` one of the store's own files (the snapshot or a log segment)?
pub fn is_store_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == STATE_FILE || segment_number(n).is_some())
}

/// The log segments in a state directory, oldest first.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, PersistError> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        if let Some(n) = entry.file_name().to_str().and_then(segment_number) {
            found.push((n, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Serialize a snapshot: `{"resourceVersion": N, "objects": [{"resource": .., "object": ..}]}`.
pub fn encode(snap: &Snapshot) -> Vec<u8> {
    encode_entries(snap.resource_version, &snap.objects, |obj, out| {
        let _ = serde_json::to_writer(out, obj.as_ref());
    })
}

/// `encode` for a snapshot in the store's own form (the same bytes).
pub fn encode_stored(snap: &StoredSnapshot) -> Vec<u8> {
    encode_entries(snap.resource_version, &snap.objects, Stored::write_json)
}

fn encode_entries<T>(
    rv: u64,
    objects: &[(String, T)],
    write: impl Fn(&T, &mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(format!("{{\"resourceVersion\":{rv},\"objects\":[").as_bytes());
    for (i, (res, obj)) in objects.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"\n{\"resource\":");
        let _ = serde_json::to_writer(&mut out, res);
        out.extend_from_slice(b",\"object\":");
        write(obj, &mut out);
        out.push(b'}');
    }
    out.extend_from_slice(b"\n]}\n");
    out
}

#[derive(Deserialize)]
struct SnapshotDoc {
    #[serde(rename = "resourceVersion", default)]
    resource_version: u64,
    #[serde(default)]
    objects: Vec<SnapshotEntry>,
}

#[derive(Deserialize)]
struct SnapshotEntry {
    resource: String,
    object: Value,
}

/// Parse what `encode` wrote.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Snapshot, PersistError> {
    let doc: SnapshotDoc =
        serde_json::from_slice(bytes).map_err(|source| PersistError::Corrupt {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Snapshot {
        resource_version: doc.resource_version,
        objects: doc
            .objects
            .into_iter()
            .map(|e| (e.resource, Arc::new(e.object)))
            .collect(),
    })
}

/// One log record, as read back.
#[derive(Deserialize)]
struct RecordIn {
    rv: u64,
    #[serde(rename = "type")]
    kind: String,
    resource: String,
    object: Value,
}

/// Append the log records of `changes` to `out` (the object JSON is the one the watchers of
/// the change share).
pub fn encode_changes(changes: &[Change], out: &mut Vec<u8>) {
    for c in changes {
        let json = c.object_json();
        if json.is_empty() {
            continue;
        }
        out.extend_from_slice(
            format!(
                "{{\"rv\":{},\"type\":\"{}\",\"resource\":",
                c.rv,
                c.kind.as_str()
            )
            .as_bytes(),
        );
        if serde_json::to_writer(&mut *out, &c.resource).is_err() {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(b",\"object\":");
        out.extend_from_slice(json);
        out.extend_from_slice(b"}\n");
    }
}

/// The objects being restored, by (resource, namespace, name), in a stable order.
type Objects = std::collections::BTreeMap<(String, String, String), Arc<Value>>;

fn object_key(resource: &str, obj: &Value) -> (String, String, String) {
    (
        resource.to_string(),
        meta::meta_str(obj, "namespace").to_string(),
        meta::meta_str(obj, "name").to_string(),
    )
}

/// Apply the records of one segment with rv above `*rv` to `objects`. The last record of a
/// segment may be torn (missing its newline or not parseable): the process died appending it,
/// before acknowledging it, and the next run appends to a new segment. It is dropped.
fn replay(
    bytes: &[u8],
    path: &Path,
    objects: &mut Objects,
    rv: &mut u64,
) -> Result<(), PersistError> {
    let mut lines = bytes.split_inclusive(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        let complete = line.last() == Some(&b'\n');
        let parsed = serde_json::from_slice::<RecordIn>(line);
        let rec = match parsed {
            Ok(rec) if complete => rec,
            // A torn tail: the process died while appending it, so it was never acknowledged.
            // (Only the last line of a file can lack its newline.)
            Ok(_) => break,
            Err(_) if is_last => break,
            Err(source) => {
                return Err(PersistError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        if rec.rv <= *rv {
            continue;
        }
        *rv = rec.rv;
        let key = object_key(&rec.resource, &rec.object);
        if rec.kind == EventType::Deleted.as_str() {
            objects.remove(&key);
        } else {
            objects.insert(key, Arc::new(rec.object));
        }
    }
    Ok(())
}

/// Read the saved state, if there is any: the snapshot with the log replayed over it.
pub fn load(dir: &Path) -> Result<Option<Snapshot>, PersistError> {
    let path = state_file(dir);
    let snap = match fs::read(&path) {
        Ok(bytes) => Some(decode(&bytes, &path)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path)(e)),
    };
    let segs = segments(dir)?;
    if segs.is_empty() {
        return Ok(snap);
    }
    let (mut rv, list) = match snap {
        Some(s) => (s.resource_version, s.objects),
        None => (0, Vec::new()),
    };
    let mut objects: Objects = list
        .into_iter()
        .map(|(res, obj)| (object_key(&res, &obj), obj))
        .collect();
    for (_, seg) in &segs {
        let bytes = match fs::read(seg) {
            Ok(b) => b,
            // Deleted by a compaction that finished meanwhile: its records are in the snapshot.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(seg)(e)),
        };
        replay(&bytes, seg, &mut objects, &mut rv)?;
    }
    Ok(Some(Snapshot {
        resource_version: rv,
        objects: objects
            .into_iter()
            .map(|((res, _, _), obj)| (res, obj))
            .collect(),
    }))
}

/// Write `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PersistError> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    let _ = mode;
    let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Save a snapshot into the state directory (atomically; the log is left alone).
pub fn save(dir: &Path, snap: &Snapshot) -> Result<(), PersistError> {
    write_atomic(&state_file(dir), &encode(snap), 0o600)
}

/// The token kept in the state directory, created on first use.
pub fn token(dir: &Path, fresh: impl FnOnce() -> String) -> Result<String, PersistError> {
    let path = dir.join("token");
    match fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => {
            let t = fresh();
            write_atomic(&path, t.as_bytes(), 0o600)?;
            Ok(t)
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The log segment being appended to.
struct Segment {
    path: PathBuf,
    file: fs::File,
}

impl Segment {
    fn create(dir: &Path, n: u64) -> Result<Segment, PersistError> {
        let path = segment_file(dir, n);
        let mut opts = fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path).map_err(io_err(&path))?;
        sync_dir(dir);
        Ok(Segment { path, file })
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), PersistError> {
        self.file.write_all(bytes).map_err(io_err(&self.path))?;
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

/// Write `snap` as the new snapshot, then delete the segments before `keep_from`, whose
/// changes it holds. Returns the snapshot's size.
fn compact(dir: &Path, snap: &StoredSnapshot, keep_from: u64) -> Result<u64, PersistError> {
    let bytes = encode_stored(snap);
    write_atomic(&state_file(dir), &bytes, 0o600)?;
    for (n, path) in segments(dir)? {
        if n < keep_from {
            let _ = fs::remove_file(path);
        }
    }
    sync_dir(dir);
    Ok(bytes.len() as u64)
}

/// The writer's state: the segment it appends to, what it has written, when to compact.
struct Writer {
    store: Store,
    dir: PathBuf,
    segment: Option<Segment>,
    /// The number of the next segment.
    next: u64,
    /// Every change up to this rv is durable.
    written: u64,
    /// Bytes appended since the last compaction started.
    logged: u64,
    /// The size of the last snapshot written.
    snapshot_bytes: u64,
    compaction: Option<JoinHandle<Result<u64, PersistError>>>,
}

impl Writer {
    /// Start a new segment and compact everything before it: in the background, or (when
    /// `wait`) before returning, as when the changes since the last write are no longer
    /// known one by one.
    async fn rotate_and_compact(&mut self, wait: bool) {
        if let Some(running) = self.compaction.take() {
            self.finish(running).await;
        }
        let next = self.next;
        self.next += 1;
        let dir = self.dir.clone();
        let segment = tokio::task::spawn_blocking(move || Segment::create(&dir, next)).await;
        match segment {
            Ok(Ok(seg)) => self.segment = Some(seg),
            Ok(Err(e)) => return report(&e),
            Err(_) => return,
        }
        let Ok(snap) = self.store.stored_snapshot() else {
            return;
        };
        let snap_rv = snap.resource_version;
        let dir = self.dir.clone();
        let job = tokio::task::spawn_blocking(move || compact(&dir, &snap, next));
        self.logged = 0;
        if wait {
            self.finish(job).await;
            self.written = self.written.max(snap_rv);
        } else {
            self.compaction = Some(job);
        }
    }

    async fn finish(&mut self, job: JoinHandle<Result<u64, PersistError>>) {
        match job.await {
            Ok(Ok(size)) => self.snapshot_bytes = size,
            Ok(Err(e)) => report(&e),
            Err(_) => {}
        }
    }

    /// Append what changed since the last write.
    async fn write_changes(&mut self) {
        let changes = match self.store.changes_since(self.written) {
            Ok((changes, _)) => changes,
            // More changes than the watch history holds: the snapshot holds them.
            Err(_) => return self.rotate_and_compact(true).await,
        };
        let Some(last) = changes.last().map(|c| c.rv) else {
            return;
        };
        let Some(mut seg) = self.segment.take() else {
            return self.rotate_and_compact(true).await;
        };
        let result = tokio::task::spawn_blocking(move || {
            let mut bytes = Vec::with_capacity(changes.len() * 1024);
            encode_changes(&changes, &mut bytes);
            let r = seg.append(&bytes);
            (seg, r.map(|_| bytes.len() as u64))
        })
        .await;
        match result {
            Ok((seg, Ok(n))) => {
                self.segment = Some(seg);
                self.written = last;
                self.logged += n;
            }
            Ok((seg, Err(e))) => {
                self.segment = Some(seg);
                report(&e);
            }
            Err(_) => {}
        }
        if self.compaction.as_ref().is_some_and(|j| j.is_finished()) {
            if let Some(job) = self.compaction.take() {
                self.finish(job).await;
            }
        }
        if self.compaction.is_none() && self.logged > self.snapshot_bytes.max(COMPACT_MIN) {
            self.rotate_and_compact(false).await;
        }
    }
}

fn report(e: &PersistError) {
    eprintln!("metallbctl lab apiserver: {e}: {}", e.source_text());
}

/// Write the store's changes to the log whenever it changes, until it is closed; then once
/// more. At start a new segment begins (never appending after a torn record) and the state
/// is compacted into a fresh snapshot in the background.
pub fn spawn_writer(store: Store, dir: PathBuf) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = store.subscribe();
        let last = segments(&dir)
            .ok()
            .and_then(|s| s.last().map(|(n, _)| *n))
            .unwrap_or(0);
        let mut w = Writer {
            written: store.resource_version(),
            store,
            dir,
            segment: None,
            next: last + 1,
            logged: 0,
            snapshot_bytes: 0,
            compaction: None,
        };
        w.rotate_and_compact(false).await;
        loop {
            // Group commit: the changes made while one append and fdatasync ran go out
            // together in the next.
            // A close during the write wakes `changed` at once, for one last write.
            let closed = rx.changed().await.is_err() || w.store.is_closed();
            w.write_changes().await;
            if closed {
                break;
            }
        }
        if let Some(job) = w.compaction.take() {
            w.finish(job).await;
        }
    })
}

impl PersistError {
    fn source_text(&self) -> String {
        match self {
            PersistError::Io { source, .. } => source.to_string(),
            PersistError::Corrupt { source, .. } => source.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use crate::lab::apiserver::store::WriteOptions;

    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "metallbctl-persist-{tag}-{}-{}",
                std::process::id(),
                meta::random_suffix(6)
            ));
            let _ = fs::create_dir_all(&path);
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn contents(snap: &Snapshot) -> Vec<(String, Value)> {
        let mut all: Vec<(String, Value)> = snap
            .objects
            .iter()
            .map(|(r, o)| (r.clone(), (**o).clone()))
            .collect();
        all.sort_by(|a, b| {
            (
                &a.0,
                meta::meta_str(&a.1, "namespace"),
                meta::meta_str(&a.1, "name"),
            )
                .cmp(&(
                    &b.0,
                    meta::meta_str(&b.1, "namespace"),
                    meta::meta_str(&b.1, "name"),
                ))
        });
        all
    }

    fn change(rv: u64, kind: EventType, name: &str) -> Change {
        Change::new(
            rv,
            kind,
            "/v1/configmaps".into(),
            Arc::new(json!({"metadata": {"name": name, "namespace": "default",
                "resourceVersion": rv.to_string()}, "data": {"rv": rv.to_string()}})),
        )
    }

    #[test]
    fn replay_skips_what_the_snapshot_holds_and_drops_a_torn_tail() {
        let dir = Dir::new("replay");
        let base = Snapshot {
            resource_version: 2,
            objects: vec![(
                "/v1/configmaps".into(),
                change(2, EventType::Added, "a").value(),
            )],
        };
        assert!(save(&dir.0, &base).is_ok());
        let mut log = Vec::new();
        encode_changes(
            &[
                change(1, EventType::Added, "old"),
                change(2, EventType::Added, "a"),
                change(3, EventType::Added, "b"),
                change(4, EventType::Modified, "a"),
                change(5, EventType::Deleted, "b"),
                change(6, EventType::Added, "c"),
            ],
            &mut log,
        );
        let whole = log.len();
        // Cut the last record short, as a SIGKILL during the append would.
        log.truncate(whole - 7);
        assert!(fs::write(segment_file(&dir.0, 1), &log).is_ok());
        let loaded = load(&dir.0).ok().flatten();
        let Some(loaded) = loaded else {
            panic!("state loads")
        };
        assert_eq!(loaded.resource_version, 5);
        let names: Vec<(String, String)> = contents(&loaded)
            .iter()
            .map(|(_, o)| {
                (
                    meta::meta_str(o, "name").to_string(),
                    o["data"]["rv"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(names, [("a".to_string(), "4".to_string())]);

        // A later segment goes on from the torn one.
        let mut more = Vec::new();
        encode_changes(&[change(6, EventType::Added, "d")], &mut more);
        assert!(fs::write(segment_file(&dir.0, 2), &more).is_ok());
        let loaded = load(&dir.0).ok().flatten().map(|s| s.resource_version);
        assert_eq!(loaded, Some(6));

        // Damage in the middle of a segment is corruption, not a torn tail.
        let mut bad = log.clone();
        bad[10] = b'#';
        assert!(fs::write(segment_file(&dir.0, 1), &bad).is_ok());
        assert!(matches!(load(&dir.0), Err(PersistError::Corrupt { .. })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_compacts_and_restores_what_the_store_held() {
        let dir = Dir::new("compact");
        let store = Store::new(Registry::default(), 100_000);
        let Some(cm) = store.registry().find("", "v1", "configmaps") else {
            return;
        };
        let writer = spawn_writer(store.clone(), dir.0.clone());
        let o = WriteOptions::default();
        let filler = "x".repeat(4096);
        // More than COMPACT_MIN of changes: at least one compaction runs meanwhile.
        let rounds = (COMPACT_MIN as usize / filler.len()) * 3 / 2;
        for i in 0..rounds {
            let name = format!("c{}", i % 500);
            let obj =
                json!({"metadata": {"name": name}, "data": {"i": i.to_string(), "f": filler}});
            if store.get(&cm, Some("default"), &name).is_ok() {
                let _ = store.delete(&cm, Some("default"), &name, &Default::default());
            }
            assert!(store.create(&cm, Some("default"), obj, &o).is_ok());
        }
        store.close();
        assert!(writer.await.is_ok());
        let segs = segments(&dir.0).map(|s| s.len()).unwrap_or(0);
        assert!(segs <= 2, "compaction removed old segments, {segs} left");
        let snap_size = fs::metadata(state_file(&dir.0))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(
            snap_size > 500 * 4096,
            "a compacted snapshot holds the objects"
        );
        let loaded = load(&dir.0).ok().flatten();
        let want = store.snapshot().ok();
        assert_eq!(
            loaded.as_ref().map(|s| s.resource_version),
            want.as_ref().map(|s| s.resource_version)
        );
        assert_eq!(loaded.as_ref().map(contents), want.as_ref().map(contents));
    }
}
