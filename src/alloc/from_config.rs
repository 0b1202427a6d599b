//! From the linter's configuration model to the allocator's pools.

use super::addr::AddrRange;
use super::pool::PoolSpec;
use crate::config::addr::parse_entry;
use crate::config::model::Config;

/// The pools of a configuration as the allocator sees them, in configuration order. Entries
/// that do not parse, or are reversed ranges (which MetalLB v0.6 silently ignores), are left
/// out: the linter reports them. Pools without a name are left out too (MetalLB rejects them).
pub fn pool_specs(config: &Config) -> Vec<PoolSpec> {
    config
        .pools
        .iter()
        .filter_map(|pool| {
            let name = pool.name.as_ref()?.value.clone();
            let ranges = pool
                .address_entries()
                .iter()
                .filter_map(|entry| parse_entry(&entry.value, true).ok())
                .map(|block| AddrRange::new(block.first, block.last))
                .collect();
            let auto_assign = pool.auto_assign.as_ref().is_none_or(|a| a.value);
            Some(
                PoolSpec::new(name, ranges)
                    .avoid_buggy_ips(pool.avoids_buggy_ips())
                    .auto_assign(auto_assign),
            )
        })
        .collect()
}

/// The pools of a cluster's IPAddressPool objects (JSON, as the API server returns them), in
/// the order given. Addresses that do not parse are left out, as are objects without a name.
pub fn pool_specs_from_crds(objects: &[serde_json::Value]) -> Vec<PoolSpec> {
    objects
        .iter()
        .filter_map(|o| {
            let name = o.pointer("/metadata/name")?.as_str()?.to_string();
            let spec = o.get("spec");
            let ranges = spec
                .and_then(|s| s.get("addresses"))
                .and_then(|a| a.as_array())
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|a| parse_entry(a.as_str()?, true).ok())
                .map(|block| AddrRange::new(block.first, block.last))
                .collect();
            let flag = |key: &str, default: bool| {
                spec.and_then(|s| s.get(key))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(default)
            };
            Some(
                PoolSpec::new(name, ranges)
                    .avoid_buggy_ips(flag("avoidBuggyIPs", false))
                    .auto_assign(flag("autoAssign", true)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{lint_body_text, Options};

    #[test]
    fn tutorial_three_becomes_one_pool_avoiding_buggy_ips() {
        let text = "address-pools:\n- name: my-ip-space\n  protocol: bgp\n  avoid-buggy-ips: true\n  addresses: [198.51.100.0/24, 10.0.0.5-10.0.0.9]\n";
        let (config, diags) = lint_body_text("c", text, &Options::default());
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        let pools = pool_specs(&config.unwrap());
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].name, "my-ip-space");
        assert!(pools[0].avoid_buggy_ips && pools[0].auto_assign);
        assert_eq!(pools[0].ranges[1].first.to_string(), "10.0.0.5");
        assert_eq!(pools[0].ranges[0].last.to_string(), "198.51.100.255");
    }

    #[test]
    fn ip_address_pool_objects_become_pools_with_crd_defaults() {
        let objects: Vec<serde_json::Value> = serde_json::from_str(
            r#"[{"metadata":{"name":"a"},"spec":{"addresses":["198.51.100.0/24","10.0.0.5-10.0.0.9","junk"]}},
                {"metadata":{"name":"b"},"spec":{"addresses":["192.0.2.0/28"],"autoAssign":false,"avoidBuggyIPs":true}},
                {"spec":{"addresses":["192.0.2.0/28"]}}]"#,
        )
        .unwrap();
        let pools = pool_specs_from_crds(&objects);
        assert_eq!(pools.len(), 2);
        assert_eq!(pools[0].name, "a");
        assert_eq!(pools[0].ranges.len(), 2);
        assert!(pools[0].auto_assign && !pools[0].avoid_buggy_ips);
        assert!(!pools[1].auto_assign && pools[1].avoid_buggy_ips);
    }
}
