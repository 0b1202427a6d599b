//! Services behave as on a real cluster: a clusterIP from the service CIDR (10.96.0.0/12),
//! nodePorts for NodePort and LoadBalancer services, and the defaults kubectl describe shows.
//! These addresses are virtual: nothing here ever dials them.

use std::collections::HashSet;
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

/// Addresses and node ports already used by `services`.
pub struct Taken {
    ips: HashSet<u32>,
    ports: HashSet<u16>,
}

impl Taken {
    /// Collect what the given services hold.
    pub fn of<'a>(services: impl Iterator<Item = &'a Value>) -> Self {
        let mut taken = Taken {
            ips: HashSet::new(),
            ports: HashSet::new(),
        };
        for svc in services {
            let spec = &svc["spec"];
            if let Some(ip) = spec["clusterIP"]
                .as_str()
                .and_then(|s| s.parse::<Ipv4Addr>().ok())
            {
                taken.ips.insert(u32::from(ip));
            }
            for p in spec["ports"].as_array().into_iter().flatten() {
                if let Some(np) = p["nodePort"].as_u64().and_then(|n| u16::try_from(n).ok()) {
                    taken.ports.insert(np);
                }
            }
        }
        taken
    }
}

fn requested_ip(name: &str, ip: &str, taken: &Taken) -> Result<String, ApiError> {
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
    if taken.ips.contains(&n) {
        return Err(invalid(
            name,
            format!("spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated"),
        ));
    }
    Ok(ip.to_string())
}

fn allocate_ip(name: &str, taken: &Taken) -> Result<String, ApiError> {
    let (lo, hi) = cidr_bounds();
    (lo + DYNAMIC_START..hi)
        .chain(lo + 2..lo + DYNAMIC_START)
        .find(|n| !taken.ips.contains(n))
        .map(|n| Ipv4Addr::from(n).to_string())
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
    taken: &mut Taken,
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
                taken.ports.insert(np);
            }
            None => {
                let np = NODE_PORTS
                    .clone()
                    .find(|n| !taken.ports.contains(n))
                    .ok_or_else(|| invalid(name, "spec.ports: node port range is full".into()))?;
                taken.ports.insert(np);
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
pub fn prepare_create(svc: &mut Value, mut taken: Taken) -> Result<(), ApiError> {
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
pub fn prepare_update(old: &Value, new: &mut Value, mut taken: Taken) -> Result<(), ApiError> {
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
        assert!(prepare_create(&mut svc, Taken::of(existing.iter())).is_ok());
        assert_eq!(svc["spec"]["clusterIP"], "10.96.1.0");
        assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30001);
        assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
        let mut taken = json!({"metadata": {"name": "b"}, "spec": {"clusterIP": "10.96.0.100"}});
        let err = prepare_create(&mut taken, Taken::of(existing.iter())).err();
        assert_eq!(err.map(|e| e.code()), Some(422));
        let mut ok = json!({"metadata": {"name": "c"}, "spec": {"clusterIP": "10.96.0.101"}});
        assert!(prepare_create(&mut ok, Taken::of(existing.iter())).is_ok());
        let mut outside = json!({"metadata": {"name": "d"}, "spec": {"clusterIP": "192.168.0.1"}});
        assert!(prepare_create(&mut outside, Taken::of(existing.iter())).is_err());
    }

    #[test]
    fn load_balancers_can_opt_out_of_node_ports() {
        let mut svc = json!({"metadata": {"name": "a"}, "spec": {"type": "LoadBalancer",
            "allocateLoadBalancerNodePorts": false, "ports": [{"port": 80}]}});
        assert!(prepare_create(&mut svc, Taken::of([].iter())).is_ok());
        assert!(svc["spec"]["ports"][0].get("nodePort").is_none());
    }
}
