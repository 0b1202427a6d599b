//! kubectl fidelity (issue 13, part A), with the real kubectl against the in-process lab API
//! server: the `kubectl create` family (protobuf bodies), field validation, OpenAPI/explain,
//! response shapes, leases and APIServices. Skipped with a message when kubectl is missing,
//! unless METALLBCTL_REQUIRE_PEERS=1.

use serde_json::Value;

use crate::support::{eventually, have_kubectl, Lab};

/// Every leaf of `want` (kubectl's own `--dry-run=client` rendering) is in `got` (what the server
/// stored from the protobuf body) with the same value; `null` means absent.
fn contains(want: &Value, got: &Value, path: &str, diffs: &mut Vec<String>) {
    match want {
        Value::Null => {}
        Value::Object(m) => {
            for (k, v) in m {
                if v.is_null() {
                    continue;
                }
                match got.get(k) {
                    Some(g) => contains(v, g, &format!("{path}.{k}"), diffs),
                    None => diffs.push(format!("{path}.{k} missing (want {v})")),
                }
            }
        }
        Value::Array(a) => match got.as_array() {
            Some(g) if g.len() == a.len() => {
                for (i, (w, g)) in a.iter().zip(g).enumerate() {
                    contains(w, g, &format!("{path}[{i}]"), diffs);
                }
            }
            _ => diffs.push(format!("{path}: want {want}, got {got}")),
        },
        _ => {
            if want != got {
                diffs.push(format!("{path}: want {want}, got {got}"));
            }
        }
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `kubectl create <kind> ...` for every built-in kind the lab serves that kubectl has a
/// generator for. kubectl sends these as protobuf; the object the server stores must carry every
/// field kubectl put in it (compared with `--dry-run=client -o json`, which renders the same
/// object as JSON without sending it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_family_sends_protobuf_and_the_server_keeps_every_field() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-create").await;
    let commands: &[&[&str]] = &[
        &["namespace", "fid-ns"],
        &[
            "configmap",
            "cm",
            "--from-literal=a=1",
            "--from-literal=empty=",
        ],
        &["secret", "generic", "s", "--from-literal=password=hunter2"],
        &[
            "secret",
            "docker-registry",
            "reg",
            "--docker-server=registry.example",
            "--docker-username=u",
            "--docker-password=p",
        ],
        &[
            "deployment",
            "web",
            "--image=nginx:1.25",
            "--replicas=0",
            "--port=80",
        ],
        &["service", "loadbalancer", "lb", "--tcp=80:8080"],
        &["service", "clusterip", "cip", "--tcp=443"],
        &[
            "service",
            "nodeport",
            "np",
            "--tcp=80:8080",
            "--node-port=30080",
        ],
        &[
            "service",
            "externalname",
            "ext",
            "--external-name=example.com",
        ],
        &["serviceaccount", "sa"],
        &[
            "role",
            "reader",
            "--verb=get,list",
            "--resource=pods,services",
        ],
        &["clusterrole", "nodes", "--verb=get", "--resource=nodes"],
        &["rolebinding", "rb", "--role=reader", "--user=alice"],
        &[
            "clusterrolebinding",
            "crb",
            "--clusterrole=nodes",
            "--user=alice",
            "--serviceaccount=default:sa",
        ],
    ];
    for args in commands {
        let mut client = vec!["create"];
        client.extend_from_slice(args);
        client.extend(["--dry-run=client", "-o", "json"]);
        let mut want = json(&lab.k(&client));
        // Status belongs to the server (a create ignores it).
        if let Some(m) = want.as_object_mut() {
            m.remove("status");
        }
        let mut server = vec!["create"];
        server.extend_from_slice(args);
        server.extend(["-o", "json", "-v=8"]);
        let (ok, text) = lab.kubectl(&server);
        assert!(ok, "kubectl {server:?}:\n{text}");
        assert!(
            text.contains("Content-Type: application/vnd.kubernetes.protobuf"),
            "kubectl {server:?} did not send protobuf:\n{text}"
        );
        // -v=8 logs go to stderr, after the JSON object on stdout.
        let (ok, stored) = lab.kubectl(&["get", kind_of(args), args_name(args), "-o", "json"]);
        assert!(ok, "{stored}");
        let mut diffs = Vec::new();
        contains(&want, &json(&stored), "", &mut diffs);
        assert!(diffs.is_empty(), "kubectl create {args:?}: {diffs:#?}");
    }
    // The explicit zero of a pointer field survives protobuf's zero-value elision.
    let replicas = lab.k(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(replicas, "0");
    lab.shutdown().await;
}

/// The resource type `kubectl get` takes for a create command's arguments.
fn kind_of<'a>(args: &[&'a str]) -> &'a str {
    match args[0] {
        "secret" => "secret",
        "service" => "service",
        other => other,
    }
}

/// The object name in a create command's arguments (after the subtype for secrets/services).
fn args_name<'a>(args: &[&'a str]) -> &'a str {
    match args[0] {
        "secret" | "service" => args[2],
        _ => args[1],
    }
}

const MISSPELT_SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: typo
  namespace: default
spec:
  type: LoadBalancer
  loadBalancerIp: 198.51.100.10
  selector:
    app: nginx
  ports:
  - port: 80
"#;

const POOL_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ipaddresspools.metallb.io
spec:
  group: metallb.io
  names:
    kind: IPAddressPool
    listKind: IPAddressPoolList
    plural: ipaddresspools
    singular: ipaddresspool
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: IPAddressPool represents a pool of IP addresses that can be allocated to LoadBalancer services.
        type: object
        properties:
          spec:
            description: IPAddressPoolSpec defines the desired state of IPAddressPool.
            type: object
            properties:
              addresses:
                description: A list of IP address ranges over which MetalLB has authority.
                type: array
                items:
                  type: string
              autoAssign:
                description: AutoAssign flag used to prevent MetallB from automatic allocation for a pool.
                type: boolean
            required:
            - addresses
          status:
            type: object
"#;

const MISSPELT_POOL: &str = r#"apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: first
  namespace: default
spec:
  addresses:
  - 198.51.100.0/24
  autoassign: false
"#;

fn write(lab: &Lab, name: &str, text: &str) -> String {
    let path = lab.dir.path().join(name);
    std::fs::write(&path, text).expect("write manifest");
    path.display().to_string()
}

/// kubectl's default (`--validate=strict`, sent as `fieldValidation=Strict`) refuses a misspelt
/// field with the real server's message; `--validate=warn` prints the server's warning and
/// drops the field; `--validate=false` (Ignore) drops it silently. The same for a CRD's
/// structural schema, and for a duplicate field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_validation_strict_warn_and_ignore() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-validate").await;
    let svc = write(&lab, "svc.yaml", MISSPELT_SERVICE);
    let (ok, text) = lab.kubectl(&["apply", "-f", &svc]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.loadBalancerIp\""
        ),
        "{text}"
    );
    assert!(
        !lab.kubectl(&["get", "svc", "typo"]).0,
        "refused, not stored"
    );

    let (ok, text) = lab.kubectl(&["apply", "--validate=warn", "-f", &svc]);
    assert!(ok, "{text}");
    assert!(
        text.contains("Warning: unknown field \"spec.loadBalancerIp\""),
        "{text}"
    );
    let spec = json(&lab.k(&["get", "svc", "typo", "-o", "jsonpath={.spec}"]));
    assert!(spec.get("loadBalancerIp").is_none(), "{spec}");
    assert_eq!(spec["type"], "LoadBalancer");

    lab.k(&["delete", "svc", "typo"]);
    let (ok, text) = lab.kubectl(&["apply", "--validate=false", "-f", &svc]);
    assert!(ok, "{text}");
    assert!(!text.contains("Warning"), "{text}");
    let spec = json(&lab.k(&["get", "svc", "typo", "-o", "jsonpath={.spec}"]));
    assert!(spec.get("loadBalancerIp").is_none(), "{spec}");

    // A duplicate field, sent as is (kubectl itself would re-encode the object).
    let dup = write(
        &lab,
        "dup.json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}"#,
    );
    let (ok, text) = lab.kubectl(&[
        "create",
        "--raw",
        "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        "-f",
        &dup,
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("strict decoding error: duplicate field \\\"data\\\"")
            || text.contains("strict decoding error: duplicate field \"data\""),
        "{text}"
    );

    // A CRD's structural schema.
    let crd = write(&lab, "crd.yaml", POOL_CRD);
    lab.k(&["apply", "-f", &crd]);
    let pool = write(&lab, "pool.yaml", MISSPELT_POOL);
    let (ok, text) = eventually(
        10,
        "the CRD to be served",
        || {
            let (ok, text) = lab.kubectl(&["apply", "-f", &pool]);
            (!text.contains("the server doesn't have a resource type")
                && !text.contains("no matches for kind"))
            .then_some((ok, text))
        },
        String::new,
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("strict decoding error: unknown field \"spec.autoassign\""),
        "{text}"
    );
    lab.shutdown().await;
}

/// `kubectl explain` reads the OpenAPI v3 documents: a built-in field, `--recursive`, and a
/// CRD's field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_builtin_and_crd_fields() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-explain").await;
    let spec = lab.k(&["explain", "service.spec"]);
    assert!(spec.contains("KIND:       Service"), "{spec}");
    assert!(spec.contains("loadBalancerIP"), "{spec}");
    assert!(spec.contains("externalTrafficPolicy"), "{spec}");
    let field = lab.k(&["explain", "deployment.spec.replicas"]);
    assert!(field.contains("FIELD: replicas <integer>"), "{field}");
    let recursive = lab.k(&["explain", "service.spec.ports", "--recursive"]);
    assert!(
        recursive.contains("targetPort") && recursive.contains("appProtocol"),
        "{recursive}"
    );
    let crd = write(&lab, "crd.yaml", POOL_CRD);
    lab.k(&["apply", "-f", &crd]);
    let text = eventually(
        10,
        "kubectl explain of the CRD",
        || {
            let (ok, text) = lab.kubectl(&["explain", "ipaddresspools.spec.addresses"]);
            ok.then_some(text)
        },
        || lab.kubectl(&["explain", "ipaddresspools.spec.addresses"]).1,
    );
    assert!(
        text.contains("A list of IP address ranges over which MetalLB has authority."),
        "{text}"
    );
    lab.shutdown().await;
}

/// DELETE answers as the real server: a Status with details when the object is gone at once,
/// the object while it lingers (a namespace turning Terminating).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_returns_status_or_the_lingering_object() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-delete").await;
    lab.k(&["create", "configmap", "gone", "--from-literal=a=1"]);
    let uid = lab.k(&["get", "cm", "gone", "-o", "jsonpath={.metadata.uid}"]);
    let status = json(&lab.k(&[
        "delete",
        "--raw",
        "/api/v1/namespaces/default/configmaps/gone",
    ]));
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["status"], "Success", "{status}");
    assert_eq!(status["details"]["name"], "gone", "{status}");
    assert_eq!(status["details"]["kind"], "configmaps", "{status}");
    assert_eq!(status["details"]["uid"], uid.as_str(), "{status}");
    assert!(status["details"].get("group").is_none(), "{status}");

    lab.k(&["create", "deployment", "web", "--image=nginx"]);
    let status = json(&lab.k(&[
        "delete",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/web",
    ]));
    assert_eq!(status["details"]["group"], "apps", "{status}");

    lab.k(&["create", "namespace", "lingers"]);
    lab.k(&["create", "configmap", "x", "-n", "lingers"]);
    let ns = json(&lab.k(&["delete", "--raw", "/api/v1/namespaces/lingers"]));
    assert_eq!(ns["kind"], "Namespace", "{ns}");
    // kubectl's own delete reads either shape.
    lab.k(&["create", "configmap", "again"]);
    let out = lab.k(&["delete", "cm", "again"]);
    assert!(out.contains("configmap \"again\" deleted"), "{out}");
    lab.shutdown().await;
}

/// `kubectl get apiservices` and `api-resources` show the coordination and registration APIs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiservices_and_leases_are_served() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-apiservices").await;
    let list = lab.k(&["get", "apiservices"]);
    let header: Vec<&str> = list
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "SERVICE", "AVAILABLE", "AGE"], "{list}");
    for name in [
        "v1.",
        "v1.apps",
        "v1.coordination.k8s.io",
        "v1.apiextensions.k8s.io",
    ] {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()[..3] == [name, "Local", "True"]),
            "{name}:\n{list}"
        );
    }
    let crd = write(&lab, "crd.yaml", POOL_CRD);
    lab.k(&["apply", "-f", &crd]);
    let list = lab.k(&["get", "apiservices"]);
    assert!(list.contains("v1beta1.metallb.io"), "{list}");
    let resources = lab.k(&["api-resources"]);
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("leases ") && l.contains("coordination.k8s.io/v1")),
        "{resources}"
    );
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("apiservices ") && l.contains("apiregistration.k8s.io/v1")),
        "{resources}"
    );
    lab.shutdown().await;
}

/// After `lab up --tutorial`, the tutorial's own `kubectl apply -f` of tutorial-1/2 (and the
/// config change of tutorial-3) runs without the "missing the last-applied-configuration
/// annotation" warning (and MetalLB's and the routers' manifests, which `lab up --tutorial`
/// installed, re-apply as `unchanged`), and the daemon's kubelet keeps a node lease in `kube-node-lease`.
#[test]
fn tutorial_objects_apply_without_warning_and_nodes_heartbeat() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("fid-tutorial");
    lab.up(&["--tutorial"]);
    // What `lab up --tutorial` installed and applied carries kubectl's own last-applied
    // annotation: re-applying the same manifests changes nothing and warns nothing.
    for m in [
        "metallb.yaml",
        "test-bgp-router.yaml",
        "tutorial-1.yaml",
        "tutorial-2.yaml",
        "tutorial-3.yaml",
    ] {
        let path = crate::support::repo_path(&format!("manifests/{m}"));
        let path = path.display().to_string();
        let (ok, text) = lab.kubectl(&["apply", "-f", &path]);
        assert!(ok, "{m}: {text}");
        assert!(!text.contains("last-applied-configuration"), "{m}: {text}");
        assert!(!text.contains("Warning"), "{m}: {text}");
        if m != "tutorial-3.yaml" {
            assert!(
                text.lines().all(|l| l.ends_with(" unchanged")),
                "{m}: {text}"
            );
        }
    }
    let leases = eventually(
        15,
        "a node lease",
        || {
            let (ok, text) = lab.kubectl(&["get", "leases", "-A"]);
            (ok && text.contains("kube-node-lease")).then_some(text)
        },
        || lab.kubectl(&["get", "leases", "-A"]).1,
    );
    let header: Vec<&str> = leases
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAMESPACE", "NAME", "HOLDER", "AGE"], "{leases}");
    let lease = json(&lab.k(&["get", "lease", "-n", "kube-node-lease", "-o", "json"]));
    let first = &lease["items"][0];
    assert_eq!(first["spec"]["leaseDurationSeconds"], 40, "{lease}");
    assert_eq!(
        first["spec"]["holderIdentity"], first["metadata"]["name"],
        "{lease}"
    );
    assert!(
        first["spec"]["renewTime"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('.')),
        "MicroTime: {lease}"
    );
}

/// OpenAPI v2 as JSON (`kubectl get --raw`, which accepts JSON) with built-in kinds and an
/// applied CRD; kubectl's own protobuf-only request gets 406 and `kubectl apply` carries on
/// with its compiled-in types, as it did before v2 was served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_v2_serves_builtin_and_crd_schemas() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-openapi-v2").await;
    let crd = write(&lab, "crd.yaml", POOL_CRD);
    lab.k(&["apply", "-f", &crd]);
    let doc = eventually(
        10,
        "the CRD in /openapi/v2",
        || {
            let (ok, text) = lab.kubectl(&["get", "--raw", "/openapi/v2"]);
            let doc: Value = serde_json::from_str(&text).ok()?;
            (ok && doc["definitions"]["io.metallb.v1beta1.IPAddressPool"].is_object())
                .then_some(doc)
        },
        || lab.kubectl(&["get", "--raw", "/openapi/v2"]).1,
    );
    assert_eq!(doc["swagger"], "2.0");
    let pool = &doc["definitions"]["io.metallb.v1beta1.IPAddressPool"];
    assert_eq!(
        pool["x-kubernetes-group-version-kind"][0]["kind"], "IPAddressPool",
        "{pool}"
    );
    assert_eq!(
        pool["properties"]["metadata"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(pool["properties"]["spec"]["properties"]["addresses"].is_object());
    let svc = &doc["definitions"]["io.k8s.api.core.v1.Service"];
    assert_eq!(svc["x-kubernetes-group-version-kind"][0]["kind"], "Service");
    // Every reference resolves within the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/definitions/").skip(1) {
        let name = r.split('"').next().unwrap_or_default();
        assert!(doc["definitions"][name].is_object(), "{name} unresolved");
    }
    // kubectl apply (which asks for v2 in protobuf) still applies, with no warning.
    let dep = write(
        &lab,
        "dep.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
    );
    let first = lab.k(&["apply", "-f", &dep]);
    let again = lab.k(&["apply", "-f", &dep]);
    assert!(
        first.contains("created") && again.contains("unchanged"),
        "{first}{again}"
    );
    assert!(!again.to_lowercase().contains("warning"), "{again}");
    lab.shutdown().await;
}

/// Field validation of patches, judged on the patched object as the real server does: a JSON
/// patch and a merge patch adding a misspelt field warn under the server default (what `kubectl
/// patch` sends) and store nothing of it; re-applying a manifest with a typo (a strategic merge
/// patch under kubectl's default Strict) is refused with the real server's 422 on `patch`;
/// through the CRD's structural schema too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_validation_of_json_merge_and_strategic_patches() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("fid-validate-patch").await;
    let good = MISSPELT_SERVICE.replace("  loadBalancerIp: 198.51.100.10\n", "");
    let svc = write(&lab, "svc.yaml", &good);
    lab.k(&["apply", "-f", &svc]);
    for (kind, patch) in [
        (
            "json",
            r#"[{"op":"add","path":"/spec/loadBalancerIp","value":"198.51.100.10"}]"#,
        ),
        ("merge", r#"{"spec":{"loadBalancerIp":"198.51.100.10"}}"#),
        (
            "strategic",
            r#"{"spec":{"loadBalancerIp":"198.51.100.10"}}"#,
        ),
    ] {
        let (ok, text) = lab.kubectl(&["patch", "svc", "typo", "--type", kind, "-p", patch]);
        assert!(ok, "{kind}: {text}");
        assert!(
            text.contains("Warning: unknown field \"spec.loadBalancerIp\""),
            "{kind}: {text}"
        );
        let spec = json(&lab.k(&["get", "svc", "typo", "-o", "jsonpath={.spec}"]));
        assert!(spec.get("loadBalancerIp").is_none(), "{kind}: {spec}");
    }
    // A JSON patch that also sets a real field: that part is kept.
    let (ok, text) = lab.kubectl(&[
        "patch",
        "svc",
        "typo",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/spec/loadBalancerIp","value":"x"},{"op":"add","path":"/spec/loadBalancerIP","value":"198.51.100.10"}]"#,
    ]);
    assert!(ok, "{text}");
    let spec = json(&lab.k(&["get", "svc", "typo", "-o", "jsonpath={.spec}"]));
    assert_eq!(spec["loadBalancerIP"], "198.51.100.10", "{spec}");
    assert!(spec.get("loadBalancerIp").is_none(), "{spec}");

    let typo = write(&lab, "typo.yaml", MISSPELT_SERVICE);
    let (ok, text) = lab.kubectl(&["apply", "-f", &typo]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("The request is invalid: patch: Invalid value: \"map[metadata:map[annotations:map[kubectl.kubernetes.io/last-applied-configuration:")
            && text.contains("strict decoding error: unknown field \"spec.loadBalancerIp\""),
        "{text}"
    );

    // A CRD: a merge patch checked against its structural schema.
    let crd = write(&lab, "crd.yaml", POOL_CRD);
    lab.k(&["apply", "-f", &crd]);
    let pool = write(
        &lab,
        "pool.yaml",
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: default}\nspec:\n  addresses: [198.51.100.0/24]\n",
    );
    eventually(
        10,
        "the CRD to be served",
        || lab.kubectl(&["apply", "-f", &pool]).0.then_some(()),
        || lab.kubectl(&["apply", "-f", &pool]).1,
    );
    let (ok, text) = lab.kubectl(&[
        "patch",
        "ipaddresspools",
        "p",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"autoassign":false}}"#,
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("Warning: unknown field \"spec.autoassign\""),
        "{text}"
    );
    lab.shutdown().await;
}
