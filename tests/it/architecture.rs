//! The pure core stays pure: the configuration model and rules, diagnostics, the allocator, the
//! BGP codec, the Sans-IO session, the Adj-RIB-Out and the status model import neither tokio nor
//! kube (nor this crate's kube adapters). Checked from the sources, so a stray `use tokio::...`
//! fails here before it spreads.

use std::path::{Path, PathBuf};

/// The pure parts of `src/`, as paths relative to it. A directory covers every `.rs` file under
/// it. Each must exist: a renamed module must be renamed here too, or it would go unchecked.
const PURE: &[&str] = &[
    "config",
    "diag",
    "alloc",
    "bgp/packet",
    "bgp/session.rs",
    "bgp/session",
    "bgp/rib_out",
    "status",
];

/// Every `.rs` file under `path` (or `path` itself).
fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
        return;
    }
    let Ok(dir) = std::fs::read_dir(path) else {
        return;
    };
    for entry in dir.flatten() {
        rust_files(&entry.path(), out);
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The forbidden uses in one line of Rust: a path through `tokio::` or `kube::`, or
/// `use tokio`/`use kube` (also `extern crate`). Comments are not code and are ignored.
fn forbidden(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    for krate in ["tokio", "kube"] {
        let path = format!("{krate}::");
        for (at, _) in code.match_indices(&path) {
            if !code[..at].chars().next_back().is_some_and(is_ident) {
                return Some(krate);
            }
        }
        for prefix in ["use ", "extern crate "] {
            let head = format!("{prefix}{krate}");
            for (at, _) in code.match_indices(&head) {
                let before_ok = !code[..at].chars().next_back().is_some_and(is_ident);
                let after_ok = !code[at + head.len()..].chars().next().is_some_and(is_ident);
                if before_ok && after_ok {
                    return Some(krate);
                }
            }
        }
    }
    None
}

/// Every pure file.
fn pure_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for p in PURE {
        let path = src.join(p);
        assert!(
            path.exists(),
            "src/{p} is listed as pure but does not exist"
        );
        rust_files(&path, &mut files);
    }
    files.sort();
    files.dedup();
    files
}

#[test]
fn pure_modules_import_neither_tokio_nor_kube() {
    let files = pure_files();
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            if let Some(krate) = forbidden(line) {
                offences.push(format!(
                    "{}:{}: {krate}: {}",
                    file.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "pure modules must not use tokio or kube (move the I/O to a shell module):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scanner_finds_what_it_must_and_only_that() {
    for bad in [
        "use tokio::sync::watch;",
        "use kube::Api;",
        "    let t = tokio::time::Instant::now();",
        "use crate::kube::client;",
        "#[tokio::test]",
        "use tokio;",
        "extern crate kube;",
        "pub use ::tokio::net::TcpStream;",
    ] {
        assert!(forbidden(bad).is_some(), "{bad:?} must be caught");
    }
    for fine in [
        "//! Pure code: no tokio, kube, clocks or I/O.",
        "let x = 1; // tokio::spawn would be wrong here",
        "use crate::config::kubernetes_name;",
        "let mytokio::x = 1;",
        "fn use_kubelet() {}",
        "use kubelet::x;",
    ] {
        assert_eq!(forbidden(fine), None, "{fine:?} is not an import");
    }
}
