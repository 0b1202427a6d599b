//! The MetalLB controller/speaker environment: an in-process [`Lab`], two lab BGP routers on
//! loopback standing in for test-bgp-router's BIRD (10.96.0.100) and Quagga (10.96.0.101), and a
//! mapped dialer so the speaker never dials a 10.x address.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Service};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use metallbctl::bgp::driver::TcpDialer;
use metallbctl::bgp::router::{Neighbor, Router, RouterConfig};
use metallbctl::bgp::status::RouteSnapshot;
use metallbctl::lab::net::MappedDialer;
use metallbctl::metallb::{self, ControllerOptions, LogSink, SpeakerOptions};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{eventually_async, Lab};

/// The virtual router addresses of the tutorial.
pub const BIRD: &str = "10.96.0.100";
pub const QUAGGA: &str = "10.96.0.101";

pub const WAIT: Duration = Duration::from_secs(20);

/// Log lines collected from one component.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<String>>>);

impl Logs {
    pub fn sink(&self) -> LogSink {
        let lines = self.0.clone();
        Arc::new(move |l: &str| {
            if let Ok(mut v) = lines.lock() {
                v.push(l.to_string());
            }
        })
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }
}

/// A running component.
pub struct Running {
    pub stop: watch::Sender<bool>,
    pub task: JoinHandle<Result<(), metallb::Error>>,
    pub logs: Logs,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(r) => r.expect("task joins").expect("component stops cleanly"),
            Err(_) => {
                abort.abort();
                panic!("component did not stop within 10s");
            }
        }
    }
}

pub struct Env {
    pub lab: Lab,
    pub client: kube::Client,
    /// Router for 10.96.0.100 and router for 10.96.0.101.
    pub routers: Vec<Router>,
    pub map: Arc<BTreeMap<SocketAddr, SocketAddr>>,
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

impl Env {
    /// The lab API server with namespaces `default` and `metallb-system`, and two routers in
    /// AS 64500 that accept the given node addresses as neighbours.
    pub async fn start(tag: &str, nodes: &[&str]) -> Env {
        let lab = Lab::start(tag).await;
        let client = lab.client().await;
        let ns: Api<Namespace> = Api::all(client.clone());
        for name in ["default", "metallb-system"] {
            let _ = ns
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns"),
                )
                .await;
        }
        let mut routers = Vec::new();
        let mut map = BTreeMap::new();
        for (virt, listen, id) in [
            (BIRD, "127.0.0.100:0", Ipv4Addr::new(10, 96, 0, 100)),
            (QUAGGA, "127.0.0.101:0", Ipv4Addr::new(10, 96, 0, 101)),
        ] {
            let r = Router::bind(RouterConfig {
                listen: listen.parse().expect("listen"),
                local_as: 64500,
                router_id: id,
                hold_time: 90,
                neighbors: nodes
                    .iter()
                    .map(|n| Neighbor {
                        addr: ip(n),
                        peer_as: 64500,
                        md5_password: None,
                    })
                    .collect(),
            })
            .await
            .expect("router binds");
            map.insert(SocketAddr::new(ip(virt), 179), r.local_addr());
            routers.push(r);
        }
        Env {
            lab,
            client,
            routers,
            map: Arc::new(map),
        }
    }

    pub fn controller(&self) -> Running {
        let logs = Logs::default();
        let opts = ControllerOptions {
            log: Some(logs.sink()),
            ..ControllerOptions::default()
        };
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(metallb::run_controller(self.client.clone(), opts, rx));
        Running { stop, task, logs }
    }

    pub fn speaker_opts(&self, node: &str, addr: &str) -> SpeakerOptions {
        let map = self.map.clone();
        let dialer = MappedDialer::new(
            TcpDialer {
                loopback_only: true,
            },
            Arc::new(move |a: SocketAddr| map.get(&a).copied()),
        );
        let mut opts = SpeakerOptions::new(node, ip(addr));
        opts.dialer = Arc::new(dialer);
        opts
    }

    pub fn speaker(&self, node: &str, addr: &str) -> Running {
        self.speaker_with(self.speaker_opts(node, addr))
    }

    pub fn speaker_with(&self, mut opts: SpeakerOptions) -> Running {
        let logs = Logs::default();
        opts.log = Some(logs.sink());
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(metallb::run_speaker(self.client.clone(), opts, rx));
        Running { stop, task, logs }
    }

    pub async fn node(&self, name: &str, labels: Value) {
        let api: Api<Node> = Api::all(self.client.clone());
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
                .expect("node");
        api.create(&PostParams::default(), &node)
            .await
            .expect("create node");
    }

    /// Create or update the MetalLB ConfigMap from a manifest file under manifests/.
    pub async fn apply_config_file(&self, file: &str) {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("manifests")
                .join(file),
        )
        .expect("manifest");
        let cm: ConfigMap = serde_yaml::from_str(&text).expect("configmap yaml");
        let body = cm
            .data
            .and_then(|d| d.get("config").cloned())
            .expect("config key");
        self.apply_config(&body).await;
    }

    pub async fn apply_config(&self, body: &str) {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), "metallb-system");
        if api.get_opt("config").await.expect("get cm").is_some() {
            api.patch(
                "config",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"config": body}})),
            )
            .await
            .expect("patch config");
        } else {
            let cm: ConfigMap = serde_json::from_value(json!({
                "metadata": {"name": "config", "namespace": "metallb-system"},
                "data": {"config": body}
            }))
            .expect("cm");
            api.create(&PostParams::default(), &cm)
                .await
                .expect("create config");
        }
    }

    /// Create every object of a multi-document manifest under manifests/ in `default`.
    pub async fn apply_manifest(&self, file: &str) {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("manifests")
                .join(file),
        )
        .expect("manifest");
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc).expect("yaml doc");
            match v["kind"].as_str() {
                Some("Service") => {
                    let svc: Service = serde_json::from_value(v).expect("service");
                    self.services("default")
                        .create(&PostParams::default(), &svc)
                        .await
                        .expect("create service");
                }
                Some("Deployment") => {
                    let d: k8s_openapi::api::apps::v1::Deployment =
                        serde_json::from_value(v).expect("deployment");
                    Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(
                        self.client.clone(),
                        "default",
                    )
                    .create(&PostParams::default(), &d)
                    .await
                    .expect("create deployment");
                }
                other => panic!("unexpected kind {other:?}"),
            }
        }
    }

    pub fn services(&self, ns: &str) -> Api<Service> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// A LoadBalancer Service with one TCP port.
    pub async fn lb_service(&self, ns: &str, name: &str, port: u16, extra: Value) -> Service {
        let mut v = json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": [{"port": port, "protocol": "TCP", "targetPort": port}]}
        });
        merge(&mut v, extra);
        let svc: Service = serde_json::from_value(v).expect("service");
        self.services(ns)
            .create(&PostParams::default(), &svc)
            .await
            .expect("create service")
    }

    /// The ingress IP of a Service, once it has exactly one.
    pub async fn wait_ip(&self, ns: &str, name: &str) -> IpAddr {
        let api = self.services(ns);
        eventually_async(&format!("an IP for {ns}/{name}"), WAIT, || {
            let api = api.clone();
            async move {
                ingress(&api.get(name).await.ok()?)
                    .filter(|v| v.len() == 1)
                    .map(|v| v[0])
            }
        })
        .await
    }

    pub async fn ingress_of(&self, ns: &str, name: &str) -> Vec<IpAddr> {
        self.services(ns)
            .get(name)
            .await
            .ok()
            .and_then(|s| ingress(&s))
            .unwrap_or_default()
    }

    /// Events (core/v1) in a namespace with the given reason, as (component, type, message, count).
    pub async fn events(&self, ns: &str, reason: &str) -> Vec<(String, String, String, i32)> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), ns);
        let list = api.list(&ListParams::default()).await.expect("list events");
        list.items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .map(|e| {
                (
                    e.source.and_then(|s| s.component).unwrap_or_default(),
                    e.type_.unwrap_or_default(),
                    e.message.unwrap_or_default(),
                    e.count.unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The routes router `i` holds from neighbour `node`.
    pub fn routes(&self, i: usize, node: &str) -> Vec<RouteSnapshot> {
        let snap = self.routers[i].snapshot();
        snap.peers
            .into_iter()
            .filter(|p| p.peer == node)
            .flat_map(|p| p.routes)
            .collect()
    }

    pub fn established(&self, i: usize, node: &str) -> bool {
        self.routers[i]
            .snapshot()
            .peers
            .iter()
            .any(|p| p.peer == node && p.state.as_str() == "Established")
    }

    /// Wait until both routers hold exactly `prefixes` from `node`.
    pub async fn wait_routes(&self, node: &str, prefixes: &[&str]) {
        let mut want: Vec<String> = prefixes.iter().map(|s| s.to_string()).collect();
        want.sort();
        eventually_async(
            &format!("routes {want:?} from {node} at both routers"),
            WAIT,
            || {
                let ok = (0..self.routers.len()).all(|i| {
                    let mut have: Vec<String> =
                        self.routes(i, node).into_iter().map(|r| r.prefix).collect();
                    have.sort();
                    have == want
                });
                async move { ok.then_some(()) }
            },
        )
        .await
    }

    pub async fn shutdown(self) {
        for r in self.routers {
            r.shutdown(Duration::from_secs(2)).await;
        }
        self.lab.shutdown().await;
    }
}

pub fn ingress(svc: &Service) -> Option<Vec<IpAddr>> {
    Some(
        svc.status
            .as_ref()?
            .load_balancer
            .as_ref()?
            .ingress
            .as_ref()?
            .iter()
            .filter_map(|i| i.ip.as_deref()?.parse().ok())
            .collect(),
    )
}

pub fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}
