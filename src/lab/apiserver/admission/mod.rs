//! Admission: what the API server does to a write beyond storing it, one hook per concern.
//! The storage core (`store`) runs every write through the hooks of one [`Admission`] chain,
//! built in one place, [`Admission::standard`], when the server starts:
//!
//! | hook                 | concern                                                        |
//! |----------------------|----------------------------------------------------------------|
//! | [`NamespaceLifecycle`] | no new content in a missing or terminating namespace; a deleted namespace turns `Terminating` (the server's finalizer removes it later); system namespaces stay |
//! | [`ServiceAllocation`]  | clusterIPs and nodePorts for Services                        |
//! | [`CrdRegistration`]    | CRDs register their resources, become Established, take their instances with them |
//! | [`EventMirror`]        | events.k8s.io/v1 Events are mirrored into core/v1            |
//! | [`MetallbWebhook`]     | MetalLB's validating webhook for its configuration kinds, once its webhook configuration is stored |
//! | `RbacAggregation`      | aggregated ClusterRoles get the rules of the roles they select (`auth::aggregation`) |
//!
//! A write passes the hooks in this order (each phase through every hook in chain order):
//!
//! ```text
//! create/update/delete ─▶ admit ─▶ (core: name, metadata, defaults) ─▶ mutate ─▶ validate
//!      ─▶ (core: no-op check, dry run, commit) ─▶ stored        (create, update)
//! delete ─▶ admit ─▶ delete (go ahead with dependents, or keep the object) ─▶ removed
//! ```
//!
//! Every phase sees the [`Request`]: operation, resource, namespace, name, the old object, the
//! user and whether it is a dry run; so RBAC (in `admit`), field validation and validating
//! webhooks (in `validate`) and mutating webhooks (in `mutate`) plug in as further hooks.
//! Hooks do no I/O and start no timers: they run under the store's lock.

mod crd;
mod events;
mod metallb;
mod namespace;
mod services;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::error::ApiError;
use super::resources::{Registry, ResourceDef};
use super::store::{ObjectRef, Subresource, Txn, View};

pub use crd::CrdRegistration;
pub use events::EventMirror;
pub use metallb::MetallbWebhook;
pub use namespace::{
    finalize_namespace, finalize_terminating, terminating_namespaces, NamespaceLifecycle,
};
pub use services::ServiceAllocation;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// Who makes a request. The HTTP layer fills it from authentication; in-process writes (the
/// runtime, the controllers) carry the default, an empty name, meaning the server itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The holder of the lab's bearer token (the lab has one credential, with full rights).
    pub fn token_holder() -> Self {
        UserInfo {
            name: "lab-admin".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        }
    }
}

/// One write, as the hooks see it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub operation: Operation,
    pub def: &'a ResourceDef,
    pub subresource: Subresource,
    /// "" for cluster-scoped resources.
    pub namespace: &'a str,
    /// May be empty in `admit` on create, before a `generateName` is resolved.
    pub name: &'a str,
    /// The stored object, on update and delete.
    pub old: Option<&'a Value>,
    pub user: &'a UserInfo,
    pub dry_run: bool,
}

impl Request<'_> {
    /// Is this a request for `group`/`kind` (any version)?
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.def.group == group && self.def.kind == kind
    }
}

/// What a hook wants done with an object being deleted.
#[derive(Debug)]
pub enum Deletion {
    /// Delete it, and these dependents with it (before it).
    Proceed(Vec<ObjectRef>),
    /// Keep it until it is finalized; `Some` stores this form of it (say, with a
    /// `deletionTimestamp`), `None` leaves it as it is.
    Keep(Option<Value>),
}

/// One admission concern. Every method has a do-nothing default, so a hook implements only
/// the phases it cares about and checks `req` for the resources it handles.
pub trait AdmissionHook: Send + Sync + fmt::Debug {
    /// Create, update or delete, before the object is built: refuse from the target alone.
    fn admit(&self, _req: &Request<'_>, _view: &View<'_>) -> Result<(), ApiError> {
        Ok(())
    }

    /// Create or update: change the object (allocations, server-set status).
    fn mutate(
        &self,
        _req: &Request<'_>,
        _obj: &mut Value,
        _view: &View<'_>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Create or update: accept or refuse the final object.
    fn validate(&self, _req: &Request<'_>, _obj: &Value, _view: &View<'_>) -> Result<(), ApiError> {
        Ok(())
    }

    /// Delete: go ahead (with dependents) or keep the object.
    fn delete(
        &self,
        _req: &Request<'_>,
        _obj: &Value,
        _view: &View<'_>,
    ) -> Result<Deletion, ApiError> {
        Ok(Deletion::Proceed(Vec::new()))
    }

    /// After a create or update was stored (never on a dry run or a no-op), in the same
    /// transaction: writes that follow from it.
    fn stored(&self, _req: &Request<'_>, _obj: &Value, _tx: &mut Txn<'_>) {}

    /// After a delete, in the same transaction.
    fn removed(&self, _req: &Request<'_>, _obj: &Value, _tx: &mut Txn<'_>) {}

    /// When the store is loaded from a snapshot, once per object.
    fn restored(&self, _resource: &str, _obj: &Value, _registry: &Registry) {}
}

/// The hooks a store runs, in order.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    hooks: Vec<Arc<dyn AdmissionHook>>,
}

impl Admission {
    /// No hooks: a bare store.
    pub fn none() -> Self {
        Admission::default()
    }

    /// The lab API server's hooks. This is the one place they are registered.
    pub fn standard() -> Self {
        Admission::none()
            .with(NamespaceLifecycle)
            .with(ServiceAllocation)
            .with(CrdRegistration)
            .with(EventMirror)
            .with(MetallbWebhook)
            .with(crate::lab::apiserver::auth::aggregation::RbacAggregation)
    }

    /// Append a hook; it runs after those already in the chain.
    pub fn with(mut self, hook: impl AdmissionHook + 'static) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    pub(super) fn admit(&self, req: &Request<'_>, view: &View<'_>) -> Result<(), ApiError> {
        self.hooks.iter().try_for_each(|h| h.admit(req, view))
    }

    pub(super) fn mutate(
        &self,
        req: &Request<'_>,
        obj: &mut Value,
        view: &View<'_>,
    ) -> Result<(), ApiError> {
        self.hooks.iter().try_for_each(|h| h.mutate(req, obj, view))
    }

    pub(super) fn validate(
        &self,
        req: &Request<'_>,
        obj: &Value,
        view: &View<'_>,
    ) -> Result<(), ApiError> {
        self.hooks
            .iter()
            .try_for_each(|h| h.validate(req, obj, view))
    }

    /// The first hook that keeps the object wins; otherwise every hook's dependents go.
    pub(super) fn delete(
        &self,
        req: &Request<'_>,
        obj: &Value,
        view: &View<'_>,
    ) -> Result<Deletion, ApiError> {
        let mut dependents = Vec::new();
        for h in &self.hooks {
            match h.delete(req, obj, view)? {
                Deletion::Proceed(more) => dependents.extend(more),
                keep @ Deletion::Keep(_) => return Ok(keep),
            }
        }
        Ok(Deletion::Proceed(dependents))
    }

    pub(super) fn stored(&self, req: &Request<'_>, obj: &Value, tx: &mut Txn<'_>) {
        for h in &self.hooks {
            h.stored(req, obj, tx);
        }
    }

    pub(super) fn removed(&self, req: &Request<'_>, obj: &Value, tx: &mut Txn<'_>) {
        for h in &self.hooks {
            h.removed(req, obj, tx);
        }
    }

    pub(super) fn restored(&self, resource: &str, obj: &Value, registry: &Registry) {
        for h in &self.hooks {
            h.restored(resource, obj, registry);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::lab::apiserver::store::{DeleteOptions, Store, WriteOptions};

    /// Refuses writes by anyone but "alice" and the server itself (which creates the default
    /// namespaces), and records what it saw, as an RBAC or validating-webhook hook would.
    #[derive(Debug, Default)]
    struct OnlyAlice {
        seen: Mutex<Vec<(Operation, String, bool)>>,
    }

    impl AdmissionHook for Arc<OnlyAlice> {
        fn validate(
            &self,
            req: &Request<'_>,
            _obj: &Value,
            _view: &View<'_>,
        ) -> Result<(), ApiError> {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push((req.operation, req.user.name.clone(), req.dry_run));
            }
            if req.user.name == "alice" || req.user.name.is_empty() {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!("{} may not", req.user.name)))
            }
        }
    }

    fn def(store: &Store, group: &str, plural: &str) -> ResourceDef {
        match store.registry().find(group, "v1", plural) {
            Some(d) => d,
            None => unreachable!("built-in resources are registered"),
        }
    }

    #[test]
    fn hooks_see_user_and_dry_run_and_can_refuse() {
        let hook = Arc::new(OnlyAlice::default());
        let store = Store::with_admission(
            Registry::default(),
            100,
            Admission::standard().with(hook.clone()),
        );
        let cm = def(&store, "", "configmaps");
        let as_user = |name: &str, dry_run: bool| WriteOptions {
            user: UserInfo {
                name: name.into(),
                groups: Vec::new(),
            },
            dry_run,
            ..WriteOptions::default()
        };
        let bob = store.create(
            &cm,
            Some("default"),
            json!({"metadata": {"name": "a"}}),
            &as_user("bob", false),
        );
        assert_eq!(bob.err().map(|e| e.code()), Some(403));
        let dry = store.create(
            &cm,
            Some("default"),
            json!({"metadata": {"name": "a"}}),
            &as_user("alice", true),
        );
        assert!(dry.is_ok());
        assert!(
            store.get(&cm, Some("default"), "a").is_err(),
            "dry run stores nothing"
        );
        let seen = hook.seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(seen.contains(&(Operation::Create, "bob".into(), false)));
        assert!(seen.contains(&(Operation::Create, "alice".into(), true)));
    }

    #[test]
    fn each_concern_is_its_hook() {
        let bare = Store::with_admission(Registry::default(), 100, Admission::none());
        let standard = Store::new(Registry::default(), 100);
        let svc = json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}});
        let o = WriteOptions::default();
        let ip = |store: &Store| {
            let def = def(store, "", "services");
            store
                .create(&def, Some("default"), svc.clone(), &o)
                .map(|s| s["spec"]["clusterIP"].clone())
        };
        assert_eq!(
            ip(&bare).ok(),
            Some(Value::Null),
            "no allocation without the hook"
        );
        assert!(ip(&standard).is_ok_and(|ip| ip.is_string()));

        let new_events = def(&standard, "events.k8s.io", "events");
        let core_events = def(&standard, "", "events");
        let ev = json!({"metadata": {"name": "e1"}, "reason": "Test", "note": "hello", "type": "Normal",
            "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "c", "reportingInstance": "i", "action": "A"});
        assert!(standard
            .create(&new_events, Some("default"), ev, &o)
            .is_ok());
        let mirrored = standard.get(&core_events, Some("default"), "e1");
        assert_eq!(
            mirrored.ok().map(|e| e["message"].clone()),
            Some(json!("hello"))
        );
        assert!(standard
            .delete(
                &new_events,
                Some("default"),
                "e1",
                &DeleteOptions::default()
            )
            .is_ok());
        assert!(standard.get(&core_events, Some("default"), "e1").is_err());
    }
}
