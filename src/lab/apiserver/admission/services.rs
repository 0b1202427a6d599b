//! Service allocation: a clusterIP from the service CIDR and nodePorts, unique across all
//! Services (the allocation itself is in `apiserver::services`).

use serde_json::Value;

use super::{AdmissionHook, Operation, Request};
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::services::{prepare_create, prepare_update};
use crate::lab::apiserver::store::{Subresource, View};

/// Allocates clusterIPs and nodePorts for core/v1 Services.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceAllocation;

impl AdmissionHook for ServiceAllocation {
    fn mutate(&self, req: &Request<'_>, obj: &mut Value, view: &View<'_>) -> Result<(), ApiError> {
        if !req.is("", "Service") || req.subresource != Subresource::Main {
            return Ok(());
        }
        let held = view.service_allocations();
        match (req.operation, req.old) {
            (Operation::Create, _) => prepare_create(obj, held.taken()),
            (Operation::Update, Some(old)) => prepare_update(old, obj, held.taken_without(old)),
            _ => Ok(()),
        }
    }
}
