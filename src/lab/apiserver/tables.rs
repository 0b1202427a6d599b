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

fn pod_cells(o: &Value) -> Vec<Value> {
    let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
    let statuses = o["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ready = statuses.iter().filter(|c| c["ready"] == true).count();
    let restarts: i64 = statuses.iter().map(|c| n(&c["restartCount"])).sum();
    let waiting = statuses
        .iter()
        .find_map(|c| c["state"]["waiting"]["reason"].as_str());
    let phase = o["status"]["phase"].as_str().unwrap_or("Pending");
    let status = if o["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else {
        o["status"]["reason"].as_str().or(waiting).unwrap_or(phase)
    };
    vec![
        json!(meta::meta_str(o, "name")),
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts),
        json!(created(o)),
        json!(or_none(s(&o["status"]["podIP"]))),
        json!(or_none(s(&o["spec"]["nodeName"]))),
        json!("<none>"),
        json!("<none>"),
    ]
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
    match (spec["type"].as_str().unwrap_or("ClusterIP"), ips.is_empty()) {
        ("LoadBalancer", true) => "<pending>".into(),
        ("ExternalName", _) => s(&spec["externalName"]),
        (_, true) => "<none>".into(),
        (_, false) => ips.join(","),
    }
}

fn service_cells(o: &Value) -> Vec<Value> {
    let spec = &o["spec"];
    vec![
        json!(meta::meta_str(o, "name")),
        json!(spec["type"].as_str().unwrap_or("ClusterIP")),
        json!(or_none(s(&spec["clusterIP"]))),
        json!(external_ip(o)),
        json!(service_ports(o)),
        json!(created(o)),
        json!(or_none(join_map(&spec["selector"]))),
    ]
}

fn deployment_cells(o: &Value) -> Vec<Value> {
    let st = &o["status"];
    let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
    vec![
        json!(meta::meta_str(o, "name")),
        json!(format!("{}/{want}", n(&st["readyReplicas"]))),
        json!(n(&st["updatedReplicas"])),
        json!(n(&st["availableReplicas"])),
        json!(created(o)),
        json!(containers(o, "name")),
        json!(containers(o, "image")),
        json!(or_none(join_map(&o["spec"]["selector"]["matchLabels"]))),
    ]
}

fn replicaset_cells(o: &Value) -> Vec<Value> {
    let st = &o["status"];
    vec![
        json!(meta::meta_str(o, "name")),
        json!(o["spec"]["replicas"].as_i64().unwrap_or(1)),
        json!(n(&st["replicas"])),
        json!(n(&st["readyReplicas"])),
        json!(created(o)),
        json!(containers(o, "name")),
        json!(containers(o, "image")),
        json!(or_none(join_map(&o["spec"]["selector"]["matchLabels"]))),
    ]
}

fn daemonset_cells(o: &Value) -> Vec<Value> {
    let st = &o["status"];
    vec![
        json!(meta::meta_str(o, "name")),
        json!(n(&st["desiredNumberScheduled"])),
        json!(n(&st["currentNumberScheduled"])),
        json!(n(&st["numberReady"])),
        json!(n(&st["updatedNumberScheduled"])),
        json!(n(&st["numberAvailable"])),
        json!(or_none(join_map(
            &o["spec"]["template"]["spec"]["nodeSelector"]
        ))),
        json!(created(o)),
        json!(containers(o, "name")),
        json!(containers(o, "image")),
        json!(or_none(join_map(&o["spec"]["selector"]["matchLabels"]))),
    ]
}

fn node_cells(o: &Value) -> Vec<Value> {
    let ready = o["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    let labels = &o["metadata"]["labels"];
    let roles: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
        .collect();
    let addr = |t: &str| {
        o["status"]["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["type"] == t)
            .map(|a| s(&a["address"]))
            .unwrap_or_default()
    };
    let info = &o["status"]["nodeInfo"];
    vec![
        json!(meta::meta_str(o, "name")),
        json!(if ready { "Ready" } else { "NotReady" }),
        json!(or_none(roles.join(","))),
        json!(created(o)),
        json!(s(&info["kubeletVersion"])),
        json!(or_none(addr("InternalIP"))),
        json!(or_none(addr("ExternalIP"))),
        json!(or_none(s(&info["osImage"]))),
        json!(or_none(s(&info["kernelVersion"]))),
        json!(or_none(s(&info["containerRuntimeVersion"]))),
    ]
}

fn event_cells(o: &Value) -> Vec<Value> {
    let last = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|f| o[*f].as_str().filter(|t| !t.is_empty()))
        .or_else(|| o["metadata"]["creationTimestamp"].as_str())
        .unwrap_or_default();
    let io = &o["involvedObject"];
    let object = format!("{}/{}", s(&io["kind"]).to_lowercase(), s(&io["name"]));
    let source = o["source"]["component"]
        .as_str()
        .or(o["reportingComponent"].as_str())
        .unwrap_or_default();
    vec![
        json!(age(last)),
        json!(s(&o["type"])),
        json!(s(&o["reason"])),
        json!(object),
        json!(s(&o["message"])),
        json!(s(&io["fieldPath"])),
        json!(source),
        json!(age(o["firstTimestamp"].as_str().unwrap_or(last))),
        json!(o["count"].as_i64().unwrap_or(1)),
        json!(meta::meta_str(o, "name")),
    ]
}

type Columns = &'static [(&'static str, &'static str, u8)];

fn columns(def: &ResourceDef) -> (Columns, fn(&Value) -> Vec<Value>) {
    match (def.group.as_str(), def.plural.as_str()) {
        ("", "pods") => (
            &[
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Status", "string", 0),
                ("Restarts", "string", 0),
                ("Age", "string", 0),
                ("IP", "string", 1),
                ("Node", "string", 1),
                ("Nominated Node", "string", 1),
                ("Readiness Gates", "string", 1),
            ],
            pod_cells,
        ),
        ("", "services") => (
            &[
                ("Name", "string", 0),
                ("Type", "string", 0),
                ("Cluster-IP", "string", 0),
                ("External-IP", "string", 0),
                ("Port(s)", "string", 0),
                ("Age", "string", 0),
                ("Selector", "string", 1),
            ],
            service_cells,
        ),
        ("", "configmaps") => (
            &[
                ("Name", "string", 0),
                ("Data", "integer", 0),
                ("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(meta::meta_str(o, "name")),
                    json!(
                        o["data"].as_object().map_or(0, |m| m.len())
                            + o["binaryData"].as_object().map_or(0, |m| m.len())
                    ),
                    json!(created(o)),
                ]
            },
        ),
        ("", "secrets") => (
            &[
                ("Name", "string", 0),
                ("Type", "string", 0),
                ("Data", "integer", 0),
                ("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(meta::meta_str(o, "name")),
                    json!(o["type"].as_str().unwrap_or("Opaque")),
                    json!(o["data"].as_object().map_or(0, |m| m.len())),
                    json!(created(o)),
                ]
            },
        ),
        ("", "serviceaccounts") => (
            &[
                ("Name", "string", 0),
                ("Secrets", "integer", 0),
                ("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(meta::meta_str(o, "name")),
                    json!(o["secrets"].as_array().map_or(0, Vec::len)),
                    json!(created(o)),
                ]
            },
        ),
        ("", "namespaces") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(meta::meta_str(o, "name")),
                    json!(o["status"]["phase"].as_str().unwrap_or("Active")),
                    json!(created(o)),
                ]
            },
        ),
        ("", "nodes") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Roles", "string", 0),
                ("Age", "string", 0),
                ("Version", "string", 0),
                ("Internal-IP", "string", 1),
                ("External-IP", "string", 1),
                ("OS-Image", "string", 1),
                ("Kernel-Version", "string", 1),
                ("Container-Runtime", "string", 1),
            ],
            node_cells,
        ),
        ("", "events") => (
            &[
                ("Last Seen", "string", 0),
                ("Type", "string", 0),
                ("Reason", "string", 0),
                ("Object", "string", 0),
                ("Message", "string", 0),
                ("Subobject", "string", 1),
                ("Source", "string", 1),
                ("First Seen", "string", 1),
                ("Count", "integer", 1),
                ("Name", "string", 1),
            ],
            event_cells,
        ),
        ("apps", "deployments") => (
            &[
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Up-to-date", "integer", 0),
                ("Available", "integer", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            deployment_cells,
        ),
        ("apps", "replicasets") => (
            &[
                ("Name", "string", 0),
                ("Desired", "integer", 0),
                ("Current", "integer", 0),
                ("Ready", "integer", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            replicaset_cells,
        ),
        ("apps", "daemonsets") => (
            &[
                ("Name", "string", 0),
                ("Desired", "integer", 0),
                ("Current", "integer", 0),
                ("Ready", "integer", 0),
                ("Up-to-date", "integer", 0),
                ("Available", "integer", 0),
                ("Node Selector", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            daemonset_cells,
        ),
        _ => (&[("Name", "string", 0), ("Age", "string", 0)], |o| {
            vec![json!(meta::meta_str(o, "name")), json!(created(o))]
        }),
    }
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
        let (cols, cells) = columns(def);
        let defs = cols
            .iter()
            .map(|(n, t, p)| column(n, t, u64::from(*p)))
            .collect();
        (
            defs,
            objects
                .map(|o| json!({"cells": cells(o), "object": row_object(o)}))
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
        let cells = service_cells(&svc);
        assert_eq!(cells[3], "192.168.1.240");
        assert_eq!(cells[4], "80:30012/TCP");
        assert_eq!(cells[6], "app=nginx");
    }
}
