//! Server-side Tables for `kubectl get`: the columns real Kubernetes prints for pods, services,
//! configmaps, deployments, daemonsets, replicasets, nodes, namespaces and events (with the
//! `-o wide` ones at priority 1), and Name/Age for everything else.

use serde_json::{json, Value};

use super::meta;
use super::resources::ResourceDef;

/// Does the Accept header ask for a Table?
pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

/// Kubernetes' HumanDuration: `45s`, `5m10s`, `3h`, `2d`...
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60).replace("m0s", "m"),
        s if s < 3600 * 3 => format!("{}m", s / 60),
        s if s < 3600 * 8 => format!("{}h{}m", s / 3600, (s % 3600) / 60).replace("h0m", "h"),
        s if s < 3600 * 48 => format!("{}h", s / 3600),
        s if s < 86400 * 8 => format!("{}d{}h", s / 86400, (s % 86400) / 3600).replace("d0h", "d"),
        s if s < 86400 * 365 * 2 => format!("{}d", s / 86400),
        s => format!("{}y", s / (86400 * 365)),
    }
}

fn age(ts: &str) -> String {
    meta::age_seconds(ts).map_or_else(|| "<unknown>".into(), human_duration)
}

fn created(o: &Value) -> String {
    age(meta::meta_str(o, "creationTimestamp"))
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn or_none(x: String) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x
    }
}

fn join_map(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", s(v)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn containers(o: &Value, field: &str) -> String {
    o["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| s(&c[field]))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn pod_statuses(o: &Value) -> Vec<Value> {
    o["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn pod_ready(o: &Value) -> Value {
    let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = pod_statuses(o)
        .iter()
        .filter(|c| c["ready"] == true)
        .count();
    json!(format!("{ready}/{total}"))
}

fn pod_status(o: &Value) -> Value {
    let statuses = pod_statuses(o);
    let waiting = statuses
        .iter()
        .find_map(|c| c["state"]["waiting"]["reason"].as_str());
    let phase = o["status"]["phase"].as_str().unwrap_or("Pending");
    if o["metadata"]["deletionTimestamp"].is_string() {
        json!("Terminating")
    } else {
        json!(o["status"]["reason"].as_str().or(waiting).unwrap_or(phase))
    }
}

fn pod_restarts(o: &Value) -> Value {
    let restarts: i64 = pod_statuses(o).iter().map(|c| n(&c["restartCount"])).sum();
    json!(restarts)
}

fn service_ports(o: &Value) -> String {
    let ports = o["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let cells: Vec<String> = ports
        .iter()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(np) => format!("{}:{np}/{proto}", n(&p["port"])),
                None => format!("{}/{proto}", n(&p["port"])),
            }
        })
        .collect();
    or_none(cells.join(","))
}

fn external_ip(o: &Value) -> String {
    let spec = &o["spec"];
    let mut ips: Vec<String> = spec["externalIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    let ingress = o["status"]["loadBalancer"]["ingress"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ips.extend(ingress.iter().map(|i| {
        if i["ip"].is_string() {
            s(&i["ip"])
        } else {
            s(&i["hostname"])
        }
    }));
    match (service_type(o), ips.is_empty()) {
        ("LoadBalancer", true) => "<pending>".into(),
        ("ExternalName", _) => s(&spec["externalName"]),
        (_, true) => "<none>".into(),
        (_, false) => ips.join(","),
    }
}

fn service_type(o: &Value) -> &str {
    o["spec"]["type"].as_str().unwrap_or("ClusterIP")
}

fn node_ready(o: &Value) -> Value {
    let ready = o["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    json!(if ready { "Ready" } else { "NotReady" })
}

fn node_roles(o: &Value) -> Value {
    let roles: Vec<String> = o["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
        .collect();
    json!(or_none(roles.join(",")))
}

/// The node's address of type `t` (`InternalIP`, `ExternalIP`), or `<none>`.
fn node_address(o: &Value, t: &str) -> Value {
    let addr = o["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == t)
        .map(|a| s(&a["address"]))
        .unwrap_or_default();
    json!(or_none(addr))
}

/// A `status.nodeInfo` field, or `<none>`.
fn node_info(o: &Value, field: &str) -> Value {
    json!(or_none(s(&o["status"]["nodeInfo"][field])))
}

/// When an event was last seen: the first timestamp it has, newest kind first.
fn event_last(o: &Value) -> &str {
    ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|f| o[*f].as_str().filter(|t| !t.is_empty()))
        .or_else(|| o["metadata"]["creationTimestamp"].as_str())
        .unwrap_or_default()
}

fn event_object(o: &Value) -> Value {
    let io = &o["involvedObject"];
    json!(format!(
        "{}/{}",
        s(&io["kind"]).to_lowercase(),
        s(&io["name"])
    ))
}

fn event_source(o: &Value) -> Value {
    let source = o["source"]["component"]
        .as_str()
        .or(o["reportingComponent"].as_str())
        .unwrap_or_default();
    json!(source)
}

/// How many keys an object field has (0 when absent).
fn keys(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

/// A `status` counter, 0 when absent.
fn status_count(o: &Value, field: &str) -> Value {
    json!(n(&o["status"][field]))
}

/// One column of a kind's Table: its header, OpenAPI type, priority (1: only with `-o wide`)
/// and how to compute its cell from an object.
#[derive(Clone, Copy)]
struct Column {
    name: &'static str,
    ty: &'static str,
    priority: u8,
    cell: fn(&Value) -> Value,
}

/// A string column.
const fn col(name: &'static str, cell: fn(&Value) -> Value) -> Column {
    Column {
        name,
        ty: "string",
        priority: 0,
        cell,
    }
}

/// An integer column.
const fn int(name: &'static str, cell: fn(&Value) -> Value) -> Column {
    Column {
        ty: "integer",
        ..col(name, cell)
    }
}

impl Column {
    /// The same column, shown only with `-o wide`.
    const fn wide(self) -> Column {
        Column {
            priority: 1,
            ..self
        }
    }
}

const NAME: Column = col("Name", |o| json!(meta::meta_str(o, "name")));
const AGE: Column = col("Age", |o| json!(created(o)));
const CONTAINERS: Column = col("Containers", |o| json!(containers(o, "name"))).wide();
const IMAGES: Column = col("Images", |o| json!(containers(o, "image"))).wide();
const SELECTOR: Column = col("Selector", |o| {
    json!(or_none(join_map(&o["spec"]["selector"]["matchLabels"])))
})
.wide();

/// How every workload row ends (deployments, replica sets, daemon sets).
const WORKLOAD_TAIL: &[Column] = &[AGE, CONTAINERS, IMAGES, SELECTOR];

const PODS: &[Column] = &[
    NAME,
    col("Ready", pod_ready),
    col("Status", pod_status),
    col("Restarts", pod_restarts),
    AGE,
    col("IP", |o| json!(or_none(s(&o["status"]["podIP"])))).wide(),
    col("Node", |o| json!(or_none(s(&o["spec"]["nodeName"])))).wide(),
    col("Nominated Node", |_| json!("<none>")).wide(),
    col("Readiness Gates", |_| json!("<none>")).wide(),
];

const SERVICES: &[Column] = &[
    NAME,
    col("Type", |o| json!(service_type(o))),
    col("Cluster-IP", |o| json!(or_none(s(&o["spec"]["clusterIP"])))),
    col("External-IP", |o| json!(external_ip(o))),
    col("Port(s)", |o| json!(service_ports(o))),
    AGE,
    col("Selector", |o| {
        json!(or_none(join_map(&o["spec"]["selector"])))
    })
    .wide(),
];

const CONFIG_MAPS: &[Column] = &[
    NAME,
    int("Data", |o| json!(keys(&o["data"]) + keys(&o["binaryData"]))),
    AGE,
];

const SECRETS: &[Column] = &[
    NAME,
    col("Type", |o| json!(o["type"].as_str().unwrap_or("Opaque"))),
    int("Data", |o| json!(keys(&o["data"]))),
    AGE,
];

const LEASES: &[Column] = &[
    NAME,
    col("Holder", |o| json!(s(&o["spec"]["holderIdentity"]))),
    AGE,
];

/// `Local` for APIServices the server serves itself, else the backing service.
const API_SERVICES: &[Column] = &[
    NAME,
    col("Service", |o| {
        let svc = &o["spec"]["service"];
        json!(if svc.is_object() {
            format!("{}/{}", s(&svc["namespace"]), s(&svc["name"]))
        } else {
            "Local".to_string()
        })
    }),
    col("Available", |o| {
        let available = o["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Available"))
            .map(|c| s(&c["status"]))
            .unwrap_or_else(|| "Unknown".into());
        json!(available)
    }),
    AGE,
];

const SERVICE_ACCOUNTS: &[Column] = &[
    NAME,
    int("Secrets", |o| {
        json!(o["secrets"].as_array().map_or(0, Vec::len))
    }),
    AGE,
];

const NAMESPACES: &[Column] = &[
    NAME,
    col("Status", |o| {
        json!(o["status"]["phase"].as_str().unwrap_or("Active"))
    }),
    AGE,
];

const NODES: &[Column] = &[
    NAME,
    col("Status", node_ready),
    col("Roles", node_roles),
    AGE,
    col("Version", |o| {
        json!(s(&o["status"]["nodeInfo"]["kubeletVersion"]))
    }),
    col("Internal-IP", |o| node_address(o, "InternalIP")).wide(),
    col("External-IP", |o| node_address(o, "ExternalIP")).wide(),
    col("OS-Image", |o| node_info(o, "osImage")).wide(),
    col("Kernel-Version", |o| node_info(o, "kernelVersion")).wide(),
    col("Container-Runtime", |o| {
        node_info(o, "containerRuntimeVersion")
    })
    .wide(),
];

const EVENTS: &[Column] = &[
    col("Last Seen", |o| json!(age(event_last(o)))),
    col("Type", |o| json!(s(&o["type"]))),
    col("Reason", |o| json!(s(&o["reason"]))),
    col("Object", event_object),
    col("Message", |o| json!(s(&o["message"]))),
    col("Subobject", |o| json!(s(&o["involvedObject"]["fieldPath"]))).wide(),
    col("Source", event_source).wide(),
    col("First Seen", |o| {
        json!(age(o["firstTimestamp"].as_str().unwrap_or(event_last(o))))
    })
    .wide(),
    int("Count", |o| json!(o["count"].as_i64().unwrap_or(1))).wide(),
    NAME.wide(),
];

const DEPLOYMENTS: &[Column] = &[
    NAME,
    col("Ready", |o| {
        let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
        json!(format!("{}/{want}", n(&o["status"]["readyReplicas"])))
    }),
    int("Up-to-date", |o| status_count(o, "updatedReplicas")),
    int("Available", |o| status_count(o, "availableReplicas")),
];

const REPLICA_SETS: &[Column] = &[
    NAME,
    int("Desired", |o| {
        json!(o["spec"]["replicas"].as_i64().unwrap_or(1))
    }),
    int("Current", |o| status_count(o, "replicas")),
    int("Ready", |o| status_count(o, "readyReplicas")),
];

const DAEMON_SETS: &[Column] = &[
    NAME,
    int("Desired", |o| status_count(o, "desiredNumberScheduled")),
    int("Current", |o| status_count(o, "currentNumberScheduled")),
    int("Ready", |o| status_count(o, "numberReady")),
    int("Up-to-date", |o| status_count(o, "updatedNumberScheduled")),
    int("Available", |o| status_count(o, "numberAvailable")),
    col("Node Selector", |o| {
        json!(or_none(join_map(
            &o["spec"]["template"]["spec"]["nodeSelector"]
        )))
    }),
];

/// The columns of a built-in kind (Name and Age for kinds without their own).
fn columns(def: &ResourceDef) -> Vec<Column> {
    let none: &[Column] = &[];
    let (head, tail) = match (def.group.as_str(), def.plural.as_str()) {
        ("", "pods") => (PODS, none),
        ("", "services") => (SERVICES, none),
        ("", "configmaps") => (CONFIG_MAPS, none),
        ("", "secrets") => (SECRETS, none),
        ("", "serviceaccounts") => (SERVICE_ACCOUNTS, none),
        ("", "namespaces") => (NAMESPACES, none),
        ("", "nodes") => (NODES, none),
        ("", "events") => (EVENTS, none),
        ("apps", "deployments") => (DEPLOYMENTS, WORKLOAD_TAIL),
        ("apps", "replicasets") => (REPLICA_SETS, WORKLOAD_TAIL),
        ("apps", "daemonsets") => (DAEMON_SETS, WORKLOAD_TAIL),
        ("coordination.k8s.io", "leases") => (LEASES, none),
        ("apiregistration.k8s.io", "apiservices") => (API_SERVICES, none),
        _ => (&[NAME, AGE][..], none),
    };
    [head, tail].concat()
}

/// The cells of `o`'s row, one per column.
fn cells(cols: &[Column], o: &Value) -> Vec<Value> {
    cols.iter().map(|c| (c.cell)(o)).collect()
}

/// A CRD row: the name, then each printer column's simple JSONPath (`.a.b`, `.a[0].b`).
fn crd_cells(def: &ResourceDef, o: &Value) -> Vec<Value> {
    let mut cells = vec![json!(meta::meta_str(o, "name"))];
    for c in &def.printer_columns {
        let v = json_path(o, &c.json_path);
        let cell = match (c.kind.as_str(), v) {
            ("date", Value::String(ts)) => json!(age(&ts)),
            (_, Value::Null) => json!("<none>"),
            (_, Value::String(s)) => json!(s),
            (_, other) => json!(other.to_string()),
        };
        cells.push(cell);
    }
    cells
}

fn json_path(o: &Value, path: &str) -> Value {
    let mut cur = o;
    for seg in path
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
    {
        let (field, index) = match seg.split_once('[') {
            Some((f, rest)) => (f, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        cur = &cur[field];
        if let Some(i) = index {
            cur = &cur[i];
        }
    }
    cur.clone()
}

fn row_object(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
}

/// A Table of `objects` of type `def`, stamped with `rv` (and `continue` when paging).
pub fn table<'a>(
    def: &ResourceDef,
    objects: impl Iterator<Item = &'a Value>,
    rv: u64,
    cont: Option<String>,
) -> Value {
    let column = |name: &str, ty: &str, prio: u64| json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": prio});
    let (defs, rows): (Vec<Value>, Vec<Value>) = if def.printer_columns.is_empty() {
        let cols = columns(def);
        let defs = cols
            .iter()
            .map(|c| column(c.name, c.ty, u64::from(c.priority)))
            .collect();
        (
            defs,
            objects
                .map(|o| json!({"cells": cells(&cols, o), "object": row_object(o)}))
                .collect(),
        )
    } else {
        let mut defs = vec![column("Name", "string", 0)];
        defs.extend(
            def.printer_columns
                .iter()
                .map(|c| column(&c.name, &c.kind, c.priority)),
        );
        let rows = objects
            .map(|o| json!({"cells": crd_cells(def, o), "object": row_object(o)}))
            .collect();
        (defs, rows)
    };
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let (Some(c), Some(m)) = (cont, metadata.as_object_mut()) {
        m.insert("continue".into(), json!(c));
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_printer_columns() {
        let crd = json!({"spec": {"group": "metallb.io", "names": {"plural": "ipaddresspools", "kind": "IPAddressPool"},
            "versions": [{"name": "v1beta1", "served": true, "additionalPrinterColumns": [
                {"name": "Auto Assign", "type": "boolean", "jsonPath": ".spec.autoAssign"},
                {"name": "Addresses", "type": "string", "jsonPath": ".spec.addresses"},
                {"name": "First", "type": "string", "jsonPath": ".spec.addresses[0]", "priority": 1}]}]}});
        let defs = crate::lab::apiserver::resources::defs_from_crd(&crd);
        let pool = json!({"metadata": {"name": "p"}, "spec": {"autoAssign": true, "addresses": ["192.168.1.240/28"]}});
        let t = table(&defs[0], std::iter::once(&pool), 1, None);
        assert_eq!(t["columnDefinitions"][1]["name"], "Auto Assign");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["p", "true", "[\"192.168.1.240/28\"]", "192.168.1.240/28"])
        );
    }

    #[test]
    fn durations_match_kubernetes() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(310), "5m10s");
        assert_eq!(human_duration(300), "5m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(2 * 86400), "2d");
    }

    #[test]
    fn service_row() {
        let svc = json!({"metadata": {"name": "nginx"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11",
            "ports": [{"port": 80, "nodePort": 30012, "protocol": "TCP"}], "selector": {"app": "nginx"}},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.240"}]}}});
        let cells = cells(SERVICES, &svc);
        assert_eq!(cells[3], "192.168.1.240");
        assert_eq!(cells[4], "80:30012/TCP");
        assert_eq!(cells[6], "app=nginx");
    }
}
