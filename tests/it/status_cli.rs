//! `metallbctl status` and `metallbctl routes`: the JSON output checked against
//! docs/status.schema.json (a small checker below: type, required, properties, items, enum,
//! oneOf, $ref, minimum/maximum, formats ip/cidr, and no undocumented field), failing sources
//! as marked cells, and on the lab: `status --require all` exits 0 when healthy and 1 after the
//! routers stop, speaker metrics through the pod proxy, and `--router NAME=listen:...`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::lab::Lab;
use crate::support::{eventually, have_kubectl, have_real_routers};
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(include_str!("../../docs/status.schema.json")).expect("schema is JSON")
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/$defs/");
            resolve(root, &root["$defs"][name])
        }
        None => s,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// Every violation of `s` by `v`, with JSON paths.
fn check(root: &Value, s: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let s = resolve(root, s);
    if let Some(alts) = s["oneOf"].as_array() {
        let ok = alts
            .iter()
            .filter(|a| {
                let mut e = Vec::new();
                check(root, a, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if ok != 1 {
            errs.push(format!("{path}: matches {ok} of oneOf, want 1: {v}"));
        }
        return;
    }
    match &s["type"] {
        Value::String(t) if !type_ok(t, v) => errs.push(format!("{path}: not {t}: {v}")),
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)) => {
            errs.push(format!("{path}: not any of {ts:?}: {v}"))
        }
        _ => {}
    }
    if let Some(e) = s["enum"].as_array() {
        if !e.contains(v) {
            errs.push(format!("{path}: {v} not in {e:?}"));
        }
    }
    if let (Some(min), Some(n)) = (s["minimum"].as_f64(), v.as_f64()) {
        if n < min {
            errs.push(format!("{path}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s["maximum"].as_f64(), v.as_f64()) {
        if n > max {
            errs.push(format!("{path}: {n} > {max}"));
        }
    }
    if let (Some(f), Some(text)) = (s["format"].as_str(), v.as_str()) {
        let ok = match f {
            "ip" => text.parse::<std::net::IpAddr>().is_ok(),
            "cidr" => text.parse::<ipnet::IpNet>().is_ok(),
            _ => true,
        };
        if !ok {
            errs.push(format!("{path}: {text:?} is not a {f}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s["properties"].as_object();
        for r in s["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap_or("");
            if !obj.contains_key(r) {
                errs.push(format!("{path}: missing required {r:?}"));
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(root, ps, val, &format!("{path}.{k}"), errs),
                None if props.is_some() => errs.push(format!("{path}: undocumented field {k:?}")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), errs);
        }
    }
}

fn assert_valid(def: &str, v: &Value) {
    let root = schema();
    let mut errs = Vec::new();
    check(&root, &root["$defs"][def], v, "$", &mut errs);
    assert!(
        errs.is_empty(),
        "{def} violates docs/status.schema.json:\n{}\n{v:#}",
        errs.join("\n")
    );
}

fn metallbctl(args: &[&str]) -> (i32, String, String) {
    let out = crate::support::metallbctl()
        .args(args)
        .output()
        .expect("run metallbctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_schema_checker_catches_what_it_should() {
    let root = schema();
    let mut errs = Vec::new();
    let bad = serde_json::json!({"taken_at_ms": "soon", "surprise": 1});
    check(&root, &root["$defs"]["Snapshot"], &bad, "$", &mut errs);
    let text = errs.join("\n");
    for want in [
        "$.taken_at_ms: not integer",
        "missing required \"routers\"",
        "undocumented field \"surprise\"",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
}

#[test]
fn the_model_serialises_as_documented() {
    use metallbctl::status::model::*;
    let mut s: Snapshot =
        serde_json::from_str(include_str!("../fixtures/status/healthy.json")).expect("fixture");
    s.config = ConfigState::Rejected {
        message: "configuration rejected: x".into(),
        by: "metallb-controller".into(),
        at_ms: Some(1),
    };
    s.sources[0].health = Health::Failed {
        error: "refused".into(),
        since_ms: 2,
    };
    s.routers[1].routes.clear();
    s.drift = metallbctl::status::drift::derive(&s);
    s.history.record(&s.clone());
    assert!(!s.drift.is_empty() && !s.history.sessions.is_empty());
    assert_valid("Snapshot", &serde_json::to_value(&s).unwrap());
    assert_valid(
        "Snapshot",
        &serde_json::to_value(Snapshot::default()).unwrap(),
    );
    let rows = metallbctl::cli::status::RoutesDoc {
        taken_at_ms: 1,
        routes: metallbctl::cli::status::route_rows(&s),
    };
    assert_valid("RoutesDoc", &serde_json::to_value(rows).unwrap());
}

#[test]
fn failing_routers_are_marked_cells_not_crashes() {
    let t = Instant::now();
    let args = [
        "status",
        "--no-cluster",
        "--router",
        "g=gobgp:127.0.0.1:9",
        "--router",
        "b=bird:/nonexistent/bird.ctl",
        "--router",
        "f=frr:/nonexistent-vty",
        "--timeout",
        "3",
    ];
    let (code, out, err) = metallbctl(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_valid("Snapshot", &v);
    let sources = v["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 3, "{v:#}");
    for s in sources {
        assert_eq!(s["health"]["status"], "failed", "{s}");
        assert!(
            !s["health"]["error"].as_str().unwrap_or("").is_empty(),
            "{s}"
        );
        assert!(s["last_ok_ms"].is_null());
    }
    let names: Vec<&str> = v["routers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, vec!["b", "f", "g"]);

    let (code, out, _) = metallbctl(&[&args[..], &["--require", "any"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[FAILURE] No BGP sessions found"), "{out}");
    assert!(out.contains("cannot read the router"), "{out}");
    assert!(out.contains("! source b failing for"), "{out}");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "bounded by the timeouts"
    );

    let (code, _, err) = metallbctl(&["status", "--no-cluster", "--router", "x=ospf"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown router kind"), "{err}");
}

/// `status` through the CLI against the lab's kubeconfig.
fn status(lab: &Lab, extra: &[&str]) -> (i32, String, String) {
    let kc = lab.kubeconfig().display().to_string();
    metallbctl(&[&["status", "--kubeconfig", &kc][..], extra].concat())
}

#[test]
fn status_require_all_follows_the_lab() {
    if !have_kubectl() {
        return;
    }
    let real = have_real_routers();
    let lab = Lab::new("status");
    lab.up(&[
        "--tutorial",
        "--routers",
        if real { "real" } else { "builtin" },
    ]);
    let kc = lab.kubeconfig().display().to_string();

    // Healthy: exit 0, every section filled from the real sources.
    let (code, out, err) = eventually(
        20,
        "status --require all to pass",
        || {
            let r = status(&lab, &["--require", "all"]);
            (r.0 == 0).then_some(r)
        },
        || format!("{:?}", status(&lab, &["--require", "all"])),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("[OK] All peers established (2/2)"), "{out}");
    assert!(out.contains("MetalLB is connected — 1 route"), "{out}");
    assert!(
        out.contains("default/nginx   198.51.100.0   my-ip-space"),
        "{out}"
    );

    // The same sources in process: cluster, speakers through the pod proxy, lab routers.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let snap = rt.block_on(async {
        let args = metallbctl::cli::status::SourceArgs {
            kubeconfig: Some(lab.kubeconfig()),
            context: None,
            no_cluster: false,
            namespace: "metallb-system".into(),
            routers: Vec::new(),
            no_lab_routers: false,
            timeout: 5.0,
        };
        let (mut c, _) = metallbctl::cli::status::collector(&args)
            .await
            .expect("collector");
        c.poll().await
    });
    assert_eq!(snap.drift, vec![], "{snap:#?}");
    assert_eq!(snap.speakers.len(), 2);
    assert_eq!(snap.routers.len(), 2);
    let names: Vec<&str> = snap.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["bird", "cluster", "lab", "quagga", "speaker/minikube"]
    );
    assert!(snap
        .sources
        .iter()
        .all(|s| s.health == metallbctl::status::Health::Ok));

    let (code, out, err) = status(&lab, &["-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_valid("Snapshot", &v);
    assert_eq!(v["config"]["state"], "accepted");
    assert_eq!(v["speakers"].as_array().map(Vec::len), Some(2), "{v:#}");
    let kinds: Vec<&str> = v["routers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        if real {
            vec!["bird", "frr"]
        } else {
            vec!["builtin", "builtin"]
        }
    );
    assert!(v["routers"][0]["raw"].is_string());
    assert_eq!(v["drift"], serde_json::json!([]));

    let (code, out, _) = metallbctl(&["routes", "--kubeconfig", &kc, "-o", "json"]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&out).expect("JSON");
    assert_valid("RoutesDoc", &r);
    assert_eq!(r["routes"][0]["prefix"], "198.51.100.0/32", "{r:#}");
    assert_eq!(r["routes"][0]["next_hop"], "127.0.1.1");
    assert_eq!(
        r["routes"][0]["routers"],
        serde_json::json!(["bird", "quagga"])
    );
    let (_, yaml, _) = metallbctl(&["routes", "--kubeconfig", &kc, "-o", "yaml"]);
    assert!(yaml.contains("prefix: 198.51.100.0/32"), "{yaml}");

    if real {
        // BIRD's and FRR's times become ages.
        let rows = r["routes"][0]["since_ms"].as_u64().expect("route age");
        let now = v["taken_at_ms"].as_u64().unwrap();
        assert!(
            rows <= now + 1000 && now - rows < 600_000,
            "{rows} vs {now}"
        );
    }

    // The pod proxy serves the speaker's metrics, with metallbctl's session details.
    let pod = v["speakers"][0]["pod"]
        .as_str()
        .expect("speaker pod")
        .to_string();
    let metrics = lab.k(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces/metallb-system/pods/{pod}:7472/proxy/metrics"),
    ]);
    assert!(
        metrics.contains("metallb_bgp_session_up{peer=\"10.96.0.100:179\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("metallbctl_bgp_session_info{"),
        "{metrics}"
    );
    let (ok, text) = lab.kubectl(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces/metallb-system/pods/{pod}:9999/proxy/metrics"),
    ]);
    assert!(
        !ok && text.contains("nothing listens on port 9999"),
        "{text}"
    );

    // Tutorial step 3: MetalLB rejects the configuration; the model carries its text.
    lab.k(&["apply", "-f", &crate::support::manifest("tutorial-3.yaml")]);
    let config = eventually(
        20,
        "the config to be rejected",
        || {
            let (_, out, _) = status(&lab, &["-o", "json"]);
            let v: Value = serde_json::from_str(&out).ok()?;
            (v["config"]["state"] == "rejected").then(|| v["config"].clone())
        },
        || status(&lab, &["-o", "json"]).1,
    );
    assert!(
        config["message"].as_str().is_some_and(|m| m
            .starts_with("configuration rejected: new config not compatible with assigned IPs")),
        "{config}"
    );
    let (code, out, _) = status(&lab, &["--require", "all"]);
    assert_eq!(code, 1, "a rejected config is drift: {out}");
    assert!(out.contains("[FAILURE] config_rejected: "), "{out}");

    // Stop the routers: sessions go down with their last error, drift is flagged, exit 1.
    lab.k(&[
        "-n",
        "metallb-system",
        "scale",
        "deployment",
        "test-bgp-router",
        "--replicas=0",
    ]);
    let (out, _) = eventually(
        20,
        "status --require all to fail",
        || {
            let r = status(&lab, &["--require", "all"]);
            (r.0 == 1).then_some((r.1, r.2))
        },
        || format!("{:?}", status(&lab, &["--require", "all"])),
    );
    assert!(
        out.contains("[FAILURE] No peers established (0/2)"),
        "{out}"
    );
    assert!(
        out.contains("[FAILURE] session_down: speaker session minikube -> 10.96.0.100:179"),
        "{out}"
    );
    assert!(out.contains("not connected"), "{out}");
    let (code, _, _) = status(&lab, &["--require", "any"]);
    assert_eq!(code, 1);
}

#[test]
fn listen_shows_what_metallb_puts_on_the_wire() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("listen");
    lab.up(&["--tutorial"]);
    let kc = lab.kubeconfig().display().to_string();
    // A free port on a loopback address of our own.
    let port = std::net::TcpListener::bind("127.0.0.61:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let spec = format!("me=listen:127.0.0.61:{port},as=64500");
    let child = crate::support::metallbctl()
        .args([
            "status",
            "--kubeconfig",
            &kc,
            "--no-lab-routers",
            "--watch",
            "--interval",
            "0.5",
        ])
        .args(["-o", "json", "--router", &spec])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn status --watch");
    // Killed and reaped on drop, also when an assertion below fails.
    let mut child = crate::support::Proc(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    // Point MetalLB at metallbctl as a third peer.
    let cm = lab.state().join("listen-peer.yaml");
    std::fs::write(
        &cm,
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: metallb-system\n  name: config\ndata:\n  config: |\n    peers:\n    - my-asn: 64500\n      peer-asn: 64500\n      peer-address: 127.0.0.61\n      peer-port: {port}\n    address-pools:\n    - name: my-ip-space\n      protocol: bgp\n      addresses:\n      - 198.51.100.0/24\n"
        ),
    )
    .expect("write");
    lab.k(&["apply", "-f", &cm.display().to_string()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    let held = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let v: Value = serde_json::from_str(&line).expect("one JSON snapshot per line");
                let me = v["routers"]
                    .as_array()
                    .and_then(|r| r.iter().find(|r| r["name"] == "me").cloned())
                    .unwrap_or(Value::Null);
                if me["routes"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["prefix"] == "198.51.100.0/32"))
                {
                    break Some(me);
                }
                last = line;
            }
            Err(_) => break None,
        }
    };
    drop(child);
    let me = held.unwrap_or_else(|| panic!("the listen router never held the route; last: {last}"));
    assert_eq!(me["kind"], "listen");
    assert_eq!(me["sessions"][0]["state"], "Established");
    assert_eq!(me["routes"][0]["next_hop"], "127.0.1.1");
}

/// Each router source's results are kept by its name, so two sources with one name would
/// overwrite each other's routers: refused, like the name of the lab's own routers.
#[test]
fn router_names_are_unique_and_lab_is_reserved() {
    for routers in [&["a=frr", "a=frr"][..], &["lab=frr"][..]] {
        let mut args = vec!["status", "--no-cluster"];
        for r in routers {
            args.extend(["--router", r]);
        }
        let (code, _, err) = metallbctl(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("the name is taken"), "{err}");
    }
}
