//! Rules about `bfd-profiles` (MetalLB v0.12, FRR mode).

use super::Options;
use crate::config::model::{Config, Spanned};
use crate::config::report::Reporter;
use crate::config::rule;
use crate::config::version::BgpMode;

pub fn check(config: &Config, options: &Options, r: &mut Reporter<'_>) {
    if options.mode == BgpMode::Native {
        if let Some(first) = config.bfd_profiles.first() {
            r.report(
                rule::NATIVE_MODE_UNSUPPORTED,
                first.span.clone(),
                "bfd profile section set on native bgp mode",
            )
            .with_help("BFD needs the FRR speaker (--bgp-mode frr)");
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, profile) in config.bfd_profiles.iter().enumerate() {
        let Some(name) = &profile.name else {
            r.report(
                rule::MISSING_FIELD,
                profile.span.clone(),
                format!("bfd profile #{}: missing bfd profile name", i + 1),
            );
            continue;
        };
        if names.contains(&name.value.as_str()) {
            r.report(
                rule::DUPLICATE_BFD_PROFILE,
                name.span.clone(),
                format!("found duplicate bfd profile name {}", name.value),
            );
        }
        names.push(&name.value);
        let ranges: [(&str, &Option<Spanned<u32>>, u32, u32); 4] = [
            ("receive-interval", &profile.receive_interval, 10, 60_000),
            ("transmit-interval", &profile.transmit_interval, 10, 60_000),
            ("detect-multiplier", &profile.detect_multiplier, 2, 255),
            ("echo-interval", &profile.echo_interval, 10, 60_000),
        ];
        for (key, value, min, max) in ranges {
            out_of_range(key, value, min, max, r);
        }
        out_of_range("minimum-ttl", &profile.minimum_ttl, 1, 254, r);
    }
}

fn out_of_range(key: &str, value: &Option<Spanned<u32>>, min: u32, max: u32, r: &mut Reporter<'_>) {
    if let Some(v) = value {
        if v.value < min || v.value > max {
            r.report(
                rule::INVALID_BFD_PROFILE,
                v.span.clone(),
                format!(
                    "invalid {key} value {}: must be between {min} and {max}",
                    v.value
                ),
            );
        }
    }
}
