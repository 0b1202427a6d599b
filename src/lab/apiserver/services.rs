//! Services behave as on a real cluster: a clusterIP from the service CIDR (10.96.0.0/12),
//! nodePorts for NodePort and LoadBalancer services, and the defaults kubectl describe shows.
//! These addresses are virtual: nothing here ever dials them.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use serde_json::{json, Map, Value};

use super::error::ApiError;

/// The lab's service CIDR: 10.96.0.0/12.
pub const SERVICE_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 12);
/// The first address handed out dynamically. Like Kubernetes, the low band (10.96.0.0/24)
/// is left for addresses that services request explicitly, such as 10.96.0.100.
const DYNAMIC_START: u32 = 256;
const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

fn cidr_bounds() -> (u32, u32) {
    let base = u32::from(SERVICE_CIDR.0);
    let size = 1u32 << (32 - SERVICE_CIDR.1);
    (base, base + size - 1)
}

fn invalid(name: &str, causes: String) -> ApiError {
    ApiError::Invalid {
        kind: "Service".into(),
        name: name.to_string(),
        causes,
    }
}

/// The store key of core/v1 Services, whose allocations [`Allocations`] tracks.
pub const SERVICES_KEY: &str = "/v1/services";

/// A set of integers in `0..len` kept as a two-level bitmap, so that the lowest member not in
/// the set at or after a point is found in time independent of how many are set (at most
/// `len / 4096` summary words are read, 256 for the whole service CIDR).
#[derive(Debug, Clone, Default)]
struct Bitmap {
    words: Vec<u64>,
    /// Bit `i` is set when `words[i]` is full.
    full: Vec<u64>,
    len: u32,
}

impl Bitmap {
    fn new(len: u32) -> Self {
        let words = (len as usize).div_ceil(64);
        let mut map = Bitmap {
            words: vec![0; words],
            full: vec![0; words.div_ceil(64)],
            len,
        };
        // Bits past `len` in the last word count as set, so they are never handed out.
        let tail = len % 64;
        if tail != 0 {
            if let Some(last) = map.words.last_mut() {
                *last = !0u64 << tail;
            }
        }
        map
    }

    fn contains(&self, i: u32) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: u32, on: bool) {
        if i >= self.len {
            return;
        }
        let w = (i / 64) as usize;
        if on {
            self.words[w] |= 1 << (i % 64);
        } else {
            self.words[w] &= !(1 << (i % 64));
        }
        let is_full = self.words[w] == !0;
        let (fw, fb) = (w / 64, w % 64);
        if is_full {
            self.full[fw] |= 1 << fb;
        } else {
            self.full[fw] &= !(1 << fb);
        }
    }

    /// Every member, in order.
    fn members(&self) -> impl Iterator<Item = u32> + '_ {
        self.words
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != 0)
            .flat_map(|(wi, &w)| {
                (0..64u32)
                    .filter(move |b| w & (1 << b) != 0)
                    .map(move |b| wi as u32 * 64 + b)
            })
            .filter(|&i| i < self.len)
    }

    /// The lowest `i` in `from..to` that is not set.
    fn first_clear(&self, from: u32, to: u32) -> Option<u32> {
        let to = to.min(self.len);
        let mut i = from;
        while i < to {
            let w = (i / 64) as usize;
            let free = !self.words[w] & (!0u64 << (i % 64));
            if free != 0 {
                let found = w as u32 * 64 + free.trailing_zeros();
                return (found < to).then_some(found);
            }
            // Skip full words through the summary.
            let next_w = w + 1;
            let (mut fw, fb) = (next_w / 64, next_w % 64);
            let mut not_full = if fw < self.full.len() {
                !self.full[fw] & (!0u64).checked_shl(fb as u32).unwrap_or(0)
            } else {
                0
            };
            while not_full == 0 {
                fw += 1;
                if fw >= self.full.len() {
                    return None;
                }
                not_full = !self.full[fw];
            }
            i = ((fw * 64) as u32 + not_full.trailing_zeros()) * 64;
        }
        None
    }
}

/// A multiset of integers in `0..len`: how many holders each has, with the bitmap of those
/// held at least once.
#[derive(Debug, Clone, Default)]
struct Holders {
    map: Bitmap,
    /// Counts above one (two Services restored with the same address, say).
    extra: HashMap<u32, u32>,
}

impl Holders {
    fn new(len: u32) -> Self {
        Holders {
            map: Bitmap::new(len),
            extra: HashMap::new(),
        }
    }

    fn count(&self, i: u32) -> u32 {
        if self.map.contains(i) {
            1 + self.extra.get(&i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    fn add(&mut self, i: u32) {
        if i >= self.map.len {
            return;
        }
        if self.map.contains(i) {
            *self.extra.entry(i).or_default() += 1;
        } else {
            self.map.set(i, true);
        }
    }

    fn remove(&mut self, i: u32) {
        match self.extra.get_mut(&i) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.extra.remove(&i);
            }
            None => self.map.set(i, false),
        }
    }
}

/// What one Service holds: its clusterIP (as an offset into the service CIDR) and node ports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Holding {
    ips: Vec<u32>,
    ports: Vec<u16>,
}

impl Holding {
    fn of(svc: &Value) -> Self {
        let (lo, hi) = cidr_bounds();
        let spec = &svc["spec"];
        let ips = spec["clusterIP"]
            .as_str()
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
            .map(u32::from)
            .filter(|n| (lo..=hi).contains(n))
            .map(|n| n - lo)
            .into_iter()
            .collect();
        let ports = spec["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["nodePort"].as_u64().and_then(|n| u16::try_from(n).ok()))
            .filter(|n| NODE_PORTS.contains(n))
            .collect();
        Holding { ips, ports }
    }
}

/// Every held address and node port, each with how many Services hold it.
pub type Held = (Vec<(Ipv4Addr, u32)>, Vec<(u16, u32)>);

/// The clusterIPs and node ports held by the stored Services, kept up to date as Services are
/// stored and removed (like Kubernetes' bitmap allocators), so that allocating costs the same
/// whatever is stored. The store rebuilds it only when it restores a snapshot.
#[derive(Debug, Clone)]
pub struct Allocations {
    ips: Holders,
    ports: Holders,
}

impl Default for Allocations {
    fn default() -> Self {
        let (lo, hi) = cidr_bounds();
        Allocations {
            ips: Holders::new(hi - lo + 1),
            ports: Holders::new(u32::from(*NODE_PORTS.end() - *NODE_PORTS.start()) + 1),
        }
    }
}

impl Allocations {
    /// Rebuild from scratch: what the given services hold.
    pub fn of<'a>(services: impl Iterator<Item = &'a Value>) -> Self {
        let mut all = Allocations::default();
        for svc in services {
            all.add(svc);
        }
        all
    }

    /// A Service was stored: count what it holds.
    pub fn add(&mut self, svc: &Value) {
        let h = Holding::of(svc);
        h.ips.iter().for_each(|&i| self.ips.add(i));
        h.ports
            .iter()
            .for_each(|&p| self.ports.add(u32::from(p - NODE_PORTS.start())));
    }

    /// A Service was removed (or is about to be replaced): release what it held.
    pub fn remove(&mut self, svc: &Value) {
        let h = Holding::of(svc);
        h.ips.iter().for_each(|&i| self.ips.remove(i));
        h.ports
            .iter()
            .for_each(|&p| self.ports.remove(u32::from(p - NODE_PORTS.start())));
    }

    /// Every held address and port with its count, for comparing two allocators.
    pub fn held(&self) -> Held {
        let (lo, _) = cidr_bounds();
        let ips = self
            .ips
            .map
            .members()
            .map(|i| (Ipv4Addr::from(lo + i), self.ips.count(i)))
            .collect();
        let ports = self
            .ports
            .map
            .members()
            .map(|i| (NODE_PORTS.start() + i as u16, self.ports.count(i)))
            .collect();
        (ips, ports)
    }

    /// What is taken for a new Service.
    pub fn taken(&self) -> Taken<'_> {
        Taken {
            all: self,
            without: Holding::default(),
            local_ports: HashSet::new(),
        }
    }

    /// What is taken for an update of `old`: everything but what `old` itself holds.
    pub fn taken_without<'a>(&'a self, old: &Value) -> Taken<'a> {
        Taken {
            all: self,
            without: Holding::of(old),
            local_ports: HashSet::new(),
        }
    }
}

/// Addresses and node ports held by other services, as one write sees them: the stored
/// allocations, less those of the object being updated, plus the ports this write has taken.
pub struct Taken<'a> {
    all: &'a Allocations,
    without: Holding,
    local_ports: HashSet<u16>,
}

impl Taken<'_> {
    fn ip_taken(&self, n: u32) -> bool {
        let (lo, _) = cidr_bounds();
        let i = n - lo;
        let excluded = self.without.ips.iter().filter(|&&x| x == i).count() as u32;
        self.all.ips.count(i) > excluded
    }

    fn port_taken(&self, p: u16) -> bool {
        if self.local_ports.contains(&p) {
            return true;
        }
        let excluded = self.without.ports.iter().filter(|&&x| x == p).count() as u32;
        self.all.ports.count(u32::from(p - NODE_PORTS.start())) > excluded
    }

    /// The lowest address offset in `from..to` free for this write.
    fn first_free_ip(&self, from: u32, to: u32) -> Option<u32> {
        let in_map = self.all.ips.map.first_clear(from, to);
        let released = self
            .without
            .ips
            .iter()
            .copied()
            .filter(|&i| (from..to).contains(&i) && !self.ip_taken(cidr_bounds().0 + i))
            .min();
        [in_map, released].into_iter().flatten().min()
    }

    /// The lowest node port free for this write.
    fn first_free_port(&self) -> Option<u16> {
        let base = *NODE_PORTS.start();
        let len = self.all.ports.map.len;
        let mut from = 0;
        let in_map = loop {
            match self.all.ports.map.first_clear(from, len) {
                Some(i) if self.local_ports.contains(&(base + i as u16)) => from = i + 1,
                other => break other.map(|i| base + i as u16),
            }
        };
        let released = self
            .without
            .ports
            .iter()
            .copied()
            .filter(|&p| !self.port_taken(p))
            .min();
        [in_map, released].into_iter().flatten().min()
    }

    fn take_port(&mut self, p: u16) {
        self.local_ports.insert(p);
    }
}

fn requested_ip(name: &str, ip: &str, taken: &Taken<'_>) -> Result<String, ApiError> {
    let (lo, hi) = cidr_bounds();
    let parsed = ip.parse::<Ipv4Addr>().map_err(|_| {
        invalid(
            name,
            format!("spec.clusterIPs[0]: Invalid value: \"{ip}\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
        )
    })?;
    let n = u32::from(parsed);
    if n <= lo || n >= hi {
        return Err(invalid(
            name,
            format!("spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12"),
        ));
    }
    if taken.ip_taken(n) {
        return Err(invalid(
            name,
            format!("spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated"),
        ));
    }
    Ok(ip.to_string())
}

fn allocate_ip(name: &str, taken: &Taken<'_>) -> Result<String, ApiError> {
    let (lo, hi) = cidr_bounds();
    taken
        .first_free_ip(DYNAMIC_START, hi - lo)
        .or_else(|| taken.first_free_ip(2, DYNAMIC_START))
        .map(|i| Ipv4Addr::from(lo + i).to_string())
        .ok_or_else(|| {
            invalid(
                name,
                "spec.clusterIPs: Internal error: range is full".into(),
            )
        })
}

/// NodePort services get node ports; LoadBalancer services too, unless they set
/// `allocateLoadBalancerNodePorts: false` (as Kubernetes does since 1.24).
fn wants_node_ports(kind: &str, spec: &Map<String, Value>) -> bool {
    match kind {
        "NodePort" => true,
        "LoadBalancer" => {
            spec.get("allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                != Some(false)
        }
        _ => false,
    }
}

fn allocate_node_ports(
    name: &str,
    spec: &mut Map<String, Value>,
    taken: &mut Taken<'_>,
) -> Result<(), ApiError> {
    let Some(Value::Array(ports)) = spec.get_mut("ports") else {
        return Ok(());
    };
    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
        match p.get("nodePort").and_then(Value::as_u64) {
            Some(np) => {
                let np = u16::try_from(np).ok().filter(|n| NODE_PORTS.contains(n)).ok_or_else(|| {
                    invalid(name, format!("spec.ports[0].nodePort: Invalid value: {np}: provided port is not in the valid range. The range of valid ports is 30000-32767"))
                })?;
                taken.take_port(np);
            }
            None => {
                let np = taken
                    .first_free_port()
                    .ok_or_else(|| invalid(name, "spec.ports: node port range is full".into()))?;
                taken.take_port(np);
                p.insert("nodePort".into(), json!(np));
            }
        }
    }
    Ok(())
}

fn default_ports(spec: &mut Map<String, Value>) {
    let Some(Value::Array(ports)) = spec.get_mut("ports") else {
        return;
    };
    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
        p.entry("protocol").or_insert_with(|| json!("TCP"));
        if let Some(port) = p.get("port").cloned() {
            p.entry("targetPort").or_insert(port);
        }
    }
}

/// The Service's `type` (default `ClusterIP`), after filling the spec's defaults for it.
fn service_type_defaulted(spec: &mut Map<String, Value>) -> String {
    let kind = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    set_defaults(spec, &kind);
    kind
}

fn set_defaults(spec: &mut Map<String, Value>, kind: &str) {
    spec.entry("type").or_insert_with(|| json!("ClusterIP"));
    spec.entry("sessionAffinity")
        .or_insert_with(|| json!("None"));
    spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
    spec.entry("ipFamilyPolicy")
        .or_insert_with(|| json!("SingleStack"));
    spec.entry("internalTrafficPolicy")
        .or_insert_with(|| json!("Cluster"));
    if kind == "NodePort" || kind == "LoadBalancer" {
        spec.entry("externalTrafficPolicy")
            .or_insert_with(|| json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        spec.entry("allocateLoadBalancerNodePorts")
            .or_insert_with(|| json!(true));
    }
    default_ports(spec);
}

/// Fill in a new Service: defaults, clusterIP and nodePorts. `taken` is what other services hold.
pub fn prepare_create(svc: &mut Value, mut taken: Taken<'_>) -> Result<(), ApiError> {
    let name = svc["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(obj) = svc.as_object_mut() else {
        return Ok(());
    };
    let spec = obj.entry("spec").or_insert_with(|| json!({}));
    let Some(spec) = spec.as_object_mut() else {
        return Err(invalid(
            &name,
            "spec: Invalid value: must be an object".into(),
        ));
    };
    let kind = service_type_defaulted(spec);
    if kind == "ExternalName" {
        return Ok(());
    }
    let requested = spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ip = match requested.as_str() {
        "None" => "None".to_string(),
        "" => allocate_ip(&name, &taken)?,
        ip => requested_ip(&name, ip, &taken)?,
    };
    spec.insert("clusterIP".into(), json!(ip));
    spec.insert("clusterIPs".into(), json!([ip]));
    if wants_node_ports(&kind, spec) {
        allocate_node_ports(&name, spec, &mut taken)?;
    }
    obj.insert("status".into(), json!({"loadBalancer": {}}));
    Ok(())
}

/// Carry allocations over an update: clusterIP is immutable, nodePorts stay unless changed.
pub fn prepare_update(old: &Value, new: &mut Value, mut taken: Taken<'_>) -> Result<(), ApiError> {
    let name = new["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let kind = service_type_defaulted(spec);
    let old_ip = old["spec"]["clusterIP"].clone();
    match spec.get("clusterIP").and_then(Value::as_str) {
        None | Some("") => {
            spec.insert("clusterIP".into(), old_ip.clone());
            spec.insert("clusterIPs".into(), old["spec"]["clusterIPs"].clone());
        }
        Some(ip) if Some(ip) != old_ip.as_str() => {
            return Err(invalid(
                &name,
                "spec.clusterIPs[0]: Invalid value: []string{\"".to_string()
                    + ip
                    + "\"}: may not change once set",
            ));
        }
        Some(_) => {}
    }
    if wants_node_ports(&kind, spec) {
        keep_node_ports(old, spec);
        allocate_node_ports(&name, spec, &mut taken)?;
    }
    Ok(())
}

/// Copy nodePorts of matching old ports (by port number) into new ports lacking one.
fn keep_node_ports(old: &Value, spec: &mut Map<String, Value>) {
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let Some(Value::Array(ports)) = spec.get_mut("ports") else {
        return;
    };
    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
        if p.contains_key("nodePort") {
            continue;
        }
        let matching = old_ports.iter().find(|o| o["port"] == p["port"]);
        if let Some(np) = matching.and_then(|o| o.get("nodePort")) {
            p.insert("nodePort".into(), np.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_and_requests() {
        let existing =
            [json!({"spec": {"clusterIP": "10.96.0.100", "ports": [{"nodePort": 30000}]}})];
        let mut svc = json!({"metadata": {"name": "a"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}});
        assert!(prepare_create(&mut svc, Allocations::of(existing.iter()).taken()).is_ok());
        assert_eq!(svc["spec"]["clusterIP"], "10.96.1.0");
        assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30001);
        assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
        let mut taken = json!({"metadata": {"name": "b"}, "spec": {"clusterIP": "10.96.0.100"}});
        let err = prepare_create(&mut taken, Allocations::of(existing.iter()).taken()).err();
        assert_eq!(err.map(|e| e.code()), Some(422));
        let mut ok = json!({"metadata": {"name": "c"}, "spec": {"clusterIP": "10.96.0.101"}});
        assert!(prepare_create(&mut ok, Allocations::of(existing.iter()).taken()).is_ok());
        let mut outside = json!({"metadata": {"name": "d"}, "spec": {"clusterIP": "192.168.0.1"}});
        assert!(prepare_create(&mut outside, Allocations::of(existing.iter()).taken()).is_err());
    }

    #[test]
    fn load_balancers_can_opt_out_of_node_ports() {
        let mut svc = json!({"metadata": {"name": "a"}, "spec": {"type": "LoadBalancer",
            "allocateLoadBalancerNodePorts": false, "ports": [{"port": 80}]}});
        assert!(prepare_create(&mut svc, Allocations::default().taken()).is_ok());
        assert!(svc["spec"]["ports"][0].get("nodePort").is_none());
    }

    #[test]
    fn bitmap_finds_the_lowest_clear_bit() {
        let mut map = Bitmap::new(10_000);
        for i in 0..9_000 {
            map.set(i, true);
        }
        map.set(9_500, true);
        assert_eq!(map.first_clear(0, 10_000), Some(9_000));
        assert_eq!(map.first_clear(9_500, 10_000), Some(9_501));
        assert_eq!(map.first_clear(0, 9_000), None);
        map.set(4_321, false);
        assert_eq!(map.first_clear(0, 10_000), Some(4_321));
        assert_eq!(map.first_clear(4_322, 9_001), Some(9_000));
        for i in 9_000..10_000 {
            map.set(i, true);
        }
        assert_eq!(map.first_clear(4_322, 10_000), None);
        assert_eq!(
            map.first_clear(0, 20_000),
            Some(4_321),
            "bounded by the map"
        );
    }

    #[test]
    fn the_node_port_range_fills_up_and_frees_the_lowest_first() {
        let mut all = Allocations::default();
        let mut made = Vec::new();
        for i in 0..2768 {
            let mut svc = json!({"metadata": {"name": format!("s{i}")},
                "spec": {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]}});
            assert!(prepare_create(&mut svc, all.taken()).is_ok());
            all.add(&svc);
            made.push(svc);
        }
        assert_eq!(made[2767]["spec"]["ports"][0]["nodePort"], 32767);
        let mut full = json!({"metadata": {"name": "x"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        assert_eq!(
            prepare_create(&mut full, all.taken())
                .err()
                .map(|e| e.code()),
            Some(422)
        );
        all.remove(&made[1200]);
        all.remove(&made[7]);
        let mut again = json!({"metadata": {"name": "y"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}});
        assert!(prepare_create(&mut again, all.taken()).is_ok());
        assert_eq!(again["spec"]["ports"][0]["nodePort"], 30007);
        assert_eq!(again["spec"]["ports"][1]["nodePort"], 31200);
    }

    mod incremental_equals_rebuild {
        use proptest::prelude::*;
        use serde_json::{json, Value};

        use super::super::{prepare_update, Allocations, SERVICES_KEY};
        use crate::lab::apiserver::resources::Registry;
        use crate::lab::apiserver::store::{DeleteOptions, Store, Subresource, WriteOptions};

        #[derive(Debug, Clone)]
        enum Op {
            /// name, type, requested clusterIP, ports with optional requested nodePorts
            Create(u8, u8, Option<u8>, Vec<(u16, Option<u16>)>),
            /// name, type, new ports
            Update(u8, u8, Vec<(u16, Option<u16>)>),
            Delete(u8),
        }

        fn ports() -> impl Strategy<Value = Vec<(u16, Option<u16>)>> {
            proptest::collection::vec(
                (
                    78u16..84,
                    proptest::option::weighted(0.3, prop_oneof![30000u16..30006, 32760u16..32770]),
                ),
                0..3,
            )
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (0u8..12, 0u8..4, proptest::option::weighted(0.3, 0u8..6), ports())
                    .prop_map(|(n, t, ip, p)| Op::Create(n, t, ip, p)),
                3 => (0u8..12, 0u8..4, ports()).prop_map(|(n, t, p)| Op::Update(n, t, p)),
                2 => (0u8..12).prop_map(Op::Delete),
            ]
        }

        const TYPES: [&str; 4] = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
        /// Requested addresses: some in the dynamic band, some in the low band, one outside.
        const IPS: [&str; 6] = [
            "10.96.1.0",
            "10.96.1.2",
            "10.96.0.100",
            "10.96.0.2",
            "10.111.255.254",
            "192.168.0.1",
        ];

        fn port_list(ports: &[(u16, Option<u16>)]) -> Value {
            ports
                .iter()
                .map(|(p, np)| match np {
                    Some(np) => json!({"port": p, "nodePort": np}),
                    None => json!({"port": p}),
                })
                .collect()
        }

        fn held(store: &Store) -> (bool, String) {
            store
                .read(|v| {
                    let inc = v.service_allocations().held();
                    let all: Vec<_> = v.objects(SERVICES_KEY).collect();
                    let rebuilt = Allocations::of(all.iter().map(|s| s.as_ref())).held();
                    (inc == rebuilt, format!("{inc:?}\nvs\n{rebuilt:?}"))
                })
                .unwrap_or((false, "store lock".into()))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            #[test]
            fn after_any_sequence(ops in proptest::collection::vec(op(), 1..60)) {
                let store = Store::new(Registry::default(), 1000);
                let def = store.registry().find("", "v1", "services");
                let Some(def) = def else { return Ok(()) };
                let o = WriteOptions::default();
                for op in ops {
                    match op {
                        Op::Create(n, t, ip, ports) => {
                            let mut spec = json!({"type": TYPES[t as usize], "ports": port_list(&ports)});
                            if TYPES[t as usize] == "ExternalName" {
                                spec["externalName"] = json!("example.com");
                            }
                            if let Some(ip) = ip {
                                spec["clusterIP"] = json!(IPS[ip as usize]);
                            }
                            let _ = store.create(&def, Some("default"),
                                json!({"metadata": {"name": format!("s{n}")}, "spec": spec}), &o);
                        }
                        Op::Update(n, t, ports) => {
                            let Ok(old) = store.get(&def, Some("default"), &format!("s{n}")) else { continue };
                            let mut new = (*old).clone();
                            new["spec"]["type"] = json!(TYPES[t as usize]);
                            new["spec"]["ports"] = port_list(&ports);
                            // The incremental view and a rebuild from the other Services
                            // (what the server did before) decide the same.
                            let decided = store.read(|v| {
                                let others: Vec<_> = v
                                    .objects(SERVICES_KEY)
                                    .filter(|s| s["metadata"]["uid"] != old["metadata"]["uid"])
                                    .collect();
                                let rebuilt = Allocations::of(others.iter().map(|s| s.as_ref()));
                                let (mut a, mut b) = (new.clone(), new.clone());
                                let ra = prepare_update(&old, &mut a, v.service_allocations().taken_without(&old));
                                let rb = prepare_update(&old, &mut b, rebuilt.taken());
                                (ra.map_err(|e| e.to_string()), a, rb.map_err(|e| e.to_string()), b)
                            });
                            if let Ok((ra, a, rb, b)) = decided {
                                prop_assert_eq!(ra, rb);
                                prop_assert_eq!(a, b);
                            }
                            let _ = store.replace(&def, Some("default"), &format!("s{n}"), new,
                                Subresource::Main, &o);
                        }
                        Op::Delete(n) => {
                            let _ = store.delete(&def, Some("default"), &format!("s{n}"),
                                &DeleteOptions::default());
                        }
                    }
                    let (same, text) = held(&store);
                    prop_assert!(same, "{}", text);
                }
            }
        }
    }
}
