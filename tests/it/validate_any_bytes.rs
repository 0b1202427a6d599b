//! `validate` of any byte string exits 0, 1 or 2 and never panics: random bytes, and byte-level
//! mutations of every fixture and manifest (near-valid inputs reach the deep code), through the
//! library entry point (`cli::validate::check`, every output format) for speed, and a handful
//! of hostile inputs through the binary (where a panic or a stack overflow would show as a
//! signal or exit 101).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::Parser;
use metallbctl::cli::{validate, Cli, Command};
use proptest::prelude::*;

use crate::support::{metallbctl, repo_path, TempDir};

/// Every YAML file under `dir`, recursively.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        {
            out.push(p);
        }
    }
}

/// The fixtures and manifests, as bytes (the seeds of the mutations).
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut files = Vec::new();
        yaml_files(&repo_path("tests/fixtures"), &mut files);
        yaml_files(&repo_path("manifests"), &mut files);
        files.sort();
        let seeds: Vec<Vec<u8>> = files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .filter(|b| b.len() < 200_000)
            .collect();
        assert!(seeds.len() > 10, "fixtures found: {}", seeds.len());
        seeds
    })
}

const FORMATS: [&str; 5] = ["text", "json", "github", "sarif", "junit"];

/// Run `validate` on `bytes` in process; the exit status it would have.
fn exit_status(dir: &Path, bytes: &[u8], format: &str, raw: bool) -> u8 {
    let path = dir.join("input.yaml");
    std::fs::write(&path, bytes).expect("write input");
    let mut argv = vec![
        "metallbctl".to_string(),
        "validate".into(),
        path.display().to_string(),
        "--format".into(),
        format.into(),
        "--color".into(),
        "never".into(),
    ];
    if raw {
        argv.push("--raw".into());
    }
    let cli = Cli::try_parse_from(&argv).expect("arguments parse");
    let Command::Validate(args) = cli.command else {
        unreachable!("parsed a validate command");
    };
    match validate::check(&cli.global, args) {
        Ok(checked) => checked.code,
        // main prints the error and exits 2.
        Err(_) => 2,
    }
}

/// A seed with up to 4 byte-level edits: replace, insert, delete, truncate, with bytes that
/// matter to YAML and UTF-8 (and arbitrary ones).
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        prop::sample::select(b":-[]{}|>&*!#'\"\n\t %@`,?".to_vec()),
        any::<u8>(),
        prop::sample::select(vec![0x00u8, 0x80, 0xc3, 0xe2, 0xff, 0xfe]),
    ];
    let edit = (0u8..4, any::<prop::sample::Index>(), byte, 0usize..16);
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(edit, 1..5),
    )
        .prop_map(|(which, edits)| {
            let seeds = seeds();
            let mut b = seeds[which.index(seeds.len())].clone();
            for (op, at, byte, len) in edits {
                let i = at.index(b.len() + 1);
                match op {
                    0 if i < b.len() => b[i] = byte,
                    1 => b.insert(i, byte),
                    2 => {
                        let end = (i + len).min(b.len());
                        b.drain(i..end);
                    }
                    _ => b.truncate(i),
                }
            }
            b
        })
}

fn dir() -> &'static TempDir {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new("any-bytes"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_exit_0_1_or_2(bytes in prop::collection::vec(any::<u8>(), 0..600), f in 0usize..5, raw: bool) {
        let case = TempDir::new("any-bytes-case");
        let code = exit_status(&case, &bytes, FORMATS[f], raw);
        prop_assert!(code <= 2, "exit {code}");
    }

    #[test]
    fn mutated_fixtures_exit_0_1_or_2(bytes in mutated(), f in 0usize..5, raw: bool) {
        let case = TempDir::new("any-bytes-case");
        let code = exit_status(&case, &bytes, FORMATS[f], raw);
        prop_assert!(code <= 2, "exit {code}");
    }
}

#[test]
fn unmutated_seeds_exit_0_1_or_2() {
    for seed in seeds() {
        let code = exit_status(dir(), seed, "json", false);
        assert!(code <= 2, "exit {code}");
    }
}

/// Hostile inputs through the binary: a panic would exit 101, a stack overflow or abort would
/// die by a signal (no exit code at all).
#[test]
fn hostile_inputs_through_the_binary_exit_0_1_or_2() {
    let deep_flow = "[".repeat(50_000);
    let deep_block: String = (0..3_000)
        .map(|i| format!("{}- \n", " ".repeat(i)))
        .collect();
    let laughs = {
        let mut s = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            s.push_str(&format!("{next}: &{next} [{refs}]\n"));
        }
        s
    };
    let mut bytes: Vec<u8> = Vec::with_capacity(4096);
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x & 0xff) as u8);
    }
    let mut tutorial = std::fs::read(repo_path("manifests/tutorial-1.yaml")).expect("manifest");
    tutorial.extend_from_slice(&[0xff, 0xfe, 0x00]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("random bytes", bytes),
        ("invalid UTF-8 after a manifest", tutorial),
        ("deep flow nesting", deep_flow.into_bytes()),
        ("deep block nesting", deep_block.into_bytes()),
        ("alias expansion", laughs.into_bytes()),
        ("NUL bytes", vec![0u8; 1000]),
        (
            "BOM and CRs",
            b"\xef\xbb\xbfapiVersion: v1\r\nkind: ConfigMap\r\r\n".to_vec(),
        ),
    ];
    let dir = TempDir::new("any-bytes-bin");
    for (what, input) in cases {
        let path = dir.join("input.yaml");
        std::fs::write(&path, &input).expect("write");
        for format in ["text", "sarif"] {
            let out = metallbctl()
                .args(["validate", "--format", format])
                .arg(&path)
                .output()
                .expect("run metallbctl");
            let code = out.status.code();
            assert!(
                matches!(code, Some(0..=2)),
                "{what} ({format}): exit {code:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
