//! The lab runtime: a kubelet plus the workload controllers, in one task over the in-process
//! store. Each pass (after any store change, and every 2 s) makes Nodes exist, Deployments
//! own a ReplicaSet per template, ReplicaSets and DaemonSets own their Pods, starts what
//! new Pods run (MetalLB components, routers, simulated containers), stops what deleted Pods
//! ran, writes statuses, and keeps Endpoints and EndpointSlices current. Writes are idempotent,
//! so passes converge.

pub mod components;
pub mod exec;
pub mod objects;
pub mod router_page;
pub mod store_api;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::components::{Launch, Role, Task};
use self::objects as ob;
use self::store_api::Objects;
use super::apiserver::logs::LogKey;
use super::apiserver::store::ListQuery;
use super::apiserver::{meta, Store, Subresource};
use super::net::VirtualNet;
use super::routers::{self, RouterMode, RouterStatus, RunningRouter};
use super::topology::Topology;

/// MetalLB's metrics port (`--port=7472`), the pod proxy target of speaker metrics.
const METRICS_PORT: u16 = 7472;

/// How to run.
#[derive(Clone)]
pub struct RuntimeConfig {
    pub topology: Topology,
    pub routers: RouterMode,
    /// Where real router daemons keep their files.
    pub work_dir: PathBuf,
    /// The client a MetalLB component uses (pointing at the lab API server), made for its
    /// pod (namespace, name): it authenticates as the pod's ServiceAccount.
    pub client_for_pod: Option<PodClient>,
}

/// Makes the kube client of a pod's component, or says why it cannot (say, a missing
/// ServiceAccount).
pub type PodClient = Arc<dyn Fn(&str, &str) -> Result<kube::Client, String> + Send + Sync>;

/// One container the runtime runs, for `lab status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentStatus {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub image: String,
    /// controller, speaker, router, simulated.
    pub role: String,
    pub node: String,
    pub pod_ip: String,
}

type RouterMap = Arc<Mutex<BTreeMap<String, Arc<RunningRouter>>>>;

/// State shared with status readers.
#[derive(Clone)]
pub struct Shared {
    pub net: VirtualNet,
    routers: RouterMap,
    components: Arc<Mutex<Vec<ComponentStatus>>>,
    topology: Topology,
    /// Which implementation plays the routers, reported for routers that do not run.
    mode: RouterMode,
    /// The kill switch of every running MetalLB component, by (namespace, pod, container).
    kills: Arc<Mutex<BTreeMap<LogKey, Arc<tokio::sync::Notify>>>>,
}

impl Shared {
    /// Kill (as SIGKILL would) the MetalLB components of the pods named `what` (a pod name,
    /// pod name prefix or container name); the runtime restarts them, counting the restart.
    /// Returns `namespace/pod container` of each one killed.
    pub fn kill(&self, what: &str) -> Vec<String> {
        let Ok(kills) = self.kills.lock() else {
            return Vec::new();
        };
        kills
            .iter()
            .filter(|((_, pod, container), _)| {
                pod == what || pod.starts_with(&format!("{what}-")) || container == what
            })
            .map(|((ns, pod, container), kill)| {
                kill.notify_one();
                format!("{ns}/{pod} {container}")
            })
            .collect()
    }

    /// Every container the runtime runs.
    pub fn components(&self) -> Vec<ComponentStatus> {
        self.components
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Every topology router, running or not (asks real daemons; blocking-safe).
    pub async fn router_statuses(&self) -> Vec<RouterStatus> {
        let (routers, topo, mode) = (self.routers.clone(), self.topology.clone(), self.mode);
        let run = move || {
            let map = routers.lock().map(|m| m.clone()).unwrap_or_default();
            topo.routers
                .iter()
                .map(|spec| match map.get(&spec.name) {
                    Some(r) => r.status(),
                    None => routers::idle_status(spec, &spec.listen.to_string(), mode),
                })
                .collect()
        };
        tokio::task::spawn_blocking(run).await.unwrap_or_default()
    }
}

/// The running runtime.
pub struct Runtime {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    shared: Shared,
}

impl Runtime {
    /// Seed the nodes and start reconciling.
    pub fn start(store: Store, cfg: RuntimeConfig) -> Option<Runtime> {
        let obj = Objects::new(store)?;
        let shared = Shared {
            net: VirtualNet::default(),
            routers: Arc::default(),
            components: Arc::default(),
            topology: cfg.topology.clone(),
            mode: cfg.routers,
            kills: Arc::default(),
        };
        let (stop, rx) = watch::channel(false);
        let kubelet = Kubelet {
            obj,
            cfg,
            shared: shared.clone(),
            running: HashMap::new(),
            router_owner: BTreeMap::new(),
            next_ip: 2,
            leases_renewed: None,
            endpoints_seen: None,
        };
        let task = tokio::spawn(kubelet.run(rx));
        Some(Runtime { stop, task, shared })
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Stop every component and router, then the loop.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// What one running pod holds.
struct RunningPod {
    tasks: Vec<Task>,
    routers: Vec<String>,
    status: Vec<ComponentStatus>,
    /// The router pod's status page (see `router_page`).
    page: Option<tokio::task::JoinHandle<()>>,
}

struct Kubelet {
    obj: Objects,
    cfg: RuntimeConfig,
    shared: Shared,
    /// By pod uid.
    running: HashMap<String, RunningPod>,
    /// Router name -> pod uid that started it.
    router_owner: BTreeMap<String, String>,
    next_ip: u32,
    /// When the node leases were last renewed (the kubelet's heartbeat, every 10 s).
    leases_renewed: Option<std::time::Instant>,
    /// The store's resourceVersion when the last endpoints pass began, so the next one reads
    /// only the Services whose endpoints may have changed since.
    endpoints_seen: Option<u64>,
}

/// Services read per page by a full endpoints pass (a page at a time, so that a pass over
/// 50,000 Services does not hold them all at once).
const ENDPOINTS_PAGE: usize = 1000;

/// The kubelet renews its node lease every 10 s; the lease lasts 40 s.
const LEASE_RENEW: Duration = Duration::from_secs(10);

impl Kubelet {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut changes = self.obj.store.subscribe();
        self.ensure_nodes();
        loop {
            self.pass().await;
            tokio::select! {
                r = changes.changed() => if r.is_err() { break },
                _ = stop.changed() => break,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            if *stop.borrow() || self.obj.store.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let uids: Vec<String> = self.running.keys().cloned().collect();
        for uid in uids {
            self.stop_pod(&uid).await;
        }
    }

    async fn pass(&mut self) {
        self.deployments();
        self.replicasets();
        self.daemonsets();
        self.pods().await;
        self.workload_statuses();
        self.endpoints();
        self.node_leases();
        self.publish();
    }

    /// The node heartbeat: one Lease per node in `kube-node-lease`, owned by its Node and renewed
    /// every [`LEASE_RENEW`], as a kubelet does.
    fn node_leases(&mut self) {
        if self
            .leases_renewed
            .is_some_and(|t| t.elapsed() < LEASE_RENEW)
        {
            return;
        }
        let Some(leases) = self
            .obj
            .store
            .registry()
            .find("coordination.k8s.io", "v1", "leases")
        else {
            return;
        };
        self.leases_renewed = Some(std::time::Instant::now());
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
            .to_string();
        for n in &self.cfg.topology.nodes {
            let Some(node) = self.obj.get(&self.obj.k.nodes, "", &n.name) else {
                continue;
            };
            let want = ob::node_lease(&n.name, meta::meta_str(&node, "uid"), &now);
            self.obj.upsert(&leases, want, &["spec"]);
        }
    }

    fn ensure_nodes(&self) {
        for n in &self.cfg.topology.nodes {
            let want = ob::node(n);
            match self.obj.get(&self.obj.k.nodes, "", &n.name) {
                None => {
                    if let Ok(created) = self.obj.create(&self.obj.k.nodes, want.clone()) {
                        self.obj
                            .set_status(&self.obj.k.nodes, &created, want["status"].clone());
                    }
                }
                Some(have) => self
                    .obj
                    .set_status(&self.obj.k.nodes, &have, want["status"].clone()),
            }
        }
    }

    fn deployments(&self) {
        let k = &self.obj.k;
        let rss = self.obj.list(&k.replicasets);
        for d in self.obj.list(&k.deployments) {
            let hash = ob::template_hash(&d["spec"]["template"]);
            let want = ob::replica_set(&d, &hash);
            let want_name = meta::meta_str(&want, "name").to_string();
            let uid = meta::meta_str(&d, "uid");
            for old in rss.iter().filter(|r| ob::owned_by(r, uid)) {
                if meta::meta_str(old, "name") != want_name {
                    self.obj.delete(&k.replicasets, old);
                }
            }
            self.obj.upsert(&k.replicasets, want, &["spec"]);
        }
    }

    fn replicasets(&self) {
        let k = &self.obj.k;
        let pods = self.obj.list(&k.pods);
        for rs in self.obj.list(&k.replicasets) {
            let uid = meta::meta_str(&rs, "uid");
            let owned: Vec<&Arc<Value>> = pods.iter().filter(|p| ob::owned_by(p, uid)).collect();
            let want = rs["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
            for extra in owned.iter().skip(want) {
                self.obj.delete(&k.pods, extra);
            }
            let name = meta::meta_str(&rs, "name").to_string();
            for _ in owned.len()..want {
                let _ = self.obj.create(&k.pods, ob::pod(&rs, &name, &[], None));
            }
        }
    }

    fn daemonsets(&self) {
        let k = &self.obj.k;
        let pods = self.obj.list(&k.pods);
        for ds in self.obj.list(&k.daemonsets) {
            let uid = meta::meta_str(&ds, "uid");
            let hash = ob::template_hash(&ds["spec"]["template"]);
            let generation = ds["metadata"]["generation"]
                .as_u64()
                .unwrap_or(1)
                .to_string();
            let name = meta::meta_str(&ds, "name").to_string();
            let known = |p: &Value| {
                let n = p["spec"]["nodeName"].as_str().unwrap_or("");
                self.cfg.topology.nodes.iter().any(|t| t.name == n)
            };
            for orphan in pods.iter().filter(|p| ob::owned_by(p, uid) && !known(p)) {
                self.obj.delete(&k.pods, orphan);
            }
            for node in &self.cfg.topology.nodes {
                let mine: Vec<&Arc<Value>> = pods
                    .iter()
                    .filter(|p| ob::owned_by(p, uid) && p["spec"]["nodeName"] == node.name)
                    .collect();
                let current = mine
                    .iter()
                    .filter(|p| {
                        p["metadata"]["labels"]["controller-revision-hash"] == hash.as_str()
                    })
                    .count();
                for stale in mine.iter().filter(|p| {
                    p["metadata"]["labels"]["controller-revision-hash"] != hash.as_str()
                }) {
                    self.obj.delete(&k.pods, stale);
                }
                if current == 0 {
                    let labels = [
                        ("controller-revision-hash", hash.as_str()),
                        ("pod-template-generation", generation.as_str()),
                    ];
                    let _ = self
                        .obj
                        .create(&k.pods, ob::pod(&ds, &name, &labels, Some(&node.name)));
                }
            }
        }
    }

    async fn pods(&mut self) {
        let pods = self.obj.list(&self.obj.k.pods);
        let live: HashSet<&str> = pods.iter().map(|p| meta::meta_str(p, "uid")).collect();
        let gone: Vec<String> = self
            .running
            .keys()
            .filter(|u| !live.contains(u.as_str()))
            .cloned()
            .collect();
        for uid in gone {
            self.stop_pod(&uid).await;
        }
        let used: HashSet<String> = pods
            .iter()
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect();
        for p in &pods {
            if !self.running.contains_key(meta::meta_str(p, "uid")) {
                self.start_pod(p, &used).await;
            }
        }
    }

    fn node_of(&self, pod: &Value) -> (String, IpAddr) {
        let nodes = &self.cfg.topology.nodes;
        let wanted = pod["spec"]["nodeName"].as_str().unwrap_or("");
        let n = nodes
            .iter()
            .find(|n| n.name == wanted)
            .or_else(|| nodes.first());
        match n {
            Some(n) => (n.name.clone(), n.address),
            None => (String::new(), IpAddr::V4(Ipv4Addr::LOCALHOST)),
        }
    }

    fn pod_ip(&mut self, used: &HashSet<String>) -> IpAddr {
        loop {
            let n = self.next_ip;
            self.next_ip = if n >= 62_000 { 2 } else { n + 1 };
            let ip = Ipv4Addr::new(10, 244, (n / 250) as u8, (n % 250) as u8 + 2);
            if !used.contains(&ip.to_string()) {
                return IpAddr::V4(ip);
            }
        }
    }

    async fn start_pod(&mut self, pod: &Value, used: &HashSet<String>) {
        let (ns, name, uid) = (
            meta::meta_str(pod, "namespace").to_string(),
            meta::meta_str(pod, "name").to_string(),
            meta::meta_str(pod, "uid").to_string(),
        );
        // A pod that was running when the lab stopped: its containers restart now, as after a
        // node reboot (their logs so far become the previous ones, restart counts rise).
        let restarting = pod["status"]["phase"] == "Running";
        if restarting {
            for c in ob::containers(pod) {
                let container = c["name"].as_str().unwrap_or("main").to_string();
                self.obj
                    .store
                    .logs()
                    .rotate(&(ns.clone(), name.clone(), container));
            }
        }
        let (node, host_ip) = self.node_of(pod);
        if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
            let body = json!({"spec": {"nodeName": node}});
            self.obj
                .merge(&self.obj.k.pods, &ns, &name, &body, Subresource::Main);
        }
        let host_network = pod["spec"]["hostNetwork"].as_bool().unwrap_or(false);
        let pod_ip = if host_network {
            host_ip
        } else {
            self.pod_ip(used)
        };
        let mut rp = RunningPod {
            tasks: Vec::new(),
            routers: Vec::new(),
            status: Vec::new(),
            page: None,
        };
        for c in ob::containers(pod) {
            self.start_container(&c, (&ns, &name, &uid), (&node, host_ip), &mut rp)
                .await;
            for s in rp.status.iter_mut().filter(|s| s.pod_ip.is_empty()) {
                s.pod_ip = pod_ip.to_string();
            }
        }
        rp.page = self.start_router_page(&ns, &name, &rp.routers).await;
        self.running.insert(uid, rp);
        let Some(current) = self.obj.get(&self.obj.k.pods, &ns, &name) else {
            return;
        };
        let at = ob::Placement { host_ip, pod_ip };
        let now = meta::now_rfc3339();
        let mut status = ob::running_status(&current, &at, &now);
        if restarting {
            carry_restarts(&mut status, &pod["status"], &now);
        }
        self.obj.set_status(&self.obj.k.pods, &current, status);
    }

    async fn start_container(
        &mut self,
        c: &Value,
        (ns, pod, uid): (&str, &str, &str),
        (node, addr): (&str, IpAddr),
        rp: &mut RunningPod,
    ) {
        let container = c["name"].as_str().unwrap_or("main").to_string();
        let image = c["image"].as_str().unwrap_or("").to_string();
        let log = self.log_sink(ns, pod, &container);
        let role = components::classify(&image, &self.cfg.topology);
        match &role {
            Role::Routers(names) => {
                for n in names {
                    self.start_router(n, uid, &log).await;
                    rp.routers.push(n.clone());
                }
                self.record_router_port(ns, pod, c, names);
            }
            Role::Simulated => log(&components::simulated_banner(&image)),
            Role::Controller | Role::Speaker => {
                let client = match &self.cfg.client_for_pod {
                    Some(make) => make(ns, pod)
                        .map_err(|e| log(&format!("cannot start: {e}")))
                        .ok(),
                    None => None,
                };
                let launch = Launch {
                    client,
                    node_name: node.to_string(),
                    node_address: addr,
                    version: components::metallb_version(&image),
                    dialer: self.shared.net.dialer(),
                    log: log.clone(),
                    metrics_bound: (role == Role::Speaker)
                        .then(|| self.record_port(ns, pod, c, METRICS_PORT)),
                    restarted: Some(self.restart_hook(ns, pod, &container)),
                };
                if let Some(task) = components::start(&role, launch) {
                    if let Ok(mut kills) = self.shared.kills.lock() {
                        let key = (ns.to_string(), pod.to_string(), container.clone());
                        kills.insert(key, task.kill.clone());
                    }
                    rp.tasks.push(task);
                }
            }
        }
        rp.status.push(ComponentStatus {
            namespace: ns.into(),
            pod: pod.into(),
            container,
            image,
            role: role_name(&role).into(),
            node: node.into(),
            pod_ip: String::new(),
        });
    }

    /// A callback that records where a container's `port` really listens, as the pod
    /// annotation the API server's pod proxy follows. The port is the container's port named
    /// `monitoring` if it has one, else `default`.
    fn record_port(
        &self,
        ns: &str,
        pod: &str,
        container: &Value,
        default: u16,
    ) -> Arc<dyn Fn(std::net::SocketAddr) + Send + Sync> {
        let port = container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "monitoring")
            .and_then(|p| p["containerPort"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(default);
        let store = self.obj.store.clone();
        let (ns, pod) = (ns.to_string(), pod.to_string());
        Arc::new(move |addr| {
            let Some(o) = Objects::new(store.clone()) else {
                return;
            };
            let key = format!(
                "{}{port}",
                crate::lab::apiserver::proxy::PORT_ANNOTATION_PREFIX
            );
            let body = serde_json::json!({"metadata": {"annotations": {key: addr.to_string()}}});
            o.merge(&o.k.pods, &ns, &pod, &body, Subresource::Main);
        })
    }

    /// Record the router container's declared port as where its router's BGP listener is.
    fn record_router_port(&self, ns: &str, pod: &str, container: &Value, names: &[String]) {
        let Some(port) = container["ports"][0]["containerPort"].as_u64() else {
            return;
        };
        let listen = self
            .shared
            .routers
            .lock()
            .ok()
            .and_then(|m| names.iter().find_map(|n| m.get(n).map(|r| r.listen())));
        if let Some(addr) = listen {
            self.annotate_port(ns, pod, port, addr);
        }
    }

    fn annotate_port(&self, ns: &str, pod: &str, port: u64, addr: std::net::SocketAddr) {
        let key = format!(
            "{}{port}",
            crate::lab::apiserver::proxy::PORT_ANNOTATION_PREFIX
        );
        let body = json!({"metadata": {"annotations": {key: addr.to_string()}}});
        self.obj
            .merge(&self.obj.k.pods, ns, pod, &body, Subresource::Main);
    }

    /// A router pod's status page on port 80, on its first router's loopback address.
    async fn start_router_page(
        &self,
        ns: &str,
        pod: &str,
        names: &[String],
    ) -> Option<tokio::task::JoinHandle<()>> {
        let ip = {
            let m = self.shared.routers.lock().ok()?;
            names
                .iter()
                .find_map(|n| m.get(n).map(|r| r.listen().ip()))?
        };
        match router_page::start(ip, self.shared.routers.clone(), names.to_vec()).await {
            Ok((addr, task)) => {
                self.annotate_port(ns, pod, u64::from(router_page::PAGE_PORT), addr);
                Some(task)
            }
            Err(e) => {
                tracing::warn!("router status page of {ns}/{pod}: {e}");
                None
            }
        }
    }

    /// What the kubelet does when a container restarts: the log so far becomes the previous
    /// one, and the pod's status counts the restart and keeps the last termination.
    fn restart_hook(&self, ns: &str, pod: &str, container: &str) -> Arc<dyn Fn() + Send + Sync> {
        let store = self.obj.store.clone();
        let key: LogKey = (ns.to_string(), pod.to_string(), container.to_string());
        Arc::new(move || {
            store.logs().rotate(&key);
            let Some(o) = Objects::new(store.clone()) else {
                return;
            };
            let Some(current) = o.get(&o.k.pods, &key.0, &key.1) else {
                return;
            };
            let mut status = current["status"].clone();
            restart_container(&mut status, &key.2, &meta::now_rfc3339());
            o.set_status(&o.k.pods, &current, status);
        })
    }

    fn log_sink(&self, ns: &str, pod: &str, container: &str) -> components::LogSink {
        let store = self.obj.store.clone();
        let (ns, pod, container) = (ns.to_string(), pod.to_string(), container.to_string());
        Arc::new(move |line: &str| store.append_log(&ns, &pod, &container, line))
    }

    async fn start_router(&mut self, name: &str, uid: &str, log: &components::LogSink) {
        if self.router_owner.contains_key(name) {
            log(&format!("router {name} already runs in another pod"));
            return;
        }
        let Some(spec) = self.cfg.topology.routers.iter().find(|r| r.name == name) else {
            return;
        };
        let nodes: Vec<IpAddr> = self.cfg.topology.nodes.iter().map(|n| n.address).collect();
        match RunningRouter::start(spec, self.cfg.routers, &nodes, &self.cfg.work_dir).await {
            Ok(r) => {
                log(&format!(
                    "router {name} ({}) AS{} listening on {} for {} (router id {})",
                    r.status().implementation,
                    spec.asn,
                    r.listen(),
                    spec.virtual_addr(),
                    spec.id()
                ));
                self.shared.net.register(spec.virtual_addr(), r.listen());
                if let Ok(mut m) = self.shared.routers.lock() {
                    m.insert(name.to_string(), Arc::new(r));
                }
                self.router_owner.insert(name.to_string(), uid.to_string());
            }
            Err(e) => {
                log(&format!("router {name} failed to start: {e}"));
                tracing::warn!("router {name} failed to start: {e}");
            }
        }
    }

    async fn stop_pod(&mut self, uid: &str) {
        let Some(rp) = self.running.remove(uid) else {
            return;
        };
        if let Ok(mut kills) = self.shared.kills.lock() {
            for c in &rp.status {
                kills.remove(&(c.namespace.clone(), c.pod.clone(), c.container.clone()));
            }
        }
        if let Some(page) = rp.page {
            page.abort();
        }
        for t in rp.tasks {
            t.stop().await;
        }
        for name in rp.routers {
            if self.router_owner.get(&name).map(String::as_str) != Some(uid) {
                continue;
            }
            self.router_owner.remove(&name);
            let removed = self
                .shared
                .routers
                .lock()
                .ok()
                .and_then(|mut m| m.remove(&name));
            if let Some(r) = removed {
                self.shared.net.unregister(r.spec().virtual_addr());
                if let Ok(r) = Arc::try_unwrap(r) {
                    r.stop().await;
                }
            }
        }
    }

    fn workload_statuses(&self) {
        let k = &self.obj.k;
        let pods = self.obj.list(&k.pods);
        let count = |uid: &str| {
            let owned: Vec<_> = pods.iter().filter(|p| ob::owned_by(p, uid)).collect();
            let ready = owned.iter().filter(|p| ob::pod_ready(p)).count();
            (owned.len(), ready)
        };
        let rss = self.obj.list(&k.replicasets);
        for rs in &rss {
            let (n, ready) = count(meta::meta_str(rs, "uid"));
            let status = json!({"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": ready,
                "availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"]});
            self.obj.set_status(&k.replicasets, rs, status);
        }
        for d in self.obj.list(&k.deployments) {
            self.deployment_status(&d, &rss);
        }
        for ds in self.obj.list(&k.daemonsets) {
            let (n, ready) = count(meta::meta_str(&ds, "uid"));
            let want = self.cfg.topology.nodes.len();
            let status = json!({"desiredNumberScheduled": want, "currentNumberScheduled": n,
                "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": n,
                "numberMisscheduled": 0, "observedGeneration": ds["metadata"]["generation"]});
            self.obj.set_status(&k.daemonsets, &ds, status);
        }
    }

    fn deployment_status(&self, d: &Value, rss: &[Arc<Value>]) {
        let uid = meta::meta_str(d, "uid");
        let mine: Vec<&Arc<Value>> = rss.iter().filter(|r| ob::owned_by(r, uid)).collect();
        let sum = |f: &str| -> u64 {
            mine.iter()
                .map(|r| r["status"][f].as_u64().unwrap_or(0))
                .sum()
        };
        let (replicas, ready) = (sum("replicas"), sum("readyReplicas"));
        let want = d["spec"]["replicas"].as_u64().unwrap_or(1);
        let available = if ready >= want { "True" } else { "False" };
        let keep = |t: &str, status: &str| {
            let old = d["status"]["conditions"].as_array().and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == t && c["status"] == status)
                    .cloned()
            });
            old.unwrap_or_else(|| {
                let now = meta::now_rfc3339();
                let (reason, msg) = match (t, status) {
                    ("Available", "True") => (
                        "MinimumReplicasAvailable",
                        "Deployment has minimum availability.",
                    ),
                    ("Available", _) => (
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                    ),
                    _ => (
                        "NewReplicaSetAvailable",
                        "ReplicaSet has successfully progressed.",
                    ),
                };
                json!({"type": t, "status": status, "reason": reason, "message": msg,
                       "lastUpdateTime": now, "lastTransitionTime": now})
            })
        };
        let status = json!({"observedGeneration": d["metadata"]["generation"], "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [keep("Available", available), keep("Progressing", "True")]});
        self.obj.set_status(&self.obj.k.deployments, d, status);
    }

    /// Keep each selector Service's EndpointSlice and Endpoints in line with the ready pods it
    /// selects. While the pods stay the same, only the Services that changed (or whose slice or
    /// Endpoints did) since the last pass are read; otherwise every Service, a page at a time.
    fn endpoints(&mut self) {
        let k = &self.obj.k;
        let rv = self.obj.store.resource_version();
        let pods = self.obj.list(&k.pods);
        let changed = self
            .endpoints_seen
            .and_then(|seen| self.services_touched_since(seen));
        match changed {
            Some(keys) => {
                for (ns, name) in keys {
                    if let Some(svc) = self.obj.get(&k.services, &ns, &name) {
                        self.endpoints_of(&svc, &pods);
                    }
                }
            }
            None => {
                let mut q = ListQuery {
                    limit: Some(ENDPOINTS_PAGE),
                    ..ListQuery::default()
                };
                while let Ok(page) = self.obj.store.list(&k.services, &q) {
                    for svc in &page.items {
                        self.endpoints_of(svc, &pods);
                    }
                    match page.next {
                        Some(next) => q.continue_after = Some(next),
                        None => break,
                    }
                }
            }
        }
        self.endpoints_seen = Some(rv);
    }

    /// The Services (namespace, name) that changed after `rv`, or whose EndpointSlice or
    /// Endpoints did; `None` when any pod changed (every Service may select it) or the
    /// store's history no longer reaches back that far.
    fn services_touched_since(&self, rv: u64) -> Option<BTreeSet<(String, String)>> {
        let k = &self.obj.k;
        let (changes, _) = self.obj.store.changes_since(rv).ok()?;
        let (svcs, slices, eps) = (k.services.key(), k.slices.key(), k.endpoints.key());
        let pods = k.pods.key();
        if changes.iter().any(|c| c.resource == pods) {
            return None;
        }
        let mut keys = BTreeSet::new();
        for c in &changes {
            if c.resource != svcs && c.resource != eps && c.resource != slices {
                continue;
            }
            let obj = c.value();
            let ns = meta::meta_str(&obj, "namespace").to_string();
            let name = if c.resource == slices {
                obj["metadata"]["labels"]["kubernetes.io/service-name"]
                    .as_str()
                    .unwrap_or_default()
            } else {
                meta::meta_str(&obj, "name")
            };
            if !name.is_empty() {
                keys.insert((ns, name.to_string()));
            }
        }
        Some(keys)
    }

    fn endpoints_of(&self, svc: &Value, pods: &[Arc<Value>]) {
        let k = &self.obj.k;
        {
            let Some(sel) = svc["spec"]["selector"]
                .as_object()
                .filter(|s| !s.is_empty())
            else {
                return;
            };
            let ns = meta::meta_str(svc, "namespace");
            let ready: Vec<&Value> = pods
                .iter()
                .filter(|p| {
                    meta::meta_str(p, "namespace") == ns && ob::selects(sel, p) && ob::pod_ready(p)
                })
                .map(|p| p.as_ref())
                .collect();
            let slice = ob::endpoint_slice(svc, &ready);
            self.obj.upsert(&k.slices, slice, &["endpoints", "ports"]);
            let mut eps = ob::endpoints(svc, &ready);
            eps["metadata"]["ownerReferences"] = json!([ob::owner_ref(svc)]);
            self.obj.upsert(&k.endpoints, eps, &["subsets"]);
        }
    }

    fn publish(&self) {
        let mut all: Vec<ComponentStatus> = self
            .running
            .values()
            .flat_map(|rp| rp.status.iter().cloned())
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
        if let Ok(mut c) = self.shared.components.lock() {
            *c = all;
        }
    }
}

/// Count one restart of `container` in a pod status: the running state becomes the last
/// (terminated, as by SIGKILL) state and a new one starts `now`.
fn restart_container(status: &mut Value, container: &str, now: &str) {
    let Some(list) = status["containerStatuses"].as_array_mut() else {
        return;
    };
    for c in list.iter_mut().filter(|c| c["name"] == container) {
        let count = c["restartCount"].as_u64().unwrap_or(0) + 1;
        let started = c["state"]["running"]["startedAt"].clone();
        c["restartCount"] = json!(count);
        c["lastState"] = json!({"terminated": {"exitCode": 137, "reason": "Error",
            "startedAt": started, "finishedAt": now}});
        c["state"] = json!({"running": {"startedAt": now}});
    }
}

/// A fresh running `status` of a pod that ran before (`old`): every container restarted once
/// more than it had.
fn carry_restarts(status: &mut Value, old: &Value, now: &str) {
    let Some(list) = status["containerStatuses"].as_array_mut() else {
        return;
    };
    for c in list.iter_mut() {
        let before = old["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["name"] == c["name"]);
        let Some(before) = before else { continue };
        let mut prior = json!({"containerStatuses": [before.clone()]});
        restart_container(&mut prior, c["name"].as_str().unwrap_or_default(), now);
        let restarted = &prior["containerStatuses"][0];
        c["restartCount"] = restarted["restartCount"].clone();
        c["lastState"] = restarted["lastState"].clone();
    }
}

fn role_name(r: &Role) -> &'static str {
    match r {
        Role::Controller => "controller",
        Role::Speaker => "speaker",
        Role::Routers(_) => "router",
        Role::Simulated => "simulated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::apiserver::{Registry, WriteOptions};

    async fn until(store: &Objects, what: &str, f: impl Fn(&Objects) -> bool) {
        for _ in 0..200 {
            if f(store) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn running(o: &Objects, prefix: &str) -> usize {
        o.list(&o.k.pods)
            .iter()
            .filter(|p| meta::meta_str(p, "name").starts_with(prefix) && ob::pod_ready(p))
            .count()
    }

    #[tokio::test]
    async fn workloads_become_pods_endpoints_follow_and_deletes_cascade() {
        let store = Store::new(Registry::default(), 1000);
        let o = Objects::new(store.clone()).unwrap();
        let cfg = RuntimeConfig {
            topology: Topology::parse(super::super::topology::MULTI_NODE).unwrap(),
            routers: RouterMode::Builtin,
            work_dir: std::env::temp_dir(),
            client_for_pod: None,
        };
        let rt = Runtime::start(store.clone(), cfg).unwrap();
        let tmpl = json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}});
        let w = WriteOptions::default();
        let deploy = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2,
            "selector": {"matchLabels": {"app": "web"}}, "template": tmpl}});
        store
            .create(&o.k.deployments, Some("default"), deploy, &w)
            .unwrap();
        let ds = json!({"metadata": {"name": "agent"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "busybox"}]}}}});
        store
            .create(&o.k.daemonsets, Some("default"), ds, &w)
            .unwrap();
        let svc = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 80}]}});
        store
            .create(&o.k.services, Some("default"), svc, &w)
            .unwrap();

        until(&o, "2 web pods and 3 agents", |o| {
            running(o, "web-") == 2 && running(o, "agent-") == 3
        })
        .await;
        until(&o, "a slice with 2 endpoints", |o| {
            o.list(&o.k.slices).iter().any(|s| {
                s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
                    && s["endpoints"].as_array().is_some_and(|e| e.len() == 2)
            })
        })
        .await;
        // With the pods settled, passes read only what changed: a Service created now, and
        // a slice deleted by hand, get their slices all the same.
        let slice_of = |o: &Objects, svc: &str| {
            o.list(&o.k.slices).into_iter().find(|s| {
                s["metadata"]["labels"]["kubernetes.io/service-name"] == svc
                    && s["endpoints"].as_array().is_some_and(|e| e.len() == 2)
            })
        };
        let svc2 = json!({"metadata": {"name": "web2"}, "spec": {"selector": {"app": "web"},
            "ports": [{"port": 8080, "targetPort": 80}]}});
        store
            .create(&o.k.services, Some("default"), svc2, &w)
            .unwrap();
        until(&o, "a slice for a Service created later", |o| {
            slice_of(o, "web2").is_some()
        })
        .await;
        let old = slice_of(&o, "web").unwrap();
        o.delete(&o.k.slices, &old);
        until(&o, "the deleted slice written again", |o| {
            slice_of(o, "web").is_some_and(|s| s["metadata"]["uid"] != old["metadata"]["uid"])
        })
        .await;

        let agents: Vec<String> = o
            .list(&o.k.pods)
            .iter()
            .filter(|p| meta::meta_str(p, "name").starts_with("agent-"))
            .map(|p| p["status"]["podIP"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(
            agents.iter().all(|ip| ip.starts_with("127.0.2.")),
            "{agents:?}"
        );

        let victim = o
            .list(&o.k.pods)
            .into_iter()
            .find(|p| meta::meta_str(p, "name").starts_with("web-"))
            .unwrap();
        o.delete(&o.k.pods, &victim);
        until(&o, "a replacement pod", |o| {
            running(o, "web-") == 2
                && o.get(&o.k.pods, "default", meta::meta_str(&victim, "name"))
                    .is_none()
        })
        .await;

        let d = o.get(&o.k.deployments, "default", "web").unwrap();
        o.delete(&o.k.deployments, &d);
        until(&o, "web pods gone", |o| {
            running(o, "web-") == 0 && o.list(&o.k.replicasets).is_empty()
        })
        .await;
        rt.shutdown().await;
    }
}
