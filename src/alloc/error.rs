//! The allocator's errors. Their `Display` texts are MetalLB's own messages where MetalLB has
//! one (v0.6.2 `internal/allocator` and `controller`), so they can be shown verbatim.

use std::net::IpAddr;

use serde::Serialize;
use thiserror::Error;

use super::addr::{go_quote, AddrRange};
use super::service::Port;

/// Why two services cannot share an address (MetalLB's `sharingOK`).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[non_exhaustive]
pub enum SharingConflict {
    /// The service on the address has no `allow-shared-ip` key.
    #[error("existing service does not allow sharing")]
    ExistingDoesNotAllow,
    /// The requesting service has no `allow-shared-ip` key.
    #[error("new service does not allow sharing")]
    NewDoesNotAllow,
    /// Both have keys, and they differ.
    #[error(
        "sharing key {} does not match existing sharing key {}",
        go_quote(new),
        go_quote(existing)
    )]
    SharingKey {
        /// The requesting service's key.
        new: String,
        /// The key already on the address.
        existing: String,
    },
    /// Same sharing key, but different backends under `externalTrafficPolicy: Local`. (The text
    /// says "sharing key" for the second value: that is MetalLB's wording.)
    #[error(
        "backend key {} does not match existing sharing key {}",
        go_quote(new),
        go_quote(existing)
    )]
    BackendKey {
        /// The requesting service's backend key.
        new: String,
        /// The backend key already on the address.
        existing: String,
    },
}

/// An allocation or configuration-change failure.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[non_exhaustive]
pub enum AllocError {
    /// The address is in no pool (or only in pools that avoid it as buggy).
    #[error("{} is not allowed in config", go_quote(&ip.to_string()))]
    NotAllowed {
        /// The requested address.
        ip: IpAddr,
    },
    /// The address is used by other services whose sharing key or backend does not match.
    #[error("can't change sharing key for {}, address also in use by {}", go_quote(service), others.join(","))]
    CannotShare {
        /// The requesting service (`namespace/name`).
        service: String,
        /// The other services on the address.
        others: Vec<String>,
        /// Which part of the key differs.
        conflict: SharingConflict,
    },
    /// Another service on the shared address already uses this protocol and port.
    #[error("port {port} is already in use on {}", go_quote(&ip.to_string()))]
    PortInUse {
        /// The clashing port.
        port: Port,
        /// The shared address.
        ip: IpAddr,
    },
    /// No free (or compatibly shared) address left in the named pool.
    #[error("no available IPs in pool {}", go_quote(pool))]
    PoolExhausted {
        /// The pool's name.
        pool: String,
    },
    /// No auto-assign pool has an address left.
    #[error("no available IPs")]
    NoAvailableIps,
    /// The `address-pool` annotation names a pool the configuration does not have.
    #[error("unknown pool {}", go_quote(pool))]
    UnknownPool {
        /// The requested pool's name.
        pool: String,
    },
    /// `spec.loadBalancerIP` is not an IP address.
    #[error("invalid spec.loadBalancerIP {}", go_quote(value))]
    InvalidLoadBalancerIp {
        /// The field's text.
        value: String,
    },
    /// A configuration change would leave an assigned address outside every pool.
    #[error(
        "new config not compatible with assigned IPs: service {} cannot own {} under new config",
        go_quote(service),
        go_quote(&ip.to_string())
    )]
    Incompatible {
        /// The service holding the address (`namespace/name`).
        service: String,
        /// The address it holds.
        ip: IpAddr,
    },
    /// Two pools share a name.
    #[error("duplicate definition of pool {}", go_quote(name))]
    DuplicatePool {
        /// The repeated name.
        name: String,
    },
    /// A pool without a name.
    #[error("missing pool name")]
    MissingPoolName,
    /// A range whose ends are of different families, or whose first address is after its last.
    #[error("invalid IP range {} in pool {}", go_quote(&range.to_string()), go_quote(pool))]
    InvalidRange {
        /// The pool's name.
        pool: String,
        /// The offending range.
        range: AddrRange,
    },
}
