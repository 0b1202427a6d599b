//! cargo-fuzz entry for the `validate` target; its body (and what it checks) is in
//! `fuzz/targets.rs`, shared with the stable harness `examples/fuzz.rs`.
//! Run: `cargo +nightly fuzz run validate`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::validate(data);
});
