//! The integration tests, in one binary: linking one test executable instead of one per file
//! saves minutes on a small machine. Each module is one area (most were a `tests/*.rs` file of
//! their own, under the same name); filter with `cargo test --test it MODULE::`, for example
//! `cargo test --test it lab_lifecycle::`. Everything the modules share lives in `support`.

mod support;

mod alloc_dryrun;
mod alloc_kube;
mod alloc_prop;
mod architecture;
mod bgp_cli;
mod bgp_codec;
mod bgp_faults;
mod bgp_hostile;
mod bgp_interop;
mod bgp_loopback;
mod bgp_session;
mod ci_docs;
mod convert;
mod convert_props;
mod crd_schema;
mod crds_kubectl;
mod first_hour;
mod install;
mod install_release;
mod lab_auth;
mod lab_e2e;
mod lab_faults;
mod lab_fidelity;
mod lab_http;
mod lab_kube_rs;
mod lab_kubectl;
mod lab_lifecycle;
mod lab_limits;
mod lab_portforward;
mod lab_python;
mod lab_restart;
mod lab_scale;
mod lab_secrets;
mod metallb_cli;
mod metallb_crds;
mod metallb_features;
mod metallb_kubectl;
mod metallb_tutorial;
mod status_cli;
mod tui_tmux;
mod validate_any_bytes;
mod validate_cli;
mod validate_crds;
mod validate_dryrun;
mod validate_props;
mod validate_rules;
