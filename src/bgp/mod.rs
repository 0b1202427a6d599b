//! BGP-4: the wire codec (`packet`), the Sans-IO session state machine (`session`), the tokio
//! socket driver (`driver`), the route announcer (`speaker`) and the receiving router (`router`).
//!
//! `packet` and `session` are pure; only `driver`, `speaker` and `router` touch tokio.

pub mod driver;
pub mod packet;
pub mod router;
pub mod session;
pub mod speaker;
pub mod status;
