//! MetalLB's speaker for one node: one loop fed by watches on the configuration ConfigMap,
//! Services, EndpointSlices and this node's Node object.
//!
//! - A configuration is applied when it lints without errors and every address the Services
//!   hold still falls in one of its pools (the controller's rule, so both reject tutorial-3
//!   alike); otherwise the running one stays and `Warning InvalidConfig` from `metallb-speaker`
//!   goes on the ConfigMap. A rejected configuration is re-evaluated after Service changes.
//! - Peers whose node selectors match this node's labels get a BGP session through the given
//!   dialer, sourced from the node address; others are closed.
//! - Every LoadBalancer Service with one ingress IP inside a BGP pool is announced per the
//!   pool's advertisements (masked to the aggregation length, LOCAL_PREF, communities), next
//!   hop = node address. `externalTrafficPolicy: Local` Services only from nodes with a ready
//!   endpoint. Everything is withdrawn on shutdown.
//!
//! Route diffs and UPDATE packing are `crate::bgp`'s; this module decides the desired routes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::{
    ConfigMap, Node, Service, ServicePort, ServiceSpec, ServiceStatus,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio::sync::{mpsc, watch as tokio_watch};
use tokio::task::JoinHandle;

use super::bgp_status::{self, BgpStatusWriter};
use super::config::{ConfigError, Parsed, PeerSpec};
use super::controller::{ingress_ips, service_info, spawn_crd_watches, ConfigState};
use super::crds;
use super::events::{EventType, ObjectRef, Recorder};
use super::metrics::{self, Metrics};
use super::source::{Current, Source};
use super::status::StateReporter;
use super::watch::{self, key_of, Change};
use super::{log_line, Error, SpeakerOptions, SPEAKER_COMPONENT};
use crate::alloc::Allocator;
use crate::bgp::driver::{self, PeerConfig};
use crate::bgp::rib_out::{Advert, Routes, Table};
use crate::bgp::session::{self, State as SessionState};
use crate::bgp::status::PeerState;

enum Msg {
    Config(Change<ConfigMap>),
    /// A custom-resource kind (index into `crds::CONFIG_KINDS`) changed.
    Crd(usize, Change<DynamicObject>),
    Service(Change<Service>),
    Slice(Change<EndpointSlice>),
    Node(Change<Node>),
}

struct PeerRun {
    spec: PeerSpec,
    label: String,
    stop: tokio_watch::Sender<bool>,
    status: Arc<Mutex<PeerState>>,
    task: JoinHandle<()>,
    seen_established: u64,
    up: bool,
}

struct Speaker {
    opts: SpeakerOptions,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    config: ConfigState,
    parsed: Option<Parsed>,
    /// The accepted pools, for "which pool owns this address".
    pools: Allocator,
    source: Source,
    /// v0.15: the ConfigurationState `speaker-<node>`.
    state: Option<StateReporter>,
    /// v0.15: this node's ServiceBGPStatus objects.
    bgp_status: Option<BgpStatusWriter>,
    config_changed: bool,
    /// Every Service, as much as the speaker reads of it.
    services: BTreeMap<String, SlimService>,
    services_changed: bool,
    node_labels: BTreeMap<String, String>,
    peers: BTreeMap<SocketAddr, PeerRun>,
    stopping: Vec<JoinHandle<()>>,
    /// The table handed to the sessions, changed in place (every session subscribes).
    routes: tokio_watch::Sender<Table>,
    /// Routes per Service, updated for the Services in `dirty` (all of them when `rebuild`).
    index: RouteIndex,
    dirty: BTreeSet<String>,
    rebuild: bool,
    readiness: Readiness,
    /// A changed table waits to be handed to the sessions (see `push_routes`).
    push_pending: bool,
    last_push: Option<tokio::time::Instant>,
}

/// The shortest interval between two route tables handed to the sessions.
const ROUTE_PACE: Duration = Duration::from_millis(20);

async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Run the speaker until `shutdown` becomes `true`: peer with the configured routers and
/// announce every assigned address, withdrawing everything on the way out.
pub async fn run(
    client: Client,
    opts: SpeakerOptions,
    mut shutdown: tokio_watch::Receiver<bool>,
) -> Result<(), Error> {
    let metrics = Arc::new(Metrics::default());
    let mut metrics_task = None;
    if let Some(addr) = opts.metrics_listen {
        let (bound, task) = metrics::serve(addr, metrics.clone(), shutdown.clone()).await?;
        if let Some(tell) = &opts.metrics_bound {
            tell(bound);
        }
        log_line(
            &opts.log,
            &format!("serving metrics on http://{bound}/metrics"),
        );
        metrics_task = Some(task);
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let named = |name: &str| watcher::Config::default().fields(&format!("metadata.name={name}"));
    let any = watcher::Config::default;
    let config_maps = Api::namespaced(client.clone(), &opts.namespace);
    let source = Source::new(opts.version);
    let mut tasks = vec![
        watch::spawn_config_map(
            source.reads_crds(),
            opts.log.clone(),
            config_maps,
            named(&opts.config_map),
            tx.clone(),
            Msg::Config,
        ),
        watch::spawn(
            "Services",
            opts.log.clone(),
            Api::all(client.clone()),
            any(),
            tx.clone(),
            Msg::Service,
        ),
        watch::spawn(
            "EndpointSlices",
            opts.log.clone(),
            Api::all(client.clone()),
            any(),
            tx.clone(),
            Msg::Slice,
        ),
        watch::spawn(
            "Node",
            opts.log.clone(),
            Api::all(client.clone()),
            named(&opts.node_name),
            tx.clone(),
            Msg::Node,
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
    let v015 = opts.version >= crate::config::Version::v0(15);
    let state =
        v015.then(|| StateReporter::speaker(client.clone(), &opts.namespace, &opts.node_name));
    let bgp_status =
        v015.then(|| BgpStatusWriter::new(client.clone(), &opts.namespace, &opts.node_name));
    let mut s = Speaker {
        recorder: Recorder::new(client, SPEAKER_COMPONENT, Some(&opts.node_name)),
        opts,
        metrics,
        config: ConfigState::default(),
        parsed: None,
        pools: Allocator::default(),
        state,
        bgp_status,
        source,
        config_changed: false,
        services: BTreeMap::new(),
        services_changed: false,
        node_labels: BTreeMap::new(),
        peers: BTreeMap::new(),
        stopping: Vec::new(),
        routes: tokio_watch::Sender::new(Table::new(Routes::new())),
        index: RouteIndex::default(),
        dirty: BTreeSet::new(),
        rebuild: true,
        readiness: Readiness::default(),
        push_pending: false,
        last_push: None,
    };
    log_line(
        &s.opts.log,
        &format!("MetalLB speaker starting on node \"{}\"", s.opts.node_name),
    );
    s.main_loop(&mut rx, &mut shutdown).await;
    for t in tasks {
        t.abort();
    }
    s.shutdown().await;
    if let Some(t) = metrics_task {
        t.abort();
    }
    log_line(&s.opts.log, "MetalLB speaker stopped");
    Ok(())
}

impl Speaker {
    async fn main_loop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Msg>,
        shutdown: &mut tokio_watch::Receiver<bool>,
    ) {
        // Startup: wait for the initial lists of everything (the custom resources' after the
        // four others).
        let kinds = if self.source.reads_crds() {
            crds::CONFIG_KINDS.len()
        } else {
            0
        };
        let mut synced = vec![false; 4 + kinds];
        while synced.iter().any(|s| !s) {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => {
                        let i = match &m {
                            Msg::Config(Change::Reset(_)) => Some(0),
                            Msg::Service(Change::Reset(_)) => Some(1),
                            Msg::Slice(Change::Reset(_)) => Some(2),
                            Msg::Node(Change::Reset(_)) => Some(3),
                            Msg::Crd(k, Change::Reset(_)) => Some(4 + k),
                            _ => None,
                        };
                        if let Some(done) = i.and_then(|i| synced.get_mut(i)) {
                            *done = true;
                        }
                        self.absorb(m);
                    }
                    None => return,
                },
                _ = super::stopped(shutdown) => return,
            }
        }
        self.reconcile();
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => {
                        self.absorb(m);
                        // Take every change already queued before recomputing.
                        while let Ok(m) = rx.try_recv() {
                            self.absorb(m);
                        }
                        self.reconcile();
                    }
                    None => return,
                },
                _ = tick.tick() => {
                    self.watch_sessions();
                    self.sync_bgp_status();
                }
                _ = until(self.push_due()) => self.push_routes(),
                _ = super::stopped(shutdown) => return,
            }
        }
    }

    /// Fold one change into the caches.
    fn absorb(&mut self, m: Msg) {
        match m {
            Msg::Config(Change::Reset(list)) => {
                if let Some(cm) = list.into_iter().next() {
                    self.source.set_config_map(Some(cm));
                    self.config_changed = true;
                }
            }
            Msg::Config(Change::Apply(cm)) => {
                self.source.set_config_map(Some(*cm));
                self.config_changed = true;
            }
            Msg::Config(Change::Delete(_)) => {
                self.source.set_config_map(None);
                self.config_changed = true;
            }
            Msg::Crd(kind, change) => {
                if self.source.apply_crd(kind, change) {
                    self.config_changed = true;
                }
            }
            Msg::Service(Change::Reset(list)) => {
                self.services = list
                    .into_iter()
                    .map(|s| (key_of(&s), SlimService::from(s)))
                    .collect();
                self.services_changed = true;
                self.rebuild = true;
            }
            Msg::Service(Change::Apply(s)) => {
                let key = key_of(&*s);
                self.services.insert(key.clone(), SlimService::from(*s));
                self.services_changed = true;
                self.dirty.insert(key);
            }
            Msg::Service(Change::Delete(s)) => {
                let key = key_of(&*s);
                self.services.remove(&key);
                self.services_changed = true;
                self.dirty.insert(key);
            }
            // Only what the slices say about this node is kept (`Readiness`), not the slices.
            Msg::Slice(Change::Reset(list)) => {
                self.readiness = Readiness::default();
                for slice in &list {
                    self.readiness
                        .set(key_of(slice), Some(slice), &self.opts.node_name);
                }
                self.rebuild = true;
            }
            Msg::Slice(Change::Apply(s)) => {
                let touched = self
                    .readiness
                    .set(key_of(&*s), Some(&s), &self.opts.node_name);
                self.dirty.extend(touched);
            }
            Msg::Slice(Change::Delete(s)) => {
                let touched = self.readiness.set(key_of(&*s), None, &self.opts.node_name);
                self.dirty.extend(touched);
            }
            Msg::Node(Change::Reset(list)) => {
                self.node_labels = list
                    .first()
                    .and_then(|n| n.metadata.labels.clone())
                    .unwrap_or_default();
            }
            Msg::Node(Change::Apply(n)) => {
                let labels = n.metadata.labels.clone().unwrap_or_default();
                if labels != self.node_labels {
                    log_line(&self.opts.log, "node labels changed, resyncing BGP peers");
                    self.node_labels = labels;
                }
            }
            Msg::Node(Change::Delete(_)) => {}
        }
    }

    /// Bring configuration, sessions and routes in line with the caches.
    fn reconcile(&mut self) {
        if std::mem::take(&mut self.config_changed) {
            self.on_config();
        } else if std::mem::take(&mut self.services_changed) {
            if let Some((text, obj)) = self.config.pending.clone() {
                self.try_config(&text, &obj);
            }
        }
        self.services_changed = false;
        self.metrics
            .set_config(self.config.applied.is_some(), self.config.pending.is_some());
        self.sync_peers();
        self.sync_routes();
    }

    /// The configuration objects changed: act on the configuration they now hold.
    fn on_config(&mut self) {
        let (text, obj) = match self.source.current() {
            None => {
                if self.config.applied.is_some() {
                    log_line(
                        &self.opts.log,
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
        if self.config.applied.as_deref() == Some(text.as_str()) {
            self.config.pending = None;
            self.config.reported = None;
            return;
        }
        self.try_config(&text, &obj);
    }

    fn try_config(&mut self, text: &str, obj: &ObjectRef) {
        let result = self.source.parse(text).and_then(|parsed| {
            // Every address a Service holds must stay in some pool of the new config.
            let mut check = Allocator::default();
            for (key, slim) in &self.services {
                let svc = slim.service();
                let ips = ingress_ips(&svc);
                let [ip] = ips.as_slice() else {
                    continue;
                };
                if let Ok(info) = service_info(&svc) {
                    if info.is_load_balancer() {
                        check.restore(key, *ip, &info.share_request());
                    }
                }
            }
            check.set_pools(parsed.pools.clone())?;
            let pools = Allocator::new(parsed.pools.clone())?;
            Ok((parsed, pools))
        });
        match result {
            Ok((parsed, pools)) => {
                if let Some(state) = &mut self.state {
                    state.report(Ok(()));
                }
                let was_pending = self.config.pending.is_some();
                self.config.accept(text);
                self.parsed = Some(parsed);
                self.pools = pools;
                self.rebuild = true;
                log_line(
                    &self.opts.log,
                    if was_pending {
                        "previously rejected configuration is now safe; configuration applied"
                    } else {
                        "configuration applied"
                    },
                );
            }
            Err(e) => {
                if let Some(state) = &mut self.state {
                    state.report(Err(e.to_string()));
                }
                self.reject(obj, text, &e);
            }
        }
    }

    fn reject(&mut self, obj: &ObjectRef, text: &str, e: &ConfigError) {
        if self.config.reject(text, obj, e) {
            let msg = e.event_message();
            log_line(&self.opts.log, &msg);
            self.recorder
                .publish(obj, EventType::Warning, "InvalidConfig", &msg);
        }
    }

    /// Start sessions to selected peers, close the rest.
    fn sync_peers(&mut self) {
        let wanted: Vec<PeerSpec> = self
            .parsed
            .as_ref()
            .map(|p| {
                p.peers
                    .iter()
                    .filter(|p| p.selects(&self.node_labels))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let wanted_keys: HashSet<SocketAddr> = wanted
            .iter()
            .map(|p| SocketAddr::new(p.address, p.port))
            .collect();
        let gone: Vec<SocketAddr> = self
            .peers
            .keys()
            .filter(|k| !wanted_keys.contains(k))
            .copied()
            .collect();
        for k in gone {
            self.stop_peer(
                &k,
                "removed from configuration or not selected for this node",
            );
        }
        for spec in wanted {
            let key = SocketAddr::new(spec.address, spec.port);
            if let Some(run) = self.peers.get(&key) {
                if run.spec == spec {
                    continue;
                }
                self.stop_peer(&key, "configuration changed");
            }
            self.start_peer(spec);
        }
        self.metrics.set_peers(
            self.peers
                .values()
                .map(|p| (p.label.clone(), p.status.clone()))
                .collect(),
        );
    }

    fn start_peer(&mut self, spec: PeerSpec) {
        let target = SocketAddr::new(spec.address, spec.port);
        // An unspecified node address means: let the kernel pick the source.
        let source = spec
            .source_address
            .or(Some(self.opts.node_address).filter(|a| !a.is_unspecified()));
        let router_id = spec
            .router_id
            .or(match source {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            })
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut sc = session::Config::new(spec.my_asn, spec.peer_asn, router_id);
        sc.hold_time = u16::try_from(spec.hold_time.as_secs()).unwrap_or(u16::MAX);
        let mut pc = PeerConfig::new(target, sc);
        pc.source = source;
        pc.md5_password = spec.password.clone();
        let label = target.to_string();
        let status = Arc::new(Mutex::new(PeerState::new(
            label.clone(),
            spec.my_asn,
            spec.peer_asn,
        )));
        let routes_rx = self.routes.subscribe();
        let (stop_tx, stop_rx) = tokio_watch::channel(false);
        let link = driver::Link {
            status: status.clone(),
            routes: Some(routes_rx),
            stop: stop_rx,
        };
        if let Some(sink) = &self.opts.log {
            sink(&format!(
                "Peer \"{}\" configured, starting BGP session",
                spec.address
            ));
        }
        let task = tokio::spawn(driver::run_active(pc, self.opts.dialer.clone(), link));
        self.peers.insert(
            target,
            PeerRun {
                spec,
                label,
                stop: stop_tx,
                status,
                task,
                seen_established: 0,
                up: false,
            },
        );
    }

    fn stop_peer(&mut self, key: &SocketAddr, why: &str) {
        if let Some(run) = self.peers.remove(key) {
            log_line(
                &self.opts.log,
                &format!(
                    "Peer \"{}\" removed ({why}), closing BGP session",
                    run.spec.address
                ),
            );
            let _ = run.stop.send(true);
            self.stopping.push(run.task);
        }
        self.stopping.retain(|t| !t.is_finished());
    }

    /// Bring the route table up to date for the Services that changed (all of them after a
    /// configuration change or a relist), logging services that start or stop being
    /// announced. Returns whether the table changed.
    fn update_routes(&mut self) -> bool {
        let Some(parsed) = &self.parsed else {
            self.dirty.clear();
            return false;
        };
        let keys: Vec<String> = if std::mem::take(&mut self.rebuild) {
            self.dirty.clear();
            let mut all: BTreeSet<String> = self.index.keys().cloned().collect();
            all.extend(self.services.keys().cloned());
            all.into_iter().collect()
        } else {
            std::mem::take(&mut self.dirty).into_iter().collect()
        };
        let (mut started, mut stopped) = (Vec::new(), Vec::new());
        let mut changed = false;
        for key in keys {
            let (routes, ip) = match self.services.get(&key) {
                Some(svc) => service_routes(
                    parsed,
                    &self.pools,
                    &svc.service(),
                    self.readiness.is_ready(&key),
                    self.opts.node_address,
                ),
                None => (Vec::new(), None),
            };
            changed |= self.index.set(&key, routes, ip, &mut started, &mut stopped);
        }
        started.sort();
        stopped.sort();
        for a in started {
            log_line(&self.opts.log, &format!("service has IP, announcing: {a}"));
        }
        for a in stopped {
            log_line(&self.opts.log, &format!("service withdrawn: {a}"));
        }
        changed
    }

    fn sync_routes(&mut self) {
        if self.update_routes() {
            self.push_pending = true;
        }
        self.push_routes();
    }

    /// When the pending table is due to go to the sessions, if one is pending.
    fn push_due(&self) -> Option<tokio::time::Instant> {
        self.push_pending
            .then(|| self.last_push.map(|t| t + ROUTE_PACE))
            .flatten()
    }

    /// Hand the changed routes to the sessions, at most once per [`ROUTE_PACE`], so a burst
    /// of Service changes is folded into one hand-over (and fuller UPDATEs) per interval. A
    /// hand-over costs the size of the change: the table is changed in place and each session
    /// looks only at the prefixes changed since its last look.
    fn push_routes(&mut self) {
        if !self.push_pending {
            return;
        }
        let now = tokio::time::Instant::now();
        if self.last_push.is_some_and(|t| now < t + ROUTE_PACE) {
            return;
        }
        self.push_pending = false;
        self.last_push = Some(now);
        let changes = self.index.take_changes();
        self.routes.send_if_modified(|t| t.update(changes));
    }

    /// v0.15: the ServiceBGPStatus objects for what this node announces over its Established
    /// sessions.
    fn sync_bgp_status(&mut self) {
        let Some(writer) = &mut self.bgp_status else {
            return;
        };
        let up: Vec<IpAddr> = self
            .peers
            .values()
            .filter(|r| r.up)
            .map(|r| r.spec.address)
            .collect();
        writer.sync(bgp_status::desired(
            self.index.announced(),
            &up,
            &self.source.peer_names(),
        ));
    }

    /// Log sessions that came up or went down since the last look.
    fn watch_sessions(&mut self) {
        for run in self.peers.values_mut() {
            let (count, up, error) = run
                .status
                .lock()
                .map(|s| {
                    (
                        s.established_count,
                        s.state == SessionState::Established,
                        s.last_error.clone(),
                    )
                })
                .unwrap_or_default();
            if count > run.seen_established {
                run.seen_established = count;
                if let Some(sink) = &self.opts.log {
                    sink(&format!("BGP session to \"{}\" established", run.label));
                }
                // It may have gone down again since; report that too.
                run.up = true;
            }
            if run.up && !up {
                if let Some(sink) = &self.opts.log {
                    sink(&format!(
                        "BGP session to \"{}\" down: {}",
                        run.label,
                        error.as_deref().unwrap_or("connection closed")
                    ));
                }
            }
            run.up = up;
        }
    }

    /// Withdraw everything and close every session (bounded wait).
    async fn shutdown(&mut self) {
        let keys: Vec<SocketAddr> = self.peers.keys().copied().collect();
        for k in keys {
            self.stop_peer(&k, "speaker shutting down");
        }
        for t in std::mem::take(&mut self.stopping) {
            let abort = t.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), t)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

/// Services (`namespace/name`) with a ready endpoint on `node` according to `slices`.
pub fn ready_on_node<'a>(
    slices: impl Iterator<Item = &'a EndpointSlice>,
    node: &str,
) -> HashSet<String> {
    let mut out = HashSet::new();
    for slice in slices {
        let Some(key) = slice_service_key(slice) else {
            continue;
        };
        let ready_here = slice
            .endpoints
            .iter()
            .any(|e| e.node_name.as_deref() == Some(node) && endpoint_ready(e));
        if ready_here {
            out.insert(key);
        }
    }
    out
}

/// The `namespace/name` of the Service an EndpointSlice belongs to (its
/// `kubernetes.io/service-name` label), if it has one.
pub fn slice_service_key(slice: &EndpointSlice) -> Option<String> {
    let svc = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/service-name"))?;
    let ns = slice.metadata.namespace.as_deref().unwrap_or_default();
    Some(format!("{ns}/{svc}"))
}

/// Whether an endpoint is ready; an unknown condition counts as ready (the API's rule).
pub fn endpoint_ready(e: &Endpoint) -> bool {
    e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
}

/// The routes a node announces (MetalLB's speaker rules): every LoadBalancer Service with
/// exactly one ingress IP that a BGP pool of the configuration owns, per advertisement of
/// that pool (masked to its aggregation length, with its LOCAL_PREF and sorted communities),
/// next hop `node_address` when the families match; `externalTrafficPolicy: Local` Services
/// only with a ready endpoint on `node`. Also returns the announced `"ns/name ip"` pairs.
/// Pure.
pub fn desired_routes<'a>(
    parsed: &Parsed,
    pools: &Allocator,
    services: &BTreeMap<String, Service>,
    slices: impl Iterator<Item = &'a EndpointSlice>,
    node: &str,
    node_address: IpAddr,
) -> (Routes, BTreeSet<String>) {
    let local_ready = ready_on_node(slices, node);
    let mut routes = Routes::new();
    let mut announced = BTreeSet::new();
    for (key, svc) in services {
        let ready = local_ready.contains(key);
        let (mine, a) = service_routes(parsed, pools, svc, ready, node_address);
        routes.extend(mine);
        announced.extend(a.map(|ip| format!("{key} {ip}")));
    }
    (routes, announced)
}

/// The part of a Service the speaker reads (`service_routes`, and `service_info` when a
/// configuration is checked against the assigned addresses): name, namespace, annotations,
/// type, `loadBalancerIP`, traffic policy, selector, ports and status. The rest (managed
/// fields, kubectl's last-applied copy, ClusterIPs, ...) is dropped, and the maps are kept as
/// vectors, so that the cache each speaker keeps of every Service holds only what it uses: a
/// decoded `Service` is over a kilobyte of mostly empty fields before any of its data.
#[derive(Debug, Clone, PartialEq)]
pub struct SlimService {
    name: Option<String>,
    namespace: Option<String>,
    annotations: Vec<(String, String)>,
    type_: Option<String>,
    load_balancer_ip: Option<String>,
    external_traffic_policy: Option<String>,
    /// `None`: no spec at all.
    selector: Option<Vec<(String, String)>>,
    ports: Option<Vec<ServicePort>>,
    status: Option<ServiceStatus>,
}

impl From<Service> for SlimService {
    fn from(svc: Service) -> Self {
        let Service {
            metadata,
            spec,
            status,
            ..
        } = svc;
        let annotations = metadata
            .annotations
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "kubectl.kubernetes.io/last-applied-configuration")
            .collect();
        let (type_, load_balancer_ip, external_traffic_policy, selector, ports) = match spec {
            Some(s) => (
                s.type_,
                s.load_balancer_ip,
                s.external_traffic_policy,
                Some(
                    s.selector
                        .map(|m| m.into_iter().collect())
                        .unwrap_or_default(),
                ),
                s.ports,
            ),
            None => (None, None, None, None, None),
        };
        SlimService {
            name: metadata.name,
            namespace: metadata.namespace,
            annotations,
            type_,
            load_balancer_ip,
            external_traffic_policy,
            selector,
            ports,
            status,
        }
    }
}

impl SlimService {
    /// A `Service` with the kept fields, for the functions that read Services.
    pub fn service(&self) -> Service {
        let map =
            |v: &[(String, String)]| -> BTreeMap<String, String> { v.iter().cloned().collect() };
        Service {
            metadata: ObjectMeta {
                name: self.name.clone(),
                namespace: self.namespace.clone(),
                annotations: (!self.annotations.is_empty()).then(|| map(&self.annotations)),
                ..ObjectMeta::default()
            },
            spec: self.selector.as_ref().map(|selector| ServiceSpec {
                type_: self.type_.clone(),
                load_balancer_ip: self.load_balancer_ip.clone(),
                external_traffic_policy: self.external_traffic_policy.clone(),
                selector: (!selector.is_empty()).then(|| map(selector)),
                ports: self.ports.clone(),
                ..ServiceSpec::default()
            }),
            status: self.status.clone(),
        }
    }
}

/// The routes one Service contributes (in the order `desired_routes` inserts them; for a
/// prefix listed twice the later wins), and its announced IP. `ready_here`: it has a ready
/// endpoint on this node (matters for `externalTrafficPolicy: Local`). Pure.
pub fn service_routes(
    parsed: &Parsed,
    pools: &Allocator,
    svc: &Service,
    ready_here: bool,
    node_address: IpAddr,
) -> (Vec<(IpNet, Advert)>, Option<IpAddr>) {
    let mut routes = Vec::new();
    let spec = svc.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) != Some("LoadBalancer") {
        return (routes, None);
    }
    let ips = ingress_ips(svc);
    let [ip] = ips.as_slice() else {
        return (routes, None);
    };
    let local = spec
        .and_then(|s| s.external_traffic_policy.as_deref())
        .is_some_and(|p| p == "Local");
    if local && !ready_here {
        return (routes, None);
    }
    let Some(pool) = pools.pool_for(*ip) else {
        return (routes, None);
    };
    let Some(ads) = parsed.adverts.get(pool) else {
        return (routes, None);
    };
    // Same family and specified: the node address; otherwise the session's local address.
    let next_hop = match (ip, node_address) {
        (IpAddr::V4(_), a @ IpAddr::V4(_)) | (IpAddr::V6(_), a @ IpAddr::V6(_))
            if !a.is_unspecified() =>
        {
            Some(a)
        }
        _ => None,
    };
    for ad in ads {
        let Some(prefix) = ad.prefix(*ip) else {
            continue;
        };
        let mut communities = ad.communities.clone();
        communities.sort_unstable();
        communities.dedup();
        routes.push((
            prefix,
            Advert {
                next_hop,
                local_pref: ad.local_pref,
                communities,
                large_communities: Vec::new(),
            },
        ));
    }
    (routes, Some(*ip))
}

/// One Service's prefixes (their adverts are in `by_prefix`) and its announced `"ns/name ip"`.
type ServiceRoutes = (Vec<IpNet>, Option<String>);

/// The speaker's routes kept per Service, so that a change to one Service costs the same
/// whatever the number of Services: `desired_routes` over every Service gives the same table.
/// A prefix that several Services map to (an aggregated advertisement, a shared IP) carries
/// the advert of the Service with the greatest key, as the full computation's last insert.
#[derive(Debug, Default)]
pub struct RouteIndex {
    by_service: HashMap<String, ServiceRoutes>,
    /// Per prefix, the Services that map to it and their adverts, sorted by key: nearly
    /// always one, so a sorted `Vec` (a `BTreeMap` would allocate a whole node for it).
    by_prefix: BTreeMap<IpNet, Vec<(String, Advert)>>,
    announced: BTreeSet<String>,
    /// Prefixes whose route changed since the last `take_changes`.
    changed: BTreeSet<IpNet>,
}

impl RouteIndex {
    /// The table to announce (the speaker keeps it in the sessions' [`Table`], fed by
    /// [`RouteIndex::take_changes`]).
    #[cfg(test)]
    pub fn routes(&self) -> Routes {
        self.by_prefix
            .keys()
            .filter_map(|p| self.winner(p).map(|a| (*p, a.clone())))
            .collect()
    }

    /// The route announced for `p`: the advert of the Service with the greatest key.
    fn winner(&self, p: &IpNet) -> Option<&Advert> {
        self.by_prefix.get(p).and_then(|c| c.last()).map(|(_, a)| a)
    }

    /// The prefixes changed since the last call, with their route now (`None`: withdrawn).
    pub fn take_changes(&mut self) -> Vec<(IpNet, Option<Advert>)> {
        std::mem::take(&mut self.changed)
            .into_iter()
            .map(|p| (p, self.winner(&p).cloned()))
            .collect()
    }

    /// The announced `"ns/name ip"` pairs.
    pub fn announced(&self) -> &BTreeSet<String> {
        &self.announced
    }

    /// Replace what `key` contributes; returns whether the table changed. Announcements that
    /// start or stop go to `started` / `stopped`.
    pub fn set(
        &mut self,
        key: &str,
        routes: Vec<(IpNet, Advert)>,
        ip: Option<IpAddr>,
        started: &mut Vec<String>,
        stopped: &mut Vec<String>,
    ) -> bool {
        // A prefix listed twice: the later entry wins, as in `desired_routes`.
        let mut mine: BTreeMap<IpNet, Advert> = BTreeMap::new();
        for (p, a) in routes {
            mine.insert(p, a);
        }
        let announced = ip.map(|ip| format!("{key} {ip}"));
        let old = self.by_service.remove(key);
        let (old_routes, old_announced) = old.unwrap_or_default();
        if old_announced != announced {
            if let Some(a) = &old_announced {
                self.announced.remove(a);
                stopped.push(a.clone());
            }
            if let Some(a) = &announced {
                self.announced.insert(a.clone());
                started.push(a.clone());
            }
        }
        // Each touched prefix's route before the change, to tell which ones changed.
        let touched: BTreeSet<IpNet> = old_routes.iter().chain(mine.keys()).copied().collect();
        let before: Vec<Option<Advert>> = touched.iter().map(|p| self.winner(p).cloned()).collect();
        for p in &old_routes {
            if let Some(c) = self.by_prefix.get_mut(p) {
                if let Ok(i) = c.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
                    c.remove(i);
                }
            }
        }
        for (p, a) in &mine {
            let c = self.by_prefix.entry(*p).or_default();
            match c.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
                Ok(i) => c[i].1 = a.clone(),
                Err(i) => c.insert(i, (key.to_string(), a.clone())),
            }
        }
        let mut changed = false;
        for (p, was) in touched.into_iter().zip(before) {
            if self.by_prefix.get(&p).is_some_and(Vec::is_empty) {
                self.by_prefix.remove(&p);
            }
            if self.winner(&p) != was.as_ref() {
                self.changed.insert(p);
                changed = true;
            }
        }
        let kept: Vec<IpNet> = mine.into_keys().collect();
        if !kept.is_empty() || announced.is_some() {
            self.by_service.insert(key.to_string(), (kept, announced));
        }
        changed
    }

    /// The Services that contribute something.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.by_service.keys()
    }
}

/// Which Services have a ready endpoint on this node, kept per EndpointSlice so that a slice
/// change costs the same whatever the number of slices.
#[derive(Debug, Default)]
struct Readiness {
    /// Slice key -> (its Service, whether it has a ready endpoint here).
    slices: HashMap<String, (Option<String>, bool)>,
    /// Service -> how many of its slices have a ready endpoint here.
    ready: HashMap<String, usize>,
}

impl Readiness {
    fn is_ready(&self, svc: &str) -> bool {
        self.ready.get(svc).is_some_and(|n| *n > 0)
    }

    /// Record a slice (or its removal, `None`); returns the Services whose readiness changed.
    fn set(&mut self, key: String, slice: Option<&EndpointSlice>, node: &str) -> Vec<String> {
        let new = slice.map(|s| {
            let here = s
                .endpoints
                .iter()
                .any(|e| e.node_name.as_deref() == Some(node) && endpoint_ready(e));
            (slice_service_key(s), here)
        });
        let old = match &new {
            Some(n) => self.slices.insert(key, n.clone()),
            None => self.slices.remove(&key),
        };
        let mut touched = Vec::new();
        for (entry, delta) in [(old, -1i64), (new, 1)] {
            if let Some((Some(svc), true)) = entry {
                let before = self.is_ready(&svc);
                let n = self.ready.entry(svc.clone()).or_default();
                *n = n.saturating_add_signed(delta as isize);
                if *n == 0 {
                    self.ready.remove(&svc);
                }
                if before != self.is_ready(&svc) {
                    touched.push(svc);
                }
            }
        }
        touched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(name: &str, ip: Option<&str>, extra: serde_json::Value) -> (String, Service) {
        let mut v = json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "TCP"}]},
        });
        if let Some(ip) = ip {
            v["status"] = json!({"loadBalancer": {"ingress": [{"ip": ip}]}});
        }
        merge(&mut v, extra);
        (
            format!("default/{name}"),
            serde_json::from_value(v).unwrap(),
        )
    }

    fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
        match (a, b) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }

    /// `desired_routes` for node `n` at `NODE`, without EndpointSlices.
    fn routes_on_n(
        parsed: &Parsed,
        pools: &Allocator,
        services: &BTreeMap<String, Service>,
    ) -> (Routes, BTreeSet<String>) {
        desired_routes(
            parsed,
            pools,
            services,
            [].iter(),
            "n",
            NODE.parse().unwrap(),
        )
    }

    fn setup(pools: &str) -> (Parsed, Allocator) {
        let text = format!("peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\naddress-pools:\n{pools}");
        let parsed = crate::metallb::config::parse(&text).unwrap();
        let alloc = Allocator::new(parsed.pools.clone()).unwrap();
        (parsed, alloc)
    }

    const NODE: &str = "127.0.1.1";

    #[test]
    fn a_slim_service_reads_as_the_full_one() {
        let (parsed, pools) =
            setup("- name: p\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n");
        let last_applied = "kubectl.kubernetes.io/last-applied-configuration";
        let full = [
            svc("plain", Some("198.51.100.1"), json!({})),
            svc(
                "shared",
                Some("198.51.100.2"),
                json!({"metadata": {"annotations": {
                          "metallb.universe.tf/allow-shared-ip": "k", last_applied: "{}"},
                          "labels": {"app": "x"}, "uid": "u1",
                          "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
                       "spec": {"externalTrafficPolicy": "Local", "selector": {"app": "x"},
                                "loadBalancerIP": "198.51.100.2", "clusterIP": "10.96.0.9",
                                "sessionAffinity": "None"}}),
            ),
            svc(
                "annotated",
                None,
                json!({"metadata": {"annotations": {last_applied: "{}"}}}),
            ),
        ];
        for (key, full) in full {
            let slim = SlimService::from(full.clone()).service();
            for ready in [false, true] {
                assert_eq!(
                    service_routes(&parsed, &pools, &slim, ready, NODE.parse().unwrap()),
                    service_routes(&parsed, &pools, &full, ready, NODE.parse().unwrap()),
                    "{key}"
                );
            }
            assert_eq!(ingress_ips(&slim), ingress_ips(&full), "{key}");
            let (a, b) = (service_info(&slim).unwrap(), service_info(&full).unwrap());
            assert_eq!(a.is_load_balancer(), b.is_load_balancer(), "{key}");
            assert_eq!(a.share_request(), b.share_request(), "{key}");
            assert!(slim.metadata.managed_fields.is_none());
            assert!(slim
                .metadata
                .annotations
                .as_ref()
                .is_none_or(|a| !a.contains_key(last_applied)));
        }
    }

    #[test]
    fn announces_assigned_ips_with_the_node_as_next_hop() {
        let (parsed, pools) =
            setup("- name: p\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n");
        let services: BTreeMap<_, _> = [
            svc("a", Some("198.51.100.0"), json!({})),
            svc("pending", None, json!({})),
            svc("outside", Some("203.0.113.1"), json!({})),
            svc(
                "cluster",
                Some("198.51.100.9"),
                json!({"spec": {"type": "ClusterIP"}}),
            ),
        ]
        .into();
        let (routes, announced) = routes_on_n(&parsed, &pools, &services);
        let prefixes: Vec<String> = routes.keys().map(|p| p.to_string()).collect();
        assert_eq!(prefixes, ["198.51.100.0/32"]);
        assert_eq!(
            routes.values().next().unwrap().next_hop,
            Some(NODE.parse().unwrap())
        );
        assert_eq!(announced.len(), 1);
    }

    #[test]
    fn layer2_pools_and_buggy_ips_under_avoidance_are_not_announced() {
        let (parsed, pools) = setup("- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/24\n- name: b\n  protocol: bgp\n  avoid-buggy-ips: true\n  addresses:\n  - 198.51.100.0/24\n");
        let services: BTreeMap<_, _> = [
            svc("l2", Some("192.0.2.5"), json!({})),
            svc("buggy", Some("198.51.100.0"), json!({})),
            svc("ok", Some("198.51.100.1"), json!({})),
        ]
        .into();
        let (routes, _) = routes_on_n(&parsed, &pools, &services);
        let prefixes: Vec<String> = routes.keys().map(|p| p.to_string()).collect();
        assert_eq!(prefixes, ["198.51.100.1/32"]);
    }

    #[test]
    fn local_policy_needs_a_ready_endpoint_on_this_node() {
        let (parsed, pools) =
            setup("- name: p\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n");
        let services: BTreeMap<_, _> = [svc(
            "web",
            Some("198.51.100.3"),
            json!({"spec": {"externalTrafficPolicy": "Local"}}),
        )]
        .into();
        let slice = |node: &str, ready: bool| -> EndpointSlice {
            serde_json::from_value(json!({
                "metadata": {"name": "web-x", "namespace": "default",
                             "labels": {"kubernetes.io/service-name": "web"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": node, "conditions": {"ready": ready}}]
            }))
            .unwrap()
        };
        let count = |slices: Vec<EndpointSlice>| {
            desired_routes(
                &parsed,
                &pools,
                &services,
                slices.iter(),
                "n1",
                NODE.parse().unwrap(),
            )
            .0
            .len()
        };
        assert_eq!(count(vec![]), 0);
        assert_eq!(count(vec![slice("n2", true)]), 0);
        assert_eq!(count(vec![slice("n1", false)]), 0);
        assert_eq!(count(vec![slice("n1", true)]), 1);
    }

    mod index_equals_full {
        use proptest::prelude::*;

        use super::*;

        #[derive(Debug, Clone)]
        enum Op {
            /// service n: ip index (None: no IP), Local policy
            Service(u8, Option<u8>, bool),
            DeleteService(u8),
            /// slice n of service m, ready on this node
            Slice(u8, u8, bool),
            DeleteSlice(u8),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (0u8..8, proptest::option::weighted(0.8, 0u8..6), any::<bool>())
                    .prop_map(|(n, ip, l)| Op::Service(n, ip, l)),
                1 => (0u8..8).prop_map(Op::DeleteService),
                2 => (0u8..4, 0u8..8, any::<bool>()).prop_map(|(n, m, r)| Op::Slice(n, m, r)),
                1 => (0u8..4).prop_map(Op::DeleteSlice),
            ]
        }

        /// A /32 pool and one aggregated to /30 (several Services share its prefix) that
        /// also announces /32s with another LOCAL_PREF. (Valid configurations cannot give
        /// one prefix two different adverts: pools do not overlap and aggregation may not be
        /// shorter than a pool's prefix.)
        const POOLS: &str = "- name: a\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/28\n- name: agg\n  protocol: bgp\n  addresses:\n  - 203.0.113.0/28\n  bgp-advertisements:\n  - aggregation-length: 30\n    communities: [\"64500:1\"]\n  - aggregation-length: 32\n    localpref: 50\n";
        const IPS: [&str; 6] = [
            "198.51.100.1",
            "198.51.100.2",
            "203.0.113.1",
            "203.0.113.2",
            "203.0.113.5",
            "192.0.2.1",
        ];

        fn slice(n: u8, m: u8, ready: bool) -> (String, EndpointSlice) {
            let s: EndpointSlice = serde_json::from_value(json!({
                "metadata": {"name": format!("sl{n}"), "namespace": "default",
                             "labels": {"kubernetes.io/service-name": format!("s{m}")}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": "n", "conditions": {"ready": ready}}]
            }))
            .unwrap_or_default();
            (format!("default/sl{n}"), s)
        }

        proptest! {
            #[test]
            fn after_any_sequence(ops in proptest::collection::vec(op(), 1..40)) {
                let (parsed, pools) = setup(POOLS);
                let node: IpAddr = NODE.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
                let mut services = BTreeMap::new();
                let mut slices: BTreeMap<String, EndpointSlice> = BTreeMap::new();
                let mut index = RouteIndex::default();
                let mut readiness = Readiness::default();
                // What the sessions see: the table changed by `take_changes` after each step.
                let mut table = crate::bgp::rib_out::Table::default();
                for op in ops {
                    let mut dirty = Vec::new();
                    match op {
                        Op::Service(n, ip, local) => {
                            let extra = if local {
                                json!({"spec": {"externalTrafficPolicy": "Local"}})
                            } else {
                                json!({})
                            };
                            let (k, s) = svc(&format!("s{n}"), ip.map(|i| IPS[i as usize]), extra);
                            services.insert(k.clone(), s);
                            dirty.push(k);
                        }
                        Op::DeleteService(n) => {
                            let k = format!("default/s{n}");
                            services.remove(&k);
                            dirty.push(k);
                        }
                        Op::Slice(n, m, ready) => {
                            let (k, s) = slice(n, m, ready);
                            dirty.extend(readiness.set(k.clone(), Some(&s), "n"));
                            slices.insert(k, s);
                        }
                        Op::DeleteSlice(n) => {
                            let k = format!("default/sl{n}");
                            dirty.extend(readiness.set(k.clone(), None, "n"));
                            slices.remove(&k);
                        }
                    }
                    let (mut started, mut stopped) = (Vec::new(), Vec::new());
                    for key in dirty {
                        let (routes, ip) = match services.get(&key) {
                            Some(svc) => service_routes(&parsed, &pools, svc, readiness.is_ready(&key), node),
                            None => (Vec::new(), None),
                        };
                        index.set(&key, routes, ip, &mut started, &mut stopped);
                    }
                    let (full, announced) =
                        desired_routes(&parsed, &pools, &services, slices.values(), "n", node);
                    prop_assert_eq!(&index.routes(), &full);
                    prop_assert_eq!(index.announced(), &announced);
                    table.update(index.take_changes());
                    prop_assert_eq!(table.routes(), &full);
                }
            }
        }
    }
}
