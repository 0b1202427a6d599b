//! core/v1 Events as client-go's recorder writes them, so `kubectl describe` shows them as on
//! a real cluster: involvedObject (kind, namespace, name, uid, apiVersion, resourceVersion),
//! source.component, reason, message, type, first/last timestamps and a count. A repeat of
//! the same object, type, reason and message patches the count and lastTimestamp of the event
//! already written instead of creating another (client-go's `EventCorrelator` aggregation).
//!
//! Like client-go's correlator, the aggregation remembers the 4,096 most recently used keys,
//! so its memory stays bounded whatever the number of objects.
//!
//! Writes happen on a background task in publish order, so the component loop never waits
//! on them; a failed write is logged and dropped, as client-go does after its retries.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Event;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use serde_json::json;
use tokio::sync::mpsc;

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// `Service`, `ConfigMap`, ...
    pub kind: String,
    /// `v1`, ...
    pub api_version: String,
    /// The namespace (empty for cluster-scoped objects; the event then goes to `default`).
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The uid.
    pub uid: String,
    /// The resourceVersion when the event was raised.
    pub resource_version: String,
}

impl ObjectRef {
    /// A reference to `obj`.
    pub fn of<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectRef {
        let m = obj.meta();
        ObjectRef {
            kind: K::kind(&()).to_string(),
            api_version: K::api_version(&()).to_string(),
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            resource_version: m.resource_version.clone().unwrap_or_default(),
        }
    }
}

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something needs attention.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

struct Item {
    obj: ObjectRef,
    ty: EventType,
    reason: String,
    message: String,
}

/// Publishes events for one component (`metallb-controller`, `metallb-speaker`).
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Item>,
}

impl Recorder {
    /// A recorder writing through `client` with `source.component = component` (and
    /// `source.host = host`, for per-node components). Must be called inside a tokio runtime.
    pub fn new(client: Client, component: &str, host: Option<&str>) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            client,
            component: component.to_string(),
            host: host.map(str::to_string),
            seen: Recent::default(),
        };
        tokio::spawn(writer.run(rx));
        Recorder { tx }
    }

    /// Queue an event about `obj`.
    pub fn publish(&self, obj: &ObjectRef, ty: EventType, reason: &str, message: &str) {
        let _ = self.tx.send(Item {
            obj: obj.clone(),
            ty,
            reason: reason.to_string(),
            message: message.to_string(),
        });
    }
}

struct Seen {
    name: String,
    count: i32,
}

/// How many aggregation keys are remembered (client-go's `maxLruCacheEntries`).
const REMEMBERED: usize = 4096;

type AggKey = (ObjectRef, EventType, String, String);

/// The events written, by aggregation key: the [`REMEMBERED`] most recently used ones.
#[derive(Default)]
struct Recent {
    map: HashMap<AggKey, (Seen, u64)>,
    /// Keys in order of use, each with the use's stamp; an entry whose stamp is no longer the
    /// key's in `map` is stale and skipped.
    order: VecDeque<(u64, AggKey)>,
    stamp: u64,
}

impl Recent {
    fn touch(&mut self, key: &AggKey) -> u64 {
        self.stamp += 1;
        self.order.push_back((self.stamp, key.clone()));
        self.stamp
    }

    /// The event written for `key`, marked as used.
    fn get_mut(&mut self, key: &AggKey) -> Option<&mut Seen> {
        if !self.map.contains_key(key) {
            return None;
        }
        let stamp = self.touch(key);
        // The map takes the new stamp before a compaction looks at it: otherwise the
        // compaction drops the new entry of `order` as stale, and the key could never be
        // forgotten again.
        if let Some((_, s)) = self.map.get_mut(key) {
            *s = stamp;
        }
        self.compact();
        self.map.get_mut(key).map(|(seen, _)| seen)
    }

    /// Remember `seen` for `key`, forgetting the least recently used key past the bound.
    fn insert(&mut self, key: AggKey, seen: Seen) {
        let stamp = self.touch(&key);
        self.map.insert(key, (seen, stamp));
        while self.map.len() > REMEMBERED {
            let Some((s, k)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&k).is_some_and(|(_, cur)| *cur == s) {
                self.map.remove(&k);
            }
        }
        self.compact();
    }

    /// Drop stale entries of `order` once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * REMEMBERED.max(self.map.len()) {
            let map = &self.map;
            self.order
                .retain(|(s, k)| map.get(k).is_some_and(|(_, cur)| cur == s));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

struct Writer {
    client: Client,
    component: String,
    host: Option<String>,
    /// Aggregation key -> the event written for it.
    seen: Recent,
}

fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn event_name(obj_name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{obj_name}.{nanos:x}")
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Item>) {
        while let Some(item) = rx.recv().await {
            if let Err(e) = self.write(item).await {
                tracing::warn!(error = %e, "could not write event");
            }
        }
    }

    async fn write(&mut self, item: Item) -> Result<(), kube::Error> {
        let ns = if item.obj.namespace.is_empty() {
            "default".to_string()
        } else {
            item.obj.namespace.clone()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let now = now_rfc3339();
        // Aggregate on the object's identity (uid), not its resourceVersion, like client-go.
        let agg_key = (
            ObjectRef {
                resource_version: String::new(),
                ..item.obj.clone()
            },
            item.ty,
            item.reason.clone(),
            item.message.clone(),
        );
        if let Some(seen) = self.seen.get_mut(&agg_key) {
            let patch = json!({
                "count": seen.count + 1,
                "lastTimestamp": now,
                "message": item.message,
            });
            match api
                .patch(&seen.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    seen.count += 1;
                    return Ok(());
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let name = event_name(&item.obj.name);
        let mut source = json!({"component": self.component});
        if let Some(h) = &self.host {
            source["host"] = json!(h);
        }
        let ev = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {
                "kind": item.obj.kind,
                "apiVersion": item.obj.api_version,
                "namespace": item.obj.namespace,
                "name": item.obj.name,
                "uid": item.obj.uid,
                "resourceVersion": item.obj.resource_version,
            },
            "reason": item.reason,
            "message": item.message,
            "type": item.ty.as_str(),
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host.clone().unwrap_or_default(),
        });
        let ev: Event = serde_json::from_value(ev).map_err(kube::Error::SerdeError)?;
        api.create(&PostParams::default(), &ev).await?;
        self.seen.insert(agg_key, Seen { name, count: 1 });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> AggKey {
        let obj = ObjectRef {
            kind: "Service".into(),
            api_version: "v1".into(),
            namespace: "default".into(),
            name: format!("s{i}"),
            uid: format!("u{i}"),
            resource_version: String::new(),
        };
        (obj, EventType::Normal, "IPAllocated".into(), "m".into())
    }

    fn seen(i: usize) -> Seen {
        Seen {
            name: format!("e{i}"),
            count: 1,
        }
    }

    #[test]
    fn aggregation_remembers_the_most_recently_used_keys() {
        let mut r = Recent::default();
        for i in 0..REMEMBERED {
            r.insert(key(i), seen(i));
        }
        // Key 0 is used again, so key 1 is now the least recently used.
        assert_eq!(
            r.get_mut(&key(0)).map(|s| s.name.clone()),
            Some("e0".into())
        );
        r.insert(key(REMEMBERED), seen(REMEMBERED));
        assert_eq!(r.len(), REMEMBERED, "bounded");
        assert!(
            r.get_mut(&key(1)).is_none(),
            "the least recently used is forgotten"
        );
        assert!(r.get_mut(&key(0)).is_some());
        assert!(r.get_mut(&key(REMEMBERED)).is_some());
        // Many uses of one key leave the bookkeeping bounded too.
        for _ in 0..10 * REMEMBERED {
            if let Some(s) = r.get_mut(&key(0)) {
                s.count += 1;
            }
        }
        assert!(r.order.len() <= 2 * REMEMBERED + 1);
        assert_eq!(
            r.get_mut(&key(0)).map(|s| s.count),
            Some(1 + 10 * REMEMBERED as i32)
        );
        for i in 0..3 * REMEMBERED {
            r.insert(key(10_000 + i), seen(i));
        }
        assert_eq!(r.len(), REMEMBERED);
    }

    #[test]
    fn a_key_used_when_the_bookkeeping_is_compacted_can_still_be_forgotten() {
        let mut r = Recent::default();
        for i in 0..REMEMBERED {
            r.insert(key(i), seen(i));
        }
        // Use key 0 until a use of it is the one that compacts the bookkeeping.
        let mut uses = 0;
        loop {
            let before = r.order.len();
            assert!(r.get_mut(&key(0)).is_some());
            uses += 1;
            if r.order.len() < before || uses > 4 * REMEMBERED {
                break;
            }
        }
        assert!(uses <= 4 * REMEMBERED, "no compaction happened");
        // Then enough new keys to push every old one out: key 0 goes too.
        for i in 0..REMEMBERED {
            r.insert(key(100_000 + i), seen(i));
        }
        assert!(r.get_mut(&key(0)).is_none(), "key 0 was never forgotten");
        assert_eq!(r.len(), REMEMBERED);
    }
}
