//! Fault injection against a lab started by the CLI, each with a bound on recovery:
//!
//! - the lab daemon is SIGKILLed at a random point while Services are being created and
//!   deleted; after `lab up` every object the daemon had made durable is back with the same
//!   address, and nothing of the killed run (router daemons, control socket, pid files) is
//!   left over.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;
use metallbctl::lab::apiserver::persistence;
use serde_json::{json, Value};

use crate::support::{alive, eventually, have_kubectl, manifest, processes_with, Lab};

fn pods_running(lab: &Lab) -> Option<()> {
    let (_, out) = lab.kubectl(&["get", "pods", "-n", "metallb-system"]);
    ["controller-", "speaker-", "test-bgp-router-"]
        .iter()
        .all(|p| {
            out.lines()
                .any(|l| l.starts_with(p) && l.contains("Running"))
        })
        .then_some(())
}

fn install_metallb(lab: &Lab) {
    lab.k(&["apply", "-f", &manifest("test-bgp-router.yaml")]);
    lab.k(&["apply", "-f", &manifest("metallb.yaml")]);
    lab.k(&["apply", "-f", &manifest("tutorial-1.yaml")]);
    eventually(
        30,
        "MetalLB and the routers Running",
        || pods_running(lab),
        || lab.k(&["get", "pods", "-A"]),
    );
}

fn lb_service(name: &str) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"churn": "yes"}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
    }))
    .expect("service")
}

/// name -> first ingress IP (or "" while pending) of the churned Services in `objects`.
fn addresses<'a>(objects: impl Iterator<Item = &'a Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = objects
        .filter(|o| o["kind"] == "Service" && o["metadata"]["labels"]["churn"] == "yes")
        .map(|o| {
            (
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                o["status"]["loadBalancer"]["ingress"][0]["ip"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Files a running lab or router keeps only while it runs.
fn runtime_files(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            runtime_files(&p, out);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let is_socket =
            std::os::unix::fs::FileTypeExt::is_socket(&e.file_type().expect("file type"));
        if is_socket || name.ends_with(".pid") || name.ends_with(".ctl") {
            out.push(p.display().to_string());
        }
    }
}

/// A pseudo-random duration in `[lo, lo + span)` ms, different on every run.
fn random_ms(lo: u64, span: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    Duration::from_millis(lo + (nanos ^ u64::from(std::process::id())) % span)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_daemon_killed_mid_churn_comes_back_whole() {
    if !have_kubectl() {
        return;
    }
    let real = Path::new("/usr/sbin/bird").exists() && Path::new("/usr/lib/frr/bgpd").exists();
    let routers = if real { "real" } else { "builtin" };
    let lab = Lab::new("fault-kill");
    lab.up(&["--routers", routers]);
    install_metallb(&lab);
    let marker = lab.state().join("routers").display().to_string();
    let old_routers = processes_with("", &marker);
    if real {
        assert!(old_routers.len() >= 2, "BIRD and FRR run: {old_routers:?}");
    }

    // Churn: create Services, delete every third one a little later; remember what the API
    // server acknowledged, and when.
    let client = lab.client().await;
    let api: Api<Service> = Api::namespaced(client, "default");
    let acked: Arc<Mutex<Vec<(Instant, String, bool)>>> = Arc::default();
    let churn = {
        let (api, acked) = (api.clone(), acked.clone());
        tokio::spawn(async move {
            for i in 0.. {
                let name = format!("churn-{i}");
                if api
                    .create(&PostParams::default(), &lb_service(&name))
                    .await
                    .is_err()
                {
                    break;
                }
                if let Ok(mut a) = acked.lock() {
                    a.push((Instant::now(), name, true));
                }
                // Every third Service goes again two creates later; the others 150 creates
                // later, so at most about 100 are live and the /24 pool never runs out, however
                // fast the server takes creates.
                let mut gone = Vec::new();
                if i % 3 == 2 {
                    gone.push(format!("churn-{}", i - 2));
                }
                if i >= 150 && (i - 150) % 3 != 0 {
                    gone.push(format!("churn-{}", i - 150));
                }
                for gone in gone {
                    if api.delete(&gone, &DeleteParams::default()).await.is_err() {
                        return;
                    }
                    if let Ok(mut a) = acked.lock() {
                        a.push((Instant::now(), gone, false));
                    }
                }
            }
        })
    };
    tokio::time::sleep(random_ms(1500, 2500)).await;
    let pid = lab.pid().expect("daemon pid");
    // SAFETY: kill(2) on the lab daemon this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let killed_at = Instant::now();
    eventually(
        5,
        "daemon gone",
        || (!alive(pid)).then_some(()),
        String::new,
    );
    let _ = churn.await;
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let creates = acked.iter().filter(|a| a.2).count();
    assert!(creates > 5, "the churn ran: {creates} creates acknowledged");

    // What the killed daemon made durable.
    let snap = persistence::load(&lab.state().join("apiserver"))
        .expect("state file readable (never torn)")
        .expect("a state file");
    let durable = addresses(snap.objects.iter().map(|(_, o)| o.as_ref()));
    let assigned: Vec<&(String, String)> =
        durable.iter().filter(|(_, ip)| !ip.is_empty()).collect();
    assert!(!assigned.is_empty(), "no address assigned before the kill");
    // Everything acknowledged 1 s before the kill is durable (creates present, deletes gone).
    let settled = killed_at - Duration::from_secs(1);
    // (A name whose last operation came later may be in either state.)
    let mut last: std::collections::BTreeMap<&str, (Instant, bool)> = Default::default();
    for (at, name, created) in &acked {
        last.insert(name, (*at, *created));
    }
    let expect = last.iter().filter(|(_, (at, _))| *at < settled);
    for (name, (_, present)) in expect {
        assert_eq!(
            durable.iter().any(|(n, _)| n == name),
            *present,
            "{name} acknowledged >1 s before the kill but {} in the state file",
            if *present { "missing" } else { "still" }
        );
    }

    // The killed run's router daemons outlive it; `lab up` must clear them.
    let up_started = Instant::now();
    let said = lab.lab("up", &["--routers", routers]);
    assert!(
        said.status.success(),
        "{}",
        String::from_utf8_lossy(&said.stderr)
    );
    for p in &old_routers {
        assert!(
            !alive(*p),
            "router daemon {p} of the killed run still runs after lab up"
        );
    }
    // Every durable object is back, every assigned address unchanged, and pending ones get
    // an address from the controller again.
    let client = lab.client().await;
    let api: Api<Service> = Api::namespaced(client, "default");
    let now = || async {
        let list = api
            .list(&ListParams::default().labels("churn=yes"))
            .await
            .ok()?;
        let values: Vec<Value> = list
            .items
            .iter()
            .filter_map(|s| {
                let mut v = serde_json::to_value(s).ok()?;
                v["kind"] = json!("Service");
                Some(v)
            })
            .collect();
        Some(addresses(values.iter()))
    };
    let mut after = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(a) = now().await {
            let all_assigned = a.iter().all(|(_, ip)| !ip.is_empty());
            after = a;
            if all_assigned && after.len() == durable.len() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = up_started.elapsed();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&durable), "the objects after lab up");
    for (name, ip) in assigned {
        let now_ip = after
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i.as_str());
        assert_eq!(
            now_ip,
            Some(ip.as_str()),
            "{name}'s address changed across the kill"
        );
    }
    assert!(
        after.iter().all(|(_, ip)| !ip.is_empty()),
        "services left without an address: {after:?}"
    );
    eprintln!(
        "kill -9 mid-churn ({routers} routers): {creates} creates acknowledged, {} services durable, all back with their addresses {recovered:?} after `lab up` started",
        durable.len()
    );

    // After lab down nothing of either run is left.
    let down = lab.lab("down", &[]);
    assert!(down.status.success());
    eventually(
        10,
        "no router daemon left",
        || processes_with("", &marker).is_empty().then_some(()),
        || format!("{:?}", processes_with("", &marker)),
    );
    let mut left = Vec::new();
    runtime_files(&lab.state(), &mut left);
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn speaker_restarts(lab: &Lab) -> Option<u64> {
    let (_, out) = lab.kubectl(&[
        "get",
        "pods",
        "-n",
        "metallb-system",
        "-l",
        "app=speaker",
        "-o",
        "jsonpath={.items[0].status.containerStatuses[0].restartCount}",
    ]);
    out.trim().parse().ok()
}

fn speaker_pod(lab: &Lab) -> String {
    lab.k(&[
        "get",
        "pods",
        "-n",
        "metallb-system",
        "-l",
        "app=speaker",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])
    .trim()
    .to_string()
}

/// The speaker is killed (its task dropped at once, as SIGKILL drops a process's sockets): the
/// routers withdraw its routes, the runtime restarts it with a rising restart count, and
/// `kubectl logs --previous` shows the killed instance's log. Then the lab itself restarts:
/// the logs survive and the count rises again.
#[test]
fn a_killed_speaker_is_withdrawn_and_comes_back_with_a_rising_restart_count() {
    if !have_kubectl() {
        return;
    }
    let prefix = "198.51.100.0/32";
    let lab = Lab::new("fault-speaker");
    lab.up(&[]);
    install_metallb(&lab);
    lab.k(&["apply", "-f", &manifest("tutorial-2.yaml")]);
    let all_hold = |lab: &Lab| {
        let held = lab.routers_hold(prefix);
        (held.len() == 2 && held.iter().all(|b| *b)).then_some(())
    };
    eventually(
        30,
        "both routers hold the /32",
        || all_hold(&lab),
        || lab.status().to_string(),
    );
    assert_eq!(speaker_restarts(&lab), Some(0));
    let pod = speaker_pod(&lab);

    let socket = lab.state().join("control.sock");
    let killed_at = Instant::now();
    let said = metallbctl::lab::control::request(&socket, "kill speaker", Duration::from_secs(5))
        .expect("kill request");
    assert!(
        said.contains(&format!("killed metallb-system/{pod} speaker")),
        "{said}"
    );
    let withdrawn = eventually(
        5,
        "both routers withdraw the speaker's route",
        || {
            let held = lab.routers_hold(prefix);
            held.iter().all(|b| !b).then(|| killed_at.elapsed())
        },
        || lab.status().to_string(),
    );
    let back = eventually(
        15,
        "the restarted speaker's route back at both routers",
        || all_hold(&lab).map(|()| killed_at.elapsed()),
        || lab.status().to_string(),
    );
    eprintln!("speaker killed: routes withdrawn after {withdrawn:?}, back after {back:?}");
    assert_eq!(
        speaker_restarts(&lab),
        Some(1),
        "restart count after one kill"
    );
    let pods = lab.k(&["get", "pods", "-n", "metallb-system"]);
    let line = pods
        .lines()
        .find(|l| l.starts_with(&pod))
        .unwrap_or_default();
    assert_eq!(
        line.split_whitespace().nth(3),
        Some("1"),
        "RESTARTS column:\n{pods}"
    );
    let previous = lab.k(&["logs", "-n", "metallb-system", &pod, "--previous"]);
    assert!(
        previous.contains("configured, starting BGP session")
            && previous.contains("component killed"),
        "previous log:\n{previous}"
    );
    let current = lab.k(&["logs", "-n", "metallb-system", &pod]);
    assert!(
        !current.contains("component killed")
            && current.contains("configured, starting BGP session"),
        "current log:\n{current}"
    );
    // No previous log for a container that never restarted: the real server's 400.
    let controller = lab.k(&[
        "get",
        "pods",
        "-n",
        "metallb-system",
        "-l",
        "app=controller",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    let (ok, said) = lab.kubectl(&[
        "logs",
        "-n",
        "metallb-system",
        controller.trim(),
        "--previous",
    ]);
    assert!(
        !ok && said.contains("previous terminated container"),
        "{said}"
    );

    // The lab restarts: the pods' containers restart with it, their logs survive.
    let before_restart = lab.k(&["logs", "-n", "metallb-system", &pod]);
    lab.down();
    let restarted_at = Instant::now();
    lab.up(&[]);
    eventually(
        30,
        "routes back after the lab restart",
        || all_hold(&lab),
        || lab.status().to_string(),
    );
    let lab_back = restarted_at.elapsed();
    eprintln!("lab restarted: routes back {lab_back:?} after `lab up` started");
    assert_eq!(
        speaker_restarts(&lab),
        Some(2),
        "restart count after the lab restart"
    );
    let previous = lab.k(&["logs", "-n", "metallb-system", &pod, "--previous"]);
    let last_line = before_restart.lines().last().unwrap_or_default();
    assert!(
        !last_line.is_empty() && previous.contains(last_line),
        "the log before the lab restart ({last_line:?}) is the previous log now:\n{previous}"
    );
}
