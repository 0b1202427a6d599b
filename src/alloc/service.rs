//! What the allocator needs to know about a Kubernetes Service, read from its JSON (a single
//! object, or `kubectl get svc -A -o json` output). Parsing never panics; errors name the list
//! item and the field. Pure: the caller supplies the text or the `serde_json::Value`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::addr::Family;

/// `metallb.universe.tf/address-pool`: the pool a service asks for.
pub const ANNOTATION_ADDRESS_POOL: &str = "metallb.universe.tf/address-pool";
/// `metallb.universe.tf/allow-shared-ip`: the sharing key.
pub const ANNOTATION_ALLOW_SHARED_IP: &str = "metallb.universe.tf/allow-shared-ip";

/// A port's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    /// TCP (the Kubernetes default).
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// A service port as MetalLB's sharing check sees it: protocol and port number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Port {
    /// The protocol.
    pub protocol: Protocol,
    /// The port number.
    pub port: u16,
}

impl Port {
    /// A TCP port.
    pub fn tcp(port: u16) -> Port {
        Port {
            protocol: Protocol::Tcp,
            port,
        }
    }

    /// A UDP port.
    pub fn udp(port: u16) -> Port {
        Port {
            protocol: Protocol::Udp,
            port,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.protocol, self.port)
    }
}

/// `spec.externalTrafficPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum TrafficPolicy {
    /// `Cluster` (the default).
    #[default]
    Cluster,
    /// `Local`: services may only share an address when their selectors match.
    Local,
}

/// The parts of a Service that decide its load-balancer address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ServiceInfo {
    /// `metadata.namespace` (`default` when absent).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.type` (`ClusterIP` when absent).
    pub service_type: String,
    /// `spec.loadBalancerIP`, as written (empty is treated as unset).
    pub load_balancer_ip: Option<String>,
    /// The `metallb.universe.tf/address-pool` annotation.
    pub address_pool: Option<String>,
    /// The `metallb.universe.tf/allow-shared-ip` annotation.
    pub allow_shared_ip: Option<String>,
    /// `spec.ports[]` as (protocol, port).
    pub ports: Vec<Port>,
    /// `spec.externalTrafficPolicy`.
    pub external_traffic_policy: TrafficPolicy,
    /// `spec.selector`.
    pub selector: BTreeMap<String, String>,
    /// `status.loadBalancer.ingress[].ip` (entries with only a hostname are left out).
    pub ingress_ips: Vec<IpAddr>,
    /// The service's address family, from `spec.ipFamilies[0]` or else `spec.clusterIP`.
    pub ip_family: Option<Family>,
}

impl ServiceInfo {
    /// A `LoadBalancer` service with no ports, annotations or status.
    pub fn load_balancer(namespace: &str, name: &str) -> ServiceInfo {
        ServiceInfo {
            namespace: namespace.to_string(),
            name: name.to_string(),
            service_type: "LoadBalancer".to_string(),
            ..ServiceInfo::default()
        }
    }

    /// `namespace/name`, the key MetalLB uses in its messages.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether `spec.type` is `LoadBalancer`.
    pub fn is_load_balancer(&self) -> bool {
        self.service_type == "LoadBalancer"
    }

    /// The address the service holds now: its one ingress IP. MetalLB treats anything other than
    /// exactly one ingress IP as "no address".
    pub fn current_ip(&self) -> Option<IpAddr> {
        match self.ingress_ips.as_slice() {
            [ip] => Some(*ip),
            _ => None,
        }
    }

    /// The sharing key (empty when the annotation is absent).
    pub fn sharing_key(&self) -> &str {
        self.allow_shared_ip.as_deref().unwrap_or("")
    }

    /// MetalLB's backend key: the selector as `k=v,k2=v2` (sorted) under
    /// `externalTrafficPolicy: Local`, else empty.
    pub fn backend_key(&self) -> String {
        match self.external_traffic_policy {
            TrafficPolicy::Cluster => String::new(),
            TrafficPolicy::Local => self
                .selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// What the sharing checks need: ports, sharing key and backend key.
    pub fn share_request(&self) -> ShareRequest {
        ShareRequest {
            ports: self.ports.clone(),
            sharing_key: self.sharing_key().to_string(),
            backend_key: self.backend_key(),
        }
    }

    /// Read one Service object.
    pub fn from_json(v: &Value) -> Result<ServiceInfo, ServiceParseError> {
        parse_service(v, None)
    }
}

/// The sharing-relevant facts of an assignment request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ShareRequest {
    /// Ports the service exposes.
    pub ports: Vec<Port>,
    /// `allow-shared-ip` value, empty for none.
    pub sharing_key: String,
    /// Backend key (selector under `Local`), empty otherwise.
    pub backend_key: String,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[non_exhaustive]
pub enum FieldProblem {
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// The field has the wrong JSON type.
    #[error("expected {expected}")]
    WrongType {
        /// What was expected, e.g. "a string".
        expected: &'static str,
    },
    /// Not an IP address.
    #[error("{value:?} is not an IP address")]
    InvalidIp {
        /// The field's text.
        value: String,
    },
    /// Not a port number in 1..=65535.
    #[error("{value} is not a port number")]
    InvalidPort {
        /// The field's value, as JSON text.
        value: String,
    },
    /// A protocol other than TCP, UDP or SCTP.
    #[error("unknown protocol {value:?}")]
    UnknownProtocol {
        /// The field's text.
        value: String,
    },
    /// An object of another kind where a Service or a List was expected.
    #[error("unexpected kind {value:?}")]
    UnexpectedKind {
        /// The `kind` found.
        value: String,
    },
}

/// A Service that could not be read: which list item (if any), which field, what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{}field `{field}`: {problem}", item.map(|i| format!("item {i}: ")).unwrap_or_default())]
pub struct ServiceParseError {
    /// The zero-based index in the list's `items`, when reading a list.
    pub item: Option<usize>,
    /// The field's path, e.g. `spec.ports[0].port`.
    pub field: String,
    /// What was wrong.
    pub problem: FieldProblem,
}

/// Reading `kubectl get svc -o json` output failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServiceListError {
    /// The text is not JSON.
    #[error("not valid JSON")]
    Json(#[source] serde_json::Error),
    /// A Service (or the list itself) is malformed.
    #[error(transparent)]
    Service(#[from] ServiceParseError),
}

/// Parse `kubectl get svc -A -o json` output: a v1 `List` / `ServiceList` with `items`, or a
/// single `Service`.
pub fn parse_service_list(text: &str) -> Result<Vec<ServiceInfo>, ServiceListError> {
    let v: Value = serde_json::from_str(text).map_err(ServiceListError::Json)?;
    Ok(services_from_value(&v)?)
}

/// Like [`parse_service_list`], from an already parsed value.
pub fn services_from_value(v: &Value) -> Result<Vec<ServiceInfo>, ServiceParseError> {
    let err = |field: &str, problem| ServiceParseError {
        item: None,
        field: field.to_string(),
        problem,
    };
    let Some(obj) = v.as_object() else {
        return Err(err(
            "",
            FieldProblem::WrongType {
                expected: "an object",
            },
        ));
    };
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(err(
                "kind",
                FieldProblem::WrongType {
                    expected: "a string",
                },
            ))
        }
    };
    match (kind, obj.get("items")) {
        (Some("Service"), _) => Ok(vec![parse_service(v, None)?]),
        (Some("List") | Some("ServiceList") | None, Some(items)) => {
            let Some(items) = items.as_array() else {
                return Err(err(
                    "items",
                    FieldProblem::WrongType {
                        expected: "an array",
                    },
                ));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_service(item, Some(i)))
                .collect()
        }
        (Some("List") | Some("ServiceList"), None) => Ok(Vec::new()),
        (None, None) => Ok(vec![parse_service(v, None)?]),
        (Some(other), _) => Err(err(
            "kind",
            FieldProblem::UnexpectedKind {
                value: other.to_string(),
            },
        )),
    }
}

struct Reader<'a> {
    item: Option<usize>,
    root: &'a Value,
}

impl<'a> Reader<'a> {
    fn err(&self, field: &str, problem: FieldProblem) -> ServiceParseError {
        ServiceParseError {
            item: self.item,
            field: field.to_string(),
            problem,
        }
    }

    /// Follow a dotted path; absent or null gives `None`.
    fn get(&self, path: &str) -> Option<&'a Value> {
        let mut cur = self.root;
        for part in path.split('.') {
            cur = cur.as_object()?.get(part)?;
        }
        (!cur.is_null()).then_some(cur)
    }

    fn opt_str(&self, path: &str) -> Result<Option<&'a str>, ServiceParseError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.err(
                path,
                FieldProblem::WrongType {
                    expected: "a string",
                },
            )),
        }
    }

    fn opt_object(
        &self,
        path: &str,
    ) -> Result<Option<&'a serde_json::Map<String, Value>>, ServiceParseError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.err(
                path,
                FieldProblem::WrongType {
                    expected: "an object",
                },
            )),
        }
    }

    fn opt_array(&self, path: &str) -> Result<&'a [Value], ServiceParseError> {
        match self.get(path) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a.as_slice()),
            Some(_) => Err(self.err(
                path,
                FieldProblem::WrongType {
                    expected: "an array",
                },
            )),
        }
    }

    fn string_map(&self, path: &str) -> Result<BTreeMap<String, String>, ServiceParseError> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.opt_object(path)? {
            for (k, v) in m {
                match v {
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    _ => {
                        return Err(self.err(
                            &format!("{path}.{k}"),
                            FieldProblem::WrongType {
                                expected: "a string",
                            },
                        ))
                    }
                }
            }
        }
        Ok(out)
    }
}

fn parse_service(v: &Value, item: Option<usize>) -> Result<ServiceInfo, ServiceParseError> {
    let r = Reader { item, root: v };
    if !v.is_object() {
        return Err(r.err(
            "",
            FieldProblem::WrongType {
                expected: "an object",
            },
        ));
    }
    if let Some(kind) = r.opt_str("kind")? {
        if kind != "Service" {
            return Err(r.err(
                "kind",
                FieldProblem::UnexpectedKind {
                    value: kind.to_string(),
                },
            ));
        }
    }
    let name = r
        .opt_str("metadata.name")?
        .ok_or_else(|| r.err("metadata.name", FieldProblem::Missing))?
        .to_string();
    let namespace = r
        .opt_str("metadata.namespace")?
        .unwrap_or("default")
        .to_string();
    let annotations = r.string_map("metadata.annotations")?;
    let service_type = r.opt_str("spec.type")?.unwrap_or("ClusterIP").to_string();
    let load_balancer_ip = r
        .opt_str("spec.loadBalancerIP")?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let external_traffic_policy = match r.opt_str("spec.externalTrafficPolicy")? {
        Some("Local") => TrafficPolicy::Local,
        _ => TrafficPolicy::Cluster,
    };
    let selector = r.string_map("spec.selector")?;

    let mut ports = Vec::new();
    for (i, p) in r.opt_array("spec.ports")?.iter().enumerate() {
        let pr = Reader { item, root: p };
        let field = |f: &str| format!("spec.ports[{i}].{f}");
        let protocol = match pr.get("protocol") {
            None => Protocol::Tcp,
            Some(Value::String(s)) => match s.as_str() {
                "TCP" => Protocol::Tcp,
                "UDP" => Protocol::Udp,
                "SCTP" => Protocol::Sctp,
                other => {
                    return Err(r.err(
                        &field("protocol"),
                        FieldProblem::UnknownProtocol {
                            value: other.to_string(),
                        },
                    ))
                }
            },
            Some(_) => {
                return Err(r.err(
                    &field("protocol"),
                    FieldProblem::WrongType {
                        expected: "a string",
                    },
                ))
            }
        };
        let port = match pr.get("port") {
            None => return Err(r.err(&field("port"), FieldProblem::Missing)),
            Some(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    r.err(
                        &field("port"),
                        FieldProblem::InvalidPort {
                            value: n.to_string(),
                        },
                    )
                })?,
        };
        ports.push(Port { protocol, port });
    }

    let mut ingress_ips = Vec::new();
    for (i, ing) in r
        .opt_array("status.loadBalancer.ingress")?
        .iter()
        .enumerate()
    {
        let ir = Reader { item, root: ing };
        let field = format!("status.loadBalancer.ingress[{i}].ip");
        match ir.get("ip") {
            None => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => {
                let ip: IpAddr = s
                    .parse()
                    .map_err(|_| r.err(&field, FieldProblem::InvalidIp { value: s.clone() }))?;
                ingress_ips.push(ip);
            }
            Some(_) => {
                return Err(r.err(
                    &field,
                    FieldProblem::WrongType {
                        expected: "a string",
                    },
                ))
            }
        }
    }

    let ip_family = match r.opt_array("spec.ipFamilies")?.first() {
        Some(Value::String(s)) if s == "IPv4" => Some(Family::V4),
        Some(Value::String(s)) if s == "IPv6" => Some(Family::V6),
        _ => r
            .opt_str("spec.clusterIP")?
            .and_then(|s| s.parse::<IpAddr>().ok())
            .map(Family::of),
    };

    Ok(ServiceInfo {
        namespace,
        name,
        service_type,
        load_balancer_ip,
        address_pool: annotations.get(ANNOTATION_ADDRESS_POOL).cloned(),
        allow_shared_ip: annotations
            .get(ANNOTATION_ALLOW_SHARED_IP)
            .filter(|s| !s.is_empty())
            .cloned(),
        ports,
        external_traffic_policy,
        selector,
        ingress_ips,
        ip_family,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_load_balancer_service() {
        let v = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dns", "namespace": "kube-system", "annotations": {
                "metallb.universe.tf/allow-shared-ip": "dns",
                "metallb.universe.tf/address-pool": "prod"}},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10",
                "externalTrafficPolicy": "Local", "selector": {"k8s-app": "dns", "a": "b"},
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}],
                "loadBalancerIP": "198.51.100.1"},
            "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}
        });
        let s = ServiceInfo::from_json(&v).unwrap();
        assert_eq!(s.key(), "kube-system/dns");
        assert!(s.is_load_balancer());
        assert_eq!(s.ports, vec![Port::udp(53), Port::tcp(53)]);
        assert_eq!(s.backend_key(), "a=b,k8s-app=dns");
        assert_eq!(s.sharing_key(), "dns");
        assert_eq!(s.address_pool.as_deref(), Some("prod"));
        assert_eq!(s.current_ip(), Some("198.51.100.1".parse().unwrap()));
        assert_eq!(s.ip_family, Some(Family::V4));
    }

    #[test]
    fn errors_name_item_and_field() {
        let text = r#"{"kind":"List","items":[
            {"metadata":{"name":"a"}},
            {"metadata":{"name":"b"},"spec":{"ports":[{"port":70000}]}}]}"#;
        let e = parse_service_list(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "item 1: field `spec.ports[0].port`: 70000 is not a port number"
        );
        let e = parse_service_list(r#"{"items":[{"metadata":{}}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "item 0: field `metadata.name`: missing");
        let e = parse_service_list(
            r#"{"items":[{"metadata":{"name":"x"},"status":{"loadBalancer":{"ingress":[{"ip":"nope"}]}}}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("status.loadBalancer.ingress[0].ip"));
        assert!(matches!(
            parse_service_list("[1,2"),
            Err(ServiceListError::Json(_))
        ));
        assert!(parse_service_list(r#"{"kind":"ConfigMap"}"#).is_err());
        assert!(parse_service_list("[]").is_err());
        assert!(parse_service_list(r#"{"items":[7]}"#).is_err());
    }
}
