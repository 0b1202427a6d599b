//! Watch streams: newline-delimited JSON events over a chunked response, starting after a
//! resourceVersion (or with the current objects when none is given), with bookmarks,
//! `timeoutSeconds`, and an ERROR event with a 410 Status when the history no longer reaches
//! back (never an HTTP 410: kube-rs only relists on the event form).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::Stream;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::ApiError;
use super::resources::ResourceDef;
use super::store::{Change, EventType, ListQuery, Store};
use super::tables;

/// How often an idle watch with bookmarks enabled gets a BOOKMARK.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What a watch request asked for.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub def: ResourceDef,
    pub query: ListQuery,
    /// Start after this rv; `None` means "send the current objects first".
    pub since: Option<u64>,
    pub bookmarks: bool,
    /// Send the `k8s.io/initial-events-end` bookmark after the initial objects.
    pub initial_events_end: bool,
    pub timeout: Duration,
    /// Send each object as a one-row Table (kubectl get -w).
    pub table: bool,
}

/// The server's registry of open watch streams: a count that each stream holds a share of
/// until its state is dropped (the client went away, the timeout passed, or the server
/// stopped).
#[derive(Debug, Clone, Default)]
pub struct Watchers(Arc<AtomicUsize>);

impl Watchers {
    /// Open watch streams.
    pub fn active(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn enter(&self) -> Registered {
        self.0.fetch_add(1, Ordering::Relaxed);
        Registered(self.0.clone())
    }
}

/// One stream's place in `Watchers`, given back on drop.
struct Registered(Arc<AtomicUsize>);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct WatchState {
    store: Store,
    req: WatchRequest,
    rv: u64,
    pending: VecDeque<Bytes>,
    rx: watch::Receiver<u64>,
    deadline: Instant,
    done: bool,
    _registered: Option<Registered>,
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    if serde_json::to_writer(&mut out, object).is_err() {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// `event_line` of an object already serialized (a change's shared JSON).
fn event_line_raw(kind: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(if json.is_empty() { b"null" } else { json });
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

impl WatchState {
    fn object_line(&self, kind: &str, obj: &Value) -> Bytes {
        if self.req.table {
            let t = tables::table(&self.req.def, std::iter::once(obj), self.rv, None);
            event_line(kind, &t)
        } else {
            event_line(kind, obj)
        }
    }

    fn bookmark(&self, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": self.rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.req.def.kind, "apiVersion": self.req.def.api_version(), "metadata": metadata});
        event_line("BOOKMARK", &obj)
    }

    /// Queue the current objects (watch without a resourceVersion).
    fn queue_initial(&mut self) {
        let page = self.store.list(&self.req.def, &self.req.query);
        match page {
            Ok(page) => {
                self.rv = page.resource_version;
                for obj in &page.items {
                    let line = self.object_line("ADDED", obj);
                    self.pending.push_back(line);
                }
                if self.req.initial_events_end {
                    let b = self.bookmark(true);
                    self.pending.push_back(b);
                }
            }
            Err(e) => self.fail(&e),
        }
    }

    fn fail(&mut self, e: &ApiError) {
        self.pending.push_back(event_line("ERROR", &e.status()));
        self.done = true;
    }

    /// The event type this watch sees for a change: an object that starts matching the
    /// selectors is ADDED, one that stops matching is DELETED, as on a real server.
    fn event_kind(&self, c: &Change) -> Option<&'static str> {
        if self.req.query.matches_all() {
            // Nothing to read in the object (a compact one would be parsed for nothing).
            return Some(c.kind.as_str());
        }
        let now = self.req.query.matches(&c.value());
        let before = c.previous_value().map(|p| self.req.query.matches(&p));
        match (c.kind, before, now) {
            (EventType::Modified, Some(false), true) => Some("ADDED"),
            (EventType::Modified, Some(true), false) => Some("DELETED"),
            (_, _, true) => Some(c.kind.as_str()),
            (_, _, false) => None,
        }
    }

    /// Queue every matching change after `self.rv`.
    fn poll_changes(&mut self) {
        self.rx.borrow_and_update();
        match self.store.changes_since(self.rv) {
            Ok((changes, current)) => {
                let key = self.req.def.key();
                for c in changes.iter().filter(|c| c.resource == key) {
                    self.rv = c.rv;
                    if let Some(kind) = self.event_kind(c) {
                        // Every watcher of this change shares one serialization of it.
                        let line = if self.req.table {
                            self.object_line(kind, &c.value())
                        } else {
                            event_line_raw(kind, c.object_json())
                        };
                        self.pending.push_back(line);
                    }
                }
                self.rv = current.max(self.rv);
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Wait for a change, a bookmark tick or the deadline. False when the stream should end.
    async fn wait(&mut self) -> bool {
        if self.store.is_closed() {
            return false;
        }
        let tick = (Instant::now() + BOOKMARK_EVERY).min(self.deadline);
        tokio::select! {
            changed = self.rx.changed() => changed.is_ok(),
            _ = tokio::time::sleep_until(tick) => {
                if Instant::now() >= self.deadline {
                    return false;
                }
                if self.req.bookmarks {
                    let b = self.bookmark(false);
                    self.pending.push_back(b);
                }
                true
            }
        }
    }
}

async fn next_chunk(mut w: WatchState) -> Option<(Result<Bytes, Infallible>, WatchState)> {
    loop {
        if let Some(b) = w.pending.pop_front() {
            return Some((Ok(b), w));
        }
        if w.done {
            return None;
        }
        w.poll_changes();
        if !w.pending.is_empty() {
            continue;
        }
        if !w.wait().await {
            return None;
        }
    }
}

/// The stream of event lines for a watch request.
pub fn stream(store: Store, req: WatchRequest) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream_with(store, req, None)
}

/// `stream`, counted in `watchers` for as long as it lives.
pub fn stream_registered(
    store: Store,
    req: WatchRequest,
    watchers: &Watchers,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream_with(store, req, Some(watchers.enter()))
}

fn stream_with(
    store: Store,
    req: WatchRequest,
    registered: Option<Registered>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let rx = store.subscribe();
    let deadline = Instant::now() + req.timeout;
    let since = req.since;
    let mut state = WatchState {
        store,
        req,
        rv: since.unwrap_or(0),
        pending: VecDeque::new(),
        rx,
        deadline,
        done: false,
        _registered: registered,
    };
    if since.is_none() {
        state.queue_initial();
    }
    futures_util::stream::unfold(state, next_chunk)
}
