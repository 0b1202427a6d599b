//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as the typed clients send them
//! (`kubectl create namespace|configmap|secret|deployment|service ...`, client-go).
//!
//! A body is the `k8s\0` magic followed by a `runtime.Unknown` message whose `typeMeta` names the
//! kind and whose `raw` bytes are the object. The object is decoded, field by field, against the
//! message layouts of the upstream `generated.proto` files (vendored in `proto/`, read by
//! [`schema`]) into the JSON value the same object has in the JSON wire format; from there it is
//! handled exactly like a JSON body.
//!
//! Why a reader over the upstream `.proto` files rather than a crate: k8s-openapi has no protobuf
//! support, and the kube-rs prost bindings (k8s-pb) give prost structs with no serde, so a second
//! hand-written mapping for every kind would still be needed to get JSON. The upstream files carry
//! the field numbers and JSON names (go-to-protobuf names fields by their JSON tags), so one
//! generic walk covers every kind, and the few types with a custom JSON form (Time, Quantity,
//! IntOrString, RawExtension, ...) are mapped by name.
//!
//! Zero values: the Go marshaller writes every non-pointer field, zero or not; the JSON encoder
//! omits them (`omitempty`). So a zero scalar (`""`, `0`, `false`) is dropped like the JSON
//! encoder would, except for the pointer fields in [`POINTER_SCALARS`], where an explicit zero
//! means something (`replicas: 0`).

pub mod schema;
pub mod wire;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use schema::{Field, FieldType, Label, Schema};
use wire::{Reader, Value as Wire, WireError};

/// The four bytes in front of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Messages may nest (JSONSchemaProps); deeper bodies are refused rather than recursed into.
const MAX_DEPTH: usize = 100;

/// Why a protobuf body could not be turned into JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The body does not start with `k8s\0`.
    #[error("protobuf body does not start with the k8s\\0 envelope")]
    NoEnvelope,
    /// Malformed wire data.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A field holds a value of the wrong wire type or content.
    #[error("protobuf field {field}: {reason}")]
    BadField { field: String, reason: String },
    /// The envelope names a kind whose layout the lab does not have.
    #[error("the lab API server cannot decode protobuf bodies of {api_version}, Kind={kind}; send it as JSON (kubectl create -f or apply -f)")]
    UnknownKind { api_version: String, kind: String },
    /// `runtime.Unknown` with a content encoding (e.g. gzip) the lab does not support.
    #[error("protobuf content encoding {0:?} is not supported")]
    ContentEncoding(String),
    #[error("protobuf message nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Fields declared as pointers in the Go types (so an explicit zero is kept) among the kinds the
/// lab serves. Every other zero scalar is dropped, as the JSON encoder's `omitempty` would.
pub(crate) const POINTER_SCALARS: &[(&str, &str)] = &[
    ("api.apps.v1.DeploymentSpec", "replicas"),
    ("api.apps.v1.DeploymentSpec", "revisionHistoryLimit"),
    ("api.apps.v1.DeploymentSpec", "progressDeadlineSeconds"),
    ("api.apps.v1.ReplicaSetSpec", "replicas"),
    ("api.apps.v1.StatefulSetSpec", "replicas"),
    ("api.apps.v1.DaemonSetSpec", "revisionHistoryLimit"),
    ("api.core.v1.PodSpec", "terminationGracePeriodSeconds"),
    ("api.core.v1.PodSpec", "activeDeadlineSeconds"),
    ("api.core.v1.PodSpec", "automountServiceAccountToken"),
    ("api.core.v1.PodSpec", "enableServiceLinks"),
    ("api.core.v1.PodSpec", "hostUsers"),
    ("api.core.v1.PodSpec", "priority"),
    ("api.core.v1.ServiceAccount", "automountServiceAccountToken"),
    ("api.core.v1.Secret", "immutable"),
    ("api.core.v1.ConfigMap", "immutable"),
    ("api.core.v1.ServiceSpec", "allocateLoadBalancerNodePorts"),
    ("api.core.v1.SecurityContext", "privileged"),
    ("api.core.v1.SecurityContext", "runAsUser"),
    ("api.core.v1.SecurityContext", "runAsGroup"),
    ("api.core.v1.SecurityContext", "runAsNonRoot"),
    ("api.core.v1.SecurityContext", "readOnlyRootFilesystem"),
    ("api.core.v1.SecurityContext", "allowPrivilegeEscalation"),
    ("api.core.v1.PodSecurityContext", "runAsUser"),
    ("api.core.v1.PodSecurityContext", "runAsGroup"),
    ("api.core.v1.PodSecurityContext", "runAsNonRoot"),
    ("api.core.v1.PodSecurityContext", "fsGroup"),
    ("api.core.v1.ConfigMapVolumeSource", "defaultMode"),
    ("api.core.v1.SecretVolumeSource", "defaultMode"),
    ("api.core.v1.KeyToPath", "mode"),
    ("api.core.v1.ConfigMapKeySelector", "optional"),
    ("api.core.v1.SecretKeySelector", "optional"),
    ("api.core.v1.ConfigMapEnvSource", "optional"),
    ("api.core.v1.SecretEnvSource", "optional"),
    ("api.core.v1.Probe", "terminationGracePeriodSeconds"),
    ("api.core.v1.Toleration", "tolerationSeconds"),
    (
        "apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "deletionGracePeriodSeconds",
    ),
    ("apimachinery.pkg.apis.meta.v1.OwnerReference", "controller"),
    (
        "apimachinery.pkg.apis.meta.v1.OwnerReference",
        "blockOwnerDeletion",
    ),
    ("api.coordination.v1.LeaseSpec", "leaseDurationSeconds"),
    ("api.coordination.v1.LeaseSpec", "leaseTransitions"),
    ("api.discovery.v1.EndpointConditions", "ready"),
    ("api.discovery.v1.EndpointConditions", "serving"),
    ("api.discovery.v1.EndpointConditions", "terminating"),
    ("api.discovery.v1.EndpointPort", "port"),
    ("api.events.v1.Event", "deprecatedCount"),
];

/// Fields of Go structs embedded inline (`json:",inline"`): go-to-protobuf gives them a field of
/// their own, JSON flattens their fields into the parent. (A unit test of `openapi` checks this
/// list against upstream's OpenAPI document.)
pub const INLINE: &[(&str, &str)] = &[
    ("api.core.v1.Volume", "volumeSource"),
    ("api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("api.core.v1.Probe", "handler"),
    ("api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
    ("api.core.v1.ConfigMapEnvSource", "localObjectReference"),
    ("api.core.v1.ConfigMapKeySelector", "localObjectReference"),
    ("api.core.v1.ConfigMapProjection", "localObjectReference"),
    ("api.core.v1.ConfigMapVolumeSource", "localObjectReference"),
    ("api.core.v1.SecretEnvSource", "localObjectReference"),
    ("api.core.v1.SecretKeySelector", "localObjectReference"),
    ("api.core.v1.SecretProjection", "localObjectReference"),
];

/// Is `field` of `message` embedded inline in the JSON form?
pub fn is_inline(message: &str, field: &str) -> bool {
    INLINE.contains(&(message, field))
}

/// The field of `message` whose JSON name is `key`, looking into inline fields too; with the
/// message that declares it.
pub fn field_by_json_name<'s>(message: &str, key: &str) -> Option<(String, &'s Field)> {
    let layout = schema::schema().messages.get(message)?;
    for f in layout.fields.values() {
        if f.inline {
            if let FieldType::Message(inner) = &f.ty {
                if let Some(found) = field_by_json_name(inner, key) {
                    return Some(found);
                }
            }
        } else if f.json == key {
            return Some((message.to_string(), f));
        }
    }
    None
}

/// The proto package of an `apiVersion`, for the groups whose layouts are vendored.
fn package(api_version: &str) -> Option<&'static str> {
    Some(match api_version {
        "v1" => "api.core.v1",
        "apps/v1" => "api.apps.v1",
        "autoscaling/v1" => "api.autoscaling.v1",
        "coordination.k8s.io/v1" => "api.coordination.v1",
        "discovery.k8s.io/v1" => "api.discovery.v1",
        "events.k8s.io/v1" => "api.events.v1",
        "policy/v1" => "api.policy.v1",
        "rbac.authorization.k8s.io/v1" => "api.rbac.v1",
        "apiextensions.k8s.io/v1" => "apiextensions_apiserver.pkg.apis.apiextensions.v1",
        "apiregistration.k8s.io/v1" => "kube_aggregator.pkg.apis.apiregistration.v1",
        _ => return None,
    })
}

const META: &str = "apimachinery.pkg.apis.meta.v1";

/// The full message name of a built-in kind (`api.core.v1.Service`), if its layout is vendored.
pub fn message_for(api_version: &str, kind: &str) -> Option<String> {
    let m = format!("{}.{kind}", package(api_version)?);
    schema::schema().messages.contains_key(&m).then_some(m)
}

/// Types whose JSON form is not an object of their proto fields (a string, a number, raw JSON,
/// a schema-or-something): leaves for anything that walks objects by their message layout.
pub fn is_opaque(message: &str) -> bool {
    let short = message.rsplit('.').next().unwrap_or(message);
    (message.starts_with(META)
        && matches!(
            short,
            "Time" | "MicroTime" | "Duration" | "FieldsV1" | "Verbs"
        ))
        || matches!(
            message,
            "apimachinery.pkg.runtime.RawExtension"
                | "apimachinery.pkg.api.resource.Quantity"
                | "apimachinery.pkg.util.intstr.IntOrString"
        )
        || (message.contains("apiextensions")
            && matches!(
                short,
                "JSON"
                    | "JSONSchemaPropsOrArray"
                    | "JSONSchemaPropsOrBool"
                    | "JSONSchemaPropsOrStringArray"
            ))
}

/// Does this body look like a Kubernetes protobuf body?
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|base| base.trim() == "application/vnd.kubernetes.protobuf")
}

/// Decode a `k8s\0`-enveloped protobuf object into its JSON form, `apiVersion` and `kind`
/// included.
pub fn decode(bytes: &[u8]) -> Result<Value, ProtoError> {
    let raw = bytes.strip_prefix(MAGIC).ok_or(ProtoError::NoEnvelope)?;
    let unknown = Unknown::read(raw)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtoError::ContentEncoding(unknown.content_encoding));
    }
    let schema = schema::schema();
    let unknown_kind = || ProtoError::UnknownKind {
        api_version: unknown.api_version.clone(),
        kind: unknown.kind.clone(),
    };
    // Options types (DeleteOptions, ...) travel with the group's apiVersion but live in meta/v1.
    let message = package(&unknown.api_version)
        .map(|p| format!("{p}.{}", unknown.kind))
        .filter(|m| schema.messages.contains_key(m))
        .or_else(|| {
            let m = format!("{META}.{}", unknown.kind);
            schema.messages.contains_key(&m).then_some(m)
        })
        .filter(|_| !unknown.kind.is_empty())
        .ok_or_else(unknown_kind)?;
    let Value::Object(fields) = Decoder { schema }.message(&message, unknown.raw, 0)? else {
        return Err(unknown_kind());
    };
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String(unknown.api_version));
    object.insert("kind".into(), Value::String(unknown.kind));
    object.extend(fields);
    Ok(Value::Object(object))
}

/// `runtime.Unknown`: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3,
/// contentType = 4.
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
}

impl<'a> Unknown<'a> {
    fn read(buf: &'a [u8]) -> Result<Self, ProtoError> {
        let mut u = Unknown {
            api_version: String::new(),
            kind: String::new(),
            raw: &[],
            content_encoding: String::new(),
        };
        let mut r = Reader::new(buf);
        while let Some((number, value)) = r.next_field()? {
            match (number, value) {
                (1, Wire::Bytes(meta)) => {
                    let mut m = Reader::new(meta);
                    while let Some((n, v)) = m.next_field()? {
                        match (n, v) {
                            (1, Wire::Bytes(b)) => u.api_version = text("typeMeta.apiVersion", b)?,
                            (2, Wire::Bytes(b)) => u.kind = text("typeMeta.kind", b)?,
                            _ => {}
                        }
                    }
                }
                (2, Wire::Bytes(b)) => u.raw = b,
                (3, Wire::Bytes(b)) => u.content_encoding = text("contentEncoding", b)?,
                _ => {}
            }
        }
        Ok(u)
    }
}

fn text(field: &str, b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtoError::BadField {
        field: field.to_string(),
        reason: "string is not UTF-8".into(),
    })
}

fn bad(field: &Field, reason: &str) -> ProtoError {
    ProtoError::BadField {
        field: field.name.clone(),
        reason: reason.to_string(),
    }
}

/// The JSON name of a proto field: go-to-protobuf names fields by their JSON tag, except where
/// the tag is not an identifier (JSONSchemaProps' `$ref`, `$schema`, `x-kubernetes-*`).
pub fn json_name(message: &str, field: &str) -> String {
    if message.ends_with("apiextensions.v1.JSONSchemaProps") {
        match field {
            "ref" => return "$ref".into(),
            "schema" => return "$schema".into(),
            _ => {}
        }
        if let Some(rest) = field.strip_prefix("xKubernetes") {
            let mut out = String::from("x-kubernetes");
            for c in rest.chars() {
                if c.is_ascii_uppercase() {
                    out.push('-');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            return out;
        }
    }
    field.to_string()
}

struct Decoder<'s> {
    schema: &'s Schema,
}

impl Decoder<'_> {
    /// One message as JSON. Most become objects; the types with a custom JSON form become
    /// strings, numbers, booleans or arrays, and `Null` means "absent" (a zero Time).
    fn message(&self, name: &str, buf: &[u8], depth: usize) -> Result<Value, ProtoError> {
        if depth > MAX_DEPTH {
            return Err(ProtoError::TooDeep);
        }
        let Some(message) = self.schema.messages.get(name) else {
            return Err(ProtoError::BadField {
                field: name.to_string(),
                reason: "message layout not vendored".into(),
            });
        };
        // Decode generically first; special forms are built from the generic result.
        let mut out = Map::new();
        let mut r = Reader::new(buf);
        while let Some((number, value)) = r.next_field()? {
            let Some(field) = message.field(number) else {
                // Unknown fields are skipped, as the Go unmarshaller does.
                continue;
            };
            match field.label {
                Label::Optional => {
                    // Zero scalars of non-pointer fields are dropped, as `omitempty` would.
                    if !field.keep_zero && is_zero_wire(&field.ty, value) {
                        out.remove(&field.json);
                        continue;
                    }
                    let v = self.single(field, value, depth)?;
                    if field.inline {
                        if let Value::Object(fields) = v {
                            out.extend(fields);
                        }
                        continue;
                    }
                    let key = field.json.clone();
                    match (out.get_mut(&key), v) {
                        // A repeated occurrence of an embedded message merges into it.
                        (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
                        (_, v) => {
                            out.insert(key, v);
                        }
                    }
                }
                Label::Repeated => {
                    let key = field.json.clone();
                    let items = out.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                    let Value::Array(items) = items else {
                        return Err(bad(field, "repeated and single"));
                    };
                    match (&field.ty, value) {
                        // Packed numbers (proto3 style) are accepted too.
                        (FieldType::Int32 | FieldType::Int64 | FieldType::Bool, Wire::Bytes(b)) => {
                            let mut pr = Reader::new(b);
                            while !pr.is_empty() {
                                let v = pr.packed_varint()?;
                                items.push(self.single(field, Wire::Varint(v), depth)?);
                            }
                        }
                        _ => items.push(self.single(field, value, depth)?),
                    }
                }
                Label::Map => {
                    let Wire::Bytes(entry) = value else {
                        return Err(bad(field, "map entry is not length-delimited"));
                    };
                    let (k, v) = self.map_entry(field, entry, depth)?;
                    let map = out
                        .entry(field.json.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = map {
                        map.insert(k, v);
                    }
                }
            }
        }
        if message.special {
            if let Some(special) = special(name, &mut out)? {
                return Ok(special);
            }
        }
        // Special forms decoded to JSON null (a zero Time, a zero IntOrString) mean "absent".
        out.retain(|_, v| !v.is_null());
        Ok(Value::Object(out))
    }

    fn map_entry(
        &self,
        field: &Field,
        entry: &[u8],
        depth: usize,
    ) -> Result<(String, Value), ProtoError> {
        let mut key = String::new();
        let mut value = None;
        let mut r = Reader::new(entry);
        while let Some((n, v)) = r.next_field()? {
            match (n, v) {
                (1, Wire::Bytes(b)) => key = text(&field.name, b)?,
                (2, v) => value = Some(self.single(field, v, depth)?),
                _ => {}
            }
        }
        // A missing value is the zero value of its type; map values are never dropped.
        let value = match value {
            Some(v) => v,
            None => match &field.ty {
                FieldType::String | FieldType::Bytes => Value::String(String::new()),
                FieldType::Bool => Value::Bool(false),
                FieldType::Int32 | FieldType::Int64 | FieldType::Double => Value::from(0),
                FieldType::Message(m) => self.message(m, &[], depth + 1)?,
            },
        };
        Ok((key, value))
    }

    /// One value of a field (one element, for repeated fields).
    fn single(&self, field: &Field, value: Wire, depth: usize) -> Result<Value, ProtoError> {
        Ok(match (&field.ty, value) {
            (FieldType::String, Wire::Bytes(b)) => Value::String(text(&field.name, b)?),
            (FieldType::Bytes, Wire::Bytes(b)) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (FieldType::Bool, Wire::Varint(v)) => Value::Bool(v != 0),
            // int32 negatives are sign-extended to 64 bits on the wire.
            (FieldType::Int32, Wire::Varint(v)) => Value::from(v as i64 as i32),
            (FieldType::Int64, Wire::Varint(v)) => Value::from(v as i64),
            (FieldType::Double, Wire::Fixed64(v)) => Number::from_f64(f64::from_bits(v))
                .map(Value::Number)
                .ok_or_else(|| bad(field, "not a finite number"))?,
            (FieldType::Message(m), Wire::Bytes(b)) => self.message(m, b, depth + 1)?,
            _ => return Err(bad(field, "wrong wire type")),
        })
    }
}

/// A scalar's zero value as it is on the wire (`""`, `0`, `false`, empty bytes); messages are
/// never zero (an empty non-pointer struct is `{}` in JSON too).
fn is_zero_wire(ty: &FieldType, value: Wire) -> bool {
    match (ty, value) {
        (FieldType::Message(_), _) => false,
        (_, Wire::Varint(v)) | (_, Wire::Fixed64(v)) => v == 0,
        (_, Wire::Fixed32(v)) => v == 0,
        (_, Wire::Bytes(b)) => b.is_empty(),
    }
}

/// Raw JSON bytes (RawExtension, apiextensions JSON, FieldsV1) as a JSON value.
fn raw_json(name: &str, out: &Map<String, Value>, key: &str) -> Result<Value, ProtoError> {
    let Some(Value::String(b64)) = out.get(key) else {
        return Ok(Value::Null);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| ProtoError::BadField {
            field: name.into(),
            reason: e.to_string(),
        })?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| ProtoError::BadField {
        field: name.into(),
        reason: format!("raw bytes are not JSON: {e}"),
    })
}

/// The types whose JSON form is not an object of their fields.
fn special(name: &str, out: &mut Map<String, Value>) -> Result<Option<Value>, ProtoError> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let int = |k: &str| out.get(k).and_then(Value::as_i64).unwrap_or(0);
    Ok(Some(match (name, short) {
        (_, "Time" | "MicroTime") if name.starts_with(META) => {
            let (seconds, nanos) = (int("seconds"), int("nanos"));
            if seconds == 0 && nanos == 0 && out.is_empty() {
                // The Go marshaller writes a zero Time as an empty message: JSON null.
                return Ok(Some(Value::Null));
            }
            let ts =
                jiff::Timestamp::new(seconds, nanos as i32).map_err(|e| ProtoError::BadField {
                    field: name.into(),
                    reason: e.to_string(),
                })?;
            let text = if short == "Time" {
                format!("{:.0}", ts)
            } else {
                format!("{:.6}", ts)
            };
            Value::String(text)
        }
        (_, "Duration") if name.starts_with(META) => Value::String(go_duration(int("duration"))),
        (_, "FieldsV1") if name.starts_with(META) => raw_json(name, out, "Raw")?,
        (_, "Verbs") if name.starts_with(META) => out
            .remove("items")
            .unwrap_or_else(|| Value::Array(Vec::new())),
        ("apimachinery.pkg.runtime.RawExtension", _) => raw_json(name, out, "raw")?,
        ("apimachinery.pkg.api.resource.Quantity", _) => out
            .remove("string")
            .unwrap_or_else(|| Value::String(String::new())),
        ("apimachinery.pkg.util.intstr.IntOrString", _) => {
            if int("type") == 1 {
                out.remove("strVal")
                    .unwrap_or_else(|| Value::String(String::new()))
            } else {
                // The zero IntOrString (int 0) means "unset", as in the Go defaulting code.
                let v = int("intVal");
                if v == 0 {
                    Value::Null
                } else {
                    Value::from(v)
                }
            }
        }
        (_, "JSON") if name.contains("apiextensions") => raw_json(name, out, "raw")?,
        (_, "JSONSchemaPropsOrArray") => match out.remove("jSONSchemas") {
            Some(Value::Array(a)) if !a.is_empty() => Value::Array(a),
            _ => out.remove("schema").unwrap_or(Value::Null),
        },
        (_, "JSONSchemaPropsOrBool") => match out.remove("schema") {
            Some(schema) => schema,
            None => Value::Bool(out.get("allows").and_then(Value::as_bool).unwrap_or(false)),
        },
        (_, "JSONSchemaPropsOrStringArray") => match out.remove("property") {
            Some(Value::Array(a)) if !a.is_empty() => Value::Array(a),
            _ => out.remove("schema").unwrap_or(Value::Null),
        },
        _ => return Ok(None),
    }))
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `150ms`, `0s`.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let frac = |v: u64, unit: u64| {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            whole.to_string()
        } else {
            let digits = unit.to_string().len() - 1;
            let f = format!("{rest:0digits$}");
            format!("{whole}.{}", f.trim_end_matches('0'))
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", frac(n, 1_000));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", frac(n, 1_000_000));
    }
    let secs_total = n / 1_000_000_000;
    let h = secs_total / 3600;
    let m = (secs_total % 3600) / 60;
    let s = frac(n % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, m) => format!("{sign}{m}m{s}s"),
        (h, m) => format!("{sign}{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests;
