//! The install manifests of the CRD-era releases (manifests/metallb-v0.13..16.yaml): generated
//! by `kube::release`, committed, and current.

use metallbctl::config::Version;
use metallbctl::kube::release;

#[test]
fn committed_manifests_are_current() {
    for (minor, tag) in release::RELEASES {
        let v = Version::v0(*minor);
        let generated = release::render(v);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("manifests")
            .join(format!("metallb-v0.{minor}.yaml"));
        if std::env::var_os("METALLBCTL_UPDATE_MANIFESTS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `METALLBCTL_UPDATE_MANIFESTS=1 cargo test --test it install_release::committed_manifests_are_current` and commit",
            path.display()
        );
        assert!(committed.contains(&format!("quay.io/metallb/controller:{tag}")));
    }
}

#[test]
fn each_manifest_has_its_releases_kinds() {
    let crds = |minor: u8| -> Vec<String> {
        release::objects(Version::v0(minor))
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!crds(13).contains(&"servicel2statuses.metallb.io".to_string()));
    assert!(crds(14).contains(&"servicel2statuses.metallb.io".to_string()));
    assert!(!crds(14).contains(&"configurationstates.metallb.io".to_string()));
    for name in [
        "configurationstates.metallb.io",
        "servicebgpstatuses.metallb.io",
        "ipaddresspools.metallb.io",
        "bgppeers.metallb.io",
    ] {
        assert!(crds(15).contains(&name.to_string()), "{name}");
    }
    // Upstream's v0.15.3 metallb-native.yaml has 26 objects.
    assert_eq!(release::objects(Version::v0(15)).len(), 26);
    assert_eq!(release::objects(Version::v0(14)).len(), 24);
}
