//! BGP-4: the wire codec (`packet`), the Sans-IO session state machine (`session`), the
//! Adj-RIB-Out with UPDATE packing (`rib_out`), the tokio socket driver (`driver`), the route
//! announcer (`speaker`) and the receiving router (`router`).
//!
//! `packet`, `session` and `rib_out` are pure; only `driver`, `speaker` and `router` touch
//! tokio. Dependencies point one way: `speaker` -> `driver` -> `session`, `rib_out` -> `packet`.

pub mod driver;
pub mod packet;
pub mod rib_out;
pub mod router;
pub mod session;
pub mod speaker;
pub mod status;
