//! The registry of lint rules: one entry per stable code. docs/rules.md documents every entry
//! (a test keeps the two in step) and `metallbctl validate --explain CODE` prints that section.

use crate::diag::{RuleInfo, Severity};

/// A rule's identity. Codes never change meaning once released.
pub type Rule = RuleInfo;

macro_rules! rules {
    ($($ident:ident = $code:literal, $name:literal, $sev:ident, $summary:literal;)*) => {
        $(pub const $ident: Rule = Rule {
            code: $code, name: $name, severity: Severity::$sev, summary: $summary,
        };)*
        /// Every rule, in code order.
        pub const ALL: &[Rule] = &[$($ident),*];
    };
}

rules! {
    YAML_SYNTAX = "MLB001", "yaml-syntax", Error, "the configuration is not valid YAML";
    UNKNOWN_FIELD = "MLB002", "unknown-field", Error, "a key MetalLB does not know";
    WRONG_TYPE = "MLB003", "wrong-type", Error, "a value of the wrong type";
    FIELD_TOO_NEW = "MLB004", "field-too-new", Error, "a field the target MetalLB release does not support";
    MISSING_FIELD = "MLB005", "missing-field", Error, "a required field is missing";
    DUPLICATE_KEY = "MLB006", "duplicate-key", Error, "the same key twice in one mapping";
    NO_CONFIG = "MLB007", "no-metallb-config", Warning, "an input holds no MetalLB configuration";
    INVALID_ASN = "MLB010", "invalid-asn", Error, "an ASN of 0";
    INVALID_PEER_ADDRESS = "MLB011", "invalid-peer-address", Error, "peer-address is not an IP address";
    INVALID_HOLD_TIME = "MLB012", "invalid-hold-time", Error, "hold-time is not a valid duration of 0 or at least 3s";
    HOLD_TIME_WITHOUT_UNIT = "MLB013", "hold-time-without-unit", Error, "hold-time is a bare number without a unit";
    HOLD_TIME_TOO_LARGE = "MLB014", "hold-time-too-large", Error, "hold-time above 65535 seconds";
    INVALID_ROUTER_ID = "MLB015", "invalid-router-id", Error, "router-id is not an IP address";
    IPV6_ROUTER_ID = "MLB016", "ipv6-router-id", Warning, "an IPv6 router-id, which MetalLB silently ignores";
    INVALID_NODE_SELECTOR = "MLB017", "invalid-node-selector", Error, "a node selector Kubernetes would not accept";
    DUPLICATE_PEER = "MLB018", "duplicate-peer", Error, "two identical peers";
    INVALID_SOURCE_ADDRESS = "MLB019", "invalid-source-address", Error, "source-address is not an IP address";
    INVALID_KEEPALIVE = "MLB020", "invalid-keepalive-time", Error, "keepalive-time invalid or above hold-time";
    EBGP_MULTIHOP_ON_IBGP = "MLB021", "ebgp-multihop-on-ibgp", Error, "ebgp-multihop set on an iBGP peer";
    UNKNOWN_BFD_PROFILE = "MLB022", "unknown-bfd-profile", Error, "a peer references a BFD profile that is not defined";
    AS_TRANS = "MLB023", "as-trans", Warning, "AS 23456 (AS_TRANS) used as an ASN";
    PLAINTEXT_PASSWORD = "MLB024", "plaintext-password", Info, "a BGP password written in the configuration";
    PEER_IN_POOL = "MLB025", "peer-address-in-pool", Warning, "a peer address inside an address pool";
    FRR_MODE_CONFLICT = "MLB026", "frr-mode-conflict", Error, "peers that FRR mode cannot run together";
    NATIVE_MODE_UNSUPPORTED = "MLB027", "native-mode-unsupported", Error, "a feature the native BGP speaker does not have";
    INVALID_COMMUNITY = "MLB030", "invalid-community", Error, "a community that is not two 16-bit numbers";
    UNDEFINED_COMMUNITY = "MLB031", "undefined-community-alias", Error, "an advertisement uses a community alias that is not defined";
    UNUSED_COMMUNITY = "MLB032", "unused-community-alias", Warning, "a community alias nothing uses";
    DUPLICATE_COMMUNITY = "MLB033", "duplicate-community", Error, "the same community twice in one advertisement";
    TOO_MANY_COMMUNITIES = "MLB034", "too-many-communities", Error, "more than 63 communities on one advertisement";
    UNKNOWN_PROTOCOL = "MLB041", "unknown-protocol", Error, "a pool protocol other than bgp or layer2";
    NO_ADDRESSES = "MLB042", "no-addresses", Error, "a pool with an empty address list";
    INVALID_ADDRESS = "MLB043", "invalid-address", Error, "an address entry that is neither a CIDR nor a range";
    CIDR_HOST_BITS = "MLB044", "cidr-host-bits", Warning, "a CIDR with host bits set";
    RANGE_REVERSED = "MLB045", "range-reversed", Error, "a range whose start is after its end";
    RANGE_MIXED_FAMILIES = "MLB046", "range-mixed-families", Error, "a range from IPv4 to IPv6 or back";
    SUSPICIOUSLY_WIDE = "MLB047", "suspiciously-wide", Warning, "a range or CIDR so wide it looks like a typo";
    NO_USABLE_ADDRESS = "MLB048", "no-usable-address", Error, "a pool left with no usable address";
    IPV6_NOT_ANNOUNCEABLE = "MLB049", "ipv6-not-announceable", Error, "IPv6 in a BGP pool the target cannot announce";
    DUPLICATE_POOL = "MLB050", "duplicate-pool", Error, "two pools with one name";
    OVERLAPPING_ADDRESSES = "MLB051", "overlapping-addresses", Error, "address entries that overlap";
    ADVERTISEMENTS_IN_LAYER2 = "MLB052", "advertisements-in-layer2", Error, "bgp-advertisements in a layer2 pool";
    INVALID_AGGREGATION = "MLB053", "invalid-aggregation-length", Error, "an aggregation length outside 0..32 (IPv4) or 0..128 (IPv6)";
    AGGREGATION_SHORTER_THAN_PREFIX = "MLB054", "aggregation-shorter-than-prefix", Error, "an aggregation length shorter than a pool prefix";
    DUPLICATE_ADVERTISEMENT = "MLB055", "duplicate-advertisement", Error, "two identical advertisements in one pool";
    LOCALPREF_IGNORED = "MLB056", "localpref-ignored", Info, "localpref set where only eBGP peers would receive it";
    INVALID_BFD_PROFILE = "MLB060", "invalid-bfd-profile", Error, "a BFD profile value out of range";
    DUPLICATE_BFD_PROFILE = "MLB061", "duplicate-bfd-profile", Error, "two BFD profiles with one name";
    EMPTY_CONFIG = "MLB090", "empty-config", Info, "a configuration with no peers and no pools";
    SERVICE_LOSES_IP = "MLB100", "service-loses-ip", Error, "the configuration would take a service's address away, so MetalLB rejects it";
    SERVICE_MOVES_POOL = "MLB101", "service-moves-pool", Info, "a service keeps its address, which now belongs to another pool";
    PENDING_NOW_ALLOCATABLE = "MLB102", "pending-service-allocatable", Info, "a service waiting for an address would get one";
    SERVICE_STAYS_PENDING = "MLB103", "service-stays-pending", Warning, "a LoadBalancer service would still get no address";
    SERVICE_REALLOCATED = "MLB104", "service-reallocated", Error, "from v0.14, the configuration takes a service's address away and MetalLB gives it another";
    UNKNOWN_KIND = "MLB200", "unknown-kind", Error, "a metallb.io kind or apiVersion that MetalLB does not serve";
    KIND_REMOVED = "MLB201", "kind-removed", Error, "a kind the target release no longer serves (AddressPool after v0.13)";
    DEPRECATED_API = "MLB202", "deprecated-api", Warning, "a deprecated kind or version (BGPPeer v1beta1, AddressPool)";
    SCHEMA_VIOLATION = "MLB203", "schema-violation", Error, "a value outside the CRD schema's range, enum or validation rule";
    WRONG_NAMESPACE = "MLB204", "wrong-namespace", Error, "a MetalLB object outside MetalLB's namespace";
    UNKNOWN_REFERENCE = "MLB205", "unknown-reference", Warning, "an advertisement names a pool or peer that no object defines";
    PASSWORD_SECRET = "MLB206", "password-secret", Error, "passwordSecret names no usable basic-auth Secret";
    PASSWORD_AND_SECRET = "MLB207", "password-and-secret", Error, "a peer with both password and passwordSecret";
    PEER_ASN = "MLB208", "peer-asn", Error, "a peer with neither or both of peerASN and dynamicASN";
    PEER_ADDRESS_OR_INTERFACE = "MLB209", "peer-address-or-interface", Error, "a peer with neither or both of peerAddress and interface";
    MIXED_FORMATS = "MLB210", "mixed-configmap-and-crds", Error, "a MetalLB ConfigMap and MetalLB custom resources in one input";
    FORMAT_NOT_READ = "MLB211", "format-not-read", Error, "a format the target release does not read";
    DUPLICATE_OBJECT = "MLB212", "duplicate-object", Error, "two objects of one kind with one name, or two community aliases with one name";
    POOL_NOT_ADVERTISED = "MLB213", "pool-not-advertised", Warning, "an IPAddressPool that no advertisement announces";
}

/// Look a rule up by code (`MLB013`) or name (`hold-time-without-unit`), case-insensitively.
pub fn find(code_or_name: &str) -> Option<Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in ALL {
            assert!(codes.insert(r.code), "duplicate code {}", r.code);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert!(r.code.len() == 6 && r.code.starts_with("MLB"), "{}", r.code);
        }
    }

    #[test]
    fn every_rule_is_documented_in_docs_rules_md() {
        let docs = include_str!("../../docs/rules.md");
        for r in ALL {
            let heading = format!("## {} {}", r.code, r.name);
            assert!(docs.contains(&heading), "docs/rules.md lacks `{heading}`");
        }
        for line in docs.lines().filter(|l| l.starts_with("## MLB")) {
            let code = &line[3..9];
            assert!(
                find(code).is_some(),
                "docs/rules.md documents unknown {code}"
            );
        }
    }
}
