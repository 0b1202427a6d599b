//! A stable-toolchain fuzz harness over the cargo-fuzz targets (`fuzz/targets.rs`), for CI
//! and machines without nightly. cargo-fuzz needs nightly for its sanitizer coverage; this
//! harness has none: it mutates a corpus with a seeded generator (bit flips, interesting
//! values, inserts, deletes, splices, and BGP length-field rewrites) and keeps inputs whose
//! outcome fingerprint (message types, errors, RFC 7606 actions, findings) is new.
//!
//! ```text
//! cargo run --example fuzz -- [--seconds N | --runs N] [--seed N] [TARGET...]
//! ```
//!
//! Starts from `fuzz/corpus/<target>/` (if any) plus built-in seeds. A panic is a failure: the
//! input is written to `fuzz/artifacts/<target>/crash-<hash>` and the exit code is 1. Replay
//! one with `cargo +nightly fuzz run <target> <file>`, or `--replay <file>` here.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// xorshift64*: small, fast, and the same sequence for the same seed on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = &[
    0, 1, 2, 3, 4, 0x0f, 0x10, 0x1f, 0x20, 0x40, 0x7f, 0x80, 0xc0, 0xe0, 0xff,
];
const MAX_LEN: usize = 8192;

/// One random mutation of `input`, possibly splicing in part of `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            3 if len < MAX_LEN => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, bytes);
            }
            4 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                v.drain(i..i + n);
            }
            5 if len > 0 => v.truncate(rng.below(len)),
            6 if !other.is_empty() && len < MAX_LEN => {
                // Splice: a piece of another corpus entry.
                let a = rng.below(other.len());
                let b = a + 1 + rng.below((other.len() - a).min(64));
                let at = rng.below(len + 1);
                v.splice(at..at, other[a..b].iter().copied());
            }
            7 if len >= 2 => {
                // A 16-bit field (BGP lengths are big-endian u16) set to an edge value.
                let i = rng.below(len - 1);
                let value: u16 = match rng.below(5) {
                    0 => 0,
                    1 => 4096,
                    2 => 4097,
                    3 => u16::try_from(len).unwrap_or(u16::MAX),
                    _ => rng.next() as u16,
                };
                v[i..i + 2].copy_from_slice(&value.to_be_bytes());
            }
            8 if len >= 19 => {
                // Keep the BGP header length in step with the buffer, so the body gets parsed.
                let l = u16::try_from(len).unwrap_or(u16::MAX);
                v[16..18].copy_from_slice(&l.to_be_bytes());
            }
            _ => {}
        }
    }
    v
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Runs `f` on `input`; `Some(message)` when it panicked.
fn run_one(f: targets::Target, input: &[u8]) -> Result<u64, String> {
    std::panic::catch_unwind(|| f(input)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

struct Budget {
    seconds: Option<f64>,
    runs: Option<u64>,
}

struct Outcome {
    execs: u64,
    elapsed: Duration,
    corpus: (usize, usize),
    outcomes: usize,
    crash: Option<PathBuf>,
}

fn fuzz(name: &str, f: targets::Target, repo: &Path, seed: u64, budget: &Budget) -> Outcome {
    let mut corpus = read_corpus(&repo.join("fuzz/corpus").join(name));
    corpus.extend(targets::seeds(name, repo));
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let start_size = corpus.len();
    let mut rng = Rng(seed ^ fnv(name.as_bytes()) | 1);
    let mut seen = HashSet::new();
    let start = Instant::now();
    let mut execs = 0u64;
    let mut crash = None;
    // The seeds themselves first, then mutations.
    let mut queue: Vec<Vec<u8>> = corpus.clone();
    loop {
        if execs.is_multiple_of(64) {
            let out_of_time = budget
                .seconds
                .is_some_and(|s| start.elapsed().as_secs_f64() >= s);
            let out_of_runs = budget.runs.is_some_and(|r| execs >= r);
            if out_of_time || out_of_runs {
                break;
            }
        }
        let input = match queue.pop() {
            Some(i) => i,
            None => {
                let a = rng.below(corpus.len());
                let b = rng.below(corpus.len());
                mutate(&mut rng, &corpus[a], &corpus[b])
            }
        };
        execs += 1;
        match run_one(f, &input) {
            Ok(fp) => {
                if seen.insert(fp) && !corpus.contains(&input) {
                    corpus.push(input);
                }
            }
            Err(msg) => {
                let dir = repo.join("fuzz/artifacts").join(name);
                let path = dir.join(format!("crash-{:016x}", fnv(&input)));
                let saved =
                    std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, &input));
                eprintln!("{name}: PANIC after {execs} runs: {msg}");
                eprintln!("{name}: input ({} bytes): {:02x?}", input.len(), input);
                match saved {
                    Ok(()) => eprintln!("{name}: saved as {}", path.display()),
                    Err(e) => eprintln!("{name}: could not save the input: {e}"),
                }
                crash = Some(path);
                break;
            }
        }
    }
    Outcome {
        execs,
        elapsed: start.elapsed(),
        corpus: (start_size, corpus.len()),
        outcomes: seen.len(),
        crash,
    }
}

fn usage() -> ExitCode {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    eprintln!(
        "usage: cargo run --example fuzz -- [--seconds N | --runs N] [--seed N] [--replay FILE] [TARGET...]\ntargets: {}",
        names.join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut budget = Budget {
        seconds: None,
        runs: None,
    };
    let mut seed: u64 = 0x6d65_7461_6c6c_6262;
    let mut replay = None;
    let mut chosen = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next();
        match a.as_str() {
            "--seconds" => match value().and_then(|v| v.parse().ok()) {
                Some(s) => budget.seconds = Some(s),
                None => return usage(),
            },
            "--runs" => match value().and_then(|v| v.parse().ok()) {
                Some(r) => budget.runs = Some(r),
                None => return usage(),
            },
            "--seed" => match value().and_then(|v| v.parse().ok()) {
                Some(s) => seed = s,
                None => return usage(),
            },
            "--replay" => match value() {
                Some(f) => replay = Some(PathBuf::from(f)),
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            name => match targets::TARGETS.iter().find(|(n, _)| *n == name) {
                Some(t) => chosen.push(*t),
                None => return usage(),
            },
        }
    }
    if chosen.is_empty() {
        chosen = targets::TARGETS.to_vec();
    }
    if budget.seconds.is_none() && budget.runs.is_none() {
        budget.seconds = Some(10.0);
    }
    // Panics are caught and reported per input; the default hook would print each twice.
    std::panic::set_hook(Box::new(|_| {}));
    if let Some(file) = replay {
        let Ok(input) = std::fs::read(&file) else {
            eprintln!("cannot read {}", file.display());
            return ExitCode::from(2);
        };
        let mut failed = false;
        for (name, f) in &chosen {
            match run_one(*f, &input) {
                Ok(_) => println!("{name}: ok"),
                Err(msg) => {
                    println!("{name}: PANIC: {msg}");
                    failed = true;
                }
            }
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("stable fuzz harness (no coverage feedback; outcome-guided), seed {seed}");
    let mut failed = false;
    for (name, f) in &chosen {
        let o = fuzz(name, *f, repo, seed, &budget);
        let secs = o.elapsed.as_secs_f64();
        println!(
            "{name:<20} {:>10} runs in {secs:>6.1} s ({:>8.0}/s), corpus {} -> {}, {} distinct outcomes{}",
            o.execs,
            o.execs as f64 / secs.max(1e-9),
            o.corpus.0,
            o.corpus.1,
            o.outcomes,
            if o.crash.is_some() { ", PANIC" } else { "" }
        );
        failed |= o.crash.is_some();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
