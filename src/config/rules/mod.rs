//! Semantic rules over a decoded [`Config`]: MetalLB's own `config.Parse` checks (with its
//! wording) and the mistakes MetalLB lets through. Grouped by what they look at; every rule's
//! code, name and default severity are in `config::rule`, its documentation in docs/rules.md.

mod bfd;
pub mod communities;
mod peers;
mod pools;

use super::model::Config;
use super::report::Reporter;
use super::rule;
use super::version::{BgpMode, Version};

/// What the rules need to know besides the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub target: Version,
    pub mode: BgpMode,
}

impl Options {
    /// Go 1.15 (first used by MetalLB v0.10) quotes the input in duration errors.
    fn go_quotes_durations(&self) -> bool {
        self.target >= Version::v0(10)
    }
}

/// Run every rule over one configuration.
pub fn check(config: &Config, options: &Options, reporter: &mut Reporter<'_>) {
    peers::check(config, options, reporter);
    communities::check(config, options, reporter);
    pools::check(config, options, reporter);
    bfd::check(config, options, reporter);
    if config.peers.is_empty() && config.pools.is_empty() {
        reporter
            .report(
                rule::EMPTY_CONFIG,
                config.span.clone(),
                "the configuration defines no peers and no address pools",
            )
            .with_help("MetalLB will run idle: add `peers` and `address-pools`");
    }
}
