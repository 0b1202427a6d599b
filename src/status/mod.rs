//! The status model (pure): cluster intent, speakers, routers, config state, events, source
//! health; drift, history, "why not advertised?", router verdicts and route rows derived from
//! them.
//!
//! No tokio, no kube, no sockets, no clocks: times are unix milliseconds passed in. Sources
//! (cluster, speaker metrics, routers) live in `crate::sources` behind the traits in
//! [`source`]. The JSON of [`Snapshot`] is documented in docs/status.md and
//! docs/status.schema.json.

pub mod drift;
pub mod explain;
pub mod history;
pub mod model;
pub mod prom;
pub mod routes;
pub mod sessions;
pub mod source;

pub use explain::{router_verdict, verdict, why_not_advertised};
pub use model::*;
