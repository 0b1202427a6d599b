//! The soak: a multi-node lab (3 nodes, 2 routers; BIRD and FRR when installed) with MetalLB,
//! and Services churned against it for a while (create, delete, pin loadBalancerIP, change
//! externalTrafficPolicy, scale endpoints, flip the configuration between safe and unsafe
//! versions), with invariants checked all along:
//!
//! - no address is held by two Services (the soak never asks for sharing);
//! - at every quiet point, each router's RIB equals the intended routes within 2 s;
//! - the soak's own watch on Services sees no duplicated or out-of-order event, and at every
//!   quiet point its cache equals a fresh LIST (no lost event);
//! - the lab daemon's memory, file descriptors and threads do not grow after warm-up.
//!
//! Every violation is printed with the objects involved; the exit status is 1 if there was
//! any. Run (after `cargo build`, which builds the `metallbctl` binary it drives):
//!
//! ```text
//! cargo run --release --example soak -- --duration 600 --services 5000
//! cargo run --example soak -- --ci        # 60 s, 500 Services (.ci/run)
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use metallbctl::lab::control;
use serde_json::json;

const NS: &str = "soak";
/// Deployments the Services select (their replicas are the endpoints that get scaled).
const APPS: usize = 10;
/// How long routers may take to match the intent once churn stops.
const QUIET_BOUND: Duration = Duration::from_secs(2);
/// Churn between two quiet-point checks.
const CHECK_EVERY: Duration = Duration::from_secs(15);
/// Concurrent churn workers.
const WORKERS: usize = 4;

struct Args {
    duration: Duration,
    services: usize,
    routers: String,
    seed: u64,
}

fn usage() -> ! {
    eprintln!(
        "usage: soak [--ci] [--duration SECS] [--services N] [--routers auto|builtin|real] [--seed N]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        duration: Duration::from_secs(600),
        services: 5000,
        routers: "auto".into(),
        seed: u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--ci" => {
                a.duration = Duration::from_secs(60);
                a.services = 500;
            }
            "--duration" => {
                a.duration = Duration::from_secs(value().parse().unwrap_or_else(|_| usage()))
            }
            "--services" => a.services = value().parse().unwrap_or_else(|_| usage()),
            "--routers" => a.routers = value(),
            "--seed" => a.seed = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    a
}

/// xorshift64*: reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The pool: 16k addresses, far more than the Services, so the second pool of the "safe B"
/// configuration is never used and flipping back to "safe A" stays safe.
const POOL: &str = "198.18.0.0/18";

fn config(kind: &str) -> String {
    let pools = match kind {
        "safe-a" => format!("- name: soak\n  protocol: bgp\n  addresses:\n  - {POOL}\n"),
        "safe-b" => format!(
            "- name: soak\n  protocol: bgp\n  addresses:\n  - {POOL}\n- name: spare\n  protocol: bgp\n  addresses:\n  - 198.19.0.0/24\n"
        ),
        // Takes most addresses away: rejected while Services hold them.
        _ => "- name: soak\n  protocol: bgp\n  addresses:\n  - 198.18.0.0/28\n".to_string(),
    };
    format!(
        "peers:\n- my-asn: 64500\n  peer-asn: 64512\n  peer-address: 10.96.0.100\n- my-asn: 64500\n  peer-asn: 64513\n  peer-address: 10.96.0.101\naddress-pools:\n{pools}"
    )
}

fn pool_ip(i: usize) -> String {
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
    // Skip .0 and .255 of every /24 (MetalLB's buggy IPs).
    let n = (i % 16_000) as u32;
    Ipv4Addr::from(base + (n / 254) * 256 + n % 254 + 1).to_string()
}

/// Every violation, printed when found and counted.
#[derive(Default)]
struct Violations(Mutex<Vec<String>>);

impl Violations {
    fn add(&self, what: String) {
        eprintln!("VIOLATION: {what}");
        if let Ok(mut v) = self.0.lock() {
            v.push(what);
        }
    }
    fn count(&self) -> usize {
        self.0.lock().map(|v| v.len()).unwrap_or(0)
    }
}

/// The soak's own view of the Services, from its watch.
#[derive(Default)]
struct WatchCache {
    /// name -> resourceVersion
    objects: BTreeMap<String, String>,
    last_rv: u64,
    events: u64,
}

fn run_cli(bin: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(bin)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("metallbctl {args:?} failed:\n{text}"))
    }
}

/// The daemon's resident memory (KiB), open file descriptors and threads.
#[derive(Debug, Clone, Copy)]
struct Usage {
    rss_kib: u64,
    fds: usize,
    threads: u64,
}

fn usage_of(pid: u32) -> Option<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(Usage {
        rss_kib: field("VmRSS:")?,
        fds,
        threads: field("Threads:")?,
    })
}

struct Lab {
    bin: PathBuf,
    name: String,
    dir: PathBuf,
}

impl Lab {
    fn args<'a>(&'a self, sub: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["lab", sub, "--name", &self.name, "--state-dir"];
        v.push(self.dir.to_str().unwrap_or_default());
        v.extend_from_slice(extra);
        v
    }
    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("lab.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = run_cli(&self.bin, &self.args("down", &[]));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn service(name: &str, rng: &mut Rng) -> Service {
    let local = rng.below(3) == 0;
    let app = format!("soak-app-{}", rng.below(APPS));
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"soak": "yes"}},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": app},
            "externalTrafficPolicy": if local { "Local" } else { "Cluster" },
            // 5,000 LoadBalancer Services would exhaust the 2,768 node ports.
            "allocateLoadBalancerNodePorts": false,
            "ports": [{"port": 80, "targetPort": 80}],
        },
    }))
    .unwrap_or_default()
}

struct Churn {
    services: Api<Service>,
    deployments: Api<Deployment>,
    configmaps: Api<ConfigMap>,
    slots: usize,
    ops: std::sync::atomic::AtomicU64,
    creates: std::sync::atomic::AtomicU64,
    errors: std::sync::atomic::AtomicU64,
}

impl Churn {
    async fn op(&self, rng: &mut Rng) {
        use std::sync::atomic::Ordering::Relaxed;
        let slot = rng.below(self.slots);
        let name = format!("svc-{slot}");
        let roll = rng.below(100);
        let result = match roll {
            // Scale a Deployment: the endpoints of every Service selecting it.
            0..=1 => {
                let app = format!("soak-app-{}", rng.below(APPS));
                let replicas = rng.below(4);
                self.deployments
                    .patch(
                        &app,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": {"replicas": replicas}})),
                    )
                    .await
                    .map(|_| ())
            }
            // Flip the configuration: safe A, safe B, or unsafe (rejected).
            2 => {
                let kind = ["safe-a", "safe-b", "unsafe"][rng.below(3)];
                self.configmaps
                    .patch(
                        "config",
                        &PatchParams::default(),
                        &Patch::Merge(json!({"data": {"config": config(kind)}})),
                    )
                    .await
                    .map(|_| ())
            }
            // Delete.
            3..=27 => match self.services.delete(&name, &DeleteParams::default()).await {
                Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                r => r.map(|_| ()),
            },
            // Pin a loadBalancerIP (a free one, or one another Service holds: then it waits).
            28..=37 => {
                let ip = pool_ip(rng.below(16_000));
                let patch = json!({"spec": {"loadBalancerIP": ip}});
                match self
                    .services
                    .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                {
                    Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                    r => r.map(|_| ()),
                }
            }
            // Change externalTrafficPolicy.
            38..=52 => {
                let policy = if rng.below(2) == 0 {
                    "Local"
                } else {
                    "Cluster"
                };
                let patch = json!({"spec": {"externalTrafficPolicy": policy}});
                match self
                    .services
                    .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                {
                    Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                    r => r.map(|_| ()),
                }
            }
            // Create (an existing one is left alone).
            _ => match self
                .services
                .create(&PostParams::default(), &service(&name, rng))
                .await
            {
                Ok(_) => {
                    self.creates.fetch_add(1, Relaxed);
                    Ok(())
                }
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                Err(e) => Err(e),
            },
        };
        self.ops.fetch_add(1, Relaxed);
        if let Err(e) = result {
            self.errors.fetch_add(1, Relaxed);
            eprintln!("churn op on {name} failed: {e}");
        }
    }
}

/// Watch Services from `rv` on, forever (each stream restarts where the last one ended);
/// every event's resourceVersion must be greater than the last one seen.
async fn watch_services(api: Api<Service>, cache: Arc<Mutex<WatchCache>>, v: Arc<Violations>) {
    loop {
        let rv = cache
            .lock()
            .map(|c| c.last_rv.to_string())
            .unwrap_or_default();
        let params = WatchParams::default().timeout(290).labels("soak=yes");
        let stream = match api.watch(&params, &rv).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("watch failed to start: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut stream = stream.boxed();
        while let Some(ev) = stream.next().await {
            let (kind, svc) = match ev {
                Ok(WatchEvent::Added(s)) => ("ADDED", s),
                Ok(WatchEvent::Modified(s)) => ("MODIFIED", s),
                Ok(WatchEvent::Deleted(s)) => ("DELETED", s),
                Ok(WatchEvent::Bookmark(_)) => continue,
                Ok(WatchEvent::Error(e)) => {
                    v.add(format!("watch ERROR event: {} {}", e.code, e.message));
                    break;
                }
                Err(e) => {
                    eprintln!("watch stream error: {e}");
                    break;
                }
            };
            let name = svc.metadata.name.clone().unwrap_or_default();
            let rv_s = svc.metadata.resource_version.clone().unwrap_or_default();
            let rv: u64 = rv_s.parse().unwrap_or(0);
            let Ok(mut c) = cache.lock() else { return };
            if rv <= c.last_rv {
                v.add(format!(
                    "watch event {kind} {NS}/{name} rv {rv} is not after the last one seen ({}): duplicated or out of order",
                    c.last_rv
                ));
            }
            c.last_rv = c.last_rv.max(rv);
            c.events += 1;
            if kind == "DELETED" {
                c.objects.remove(&name);
            } else {
                c.objects.insert(name, rv_s);
            }
        }
    }
}

/// The prefixes the routers should hold now, from a fresh read of Services and endpoints.
async fn intended(
    services: &Api<Service>,
    slices: &Api<EndpointSlice>,
) -> Option<BTreeSet<String>> {
    let svcs = services
        .list(&ListParams::default().labels("soak=yes"))
        .await
        .ok()?;
    let slices = slices.list(&ListParams::default()).await.ok()?;
    let mut ready: BTreeSet<String> = BTreeSet::new();
    for s in &slices.items {
        let Some(owner) = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        if s.endpoints
            .iter()
            .any(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        {
            ready.insert(owner.clone());
        }
    }
    let mut out = BTreeSet::new();
    for s in &svcs.items {
        let name = s.metadata.name.clone().unwrap_or_default();
        let ips: Vec<String> = s
            .status
            .as_ref()
            .and_then(|st| st.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .map(|i| i.iter().filter_map(|x| x.ip.clone()).collect())
            .unwrap_or_default();
        let [ip] = ips.as_slice() else { continue };
        let local = s
            .spec
            .as_ref()
            .and_then(|sp| sp.external_traffic_policy.as_deref())
            == Some("Local");
        if local && !ready.contains(&name) {
            continue;
        }
        out.insert(format!("{ip}/32"));
    }
    Some(out)
}

/// Each router's prefixes (over all its sessions).
fn router_ribs(socket: &Path) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let st = control::status(socket, Duration::from_secs(10)).ok()?;
    Some(
        st.routers
            .iter()
            .map(|r| {
                let prefixes = r
                    .sessions
                    .iter()
                    .flat_map(|s| s.routes.iter().map(|x| x.prefix.clone()))
                    .collect();
                (r.name.clone(), prefixes)
            })
            .collect(),
    )
}

/// No address held by two Services.
fn check_addresses(svcs: &[Service], v: &Violations) {
    let mut holders: HashMap<String, Vec<String>> = HashMap::new();
    for s in svcs {
        let name = s.metadata.name.clone().unwrap_or_default();
        for ip in s
            .status
            .as_ref()
            .and_then(|st| st.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|i| i.ip.clone())
        {
            holders.entry(ip).or_default().push(name.clone());
        }
    }
    for (ip, names) in holders {
        if names.len() > 1 {
            v.add(format!(
                "address {ip} held by several Services without sharing: {names:?}"
            ));
        }
    }
}

async fn wait_rollout(deployments: &Api<Deployment>, apps: usize, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(list) = deployments.list(&ListParams::default()).await {
            let ready = list
                .items
                .iter()
                .filter(|d| {
                    d.status
                        .as_ref()
                        .and_then(|s| s.ready_replicas)
                        .unwrap_or(0)
                        >= 1
                })
                .count();
            if ready >= apps {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

fn metallbctl_bin() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/soak -> target/<profile>/metallbctl
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("metallbctl"))
        .ok_or("cannot locate the target directory")?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} not found: build it first (cargo build, with the same --release as this example)",
            bin.display()
        ))
    }
}

fn main() -> ExitCode {
    let args = parse_args();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(soak(args)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::from(2)
        }
    }
}

async fn soak(args: Args) -> Result<usize, String> {
    let bin = metallbctl_bin()?;
    let real = Path::new("/usr/sbin/bird").exists() && Path::new("/usr/lib/frr/bgpd").exists();
    let routers = match args.routers.as_str() {
        "auto" if real => "real",
        "auto" => "builtin",
        other => other,
    }
    .to_string();
    let topology = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/multi-node.yaml");
    let lab = Lab {
        bin: bin.clone(),
        name: format!("soak-{}", std::process::id()),
        dir: std::env::temp_dir().join(format!("metallbctl-soak-{}", std::process::id())),
    };
    let setup = Instant::now();
    run_cli(
        &bin,
        &lab.args(
            "up",
            &[
                "--topology",
                topology.to_str().unwrap_or_default(),
                "--routers",
                &routers,
            ],
        ),
    )?;
    let kubeconfig = lab.dir.join("kubeconfig");
    let cfg_file = lab.dir.join("soak-config.yaml");
    std::fs::write(&cfg_file, config("safe-a")).map_err(|e| e.to_string())?;
    run_cli(
        &bin,
        &[
            "install",
            "--with-test-router",
            "--config",
            cfg_file.to_str().unwrap_or_default(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap_or_default(),
            "--timeout",
            "2m",
        ],
    )?;
    let kc = Kubeconfig::read_from(&kubeconfig).map_err(|e| e.to_string())?;
    let kube_config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let client = Client::try_from(kube_config).map_err(|e| e.to_string())?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": NS}})).map_err(|e| e.to_string())?;
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .map_err(|e| e.to_string())?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NS);
    for i in 0..APPS {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": format!("soak-app-{i}")},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": format!("soak-app-{i}")}},
                "template": {
                    "metadata": {"labels": {"app": format!("soak-app-{i}")}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}]},
                },
            },
        }))
        .map_err(|e| e.to_string())?;
        deployments
            .create(&PostParams::default(), &d)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !wait_rollout(&deployments, APPS, Duration::from_secs(60)).await {
        return Err("the soak's Deployments never became ready".into());
    }
    let pid = lab.pid().ok_or("no lab pid")?;
    let socket = lab.dir.join("control.sock");
    println!(
        "soak: lab {} ({routers} routers, 3 nodes, 2 routers) ready in {:?}; daemon pid {pid}; seed {}",
        lab.name,
        setup.elapsed(),
        args.seed
    );

    let services: Api<Service> = Api::namespaced(client.clone(), NS);
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), NS);
    let v = Arc::new(Violations::default());
    let cache = Arc::new(Mutex::new(WatchCache::default()));
    let watcher = tokio::spawn(watch_services(services.clone(), cache.clone(), v.clone()));

    let churn = Arc::new(Churn {
        services: services.clone(),
        deployments: deployments.clone(),
        configmaps: Api::namespaced(client.clone(), "metallb-system"),
        slots: args.services,
        ops: Default::default(),
        creates: Default::default(),
        errors: Default::default(),
    });
    // Fill: every slot gets a Service first.
    let start_usage = usage_of(pid);
    let fill = Instant::now();
    let mut rng = Rng(args.seed.max(1));
    {
        let names: Vec<usize> = (0..args.services).collect();
        let mut stream = futures_util::stream::iter(names.into_iter().map(|i| {
            let svc = service(&format!("svc-{i}"), &mut rng);
            let api = services.clone();
            async move { api.create(&PostParams::default(), &svc).await.map(|_| ()) }
        }))
        .buffer_unordered(8);
        while let Some(r) = stream.next().await {
            churn
                .creates
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Err(e) = r {
                return Err(format!("filling the Services failed: {e}"));
            }
        }
    }
    println!(
        "soak: {} Services created in {:?}",
        args.services,
        fill.elapsed()
    );

    let deadline = Instant::now() + args.duration;
    let warm_up = Instant::now() + args.duration / 5;
    let mut warm_usage: Option<Usage> = None;
    let mut usage_samples: Vec<(Duration, Usage)> = Vec::new();
    let churn_start = Instant::now();
    let mut checks = 0;
    while Instant::now() < deadline {
        // Churn until the next quiet point.
        let until = (Instant::now() + CHECK_EVERY).min(deadline);
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let churn = churn.clone();
            let mut rng = Rng(rng.next() | 1 | (w as u64) << 32);
            workers.push(tokio::spawn(async move {
                while Instant::now() < until {
                    churn.op(&mut rng).await;
                }
            }));
        }
        // Meanwhile: no address held twice (every second).
        while Instant::now() < until {
            if let Ok(list) = services
                .list(&ListParams::default().labels("soak=yes"))
                .await
            {
                check_addresses(&list.items, &v);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        for w in workers {
            let _ = w.await;
        }
        // Quiet point: the routers must match the intent within the bound, and the watch
        // cache must match a LIST. (The configuration stays as churned: an unsafe one is
        // rejected and changes nothing, safe B only adds an unused pool.)
        let quiet = Instant::now();
        checks += 1;
        let mut last_diff = String::new();
        let mut matched = None;
        while quiet.elapsed() <= QUIET_BOUND + Duration::from_millis(500) {
            // The routers are read first, then the intent (which no longer changes once the
            // controller has caught up): a match means the routers held the intent when the
            // read began. Reading thousands of routes through birdc and vtysh takes a while.
            let read_at = quiet.elapsed();
            let have = router_ribs(&socket);
            let want = intended(&services, &slices).await;
            if let (Some(want), Some(have)) = (want, have) {
                let diffs: Vec<String> = have
                    .iter()
                    .filter(|(_, got)| **got != want)
                    .map(|(router, got)| {
                        let missing: Vec<&String> = want.difference(got).take(10).collect();
                        let extra: Vec<&String> = got.difference(&want).take(10).collect();
                        format!("router {router}: missing {missing:?} extra {extra:?} (of {} intended, {} held)", want.len(), got.len())
                    })
                    .collect();
                if diffs.is_empty() && have.len() == 2 {
                    matched = Some(read_at);
                    break;
                }
                last_diff = diffs.join("; ");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match matched {
            Some(t) if t <= QUIET_BOUND => {}
            Some(t) => v.add(format!("routers matched the intent only {t:?} after quiet")),
            None => v.add(format!(
                "routers differ from the intended routes {QUIET_BOUND:?} after quiet: {last_diff}"
            )),
        }
        // Watch cache vs LIST.
        let mut watch_diff = String::new();
        let mut watch_ok = false;
        let settle = Instant::now();
        while settle.elapsed() < QUIET_BOUND {
            if let Ok(list) = services
                .list(&ListParams::default().labels("soak=yes"))
                .await
            {
                let listed: BTreeMap<String, String> = list
                    .items
                    .iter()
                    .map(|s| {
                        (
                            s.metadata.name.clone().unwrap_or_default(),
                            s.metadata.resource_version.clone().unwrap_or_default(),
                        )
                    })
                    .collect();
                let cached = cache.lock().map(|c| c.objects.clone()).unwrap_or_default();
                if cached == listed {
                    watch_ok = true;
                    break;
                }
                let differ: Vec<String> = listed
                    .iter()
                    .filter(|(k, rv)| cached.get(*k) != Some(*rv))
                    .map(|(k, rv)| format!("{k} (list rv {rv}, watch {:?})", cached.get(k)))
                    .chain(
                        cached
                            .keys()
                            .filter(|k| !listed.contains_key(*k))
                            .map(|k| format!("{k} (watch only)")),
                    )
                    .take(10)
                    .collect();
                watch_diff = differ.join(", ");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !watch_ok {
            v.add(format!(
                "the watch lost events: its cache differs from a LIST: {watch_diff}"
            ));
        }
        if let Some(u) = usage_of(pid) {
            usage_samples.push((churn_start.elapsed(), u));
            if warm_usage.is_none() && Instant::now() >= warm_up {
                warm_usage = Some(u);
            }
        }
        let ops = churn.ops.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "soak: t={:>4}s ops={ops} ({:.0}/s) violations={} routers matched in {matched:?} daemon {:?}",
            churn_start.elapsed().as_secs(),
            ops as f64 / churn_start.elapsed().as_secs_f64(),
            v.count(),
            usage_samples.last().map(|(_, u)| *u)
        );
    }
    watcher.abort();
    let end_usage = usage_of(pid);
    // Growth after warm-up: a leak grows with the operations; noise does not double.
    if let (Some(w), Some(e)) = (warm_usage, end_usage) {
        if e.fds > w.fds + 20 {
            v.add(format!(
                "daemon file descriptors grew after warm-up: {} -> {}",
                w.fds, e.fds
            ));
        }
        if e.threads > w.threads + 4 {
            v.add(format!(
                "daemon threads grew after warm-up: {} -> {}",
                w.threads, e.threads
            ));
        }
        if e.rss_kib > w.rss_kib + w.rss_kib / 2 + 20 * 1024 {
            v.add(format!(
                "daemon memory grew after warm-up: {} KiB -> {} KiB",
                w.rss_kib, e.rss_kib
            ));
        }
    }
    let elapsed = churn_start.elapsed();
    let ops = churn.ops.load(std::sync::atomic::Ordering::Relaxed);
    let events = cache.lock().map(|c| c.events).unwrap_or(0);
    println!("soak: done");
    println!("  routers:            {routers} (3 nodes, 2 routers)");
    println!("  services (slots):   {}", args.services);
    println!(
        "  services created:   {}",
        churn.creates.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "  churn:              {ops} operations in {:.0} s = {:.1} ops/s ({} failed)",
        elapsed.as_secs_f64(),
        ops as f64 / elapsed.as_secs_f64(),
        churn.errors.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!("  quiet-point checks: {checks}");
    println!("  watch events seen:  {events}");
    println!("  daemon at start:    {start_usage:?}");
    println!("  daemon after warm-up: {warm_usage:?}");
    println!("  daemon at end:      {end_usage:?}");
    println!("  violations:         {}", v.count());
    Ok(v.count())
}
