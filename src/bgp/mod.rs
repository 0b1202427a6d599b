//! BGP-4: the wire codec (`packet`), the Sans-IO session state machine (`session`), the
//! Adj-RIB-Out with UPDATE packing (`rib_out`), the tokio socket driver (`driver`), the route
//! announcer (`speaker`) and the receiving router (`router`).
//!
//! `packet`, `session` and `rib_out` are pure; only `driver`, `speaker` and `router` touch
//! tokio. Dependencies point one way: `speaker` -> `driver` -> `session`, `rib_out` -> `packet`.
//!
//! Nothing here may panic on what a peer sends or on what it is asked to send: outside tests,
//! `unwrap`, `expect` and `panic!` are denied, and so are casts that could silently cut a
//! length or count short (they are checked `EncodeError`s); the few casts that cannot
//! truncate carry an `#[allow]` that says why.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(clippy::cast_possible_truncation)]

pub mod driver;
pub mod packet;
pub mod rib_out;
pub mod router;
pub mod session;
pub mod speaker;
pub mod status;
