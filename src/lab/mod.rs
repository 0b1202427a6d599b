//! The lab: a simulated single-machine cluster. The Kubernetes-compatible API server
//! (`apiserver`), the runtime that turns workloads into running pods and components
//! (`runtime`), the virtual network (`net`), the test routers (`routers`), topologies
//! (`topology`), and the daemon that ties them together (`daemon`, `control`).
//! Nothing here may reach beyond loopback.

pub mod apiserver;
pub mod control;
pub mod daemon;
pub mod net;
pub mod routers;
pub mod runtime;
pub mod topology;
