//! ServiceBGPStatus (MetalLB v0.15, speaker): one object per (service, node) whose speaker has
//! at least one Established session that the service's routes are sent to, in MetalLB's
//! namespace, labelled `metallb.io/node`, `metallb.io/service-name`,
//! `metallb.io/service-namespace`; `status.peers` = the sorted BGPPeer object names of those
//! sessions. Deleted when the set becomes empty.
//!
//! MetalLB names the objects by `generateName: bgp-`; ours are `bgp-<hash>` of node and service,
//! so a restarted speaker finds its own objects again. The desired set is pure
//! ([`desired`]); [`BgpStatusWriter`] diffs and writes on background tasks, and a cluster
//! without the CRD (404) is skipped quietly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use super::crds::{ConfigKind, GROUP};

const KIND: ConfigKind = ConfigKind {
    kind: "ServiceBGPStatus",
    version: "v1beta1",
    plural: "servicebgpstatuses",
};

/// For every announced service (`"ns/name ip"` strings), the sorted BGPPeer names of the
/// Established sessions (`up`, by peer address) that carry it; services without one are left
/// out. `names` maps a peer address (as written in `peerAddress`) to BGPPeer names.
pub fn desired(
    announced: &BTreeSet<String>,
    up: &[IpAddr],
    names: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut peers: Vec<String> = names
        .iter()
        .filter(|(addr, _)| addr.trim().parse::<IpAddr>().is_ok_and(|a| up.contains(&a)))
        .flat_map(|(_, n)| n.iter().cloned())
        .collect();
    peers.sort();
    peers.dedup();
    if peers.is_empty() {
        return BTreeMap::new();
    }
    announced
        .iter()
        .filter_map(|a| a.split_once(' ').map(|(svc, _)| svc.to_string()))
        .map(|svc| (svc, peers.clone()))
        .collect()
}

/// A stable DNS-1123 name for the object of `service` on `node` (FNV-1a of both).
pub fn object_name(node: &str, service: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain([0]).chain(service.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("bgp-{h:016x}")
}

/// Writes one speaker's ServiceBGPStatus objects.
pub struct BgpStatusWriter {
    api: Api<DynamicObject>,
    node: String,
    written: BTreeMap<String, Vec<String>>,
}

impl BgpStatusWriter {
    pub fn new(client: Client, namespace: &str, node: &str) -> BgpStatusWriter {
        BgpStatusWriter {
            api: KIND.api(client, namespace),
            node: node.to_string(),
            written: BTreeMap::new(),
        }
    }

    /// Create or update the objects of `want` that changed; delete those no longer wanted.
    pub fn sync(&mut self, want: BTreeMap<String, Vec<String>>) {
        if want == self.written {
            return;
        }
        for (svc, peers) in &want {
            if self.written.get(svc) == Some(peers) {
                continue;
            }
            let (ns, name) = svc.split_once('/').unwrap_or(("", svc.as_str()));
            let object = json!({
                "apiVersion": format!("{GROUP}/{}", KIND.version),
                "kind": KIND.kind,
                "metadata": {
                    "name": object_name(&self.node, svc),
                    "labels": {"metallb.io/node": self.node,
                               "metallb.io/service-name": name,
                               "metallb.io/service-namespace": ns},
                },
            });
            let status = json!({"status": {"node": self.node, "serviceName": name,
                                           "serviceNamespace": ns, "peers": peers}});
            let api = self.api.clone();
            tokio::spawn(async move {
                let Ok(obj) = serde_json::from_value::<DynamicObject>(object) else {
                    return;
                };
                let name = obj.metadata.name.clone().unwrap_or_default();
                match api.create(&PostParams::default(), &obj).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 409 => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot create ServiceBGPStatus {name}");
                        return;
                    }
                }
                if let Err(e) = api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                {
                    tracing::warn!(error = %e, "cannot write ServiceBGPStatus {name}");
                }
            });
        }
        for svc in self.written.keys().filter(|s| !want.contains_key(*s)) {
            let api = self.api.clone();
            let name = object_name(&self.node, svc);
            tokio::spawn(async move {
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) | Err(kube::Error::Api(_)) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot delete ServiceBGPStatus {name}"),
                }
            });
        }
        self.written = want;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_get_the_names_of_established_peers() {
        let announced: BTreeSet<String> = ["default/nginx 198.51.100.0".to_string()].into();
        let names = BTreeMap::from([
            ("10.96.0.101".to_string(), vec!["quagga".to_string()]),
            ("10.96.0.100".to_string(), vec!["bird".to_string()]),
        ]);
        let both: Vec<IpAddr> = vec![
            "10.96.0.100".parse().unwrap(),
            "10.96.0.101".parse().unwrap(),
        ];
        assert_eq!(
            desired(&announced, &both, &names),
            BTreeMap::from([(
                "default/nginx".to_string(),
                vec!["bird".to_string(), "quagga".to_string()]
            )])
        );
        assert!(
            desired(&announced, &[], &names).is_empty(),
            "no session, no object"
        );
        let name = object_name("minikube", "default/nginx");
        assert_eq!(name, object_name("minikube", "default/nginx"));
        assert_ne!(name, object_name("other", "default/nginx"));
        assert!(name.starts_with("bgp-") && name.len() == 20);
    }
}
