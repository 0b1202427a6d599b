//! Our controller and speaker configured by MetalLB's custom resources, in process against the
//! lab API server and two lab BGP routers: the tutorial in CRD form
//! (manifests/tutorial-crds-1..3.yaml), with each release's rule for a pool change that takes
//! nginx's 198.51.100.0 away: v0.13 rejects it, v0.15 re-allocates and says so.

use crate::support::eventually_async;
use crate::support::metallb::{Env, Running, WAIT};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use metallbctl::config::Version;
use serde_json::{json, Value};

const NODE: &str = "127.0.1.1";

/// The configuration kinds, with their plural and storage version.
const KINDS: &[(&str, &str, &str)] = &[
    ("IPAddressPool", "ipaddresspools", "v1beta1"),
    ("BGPPeer", "bgppeers", "v1beta2"),
    ("BGPAdvertisement", "bgpadvertisements", "v1beta1"),
    ("L2Advertisement", "l2advertisements", "v1beta1"),
    ("Community", "communities", "v1beta1"),
    ("BFDProfile", "bfdprofiles", "v1beta1"),
];

/// Register the kinds with an open schema: these tests are about the components reading the
/// objects, not about the CRDs' schemas.
async fn register_crds(env: &Env) {
    let gvk = GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "customresourcedefinitions");
    let api: Api<DynamicObject> = Api::all_with(env.client.clone(), &ar);
    let status_kinds = [
        ("ConfigurationState", "configurationstates", "v1beta1"),
        ("ServiceBGPStatus", "servicebgpstatuses", "v1beta1"),
    ];
    for (kind, plural, version) in KINDS.iter().chain(&status_kinds) {
        let crd: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.metallb.io")},
            "spec": {
                "group": "metallb.io",
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                          "listKind": format!("{kind}List")},
                "versions": [{"name": version, "served": true, "storage": true,
                              "subresources": {"status": {}},
                              "schema": {"openAPIV3Schema": {"type": "object",
                                  "x-kubernetes-preserve-unknown-fields": true}}}]
            }
        }))
        .expect("crd");
        api.create(&PostParams::default(), &crd)
            .await
            .expect("create crd");
    }
}

fn api_for(env: &Env, kind: &str) -> Api<DynamicObject> {
    let (_, plural, version) = KINDS
        .iter()
        .chain(&[
            ("ConfigurationState", "configurationstates", "v1beta1"),
            ("ServiceBGPStatus", "servicebgpstatuses", "v1beta1"),
        ])
        .find(|(k, _, _)| *k == kind)
        .expect("known kind");
    let gvk = GroupVersionKind::gvk("metallb.io", version, kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(env.client.clone(), "metallb-system", &ar)
}

/// Create, or replace the spec and labels of, every object of a manifests/ file.
async fn apply_crds(env: &Env, file: &str) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("manifests")
            .join(file),
    )
    .expect("manifest");
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v: Value = serde::Deserialize::deserialize(doc).expect("yaml doc");
        let kind = v["kind"].as_str().expect("kind");
        let name = v["metadata"]["name"].as_str().expect("name");
        let api = api_for(env, kind);
        if api.get_opt(name).await.expect("get").is_some() {
            let patch = json!({"metadata": {"labels": v["metadata"]["labels"]}, "spec": v["spec"]});
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .expect("patch");
        } else {
            let obj: DynamicObject = serde_json::from_value(v.clone()).expect("object");
            api.create(&PostParams::default(), &obj)
                .await
                .expect("create");
        }
    }
}

async fn wait_pool_status(env: &Env, want: Value) {
    let api = api_for(env, "IPAddressPool");
    eventually_async(&format!("my-ip-space status {want}"), WAIT, || async {
        let o = api.get_opt("my-ip-space").await.ok()??;
        (o.data["status"] == want).then_some(())
    })
    .await;
}

/// Steps 1 and 2: sessions at both routers, nginx on 198.51.100.0, announced to both.
async fn tutorial_steps_1_and_2(version: Version) -> (Env, Running, Running) {
    let env = Env::start(&format!("mlb-crds-{version}"), &[NODE]).await;
    env.node("minikube", json!({})).await;
    register_crds(&env).await;
    let mut copts = metallbctl::metallb::ControllerOptions {
        version,
        ..Default::default()
    };
    let logs = crate::support::metallb::Logs::default();
    copts.log = Some(logs.sink());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(metallbctl::metallb::run_controller(
        env.client.clone(),
        copts,
        rx,
    ));
    let controller = Running { stop, task, logs };
    let mut sopts = env.speaker_opts("minikube", NODE);
    sopts.version = version;
    let speaker = env.speaker_with(sopts);

    apply_crds(&env, "tutorial-crds-1.yaml").await;
    eventually_async("sessions established at both routers", WAIT, || {
        let ok = env.established(0, NODE) && env.established(1, NODE);
        async move { ok.then_some(()) }
    })
    .await;
    env.apply_manifest("tutorial-crds-2.yaml").await;
    let ip = env.wait_ip("default", "nginx").await;
    assert_eq!(ip.to_string(), "198.51.100.0");
    env.wait_routes(NODE, &["198.51.100.0/32"]).await;
    (env, controller, speaker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v0_15_reallocates_when_a_pool_change_takes_the_address_away() {
    let (env, controller, speaker) = tutorial_steps_1_and_2(Version::v0(15)).await;

    // v0.15's status: the pool's counts and both components' ConfigurationState.
    wait_pool_status(
        &env,
        json!({"assignedIPv4": 1, "assignedIPv6": 0,
                                  "availableIPv4": 255, "availableIPv6": 0}),
    )
    .await;
    for name in ["controller", "speaker-minikube"] {
        eventually_async(
            &format!("ConfigurationState {name} Valid"),
            WAIT,
            || async {
                let o = api_for(&env, "ConfigurationState")
                    .get_opt(name)
                    .await
                    .ok()??;
                (o.data["status"]["result"] == "Valid").then_some(())
            },
        )
        .await;
    }

    // ServiceBGPStatus: nginx is sent to both routers from this node.
    eventually_async("ServiceBGPStatus for nginx", WAIT, || async {
        let list = api_for(&env, "ServiceBGPStatus")
            .list(&Default::default())
            .await
            .ok()?;
        let o = list.items.first()?;
        let ok = list.items.len() == 1
            && o.data["status"]["peers"] == json!(["bird", "quagga"])
            && o.data["status"]["serviceName"] == "nginx"
            && o.data["status"]["node"] == "minikube"
            && o.metadata
                .labels
                .as_ref()?
                .get("metallb.io/service-namespace")?
                == "default";
        ok.then_some(())
    })
    .await;

    apply_crds(&env, "tutorial-crds-3.yaml").await;
    let want = "current IP for \"default/nginx\" not allowed by config, will attempt for new IP assignment: [\"198.51.100.0\"] is not allowed in config";
    eventually_async("ClearAssignment on nginx", WAIT, || async {
        let evs = env.events("default", "ClearAssignment").await;
        evs.iter()
            .any(|(c, t, m, _)| c == "metallb-controller" && t == "Normal" && m == want)
            .then_some(())
    })
    .await;
    eventually_async("nginx moved to 198.51.100.1", WAIT, || async {
        let ips = env.ingress_of("default", "nginx").await;
        (ips.len() == 1 && ips[0].to_string() == "198.51.100.1").then_some(())
    })
    .await;
    eventually_async("IPAllocated for the new address", WAIT, || async {
        let evs = env.events("default", "IPAllocated").await;
        evs.iter()
            .any(|(_, _, m, _)| m == "Assigned IP \"198.51.100.1\"")
            .then_some(())
    })
    .await;
    // The speaker takes the new pool once the Service has moved, and announces the new /32.
    env.wait_routes(NODE, &["198.51.100.1/32"]).await;
    assert!(
        env.events("metallb-system", "InvalidConfig")
            .await
            .iter()
            .all(|(c, _, _, _)| c != "metallb-controller"),
        "v0.15's controller does not reject the change"
    );

    wait_pool_status(
        &env,
        json!({"assignedIPv4": 1, "assignedIPv6": 0,
                                  "availableIPv4": 253, "availableIPv6": 0}),
    )
    .await;

    // Step 4 changes no address.
    apply_crds(&env, "tutorial-crds-4.yaml").await;
    env.wait_routes(NODE, &["198.51.100.1/32"]).await;
    assert_eq!(
        env.ingress_of("default", "nginx").await[0].to_string(),
        "198.51.100.1"
    );

    // Deleting the objects one by one applies each smaller configuration (deleting the pool
    // takes nginx's address away, as in MetalLB); once none is left and there is no ConfigMap,
    // the last configuration stays in force.
    for (kind, _, _) in KINDS {
        let api = api_for(&env, kind);
        for o in api.list(&Default::default()).await.expect("list").items {
            let name = o.metadata.name.unwrap_or_default();
            api.delete(&name, &Default::default())
                .await
                .expect("delete");
        }
    }
    eventually_async("the controller keeps the configuration", WAIT, || {
        let ok = controller
            .logs
            .contains("configuration deleted; keeping the configuration in force");
        async move { ok.then_some(()) }
    })
    .await;

    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v0_13_rejects_a_pool_change_that_takes_the_address_away() {
    let (env, controller, speaker) = tutorial_steps_1_and_2(Version::v0(13)).await;

    apply_crds(&env, "tutorial-crds-3.yaml").await;
    let want = "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config";
    eventually_async("InvalidConfig on the pool", WAIT, || async {
        let evs = env.events("metallb-system", "InvalidConfig").await;
        evs.iter()
            .any(|(c, t, m, _)| c == "metallb-controller" && t == "Warning" && m == want)
            .then_some(())
    })
    .await;
    env.wait_routes(NODE, &["198.51.100.0/32"]).await;
    assert_eq!(
        env.ingress_of("default", "nginx").await[0].to_string(),
        "198.51.100.0"
    );
    assert!(env.events("default", "ClearAssignment").await.is_empty());

    speaker.stop().await;
    controller.stop().await;
    env.shutdown().await;
}
