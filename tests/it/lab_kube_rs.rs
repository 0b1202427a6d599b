//! kube-rs against the lab API server: CRUD, every patch type, status, watcher, and the
//! concurrency guarantees (no lost update, ordered delivery to many watchers).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::Lab;
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    let data: BTreeMap<String, String> = data
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::from_value(json!({"metadata": {"name": name}, "data": data})).expect("configmap")
}

#[tokio::test]
async fn crud_and_errors() {
    let lab = Lab::start("kube-crud").await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    let created = api
        .create(&PostParams::default(), &cm("a", &[("k", "v")]))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    let err = api
        .create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.reason == "AlreadyExists" && s.code == 409),
        "{err:?}"
    );
    let got = api.get("a").await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str),
        Some("v")
    );
    assert!(api.get_opt("nope").await.expect("get_opt").is_none());
    let list = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let mut replaced = got.clone();
    replaced.data = Some([("k".to_string(), "w".to_string())].into());
    let after = api
        .replace("a", &PostParams::default(), &replaced)
        .await
        .expect("replace");
    assert_ne!(
        after.metadata.resource_version,
        got.metadata.resource_version
    );
    let stale = api
        .replace("a", &PostParams::default(), &replaced)
        .await
        .expect_err("stale rv");
    assert!(
        matches!(&stale, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"),
        "{stale:?}"
    );

    let deleted = api
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    // A ConfigMap is gone at once: the answer is a Status, as from a real API server.
    assert!(
        deleted
            .as_ref()
            .right()
            .is_some_and(|s| s.status == Some(kube::core::response::StatusSummary::Success)),
        "{deleted:?}"
    );
    let gone = api.get("a").await.expect_err("deleted");
    assert!(
        matches!(&gone, kube::Error::Api(s) if s.code == 404 && s.message == "configmaps \"a\" not found"),
        "{gone:?}"
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn every_patch_type() {
    let lab = Lab::start("kube-patch").await;
    let client = lab.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let deploy: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
                {"name": "b", "image": "b:1"}]}}}
    }))
    .expect("deployment");
    deployments
        .create(&PostParams::default(), &deploy)
        .await
        .expect("create");
    let pp = PatchParams::default();
    let smp =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}}});
    let d = deployments
        .patch("web", &pp, &Patch::Strategic(&smp))
        .await
        .expect("strategic");
    let containers = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    assert_eq!(
        containers.len(),
        2,
        "strategic merge keeps the other container"
    );
    assert_eq!(containers[0].image.as_deref(), Some("a:2"));
    assert_eq!(containers[0].env.as_ref().map(Vec::len), Some(1));
    assert_eq!(d.metadata.generation, Some(2));

    let merge = json!({"metadata": {"labels": {"tier": "web"}}});
    let d = deployments
        .patch("web", &pp, &Patch::Merge(&merge))
        .await
        .expect("merge");
    assert_eq!(
        d.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("tier"))
            .map(String::as_str),
        Some("web")
    );
    assert_eq!(
        d.metadata.generation,
        Some(2),
        "metadata changes keep the generation"
    );

    let ops: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]))
            .expect("ops");
    let d = deployments
        .patch("web", &pp, &Patch::<()>::Json(ops))
        .await
        .expect("json patch");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(3));

    let configmaps: Api<ConfigMap> = Api::namespaced(client, "default");
    let apply = PatchParams::apply("metallbctl").force();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"x": "y"}});
    let c = configmaps
        .patch("ssa", &apply, &Patch::Apply(&body))
        .await
        .expect("apply creates");
    let managers: Vec<String> = c
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"metallbctl".to_string()));
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"z": "w"}});
    let c = configmaps
        .patch("ssa", &apply, &Patch::Apply(&body))
        .await
        .expect("apply merges");
    assert_eq!(c.data.map(|d| d.len()), Some(2));
    lab.shutdown().await;
}

#[tokio::test]
async fn status_subresource_and_service_allocation() {
    let lab = Lab::start("kube-status").await;
    let api: Api<Service> = Api::namespaced(lab.client().await, "default");
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "router"},
        "spec": {"clusterIP": "10.96.0.100", "type": "LoadBalancer", "ports": [{"port": 179}]}}))
    .expect("svc");
    let created = api
        .create(&PostParams::default(), &svc)
        .await
        .expect("create");
    let spec = created.spec.clone().unwrap_or_default();
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.100"));
    assert!(spec.ports.unwrap_or_default()[0]
        .node_port
        .is_some_and(|p| (30000..=32767).contains(&p)));
    assert_eq!(spec.ip_families, Some(vec!["IPv4".to_string()]));
    let mut dup = svc.clone();
    dup.metadata.name = Some("dup".into());
    let err = api
        .create(&PostParams::default(), &dup)
        .await
        .expect_err("taken IP");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 422),
        "{err:?}"
    );

    let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.240"}]}}});
    let patched = api
        .patch_status("router", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("patch_status");
    assert!(patched.status.is_some());
    let mut with_status = api.get("router").await.expect("get");
    if let Some(st) = with_status.status.as_mut() {
        st.load_balancer = Some(
            serde_json::from_value(json!({"ingress": [{"ip": "192.168.1.241"}]})).expect("lb"),
        );
    }
    with_status.metadata.labels = Some([("ignored".to_string(), "yes".to_string())].into());
    let replaced = api
        .replace_status("router", &PostParams::default(), &with_status)
        .await
        .expect("replace_status");
    let ingress = replaced
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress)
        .unwrap_or_default();
    assert_eq!(ingress[0].ip.as_deref(), Some("192.168.1.241"));
    assert!(
        replaced.metadata.labels.is_none(),
        "status writes ignore metadata"
    );
    let main = json!({"status": {"loadBalancer": {}}, "metadata": {"labels": {"a": "b"}}});
    let after = api
        .patch("router", &PatchParams::default(), &Patch::Merge(&main))
        .await
        .expect("main patch");
    let ingress = after
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress)
        .unwrap_or_default();
    assert_eq!(ingress.len(), 1, "main writes keep the status");
    lab.shutdown().await;
}

#[tokio::test]
async fn watcher_lists_watches_and_resumes() {
    let lab = Lab::start("kube-watch").await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    api.create(&PostParams::default(), &cm("first", &[]))
        .await
        .expect("create");
    let mut stream = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        // The initial list is complete (init-done): the watcher now watches from the list's
        // resourceVersion, so the changes below are seen as changes, not as part of the list.
        if seen.len() == 3 {
            assert_eq!(seen.last().map(String::as_str), Some("init-done"));
            api.create(&PostParams::default(), &cm("second", &[]))
                .await
                .expect("create");
            api.delete("first", &DeleteParams::default())
                .await
                .expect("delete");
        }
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("event in time");
        let label = match ev.expect("no error").expect("stream open") {
            watcher::Event::Init => "init".to_string(),
            watcher::Event::InitApply(o) => {
                format!("init-apply {}", o.metadata.name.unwrap_or_default())
            }
            watcher::Event::InitDone => "init-done".to_string(),
            watcher::Event::Apply(o) => format!("apply {}", o.metadata.name.unwrap_or_default()),
            watcher::Event::Delete(o) => format!("delete {}", o.metadata.name.unwrap_or_default()),
        };
        seen.push(label);
    }
    let expect: Vec<&str> = vec![
        "init",
        "init-apply first",
        "init-done",
        "apply second",
        "delete first",
    ];
    assert_eq!(seen, expect);

    // Resume: a raw watch from a known rv gets exactly the later changes.
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    api.create(&PostParams::default(), &cm("third", &[]))
        .await
        .expect("create");
    let wp = kube::api::WatchParams::default().timeout(2);
    let events: Vec<_> = api
        .watch(&wp, &rv)
        .await
        .expect("watch")
        .take(1)
        .collect()
        .await;
    assert!(
        matches!(events.first(), Some(Ok(kube::api::WatchEvent::Added(o))) if o.metadata.name.as_deref() == Some("third"))
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn expired_history_is_a_watch_error_event() {
    let lab = Lab::start_with("kube-410", |c| c.watch_history = 5).await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    for i in 0..10 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), &[]))
            .await
            .expect("create");
    }
    let wp = kube::api::WatchParams::default().timeout(2);
    let events: Vec<_> = api
        .watch(&wp, &rv)
        .await
        .expect("watch starts with 200")
        .take(1)
        .collect()
        .await;
    assert!(
        matches!(events.first(), Some(Ok(kube::api::WatchEvent::Error(e))) if e.code == 410),
        "{events:?}"
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lost_update() {
    let lab = Lab::start("kube-counter").await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    api.create(&PostParams::default(), &cm("counter", &[("n", "0")]))
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..500 {
                loop {
                    let mut c = api.get("counter").await.expect("get");
                    let n: u64 = c
                        .data
                        .as_ref()
                        .and_then(|d| d.get("n"))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    c.data = Some([("n".to_string(), (n + 1).to_string())].into());
                    match api.replace("counter", &PostParams::default(), &c).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(s)) if s.code == 409 => continue,
                        Err(e) => panic!("unexpected error {e:?}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let c = api.get("counter").await.expect("get");
    assert_eq!(
        c.data.and_then(|d| d.get("n").cloned()).as_deref(),
        Some("4000")
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_watchers_see_every_event_in_order() {
    let lab = Lab::start("kube-fanout").await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    const EVENTS: usize = 200;
    let mut watchers = Vec::new();
    for _ in 0..50 {
        let (api, rv) = (api.clone(), rv.clone());
        watchers.push(tokio::spawn(async move {
            let wp = kube::api::WatchParams::default().timeout(60);
            let stream = api.watch(&wp, &rv).await.expect("watch");
            let events: Vec<String> = stream
                .filter_map(|e| async move {
                    match e {
                        Ok(kube::api::WatchEvent::Added(o)) => o.metadata.resource_version,
                        _ => None,
                    }
                })
                .take(EVENTS)
                .collect()
                .await;
            events
        }));
    }
    for i in 0..EVENTS {
        api.create(&PostParams::default(), &cm(&format!("e{i}"), &[]))
            .await
            .expect("create");
    }
    for w in watchers {
        let rvs = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("in time")
            .expect("watcher");
        let numbers: Vec<u64> = rvs.iter().filter_map(|r| r.parse().ok()).collect();
        assert_eq!(numbers.len(), EVENTS);
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order");
    }
    lab.shutdown().await;
}

type Events = tokio::sync::mpsc::UnboundedReceiver<Result<watcher::Event<ConfigMap>, String>>;

/// The next watcher event forwarded by a reader task, within 15 s.
async fn next_event(rx: &mut Events) -> watcher::Event<ConfigMap> {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("event in time")
        .expect("stream open")
        .expect("no error")
}

#[tokio::test]
async fn watcher_restarts_after_timeout_without_loss() {
    let lab = Lab::start("kube-rewatch").await;
    // Count the watch requests the client sends: each one after the first is a restart.
    let watches = Arc::new(AtomicUsize::new(0));
    let client = {
        let watches = watches.clone();
        let count =
            tower::util::MapRequestLayer::new(move |req: http::Request<kube::client::Body>| {
                if req.uri().query().is_some_and(|q| q.contains("watch=true")) {
                    watches.fetch_add(1, Ordering::SeqCst);
                }
                req
            });
        let kc = kube::config::Kubeconfig::read_from(lab.kubeconfig()).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        kube::client::ClientBuilder::try_from(config)
            .expect("client builder")
            .with_layer(&count)
            .build()
    };
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    // The server ends each watch after 1 s; the watcher must resume from the last
    // resourceVersion it saw, without relisting and without losing what changed meanwhile.
    let stream = watcher(api.clone(), watcher::Config::default().timeout(1)).boxed();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut stream = stream;
        while let Some(ev) = stream.next().await {
            if tx.send(ev.map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });
    let (mut applied, mut inits) = (Vec::new(), 0);
    loop {
        match next_event(&mut rx).await {
            watcher::Event::Init => inits += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    crate::support::eventually_async("the first watch", Duration::from_secs(10), || {
        let n = watches.load(Ordering::SeqCst);
        async move { (n >= 1).then_some(()) }
    })
    .await;
    // Three batches of writes, each followed by a watch restart that began after it.
    for batch in [0..4, 4..7, 7..10] {
        let before = watches.load(Ordering::SeqCst);
        for i in batch {
            api.create(&PostParams::default(), &cm(&format!("r{i}"), &[]))
                .await
                .expect("create");
        }
        crate::support::eventually_async("a watch restart", Duration::from_secs(10), || {
            let n = watches.load(Ordering::SeqCst);
            async move { (n > before).then_some(()) }
        })
        .await;
    }
    while applied.len() < 10 {
        match next_event(&mut rx).await {
            watcher::Event::Init => inits += 1,
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) => {
                applied.push(o.metadata.name.unwrap_or_default())
            }
            _ => {}
        }
    }
    reader.abort();
    let want: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    assert_eq!(
        applied, want,
        "every object once, in order, across watch restarts"
    );
    assert_eq!(
        inits, 1,
        "restarts resume from the last rv without relisting"
    );
    assert!(
        watches.load(Ordering::SeqCst) >= 4,
        "three restarts at least"
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn recorder_events_show_up_as_core_events() {
    use k8s_openapi::api::core::v1::Event as CoreEvent;
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    use kube::Resource;
    let lab = Lab::start("kube-events").await;
    let client = lab.client().await;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    let svc: Service = serde_json::from_value(
        json!({"metadata": {"name": "nginx"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .expect("svc");
    let svc = svcs
        .create(&PostParams::default(), &svc)
        .await
        .expect("create");
    let reporter = Reporter {
        controller: "metallb-controller".into(),
        instance: None,
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let ev = Event {
        type_: EventType::Normal,
        reason: "IPAllocated".into(),
        note: Some("Assigned IP \"192.168.1.240\"".into()),
        action: "Allocate".into(),
        secondary: None,
    };
    recorder
        .publish(&ev, &svc.object_ref(&()))
        .await
        .expect("publish");
    recorder
        .publish(&ev, &svc.object_ref(&()))
        .await
        .expect("publish again (series)");
    let uid = svc.metadata.uid.unwrap_or_default();
    let core: Api<CoreEvent> = Api::namespaced(client, "default");
    let selector = format!("involvedObject.name=nginx,involvedObject.namespace=default,involvedObject.kind=Service,involvedObject.uid={uid}");
    let found = core
        .list(&ListParams::default().fields(&selector))
        .await
        .expect("list core events");
    assert_eq!(found.items.len(), 1, "{:?}", found.items);
    let e = &found.items[0];
    assert_eq!(e.message.as_deref(), Some("Assigned IP \"192.168.1.240\""));
    assert_eq!(
        e.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("metallb-controller")
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn selector_watch_sees_objects_enter_and_leave() {
    let lab = Lab::start("kube-selector-watch").await;
    let api: Api<ConfigMap> = Api::namespaced(lab.client().await, "default");
    api.create(&PostParams::default(), &cm("x", &[]))
        .await
        .expect("create");
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    let label = |v: Option<&str>| json!({"metadata": {"labels": {"app": v}}});
    let pp = PatchParams::default();
    api.patch("x", &pp, &Patch::Merge(&label(Some("web"))))
        .await
        .expect("label on");
    api.patch("x", &pp, &Patch::Merge(&label(Some("web2"))))
        .await
        .expect("label changed");
    api.patch("x", &pp, &Patch::Merge(&label(Some("web"))))
        .await
        .expect("label back");
    api.patch("x", &pp, &Patch::Merge(&label(None)))
        .await
        .expect("label off");
    let wp = kube::api::WatchParams::default()
        .labels("app=web")
        .timeout(1);
    let kinds: Vec<String> = api
        .watch(&wp, &rv)
        .await
        .expect("watch")
        .filter_map(|e| async move {
            match e {
                Ok(kube::api::WatchEvent::Added(_)) => Some("ADDED".to_string()),
                Ok(kube::api::WatchEvent::Modified(_)) => Some("MODIFIED".to_string()),
                Ok(kube::api::WatchEvent::Deleted(_)) => Some("DELETED".to_string()),
                _ => None,
            }
        })
        .collect()
        .await;
    assert_eq!(kinds, ["ADDED", "DELETED", "ADDED", "DELETED"]);
    lab.shutdown().await;
}
