//! The lab: a simulated single-machine cluster. The Kubernetes-compatible API server
//! (`apiserver`), the runtime that turns workloads into running pods and components
//! (`runtime`), the virtual network (`net`), the test routers (`routers`), topologies
//! (`topology`), the daemon that ties them together (`daemon`), starting, stopping and asking
//! it from outside (`control`), adding a lab to a kubeconfig (`kubeconfig`) and the tutorial
//! (`tutorial`).
//! Nothing here may reach beyond loopback.

pub mod apiserver;
pub mod control;
pub mod daemon;
pub mod kubeconfig;
pub mod net;
pub mod router_cli;
pub mod routers;
pub mod runtime;
pub mod topology;
pub mod tutorial;
