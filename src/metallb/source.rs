//! Where a component's configuration comes from, for the release it plays: the ConfigMap (up to
//! v0.12), or from v0.13 MetalLB's custom resources when any exist and the ConfigMap otherwise.
//! It also carries the release's rule for a configuration that takes addresses away: rejected
//! up to v0.13, applied with the services re-allocated from v0.14.
//!
//! Pure: the watches feed it, the controller and speaker ask it for the text in force.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::DynamicObject;

use super::config::{self, ConfigError, Parsed};
use super::crds::{self, CrdSet};
use super::events::ObjectRef;
use super::watch::Change;
use crate::config::Version;

/// The configuration to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    /// A configuration text ([`parse`] reads both kinds) and the object events go on.
    Text { text: String, obj: ObjectRef },
    /// The ConfigMap has no `config` key.
    MissingKey(ObjectRef),
}

/// The configuration objects seen so far.
#[derive(Debug, Clone)]
pub struct Source {
    version: Version,
    config_map: Option<ConfigMap>,
    crds: CrdSet,
}

impl Source {
    /// A source for release `version`.
    pub fn new(version: Version) -> Source {
        Source {
            version,
            config_map: None,
            crds: CrdSet::default(),
        }
    }

    /// The release played.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Does this release read custom resources (so they must be watched)?
    pub fn reads_crds(&self) -> bool {
        self.version >= Version::FIRST_CRD
    }

    /// Does this release apply a configuration that takes addresses away, re-allocating the
    /// services (v0.14 and later, custom resources only)?
    pub fn reallocates(&self, text: &str) -> bool {
        self.version >= Version::v0(14) && crds::is_crd_text(text)
    }

    /// The ConfigMap changed (`None`: it was deleted).
    pub fn set_config_map(&mut self, cm: Option<ConfigMap>) {
        self.config_map = cm;
    }

    /// Fold in a change of custom-resource kind `kind` (index into
    /// [`crds::CONFIG_KINDS`]); returns whether the configuration text changed.
    pub fn apply_crd(&mut self, kind: usize, change: Change<DynamicObject>) -> bool {
        self.reads_crds() && self.crds.apply(kind, change)
    }

    /// Whether the configuration comes from custom resources now.
    pub fn uses_crds(&self) -> bool {
        self.reads_crds() && !self.crds.is_empty()
    }

    /// The configuration in the objects seen: the custom resources when any exist (and the
    /// release reads them), else the ConfigMap; `None` when there is neither.
    pub fn current(&self) -> Option<Current> {
        if self.uses_crds() {
            let obj = self.crds.anchor()?;
            return Some(Current::Text {
                text: self.crds.text(),
                obj,
            });
        }
        let cm = self.config_map.as_ref()?;
        let obj = ObjectRef::of(cm);
        Some(match super::controller::config_text(cm) {
            Some(text) => Current::Text {
                text: text.to_string(),
                obj,
            },
            None => Current::MissingKey(obj),
        })
    }

    /// BGPPeer names by peer address, when the configuration comes from custom resources.
    pub fn peer_names(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        if self.uses_crds() {
            self.crds.peer_names()
        } else {
            Default::default()
        }
    }

    /// Parse a text [`Source::current`] gave, as this release does.
    pub fn parse(&self, text: &str) -> Result<Parsed, ConfigError> {
        parse(text, self.version)
    }
}

/// Parse a configuration text: custom resources ([`crds::CrdSet::text`]) as release `version`
/// reads them, or a ConfigMap's `config`. A `passwordSecret` is not checked here: its Secret
/// lives in the cluster, not among the objects (MetalLB's speaker reads it; ours does not yet,
/// so such a peer's session runs without TCP MD5).
pub fn parse(text: &str, version: Version) -> Result<Parsed, ConfigError> {
    if crds::is_crd_text(text) {
        crds::parse_ignoring(text, version, crds::NEEDS_CLUSTER)
    } else {
        config::parse(text)
    }
}

/// MetalLB's (v0.14+) `ClearAssignment` event message for a service whose address the new
/// configuration no longer has.
pub fn clear_assignment_message(service: &str, ip: std::net::IpAddr) -> String {
    format!(
        "current IP for \"{service}\" not allowed by config, will attempt for new IP assignment: [\"{ip}\"] is not allowed in config"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cm(text: Option<&str>) -> ConfigMap {
        let mut c = ConfigMap::default();
        c.metadata.name = Some("config".into());
        c.metadata.namespace = Some("metallb-system".into());
        c.data = text.map(|t| BTreeMap::from([("config".to_string(), t.to_string())]));
        c
    }

    const CM: &str = "address-pools:\n- name: p\n  protocol: bgp\n  addresses:\n  - 192.0.2.0/24\n";

    #[test]
    fn the_configmap_is_read_until_custom_resources_exist() {
        let mut s = Source::new(Version::v0(15));
        assert_eq!(s.current(), None);
        s.set_config_map(Some(cm(Some(CM))));
        let Some(Current::Text { text, .. }) = s.current() else {
            panic!("expected the ConfigMap")
        };
        assert_eq!(text, CM);
        assert!(
            !s.reallocates(&text),
            "a ConfigMap change is never re-allocated"
        );
        let tutorial = crds::tests::tutorial();
        for (k, _) in crds::CONFIG_KINDS.iter().enumerate() {
            // Replay the tutorial's objects kind by kind through the source.
            let objects = tutorial_objects(&tutorial, k);
            s.apply_crd(k, Change::Reset(objects));
        }
        let Some(Current::Text { text, obj }) = s.current() else {
            panic!("expected the custom resources")
        };
        assert!(crds::is_crd_text(&text));
        assert_eq!(obj.kind, "IPAddressPool");
        assert!(s.reallocates(&text));
        assert_eq!(s.parse(&text).unwrap().pools[0].name, "my-ip-space");
        for (k, _) in crds::CONFIG_KINDS.iter().enumerate() {
            s.apply_crd(k, Change::Reset(Vec::new()));
        }
        assert!(matches!(s.current(), Some(Current::Text { text, .. }) if text == CM));
    }

    fn tutorial_objects(set: &CrdSet, kind: usize) -> Vec<DynamicObject> {
        set.objects_of(kind)
    }

    #[test]
    fn releases_before_v0_13_ignore_custom_resources_and_v0_13_rejects() {
        let mut s = Source::new(Version::v0(12));
        assert!(!s.reads_crds());
        let tutorial = crds::tests::tutorial();
        assert!(!s.apply_crd(1, Change::Reset(tutorial.objects_of(1))));
        s.set_config_map(Some(cm(None)));
        assert!(matches!(s.current(), Some(Current::MissingKey(_))));
        let s13 = Source::new(Version::v0(13));
        assert!(!s13.reallocates(&tutorial.text()));
    }

    #[test]
    fn a_password_secret_does_not_reject_the_configuration() {
        let mut set = crds::tests::tutorial();
        let peer: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer",
            "metadata": {"name": "router0", "namespace": "metallb-system"},
            "spec": {"myASN": 64500, "peerASN": 64500, "peerAddress": "10.96.0.100",
                     "passwordSecret": {"name": "bgp-secret"}}
        }))
        .unwrap();
        let k = crds::CONFIG_KINDS
            .iter()
            .position(|k| k.kind == "BGPPeer")
            .unwrap();
        set.apply(k, Change::Apply(Box::new(peer)));
        assert!(parse(&set.text(), Version::v0(15)).is_ok());
    }

    #[test]
    fn clear_assignment_reads_like_metallb() {
        assert_eq!(
            clear_assignment_message("default/nginx", "192.168.1.10".parse().unwrap()),
            "current IP for \"default/nginx\" not allowed by config, will attempt for new IP assignment: [\"192.168.1.10\"] is not allowed in config"
        );
    }
}
