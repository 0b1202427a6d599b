//! Field defaults the real API server fills in, so objects read back (and `kubectl describe`)
//! look as on a real cluster: workload strategies, replica counts, pod and container defaults.

use serde_json::{json, Map, Value};

use super::resources::ResourceDef;

fn set(map: &mut Map<String, Value>, key: &str, v: Value) {
    map.entry(key).or_insert(v);
}

fn image_pull_policy(image: &str) -> &'static str {
    let tag = image
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once(':'))
        .map(|(_, t)| t);
    match tag {
        None | Some("latest") if !image.contains('@') => "Always",
        _ => "IfNotPresent",
    }
}

fn container(c: &mut Value) {
    let image = c["image"].as_str().unwrap_or_default().to_string();
    let Some(c) = c.as_object_mut() else { return };
    set(c, "imagePullPolicy", json!(image_pull_policy(&image)));
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(p, "protocol", json!("TCP"));
        }
    }
}

/// Defaults of a PodSpec.
fn pod_spec(spec: &mut Value) {
    let Some(s) = spec.as_object_mut() else {
        return;
    };
    set(s, "restartPolicy", json!("Always"));
    set(s, "dnsPolicy", json!("ClusterFirst"));
    set(s, "schedulerName", json!("default-scheduler"));
    set(s, "terminationGracePeriodSeconds", json!(30));
    set(s, "securityContext", json!({}));
    for field in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = s.get_mut(field) {
            cs.iter_mut().for_each(container);
        }
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
        pod_spec(t);
    }
}

/// Fill in missing defaults on an object of type `def`.
pub fn apply(obj: &mut Value, def: &ResourceDef) {
    let kind = (def.group.as_str(), def.kind.as_str());
    if kind == ("", "Pod") {
        if let Some(spec) = obj.get_mut("spec") {
            pod_spec(spec);
        }
        return;
    }
    if def.group != "apps" {
        return;
    }
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    match kind.1 {
        "Deployment" => {
            set(spec, "replicas", json!(1));
            set(spec, "revisionHistoryLimit", json!(10));
            set(spec, "progressDeadlineSeconds", json!(600));
            set(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
        }
        "ReplicaSet" => set(spec, "replicas", json!(1)),
        "DaemonSet" => {
            set(spec, "revisionHistoryLimit", json!(10));
            set(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
        }
        _ => return,
    }
    template(spec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(image_pull_policy("registry:5000/metallb/speaker"), "Always");
        assert_eq!(
            image_pull_policy("metallb/speaker@sha256:abc"),
            "IfNotPresent"
        );
    }
}
