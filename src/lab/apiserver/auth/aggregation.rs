//! The ClusterRole aggregation controller, as an admission hook: whenever a ClusterRole is
//! written or deleted, every ClusterRole with an `aggregationRule` gets, as its `rules`, the
//! rules of the ClusterRoles its selectors pick (so `kubectl get clusterrole admin -o yaml`
//! shows them, as on a real cluster). Runs in the same transaction as the write.

use serde_json::{json, Value};

use super::rbac::{aggregate, CLUSTER_ROLES};
use crate::lab::apiserver::admission::{AdmissionHook, Request};
use crate::lab::apiserver::store::Txn;

/// Fills aggregated ClusterRoles.
#[derive(Debug, Clone, Copy, Default)]
pub struct RbacAggregation;

fn reaggregate(tx: &mut Txn<'_>) {
    let view = tx.view();
    let updates: Vec<((String, String), Value)> = view
        .objects_with_keys(CLUSTER_ROLES)
        .filter_map(|(key, role)| {
            let rules = aggregate(&view, &role)?;
            if role["rules"].as_array() == Some(&rules) {
                return None;
            }
            let mut updated = role.as_ref().clone();
            updated["rules"] = json!(rules);
            Some((key.clone(), updated))
        })
        .collect();
    for (key, role) in updates {
        tx.put(CLUSTER_ROLES, key, role);
    }
}

impl AdmissionHook for RbacAggregation {
    fn stored(&self, req: &Request<'_>, _obj: &Value, tx: &mut Txn<'_>) {
        if req.def.key() == CLUSTER_ROLES {
            reaggregate(tx);
        }
    }

    fn removed(&self, req: &Request<'_>, _obj: &Value, tx: &mut Txn<'_>) {
        if req.def.key() == CLUSTER_ROLES {
            reaggregate(tx);
        }
    }
}
