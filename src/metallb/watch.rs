//! Watch streams feeding one component loop: each watched resource becomes a task that turns
//! kube-runtime watcher events into [`Change`]s on a channel, so the loop owns all state and
//! handles one change at a time (MetalLB's single-threaded model, without locks).
//!
//! Thin: no decisions here. Watch errors are logged and retried with kube-runtime's backoff.

use std::fmt::Debug;

use futures_util::StreamExt;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One change to a watched set of objects.
#[derive(Debug, Clone)]
pub enum Change<K> {
    /// The complete current set (after the initial list, or a re-list after a lost watch).
    Reset(Vec<K>),
    /// An object was added or modified.
    Apply(Box<K>),
    /// An object was deleted.
    Delete(Box<K>),
}

/// Watch `api` with `config`, sending each change through `wrap` to `tx` until the receiver
/// is gone. Failures (a 403 from a missing RBAC permission, say) go to `log` too, the pod's
/// log, as client-go's reflector writes them.
pub fn spawn<K, M>(
    what: &'static str,
    log: Option<super::LogSink>,
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<M>,
    wrap: impl Fn(Change<K>) -> M + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    M: Send + 'static,
{
    spawn_inner(what, log, api, config, tx, wrap, Absence::Error)
}

/// Like [`spawn`], for a kind that may not be served (a custom resource whose CRD is not
/// installed): while the API server answers 404 the set is reported empty (one `Reset(vec![])`
/// per streak of 404s), and the watch keeps retrying so objects appear once the CRD does.
pub fn spawn_optional<K, M>(
    what: &'static str,
    log: Option<super::LogSink>,
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<M>,
    wrap: impl Fn(Change<K>) -> M + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    M: Send + 'static,
{
    spawn_inner(what, log, api, config, tx, wrap, Absence::NotServed)
}

/// Watch the legacy configuration ConfigMap. In a release that reads custom resources
/// (`fallback`) the ConfigMap is only a fallback, and MetalLB's own RBAC for those releases
/// does not grant it, so a 403 there counts as "no ConfigMap" (logged at debug level, not to
/// the pod log); before that, like [`spawn`].
pub fn spawn_config_map<K, M>(
    fallback: bool,
    log: Option<super::LogSink>,
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<M>,
    wrap: impl Fn(Change<K>) -> M + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    M: Send + 'static,
{
    let absence = if fallback {
        Absence::NotServedOrForbidden
    } else {
        Absence::Error
    };
    spawn_inner("ConfigMap", log, api, config, tx, wrap, absence)
}

/// Which watch errors mean "there is nothing to see" rather than a failure.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Absence {
    /// None: every error is logged and retried.
    Error,
    /// 404: the kind is not served (its CRD is not installed).
    NotServed,
    /// 404 or 403: not served, or not ours to read.
    NotServedOrForbidden,
}

impl Absence {
    fn matches(self, e: &watcher::Error) -> bool {
        matches!(
            (self, api_status(e).map(|s| s.code)),
            (Absence::NotServed, Some(404)) | (Absence::NotServedOrForbidden, Some(403 | 404))
        )
    }
}

/// The API server's answer inside a watch error, if the error is one.
fn api_status(e: &watcher::Error) -> Option<&kube::core::Status> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s),
        watcher::Error::WatchError(s) => Some(s),
        _ => None,
    }
}

fn spawn_inner<K, M>(
    what: &'static str,
    log: Option<super::LogSink>,
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<M>,
    wrap: impl Fn(Change<K>) -> M + Send + 'static,
    absence: Absence,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    M: Send + 'static,
{
    tokio::spawn(async move {
        // Whether the last thing reported was "not served" (so a 404 streak reports once).
        let mut reported_absent = false;
        let stream = watcher(api, config).default_backoff();
        futures_util::pin_mut!(stream);
        let mut buffer: Vec<K> = Vec::new();
        while let Some(ev) = stream.next().await {
            let change = match ev {
                Ok(watcher::Event::Init) => {
                    buffer.clear();
                    continue;
                }
                Ok(watcher::Event::InitApply(k)) => {
                    buffer.push(k);
                    continue;
                }
                Ok(watcher::Event::InitDone) => {
                    reported_absent = false;
                    Change::Reset(std::mem::take(&mut buffer))
                }
                Ok(watcher::Event::Apply(k)) => Change::Apply(Box::new(k)),
                Ok(watcher::Event::Delete(k)) => Change::Delete(Box::new(k)),
                Err(e) if absence.matches(&e) => {
                    if reported_absent {
                        continue;
                    }
                    reported_absent = true;
                    tracing::debug!(error = %e, "{what} not served or not readable; treating as none");
                    buffer.clear();
                    Change::Reset(Vec::new())
                }
                Err(e) => {
                    tracing::warn!(error = %e, "watching {what} failed; retrying");
                    if let Some(log) = &log {
                        log(&format!(
                            "failed to watch {what}: {}; retrying",
                            describe(&e)
                        ));
                    }
                    continue;
                }
            };
            if tx.send(wrap(change)).is_err() {
                return;
            }
        }
    })
}

/// A watch error in one line: the API server's message for API errors (the 403's "services
/// is forbidden: User ..."), else the error and its causes.
fn describe(e: &watcher::Error) -> String {
    match api_status(e) {
        Some(s) => s.message.clone(),
        None => crate::sources::chain(e),
    }
}

/// `namespace/name` of an object (just `name` for cluster-scoped ones).
pub fn key_of<K: Resource>(obj: &K) -> String {
    let meta = obj.meta();
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}
