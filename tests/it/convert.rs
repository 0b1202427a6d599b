//! `metallbctl convert`: golden files for the cases of MetalLB's configmaptocrs testdata, the
//! command line, and the proof that both forms configure the same thing: the converted objects
//! validate cleanly, and the allocator hands out the same addresses from either.
//!
//! Golden files are `tests/fixtures/convert/NAME.golden`; rewrite them with
//! `METALLBCTL_UPDATE_GOLDEN=1 cargo test --test it convert::` and read the diff.

use std::path::PathBuf;

use metallbctl::alloc::from_config::pool_specs;
use metallbctl::alloc::service::ShareRequest;
use metallbctl::alloc::{Allocator, Family};
use metallbctl::config::crd::convert::sanitize;
use metallbctl::config::{self, crd, BgpMode, InputKind, Options, Version};
use metallbctl::diag::SourceFile;

use crate::support::{metallbctl_assert as metallbctl, repo_path};

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo_path("tests/fixtures/convert"))
        .expect("tests/fixtures/convert")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

fn convert(path: &PathBuf, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = metallbctl()
        .arg("convert")
        .arg(path)
        .args(extra)
        .output()
        .expect("run metallbctl convert");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_case_matches_its_golden_file() {
    let cases = cases();
    assert!(cases.len() >= 6, "{cases:?}");
    for path in cases {
        let (code, out, err) = convert(&path, &[]);
        assert_eq!(code, Some(0), "{}: {err}", path.display());
        let golden = path.with_extension("golden");
        if std::env::var_os("METALLBCTL_UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &out).expect("write golden");
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(
            out,
            expected,
            "{} differs from {}",
            path.display(),
            golden.display()
        );
    }
}

/// The ConfigMap's model, and the model of its conversion read back by the CRD front end.
fn both_forms(path: &PathBuf) -> (config::model::Config, config::model::Config) {
    let text = std::fs::read_to_string(path).expect("case");
    let options = Options {
        target: Version::LATEST,
        mode: BgpMode::Frr,
    };
    let file = SourceFile::new("cm.yaml", text);
    let mut report = config::lint(&file, InputKind::Auto, &options).expect("yaml");
    let original = report.configs.remove(0).config;
    let (_, converted, _) = convert(path, &["--namespace", "metallb-system"]);
    let file = SourceFile::new("crds.yaml", converted);
    let report = config::lint(&file, InputKind::Auto, &options).expect("yaml");
    let inputs = [crd::Input {
        file: &file,
        documents: &report.crds,
        configmaps: Vec::new(),
    }];
    let crds = crd::lint(&inputs, Some(Version::NEWEST), BgpMode::Frr);
    let errors: Vec<_> = crds.diagnostics.iter().filter(|d| d.is_error()).collect();
    let invalid_name_expected = path.ends_with("convert-names.yaml");
    assert!(
        errors.is_empty() || (invalid_name_expected && errors.iter().all(|d| d.code == "MLB203")),
        "{}: {errors:#?}",
        path.display()
    );
    (original, crds.config.expect("objects"))
}

#[test]
fn both_forms_have_the_same_pools_and_the_allocator_hands_out_the_same_addresses() {
    for path in cases() {
        let (original, converted) = both_forms(&path);
        let mut want = pool_specs(&original);
        for p in &mut want {
            p.name = sanitize(&p.name, "IpAddressPool").expect("sanitisable");
        }
        let got = pool_specs(&converted);
        assert_eq!(got, want, "{}", path.display());
        let mut a = Allocator::new(want).expect("pools");
        let mut b = Allocator::new(got).expect("pools");
        for i in 0..40 {
            let service = format!("default/svc{i}");
            let family = if i % 5 == 4 { Some(Family::V6) } else { None };
            let req = ShareRequest::default();
            let ia = a.allocate(&service, family, &req).ok();
            let ib = b.allocate(&service, family, &req).ok();
            assert_eq!(ia, ib, "{}: {service}", path.display());
        }
        assert_eq!(original.peers.len(), converted.peers.len());
        for (p, q) in original.peers.iter().zip(&converted.peers) {
            let v = |x: &Option<config::model::Spanned<u32>>| x.as_ref().map(|x| x.value);
            assert_eq!(
                (v(&p.my_asn), v(&p.peer_asn)),
                (v(&q.my_asn), v(&q.peer_asn))
            );
            let s =
                |x: &Option<config::model::Spanned<String>>| x.as_ref().map(|x| x.value.clone());
            assert_eq!(s(&p.peer_address), s(&q.peer_address));
        }
    }
}

#[test]
fn json_output_is_one_list_and_namespace_can_be_chosen() {
    let path = repo_path("tests/fixtures/convert/full.yaml");
    let (code, out, _) = convert(&path, &["-o", "json", "--namespace", "lb"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["kind"], "List");
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|i| i["metadata"]["namespace"] == "lb"));
    let (_, out, _) = convert(
        &repo_path("tests/fixtures/convert/custom-namespace.yaml"),
        &[],
    );
    assert!(out.contains("namespace: metallb\n"), "{out}");
}

#[test]
fn a_configuration_with_errors_is_not_converted() {
    let out = metallbctl()
        .args(["convert", "-"])
        .write_stdin("address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/33]\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MLB043") && err.contains("not converted"),
        "{err}"
    );
    let out = metallbctl()
        .args(["convert", "-"])
        .write_stdin("peers: [\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
