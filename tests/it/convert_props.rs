//! `convert` then the custom-resource front end gives the same allocations as the ConfigMap:
//! for generated ConfigMap configurations (pools of CIDRs and ranges, avoid-buggy-ips,
//! auto-assign, peers), the pools our controller builds from `convert`'s objects (through
//! `metallb::crds`, as it reads them from a cluster) hand the same addresses, in the same order,
//! to the same services as the pools it builds from the ConfigMap.

use kube::api::DynamicObject;
use metallbctl::alloc::{Allocator, ShareRequest};
use metallbctl::config::{lint_body_text, Options, Version};
use metallbctl::metallb::crds::{self, CrdSet, CONFIG_KINDS};
use metallbctl::metallb::watch::Change;
use proptest::prelude::*;

/// One pool: which /24 of 198.51.0.0/16 (distinct per pool), its form, and its flags.
fn pool() -> impl Strategy<Value = (u8, u8, bool, Option<bool>, bool)> {
    (
        0u8..=255,
        0u8..3,
        any::<bool>(),
        prop::option::of(any::<bool>()),
        any::<bool>(),
    )
}

fn config_text(pools: &[(u8, u8, bool, Option<bool>, bool)]) -> String {
    let mut text = String::from(
        "peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.96.0.100\naddress-pools:\n",
    );
    let mut seen = std::collections::BTreeSet::new();
    for (i, (net, form, avoid, auto, bgp)) in pools.iter().enumerate() {
        if !seen.insert(*net) {
            continue;
        }
        let addresses = match form {
            0 => format!("198.51.{net}.0/24"),
            1 => format!("198.51.{net}.250-198.51.{net}.255"),
            _ => format!("198.51.{net}.0/30"),
        };
        text.push_str(&format!(
            "- name: pool-{i}\n  protocol: {}\n  addresses:\n  - {addresses}\n",
            if *bgp { "bgp" } else { "layer2" }
        ));
        if *avoid {
            text.push_str("  avoid-buggy-ips: true\n");
        }
        if let Some(a) = auto {
            text.push_str(&format!("  auto-assign: {a}\n"));
        }
    }
    text
}

/// Allocate `n` services in order; the address each gets (or none).
fn allocations(pools: Vec<metallbctl::alloc::PoolSpec>, n: usize) -> Vec<Option<String>> {
    let mut alloc = Allocator::new(pools).expect("pools");
    (0..n)
        .map(|i| {
            alloc
                .allocate(&format!("default/svc{i}"), None, &ShareRequest::default())
                .ok()
                .map(|ip| ip.to_string())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn convert_then_crds_allocates_like_the_configmap(
        pools in prop::collection::vec(pool(), 1..5),
        services in 0usize..40,
    ) {
        let text = config_text(&pools);
        let from_cm = metallbctl::metallb::config::parse(&text).expect("generated config is valid");
        let (config, _) = lint_body_text("config", &text, &Options::default());
        let objects = metallbctl::config::crd::convert::convert(&config.expect("config"), "metallb-system")
            .expect("convert");
        let mut set = CrdSet::default();
        for (k, kind) in CONFIG_KINDS.iter().enumerate() {
            let of_kind: Vec<DynamicObject> = objects
                .iter()
                .filter(|o| o["kind"] == kind.kind)
                .map(|o| serde_json::from_value(o.clone()).expect("object"))
                .collect();
            set.apply(k, Change::Reset(of_kind));
        }
        let from_crds = crds::parse(&set.text(), Version::v0(15)).expect("converted objects are valid");
        prop_assert_eq!(
            allocations(from_cm.pools.clone(), services),
            allocations(from_crds.pools.clone(), services)
        );
        // The BGP pools are announced alike.
        let bgp = |p: &metallbctl::metallb::config::Parsed| p.adverts.keys().cloned().collect::<Vec<_>>();
        prop_assert_eq!(bgp(&from_cm), bgp(&from_crds));
    }
}
