//! The linter never panics, whatever it is given: arbitrary text, and mutations of real
//! configurations (the interesting inputs are near-valid ones).

use metallbctl::config::{lint, InputKind, Options};
use metallbctl::diag::SourceFile;
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../manifests/tutorial-1.yaml"),
    include_str!("../../manifests/tutorial-4.yaml"),
    include_str!("../fixtures/validate/several-findings.yaml"),
];

fn check(text: &str) {
    let file = SourceFile::new("p.yaml", text);
    for kind in [InputKind::Auto, InputKind::Raw] {
        if let Ok(report) = lint(&file, kind, &Options::default()) {
            for d in report.diagnostics {
                let loc = d.location.expect("rules always locate findings");
                assert!(loc.span.end <= text.len() && loc.span.start <= loc.span.end);
                assert!(text.is_char_boundary(loc.span.start));
            }
        }
    }
}

/// Mutations that keep YAML-ish structure: replace a byte range with YAML-significant tokens.
fn mutated() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "",
        ":",
        "- ",
        "  ",
        "\n",
        "|",
        ">",
        "\"",
        "'",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "#",
        "0",
        "-1",
        "99999999999",
        "::1",
        "/33",
        "-",
        "1.2.3.4",
        "true",
        "~",
        "\t",
        "é",
        "\u{0}",
    ]);
    (
        prop::sample::select(SEEDS.to_vec()),
        0usize..2000,
        0usize..12,
        tokens,
    )
        .prop_map(|(seed, at, len, token)| {
            let mut at = at.min(seed.len());
            while !seed.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + len).min(seed.len());
            while !seed.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}{}", &seed[..at], token, &seed[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn mutated_configs_never_panic(text in mutated()) {
        check(&text);
    }

    #[test]
    fn twice_mutated_configs_never_panic(a in mutated(), at in 0usize..2000, token in "[-:|>\\[\\]{} \\n0-9a-z./]{0,6}") {
        let mut at = at.min(a.len());
        while !a.is_char_boundary(at) { at -= 1; }
        check(&format!("{}{}{}", &a[..at], token, &a[at..]));
    }
}
