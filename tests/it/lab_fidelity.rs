//! kubectl fidelity (issue 13, part A), with the real kubectl against the in-process lab API
//! server: the `kubectl create` family (protobuf bodies), field validation, OpenAPI/explain,
//! response shapes, leases and APIServices. Skipped with a message when kubectl is missing,
//! unless METALLBCTL_REQUIRE_PEERS=1.

use serde_json::Value;

use crate::support::{have_kubectl, Lab};

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
        &["configmap", "cm", "--from-literal=a=1", "--from-literal=empty="],
        &["secret", "generic", "s", "--from-literal=password=hunter2"],
        &[
            "secret",
            "docker-registry",
            "reg",
            "--docker-server=registry.example",
            "--docker-username=u",
            "--docker-password=p",
        ],
        &["deployment", "web", "--image=nginx:1.25", "--replicas=0", "--port=80"],
        &["service", "loadbalancer", "lb", "--tcp=80:8080"],
        &["service", "clusterip", "cip", "--tcp=443"],
        &["service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
        &["service", "externalname", "ext", "--external-name=example.com"],
        &["serviceaccount", "sa"],
        &["role", "reader", "--verb=get,list", "--resource=pods,services"],
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
