//! cargo-fuzz entry for the `bgp_session` target; its body (and what it checks) is in
//! `fuzz/targets.rs`, shared with the stable harness `examples/fuzz.rs`.
//! Run: `cargo +nightly fuzz run bgp_session`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::bgp_session(data);
});
