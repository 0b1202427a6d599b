//! Fuzz the whole linter: any bytes that are UTF-8 go through YAML parsing, ConfigMap detection,
//! decoding and every rule, in both input modes. Run: `cargo +nightly fuzz run validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metallbctl::config::{lint, InputKind, Options};
use metallbctl::diag::SourceFile;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let file = SourceFile::new("fuzz.yaml", text);
        for kind in [InputKind::Auto, InputKind::Raw] {
            let _ = lint(&file, kind, &Options::default());
        }
    }
});
