//! Address pools, MetalLB's allocator and config-change compatibility (the `validate` dry run).
//!
//! Pure code: no tokio, kube, clocks or I/O. Inputs are spans-free [`PoolSpec`]s (the config
//! parser converts to them) and [`ServiceInfo`]s (read from Service JSON); outputs are values
//! (`Result`s with MetalLB's exact messages, and the serialisable [`dryrun::Report`]).
//!
//! Semantics follow MetalLB v0.6.2's controller with the project's compatibility decisions:
//! pools are tried in configuration order, buggy IPs are IPv4 addresses ending in .0 or .255 at
//! any prefix length. Each allocation costs O(log n) thanks to a per-pool index of used runs.

pub mod addr;
pub mod allocator;
pub mod check;
pub mod dryrun;
pub mod error;
pub mod from_config;
pub mod pool;
pub mod service;

#[cfg(test)]
mod tables;

pub use addr::{is_buggy, AddrRange, Family};
pub use allocator::{Allocator, Assignment, PoolStats};
pub use dryrun::{dryrun, dryrun_with, Report, Semantics, ServiceVerdict, SuggestedFix, Verdict};
pub use error::{AllocError, SharingConflict};
pub use from_config::{pool_specs, pool_specs_from_crds};
pub use pool::PoolSpec;
pub use service::{
    parse_service_list, services_from_value, Port, Protocol, ServiceInfo, ServiceListError,
    ServiceParseError, ShareRequest, TrafficPolicy,
};
