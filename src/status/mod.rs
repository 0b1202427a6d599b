//! The status model (pure): cluster intent, speakers, routers, config state, events, source
//! health; drift, history, "why not advertised?" and router verdicts derived from them.
//!
//! No tokio, no kube, no sockets, no clocks: times are unix milliseconds passed in. Sources
//! (cluster, speaker metrics, routers) live in `crate::sources` behind the traits here.

pub mod model;

pub use model::*;
pub mod drift;
pub mod explain;
pub mod history;

pub use explain::{router_verdict, verdict, why_not_advertised};
pub mod prom;
pub mod source;
