//! The two Event APIs. kube-runtime's recorder writes `events.k8s.io/v1` Events, while
//! `kubectl describe` reads only `core/v1` Events. A real API server stores one object and
//! serves both; the lab mirrors each `events.k8s.io/v1` write into a `core/v1` Event with the
//! same name, namespace and uid (the reverse direction is not mirrored).

use serde_json::{json, Map, Value};

/// The storage key of events.k8s.io/v1 events.
pub const NEW_EVENTS: &str = "events.k8s.io/v1/events";
/// The storage key of core/v1 events.
pub const CORE_EVENTS: &str = "/v1/events";

fn put(map: &mut Map<String, Value>, key: &str, v: &Value) {
    if !v.is_null() {
        map.insert(key.into(), v.clone());
    }
}

/// Convert an events.k8s.io/v1 Event into its core/v1 form.
pub fn to_core(ev: &Value) -> Value {
    let mut metadata = ev["metadata"].clone();
    if let Some(m) = metadata.as_object_mut() {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    out.insert("metadata".into(), metadata);
    put(&mut out, "involvedObject", &ev["regarding"]);
    put(&mut out, "related", &ev["related"]);
    put(&mut out, "reason", &ev["reason"]);
    put(&mut out, "message", &ev["note"]);
    put(&mut out, "type", &ev["type"]);
    put(&mut out, "action", &ev["action"]);
    put(&mut out, "eventTime", &ev["eventTime"]);
    put(&mut out, "reportingComponent", &ev["reportingController"]);
    put(&mut out, "reportingInstance", &ev["reportingInstance"]);
    put(&mut out, "series", &ev["series"]);
    let component = ev["reportingController"].clone();
    let host = ev["deprecatedSource"]["host"].clone();
    let mut source = Map::new();
    put(
        &mut source,
        "component",
        &ev["deprecatedSource"]["component"],
    );
    if !source.contains_key("component") {
        put(&mut source, "component", &component);
    }
    put(&mut source, "host", &host);
    out.insert("source".into(), Value::Object(source));
    let last = [
        &ev["deprecatedLastTimestamp"],
        &ev["series"]["lastObservedTime"],
        &ev["eventTime"],
    ]
    .into_iter()
    .find(|v| v.is_string())
    .cloned()
    .unwrap_or(Value::Null);
    let first = if ev["deprecatedFirstTimestamp"].is_string() {
        ev["deprecatedFirstTimestamp"].clone()
    } else {
        ev["eventTime"].clone()
    };
    put(&mut out, "firstTimestamp", &first);
    put(&mut out, "lastTimestamp", &last);
    let count = ev["series"]["count"]
        .as_u64()
        .or(ev["deprecatedCount"].as_u64())
        .unwrap_or(1);
    out.insert("count".into(), json!(count));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_event_becomes_core_event() {
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "nginx.1", "namespace": "default", "uid": "u", "resourceVersion": "5"},
            "regarding": {"kind": "Service", "name": "nginx", "namespace": "default", "uid": "s"},
            "note": "Assigned IP", "reason": "IPAllocated", "type": "Normal",
            "reportingController": "metallb-controller", "eventTime": "2026-01-01T00:00:00.000000Z",
            "series": {"count": 3, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}});
        let core = to_core(&ev);
        assert_eq!(core["involvedObject"]["uid"], "s");
        assert_eq!(core["message"], "Assigned IP");
        assert_eq!(core["source"]["component"], "metallb-controller");
        assert_eq!(core["count"], 3);
        assert_eq!(core["lastTimestamp"], "2026-01-01T00:01:00.000000Z");
        assert!(core["metadata"].get("resourceVersion").is_none());
    }
}
