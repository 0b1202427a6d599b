//! Rules about `bgp-communities` aliases and the communities of advertisements.

use super::Options;
use crate::config::model::Config;
use crate::config::report::Reporter;
use crate::config::rule;
use crate::config::suggest::did_you_mean;
use crate::config::version::Version;
use crate::diag::Severity;

/// MetalLB's native speaker refuses more than this many communities on one route.
const MAX_COMMUNITIES: usize = 63;

/// Parse `a:b` as MetalLB does: two decimal 16-bit numbers. Errors carry MetalLB's text.
pub fn parse_community(text: &str) -> Result<u32, String> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 2 {
        return Err(format!("invalid community string {text:?}"));
    }
    let section = |s: &str, which: &str| {
        s.parse::<u16>().map_err(|e| {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow => "value out of range",
                _ => "invalid syntax",
            };
            format!("invalid {which} section of community {s:?}: strconv.ParseUint: parsing {s:?}: {why}")
        })
    };
    let high = section(parts[0], "first")?;
    let low = section(parts[1], "second")?;
    Ok((u32::from(high) << 16) | u32::from(low))
}

pub fn check(config: &Config, options: &Options, r: &mut Reporter<'_>) {
    for alias in &config.communities {
        if let Err(e) = parse_community(&alias.value.value) {
            r.report(
                rule::INVALID_COMMUNITY,
                alias.value.span.clone(),
                format!("parsing community {:?}: {e}", alias.name.value),
            )
            .with_help("a community is two numbers from 0 to 65535, e.g. 64500:100");
        }
    }
    let alias_names: Vec<&str> = config
        .communities
        .iter()
        .map(|a| a.name.value.as_str())
        .collect();
    let mut used = vec![false; alias_names.len()];
    let duplicate_severity = if options.target >= Version::v0(12) {
        Severity::Error
    } else {
        Severity::Warning
    };
    for pool in &config.pools {
        let Some(ads) = &pool.bgp_advertisements else {
            continue;
        };
        for ad in &ads.value {
            let mut values: Vec<(u32, &str)> = Vec::new();
            for token in &ad.communities {
                let value = match alias_names.iter().position(|n| *n == token.value) {
                    Some(i) => {
                        used[i] = true;
                        parse_community(&config.communities[i].value.value).ok()
                    }
                    None => match parse_community(&token.value) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            let undefined = !token.value.contains(':');
                            let code = if undefined {
                                rule::UNDEFINED_COMMUNITY
                            } else {
                                rule::INVALID_COMMUNITY
                            };
                            let d = r.report(
                                code,
                                token.span.clone(),
                                format!(
                                    "invalid community {:?} in BGP advertisement: {e}",
                                    token.value
                                ),
                            );
                            match did_you_mean(&token.value, alias_names.iter().copied()) {
                                Some(near) if undefined => d.with_help(format!("no alias {:?} in bgp-communities; did you mean {near:?}?", token.value)),
                                _ if undefined => d.with_help(format!("define {:?} under bgp-communities, or write the community as a:b", token.value)),
                                _ => d.with_help("a community is two numbers from 0 to 65535, e.g. 64500:100"),
                            };
                            None
                        }
                    },
                };
                let Some(value) = value else { continue };
                if let Some((_, first)) = values.iter().find(|(v, _)| *v == value) {
                    r.report_as(
                        rule::DUPLICATE_COMMUNITY,
                        duplicate_severity,
                        token.span.clone(),
                        format!("duplicate definition of community {:?}", token.value),
                    )
                    .with_help(format!(
                        "it is the same community as {first:?} earlier in this advertisement"
                    ));
                }
                values.push((value, &token.value));
            }
            if ad.communities.len() > MAX_COMMUNITIES {
                r.report(
                    rule::TOO_MANY_COMMUNITIES,
                    ad.span.clone(),
                    format!(
                        "max supported communities is {MAX_COMMUNITIES}, got {}",
                        ad.communities.len()
                    ),
                )
                .with_help("MetalLB's speaker refuses the advertisement at session time");
            }
        }
    }
    for (alias, used) in config.communities.iter().zip(used) {
        if !used {
            r.report(
                rule::UNUSED_COMMUNITY,
                alias.name.span.clone(),
                format!(
                    "community alias {:?} is not used by any advertisement",
                    alias.name.value
                ),
            )
            .with_help("remove it, or reference it from a pool's bgp-advertisements");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_parse_like_metallb() {
        assert_eq!(parse_community("64500:100"), Ok((64500 << 16) | 100));
        assert_eq!(
            parse_community("1234").unwrap_err(),
            "invalid community string \"1234\""
        );
        assert!(parse_community("a:1")
            .unwrap_err()
            .starts_with("invalid first section"));
        assert!(parse_community("1:70000")
            .unwrap_err()
            .contains("value out of range"));
        assert!(parse_community("1:2:3").is_err());
    }
}
