//! The configuration source of a CRD-era release (v0.13 and later): MetalLB's custom resources
//! in its namespace (IPAddressPool, BGPPeer, BGPAdvertisement, L2Advertisement, Community,
//! BFDProfile), read when any exist; the ConfigMap otherwise.
//!
//! The objects are kept as watched and, for parsing, written out as one canonical text (one
//! JSON document per object, sorted by kind and name, only `apiVersion`, `kind`, `metadata`
//! name/namespace/labels and `spec`), which goes through the same CRD front end as `validate`
//! (`crate::config::crd`). So the controller, the speaker and `validate` share one definition
//! of each kind and one set of messages, and the text doubles as the configuration's identity:
//! a status write or a new resourceVersion does not change it, a spec edit does.

use std::collections::BTreeMap;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, Client};
use serde_json::{json, Value};

use super::config::{advertisements, peers, pool_specs, ConfigError, Parsed};
use super::events::ObjectRef;
use super::watch::Change;
use crate::config::crd::{self, Input};
use crate::config::{BgpMode, InputKind, Options, Version};
use crate::diag::{Severity, SourceFile};

/// The first line of a configuration text that came from custom resources; it keeps the two
/// sources' texts apart.
pub const CRD_TEXT_HEADER: &str = "# metallb.io custom resources\n";

/// A kind the controller and speaker read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKind {
    pub kind: &'static str,
    /// The version watched (the storage version).
    pub version: &'static str,
    pub plural: &'static str,
}

/// The configuration kinds, in the order their objects are written out.
pub const CONFIG_KINDS: [ConfigKind; 6] = [
    ConfigKind {
        kind: "BGPPeer",
        version: "v1beta2",
        plural: "bgppeers",
    },
    ConfigKind {
        kind: "IPAddressPool",
        version: "v1beta1",
        plural: "ipaddresspools",
    },
    ConfigKind {
        kind: "BGPAdvertisement",
        version: "v1beta1",
        plural: "bgpadvertisements",
    },
    ConfigKind {
        kind: "L2Advertisement",
        version: "v1beta1",
        plural: "l2advertisements",
    },
    ConfigKind {
        kind: "BFDProfile",
        version: "v1beta1",
        plural: "bfdprofiles",
    },
    ConfigKind {
        kind: "Community",
        version: "v1beta1",
        plural: "communities",
    },
];

/// MetalLB's API group.
pub const GROUP: &str = "metallb.io";

impl ConfigKind {
    /// The dynamic API resource of this kind.
    pub fn resource(&self) -> ApiResource {
        let gvk = GroupVersionKind::gvk(GROUP, self.version, self.kind);
        ApiResource::from_gvk_with_plural(&gvk, self.plural)
    }

    /// The objects of this kind in `namespace`.
    pub fn api(&self, client: Client, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client, namespace, &self.resource())
    }
}

/// One watched object, as written out.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    doc: Value,
    obj: ObjectRef,
}

/// The custom resources seen, by kind (index into [`CONFIG_KINDS`]) and name.
#[derive(Debug, Clone, Default)]
pub struct CrdSet {
    objects: BTreeMap<(usize, String), Held>,
}

impl CrdSet {
    /// Fold one watch change of kind `kind` in; returns whether the written-out text changed.
    pub fn apply(&mut self, kind: usize, change: Change<DynamicObject>) -> bool {
        let Some(info) = CONFIG_KINDS.get(kind) else {
            return false;
        };
        let before = self.text();
        match change {
            Change::Reset(list) => {
                self.objects.retain(|(k, _), _| *k != kind);
                for o in list {
                    let (name, held) = held(info, &o);
                    self.objects.insert((kind, name), held);
                }
            }
            Change::Apply(o) => {
                let (name, held) = held(info, &o);
                self.objects.insert((kind, name), held);
            }
            Change::Delete(o) => {
                let name = o.metadata.name.clone().unwrap_or_default();
                self.objects.remove(&(kind, name));
            }
        }
        self.text() != before
    }

    /// No configuration object at all (the ConfigMap is then read instead).
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object events about the configuration go on: the first IPAddressPool, else the
    /// first object.
    pub fn anchor(&self) -> Option<ObjectRef> {
        let pool = CONFIG_KINDS.iter().position(|k| k.kind == "IPAddressPool");
        self.objects
            .iter()
            .find(|((k, _), _)| Some(*k) == pool)
            .or_else(|| self.objects.iter().next())
            .map(|(_, h)| h.obj.clone())
    }

    /// BGPPeer names by `peerAddress` (for ServiceBGPStatus).
    pub fn peer_names(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for h in self.objects.values().filter(|h| h.obj.kind == "BGPPeer") {
            if let Some(addr) = h.doc["spec"]["peerAddress"].as_str() {
                out.entry(addr.trim().to_string())
                    .or_default()
                    .push(h.obj.name.clone());
            }
        }
        out
    }

    /// The objects of kind `kind` as written out (for tests that replay them).
    #[cfg(test)]
    pub(crate) fn objects_of(&self, kind: usize) -> Vec<DynamicObject> {
        self.objects
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .filter_map(|(_, h)| serde_json::from_value(h.doc.clone()).ok())
            .collect()
    }

    /// The canonical text of every object: [`CRD_TEXT_HEADER`], then one JSON document per
    /// object (kinds in [`CONFIG_KINDS`] order, names sorted), separated by `---`.
    pub fn text(&self) -> String {
        let mut out = String::from(CRD_TEXT_HEADER);
        for (i, h) in self.objects.values().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&h.doc.to_string());
            out.push('\n');
        }
        out
    }
}

fn held(info: &ConfigKind, o: &DynamicObject) -> (String, Held) {
    let m = &o.metadata;
    let name = m.name.clone().unwrap_or_default();
    let api_version = o
        .types
        .as_ref()
        .map(|t| t.api_version.clone())
        .filter(|a| a.starts_with("metallb.io/"))
        .unwrap_or_else(|| format!("{GROUP}/{}", info.version));
    let mut metadata = json!({ "name": name });
    if let Some(ns) = &m.namespace {
        metadata["namespace"] = json!(ns);
    }
    if let Some(labels) = m.labels.as_ref().filter(|l| !l.is_empty()) {
        metadata["labels"] = json!(labels);
    }
    let mut doc = json!({
        "apiVersion": api_version,
        "kind": info.kind,
        "metadata": metadata,
    });
    if let Some(spec) = o.data.get("spec") {
        doc["spec"] = spec.clone();
    }
    let obj = ObjectRef {
        kind: info.kind.to_string(),
        api_version,
        namespace: m.namespace.clone().unwrap_or_default(),
        name: name.clone(),
        uid: m.uid.clone().unwrap_or_default(),
        resource_version: m.resource_version.clone().unwrap_or_default(),
    };
    (name, Held { doc, obj })
}

/// Does `text` come from custom resources ([`CrdSet::text`])?
pub fn is_crd_text(text: &str) -> bool {
    text.starts_with(CRD_TEXT_HEADER)
}

/// Check the custom resources of `text` ([`CrdSet::text`]) as release `version` does, with
/// `validate`'s CRD front end, and convert them; or say why they are rejected (the first error,
/// in MetalLB's wording where MetalLB has one).
pub fn parse(text: &str, version: Version) -> Result<Parsed, ConfigError> {
    parse_ignoring(text, version, &[])
}

/// Rules whose findings need objects the custom resources alone do not show: a
/// `passwordSecret`'s Secret is read by MetalLB's speaker from the cluster, not from these
/// objects, and its webhook does not check it (v0.14+).
pub const NEEDS_CLUSTER: &[&str] = &["MLB206"];

/// [`parse`], skipping findings of the rules in `ignore` (codes such as `MLB206`).
pub fn parse_ignoring(
    text: &str,
    version: Version,
    ignore: &[&str],
) -> Result<Parsed, ConfigError> {
    let file = SourceFile::new("custom resources", text);
    let options = Options {
        target: version,
        mode: BgpMode::Native,
    };
    let report = crate::config::lint(&file, InputKind::Auto, &options)
        .map_err(|e| ConfigError::Invalid { message: e.message })?;
    let first_error = |diags: &[crate::diag::Diagnostic]| {
        diags
            .iter()
            .find(|d| d.severity == Severity::Error && !ignore.contains(&d.code))
            .map(|d| ConfigError::Invalid {
                message: d.message.clone(),
            })
    };
    if let Some(e) = first_error(&report.diagnostics) {
        return Err(e);
    }
    let input = Input {
        file: &file,
        documents: &report.crds,
        configmaps: Vec::new(),
    };
    let crds = crd::lint(&[input], Some(version), BgpMode::Native);
    if let Some(e) = first_error(&crds.diagnostics) {
        return Err(e);
    }
    let config = crds.config.ok_or(ConfigError::Invalid {
        message: format!("MetalLB {version} does not read custom resources"),
    })?;
    Ok(Parsed {
        pools: pool_specs(&config),
        adverts: advertisements(&config),
        peers: peers(&config),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn object(kind: &str, name: &str, spec: Value) -> DynamicObject {
        let info = CONFIG_KINDS.iter().find(|k| k.kind == kind).unwrap();
        let mut o = DynamicObject::new(name, &info.resource()).within("metallb-system");
        o.metadata = ObjectMeta {
            resource_version: Some("7".into()),
            uid: Some(format!("uid-{name}")),
            ..o.metadata
        };
        o.data = json!({ "spec": spec, "status": {"assignedIPv4": 1} });
        o
    }

    fn index(kind: &str) -> usize {
        CONFIG_KINDS.iter().position(|k| k.kind == kind).unwrap()
    }

    /// The tutorial's first configuration in custom-resource form.
    pub(crate) fn tutorial() -> CrdSet {
        let mut set = CrdSet::default();
        let peers = ["10.96.0.100", "10.96.0.101"]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                object(
                    "BGPPeer",
                    &format!("router{i}"),
                    json!({"myASN": 64500, "peerASN": 64500, "peerAddress": a}),
                )
            })
            .collect();
        set.apply(index("BGPPeer"), Change::Reset(peers));
        set.apply(
            index("IPAddressPool"),
            Change::Reset(vec![object(
                "IPAddressPool",
                "my-ip-space",
                json!({"addresses": ["198.51.100.0/24"]}),
            )]),
        );
        set.apply(
            index("BGPAdvertisement"),
            Change::Reset(vec![object("BGPAdvertisement", "all", json!({}))]),
        );
        set
    }

    #[test]
    fn the_tutorial_in_crd_form_converts() {
        let set = tutorial();
        let text = set.text();
        assert!(is_crd_text(&text));
        assert!(!text.contains("status"), "{text}");
        let p = parse(&text, Version::v0(15)).unwrap();
        assert_eq!(p.pools.len(), 1);
        assert_eq!(p.pools[0].name, "my-ip-space");
        assert!(p.pools[0].auto_assign);
        assert_eq!(p.peers.len(), 2);
        assert_eq!(p.peers[0].my_asn, 64500);
        assert_eq!(p.peers[0].port, 179);
        assert_eq!(p.adverts["my-ip-space"].len(), 1);
        assert_eq!(set.anchor().unwrap().name, "my-ip-space");
    }

    #[test]
    fn a_pool_without_advertisement_is_not_announced() {
        let mut set = tutorial();
        set.apply(
            index("BGPAdvertisement"),
            Change::Delete(Box::new(object("BGPAdvertisement", "all", json!({})))),
        );
        let p = parse(&set.text(), Version::v0(15)).unwrap();
        assert_eq!(p.pools.len(), 1);
        assert!(!p.adverts.contains_key("my-ip-space"));
    }

    #[test]
    fn advertisement_settings_and_community_aliases_apply() {
        let mut set = tutorial();
        set.apply(
            index("Community"),
            Change::Reset(vec![object(
                "Community",
                "communities",
                json!({"communities": [{"name": "no-advertise", "value": "65535:65282"}]}),
            )]),
        );
        set.apply(
            index("BGPAdvertisement"),
            Change::Apply(Box::new(object(
                "BGPAdvertisement",
                "all",
                json!({"aggregationLength": 24, "localPref": 50,
                       "communities": ["no-advertise", "64500:1"],
                       "ipAddressPools": ["my-ip-space"]}),
            ))),
        );
        let p = parse(&set.text(), Version::v0(15)).unwrap();
        let ad = &p.adverts["my-ip-space"][0];
        assert_eq!(ad.aggregation_length, 24);
        assert_eq!(ad.local_pref, Some(50));
        assert_eq!(ad.communities, vec![0xffff_ff02, (64500 << 16) | 1]);
    }

    #[test]
    fn only_spec_edits_change_the_text() {
        let mut set = tutorial();
        let mut same = object(
            "IPAddressPool",
            "my-ip-space",
            json!({"addresses": ["198.51.100.0/24"]}),
        );
        same.metadata.resource_version = Some("99".into());
        same.data["status"] = json!({"assignedIPv4": 2});
        assert!(!set.apply(index("IPAddressPool"), Change::Apply(Box::new(same))));
        let edited = object(
            "IPAddressPool",
            "my-ip-space",
            json!({"addresses": ["198.51.100.1-198.51.100.255"]}),
        );
        assert!(set.apply(index("IPAddressPool"), Change::Apply(Box::new(edited))));
    }

    #[test]
    fn an_invalid_object_is_rejected_with_metallbs_message() {
        let mut set = tutorial();
        set.apply(
            index("IPAddressPool"),
            Change::Apply(Box::new(object(
                "IPAddressPool",
                "other",
                json!({"addresses": ["198.51.100.128/25"]}),
            ))),
        );
        let err = parse(&set.text(), Version::v0(15)).unwrap_err();
        assert!(err.to_string().contains("overlap"), "{err}");
    }

    #[test]
    fn a_field_newer_than_the_release_or_not_native_is_rejected() {
        let mut set = tutorial();
        set.apply(
            index("BGPPeer"),
            Change::Apply(Box::new(object(
                "BGPPeer",
                "router0",
                json!({"myASN": 64500, "peerASN": 64500, "peerAddress": "10.96.0.100",
                       "dualStackAddressFamily": true}),
            ))),
        );
        // v0.15 knows the field, but our speaker is MetalLB's native one, which refuses it.
        let e15 = parse(&set.text(), Version::v0(15)).unwrap_err().to_string();
        assert_eq!(
            e15,
            "peer 10.96.0.100 has dualstackaddressfamily flag set on native bgp mode"
        );
        let e13 = parse(&set.text(), Version::v0(13)).unwrap_err().to_string();
        assert!(e13.contains("requires MetalLB v0.15"), "{e13}");
    }
}
