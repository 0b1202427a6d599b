//! The lab: a simulated single-machine cluster. Today it holds the Kubernetes-compatible API
//! server (`apiserver`); the runtime, virtual network and routers join it in later issues.
//! Nothing here may reach beyond loopback.

pub mod apiserver;
