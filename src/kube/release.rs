//! The install manifest of each CRD-era MetalLB release (v0.13 to v0.16), in BGP mode with the
//! native speaker: what `manifests/metallb-v0.1X.yaml` hold and `metallbctl install
//! --metallb-version v0.1X` applies. The CustomResourceDefinitions are generated from the Rust
//! types `validate` uses (`kube::crds`); the other objects follow upstream's
//! `config/manifests/metallb-native.yaml` of the pinned release (Namespace, ServiceAccounts,
//! RBAC, the excludel2 ConfigMap, the webhook's Secret and Service, the controller Deployment,
//! the speaker DaemonSet and the ValidatingWebhookConfiguration) with upstream's images, so a
//! real cluster gets the real MetalLB. The lab runs our controller and speaker for those images.
//!
//! Regenerate the files with
//! `METALLBCTL_UPDATE_MANIFESTS=1 cargo test --test it install_release::committed_manifests_are_current`.

use serde_json::{json, Value};

use crate::config::Version;
use crate::kube::crds as api;

const NS: &str = "metallb-system";

/// The releases with a manifest, and the patch release each pins.
pub const RELEASES: &[(u8, &str)] = &[
    (13, "v0.13.12"),
    (14, "v0.14.9"),
    (15, "v0.15.3"),
    (16, "v0.16.1"),
];

/// The pinned tag of a CRD-era release (`None` before v0.13).
pub fn pinned_tag(release: Version) -> Option<&'static str> {
    RELEASES
        .iter()
        .find(|(m, _)| *m == release.minor)
        .map(|(_, t)| *t)
}

/// The committed manifest of a CRD-era release.
pub fn committed(release: Version) -> Option<&'static str> {
    Some(match release.minor {
        13 => include_str!("../../manifests/metallb-v0.13.yaml"),
        14 => include_str!("../../manifests/metallb-v0.14.yaml"),
        15 => include_str!("../../manifests/metallb-v0.15.yaml"),
        16 => include_str!("../../manifests/metallb-v0.16.yaml"),
        _ => return None,
    })
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn named_rule(groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "resourceNames": names, "verbs": verbs})
}

const READ: &[&str] = &["get", "list", "watch"];
const ALL: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

fn labelled(kind: &str, api: &str, name: &str, namespaced: bool) -> Value {
    let mut meta = json!({"name": name});
    if namespaced {
        meta["namespace"] = json!(NS);
    }
    json!({"apiVersion": api, "kind": kind, "metadata": meta})
}

fn probe() -> Value {
    json!({"failureThreshold": 3, "httpGet": {"path": "/metrics", "port": "monitoring"},
           "initialDelaySeconds": 10, "periodSeconds": 10, "successThreshold": 1,
           "timeoutSeconds": 1})
}

/// Every object of `release`'s manifest, in upstream's order.
pub fn objects(release: Version) -> Vec<Value> {
    let minor = release.minor;
    let tag = pinned_tag(release).unwrap_or("v0.16.1");
    let (svc, cert) = if minor <= 13 {
        ("webhook-service", "webhook-server-cert")
    } else {
        ("metallb-webhook-service", "metallb-webhook-cert")
    };
    let mut out = vec![json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": NS, "labels": {
            "pod-security.kubernetes.io/audit": "privileged",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged"}}
    })];
    out.extend(api::crds(release));
    out.push(labelled("ServiceAccount", "v1", "controller", true));
    out.push(labelled("ServiceAccount", "v1", "speaker", true));

    let config_kinds: Vec<&str> = {
        let mut k = vec![
            "bfdprofiles",
            "bgpadvertisements",
            "bgppeers",
            "communities",
            "ipaddresspools",
            "l2advertisements",
        ];
        if minor == 13 {
            k.push("addresspools");
        }
        k
    };
    let mut controller_role = labelled("Role", "rbac.authorization.k8s.io/v1", "controller", true);
    let mut rules = vec![
        rule(&[""], &["secrets"], ALL),
        named_rule(&[""], &["secrets"], &["memberlist"], &["list"]),
        named_rule(&["apps"], &["deployments"], &["controller"], &["get"]),
    ];
    rules.extend(
        config_kinds
            .iter()
            .map(|k| rule(&["metallb.io"], &[k], READ)),
    );
    if minor >= 15 {
        rules.push(rule(
            &["metallb.io"],
            &["ipaddresspools/status"],
            &["update"],
        ));
    }
    controller_role["rules"] = json!(rules);
    out.push(controller_role);

    let mut lister = labelled("Role", "rbac.authorization.k8s.io/v1", "pod-lister", true);
    let mut rules = vec![
        rule(&[""], &["pods"], &["list", "get"]),
        rule(&[""], &["secrets"], READ),
        rule(&[""], &["configmaps"], READ),
    ];
    rules.extend(
        config_kinds
            .iter()
            .map(|k| rule(&["metallb.io"], &[k], READ)),
    );
    if minor >= 15 {
        rules.push(rule(
            &["metallb.io"],
            &["servicebgpstatuses", "servicebgpstatuses/status"],
            &["*"],
        ));
    }
    lister["rules"] = json!(rules);
    out.push(lister);

    let crd_names: Vec<String> = api::crds(release)
        .iter()
        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_string))
        .filter(|n| !n.starts_with("service"))
        .collect();
    let crd_names: Vec<&str> = crd_names.iter().map(String::as_str).collect();
    let mut c = labelled(
        "ClusterRole",
        "rbac.authorization.k8s.io/v1",
        "metallb-system:controller",
        false,
    );
    let mut rules = vec![
        rule(&[""], &["services", "namespaces"], READ),
        rule(&[""], &["nodes"], &["list"]),
        rule(&[""], &["services/status"], &["update"]),
        rule(&[""], &["events"], &["create", "patch"]),
        named_rule(
            &["admissionregistration.k8s.io"],
            &["validatingwebhookconfigurations"],
            &["metallb-webhook-configuration"],
            ALL,
        ),
        rule(
            &["admissionregistration.k8s.io"],
            &["validatingwebhookconfigurations"],
            &["list", "watch"],
        ),
        named_rule(
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"],
            &crd_names,
            ALL,
        ),
        rule(
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"],
            &["list", "watch"],
        ),
    ];
    if minor >= 15 {
        rules.push(rule(&["metallb.io"], &["configurationstates"], ALL));
        rules.push(rule(
            &["metallb.io"],
            &["configurationstates/status"],
            &["get", "patch", "update"],
        ));
    }
    c["rules"] = json!(rules);
    out.push(c);

    let mut s = labelled(
        "ClusterRole",
        "rbac.authorization.k8s.io/v1",
        "metallb-system:speaker",
        false,
    );
    let mut rules = Vec::new();
    let mut status_kinds = Vec::new();
    if minor >= 14 {
        status_kinds.extend(["servicel2statuses", "servicel2statuses/status"]);
    }
    if minor >= 15 {
        status_kinds.extend(["configurationstates", "configurationstates/status"]);
    }
    if !status_kinds.is_empty() {
        rules.push(rule(&["metallb.io"], &status_kinds, &["*"]));
    }
    rules.extend([
        rule(
            &[""],
            &["services", "endpoints", "nodes", "namespaces"],
            READ,
        ),
        rule(&["discovery.k8s.io"], &["endpointslices"], READ),
        rule(&[""], &["events"], &["create", "patch"]),
    ]);
    s["rules"] = json!(rules);
    out.push(s);

    for (kind, name, role_kind, role, sa) in [
        (
            "RoleBinding",
            "controller",
            "Role",
            "controller",
            "controller",
        ),
        ("RoleBinding", "pod-lister", "Role", "pod-lister", "speaker"),
        (
            "ClusterRoleBinding",
            "metallb-system:controller",
            "ClusterRole",
            "metallb-system:controller",
            "controller",
        ),
        (
            "ClusterRoleBinding",
            "metallb-system:speaker",
            "ClusterRole",
            "metallb-system:speaker",
            "speaker",
        ),
    ] {
        let mut b = labelled(
            kind,
            "rbac.authorization.k8s.io/v1",
            name,
            kind == "RoleBinding",
        );
        b["roleRef"] =
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role});
        b["subjects"] = json!([{"kind": "ServiceAccount", "name": sa, "namespace": NS}]);
        out.push(b);
    }

    let mut excl = labelled("ConfigMap", "v1", "metallb-excludel2", true);
    excl["data"] = json!({"excludel2.yaml": "announcedInterfacesToExclude: [\"^docker.*\", \"^cbr.*\", \"^dummy.*\", \"^virbr.*\", \"^lxcbr.*\", \"^veth.*\", \"^lo$\", \"^cali.*\", \"^tunl.*\", \"^flannel.*\", \"^kube-ipvs.*\", \"^cni.*\", \"^nodelocaldns.*\", \"^lxc.*\"]\n"});
    out.push(excl);
    out.push(labelled("Secret", "v1", cert, true));
    let mut service = labelled("Service", "v1", svc, true);
    service["spec"] = json!({"ports": [{"port": 443, "targetPort": 9443}],
                             "selector": {"component": "controller"}});
    out.push(service);

    let mut args = vec!["--port=7472", "--log-level=info"];
    if minor >= 14 {
        args.push("--tls-min-version=VersionTLS12");
    }
    let labels = |c: &str| json!({"app": "metallb", "component": c});
    let annotations = json!({"prometheus.io/port": "7472", "prometheus.io/scrape": "true"});
    out.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "controller", "namespace": NS, "labels": labels("controller")},
        "spec": {
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": labels("controller")},
            "template": {
                "metadata": {"annotations": annotations, "labels": labels("controller")},
                "spec": {
                    "containers": [{
                        "name": "controller",
                        "image": format!("quay.io/metallb/controller:{tag}"),
                        "args": args,
                        "env": [{"name": "METALLB_ML_SECRET_NAME", "value": "memberlist"},
                                {"name": "METALLB_DEPLOYMENT", "value": "controller"}],
                        "ports": [{"containerPort": 7472, "name": "monitoring"},
                                  {"containerPort": 9443, "name": "webhook-server", "protocol": "TCP"}],
                        "livenessProbe": probe(),
                        "readinessProbe": probe(),
                        "securityContext": {"allowPrivilegeEscalation": false,
                                            "capabilities": {"drop": ["all"]},
                                            "readOnlyRootFilesystem": true},
                        "volumeMounts": [{"mountPath": "/tmp/k8s-webhook-server/serving-certs",
                                          "name": "cert", "readOnly": true}]
                    }],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "securityContext": {"fsGroup": 65534, "runAsNonRoot": true, "runAsUser": 65534},
                    "serviceAccountName": "controller",
                    "terminationGracePeriodSeconds": 0,
                    "volumes": [{"name": "cert", "secret": {"defaultMode": 420, "secretName": cert}}]
                }
            }
        }
    }));
    let field = |p: &str| json!({"fieldRef": {"fieldPath": p}});
    let mut env = vec![json!({"name": "METALLB_NODE_NAME", "valueFrom": field("spec.nodeName")})];
    if minor >= 14 {
        env.push(json!({"name": "METALLB_POD_NAME", "valueFrom": field("metadata.name")}));
    }
    env.extend([
        json!({"name": "METALLB_HOST", "valueFrom": field("status.hostIP")}),
        json!({"name": "METALLB_ML_BIND_ADDR", "valueFrom": field("status.podIP")}),
        json!({"name": "METALLB_ML_LABELS", "value": "app=metallb,component=speaker"}),
        json!({"name": "METALLB_ML_SECRET_KEY_PATH", "value": "/etc/ml_secret_key"}),
    ]);
    out.push(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "speaker", "namespace": NS, "labels": labels("speaker")},
        "spec": {
            "selector": {"matchLabels": labels("speaker")},
            "template": {
                "metadata": {"annotations": annotations, "labels": labels("speaker")},
                "spec": {
                    "containers": [{
                        "name": "speaker",
                        "image": format!("quay.io/metallb/speaker:{tag}"),
                        "args": ["--port=7472", "--log-level=info"],
                        "env": env,
                        "ports": [{"containerPort": 7472, "name": "monitoring"},
                                  {"containerPort": 7946, "name": "memberlist-tcp"},
                                  {"containerPort": 7946, "name": "memberlist-udp", "protocol": "UDP"}],
                        "livenessProbe": probe(),
                        "readinessProbe": probe(),
                        "securityContext": {"allowPrivilegeEscalation": false,
                                            "capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]},
                                            "readOnlyRootFilesystem": true},
                        "volumeMounts": [{"mountPath": "/etc/ml_secret_key", "name": "memberlist", "readOnly": true},
                                         {"mountPath": "/etc/metallb", "name": "metallb-excludel2", "readOnly": true}]
                    }],
                    "hostNetwork": true,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "serviceAccountName": "speaker",
                    "terminationGracePeriodSeconds": 2,
                    "tolerations": [
                        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/master", "operator": "Exists"},
                        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
                    "volumes": [
                        {"name": "memberlist", "secret": {"defaultMode": 420, "secretName": "memberlist"}},
                        {"name": "metallb-excludel2", "configMap": {"defaultMode": 256, "name": "metallb-excludel2"}}]
                }
            }
        }
    }));
    let webhook = |name: &str, version: &str, kind: &str, plural: &str, ops: &[&str]| {
        json!({
            "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": svc, "namespace": NS,
                "path": format!("/validate-metallb-io-{version}-{}", kind.to_lowercase())}},
            "failurePolicy": "Fail",
            "name": name,
            "rules": [{"apiGroups": ["metallb.io"], "apiVersions": [version],
                       "operations": ops, "resources": [plural]}],
            "sideEffects": "None"
        })
    };
    let cu: &[&str] = &["CREATE", "UPDATE"];
    let mut hooks = vec![
        webhook(
            "bgppeersvalidationwebhook.metallb.io",
            "v1beta2",
            "BGPPeer",
            "bgppeers",
            cu,
        ),
        webhook(
            "bfdprofilevalidationwebhook.metallb.io",
            "v1beta1",
            "BFDProfile",
            "bfdprofiles",
            &["CREATE", "DELETE"],
        ),
        webhook(
            "bgpadvertisementvalidationwebhook.metallb.io",
            "v1beta1",
            "BGPAdvertisement",
            "bgpadvertisements",
            cu,
        ),
        webhook(
            "communityvalidationwebhook.metallb.io",
            "v1beta1",
            "Community",
            "communities",
            cu,
        ),
        webhook(
            "ipaddresspoolvalidationwebhook.metallb.io",
            "v1beta1",
            "IPAddressPool",
            "ipaddresspools",
            cu,
        ),
        webhook(
            "l2advertisementvalidationwebhook.metallb.io",
            "v1beta1",
            "L2Advertisement",
            "l2advertisements",
            cu,
        ),
    ];
    if minor == 13 {
        hooks.push(webhook(
            "addresspoolvalidationwebhook.metallb.io",
            "v1beta1",
            "AddressPool",
            "addresspools",
            cu,
        ));
    }
    out.push(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "metallb-webhook-configuration"},
        "webhooks": hooks
    }));
    out
}

/// The manifest file of `release`: a header saying what it is and how it was made, then every
/// object as a YAML document.
pub fn render(release: Version) -> String {
    let tag = pinned_tag(release).unwrap_or("?");
    let mut out = format!(
        "# MetalLB {tag} in BGP mode with the native speaker: CRDs, RBAC, webhook configuration and\n\
         # upstream's images (quay.io/metallb/controller:{tag}, quay.io/metallb/speaker:{tag}).\n\
         # Installed by `metallbctl install --metallb-version v0.{}` (or kubectl apply -f). On a real\n\
         # cluster the speaker also needs the `memberlist` Secret, which `metallbctl install` and\n\
         # MetalLB's controller create. GENERATED by metallbctl (src/kube/release.rs): the CRDs from\n\
         # Rust types (src/kube/crds.rs) cut per release by validate's field tables, compared field by field with\n\
         # upstream's by tests/it/crd_schema.rs. Regenerate with\n\
         # METALLBCTL_UPDATE_MANIFESTS=1 cargo test --test it install_release::committed_manifests_are_current\n",
        release.minor
    );
    for o in objects(release) {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&o).unwrap_or_default());
    }
    out
}
