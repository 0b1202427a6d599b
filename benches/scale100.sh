#!/usr/bin/env bash
# 100 nodes x 2 routers (lab/scale.yaml): install MetalLB, apply N LoadBalancer Services
# (default 1,000), and time until both routers hold every route. Needs the release binary
# (`cargo build --release`, found under $CARGO_TARGET_DIR when set), kubectl and python3;
# figures in docs/benchmarks.md
# ("100 nodes x 2 routers").
#
#   benches/scale100.sh [N]
set -u
cd "$(dirname "$0")/.."
N=${1:-1000}
M=${CARGO_TARGET_DIR:-$PWD/target}/release/metallbctl
export XDG_STATE_HOME=$(mktemp -d)
trap '"$M" lab down --name s100 >/dev/null 2>&1; rm -rf "$XDG_STATE_HOME"' EXIT

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
daemon_usage() {
  local pid
  pid=$(cat "$XDG_STATE_HOME/metallbctl/lab/s100/lab.pid")
  echo "rss_kib $(awk '/VmRSS/{print $2}' "/proc/$pid/status") fds $(ls "/proc/$pid/fd" | wc -l)"
}
# The smallest number of distinct prefixes either router holds.
routes_held() {
  "$M" lab status --name s100 -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(min([len({r["prefix"] for s in x["sessions"] for r in s["routes"]}) for x in d["routers"]] or [0]))' 2>/dev/null || echo 0
}
established() {
  "$M" lab status --name s100 -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for x in d["routers"] for s in x["sessions"] if s["state"] == "Established"))' 2>/dev/null || echo 0
}

"$M" lab up --name s100 --topology lab/scale.yaml >/dev/null || exit 1
export KUBECONFIG=$XDG_STATE_HOME/metallbctl/lab/s100/kubeconfig
kubectl apply -f manifests/test-bgp-router.yaml -f manifests/metallb.yaml -f lab/scale-config.yaml >/dev/null
kubectl create deployment web --image=nginx >/dev/null

t=$(now)
until [ "$(established)" -ge 200 ]; do sleep 0.5; done
echo "200 sessions Established after $(since "$t") s; daemon $(daemon_usage)"

python3 - "$N" > "$XDG_STATE_HOME/services.yaml" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print(f"""---
apiVersion: v1
kind: Service
metadata: {{name: s{i}, namespace: default}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: 80}}]""")
EOF
t=$(now)
kubectl apply -f "$XDG_STATE_HOME/services.yaml" >/dev/null
echo "kubectl apply of $N Services: $(since "$t") s"
until [ "$(routes_held)" -ge "$N" ]; do sleep 2; done
echo "all $N routes at both routers $(since "$t") s after the apply started; daemon $(daemon_usage)"
