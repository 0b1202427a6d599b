//! MetalLB's controller: one loop owning an [`Allocator`], fed by watches on the configuration
//! ConfigMap and on every Service.
//!
//! - On start it waits for both initial lists, rebuilds every existing assignment from the
//!   Services' `status.loadBalancer.ingress` (restore) and only then applies the configuration
//!   and allocates anything new.
//! - A configuration is applied when it lints without errors and the allocator accepts its pools
//!   (`set_pools`); otherwise the running one stays and `Warning InvalidConfig` goes on the
//!   ConfigMap. Unlike MetalLB v0.6.2, the rejected configuration is re-evaluated after every
//!   Service change, so it takes effect as soon as it is safe.
//! - Each Service is converged (`Allocator::converge`); the outcome is written to the status
//!   subresource and reported as `IPAllocated` / `AllocationFailed` events. Failed Services are
//!   retried whenever an address is freed or the configuration changes.
//!
//! Decisions are the allocator's; this module only watches and writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, LoadBalancerIngress, LoadBalancerStatus, Service};
use kube::api::{DynamicObject, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio::sync::{mpsc, watch as tokio_watch, Semaphore};
use tokio::task::JoinHandle;

use super::config::ConfigError;
use super::crds;
use super::events::{EventType, ObjectRef, Recorder};
use super::source::{self, Current, Source};
use super::status::{all_pool_counts, PoolStatusWriter, StateReporter};
use super::watch::{self, key_of, Change};
use super::{log_line, ControllerOptions, Error, LogSink, CONTROLLER_COMPONENT};
use crate::alloc::{Allocator, ServiceInfo};
use crate::config::Version;

enum Msg {
    Config(Change<ConfigMap>),
    /// A custom-resource kind (index into `crds::CONFIG_KINDS`) changed.
    Crd(usize, Change<DynamicObject>),
    Service(Change<Service>),
}

/// The ingress IPs a Service's status shows.
pub(crate) fn ingress_ips(svc: &Service) -> Vec<IpAddr> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|v| {
            v.iter()
                .filter_map(|i| i.ip.as_deref().and_then(|ip| ip.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// A Service in the allocator's terms.
pub(crate) fn service_info(svc: &Service) -> Result<ServiceInfo, Error> {
    let v = serde_json::to_value(svc).map_err(|source| Error::Json {
        kind: "Service",
        source,
    })?;
    ServiceInfo::from_json(&v).map_err(|e| Error::Json {
        kind: "Service",
        source: serde::de::Error::custom(e),
    })
}

/// The configuration text of a ConfigMap, if it has one.
pub(crate) fn config_text(cm: &ConfigMap) -> Option<&str> {
    cm.data.as_ref()?.get("config").map(String::as_str)
}

/// The accepted-or-rejected state of the configuration, shared by controller and speaker.
#[derive(Default)]
pub(crate) struct ConfigState {
    /// The text of the configuration in force.
    pub applied: Option<String>,
    /// A rejected configuration waiting to become safe, and the ConfigMap it came from.
    pub pending: Option<(String, ObjectRef)>,
    /// The last rejection reported (text, message), so re-evaluations do not repeat events.
    pub reported: Option<(String, String)>,
}

impl ConfigState {
    /// Record a rejection; returns whether it is new (and should be reported).
    pub fn reject(&mut self, text: &str, obj: &ObjectRef, e: &ConfigError) -> bool {
        self.pending = Some((text.to_string(), obj.clone()));
        let msg = e.event_message();
        let new = self
            .reported
            .as_ref()
            .is_none_or(|(t, m)| t != text || *m != msg);
        self.reported = Some((text.to_string(), msg));
        new
    }

    /// Record that `text` is in force.
    pub fn accept(&mut self, text: &str) {
        self.applied = Some(text.to_string());
        self.pending = None;
        self.reported = None;
    }
}

/// Watch every configuration kind of `crds::CONFIG_KINDS` in `namespace`; a kind whose CRD is
/// not installed counts as empty until it is.
pub(crate) fn spawn_crd_watches<M: Send + 'static>(
    client: &Client,
    namespace: &str,
    log: &Option<super::LogSink>,
    tx: &mpsc::UnboundedSender<M>,
    wrap: fn(usize, Change<DynamicObject>) -> M,
) -> Vec<JoinHandle<()>> {
    crds::CONFIG_KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            watch::spawn_optional(
                k.plural,
                log.clone(),
                k.api(client.clone(), namespace),
                watcher::Config::default(),
                tx.clone(),
                move |c| wrap(i, c),
            )
        })
        .collect()
}

/// `svc` as the body of a status update that sets its ingress to `ip` (none: cleared).
fn with_ingress(svc: &Service, ip: Option<IpAddr>) -> Service {
    let mut obj = svc.clone();
    obj.metadata.resource_version = None;
    obj.metadata.managed_fields = None;
    let status = obj.status.get_or_insert_with(Default::default);
    status.load_balancer = Some(LoadBalancerStatus {
        ingress: ip.map(|ip| {
            vec![LoadBalancerIngress {
                ip: Some(ip.to_string()),
                ..Default::default()
            }]
        }),
    });
    obj
}

/// Status writes run concurrently (bounded), in order per Service: each write waits for the
/// previous one of the same Service. Failed writes come back on a channel for a retry.
struct StatusWriter {
    client: Client,
    inflight: HashMap<String, JoinHandle<()>>,
    /// Finished writes are swept out of `inflight` when it grows past this; the bound doubles
    /// with what stays in flight, so a backlog of N writes costs O(N) sweeping, not O(N²).
    sweep_at: usize,
    permits: Arc<Semaphore>,
    failed: mpsc::UnboundedSender<String>,
}

/// How many status writes may be in flight at once.
const STATUS_WRITERS: usize = 16;

impl StatusWriter {
    fn write(&mut self, key: &str, svc: &Service, ip: Option<IpAddr>) {
        let svc = svc.clone();
        let ns = svc
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = svc.metadata.name.clone().unwrap_or_default();
        let api: Api<Service> = Api::namespaced(self.client.clone(), &ns);
        let prev = self.inflight.remove(key);
        let permits = self.permits.clone();
        let failed = self.failed.clone();
        let key_owned = key.to_string();
        let task = tokio::spawn(async move {
            if let Some(p) = prev {
                let _ = p.await;
            }
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            // An update of the status subresource, as MetalLB does (`Status().Update()`): its
            // RBAC grants `services/status` update, not patch. Unconditional (no
            // resourceVersion), as Services allow, so a status write never races our own.
            let obj = with_ingress(&svc, ip);
            match api
                .replace_status(&name, &PostParams::default(), &obj)
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => {
                    tracing::warn!(service = %key_owned, error = %e, "cannot update service status");
                    let _ = failed.send(key_owned);
                }
            }
        });
        if self.inflight.len() > self.sweep_at {
            self.inflight.retain(|_, t| !t.is_finished());
            self.sweep_at = (2 * self.inflight.len()).max(4 * STATUS_WRITERS);
        }
        self.inflight.insert(key.to_string(), task);
    }

    /// Wait (bounded) for the writes in flight.
    async fn drain(&mut self, limit: Duration) {
        let tasks: Vec<JoinHandle<()>> = self.inflight.drain().map(|(_, t)| t).collect();
        let _ = tokio::time::timeout(limit, async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
    }
}

struct Controller {
    status: StatusWriter,
    recorder: Recorder,
    log: Option<LogSink>,
    alloc: Allocator,
    config: ConfigState,
    source: Source,
    /// v0.15's status objects: IPAddressPool counts and the ConfigurationState `controller`.
    v015: Option<(PoolStatusWriter, StateReporter)>,
    services: BTreeMap<String, Service>,
    /// What we last wrote to each Service's status.
    reported: HashMap<String, IpAddr>,
    /// Services whose allocation failed, with the message reported.
    failed: BTreeMap<String, String>,
    /// Services whose status write failed, to retry on the next tick.
    retry: BTreeSet<String>,
}

/// Run the controller until `shutdown` becomes `true`: allocate addresses to LoadBalancer
/// Services from the configured pools and report the outcome as status and events.
pub async fn run(
    client: Client,
    opts: ControllerOptions,
    mut shutdown: tokio_watch::Receiver<bool>,
) -> Result<(), Error> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), &opts.namespace);
    let cm_cfg = watcher::Config::default().fields(&format!("metadata.name={}", opts.config_map));
    let source = Source::new(opts.version);
    let mut tasks = vec![
        watch::spawn_config_map(
            source.reads_crds(),
            opts.log.clone(),
            cm_api,
            cm_cfg,
            tx.clone(),
            Msg::Config,
        ),
        watch::spawn(
            "Services",
            opts.log.clone(),
            Api::<Service>::all(client.clone()),
            watcher::Config::default(),
            tx.clone(),
            Msg::Service,
        ),
    ];
    if source.reads_crds() {
        tasks.extend(spawn_crd_watches(
            &client,
            &opts.namespace,
            &opts.log,
            &tx,
            Msg::Crd,
        ));
    }
    drop(tx);
    let (failed_tx, mut failed_rx) = mpsc::unbounded_channel();
    let mut c = Controller {
        status: StatusWriter {
            client: client.clone(),
            inflight: HashMap::new(),
            sweep_at: 4 * STATUS_WRITERS,
            permits: Arc::new(Semaphore::new(STATUS_WRITERS)),
            failed: failed_tx,
        },
        recorder: Recorder::new(client.clone(), CONTROLLER_COMPONENT, None),
        log: opts.log.clone(),
        alloc: Allocator::default(),
        config: ConfigState::default(),
        v015: (opts.version >= Version::v0(15)).then(|| {
            (
                PoolStatusWriter::new(client.clone(), &opts.namespace),
                StateReporter::controller(client.clone(), &opts.namespace),
            )
        }),
        source,
        services: BTreeMap::new(),
        reported: HashMap::new(),
        failed: BTreeMap::new(),
        retry: BTreeSet::new(),
    };
    log_line(&c.log, "MetalLB controller starting");
    let result = c.main_loop(&mut rx, &mut failed_rx, &mut shutdown).await;
    for t in tasks {
        t.abort();
    }
    c.status.drain(Duration::from_secs(5)).await;
    log_line(&c.log, "MetalLB controller stopped");
    result
}

impl Controller {
    async fn main_loop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Msg>,
        failed: &mut mpsc::UnboundedReceiver<String>,
        shutdown: &mut tokio_watch::Receiver<bool>,
    ) -> Result<(), Error> {
        // Startup: wait for the initial lists (ConfigMap, Services, custom resources).
        let (mut cm, mut svcs): (Option<Vec<ConfigMap>>, Option<Vec<Service>>) = (None, None);
        let mut crds_synced = if self.source.reads_crds() {
            vec![false; crds::CONFIG_KINDS.len()]
        } else {
            Vec::new()
        };
        // Changes that arrive after one list but before the other, replayed in order.
        let mut early: Vec<Msg> = Vec::new();
        while cm.is_none() || svcs.is_none() || crds_synced.iter().any(|s| !s) {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(Msg::Config(Change::Reset(list))) if cm.is_none() => cm = Some(list),
                    Some(Msg::Service(Change::Reset(list))) if svcs.is_none() => svcs = Some(list),
                    Some(Msg::Crd(k, change @ Change::Reset(_)))
                        if crds_synced.get(k) == Some(&false) =>
                    {
                        crds_synced[k] = true;
                        self.source.apply_crd(k, change);
                    }
                    Some(m) => early.push(m),
                    None => return Ok(()),
                },
                _ = super::stopped(shutdown) => return Ok(()),
            }
        }
        for s in svcs.unwrap_or_default() {
            self.services.insert(key_of(&s), s);
        }
        self.restore();
        self.source
            .set_config_map(cm.unwrap_or_default().into_iter().next());
        self.on_config().await;
        self.converge_all().await;
        for m in early {
            self.handle(m).await;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => self.handle(m).await,
                    None => return Ok(()),
                },
                Some(key) = failed.recv() => {
                    self.retry.insert(key);
                }
                _ = tick.tick() => {
                    self.retry_writes().await;
                    self.write_pool_status();
                }
                _ = super::stopped(shutdown) => return Ok(()),
            }
        }
    }

    /// Rebuild assignments from the Services' status before anything new is allocated.
    fn restore(&mut self) {
        let mut n = 0;
        for (key, svc) in &self.services {
            let ips = ingress_ips(svc);
            let Ok(info) = service_info(svc) else {
                continue;
            };
            if let (true, [ip]) = (info.is_load_balancer(), ips.as_slice()) {
                self.alloc.restore(key, *ip, &info.share_request());
                self.reported.insert(key.clone(), *ip);
                n += 1;
            }
        }
        if n > 0 {
            log_line(&self.log, &format!("rebuilt {n} existing IP assignments"));
        }
    }

    async fn handle(&mut self, m: Msg) {
        match m {
            Msg::Config(Change::Reset(list)) => {
                if let Some(cm) = list.into_iter().next() {
                    self.source.set_config_map(Some(cm));
                    self.on_config().await;
                }
            }
            Msg::Config(Change::Apply(cm)) => {
                self.source.set_config_map(Some(*cm));
                self.on_config().await;
            }
            Msg::Config(Change::Delete(_)) => {
                self.source.set_config_map(None);
                self.on_config().await;
            }
            Msg::Crd(kind, change) => {
                if self.source.apply_crd(kind, change) {
                    self.on_config().await;
                }
            }
            Msg::Service(Change::Reset(list)) => {
                let fresh: BTreeMap<String, Service> =
                    list.into_iter().map(|s| (key_of(&s), s)).collect();
                let gone: Vec<String> = self
                    .services
                    .keys()
                    .filter(|k| !fresh.contains_key(*k))
                    .cloned()
                    .collect();
                self.services = fresh;
                for k in gone {
                    self.converge(&k).await;
                }
                self.converge_all().await;
                self.after_service_change().await;
            }
            Msg::Service(Change::Apply(svc)) => {
                let key = key_of(&*svc);
                self.services.insert(key.clone(), *svc);
                let freed = self.converge(&key).await;
                if freed {
                    self.retry_failed().await;
                }
                self.after_service_change().await;
            }
            Msg::Service(Change::Delete(svc)) => {
                let key = key_of(&*svc);
                self.services.remove(&key);
                if self.converge(&key).await {
                    self.retry_failed().await;
                }
                self.after_service_change().await;
            }
        }
    }

    /// A rejected configuration may have become safe.
    async fn after_service_change(&mut self) {
        if let Some((text, obj)) = self.config.pending.clone() {
            if self.try_config(&text, &obj) {
                self.converge_all().await;
            }
        }
    }

    /// The configuration objects changed: act on the configuration they now hold.
    async fn on_config(&mut self) {
        let (text, obj) = match self.source.current() {
            None => {
                if self.config.applied.is_some() {
                    log_line(
                        &self.log,
                        "configuration deleted; keeping the configuration in force",
                    );
                }
                return;
            }
            Some(Current::MissingKey(obj)) => {
                self.reject(&obj, "", &ConfigError::MissingKey);
                return;
            }
            Some(Current::Text { text, obj }) => (text, obj),
        };
        let text = text.as_str();
        if self.config.applied.as_deref() == Some(text) {
            if self.config.pending.is_some() {
                self.config.pending = None;
                self.config.reported = None;
                log_line(
                    &self.log,
                    "configuration reverted to the one in force; dropping the rejected one",
                );
            }
            return;
        }
        if self.try_config(text, &obj) {
            self.converge_all().await;
        }
    }

    /// Try to apply `text`; returns whether it was applied.
    fn try_config(&mut self, text: &str, obj: &ObjectRef) -> bool {
        let reallocates = self.source.reallocates(text);
        let result = self.source.parse(text).and_then(|parsed| {
            if reallocates {
                self.alloc.set_pools_clearing(parsed.pools)
            } else {
                self.alloc.set_pools(parsed.pools).map(|()| Vec::new())
            }
            .map_err(ConfigError::Incompatible)
        });
        match result {
            Ok(cleared) => {
                if let Some((_, state)) = &mut self.v015 {
                    state.report(Ok(()));
                }
                self.clear_assignments(cleared);
                let was_pending = self.config.pending.is_some();
                self.config.accept(text);
                log_line(
                    &self.log,
                    if was_pending {
                        "previously rejected configuration is now safe; configuration applied"
                    } else {
                        "configuration applied"
                    },
                );
                true
            }
            Err(e) => {
                if let Some((_, state)) = &mut self.v015 {
                    state.report(Err(e.to_string()));
                }
                self.reject(obj, text, &e);
                false
            }
        }
    }

    /// v0.15: write the IPAddressPools' counts that changed (custom resources only).
    fn write_pool_status(&mut self) {
        if let Some((pools, _)) = &mut self.v015 {
            if self.source.uses_crds() && self.config.applied.is_some() {
                pools.sync(all_pool_counts(&self.alloc));
            }
        }
    }

    /// MetalLB v0.14+: the new configuration took these addresses away; say so on each Service
    /// (`Normal ClearAssignment`), then the next converge allocates a new address.
    fn clear_assignments(&mut self, cleared: Vec<crate::alloc::Assignment>) {
        for a in cleared {
            let msg = source::clear_assignment_message(&a.service, a.ip);
            log_line(&self.log, &msg);
            if let Some(svc) = self.services.get(&a.service) {
                self.recorder.publish(
                    &ObjectRef::of(svc),
                    EventType::Normal,
                    "ClearAssignment",
                    &msg,
                );
            }
        }
    }

    fn reject(&mut self, obj: &ObjectRef, text: &str, e: &ConfigError) {
        if self.config.reject(text, obj, e) {
            let msg = e.event_message();
            log_line(&self.log, &msg);
            self.recorder
                .publish(obj, EventType::Warning, "InvalidConfig", &msg);
        }
    }

    async fn converge_all(&mut self) {
        let keys: Vec<String> = self.services.keys().cloned().collect();
        for k in keys {
            self.converge(&k).await;
        }
    }

    async fn retry_failed(&mut self) {
        let keys: Vec<String> = self.failed.keys().cloned().collect();
        for k in keys {
            self.converge(&k).await;
        }
    }

    async fn retry_writes(&mut self) {
        let keys: Vec<String> = std::mem::take(&mut self.retry).into_iter().collect();
        for k in keys {
            self.converge(&k).await;
        }
    }

    /// Converge one Service (or forget a deleted one). Returns whether an address was freed.
    async fn converge(&mut self, key: &str) -> bool {
        let before = self.alloc.ip(key);
        let Some(svc) = self.services.get(key).cloned() else {
            self.failed.remove(key);
            self.reported.remove(key);
            self.retry.remove(key);
            let freed = self.alloc.unassign(key);
            if let Some(ip) = before.filter(|_| freed) {
                log_line(
                    &self.log,
                    &format!("released IP {ip} of deleted service \"{key}\""),
                );
            }
            return freed;
        };
        if self.config.applied.is_none() {
            return false;
        }
        let info = match service_info(&svc) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(service = key, error = %e, "cannot read service");
                return false;
            }
        };
        let shown = ingress_ips(&svc);
        let obj = ObjectRef::of(&svc);
        let result = self.alloc.converge(&info);
        let after = self.alloc.ip(key);
        let freed = before.is_some() && before != after;
        match result {
            Ok(Some(ip)) => {
                self.failed.remove(key);
                if shown != [ip] {
                    self.status.write(key, &svc, Some(ip));
                }
                if self.reported.get(key) != Some(&ip) {
                    self.reported.insert(key.to_string(), ip);
                    let msg = format!("Assigned IP \"{ip}\"");
                    log_line(&self.log, &format!("{msg} to \"{key}\""));
                    self.recorder
                        .publish(&obj, EventType::Normal, "IPAllocated", &msg);
                }
            }
            Ok(None) => {
                self.failed.remove(key);
                self.reported.remove(key);
                if !shown.is_empty() {
                    self.status.write(key, &svc, None);
                }
            }
            Err(e) => {
                self.reported.remove(key);
                if !shown.is_empty() {
                    self.status.write(key, &svc, None);
                }
                let msg = format!("Failed to allocate IP for \"{key}\": {e}");
                if self.failed.get(key) != Some(&msg) {
                    log_line(&self.log, &msg);
                    self.recorder
                        .publish(&obj, EventType::Warning, "AllocationFailed", &msg);
                    self.failed.insert(key.to_string(), msg);
                }
            }
        }
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> ObjectRef {
        ObjectRef {
            kind: "ConfigMap".into(),
            api_version: "v1".into(),
            namespace: "metallb-system".into(),
            name: "config".into(),
            uid: "u".into(),
            resource_version: "1".into(),
        }
    }

    #[test]
    fn a_rejection_is_reported_once_until_it_changes() {
        let mut st = ConfigState::default();
        let e = ConfigError::Invalid {
            message: "bad".into(),
        };
        assert_eq!(e.event_message(), "configuration rejected: bad");
        assert!(st.reject("a", &obj(), &e));
        assert!(!st.reject("a", &obj(), &e), "re-evaluation repeats nothing");
        assert!(st.reject("b", &obj(), &e), "a new text is a new rejection");
        st.accept("c");
        assert!(st.pending.is_none());
        assert!(
            st.reject("b", &obj(), &e),
            "after an accept, the same rejection counts again"
        );
    }
}
