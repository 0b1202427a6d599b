//! MetalLB's validating webhook, played in process: once MetalLB's
//! `ValidatingWebhookConfiguration` (`metallb-webhook-configuration`, from the install
//! manifest) is stored, a create or update of one of the six configuration kinds is checked
//! together with the objects already in its namespace, by the same CRD front end `validate`
//! and our controller use, as the release of the installed controller image. A refusal reads
//! as a real cluster's: `admission webhook "ipaddresspoolvalidationwebhook.metallb.io" denied
//! the request: <MetalLB's message>`.

use std::sync::Arc;

use kube::api::DynamicObject;
use serde_json::Value;

use super::{AdmissionHook, Operation, Request};
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::store::{Subresource, View};
use crate::metallb::crds::{self, CrdSet, CONFIG_KINDS};
use crate::metallb::watch::Change;

/// The webhook configuration whose presence turns the check on.
const CONFIGURATION: &str = "metallb-webhook-configuration";
const WEBHOOKS: &str = "admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

/// Plays MetalLB's admission webhook for its configuration kinds.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetallbWebhook;

/// The webhook's name for a kind, as in MetalLB's configuration.
fn webhook_name(kind: &str) -> String {
    if kind == "BGPPeer" {
        "bgppeersvalidationwebhook.metallb.io".into()
    } else {
        format!("{}validationwebhook.metallb.io", kind.to_lowercase())
    }
}

/// The objects of kind `k` stored in `ns`, whatever version they are stored under.
fn stored(view: &View<'_>, k: usize, ns: &str) -> Vec<DynamicObject> {
    let kind = &CONFIG_KINDS[k];
    let mut out: Vec<DynamicObject> = Vec::new();
    for version in ["v1beta1", "v1beta2"] {
        let key = format!("{}/{version}/{}", crds::GROUP, kind.plural);
        for o in view.objects(&key) {
            if o["metadata"]["namespace"] != ns {
                continue;
            }
            if let Ok(d) = serde_json::from_value::<DynamicObject>(Arc::unwrap_or_clone(o)) {
                if !out.iter().any(|x| x.metadata.name == d.metadata.name) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// The release of the installed controller (its image tag), else the newest.
fn release(view: &View<'_>, ns: &str) -> crate::config::Version {
    view.tree("apps/v1/deployments", ns, "controller")
        .and_then(|d| d["spec"]["template"]["spec"]["containers"][0]["image"].as_str())
        .map(crate::lab::runtime::components::metallb_version)
        .filter(|v| *v >= crate::config::Version::FIRST_CRD)
        .unwrap_or(crate::config::Version::NEWEST)
}

impl AdmissionHook for MetallbWebhook {
    fn validate(&self, req: &Request<'_>, obj: &Value, view: &View<'_>) -> Result<(), ApiError> {
        if req.def.group != crds::GROUP
            || req.subresource != Subresource::Main
            || !matches!(req.operation, Operation::Create | Operation::Update)
        {
            return Ok(());
        }
        let Some(k) = CONFIG_KINDS.iter().position(|c| c.kind == req.def.kind) else {
            return Ok(());
        };
        if view.get(WEBHOOKS, "", CONFIGURATION).is_none() {
            return Ok(());
        }
        let mut set = CrdSet::default();
        for (i, _) in CONFIG_KINDS.iter().enumerate() {
            set.apply(i, Change::Reset(stored(view, i, req.namespace)));
        }
        let Ok(mut new) = serde_json::from_value::<DynamicObject>(obj.clone()) else {
            return Ok(());
        };
        new.metadata.namespace = Some(req.namespace.to_string());
        set.apply(k, Change::Apply(Box::new(new)));
        match crds::parse_ignoring(
            &set.text(),
            release(view, req.namespace),
            crds::NEEDS_CLUSTER,
        ) {
            Ok(_) => Ok(()),
            Err(e) => Err(ApiError::Forbidden(format!(
                "admission webhook \"{}\" denied the request: {e}",
                webhook_name(req.def.kind.as_str())
            ))),
        }
    }
}
