//! Fuzz target: framing and decoding arbitrary bytes must never panic, with either AS
//! width, and a decoded message must re-encode to something that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metallbctl::bgp::packet::{frame, Ctx, Message};

fuzz_target!(|data: &[u8]| {
    for four_octet_as in [false, true] {
        let ctx = Ctx { four_octet_as };
        let mut rest = data;
        while let Ok(Some(n)) = frame(rest) {
            if let Ok(m) = Message::decode(&rest[..n], &ctx) {
                let again = Message::decode(&m.encode(&ctx), &ctx);
                assert_eq!(again.as_ref(), Ok(&m));
            }
            rest = &rest[n..];
        }
    }
});
