//! The message layouts of the upstream Kubernetes `generated.proto` files, read from the copies in
//! `proto/` once, on first use. Only the subset go-to-protobuf emits is understood: `package`,
//! `import`, `option`, top-level `message` blocks with `optional`/`repeated` fields and
//! `map<string, T>` fields. There are no enums, oneofs or nested messages in these files.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The vendored `.proto` files (see the README in `proto/`).
const FILES: &[&str] = &[
    include_str!("proto/apimachinery_pkg_api_resource.proto"),
    include_str!("proto/apimachinery_pkg_apis_meta_v1.proto"),
    include_str!("proto/apimachinery_pkg_runtime.proto"),
    include_str!("proto/apimachinery_pkg_runtime_schema.proto"),
    include_str!("proto/apimachinery_pkg_util_intstr.proto"),
    include_str!("proto/api_core_v1.proto"),
    include_str!("proto/api_apps_v1.proto"),
    include_str!("proto/api_autoscaling_v1.proto"),
    include_str!("proto/api_coordination_v1.proto"),
    include_str!("proto/api_discovery_v1.proto"),
    include_str!("proto/api_events_v1.proto"),
    include_str!("proto/api_policy_v1.proto"),
    include_str!("proto/api_rbac_v1.proto"),
    include_str!("proto/apiextensions-apiserver_pkg_apis_apiextensions_v1.proto"),
    include_str!("proto/kube-aggregator_pkg_apis_apiregistration_v1.proto"),
];

/// A scalar protobuf type, or a message named by its full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    Message(String),
}

/// How often a field occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Optional,
    Repeated,
    /// `map<string, T>`: on the wire a repeated entry message with key = 1 and value = 2.
    Map,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub label: Label,
    pub ty: FieldType,
    /// The JSON name (see `super::json_name`), filled in once all files are read.
    pub json: String,
    /// An explicit zero is kept (a pointer field in Go, see `super::POINTER_SCALARS`).
    pub keep_zero: bool,
    /// Embedded inline in the JSON form (see `super::INLINE`).
    pub inline: bool,
}

#[derive(Debug, Default)]
pub struct Message {
    /// Fields by their number.
    pub fields: HashMap<u32, Field>,
    /// The same fields indexed by number, for the decoder's hot path.
    pub slots: Vec<Option<Field>>,
    /// Its JSON form may not be an object of its fields (Time, Quantity, IntOrString, ...).
    pub special: bool,
}

impl Message {
    /// The field with this number.
    pub fn field(&self, number: u32) -> Option<&Field> {
        self.slots.get(number as usize).and_then(Option::as_ref)
    }
}

/// FNV-1a: message names are looked up once per nested message while decoding, and SipHash's
/// flooding resistance buys nothing for a fixed, compiled-in key set.
#[derive(Default, Clone, Copy)]
pub struct Fnv;

pub struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::fmt::Debug for Fnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fnv")
    }
}

/// Every message of the vendored files, by full name (`api.core.v1.ConfigMap`).
#[derive(Debug, Default)]
pub struct Schema {
    pub messages: HashMap<String, Message, Fnv>,
}

/// A line of a vendored file that the reader does not understand: a bug in the vendored copy,
/// caught by the unit test that loads them all.
#[derive(Debug, thiserror::Error)]
#[error("proto line {line}: cannot read {text:?}")]
pub struct SchemaError {
    pub line: usize,
    pub text: String,
}

/// The schema of all vendored files, parsed on first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = Schema::default();
        for file in FILES {
            // The files are compiled in and checked by a unit test; a failure here is a bug in
            // them, so the file is skipped instead of taking the server down.
            if let Err(e) = parse_into(file, &mut schema) {
                tracing::error!("vendored protobuf schema: {e}");
            }
        }
        finish(&mut schema);
        schema
    })
}

/// Fill in what the decoder needs per field: JSON names, pointer and inline flags, slots.
fn finish(schema: &mut Schema) {
    for (name, message) in schema.messages.iter_mut() {
        for field in message.fields.values_mut() {
            field.json = super::json_name(name, &field.name);
            field.keep_zero =
                super::POINTER_SCALARS.contains(&(name.as_str(), field.json.as_str()));
            field.inline = super::is_inline(name, &field.name);
        }
        let short = name.rsplit('.').next().unwrap_or(name);
        message.special = name.starts_with("apimachinery.") || short.starts_with("JSON");
        let len = message.fields.keys().max().map_or(0, |m| *m as usize + 1);
        message.slots = vec![None; len];
        for (number, field) in &message.fields {
            message.slots[*number as usize] = Some(field.clone());
        }
    }
}

fn scalar(name: &str) -> Option<FieldType> {
    Some(match name {
        "string" => FieldType::String,
        "bytes" => FieldType::Bytes,
        "bool" => FieldType::Bool,
        "int32" => FieldType::Int32,
        "int64" => FieldType::Int64,
        "double" => FieldType::Double,
        _ => return None,
    })
}

/// Resolve a type reference: a scalar, a full name (`apimachinery.pkg...Time`, with or without a
/// leading dot) or a name in the file's own package.
fn resolve(name: &str, package: &str) -> FieldType {
    if let Some(s) = scalar(name) {
        return s;
    }
    let name = name.trim_start_matches('.');
    if name.contains('.') {
        FieldType::Message(name.to_string())
    } else {
        FieldType::Message(format!("{package}.{name}"))
    }
}

/// Parse one file's messages into `schema`.
pub fn parse_into(text: &str, schema: &mut Schema) -> Result<(), SchemaError> {
    let mut package = String::new();
    let mut current: Option<(String, Message)> = None;
    let mut in_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if in_comment {
            in_comment = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_comment = !line.contains("*/");
            continue;
        }
        if line.is_empty()
            || line.starts_with("//")
            || line.starts_with("syntax")
            || line.starts_with("import")
            || line.starts_with("option ")
        {
            continue;
        }
        let err = || SchemaError {
            line: i + 1,
            text: raw.to_string(),
        };
        if let Some(rest) = line.strip_prefix("package ") {
            package = rest.trim_end_matches(';').trim().to_string();
        } else if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.trim_end_matches('{').trim();
            if current.is_some() || name.is_empty() {
                return Err(err());
            }
            current = Some((format!("{package}.{name}"), Message::default()));
        } else if line == "}" {
            let (name, message) = current.take().ok_or_else(err)?;
            schema.messages.insert(name, message);
        } else {
            let (_, message) = current.as_mut().ok_or_else(err)?;
            let (number, field) = parse_field(line, &package).ok_or_else(err)?;
            message.fields.insert(number, field);
        }
    }
    match current {
        Some((name, _)) => Err(SchemaError {
            line: 0,
            text: format!("message {name} is not closed"),
        }),
        None => Ok(()),
    }
}

/// `optional string name = 1;`, `repeated Foo items = 2;`, `map<string, Bar> data = 3;`
fn parse_field(line: &str, package: &str) -> Option<(u32, Field)> {
    let line = line.strip_suffix(';')?;
    let (decl, number) = line.rsplit_once('=')?;
    let number: u32 = number.trim().parse().ok()?;
    let decl = decl.trim();
    let (label, ty, name) = if let Some(rest) = decl.strip_prefix("map<") {
        let (types, name) = rest.split_once('>')?;
        let (key, value) = types.split_once(',')?;
        if key.trim() != "string" {
            return None;
        }
        (Label::Map, resolve(value.trim(), package), name.trim())
    } else {
        let mut parts = decl.split_whitespace();
        let label = match parts.next()? {
            "optional" => Label::Optional,
            "repeated" => Label::Repeated,
            _ => return None,
        };
        let ty = resolve(parts.next()?, package);
        let name = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        (label, ty, name)
    };
    if name.is_empty() {
        return None;
    }
    Some((
        number,
        Field {
            name: name.to_string(),
            label,
            ty,
            json: String::new(),
            keep_zero: false,
            inline: false,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_file_parses_and_every_reference_resolves() {
        let mut schema = Schema::default();
        for file in FILES {
            parse_into(file, &mut schema).unwrap();
        }
        assert!(schema.messages.len() > 300, "{}", schema.messages.len());
        for (name, message) in &schema.messages {
            for field in message.fields.values() {
                if let FieldType::Message(m) = &field.ty {
                    assert!(
                        schema.messages.contains_key(m),
                        "{name}.{} refers to unknown {m}",
                        field.name
                    );
                }
            }
        }
        let cm = &schema.messages["api.core.v1.ConfigMap"];
        assert_eq!(cm.fields[&2].name, "data");
        assert_eq!(cm.fields[&2].label, Label::Map);
        assert_eq!(
            cm.fields[&1].ty,
            FieldType::Message("apimachinery.pkg.apis.meta.v1.ObjectMeta".into())
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        let mut schema = Schema::default();
        for bad in [
            "package p;\nmessage A {\n  optional string = 1;\n}\n",
            "package p;\nmessage A {\n  required string a = 1;\n}\n",
            "package p;\nmessage A {\n",
            "package p;\n}\n",
        ] {
            assert!(parse_into(bad, &mut schema).is_err(), "{bad}");
        }
    }
}
