//! Namespace lifecycle: nothing new goes into a namespace that is missing or terminating; the
//! system namespaces cannot be deleted; a deleted namespace turns `Terminating` and stays, so
//! `kubectl delete -f` can still delete its members, until it is finalized: its contents, then
//! itself. When that happens is the server's business (`apiserver::finalizer`, a moment later;
//! at start for namespaces a restart left terminating): the hook and the store start no timers.

use serde_json::{json, Value};

use super::{AdmissionHook, Deletion, Operation, Request};
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::meta;
use crate::lab::apiserver::store::{ObjectRef, Store, View};

/// The storage key of namespaces.
pub(crate) const NAMESPACES: &str = "/v1/namespaces";

/// Enforces the namespace lifecycle.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceLifecycle;

fn terminating(ns: &Value) -> bool {
    ns["metadata"]["deletionTimestamp"].is_string()
}

impl AdmissionHook for NamespaceLifecycle {
    fn admit(&self, req: &Request<'_>, view: &View<'_>) -> Result<(), ApiError> {
        if req.operation != Operation::Create || !req.def.namespaced {
            return Ok(());
        }
        let ns = req.namespace;
        match view.get(NAMESPACES, "", ns) {
            None => Err(ApiError::not_found("namespaces", ns)),
            Some(n) if terminating(&n) => Err(ApiError::Forbidden(format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                req.def.qualified(),
                req.name
            ))),
            Some(_) => Ok(()),
        }
    }

    fn delete(
        &self,
        req: &Request<'_>,
        ns: &Value,
        _view: &View<'_>,
    ) -> Result<Deletion, ApiError> {
        if !req.is("", "Namespace") {
            return Ok(Deletion::Proceed(Vec::new()));
        }
        if matches!(req.name, "default" | "kube-system" | "kube-public") {
            return Err(ApiError::Forbidden(format!(
                "namespaces \"{}\" is forbidden: this namespace may not be deleted",
                req.name
            )));
        }
        if terminating(ns) {
            return Ok(Deletion::Keep(None));
        }
        let mut marked = ns.clone();
        if let Some(m) = meta::meta_mut(&mut marked) {
            m.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
        }
        marked["status"] = json!({"phase": "Terminating"});
        Ok(Deletion::Keep(Some(marked)))
    }
}

/// The names of the namespaces that are terminating.
pub fn terminating_namespaces(store: &Store) -> Vec<String> {
    store
        .read(|view| {
            view.objects(NAMESPACES)
                .filter(|n| terminating(n))
                .map(|n| meta::meta_str(&n, "name").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Delete a namespace's contents, then the namespace, in one transaction.
pub fn finalize_namespace(store: &Store, name: &str) {
    let _ = store.transact(|tx| {
        let mut namespaced: Vec<String> = tx
            .registry()
            .all()
            .iter()
            .filter(|d| d.namespaced)
            .map(|d| d.key())
            .collect();
        // In store order, as the objects were removed before.
        namespaced.sort();
        let view = tx.view();
        let mut victims: Vec<ObjectRef> = namespaced
            .iter()
            .flat_map(|res| view.keys_in(res, name).map(|k| (res.clone(), k.clone())))
            .collect();
        victims.push((NAMESPACES.to_string(), (String::new(), name.to_string())));
        for (res, key) in victims {
            tx.remove(&res, &key);
        }
    });
}

/// Finalize the namespaces a restart left terminating.
pub fn finalize_terminating(store: &Store) {
    for name in terminating_namespaces(store) {
        finalize_namespace(store, &name);
    }
}
