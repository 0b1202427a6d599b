#!/usr/bin/env bash
# Resident memory at 50,000 Services with our MetalLB running (issue 12): the lab daemon
# (API server, runtime, the two test routers, and MetalLB's controller and speaker as the
# runtime starts them from manifests/metallb.yaml), and one speaker run as its own process
# (`metallbctl speaker`) against the same lab, announcing to its own router process
# (`metallbctl bgp listen`). Needs the release binary (`cargo build --release`), kubectl and
# python3; figures in docs/benchmarks.md ("Scale: 50,000 Services").
#
#   benches/lab_rss.sh [N]
set -u
cd "$(dirname "$0")/.."
N=${1:-50000}
M=${METALLBCTL:-$PWD/target/release/metallbctl}
NAME=rss$$
export XDG_STATE_HOME=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  "$M" lab down --name "$NAME" >/dev/null 2>&1
  rm -rf "$XDG_STATE_HOME"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
mem() { awk '/VmRSS|VmHWM/{printf "%s %d MiB  ", $1, $2/1024}' "/proc/$1/status"; }
# The smallest number of prefixes a speaker advertises on one session, from its Prometheus
# metrics: the standalone speaker's, or (given a pod name) the lab speaker's through the API
# server's pod proxy. Cheap to poll, unlike the routers' full tables (`lab status -o json`),
# whose serialization would itself raise the daemon's peak memory.
advertised() {
  if [ $# -gt 0 ]; then
    kubectl get --raw "/api/v1/namespaces/metallb-system/pods/$1:7472/proxy/metrics" 2>/dev/null
  else
    python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:17472/metrics", timeout=5).read().decode())' 2>/dev/null
  fi | awk '/^metallb_bgp_announced_prefixes_total\{/{n++; v=$NF+0; if (n==1||v<m) m=v} END{print m+0}'
}
# The smallest number of distinct prefixes either lab router holds.
routes_held() {
  "$M" lab status --name "$NAME" -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(min([len({r["prefix"] for s in x["sessions"] for r in s["routes"]}) for x in d["routers"]] or [0]))' 2>/dev/null || echo 0
}

"$M" lab up --name "$NAME" >/dev/null || exit 1
DIR=$XDG_STATE_HOME/metallbctl/lab/$NAME
export KUBECONFIG=$DIR/kubeconfig
DAEMON=$(cat "$DIR/lab.pid")
echo "lab up: daemon $(mem "$DAEMON")"

# The lab's MetalLB peers with the two test routers; the standalone speaker reads its own
# ConfigMap (same pool) naming its own router on 127.0.0.120:17900.
cat > "$XDG_STATE_HOME/config.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: |
    peers:
    - {my-asn: 64500, peer-asn: 64500, peer-address: 10.96.0.100}
    - {my-asn: 64500, peer-asn: 64500, peer-address: 10.96.0.101}
    address-pools:
    - {name: big, protocol: bgp, addresses: [198.18.0.0/15]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config-ext, namespace: metallb-system}
data:
  config: |
    peers:
    - {my-asn: 64500, peer-asn: 64500, peer-address: 127.0.0.120, peer-port: 17900}
    address-pools:
    - {name: big, protocol: bgp, addresses: [198.18.0.0/15]}
EOF
kubectl apply -f manifests/test-bgp-router.yaml -f manifests/metallb.yaml >/dev/null || exit 1
kubectl apply -f "$XDG_STATE_HOME/config.yaml" >/dev/null || exit 1

"$M" bgp listen --listen 127.0.0.120:17900 --as 64500 --peer 127.0.1.1 --peer-as 64500 \
  --output json >/dev/null 2>&1 &
ROUTER=$!
PIDS+=("$ROUTER")
"$M" speaker --node minikube --node-address 127.0.1.1 --loopback-only --config config-ext \
  --metrics 127.0.0.1:17472 --kubeconfig "$KUBECONFIG" >"$XDG_STATE_HOME/speaker.log" 2>&1 &
SPEAKER=$!
PIDS+=("$SPEAKER")

# N LoadBalancer Services, one POST at a time over one keep-alive connection.
t=$(now)
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
TOKEN=$(kubectl config view --raw -o jsonpath='{.users[0].user.token}')
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' \
  | base64 -d > "$XDG_STATE_HOME/ca.pem"
python3 - "$N" "$SERVER" "$TOKEN" "$XDG_STATE_HOME/ca.pem" <<'EOF' || exit 1
import http.client, json, ssl, sys, urllib.parse
n, server, token, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
u = urllib.parse.urlparse(server)
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
for i in range(n):
    body = json.dumps({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": f"svc-{i}", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                 "allocateLoadBalancerNodePorts": False,
                 "ports": [{"port": 80, "protocol": "TCP"}]}})
    c.request("POST", "/api/v1/namespaces/default/services", body, h)
    r = c.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"create svc-{i}: HTTP {r.status}")
EOF
echo "created $N Services in $(since "$t") s"
POD=$(kubectl get pods -n metallb-system -l component=speaker -o jsonpath='{.items[0].metadata.name}')
until [ "$(advertised)" -ge "$N" ] && [ "$(advertised "$POD")" -ge "$N" ]; do
  if [ "$(since "$t" | cut -d. -f1)" -gt 900 ]; then
    echo "gave up after 900 s: standalone $(advertised), lab speaker $(advertised "$POD")"
    exit 1
  fi
  sleep 2
done
echo "both speakers advertise all $N prefixes: $(since "$t") s"
echo "daemon (API server + runtime + routers + controller + speaker): $(mem "$DAEMON")"
echo "standalone speaker: $(mem "$SPEAKER")"
echo "standalone router: $(mem "$ROUTER")"
echo "objects: $(kubectl get --raw /api/v1/services | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))') services," \
  "$(kubectl get --raw /api/v1/events | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))') events," \
  "$(kubectl get --raw /apis/discovery.k8s.io/v1/endpointslices | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))') endpointslices"
echo "routes at the lab's routers (fewest of the two): $(routes_held)"
