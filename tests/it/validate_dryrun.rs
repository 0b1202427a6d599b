//! `metallbctl validate --assignments | --cluster`: the tutorial's tutorial-3 step predicted
//! before it is applied, from a `kubectl get svc -A -o json` file and from a live API server
//! (the lab's, in process).

use std::time::{Duration, Instant};

use crate::support::{metallbctl_assert as metallbctl, Lab};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const LOSS: &str = "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config";

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let out = metallbctl()
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn tutorial_three_from_an_assignments_file_is_rejected_with_the_fix() {
    let (out, _, code) = run(&[
        "validate",
        "manifests/tutorial-3.yaml",
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments.json",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("error[MLB100]: {LOSS}")), "{out}");
    assert!(
        out.contains("set spec.loadBalancerIP: 198.51.100.1"),
        "{out}"
    );
    assert!(
        out.contains("manifests/tutorial-3.yaml:22:24"),
        "the finding points at avoid-buggy-ips: {out}"
    );
    assert!(out.contains("default/nginx  198.51.100.0  LOSES"), "{out}");

    let (out, _, code) = run(&[
        "validate",
        "manifests/tutorial-3.yaml",
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments-pinned.json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("would be accepted"), "{out}");
}

#[test]
fn dry_run_findings_appear_in_machine_formats() {
    let (out, _, code) = run(&[
        "validate",
        "manifests/tutorial-3.yaml",
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "MLB100");
    assert_eq!(d["message"], LOSS);
    assert_eq!(d["line"], 22);
}

#[test]
fn a_bad_assignments_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svc.json");
    std::fs::write(&path, "{\"kind\": \"List\", \"items\": [{\"metadata\": {\"name\": \"x\"}, \"spec\": {\"ports\": [{\"port\": 70000}]}}]}").unwrap();
    let (_, err, code) = run(&[
        "validate",
        "manifests/tutorial-3.yaml",
        "--assignments",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("svc.json"), "{err}");
    assert!(err.contains("70000"), "{err}");
}

#[test]
fn an_unreachable_cluster_fails_fast_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"),
    )
    .unwrap();
    let started = Instant::now();
    let (_, err, code) = run(&[
        "validate",
        "manifests/tutorial-3.yaml",
        "--cluster",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot reach the Kubernetes API server"),
        "{err}"
    );
    // A refused connection must not hang: generous bound, this is no performance figure.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_three_against_a_live_api_server() {
    let lab = Lab::start("validate-cluster").await;
    let client = lab.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "metallb-system"}})).unwrap(),
        )
        .await
        .expect("namespace");
    let tutorial_1 = std::fs::read_to_string("manifests/tutorial-1.yaml").unwrap();
    let config_body = tutorial_1
        .split("config: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "metallb-system");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "config"}, "data": {"config": config_body}}),
        )
        .unwrap(),
    )
    .await
    .expect("configmap");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let nginx = json!({"metadata": {"name": "nginx"}, "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "protocol": "TCP"}]}});
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(nginx).unwrap(),
        )
        .await
        .expect("service");
    let ingress = |ip: &str| json!({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}});
    services
        .patch_status(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(ingress("198.51.100.0")),
        )
        .await
        .expect("status");

    let kubeconfig = lab.kubeconfig();
    let kc = kubeconfig.to_str().unwrap().to_string();
    let (out, err, code) = tokio::task::spawn_blocking(move || {
        run(&[
            "validate",
            "manifests/tutorial-3.yaml",
            "--cluster",
            "--kubeconfig",
            &kc,
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains(LOSS), "{out}");
    assert!(out.contains("ConfigMap metallb-system/config"), "{out}");
    assert!(
        out.contains("set spec.loadBalancerIP: 198.51.100.1"),
        "{out}"
    );

    // After the pin the same configuration is safe.
    services
        .patch(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"loadBalancerIP": "198.51.100.1"}})),
        )
        .await
        .expect("pin");
    services
        .patch_status(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(ingress("198.51.100.1")),
        )
        .await
        .expect("status");
    let kc = kubeconfig.to_str().unwrap().to_string();
    let (out, err, code) = tokio::task::spawn_blocking(move || {
        run(&[
            "validate",
            "manifests/tutorial-3.yaml",
            "--cluster",
            "--kubeconfig",
            &kc,
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("default/nginx  198.51.100.1  keeps"), "{out}");
    lab.shutdown().await;
}

#[test]
fn dry_run_tables_match_their_snapshots() {
    for (name, assignments) in [
        (
            "dry_run_rejected",
            "tests/fixtures/alloc/tutorial-assignments.json",
        ),
        (
            "dry_run_accepted",
            "tests/fixtures/alloc/tutorial-assignments-pinned.json",
        ),
    ] {
        let (out, err, _) = run(&[
            "validate",
            "manifests/tutorial-3.yaml",
            "--assignments",
            assignments,
        ]);
        assert!(out.contains("SERVICE"), "{out}{err}");
        crate::support::snapshot(name, &out);
    }
}

/// The tutorial-3 change in custom-resource form: `avoidBuggyIPs` takes nginx's 198.51.100.0.
const CRDS_TUTORIAL_3: &str = "tests/fixtures/rules/MLB104-service-reallocated.yaml";

#[test]
fn custom_resources_from_v0_14_name_the_reallocated_service_and_its_new_address() {
    let args = [
        "validate",
        CRDS_TUTORIAL_3,
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments.json",
    ];
    let (out, err, code) = run(&args);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[MLB104]: service \"default/nginx\" loses 198.51.100.0 and gets 198.51.100.1 from pool \"my-ip-space\" instead"),
        "{out}"
    );
    assert!(
        out.contains("MLB104-service-reallocated.yaml:9:18"),
        "points at avoidBuggyIPs: {out}"
    );
    assert!(
        out.contains("would be applied and RE-ALLOCATE 1 service"),
        "{out}"
    );
    assert!(
        out.contains(
            "default/nginx  198.51.100.0  RE-ALLOCATED  -> 198.51.100.1 from pool my-ip-space"
        ),
        "{out}"
    );
    assert!(!out.contains("not possible"), "{out}");

    // Allowed: the finding stays, as a warning, and the exit status is 0.
    let (out, err, code) = run(&[&args[..], &["--allow-reallocation"]].concat());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("warning[MLB104]"), "{out}");
    let (_, _, code) = run(&[&args[..], &["--allow-reallocation", "--deny-warnings"]].concat());
    assert_eq!(code, Some(1));

    // v0.14 too; machine formats carry it.
    let (out, _, code) = run(&[
        &args[..],
        &["--target-version", "v0.14", "--format", "json"],
    ]
    .concat());
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["diagnostics"][0]["code"], "MLB104");
    assert_eq!(json["diagnostics"][0]["line"], 9);
}

#[test]
fn custom_resources_up_to_v0_13_are_rejected_as_the_configmap_is() {
    let (out, err, code) = run(&[
        "validate",
        CRDS_TUTORIAL_3,
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments.json",
        "--target-version",
        "v0.13",
        "--allow-reallocation",
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains(&format!("error[MLB100]: {LOSS}")), "{out}");
    assert!(out.contains("would be REJECTED"), "{out}");
    assert!(!out.contains("[MLB104]"), "{out}");

    // Pinned first: nothing to re-allocate under any release.
    for version in ["v0.13", "v0.16"] {
        let (out, err, code) = run(&[
            "validate",
            CRDS_TUTORIAL_3,
            "--assignments",
            "tests/fixtures/alloc/tutorial-assignments-pinned.json",
            "--target-version",
            version,
        ]);
        assert_eq!(code, Some(0), "{version}: {out}{err}");
        assert!(out.contains("would be accepted"), "{out}");
        assert!(out.contains("default/nginx  198.51.100.1  keeps"), "{out}");
    }
}

#[test]
fn custom_resources_with_errors_are_not_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(CRDS_TUTORIAL_3)
        .unwrap()
        .replace("198.51.100.0/24", "198.51.100.0/33");
    std::fs::write(&path, text).unwrap();
    let (out, err, code) = run(&[
        "validate",
        path.to_str().unwrap(),
        "--assignments",
        "tests/fixtures/alloc/tutorial-assignments.json",
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("skipped: MetalLB rejects these objects already"),
        "{out}"
    );
    assert!(!out.contains("[MLB104]"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_against_the_live_ip_address_pools() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::DynamicObject;
    use kube::core::GroupVersionKind;
    use kube::discovery::ApiResource;

    let lab = Lab::start("validate-cluster-crds").await;
    let client = lab.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "metallb-system"}})).unwrap(),
        )
        .await
        .expect("namespace");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "ipaddresspools.metallb.io"},
            "spec": {"group": "metallb.io", "scope": "Namespaced",
                "names": {"plural": "ipaddresspools", "singular": "ipaddresspool", "kind": "IPAddressPool", "listKind": "IPAddressPoolList"},
                "versions": [{"name": "v1beta1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
        }))
        .unwrap(),
    )
    .await
    .expect("crd");
    // The running pool has another name: web's address "moves" proves the live pools were read.
    let gvk = GroupVersionKind::gvk("metallb.io", "v1beta1", "IPAddressPool");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "ipaddresspools");
    let pools: Api<DynamicObject> = Api::namespaced_with(client.clone(), "metallb-system", &ar);
    pools
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
                "metadata": {"name": "old-space", "namespace": "metallb-system"},
                "spec": {"addresses": ["198.51.100.0/24"]}}),
            )
            .unwrap(),
        )
        .await
        .expect("pool");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    for (name, ip) in [("nginx", "198.51.100.0"), ("web", "198.51.100.7")] {
        let svc = json!({"metadata": {"name": name}, "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80, "protocol": "TCP"}]}});
        services
            .create(
                &PostParams::default(),
                &serde_json::from_value(svc).unwrap(),
            )
            .await
            .expect("service");
        services
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}})),
            )
            .await
            .expect("status");
    }

    let kc = lab.kubeconfig().to_str().unwrap().to_string();
    let (out, err, code) = tokio::task::spawn_blocking(move || {
        run(&[
            "validate",
            CRDS_TUTORIAL_3,
            "--cluster",
            "--kubeconfig",
            &kc,
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("the cluster (IPAddressPools in metallb-system)"),
        "{out}"
    );
    assert!(
        out.contains(
            "error[MLB104]: service \"default/nginx\" loses 198.51.100.0 and gets 198.51.100.1"
        ),
        "{out}"
    );
    assert!(
        out.contains("default/web    198.51.100.7  moves         pool old-space -> my-ip-space"),
        "{out}"
    );
    lab.shutdown().await;
}
