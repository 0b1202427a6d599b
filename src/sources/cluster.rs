//! The cluster through kube-rs: LoadBalancer Services, EndpointSlices, Nodes, the MetalLB
//! ConfigMap (parsed with the same code as the speaker, to compute which peers should learn
//! each address), speaker pods and recent events.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};

use crate::alloc::Allocator;
use crate::bgp::status::format_community;
use crate::metallb::config::{self as mconfig, Parsed};
use crate::status::model::{Announcement, ClusterInfo, ConfigState, EventRecord, ServiceIntent};
use crate::status::source::{ClusterReading, ClusterSource, SourceFuture, SpeakerPod};

/// Events kept, newest first.
pub const MAX_EVENTS: usize = 50;

/// The cluster source.
pub struct KubeCluster {
    pub client: kube::Client,
    pub info: ClusterInfo,
    /// MetalLB's namespace and ConfigMap name.
    pub namespace: String,
    pub config_map: String,
}

/// A node: name, address (InternalIP), labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFacts {
    pub name: String,
    pub address: Option<IpAddr>,
    pub labels: BTreeMap<String, String>,
}

fn node_facts(n: &Node) -> NodeFacts {
    let addrs = n
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .cloned()
        .unwrap_or_default();
    NodeFacts {
        name: n.metadata.name.clone().unwrap_or_default(),
        address: addrs
            .iter()
            .find(|a| a.type_ == "InternalIP")
            .or_else(|| addrs.iter().find(|a| a.type_ == "ExternalIP"))
            .and_then(|a| a.address.parse().ok()),
        labels: n.metadata.labels.clone().unwrap_or_default(),
    }
}

fn time_ms(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> u64 {
    u64::try_from(t.0.as_millisecond()).unwrap_or(0)
}

fn event_record(e: &Event) -> EventRecord {
    let o = &e.involved_object;
    let last_ms = e
        .last_timestamp
        .as_ref()
        .map(time_ms)
        .or_else(|| {
            e.event_time
                .as_ref()
                .map(|t| u64::try_from(t.0.as_millisecond()).unwrap_or(0))
        })
        .or_else(|| e.first_timestamp.as_ref().map(time_ms))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(time_ms));
    EventRecord {
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        object: format!(
            "{}/{}{}",
            o.kind.as_deref().unwrap_or(""),
            o.namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default(),
            o.name.as_deref().unwrap_or("")
        ),
        message: e.message.clone().unwrap_or_default(),
        count: e.count.and_then(|c| u32::try_from(c).ok()).unwrap_or(1),
        last_ms,
        source: e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .or_else(|| e.reporting_component.clone())
            .unwrap_or_default(),
    }
}

fn ingress_ips(s: &Service) -> Vec<IpAddr> {
    s.status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.as_deref().and_then(|ip| ip.parse().ok()))
        .collect()
}

/// `namespace/name` -> nodes with a ready endpoint.
fn endpoint_nodes(slices: &[EndpointSlice]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in slices {
        let Some(svc) = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        let key = format!("{}/{svc}", s.metadata.namespace.as_deref().unwrap_or(""));
        let entry = m.entry(key).or_default();
        for e in &s.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if let (true, Some(n)) = (ready, e.node_name.as_ref()) {
                entry.insert(n.clone());
            }
        }
    }
    m
}

/// The intent for every LoadBalancer service: which node announces which prefix to which
/// peer, by MetalLB's speaker rules (one ingress IP, a BGP pool owning it, its
/// advertisements, peers whose node selectors match, `Local` only where endpoints are ready).
pub fn intents(
    parsed: Option<&Parsed>,
    services: &[Service],
    slices: &[EndpointSlice],
    nodes: &[NodeFacts],
    events: &[EventRecord],
) -> Vec<ServiceIntent> {
    let pools = parsed.and_then(|p| Allocator::new(p.pools.clone()).ok());
    let ready = endpoint_nodes(slices);
    let mut out = Vec::new();
    for s in services {
        let spec = s.spec.as_ref();
        if spec.and_then(|sp| sp.type_.as_deref()) != Some("LoadBalancer") {
            continue;
        }
        let namespace = s.metadata.namespace.clone().unwrap_or_default();
        let name = s.metadata.name.clone().unwrap_or_default();
        let key = format!("{namespace}/{name}");
        let addresses = ingress_ips(s);
        let policy = spec
            .and_then(|sp| sp.external_traffic_policy.clone())
            .unwrap_or_else(|| "Cluster".to_string());
        let with_endpoints: Vec<String> = ready
            .get(&key)
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default();
        let pool = addresses
            .first()
            .and_then(|ip| pools.as_ref().and_then(|p| p.pool_for(*ip)))
            .map(str::to_string);
        let mut announcements = Vec::new();
        if let ([ip], Some(parsed), Some(pool)) = (addresses.as_slice(), parsed, pool.as_ref()) {
            let ads = parsed.adverts.get(pool).cloned().unwrap_or_default();
            for node in nodes {
                if policy == "Local" && !with_endpoints.contains(&node.name) {
                    continue;
                }
                let next_hop = node.address.filter(|a| a.is_ipv4() == ip.is_ipv4());
                for peer in parsed.peers.iter().filter(|p| p.selects(&node.labels)) {
                    for ad in &ads {
                        let Some(prefix) = ad.prefix(*ip) else {
                            continue;
                        };
                        let mut c = ad.communities.clone();
                        c.sort_unstable();
                        c.dedup();
                        announcements.push(Announcement {
                            node: node.name.clone(),
                            peer: peer.address.to_string(),
                            prefix,
                            communities: c.into_iter().map(format_community).collect(),
                            local_pref: ad.local_pref.filter(|_| peer.my_asn == peer.peer_asn),
                            aggregation_length: if ip.is_ipv4() {
                                ad.aggregation_length
                            } else {
                                ad.aggregation_length_v6
                            },
                            next_hop,
                        });
                    }
                }
            }
        }
        let pending_reason = if addresses.is_empty() {
            events
                .iter()
                .find(|e| e.reason == "AllocationFailed" && e.object.ends_with(&key))
                .map(|e| e.message.clone())
        } else {
            None
        };
        out.push(ServiceIntent {
            namespace,
            name,
            addresses,
            pool,
            external_traffic_policy: policy,
            nodes_with_endpoints: with_endpoints,
            announcements,
            pending_reason,
        });
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// Newest change of an object (its managedFields times), if recorded.
fn changed_ms(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<u64> {
    meta.managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.time.as_ref().map(time_ms))
        .chain(meta.creation_timestamp.as_ref().map(time_ms))
        .max()
}

/// The configuration verdict from the ConfigMap and events: a text that does not parse is
/// rejected (with the speaker's message); an InvalidConfig event newer than the ConfigMap's
/// last change means MetalLB rejected it; otherwise accepted (the speakers' metrics refine
/// this in the collector).
pub fn config_state(
    cm: Option<&ConfigMap>,
    parse: Option<&Result<Parsed, mconfig::ConfigError>>,
    events: &[EventRecord],
) -> ConfigState {
    let Some(cm) = cm else {
        return ConfigState::Unknown;
    };
    if let Some(Err(e)) = parse {
        return ConfigState::Rejected {
            message: e.event_message(),
            by: crate::status::source::OWN_PARSE.to_string(),
            at_ms: changed_ms(&cm.metadata),
        };
    }
    let changed = changed_ms(&cm.metadata).unwrap_or(0);
    let newest = events
        .iter()
        .filter(|e| e.reason == "InvalidConfig")
        .max_by_key(|e| e.last_ms.unwrap_or(0));
    match newest {
        Some(e) if e.last_ms.unwrap_or(0) >= changed => ConfigState::Rejected {
            message: e.message.clone(),
            by: e.source.clone(),
            at_ms: e.last_ms,
        },
        _ => ConfigState::Accepted,
    }
}

fn is_speaker(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .map(|s| {
            s.containers.iter().any(|c| {
                c.image.as_deref().is_some_and(|i| {
                    let repo = i.rsplit_once(':').map_or(i, |(r, _)| r);
                    repo.ends_with("metallb/speaker")
                })
            })
        })
        .unwrap_or(false)
        || p.metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.get("component").is_some_and(|c| c == "speaker"))
}

impl KubeCluster {
    async fn read_all(&self) -> Result<ClusterReading, String> {
        let c = &self.client;
        let lp = ListParams::default();
        let err = |what: &str| {
            let what = what.to_string();
            move |e: kube::Error| format!("cannot list {what}: {}", crate::sources::kube_error(&e))
        };
        let (svc_api, slice_api, node_api, pod_api, event_api, cm_api) = (
            Api::<Service>::all(c.clone()),
            Api::<EndpointSlice>::all(c.clone()),
            Api::<Node>::all(c.clone()),
            Api::<Pod>::namespaced(c.clone(), &self.namespace),
            Api::<Event>::all(c.clone()),
            Api::<ConfigMap>::namespaced(c.clone(), &self.namespace),
        );
        let (services, slices, nodes, pods, events, cm) = futures_util::join!(
            svc_api.list(&lp),
            slice_api.list(&lp),
            node_api.list(&lp),
            pod_api.list(&lp),
            event_api.list(&lp),
            cm_api.get_opt(&self.config_map),
        );
        let services = services.map_err(err("services"))?.items;
        let slices = slices.map_err(err("endpointslices"))?.items;
        let nodes: Vec<NodeFacts> = nodes
            .map_err(err("nodes"))?
            .items
            .iter()
            .map(node_facts)
            .collect();
        let pods = pods.map_err(err("pods"))?.items;
        let mut events: Vec<EventRecord> = events
            .map_err(err("events"))?
            .items
            .iter()
            .map(event_record)
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.last_ms));
        events.truncate(MAX_EVENTS);
        let cm = cm.map_err(err("configmaps"))?;
        let parse = cm.as_ref().map(|cm| {
            cm.data
                .as_ref()
                .and_then(|d| d.get("config"))
                .ok_or(mconfig::ConfigError::MissingKey)
                .and_then(|text| mconfig::parse(text))
        });
        let config = config_state(cm.as_ref(), parse.as_ref(), &events);
        let parsed = parse.as_ref().and_then(|p| p.as_ref().ok());
        let services = intents(parsed, &services, &slices, &nodes, &events);
        let speaker_pods = pods
            .iter()
            .filter(|p| is_speaker(p))
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .map(|p| SpeakerPod {
                namespace: self.namespace.clone(),
                name: p.metadata.name.clone().unwrap_or_default(),
                node: p
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(ClusterReading {
            cluster: self.info.clone(),
            config,
            services,
            events,
            speaker_pods,
        })
    }
}

impl ClusterSource for KubeCluster {
    fn read(&self) -> SourceFuture<'_, ClusterReading> {
        Box::pin(self.read_all())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn intent_follows_the_speaker_rules() {
        let parsed = mconfig::parse(
            "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\n\
             - my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.96.0.101\n  node-selectors:\n  - match-labels:\n      rack: a\n\
             address-pools:\n- name: my-ip-space\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n  \
             bgp-advertisements:\n  - aggregation-length: 32\n    localpref: 150\n    communities: [64500:7]\n",
        )
        .unwrap();
        let nodes = vec![
            NodeFacts {
                name: "n1".into(),
                address: Some("127.0.1.1".parse().unwrap()),
                labels: [("rack".to_string(), "a".to_string())].into(),
            },
            NodeFacts {
                name: "n2".into(),
                address: Some("127.0.1.2".parse().unwrap()),
                labels: BTreeMap::new(),
            },
        ];
        let services = vec![
            svc(
                serde_json::json!({"metadata": {"namespace": "default", "name": "nginx"},
                "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster"},
                "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.0"}]}}}),
            ),
            svc(
                serde_json::json!({"metadata": {"namespace": "default", "name": "local"},
                "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
                "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}}),
            ),
            svc(
                serde_json::json!({"metadata": {"namespace": "default", "name": "pending"},
                "spec": {"type": "LoadBalancer"}}),
            ),
            svc(
                serde_json::json!({"metadata": {"namespace": "default", "name": "cip"},
                "spec": {"type": "ClusterIP"}}),
            ),
        ];
        let slices: Vec<EndpointSlice> = vec![serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "default", "name": "local-x",
                         "labels": {"kubernetes.io/service-name": "local"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.5"], "nodeName": "n2", "conditions": {"ready": true}}]
        }))
        .unwrap()];
        let events = vec![EventRecord {
            reason: "AllocationFailed".into(),
            object: "Service/default/pending".into(),
            message: "no available IPs".into(),
            ..EventRecord::default()
        }];
        let out = intents(Some(&parsed), &services, &slices, &nodes, &events);
        let keys: Vec<String> = out.iter().map(ServiceIntent::key).collect();
        assert_eq!(
            keys,
            vec!["default/local", "default/nginx", "default/pending"]
        );
        let nginx = &out[1];
        assert_eq!(nginx.pool.as_deref(), Some("my-ip-space"));
        let a: Vec<(&str, &str)> = nginx
            .announcements
            .iter()
            .map(|a| (a.node.as_str(), a.peer.as_str()))
            .collect();
        assert_eq!(
            a,
            vec![
                ("n1", "10.96.0.100"),
                ("n1", "10.96.0.101"),
                ("n2", "10.96.0.100")
            ]
        );
        assert_eq!(nginx.announcements[0].communities, vec!["64500:7"]);
        assert_eq!(nginx.announcements[0].local_pref, Some(150));
        assert_eq!(
            nginx.announcements[1].local_pref, None,
            "eBGP: no LOCAL_PREF"
        );
        assert_eq!(
            nginx.announcements[0].next_hop,
            Some("127.0.1.1".parse().unwrap())
        );
        let local = &out[0];
        assert_eq!(local.nodes_with_endpoints, vec!["n2"]);
        assert!(local.announcements.iter().all(|a| a.node == "n2"));
        assert_eq!(out[2].pending_reason.as_deref(), Some("no available IPs"));
    }

    #[test]
    fn config_verdicts() {
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "config", "creationTimestamp": "2026-11-30T10:00:00Z"}}))
        .unwrap();
        assert_eq!(config_state(None, None, &[]), ConfigState::Unknown);
        let bad = mconfig::parse("peers: [");
        assert!(matches!(
            config_state(Some(&cm), Some(&bad), &[]),
            ConfigState::Rejected { .. }
        ));
        let ok = mconfig::parse("address-pools: []\n");
        let created = time_ms(&cm.metadata.creation_timestamp.clone().unwrap());
        let ev = |at: u64| EventRecord {
            reason: "InvalidConfig".into(),
            message: "configuration rejected: new config not compatible".into(),
            source: "metallb-controller".into(),
            last_ms: Some(at),
            ..EventRecord::default()
        };
        assert_eq!(
            config_state(Some(&cm), Some(&ok), &[ev(created - 1)]),
            ConfigState::Accepted
        );
        assert_eq!(
            config_state(Some(&cm), Some(&ok), &[ev(created + 1)]),
            ConfigState::Rejected {
                message: "configuration rejected: new config not compatible".into(),
                by: "metallb-controller".into(),
                at_ms: Some(created + 1)
            }
        );
    }
}
