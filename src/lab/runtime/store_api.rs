//! A small typed view of the in-process store for the runtime: the resource definitions it
//! needs, and list/create/delete/status helpers that never panic and skip no-op writes.

use std::sync::Arc;

use serde_json::Value;

use crate::lab::apiserver::patch::{PatchKind, PatchRequest};
use crate::lab::apiserver::store::ListQuery;
use crate::lab::apiserver::{
    meta, ApiError, Propagation, ResourceDef, Store, Subresource, WriteOptions,
};

/// The resource types the runtime reads and writes.
#[derive(Debug, Clone)]
pub struct Kinds {
    pub nodes: ResourceDef,
    pub pods: ResourceDef,
    pub services: ResourceDef,
    pub endpoints: ResourceDef,
    pub slices: ResourceDef,
    pub deployments: ResourceDef,
    pub daemonsets: ResourceDef,
    pub replicasets: ResourceDef,
}

/// The store plus the definitions.
#[derive(Debug, Clone)]
pub struct Objects {
    pub store: Store,
    pub k: Kinds,
}

const MANAGER: &str = "metallbctl-lab";

fn opts() -> WriteOptions {
    WriteOptions {
        field_manager: Some(MANAGER.into()),
        ..WriteOptions::default()
    }
}

impl Objects {
    /// Look up the definitions; `None` if the registry lacks one (it never should).
    pub fn new(store: Store) -> Option<Objects> {
        let r = store.registry();
        let k = Kinds {
            nodes: r.find("", "v1", "nodes")?,
            pods: r.find("", "v1", "pods")?,
            services: r.find("", "v1", "services")?,
            endpoints: r.find("", "v1", "endpoints")?,
            slices: r.find("discovery.k8s.io", "v1", "endpointslices")?,
            deployments: r.find("apps", "v1", "deployments")?,
            daemonsets: r.find("apps", "v1", "daemonsets")?,
            replicasets: r.find("apps", "v1", "replicasets")?,
        };
        Some(Objects { store, k })
    }

    /// Every object of a type (all namespaces).
    pub fn list(&self, def: &ResourceDef) -> Vec<Arc<Value>> {
        self.store
            .list(def, &ListQuery::default())
            .map(|p| p.items)
            .unwrap_or_default()
    }

    pub fn get(&self, def: &ResourceDef, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.store.get(def, scope(def, ns), name).ok()
    }

    pub fn create(&self, def: &ResourceDef, obj: Value) -> Result<Arc<Value>, ApiError> {
        let ns = meta::meta_str(&obj, "namespace").to_string();
        self.store.create(def, scope(def, &ns), obj, &opts())
    }

    /// Delete (with dependents); a missing object is fine.
    pub fn delete(&self, def: &ResourceDef, obj: &Value) {
        let ns = meta::meta_str(obj, "namespace");
        let _ = self.store.delete(
            def,
            scope(def, ns),
            meta::meta_str(obj, "name"),
            &Propagation::Background.into(),
        );
    }

    /// Create `want` or bring the existing object's `field` (spec, subsets, ...) in line.
    pub fn upsert(&self, def: &ResourceDef, want: Value, fields: &[&str]) {
        let ns = meta::meta_str(&want, "namespace").to_string();
        let name = meta::meta_str(&want, "name").to_string();
        let Some(have) = self.get(def, &ns, &name) else {
            let _ = self.create(def, want);
            return;
        };
        let mut patch = serde_json::Map::new();
        for f in fields {
            if have[*f] != want[*f] {
                patch.insert((*f).to_string(), want[*f].clone());
            }
        }
        if patch.is_empty() {
            return;
        }
        self.merge(def, &ns, &name, &Value::Object(patch), Subresource::Main);
    }

    /// Replace `.status` if it differs.
    pub fn set_status(&self, def: &ResourceDef, obj: &Value, status: Value) {
        if obj["status"] == status {
            return;
        }
        let (ns, name) = (
            meta::meta_str(obj, "namespace"),
            meta::meta_str(obj, "name"),
        );
        let mut new = obj.clone();
        new["status"] = status;
        if let Some(m) = meta::meta_mut(&mut new) {
            m.remove("resourceVersion");
        }
        let _ = self
            .store
            .replace(def, scope(def, ns), name, new, Subresource::Status, &opts());
    }

    /// A JSON merge patch.
    pub fn merge(&self, def: &ResourceDef, ns: &str, name: &str, body: &Value, sub: Subresource) {
        let _ = self.store.patch(
            def,
            scope(def, ns),
            name,
            PatchRequest {
                kind: PatchKind::Merge,
                body,
            },
            sub,
            &opts(),
        );
    }
}

fn scope<'a>(def: &ResourceDef, ns: &'a str) -> Option<&'a str> {
    (def.namespaced && !ns.is_empty()).then_some(ns)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use crate::lab::runtime::objects as ob;

    #[test]
    fn an_owned_object_written_after_its_owner_went_is_removed() {
        let o = Objects::new(Store::new(Registry::default(), 100)).expect("kinds registered");
        let svc = o
            .create(
                &o.k.services,
                json!({"metadata": {"name": "web", "namespace": "default"},
                       "spec": {"ports": [{"port": 80}]}}),
            )
            .expect("service created");
        // The caller read `svc`, then the Service went (with its cascade) before the write:
        // the store collects the orphan, as a cluster's garbage collector would.
        o.delete(&o.k.services, &svc);
        o.upsert(&o.k.slices, ob::endpoint_slice(&svc, &[]), &["endpoints"]);
        assert!(o.list(&o.k.slices).is_empty(), "an orphaned slice was left");

        // With the owner in place the same write stays.
        let svc = o
            .create(
                &o.k.services,
                json!({"metadata": {"name": "web", "namespace": "default"},
                       "spec": {"ports": [{"port": 80}]}}),
            )
            .expect("service re-created");
        o.upsert(&o.k.slices, ob::endpoint_slice(&svc, &[]), &["endpoints"]);
        assert_eq!(o.list(&o.k.slices).len(), 1);
    }
}
