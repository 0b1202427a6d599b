//! CRD registration: a CustomResourceDefinition's name must match its resources; once stored
//! it is Established and its resources are served; deleting it deletes its instances and
//! stops serving them.

use serde_json::{json, Value};

use super::{AdmissionHook, Deletion, Operation, Request};
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::meta;
use crate::lab::apiserver::resources::{defs_from_crd, Registry};
use crate::lab::apiserver::store::{Txn, View};

/// Registers CustomResourceDefinitions' resources.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrdRegistration;

fn is_crd(req: &Request<'_>) -> bool {
    req.def.kind == "CustomResourceDefinition"
}

impl AdmissionHook for CrdRegistration {
    /// Check the name and mark the CRD accepted and established.
    fn mutate(&self, req: &Request<'_>, crd: &mut Value, _view: &View<'_>) -> Result<(), ApiError> {
        if !is_crd(req) || req.operation == Operation::Delete {
            return Ok(());
        }
        let defs = defs_from_crd(crd);
        let expected = defs.first().map(|d| format!("{}.{}", d.plural, d.group));
        if expected.as_deref() != Some(req.name) {
            return Err(ApiError::Invalid {
                kind: "CustomResourceDefinition".into(),
                name: req.name.to_string(),
                causes: "metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group, with at least one served version".into(),
            });
        }
        if let Some(obj) = crd.as_object_mut() {
            obj.insert("status".into(), json!({
                "acceptedNames": accepted_names(obj.get("spec")),
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": meta::now_rfc3339()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": meta::now_rfc3339()}
                ],
                "storedVersions": defs.iter().map(|d| d.version.clone()).collect::<Vec<_>>(),
            }));
        }
        Ok(())
    }

    /// The CRD's instances go with it.
    fn delete(
        &self,
        req: &Request<'_>,
        crd: &Value,
        view: &View<'_>,
    ) -> Result<Deletion, ApiError> {
        if !is_crd(req) {
            return Ok(Deletion::Proceed(Vec::new()));
        }
        let instances = defs_from_crd(crd)
            .iter()
            .flat_map(|d| {
                let res = d.key();
                view.objects_with_keys(&res)
                    .map(move |(k, _)| (res.clone(), k.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(Deletion::Proceed(instances))
    }

    fn stored(&self, req: &Request<'_>, crd: &Value, tx: &mut Txn<'_>) {
        if is_crd(req) {
            tx.registry().set_crd(req.name, defs_from_crd(crd));
        }
    }

    fn removed(&self, req: &Request<'_>, _crd: &Value, tx: &mut Txn<'_>) {
        if is_crd(req) {
            tx.registry().set_crd(req.name, Vec::new());
        }
    }

    fn restored(&self, resource: &str, obj: &Value, registry: &Registry) {
        if resource.ends_with("/customresourcedefinitions") {
            registry.set_crd(meta::meta_str(obj, "name"), defs_from_crd(obj));
        }
    }
}

fn accepted_names(spec: Option<&Value>) -> Value {
    spec.map(|s| s["names"].clone()).unwrap_or(Value::Null)
}
