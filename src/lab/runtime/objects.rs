//! Pure builders for the objects the runtime writes: Nodes, ReplicaSets, Pods, their statuses,
//! Endpoints and EndpointSlices, with kubectl-like names (`<deploy>-<hash>-<5 chars>`,
//! `<ds>-<5 chars>`) and owner references so deletes cascade. JSON in, JSON out; no store.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::lab::apiserver::meta;
use crate::lab::topology::NodeSpec;

/// Kubernetes' alphabet for generated names (no vowels, no confusable digits).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A stable short hash of a pod template, like `pod-template-hash`.
pub fn template_hash(template: &Value) -> String {
    let text = template.to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|i| {
            let idx = ((h >> (i * 6)) % SAFE.len() as u64) as usize;
            char::from(SAFE[idx])
        })
        .collect()
}

/// An owner reference to `owner` (a controller reference).
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta::meta_str(owner, "name"),
        "uid": meta::meta_str(owner, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Is `obj` controlled by the object with `uid`?
pub fn owned_by(obj: &Value, uid: &str) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
}

/// A node's heartbeat Lease (`kube-node-lease/<node>`), renewed at `renew_time` (MicroTime).
pub fn node_lease(node: &str, node_uid: &str, renew_time: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": node, "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid}]},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": renew_time}
    })
}

/// A Node object for a topology node: Ready, with its loopback address as InternalIP.
pub fn node(n: &NodeSpec) -> Value {
    let now = meta::now_rfc3339();
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": n.name, "labels": {
            "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/control-plane": ""}},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": n.address.to_string()},
                          {"type": "Hostname", "address": n.name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status (metallbctl lab)",
                "lastHeartbeatTime": now, "lastTransitionTime": now}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "containerRuntimeVersion": "metallbctl-lab://1",
                "operatingSystem": "linux", "architecture": "amd64", "osImage": "metallbctl lab",
                "kernelVersion": "", "kubeProxyVersion": "v1.32.0", "machineID": "", "systemUUID": "",
                "bootID": ""}
        }
    })
}

fn labels_with(template: &Value, key: &str, value: &str) -> Value {
    let mut labels = template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    labels.insert(key.into(), json!(value));
    Value::Object(labels)
}

/// The ReplicaSet a Deployment wants for its current template.
pub fn replica_set(deploy: &Value, hash: &str) -> Value {
    let name = format!("{}-{hash}", meta::meta_str(deploy, "name"));
    let template = &deploy["spec"]["template"];
    let mut selector = deploy["spec"]["selector"].clone();
    if let Some(ml) = selector["matchLabels"].as_object_mut() {
        ml.insert("pod-template-hash".into(), json!(hash));
    }
    let mut tmpl = template.clone();
    tmpl["metadata"]["labels"] = labels_with(template, "pod-template-hash", hash);
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": meta::meta_str(deploy, "namespace"),
            "labels": labels_with(template, "pod-template-hash", hash),
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [owner_ref(deploy)]},
        "spec": {"replicas": deploy["spec"]["replicas"].as_u64().unwrap_or(1),
                 "selector": selector, "template": tmpl}
    })
}

/// A Pod from `owner`'s template, named `<prefix>-<5 chars>`, optionally bound to a node.
pub fn pod(
    owner: &Value,
    prefix: &str,
    extra_labels: &[(&str, &str)],
    node: Option<&str>,
) -> Value {
    let template = &owner["spec"]["template"];
    let mut labels = template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).into(), json!(v));
    }
    let mut spec = template["spec"].clone();
    if let (Some(n), Some(map)) = (node, spec.as_object_mut()) {
        map.insert("nodeName".into(), json!(n));
    }
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{prefix}-{}", meta::random_suffix(5)),
            "namespace": meta::meta_str(owner, "namespace"), "labels": labels,
            "annotations": template["metadata"]["annotations"].clone(),
            "ownerReferences": [owner_ref(owner)]},
        "spec": spec,
    });
    strip_null_meta(&mut pod);
    pod
}

/// Drop `null` metadata fields (labels or annotations a template did not have).
pub fn strip_null_meta(obj: &mut Value) {
    if let Some(m) = meta::meta_mut(obj) {
        m.retain(|_, v| !v.is_null());
    }
}

/// Where a pod runs.
#[derive(Debug, Clone)]
pub struct Placement {
    pub host_ip: IpAddr,
    pub pod_ip: IpAddr,
}

/// The status of a running, ready pod.
pub fn running_status(pod: &Value, at: &Placement, started: &str) -> Value {
    let cond = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": started});
    let statuses: Vec<Value> = containers(pod)
        .iter()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or("");
            json!({"name": c["name"], "image": image, "imageID": format!("docker.io/{image}"),
                "containerID": format!("containerd://{}", meta::new_uid().replace('-', "")),
                "ready": true, "started": true, "restartCount": 0,
                "state": {"running": {"startedAt": started}}})
        })
        .collect();
    json!({
        "phase": "Running",
        "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"),
                       cond("ContainersReady"), cond("PodScheduled")],
        "hostIP": at.host_ip.to_string(), "hostIPs": [{"ip": at.host_ip.to_string()}],
        "podIP": at.pod_ip.to_string(), "podIPs": [{"ip": at.pod_ip.to_string()}],
        "startTime": started, "qosClass": "BestEffort",
        "containerStatuses": statuses,
    })
}

/// The pod's containers (empty if none).
pub fn containers(pod: &Value) -> Vec<Value> {
    pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Is the pod Running and Ready?
pub fn pod_ready(pod: &Value) -> bool {
    pod["status"]["phase"] == "Running"
        && pod["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Does `labels` satisfy a Service's equality selector?
pub fn selects(selector: &Map<String, Value>, obj: &Value) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(k, v)| obj["metadata"]["labels"][k.as_str()] == *v)
}

/// Does an apps/v1 label selector (`matchLabels` only) select `obj`?
pub fn match_labels(selector: &Value, obj: &Value) -> bool {
    selector["matchLabels"]
        .as_object()
        .is_some_and(|ml| selects(ml, obj))
}

/// A service port's target port number on a pod (numbers as is; names via container ports).
pub fn target_port(svc_port: &Value, pod: &Value) -> Option<u64> {
    let target = &svc_port["targetPort"];
    if let Some(n) = target.as_u64() {
        return Some(n);
    }
    let Some(name) = target.as_str() else {
        return svc_port["port"].as_u64();
    };
    if let Ok(n) = name.parse::<u64>() {
        return Some(n);
    }
    containers(pod)
        .iter()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
}

/// The ports of a Service's endpoints: each Service port resolved against the first ready
/// pod (the same list in an EndpointSlice and in an Endpoints subset).
fn endpoint_ports(svc: &Value, pods: &[&Value]) -> Vec<Value> {
    svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let port = pods.first().and_then(|pod| target_port(p, pod));
            json!({"name": p["name"].as_str().unwrap_or(""), "port": port,
                   "protocol": p["protocol"].as_str().unwrap_or("TCP")})
        })
        .collect()
}

/// An endpoint's `targetRef` to its pod.
fn pod_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "name": meta::meta_str(pod, "name"),
           "namespace": meta::meta_str(pod, "namespace"), "uid": meta::meta_str(pod, "uid")})
}

/// The EndpointSlice for a Service and its ready pods.
pub fn endpoint_slice(svc: &Value, pods: &[&Value]) -> Value {
    let name = meta::meta_str(svc, "name");
    let ports = endpoint_ports(svc, pods);
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|pod| {
            json!({
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": true, "serving": true, "terminating": false},
                "nodeName": pod["spec"]["nodeName"],
                "targetRef": pod_ref(pod),
            })
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{name}-{}", &template_hash(&json!(meta::meta_str(svc, "uid")))[..5]),
            "namespace": meta::meta_str(svc, "namespace"),
            "labels": {"kubernetes.io/service-name": name,
                       "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
            "ownerReferences": [owner_ref(svc)]},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    })
}

/// The core/v1 Endpoints object for a Service and its ready pods.
pub fn endpoints(svc: &Value, pods: &[&Value]) -> Value {
    let addresses: Vec<Value> = pods
        .iter()
        .map(|pod| {
            json!({"ip": pod["status"]["podIP"], "nodeName": pod["spec"]["nodeName"],
            "targetRef": pod_ref(pod)})
        })
        .collect();
    let ports = endpoint_ports(svc, pods);
    let subsets = if addresses.is_empty() {
        json!([])
    } else {
        json!([{"addresses": addresses, "ports": ports}])
    };
    let mut eps = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": meta::meta_str(svc, "name"), "namespace": meta::meta_str(svc, "namespace"),
                     "labels": svc["metadata"]["labels"].clone()},
        "subsets": subsets,
    });
    strip_null_meta(&mut eps);
    eps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "default", "uid": "u1"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1",
                        "ports": [{"name": "http", "containerPort": 80}]}]}}}})
    }

    #[test]
    fn names_and_owners_look_like_kubernetes() {
        let d = deploy();
        let h = template_hash(&d["spec"]["template"]);
        assert_eq!(h.len(), 10);
        assert_eq!(h, template_hash(&d["spec"]["template"]));
        let mut rs = replica_set(&d, &h);
        assert_eq!(meta::meta_str(&rs, "name"), format!("nginx-{h}"));
        assert!(owned_by(&rs, "u1"));
        rs["metadata"]["uid"] = json!("u2");
        let p = pod(&rs, &format!("nginx-{h}"), &[], Some("minikube"));
        let name = meta::meta_str(&p, "name");
        assert_eq!(name.len(), "nginx-".len() + 10 + 6);
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], h.as_str());
        assert_eq!(p["spec"]["nodeName"], "minikube");
        assert!(match_labels(&rs["spec"]["selector"], &p));
    }

    #[test]
    fn endpoint_slices_resolve_named_ports() {
        let mut p = pod(&deploy(), "nginx-x", &[], Some("minikube"));
        let at = Placement {
            host_ip: "127.0.1.1".parse().unwrap(),
            pod_ip: "10.244.0.5".parse().unwrap(),
        };
        p["status"] = running_status(&p, &at, "2026-01-01T00:00:00Z");
        assert!(pod_ready(&p));
        let svc = json!({"metadata": {"name": "nginx", "namespace": "default", "uid": "s"},
            "spec": {"ports": [{"port": 80, "targetPort": "http"}]}});
        let s = endpoint_slice(&svc, &[&p]);
        assert_eq!(s["ports"][0]["port"], 80);
        assert_eq!(s["endpoints"][0]["addresses"][0], "10.244.0.5");
        assert_eq!(endpoints(&svc, &[])["subsets"], json!([]));
    }
}
