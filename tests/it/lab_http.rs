//! The lab API server at the HTTP level, in process (tower `oneshot`, no socket): auth,
//! malformed input, size limits, discovery content types, selectors, paging, CRDs, cascades.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use metallbctl::lab::apiserver::rest::{router, App};
use metallbctl::lab::apiserver::{Registry, Store};
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "test-token";

fn app() -> Router {
    router(App {
        store: Store::new(Registry::default(), 1000),
        token: TOKEN.into(),
        max_body: 64 * 1024,
        server_address: "127.0.0.1:1".into(),
        request_log: false,
        watchers: Default::default(),
    })
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    ct: &str,
    body: impl Into<Body>,
    accept: &str,
) -> (StatusCode, String, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", ct)
        .header("accept", accept)
        .body(body.into())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(resp.into_body(), 10 << 20)
        .await
        .expect("body");
    (
        status,
        ctype,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn post(app: &Router, uri: &str, v: Value) -> (StatusCode, Value) {
    let (s, _, b) = call(
        app,
        "POST",
        uri,
        "application/json",
        v.to_string(),
        "application/json",
    )
    .await;
    (s, b)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (s, _, b) = call(app, "GET", uri, "", Body::empty(), "application/json").await;
    (s, b)
}

#[tokio::test]
async fn token_required_except_version() {
    let app = app();
    let req = Request::builder()
        .uri("/api/v1/namespaces")
        .body(Body::empty())
        .expect("req");
    let resp = app.clone().oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    let status: Value = serde_json::from_slice(&bytes).expect("Status json");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 401);
    let req = Request::builder()
        .uri("/version")
        .body(Body::empty())
        .expect("req");
    let resp = app.oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_input_is_400_not_a_crash() {
    let app = app();
    for (ct, body) in [
        ("application/json", "{"),
        ("application/json", "[1,2"),
        ("application/yaml", "a: [b"),
        ("application/json", "\"just a string\""),
    ] {
        let (s, _, v) = call(
            &app,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            ct,
            body,
            "application/json",
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["kind"], "Status");
    }
    let (s, _, _) = call(
        &app,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        "text/plain",
        "{}",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(100_000)
    );
    let (s, _, v) = call(
        &app,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        big,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["reason"], "RequestEntityTooLarge");
    let (s, _, v) = call(
        &app,
        "GET",
        "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20b",
        "",
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Status"))
    );
    let (s, v) = get(&app, "/apis/nothing/v1/things").await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (s, v) = post(
        &app,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "Bad_Name"}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name")),
        "{v}"
    );
}

#[tokio::test]
async fn discovery_content_types() {
    let app = app();
    let agg =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let (s, ct, v) = call(&app, "GET", "/apis", "", Body::empty(), agg).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ct,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert_eq!(v["kind"], "APIGroupDiscoveryList");
    let (_, ct, v) = call(&app, "GET", "/apis", "", Body::empty(), "application/json").await;
    assert_eq!(
        (ct.as_str(), v["kind"].as_str()),
        ("application/json", Some("APIGroupList"))
    );
    let (s, v) = get(&app, "/apis/apps/v1").await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::OK, Some("APIResourceList"))
    );
    let (s, v) = get(&app, "/openapi/v3").await;
    assert_eq!(s, StatusCode::OK);
    let url = v["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, v) = get(&app, &url).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["paths"].as_object().is_some_and(|p| !p.is_empty()));
    // OpenAPI v2: JSON from the same definitions; kubectl's protobuf-only Accept gets 406.
    let (s, v) = get(&app, "/openapi/v2").await;
    assert_eq!((s, v["swagger"].as_str()), (StatusCode::OK, Some("2.0")));
    assert!(
        v["definitions"]["io.k8s.api.core.v1.ServiceSpec"]["properties"]["loadBalancerIP"]
            .is_object()
    );
    let pb = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    let (s, _, _) = call(&app, "GET", "/openapi/v2", "", Body::empty(), pb).await;
    assert_eq!(s, StatusCode::NOT_ACCEPTABLE);
    let (_, v) = get(&app, "/version").await;
    assert!(v["gitVersion"]
        .as_str()
        .is_some_and(|g| g.starts_with("v1.32.")));
}

/// A JSON patch is validated after it is applied: Strict answers the real server's 422 on the
/// field `patch`, quoting the patched object; Warn names duplicate keys of the patch itself
/// (`json patch duplicate field`) and the unknown field, and stores none of it.
#[tokio::test]
async fn json_patch_field_validation() {
    let app = app();
    let (s, _) = post(
        &app,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let patch = r#"[{"op":"add","path":"/datta","value":{"b":"2"}}]"#;
    let (s, _, v) = call(
        &app,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/c?fieldValidation=Strict",
        "application/json-patch+json",
        patch,
        "application/json",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["reason"], "Invalid");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{")
            && message.ends_with(": strict decoding error: unknown field \"datta\""),
        "{message}"
    );
    assert_eq!(v["details"]["causes"][0]["field"], "patch");
    assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueInvalid");

    let dup = r#"[{"op":"add","op":"add","path":"/datta","value":{"b":"2"}}]"#;
    let req = Request::builder()
        .method("PATCH")
        .uri("/api/v1/namespaces/default/configmaps/c")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json-patch+json")
        .body(Body::from(dup))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let warnings: Vec<String> = resp
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|w| w.to_str().ok().map(String::from))
        .collect();
    assert_eq!(
        warnings,
        [
            r#"299 - "json patch duplicate field \"[0].op\"""#,
            r#"299 - "unknown field \"datta\"""#
        ]
    );
    let (_, stored) = get(&app, "/api/v1/namespaces/default/configmaps/c").await;
    assert!(stored.get("datta").is_none(), "{stored}");
    assert_eq!(stored["data"], json!({"a": "1"}));
}

#[tokio::test]
async fn selectors_paging_and_tables() {
    let app = app();
    for (i, tier) in ["web", "web", "db", "cache", "web"].iter().enumerate() {
        let (s, _) = post(&app, "/api/v1/namespaces/default/pods", json!({"metadata": {"name": format!("p{i}"), "labels": {"tier": tier}},
            "spec": {"nodeName": if i % 2 == 0 { "lab-node" } else { "other" }, "containers": [{"name": "c"}]}})).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
            .collect()
    };
    let (_, v) = get(
        &app,
        "/api/v1/namespaces/default/pods?labelSelector=tier%3Dweb",
    )
    .await;
    assert_eq!(names(&v), ["p0", "p1", "p4"]);
    let (_, v) = get(&app, "/api/v1/pods?labelSelector=tier%20in%20(db,cache)").await;
    assert_eq!(names(&v), ["p2", "p3"]);
    let (_, v) = get(
        &app,
        "/api/v1/pods?labelSelector=tier!%3Dweb,tier%20notin%20(db)",
    )
    .await;
    assert_eq!(names(&v), ["p3"]);
    let (_, v) = get(
        &app,
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dlab-node,metadata.name!%3Dp0",
    )
    .await;
    assert_eq!(names(&v), ["p2", "p4"]);
    let (_, v) = get(&app, "/api/v1/namespaces/default/pods?limit=2").await;
    assert_eq!(names(&v), ["p0", "p1"]);
    let token = v["metadata"]["continue"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, v) = get(
        &app,
        &format!("/api/v1/namespaces/default/pods?limit=2&continue={token}"),
    )
    .await;
    assert_eq!(names(&v), ["p2", "p3"]);
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (_, _, t) = call(
        &app,
        "GET",
        "/api/v1/namespaces/default/pods",
        "",
        Body::empty(),
        table,
    )
    .await;
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["priority"] == 0)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, ["Name", "Ready", "Status", "Restarts", "Age"]);
    assert_eq!(t["rows"][0]["cells"][1], "0/1");
}

#[tokio::test]
async fn crds_register_resources_and_owners_cascade() {
    let app = app();
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "bgppeers.metallb.io"},
        "spec": {"group": "metallb.io", "scope": "Namespaced", "names": {"plural": "bgppeers", "singular": "bgppeer", "kind": "BGPPeer"},
                 "versions": [{"name": "v1beta2", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
    let (s, v) = post(
        &app,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        crd,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Established")));
    let (s, _) = post(
        &app,
        "/apis/metallb.io/v1beta2/namespaces/default/bgppeers",
        json!({"metadata": {"name": "peer"}, "spec": {"peerASN": 64500}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = get(&app, "/apis/metallb.io/v1beta2").await;
    assert_eq!(
        (s, v["resources"][0]["kind"].as_str()),
        (StatusCode::OK, Some("BGPPeer"))
    );

    let (_, owner) = post(
        &app,
        "/apis/apps/v1/namespaces/default/daemonsets",
        json!({"metadata": {"name": "speaker"}, "spec": {}}),
    )
    .await;
    let uid = owner["metadata"]["uid"].clone();
    let (s, _) = post(&app, "/api/v1/namespaces/default/pods", json!({"metadata": {"name": "speaker-1",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "speaker", "uid": uid}]}, "spec": {"containers": []}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = call(
        &app,
        "DELETE",
        "/apis/apps/v1/namespaces/default/daemonsets/speaker",
        "application/json",
        r#"{"propagationPolicy":"Background"}"#,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get(&app, "/api/v1/namespaces/default/pods/speaker-1").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "owned pod deleted with its owner");
}

#[tokio::test]
async fn dry_run_changes_nothing_and_system_namespaces_stay() {
    let app = app();
    let (s, v) = post(
        &app,
        "/api/v1/namespaces/default/configmaps?dryRun=All",
        json!({"metadata": {"name": "dry"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = get(&app, "/api/v1/namespaces/default/configmaps/dry").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, v) = call(
        &app,
        "DELETE",
        "/api/v1/namespaces/default",
        "",
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        v["message"],
        "namespaces \"default\" is forbidden: this namespace may not be deleted"
    );
    let (s, _, _) = call(
        &app,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/vnd.kubernetes.protobuf",
        "k8s\0",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn scale_subresource() {
    let app = app();
    let deploy =
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}});
    let (s, d) = post(&app, "/apis/apps/v1/namespaces/default/deployments", deploy).await;
    assert_eq!(
        (s, d["spec"]["replicas"].as_i64()),
        (StatusCode::CREATED, Some(1))
    );
    let (s, scale) = get(
        &app,
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
    )
    .await;
    assert_eq!(
        (
            s,
            scale["kind"].as_str(),
            scale["status"]["selector"].as_str()
        ),
        (StatusCode::OK, Some("Scale"), Some("app=web"))
    );
    let body = r#"{"spec":{"replicas":4}}"#;
    let (s, _, scale) = call(
        &app,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "application/merge-patch+json",
        body,
        "",
    )
    .await;
    assert_eq!(
        (s, scale["spec"]["replicas"].as_i64()),
        (StatusCode::OK, Some(4))
    );
    let (_, d) = get(&app, "/apis/apps/v1/namespaces/default/deployments/web").await;
    assert_eq!(d["spec"]["replicas"], 4);
    let (s, _) = get(&app, "/api/v1/namespaces/default/configmaps/x/scale").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The Table (`kubectl get`) columns and cells of a list, as text: one line per column
/// definition, then the cells of each row. Age cells depend on the clock and are masked.
fn table_text(t: &Value) -> String {
    let cols = t["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = String::new();
    for c in &cols {
        out.push_str(&format!(
            "column {:?} type={} format={:?} priority={}\n",
            c["name"].as_str().unwrap_or_default(),
            c["type"].as_str().unwrap_or_default(),
            c["format"].as_str().unwrap_or_default(),
            c["priority"]
        ));
    }
    for row in t["rows"].as_array().into_iter().flatten() {
        let cells: Vec<String> = row["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&cols)
            .map(|(cell, col)| {
                if ["Age", "Last Seen", "First Seen"]
                    .contains(&col["name"].as_str().unwrap_or_default())
                {
                    "<age>".to_string()
                } else {
                    cell.to_string()
                }
            })
            .collect();
        out.push_str(&format!("row {}\n", cells.join(" | ")));
        assert!(
            row["object"]["metadata"]["name"].is_string(),
            "each row carries its object's metadata (kubectl -o name, label columns): {row}"
        );
    }
    out
}

#[tokio::test]
async fn table_responses_match_their_snapshots() {
    let app = app();
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let created = [
        (
            "/api/v1/namespaces",
            json!({"metadata": {"name": "metallb-system"}}),
        ),
        (
            "/api/v1/nodes",
            json!({"metadata": {"name": "minikube", "labels": {"kubernetes.io/hostname": "minikube"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.0"},
                       "addresses": [{"type": "InternalIP", "address": "127.0.1.1"}]}}),
        ),
        (
            "/api/v1/namespaces/default/pods",
            json!({"metadata": {"name": "speaker-x7k2p", "labels": {"app": "metallb"}},
            "spec": {"nodeName": "minikube", "containers": [{"name": "speaker", "image": "metallb/speaker:v0.6.2"}]}}),
        ),
        (
            "/api/v1/namespaces/default/services",
            json!({"metadata": {"name": "nginx"},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.50", "selector": {"app": "nginx"},
                     "ports": [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"}]}}),
        ),
        (
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "config"}, "data": {"config": "peers: []", "x": "y"}}),
        ),
        (
            "/api/v1/namespaces/default/secrets",
            json!({"metadata": {"name": "memberlist"}, "type": "Opaque", "data": {"key": "c2VjcmV0"}}),
        ),
        (
            "/api/v1/namespaces/default/serviceaccounts",
            json!({"metadata": {"name": "controller"}}),
        ),
        (
            "/api/v1/namespaces/default/events",
            json!({"metadata": {"name": "nginx.1"},
            "involvedObject": {"kind": "Service", "namespace": "default", "name": "nginx"},
            "reason": "IPAllocated", "message": "Assigned IP \"198.51.100.0\"", "type": "Normal", "count": 1,
            "source": {"component": "metallb-controller"}}),
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            json!({"metadata": {"name": "controller"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "metallb"}},
                     "template": {"metadata": {"labels": {"app": "metallb"}},
                                  "spec": {"containers": [{"name": "controller", "image": "metallb/controller:v0.6.2"}]}}}}),
        ),
        (
            "/apis/apps/v1/namespaces/default/replicasets",
            json!({"metadata": {"name": "controller-5d8f"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "metallb"}},
                     "template": {"metadata": {"labels": {"app": "metallb"}},
                                  "spec": {"containers": [{"name": "controller", "image": "metallb/controller:v0.6.2"}]}}}}),
        ),
        (
            "/apis/apps/v1/namespaces/default/daemonsets",
            json!({"metadata": {"name": "speaker"},
            "spec": {"selector": {"matchLabels": {"app": "speaker"}},
                     "template": {"metadata": {"labels": {"app": "speaker"}},
                                  "spec": {"containers": [{"name": "speaker", "image": "metallb/speaker:v0.6.2"}]}}}}),
        ),
    ];
    for (uri, body) in created {
        let (s, v) = post(&app, uri, body).await;
        assert_eq!(s, StatusCode::CREATED, "{uri}: {v}");
    }
    let mut text = String::new();
    for (name, uri) in [
        ("namespaces", "/api/v1/namespaces"),
        ("nodes", "/api/v1/nodes"),
        ("pods", "/api/v1/namespaces/default/pods"),
        ("services", "/api/v1/namespaces/default/services"),
        ("configmaps", "/api/v1/namespaces/default/configmaps"),
        ("secrets", "/api/v1/namespaces/default/secrets"),
        (
            "serviceaccounts",
            "/api/v1/namespaces/default/serviceaccounts",
        ),
        ("events", "/api/v1/namespaces/default/events"),
        (
            "deployments",
            "/apis/apps/v1/namespaces/default/deployments",
        ),
        (
            "replicasets",
            "/apis/apps/v1/namespaces/default/replicasets",
        ),
        ("daemonsets", "/apis/apps/v1/namespaces/default/daemonsets"),
        // A resource without columns of its own: Name and Age.
        ("endpoints", "/api/v1/namespaces/default/endpoints"),
    ] {
        let (s, _, t) = call(&app, "GET", uri, "", Body::empty(), table).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {t}");
        assert_eq!(t["kind"], "Table", "{uri}: {t}");
        text.push_str(&format!("## {name} ({uri})\n{}\n", table_text(&t)));
    }
    crate::support::snapshot("lab_api_tables", &text);
}
