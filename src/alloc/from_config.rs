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
}
