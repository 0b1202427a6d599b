//! Service allocation: a clusterIP from the service CIDR and nodePorts, unique across all
//! Services (the allocation itself is in `apiserver::services`).

use serde_json::Value;

use super::{AdmissionHook, Operation, Request};
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::meta;
use crate::lab::apiserver::services::{prepare_create, prepare_update, Taken};
use crate::lab::apiserver::store::{Subresource, View};

/// Allocates clusterIPs and nodePorts for core/v1 Services.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceAllocation;

impl AdmissionHook for ServiceAllocation {
    fn mutate(&self, req: &Request<'_>, obj: &mut Value, view: &View<'_>) -> Result<(), ApiError> {
        if !req.is("", "Service") || req.subresource != Subresource::Main {
            return Ok(());
        }
        let services = view.objects(&req.def.key()).map(|s| s.as_ref());
        match (req.operation, req.old) {
            (Operation::Create, _) => prepare_create(obj, Taken::of(services)),
            (Operation::Update, Some(old)) => {
                let uid = meta::meta_str(old, "uid");
                let others = services.filter(|s| meta::meta_str(s, "uid") != uid);
                prepare_update(old, obj, Taken::of(others))
            }
            _ => Ok(()),
        }
    }
}
