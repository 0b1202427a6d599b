//! The 400 for a create or update body that is not an object, worded as the real API server
//! words it, so clients and people see the same text against the lab and a cluster:
//!
//! ```text
//! the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input ({"metadata":)
//! the object provided is unrecognized (must be of type ConfigMap): error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']' (613a205b62)
//! ```
//!
//! The cause is Go's `encoding/json` or `yaml` wording where a serde error maps onto one; the
//! parenthesis summarizes the body as the real server does (its first 30 bytes, in hex unless
//! it starts with `{`).

use serde_json::Value;

use super::error::ApiError;
use super::{body, protobuf};

/// How many bytes of the body the message quotes.
const SUMMARY_BYTES: usize = 30;

/// Decode a create or replace body that must be an object of `kind`.
pub fn object_body(bytes: &[u8], content_type: &str, kind: &str) -> Result<Value, ApiError> {
    let yaml = content_type
        .split(';')
        .next()
        .is_some_and(|base| base.trim().ends_with("yaml"));
    let cause = match body::decode(bytes, content_type) {
        Ok(v) if v.is_object() || v.is_null() => return Ok(v),
        // A protobuf body's decode error already names what is wrong with it.
        Err(e) if protobuf::is_protobuf(content_type) => return Err(e),
        Ok(v) => format!(
            "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
            go_type(&v)
        ),
        Err(ApiError::BadRequest(_)) if yaml && !blank(bytes) => yaml_cause(bytes),
        Err(ApiError::BadRequest(_)) => format!(
            "couldn't get version/kind; json parse error: {}",
            json_cause(bytes)
        ),
        Err(other) => return Err(other),
    };
    Err(ApiError::BadRequest(format!(
        "the object provided is unrecognized (must be of type {kind}): {cause} ({})",
        summary(bytes)
    )))
}

fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Bool(_) => "bool",
        Value::Object(_) | Value::Null => "object",
    }
}

/// The real server's `summarizeData`.
fn summary(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(SUMMARY_BYTES)];
    let more = if bytes.len() > SUMMARY_BYTES {
        " ..."
    } else {
        ""
    };
    match bytes.first() {
        None => "<empty>".to_string(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(head)),
        Some(_) => {
            let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}{more}")
        }
    }
}

/// Go's `encoding/json` message for the first syntax error in `bytes`.
fn json_cause(bytes: &[u8]) -> String {
    let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) else {
        return "unexpected end of JSON input".into();
    };
    if e.is_eof() {
        return "unexpected end of JSON input".into();
    }
    let text = e.to_string();
    let context = [
        ("expected value", "looking for beginning of value"),
        ("expected ident", "in literal"),
        ("expected `:`", "after object key"),
        ("expected `,` or `}`", "after object key:value pair"),
        (
            "key must be a string",
            "looking for beginning of object key string",
        ),
        ("expected `,` or `]`", "after array element"),
        ("trailing characters", "after top-level value"),
        ("trailing comma", "looking for beginning of value"),
    ]
    .iter()
    .find(|(serde, _)| text.starts_with(serde))
    .map(|(_, go)| *go);
    match (context, offending(bytes, e.line(), e.column())) {
        (Some(go), Some(c)) => format!("invalid character {} {go}", quote_char(c)),
        _ => text,
    }
}

/// The character at a serde_json error position (1-based line, 1-based column in bytes).
fn offending(bytes: &[u8], line: usize, column: usize) -> Option<char> {
    let start: usize = bytes
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    let at = start + column.saturating_sub(1);
    let rest = bytes.get(at..)?;
    let valid = match std::str::from_utf8(rest) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).ok()?,
    };
    valid.chars().next()
}

fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c if c.is_control() => format!("'\\x{:02x}'", u32::from(c)),
        c => format!("'{c}'"),
    }
}

/// `error converting YAML to JSON: yaml: line N: <problem>`, as sigs.k8s.io/yaml says it.
fn yaml_cause(bytes: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return "error converting YAML to JSON: yaml: invalid leading UTF-8 octet".into();
    };
    match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(_) => "error converting YAML to JSON: yaml: the body is not a mapping".into(),
        Err(e) => {
            let message = e.to_string();
            let problem = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .trim_end_matches(',');
            match e.location() {
                Some(at) => format!(
                    "error converting YAML to JSON: yaml: line {}: {problem}",
                    at.line()
                ),
                None => format!("error converting YAML to JSON: yaml: {problem}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str, ct: &str) -> String {
        match object_body(body.as_bytes(), ct, "ConfigMap") {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{body:?}: {other:?}"),
        }
    }

    #[test]
    fn json_syntax_errors_read_like_the_real_server() {
        let p = "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: ";
        for (body, cause) in [
            ("{", "unexpected end of JSON input ({)"),
            (
                "{\"a\" 1}",
                "invalid character '1' after object key ({\"a\" 1})",
            ),
            (
                "{\"a\":1 \"b\"}",
                "invalid character '\"' after object key:value pair ({\"a\":1 \"b\"})",
            ),
            (
                "[1,2",
                "unexpected end of JSON input (5b312c32)",
            ),
            (
                "x",
                "invalid character 'x' looking for beginning of value (78)",
            ),
            (
                "\"s\"",
                "json: cannot unmarshal string into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" } (227322)",
            ),
            ("", "unexpected end of JSON input (<empty>)"),
        ] {
            assert_eq!(message(body, "application/json"), format!("{p}{cause}"));
        }
        let long = format!("{{\"metadata\": {}", "x".repeat(40));
        assert!(
            message(&long, "application/json").ends_with("({\"metadata\": xxxxxxxxxxxxxxxxx ...)")
        );
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let m = message("a: 1\nb: [c", "application/yaml");
        assert!(
            m.starts_with("the object provided is unrecognized (must be of type ConfigMap): error converting YAML to JSON: yaml: line "),
            "{m}"
        );
        assert!(
            m.ends_with(": did not find expected ',' or ']' (613a20310a623a205b63)"),
            "{m}"
        );
    }

    #[test]
    fn objects_pass_and_other_errors_keep_their_code() {
        assert!(object_body(b"{\"a\":1}", "application/json", "ConfigMap").is_ok());
        // A protobuf body that is not a `k8s\0` envelope: the decoder's own 400, not the JSON
        // parser's wording.
        let err = object_body(b"{}", "application/vnd.kubernetes.protobuf", "ConfigMap")
            .expect_err("not a protobuf envelope");
        assert_eq!(err.code(), 400);
        assert!(err.to_string().contains("protobuf"), "{err}");
    }
}
