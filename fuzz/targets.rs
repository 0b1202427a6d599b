//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/`, nightly)
//! and the stable harness (`examples/fuzz.rs`, any toolchain; run in CI). Each takes any bytes,
//! panics only on a bug, and returns a fingerprint of what happened (which message types or
//! errors, which findings) that the stable harness uses to keep inputs that reach new
//! outcomes. libFuzzer ignores the fingerprint: it has coverage.

// Each cargo-fuzz binary uses one target of this file; the stable harness uses them all.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;
use std::time::Instant;

use metallbctl::bgp::packet::{frame, Capability, Ctx, Message, Open, PeerKind};
use metallbctl::bgp::session::{Action, Config, Input, Session, State};
use metallbctl::config::{self, lint, InputKind, Options};
use metallbctl::diag::render::{self, text::TextOptions, Report};
use metallbctl::diag::{SourceFile, Sources};

/// A fuzz target: any bytes in, an outcome fingerprint out.
pub type Target = fn(&[u8]) -> u64;

/// Every target, by the name of its cargo-fuzz binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("bgp_decode", bgp_decode),
    ("bgp_session", bgp_session),
    ("validate", validate),
    ("validate_any_bytes", validate_any_bytes),
];

/// The set of things seen (order and repeats do not count as new).
fn fingerprint(mut parts: Vec<String>) -> u64 {
    parts.sort();
    parts.dedup();
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// What a decode came to, without the payload: the message type, or the error.
fn outcome<T: std::fmt::Debug, E: std::fmt::Debug>(r: &Result<T, E>) -> String {
    let text = match r {
        Ok(m) => format!("{m:?}"),
        Err(e) => format!("E{e:?}"),
    };
    text.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

/// Framing and decoding arbitrary bytes never panics, with either AS width; a strictly
/// decoded message re-encodes to itself; and whatever RFC 7606 handling keeps of an UPDATE
/// (attributes discarded, or everything withdrawn) is itself a valid message.
pub fn bgp_decode(data: &[u8]) -> u64 {
    let mut seen = Vec::new();
    for four_octet_as in [false, true] {
        let ctx = Ctx { four_octet_as };
        let mut rest = data;
        loop {
            let n = match frame(rest) {
                Ok(Some(n)) => n,
                r => {
                    seen.push(outcome(&r));
                    break;
                }
            };
            let one = &rest[..n];
            let strict = Message::decode(one, &ctx);
            if let Ok(m) = &strict {
                let bytes = m.encode(&ctx).expect("a decoded message re-encodes");
                let again = Message::decode(&bytes, &ctx);
                assert_eq!(again.as_ref(), Ok(m), "re-encoding changed the message");
            }
            // Both peer kinds, one per AS width: from an external peer LOCAL_PREF is dropped.
            let kind = if four_octet_as {
                PeerKind::External
            } else {
                PeerKind::Internal
            };
            let lenient = Message::decode_from(one, &ctx, kind);
            match &lenient {
                Ok(d) => {
                    let bytes = d
                        .message
                        .encode(&ctx)
                        .expect("what RFC 7606 kept re-encodes");
                    let again = Message::decode(&bytes, &ctx);
                    assert_eq!(
                        again.as_ref(),
                        Ok(&d.message),
                        "RFC 7606 handling kept an invalid message"
                    );
                    if kind == PeerKind::Internal {
                        assert_eq!(d.faults.is_empty(), strict.is_ok());
                    }
                    seen.extend(d.faults.iter().map(|f| format!("{:?}", f.action)));
                }
                Err(e) if kind == PeerKind::Internal => assert_eq!(strict.as_ref().err(), Some(e)),
                Err(_) => assert!(strict.is_err(), "reset only where strict decoding fails"),
            }
            seen.push(outcome(&strict));
            rest = &rest[n..];
        }
    }
    fingerprint(seen)
}

/// A session fed arbitrary bytes (the first byte picks the chunk size and whether the OPEN
/// exchange is done first) never panics; every message it sends is valid; and whenever it
/// gives up the connection it says why.
pub fn bgp_session(data: &[u8]) -> u64 {
    let Some((&sel, rest)) = data.split_first() else {
        return 0;
    };
    let t = Instant::now();
    let mut s = Session::new(Config::new(64500, 64501, Ipv4Addr::new(10, 0, 0, 1)));
    s.handle(Input::Start, t);
    s.handle(Input::Connected, t);
    if sel & 1 == 1 {
        let open = Message::Open(Open {
            asn: 64501,
            hold_time: 9,
            bgp_id: Ipv4Addr::new(10, 0, 0, 2),
            capabilities: vec![Capability::FourOctetAs(64501)],
        });
        let ctx = Ctx::default();
        s.handle(Input::Data(&open.encode(&ctx).expect("OPEN")), t);
        s.handle(
            Input::Data(&Message::Keepalive.encode(&ctx).expect("KEEPALIVE")),
            t,
        );
        assert_eq!(s.state(), State::Established);
    }
    let chunk = usize::from(sel >> 1).max(1);
    let mut seen = Vec::new();
    for c in rest.chunks(chunk) {
        let was = s.state();
        let actions = s.handle(Input::Data(c), t);
        for a in &actions {
            if let Action::Send(b) = a {
                let m = Message::decode(b, &s.ctx());
                assert!(m.is_ok(), "sent an invalid message: {m:?} {b:?}");
                seen.push(outcome(&m));
            }
            if let Action::UpdateErrors(f) = a {
                seen.extend(f.iter().map(|f| format!("{:?}", f.action)));
            }
        }
        if was != State::Idle && s.state() == State::Idle {
            assert!(actions.contains(&Action::Disconnect), "{actions:?}");
            assert!(
                actions.iter().any(|a| matches!(a, Action::Down(_))),
                "{actions:?}"
            );
        }
        seen.push(s.state().as_str().to_string());
    }
    fingerprint(seen)
}

/// The whole linter: any UTF-8 goes through YAML parsing, ConfigMap detection, decoding and
/// every rule, in both input modes.
pub fn validate(data: &[u8]) -> u64 {
    let Ok(text) = std::str::from_utf8(data) else {
        return 0;
    };
    let file = SourceFile::new("fuzz.yaml", text);
    let mut seen = Vec::new();
    for kind in [InputKind::Auto, InputKind::Raw] {
        match lint(&file, kind, &Options::default()) {
            Ok(r) => seen.extend(r.diagnostics.iter().map(|d| d.code.to_string())),
            Err(_) => seen.push("yaml error".to_string()),
        }
    }
    fingerprint(seen)
}

/// What `metallbctl validate FILE` does with any bytes, short of the process: refuse bytes
/// that are not UTF-8, lint, check the custom resources, and render every output format.
/// (The exit code itself is checked on the binary by an integration test.)
pub fn validate_any_bytes(data: &[u8]) -> u64 {
    let Ok(text) = std::str::from_utf8(data) else {
        // `validate` reports "not UTF-8 text" and exits 2.
        return 1;
    };
    let file = SourceFile::new("fuzz.yaml", text);
    let options = Options::default();
    let Ok(report) = lint(&file, InputKind::Auto, &options) else {
        return 2;
    };
    let crd_inputs = [config::crd::Input {
        file: &file,
        documents: &report.crds,
        configmaps: report.configs.iter().map(|c| c.line).collect(),
    }];
    let crds = config::crd::lint(&crd_inputs, None, options.mode);
    let mut diagnostics = report.diagnostics.clone();
    diagnostics.extend(crds.diagnostics);
    let name = file.name.clone();
    let mut sources = Sources::default();
    sources.insert(file);
    let inputs = [name];
    let r = Report {
        diagnostics: &diagnostics,
        sources: &sources,
        inputs: &inputs,
        failures: &[],
        tool_version: "fuzz",
    };
    let rendered = [
        render::text::render(&r, TextOptions { color: false }),
        render::json::render(&r),
        render::github::render(&r),
        render::sarif::render(&r, config::rule::ALL),
        render::junit::render(&r),
    ];
    assert!(rendered
        .iter()
        .all(|s| !s.is_empty() || diagnostics.is_empty()));
    fingerprint(
        diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect::<Vec<_>>(),
    )
}

/// Inputs every run starts from (besides `fuzz/corpus/<target>/`): valid messages for the
/// BGP targets, the repository's MetalLB configurations for the validate targets.
pub fn seeds(target: &str, repo: &std::path::Path) -> Vec<Vec<u8>> {
    match target {
        "bgp_decode" => bgp_seeds(),
        "bgp_session" => bgp_seeds()
            .into_iter()
            .flat_map(|m| [[&[1u8][..], &m].concat(), [&[0x21u8][..], &m].concat()])
            .collect(),
        _ => yaml_seeds(repo),
    }
}

fn bgp_seeds() -> Vec<Vec<u8>> {
    use metallbctl::bgp::packet::{
        Afi, AsSegment, Attributes, MpReach, MpUnreach, Notification, Origin, Update,
    };
    let ctx = Ctx {
        four_octet_as: true,
    };
    let attrs = Attributes {
        origin: Some(Origin::Incomplete),
        as_path: Some(vec![AsSegment::Sequence(vec![64501, 4_200_000_001])]),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        med: Some(5),
        local_pref: Some(100),
        atomic_aggregate: true,
        communities: vec![(64500 << 16) | 100],
        large_communities: vec![[64500, 1, 2]],
        ..Default::default()
    };
    let messages = [
        Message::Keepalive,
        Message::Open(Open {
            asn: 64501,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(10, 0, 0, 2),
            capabilities: vec![
                Capability::Multiprotocol { afi: 1, safi: 1 },
                Capability::Multiprotocol { afi: 2, safi: 1 },
                Capability::RouteRefresh,
                Capability::FourOctetAs(64501),
            ],
        }),
        Message::Update(Update {
            withdrawn: vec!["198.51.100.0/24".parse().unwrap()],
            attrs: attrs.clone(),
            nlri: vec!["198.51.100.10/32".parse().unwrap()],
        }),
        Message::Update(Update {
            attrs: Attributes {
                mp_reach: Some(MpReach {
                    afi: Afi::Ipv6,
                    next_hops: vec!["2001:db8::1".parse().unwrap()],
                    nlri: vec!["2001:db8:1::/48".parse().unwrap()],
                }),
                mp_unreach: Some(MpUnreach {
                    afi: Afi::Ipv6,
                    withdrawn: vec!["2001:db8:2::/48".parse().unwrap()],
                }),
                ..attrs
            },
            ..Default::default()
        }),
        Message::Update(Update::end_of_rib(Afi::Ipv6)),
        Message::Notification(Notification {
            code: 6,
            subcode: 2,
            data: vec![],
        }),
        Message::RouteRefresh { afi: 1, safi: 1 },
    ];
    messages
        .iter()
        .filter_map(|m| m.encode(&ctx).ok())
        .collect()
}

fn yaml_seeds(repo: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["manifests", "lab", "tests/fixtures"] {
        collect_yaml(&repo.join(dir), &mut out);
    }
    out
}

fn collect_yaml(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect_yaml(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            if let Ok(b) = std::fs::read(&p) {
                // Large manifests slow every run down without reaching more rules.
                if b.len() <= 16 * 1024 {
                    out.push(b);
                }
            }
        }
    }
}
