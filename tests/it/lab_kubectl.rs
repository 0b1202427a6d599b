//! The real kubectl (the one on PATH) against the lab API server, with no special flags: apply
//! (created, unchanged, configured), get tables, describe with events, edit, delete -f, logs,
//! get -w. Each test uses its own kubectl cache directory. Skipped with a message when kubectl
//! is missing, unless METALLBCTL_REQUIRE_PEERS=1.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{have_kubectl, Lab, Pipe, Streaming};

/// How long any one kubectl step may take.
const WAIT: Duration = Duration::from_secs(20);

const MANIFEST: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: metallb-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: default
spec:
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.24
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
spec:
  type: LoadBalancer
  selector:
    app: nginx
  ports:
  - name: http
    port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config
  namespace: metallb-system
data:
  config: |
    peers:
    - peer-address: 10.96.0.100
"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run kubectl against the lab with a per-test cache directory.
async fn kubectl(lab: &Lab, args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> Out {
    let mut cmd = lab.kubectl_cmd();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(String::from);
    let env: Vec<(String, std::path::PathBuf)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_path_buf()))
        .collect();
    tokio::task::spawn_blocking(move || {
        cmd.args(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kubectl");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("kubectl output");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("kubectl task")
}

async fn ok(lab: &Lab, args: &[&str]) -> String {
    let out = kubectl(lab, args, None, &[]).await;
    assert_eq!(
        out.code, 0,
        "kubectl {args:?} failed: {}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

fn write_manifest(lab: &Lab, text: &str) -> String {
    let path = lab.dir.path().join("manifest.yaml");
    std::fs::write(&path, text).expect("write manifest");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_and_delete() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("kubectl-apply").await;
    let file = write_manifest(&lab, MANIFEST);
    let first = ok(&lab, &["apply", "-f", &file]).await;
    for line in [
        "namespace/metallb-system created",
        "deployment.apps/nginx created",
        "service/nginx created",
        "configmap/config created",
    ] {
        assert!(first.contains(line), "{first}");
    }
    let again = ok(&lab, &["apply", "-f", &file]).await;
    assert!(
        again.contains("deployment.apps/nginx unchanged")
            && again.contains("service/nginx unchanged"),
        "{again}"
    );
    let file = write_manifest(&lab, &MANIFEST.replace("nginx:1.24", "nginx:1.25"));
    let changed = ok(&lab, &["apply", "-f", &file]).await;
    assert!(
        changed.contains("deployment.apps/nginx configured"),
        "{changed}"
    );
    let image = ok(
        &lab,
        &[
            "get",
            "deploy",
            "nginx",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    )
    .await;
    assert_eq!(image, "nginx:1.25");

    let svc = ok(&lab, &["get", "svc", "nginx"]).await;
    let header: Vec<&str> = svc
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert!(
        svc.contains("LoadBalancer") && svc.contains("<pending>") && svc.contains("80:3"),
        "{svc}"
    );
    let wide = ok(&lab, &["get", "svc", "nginx", "-o", "wide"]).await;
    assert!(
        wide.contains("SELECTOR") && wide.contains("app=nginx"),
        "{wide}"
    );
    let cms = ok(&lab, &["get", "cm", "-A"]).await;
    assert!(
        cms.lines()
            .next()
            .is_some_and(|h| h.split_whitespace().collect::<Vec<_>>()
                == ["NAMESPACE", "NAME", "DATA", "AGE"]),
        "{cms}"
    );
    let deploy = ok(&lab, &["get", "deployments"]).await;
    assert!(
        deploy.starts_with("NAME") && deploy.contains("READY") && deploy.contains("UP-TO-DATE"),
        "{deploy}"
    );
    let ns = ok(&lab, &["get", "ns"]).await;
    assert!(ns.contains("kube-system") && ns.contains("Active"), "{ns}");
    let pods = kubectl(&lab, &["get", "pods", "-n", "metallb-system"], None, &[]).await;
    assert!(
        pods.stderr
            .contains("No resources found in metallb-system namespace."),
        "{}",
        pods.stderr
    );

    let deleted = ok(&lab, &["delete", "-f", &file]).await;
    assert!(
        deleted.contains("service \"nginx\" deleted")
            && deleted.contains("namespace \"metallb-system\" deleted"),
        "{deleted}"
    );
    let gone = kubectl(&lab, &["get", "svc", "nginx"], None, &[]).await;
    assert!(
        gone.stderr
            .contains("Error from server (NotFound): services \"nginx\" not found"),
        "{}",
        gone.stderr
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_with_events_and_edit() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("kubectl-describe").await;
    let file = write_manifest(&lab, MANIFEST);
    ok(&lab, &["apply", "-f", &file]).await;
    let uid = ok(
        &lab,
        &["get", "svc", "nginx", "-o", "jsonpath={.metadata.uid}"],
    )
    .await;
    let event = format!(
        r#"{{"apiVersion":"v1","kind":"Event","metadata":{{"name":"nginx.1","namespace":"default"}},
        "involvedObject":{{"apiVersion":"v1","kind":"Service","name":"nginx","namespace":"default","uid":"{uid}"}},
        "reason":"IPAllocated","message":"Assigned IP \"192.168.1.240\"","type":"Normal",
        "source":{{"component":"metallb-controller"}},"count":1}}"#
    );
    let created = kubectl(&lab, &["create", "-f", "-"], Some(&event), &[]).await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let described = ok(&lab, &["describe", "service", "nginx"]).await;
    for want in [
        "IP Families:              IPv4",
        "External Traffic Policy:  Cluster",
        "IPAllocated",
        "metallb-controller",
        "Assigned IP \"192.168.1.240\"",
    ] {
        assert!(described.contains(want), "missing {want:?} in\n{described}");
    }
    let cm = ok(
        &lab,
        &["describe", "configmap", "-n", "metallb-system", "config"],
    )
    .await;
    assert!(
        cm.contains("peer-address: 10.96.0.100") && cm.contains("Events:"),
        "{cm}"
    );

    let editor = lab.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^spec:$/spec:\\n  loadBalancerIP: 192.168.1.241/' \"$1\"\n",
    )
    .expect("editor");
    set_executable(&editor);
    let edited = kubectl(
        &lab,
        &["edit", "service", "nginx"],
        None,
        &[("EDITOR", &editor)],
    )
    .await;
    assert!(
        edited.stdout.contains("service/nginx edited"),
        "{}{}",
        edited.stdout,
        edited.stderr
    );
    let ip = ok(
        &lab,
        &[
            "get",
            "svc",
            "nginx",
            "-o",
            "jsonpath={.spec.loadBalancerIP}",
        ],
    )
    .await;
    assert_eq!(ip, "192.168.1.241");
    lab.shutdown().await;
}

fn set_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_from_the_runtime_buffer() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("kubectl-logs").await;
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"speaker-x7k2p","namespace":"default","labels":{"component":"speaker"}},
        "spec":{"containers":[{"name":"speaker","image":"metallb/speaker:v0.6.2"}]}}"#;
    let created = kubectl(&lab, &["apply", "-f", "-"], Some(pod), &[]).await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    for i in 0..20 {
        lab.server().store().append_log(
            "default",
            "speaker-x7k2p",
            "speaker",
            &format!("line {i}"),
        );
    }
    let all = ok(&lab, &["logs", "speaker-x7k2p"]).await;
    assert_eq!(all.lines().count(), 20);
    let tail = ok(&lab, &["logs", "-l", "component=speaker"]).await;
    assert_eq!(
        tail.lines().collect::<Vec<_>>(),
        (10..20).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
    let pods = ok(&lab, &["get", "pods"]).await;
    assert!(
        pods.lines()
            .next()
            .is_some_and(|h| h.split_whitespace().collect::<Vec<_>>()
                == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]),
        "{pods}"
    );

    // logs -f: the existing tail, then lines as they come, until the pod goes away. The tail
    // on kubectl's stdout is the signal that its follow request reached the server; lines
    // appended after that are the live ones.
    let mut following =
        Streaming::spawn(
            lab.kubectl_cmd()
                .args(["logs", "-f", "--tail=1", "speaker-x7k2p"]),
        );
    following
        .wait_line("the tail", WAIT, |p, l| p == Pipe::Stdout && l == "line 19")
        .await;
    let store = lab.server().store().clone();
    store.append_log("default", "speaker-x7k2p", "speaker", "live 1\nlive 2");
    following
        .wait_line("the live lines", WAIT, |p, l| {
            p == Pipe::Stdout && l == "live 2"
        })
        .await;
    let pods = store
        .registry()
        .find("", "v1", "pods")
        .expect("pods registered");
    store
        .delete(&pods, Some("default"), "speaker-x7k2p", &Default::default())
        .expect("delete pod");
    let (status, followed) = following.finish(WAIT).await;
    assert!(status.success(), "{status}");
    assert_eq!(followed, "line 19\nlive 1\nlive 2\n");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_streams_changes() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("kubectl-watch").await;
    // One object before the watch, so the initial list prints a row: kubectl lists first,
    // then watches from the list's resourceVersion, so once that row is out no change can be
    // missed. (On an empty list kubectl -w prints nothing until the first event.)
    let before = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"before"}}"#;
    let out = kubectl(&lab, &["apply", "-f", "-"], Some(before), &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut watching = Streaming::spawn(lab.kubectl_cmd().args(["get", "configmaps", "-w"]));
    watching
        .wait_line("the initial list", WAIT, |p, l| {
            p == Pipe::Stdout && l.starts_with("before ")
        })
        .await;
    let cm =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"},"data":{"a":"b"}}"#;
    let out = kubectl(&lab, &["apply", "-f", "-"], Some(cm), &[]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    watching
        .wait_line("the added row", WAIT, |p, l| {
            p == Pipe::Stdout && l.starts_with("watched ")
        })
        .await;
    ok(&lab, &["label", "configmap", "watched", "x=y"]).await;
    watching
        .wait_line("the modified row", WAIT, |p, l| {
            p == Pipe::Stdout && l.starts_with("watched ")
        })
        .await;
    let stdout = watching.stdout();
    assert!(
        stdout.first().is_some_and(|l| l.starts_with("NAME")),
        "{stdout:?}"
    );
    assert_eq!(
        stdout.iter().filter(|l| l.starts_with("watched ")).count(),
        2,
        "{stdout:?}"
    );
    drop(watching);
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects_read_like_kubernetes() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::start("kubectl-invalid").await;
    let svc = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"{name}"}},"spec":{{"clusterIP":"10.96.0.100","ports":[{{"port":179}}]}}}}"#
        )
    };
    let first = kubectl(&lab, &["apply", "-f", "-"], Some(&svc("router")), &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = kubectl(&lab, &["apply", "-f", "-"], Some(&svc("router2")), &[]).await;
    assert!(second.stderr.contains(
        "The Service \"router2\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.100\"}: failed to allocate IP 10.96.0.100: provided IP is already allocated"
    ), "{}", second.stderr);
    let ip = ok(
        &lab,
        &["get", "svc", "router", "-o", "jsonpath={.spec.clusterIP}"],
    )
    .await;
    assert_eq!(ip, "10.96.0.100");
    lab.shutdown().await;
}
