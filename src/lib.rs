//! metallbctl: validate, install, watch and simulate MetalLB in BGP mode.
//!
//! Pure core modules (`config`, `diag`, `alloc`, `bgp::packet`, `bgp::session`) do no I/O and
//! must not depend on tokio, kube or ratatui. Shells (`cli`, `lab`, `tui`, drivers) stay thin.
//!
//! Outside tests nothing may `unwrap`, `expect` or `panic!`: bad input and failed I/O are errors
//! with context, never a crash. The few justified exceptions carry an `#[allow]` with the reason.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod alloc;
pub mod bgp;
pub mod cli;
pub mod config;
pub mod diag;
pub mod kube;
pub mod lab;
pub mod metallb;
pub mod sources;
pub mod status;
pub mod table;
pub mod tui;
