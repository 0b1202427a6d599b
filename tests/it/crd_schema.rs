//! Our generated CustomResourceDefinitions (`kube::crds`, from the Rust types) against
//! upstream MetalLB's, field by field: names, types, formats, defaults, ranges, enums,
//! required, CEL rules, versions and printer columns (tests/fixtures/crds/upstream-*.txt,
//! flattened from each release's metallb-native.yaml). The committed manifests must hold
//! exactly the generated CRDs.

use metallbctl::config::Version;
use metallbctl::kube::crds as api;
use serde_json::Value;

const RELEASES: &[(u8, &str)] = &[
    (13, "v0.13.12"),
    (14, "v0.14.9"),
    (15, "v0.15.3"),
    (16, "v0.16.1"),
];

/// Upstream CRDs our manifests leave out: the legacy AddressPool of v0.13 (deprecated there,
/// removed in v0.14; `validate` reports it as such).
const NOT_GENERATED: &[&str] = &["addresspools.metallb.io"];

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flat(schema: &Value, path: &str, out: &mut Vec<String>, required: bool) {
    let mut bits = vec![schema["type"].as_str().unwrap_or("any").to_string()];
    if let Some(f) = schema.get("format").and_then(Value::as_str) {
        bits.push(format!("format={f}"));
    }
    if let Some(d) = schema.get("default") {
        bits.push(format!("default={}", yaml_scalar(d)));
    }
    for k in [
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
    ] {
        if let Some(v) = schema.get(k) {
            bits.push(format!("{k}={}", yaml_scalar(v)));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        let items: Vec<String> = e.iter().map(yaml_scalar).collect();
        bits.push(format!("enum={}", items.join(",")));
    }
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        bits.push("preserve-unknown".into());
    }
    if schema["x-kubernetes-int-or-string"] == true {
        bits.push("int-or-string".into());
    }
    if required {
        bits.push("required".into());
    }
    if let Some(rules) = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        for r in rules {
            bits.push(format!("cel='{}'", r["rule"].as_str().unwrap_or_default()));
        }
    }
    out.push(format!("{path}: {}", bits.join(" ")));
    let req: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let mut keys: Vec<&String> = props.keys().collect();
        keys.sort();
        for k in keys {
            flat(
                &props[k],
                &format!("{path}.{k}"),
                out,
                req.contains(&k.as_str()),
            );
        }
    }
    if let Some(items) = schema.get("items") {
        flat(items, &format!("{path}[]"), out, false);
    }
    if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        flat(ap, &format!("{path}{{}}"), out, false);
    }
}

fn py_bool(v: &Value) -> &'static str {
    if v.as_bool().unwrap_or(false) {
        "True"
    } else {
        "False"
    }
}

/// The same flattening as the fixture's.
fn crd_lines(crd: &Value) -> Vec<String> {
    let s = &crd["spec"];
    let n = &s["names"];
    let mut out = vec![format!(
        "crd {} scope={} kind={} plural={} singular={} list={}",
        crd["metadata"]["name"].as_str().unwrap_or_default(),
        s["scope"].as_str().unwrap_or_default(),
        n["kind"].as_str().unwrap_or_default(),
        n["plural"].as_str().unwrap_or_default(),
        n["singular"].as_str().unwrap_or("None"),
        n["listKind"].as_str().unwrap_or("None"),
    )];
    for v in s["versions"].as_array().into_iter().flatten() {
        out.push(format!(
            "version {} served={} storage={} deprecated={} status={}",
            v["name"].as_str().unwrap_or_default(),
            py_bool(&v["served"]),
            py_bool(&v["storage"]),
            py_bool(&v["deprecated"]),
            if v["subresources"].get("status").is_some() {
                "True"
            } else {
                "False"
            },
        ));
        for c in v["additionalPrinterColumns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push(format!(
                "  column '{}' {} {} priority={}",
                c["name"].as_str().unwrap_or_default(),
                c["type"].as_str().unwrap_or_default(),
                c["jsonPath"].as_str().unwrap_or_default(),
                c["priority"].as_i64().unwrap_or(0),
            ));
        }
        let mut lines = Vec::new();
        flat(&v["schema"]["openAPIV3Schema"], "", &mut lines, false);
        out.extend(lines.into_iter().map(|l| format!("  {l}")));
    }
    out
}

/// Upstream's flattened CRDs, without those we do not generate and without `.metadata`
/// (kube's derive leaves ObjectMeta to the API server, as upstream does for most kinds).
fn upstream(tag: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crds")
        .join(format!("upstream-{tag}.txt"));
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut out = Vec::new();
    let mut skip = false;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("crd ") {
            skip = NOT_GENERATED.iter().any(|n| rest.starts_with(n));
        }
        if !skip && !line.starts_with("  .metadata") {
            out.push(line.to_string());
        }
    }
    out
}

fn generated(minor: u8) -> Vec<String> {
    api::crds(Version::v0(minor))
        .iter()
        .flat_map(crd_lines)
        .filter(|l| !l.starts_with("  .metadata"))
        .collect()
}

#[test]
fn generated_crds_match_upstream_field_by_field() {
    let mut failures = Vec::new();
    for (minor, tag) in RELEASES {
        let want = upstream(tag);
        let have = generated(*minor);
        if want != have {
            let missing: Vec<&String> = want.iter().filter(|l| !have.contains(l)).collect();
            let extra: Vec<&String> = have.iter().filter(|l| !want.contains(l)).collect();
            let first = want
                .iter()
                .zip(&have)
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(have.len()));
            failures.push(format!(
                "{tag}: first difference at line {first}: upstream {:?}, generated {:?}\n  upstream only:\n    {}\n  generated only:\n    {}",
                want.get(first),
                have.get(first),
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    "),
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
