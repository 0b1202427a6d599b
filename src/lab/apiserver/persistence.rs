//! Durable state: the store is written to `<state-dir>/state.json` (temp file, fsync, rename,
//! so a crash never leaves a torn file) at most about 100 ms after each change, and read back
//! at start. Also the bearer token file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::store::{Snapshot, Store};

/// How long the writer waits after a change to batch further changes into one write.
const BATCH: Duration = Duration::from_millis(20);

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

/// The state file inside a state directory.
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Serialize a snapshot: `{"resourceVersion": N, "objects": [{"resource": .., "object": ..}]}`.
pub fn encode(snap: &Snapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(
        format!(
            "{{\"resourceVersion\":{},\"objects\":[",
            snap.resource_version
        )
        .as_bytes(),
    );
    for (i, (res, obj)) in snap.objects.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"\n{\"resource\":");
        let _ = serde_json::to_writer(&mut out, res);
        out.extend_from_slice(b",\"object\":");
        let _ = serde_json::to_writer(&mut out, obj.as_ref());
        out.push(b'}');
    }
    out.extend_from_slice(b"\n]}\n");
    out
}

/// Parse what `encode` wrote.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Snapshot, PersistError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|source| PersistError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    let objects = doc["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["resource"].as_str()?.to_string(),
                Arc::new(e["object"].clone()),
            ))
        })
        .collect();
    Ok(Snapshot {
        resource_version: doc["resourceVersion"].as_u64().unwrap_or(0),
        objects,
    })
}

/// Read the saved state, if there is any.
pub fn load(dir: &Path) -> Result<Option<Snapshot>, PersistError> {
    let path = state_file(dir);
    match fs::read(&path) {
        Ok(bytes) => decode(&bytes, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
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

/// Save a snapshot into the state directory.
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

/// Write the store whenever it changes, until it is closed; then write once more.
pub fn spawn_writer(store: Store, dir: PathBuf) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = store.subscribe();
        let mut written = store.resource_version();
        if !state_file(&dir).exists() {
            write_now(&store, &dir).await;
        }
        loop {
            let closed = rx.changed().await.is_err() || store.is_closed();
            if !closed {
                tokio::time::sleep(BATCH).await;
            }
            let current = store.resource_version();
            if current != written {
                written = current;
                write_now(&store, &dir).await;
            }
            if closed || store.is_closed() {
                break;
            }
        }
    })
}

async fn write_now(store: &Store, dir: &Path) {
    let Ok(snap) = store.snapshot() else { return };
    let dir = dir.to_path_buf();
    let result = tokio::task::spawn_blocking(move || save(&dir, &snap)).await;
    if let Ok(Err(e)) = result {
        eprintln!("metallbctl lab apiserver: {e}: {}", e.source_text());
    }
}

impl PersistError {
    fn source_text(&self) -> String {
        match self {
            PersistError::Io { source, .. } => source.to_string(),
            PersistError::Corrupt { source, .. } => source.to_string(),
        }
    }
}
