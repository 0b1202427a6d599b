//! Event mirroring: each events.k8s.io/v1 Event is stored a second time as a core/v1 Event
//! with the same namespace and name, and deleted with it (see `apiserver::events`).

use serde_json::Value;

use super::{AdmissionHook, Request};
use crate::lab::apiserver::events::{to_core, CORE_EVENTS, NEW_EVENTS};
use crate::lab::apiserver::meta;
use crate::lab::apiserver::store::{ObjectKey, Txn};

/// Mirrors events.k8s.io/v1 writes into core/v1.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventMirror;

fn key(obj: &Value) -> ObjectKey {
    (
        meta::meta_str(obj, "namespace").to_string(),
        meta::meta_str(obj, "name").to_string(),
    )
}

impl AdmissionHook for EventMirror {
    fn stored(&self, req: &Request<'_>, obj: &Value, tx: &mut Txn<'_>) {
        if req.def.key() == NEW_EVENTS {
            tx.put(CORE_EVENTS, key(obj), to_core(obj));
        }
    }

    fn removed(&self, req: &Request<'_>, obj: &Value, tx: &mut Txn<'_>) {
        if req.def.key() == NEW_EVENTS {
            tx.remove(CORE_EVENTS, &key(obj));
        }
    }
}
