use super::*;
use serde_json::json;
use wire::encode;

/// `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
pub(crate) fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut meta = Vec::new();
    encode::bytes(&mut meta, 1, api_version.as_bytes());
    encode::bytes(&mut meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    encode::bytes(&mut out, 1, &meta);
    encode::bytes(&mut out, 2, raw);
    encode::bytes(&mut out, 3, b"");
    encode::bytes(&mut out, 4, b"");
    out
}

fn object_meta(name: &str, namespace: &str) -> Vec<u8> {
    let mut m = Vec::new();
    encode::bytes(&mut m, 1, name.as_bytes());
    encode::bytes(&mut m, 2, b""); // generateName, zero
    encode::bytes(&mut m, 3, namespace.as_bytes());
    encode::uint(&mut m, 7, 0); // generation, zero
    encode::bytes(&mut m, 8, b""); // creationTimestamp, zero Time
    m
}

#[test]
fn config_map_with_zero_fields_decodes_like_its_json() {
    let mut cm = Vec::new();
    encode::bytes(&mut cm, 1, &object_meta("cfg", "default"));
    for (k, v) in [("a", "1"), ("empty", "")] {
        let mut entry = Vec::new();
        encode::bytes(&mut entry, 1, k.as_bytes());
        encode::bytes(&mut entry, 2, v.as_bytes());
        encode::bytes(&mut cm, 2, &entry);
    }
    let mut entry = Vec::new();
    encode::bytes(&mut entry, 1, b"bin");
    encode::bytes(&mut entry, 2, &[0, 1, 2]);
    encode::bytes(&mut cm, 3, &entry);
    let v = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
    assert_eq!(
        v,
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "default"},
            "data": {"a": "1", "empty": ""},
            "binaryData": {"bin": "AAEC"},
        })
    );
}

#[test]
fn service_ports_int_or_string_and_pointer_zeros() {
    let mut port = Vec::new();
    encode::bytes(&mut port, 1, b"80-80");
    encode::bytes(&mut port, 2, b"TCP");
    encode::uint(&mut port, 3, 80);
    let mut target = Vec::new();
    encode::uint(&mut target, 1, 0);
    encode::uint(&mut target, 2, 8080);
    encode::bytes(&mut port, 4, &target);
    encode::uint(&mut port, 5, 0); // nodePort, zero: allocated by the server
    let mut spec = Vec::new();
    encode::bytes(&mut spec, 1, &port);
    encode::bytes(&mut spec, 4, b"LoadBalancer");
    encode::uint(&mut spec, 20, 0); // allocateLoadBalancerNodePorts: a pointer, false kept
    let mut svc = Vec::new();
    encode::bytes(&mut svc, 1, &object_meta("web", ""));
    encode::bytes(&mut svc, 2, &spec);
    encode::bytes(&mut svc, 3, &[]); // status: {}
    let v = decode(&envelope("v1", "Service", &svc)).unwrap();
    assert_eq!(
        v["spec"],
        json!({
            "ports": [{"name": "80-80", "protocol": "TCP", "port": 80, "targetPort": 8080}],
            "type": "LoadBalancer",
            "allocateLoadBalancerNodePorts": false,
        })
    );
    assert_eq!(v["status"], json!({}));
    assert_eq!(v["metadata"], json!({"name": "web"}));
}

#[test]
fn special_types_have_their_json_forms() {
    // Time, Quantity and a string IntOrString.
    let mut time = Vec::new();
    encode::uint(&mut time, 1, 1_700_000_000);
    let mut meta = object_meta("t", "");
    encode::bytes(&mut meta, 8, &time);
    let v = decode(&envelope(
        "v1",
        "Namespace",
        &[vec![0x0a, meta.len() as u8], meta].concat(),
    ))
    .unwrap();
    assert_eq!(v["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(go_duration(3_723_500_000_000), "1h2m3.5s");
    assert_eq!(go_duration(150_000_000), "150ms");
    assert_eq!(go_duration(90_000_000_000), "1m30s");
}

#[test]
fn unknown_kinds_and_bad_bodies_are_errors_not_panics() {
    assert!(matches!(
        decode(&envelope("batch/v1", "Job", &[])),
        Err(ProtoError::UnknownKind { .. })
    ));
    assert!(matches!(
        decode(&envelope("v1", "NoSuchKind", &[])),
        Err(ProtoError::UnknownKind { .. })
    ));
    assert!(matches!(decode(b"{}"), Err(ProtoError::NoEnvelope)));
    // A string field with a varint, a truncated length, bad UTF-8.
    for raw in [
        &[0x0a, 0x02, 0x08, 0x01][..],
        &[0x0a, 0x09],
        &[0x0a, 0x03, 0x0a, 0x01, 0xff],
    ] {
        assert!(
            decode(&envelope("v1", "ConfigMap", raw)).is_err(),
            "{raw:?}"
        );
    }
}

#[test]
fn deep_nesting_is_refused() {
    // JSONSchemaProps.items (JSONSchemaPropsOrArray.schema) nested far beyond MAX_DEPTH.
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..200 {
        let mut or_array = Vec::new();
        encode::bytes(&mut or_array, 1, &inner);
        let mut props = Vec::new();
        encode::bytes(&mut props, 24, &or_array);
        inner = props;
    }
    let schema = schema::schema();
    let r = Decoder { schema }.message(
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        &inner,
        0,
    );
    assert!(matches!(r, Err(ProtoError::TooDeep)));
}

/// Bodies captured from the real kubectl, against the same objects as kubectl prints them with
/// `--dry-run=client -o json` (tests/fixtures/kubectl-protobuf/README.md).
pub(crate) const KUBECTL_BODIES: &[(&str, &[u8], &str)] = &[
    (
        "deployment",
        include_bytes!("../../../../tests/fixtures/kubectl-protobuf/deployment.pb"),
        include_str!("../../../../tests/fixtures/kubectl-protobuf/deployment.json"),
    ),
    (
        "service",
        include_bytes!("../../../../tests/fixtures/kubectl-protobuf/service.pb"),
        include_str!("../../../../tests/fixtures/kubectl-protobuf/service.json"),
    ),
    (
        "configmap",
        include_bytes!("../../../../tests/fixtures/kubectl-protobuf/configmap.pb"),
        include_str!("../../../../tests/fixtures/kubectl-protobuf/configmap.json"),
    ),
    (
        "secret",
        include_bytes!("../../../../tests/fixtures/kubectl-protobuf/secret.pb"),
        include_str!("../../../../tests/fixtures/kubectl-protobuf/secret.json"),
    ),
];

/// JSON's `null` means "absent" (`creationTimestamp: null`).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        v => v,
    }
}

#[test]
fn kubectl_bodies_decode_to_what_kubectl_would_send_as_json() {
    for (name, pb, json) in KUBECTL_BODIES {
        let want: Value = serde_json::from_str(json).unwrap();
        let got = decode(pb).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, without_nulls(want), "{name}");
    }
}

#[test]
fn every_truncation_of_a_real_body_is_an_error_or_a_value_never_a_panic() {
    for (_, pb, _) in KUBECTL_BODIES {
        for end in 0..pb.len() {
            let _ = decode(&pb[..end]);
        }
    }
}
