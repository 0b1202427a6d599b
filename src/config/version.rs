//! MetalLB releases whose configuration rules we apply (`--target-version`), and the BGP
//! implementation mode (`--bgp-mode`) that v0.12 introduced.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A MetalLB minor release from v0.6 (the tutorial's) to v0.16. v0.12 is the last that reads the
/// ConfigMap; v0.13 and later read the custom resources (`config::crd`). Field availability and
/// some error conditions depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    pub minor: u8,
}

impl Version {
    pub const OLDEST: Version = Version { minor: 6 };
    /// The last release that reads the ConfigMap: the default target for ConfigMaps.
    pub const LATEST: Version = Version { minor: 12 };
    /// The first release that reads the custom resources (and ignores the ConfigMap).
    pub const FIRST_CRD: Version = Version { minor: 13 };
    /// The newest release we know: the default target for custom resources.
    pub const NEWEST: Version = Version { minor: 16 };

    pub const fn v0(minor: u8) -> Version {
        Version { minor }
    }
}

impl Default for Version {
    fn default() -> Self {
        Version::LATEST
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v0.{}", self.minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported MetalLB version {0:?}: expected one of v0.6 through v0.16 (v0.6 to v0.12 read the ConfigMap, v0.13 to v0.16 the custom resources; for example v0.12 or 0.15.3)")]
pub struct VersionError(String);

impl FromStr for Version {
    type Err = VersionError;

    /// Accepts `v0.12`, `0.12`, `v0.12.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionError(s.to_string());
        let digits = s.strip_prefix('v').unwrap_or(s);
        let mut parts = digits.split('.');
        if parts.next() != Some("0") {
            return Err(err());
        }
        let minor: u8 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(err)?;
        if let Some(patch) = parts.next() {
            patch.parse::<u16>().map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        let version = Version::v0(minor);
        if version < Version::OLDEST || version > Version::NEWEST {
            return Err(err());
        }
        Ok(version)
    }
}

/// Which BGP implementation the speaker runs (MetalLB v0.12: `native` or `frr`). It decides
/// whether IPv6 can be announced and whether BFD and keepalive-time are available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BgpMode {
    #[default]
    Native,
    Frr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        assert_eq!("v0.12".parse::<Version>().unwrap(), Version::v0(12));
        assert_eq!("0.6".parse::<Version>().unwrap(), Version::v0(6));
        assert_eq!("v0.12.1".parse::<Version>().unwrap(), Version::v0(12));
        assert_eq!("v0.16".parse::<Version>().unwrap(), Version::NEWEST);
        assert_eq!("0.13.12".parse::<Version>().unwrap(), Version::FIRST_CRD);
        assert!("v0.17".parse::<Version>().is_err());
        assert!("v1.0".parse::<Version>().is_err());
        assert!("v0.5".parse::<Version>().is_err());
        assert!("latest".parse::<Version>().is_err());
    }
}
