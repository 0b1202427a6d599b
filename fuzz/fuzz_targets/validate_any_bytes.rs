//! cargo-fuzz entry for the `validate_any_bytes` target; its body (and what it checks) is in
//! `fuzz/targets.rs`, shared with the stable harness `examples/fuzz.rs`.
//! Run: `cargo +nightly fuzz run validate_any_bytes`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::validate_any_bytes(data);
});
