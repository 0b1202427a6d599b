#!/usr/bin/env bash
# Resident memory of the real `metallbctl tui` (issue 11: under 50 MB holding 10,000 routes),
# read from /proc/PID/status once the screen shows the routes:
#   1. a `listen` router fed 10,000 /32 prefixes by `metallbctl bgp announce` (loopback only),
#      the tui on its routes view showing 10,000 rows;
#   2. the same with 1 prefix;
#   3. the tutorial lab (`lab up --tutorial`, its 1 route in both router panels).
# Each tui runs alone in a private tmux server (200x50). Run from the repository root:
#   cargo build --release && benches/tui_rss.sh        (BIN=... to measure another binary)
# Needs tmux, python3 and bc.
set -euo pipefail

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/metallbctl}
N=${N:-10000}
WORK=$(mktemp -d)
SOCK=
RUN=0
ANNOUNCE_PID=
LAB_NAME="rss-$$"

cleanup() {
    [ -n "$ANNOUNCE_PID" ] && kill "$ANNOUNCE_PID" 2>/dev/null && wait "$ANNOUNCE_PID" 2>/dev/null
    [ -n "$SOCK" ] && tmux -L "$SOCK" kill-server 2>/dev/null
    if [ -f "$WORK/lab/lab.pid" ]; then
        "$BIN" lab down --name "$LAB_NAME" --state-dir "$WORK/lab" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Poll the tmux screen until it matches the extended regex $1, for at most $2 seconds.
wait_screen() {
    local deadline=$((SECONDS + $2))
    while ! tmux -L "$SOCK" capture-pane -p -t rss | grep -Eq -- "$1"; do
        if [ $SECONDS -ge $deadline ]; then
            echo "timed out waiting for /$1/; the screen:" >&2
            tmux -L "$SOCK" capture-pane -p -t rss >&2
            exit 1
        fi
        sleep 0.1
    done
}

# A free loopback TCP port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start the tui with arguments "$@" from a shell in a fresh tmux server; TUI_PID is its PID.
start_tui() {
    [ -n "$SOCK" ] && tmux -L "$SOCK" kill-server 2>/dev/null
    RUN=$((RUN + 1))
    SOCK="metallbctl-rss-$$-$RUN" # a fresh server each time: no race with one shutting down
    tmux -L "$SOCK" -f /dev/null new-session -d -s rss -x 200 -y 50 -- env PS1='$ ' sh
    tmux -L "$SOCK" send-keys -t rss -l "$(printf '%q ' "$BIN" tui "$@")"
    tmux -L "$SOCK" send-keys -t rss Enter
    local shell deadline=$((SECONDS + 10))
    shell=$(tmux -L "$SOCK" display-message -p -t rss '#{pane_pid}')
    TUI_PID=
    while [ -z "$TUI_PID" ]; do
        TUI_PID=$(cat "/proc/$shell/task/$shell/children" 2>/dev/null | awk '{print $1}')
        [ $SECONDS -lt $deadline ] || { echo "the tui did not start" >&2; exit 1; }
        [ -n "$TUI_PID" ] || sleep 0.05
    done
}

# Print "label VmRSS VmHWM" of the tui.
report() {
    local rss hwm
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$TUI_PID/status")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$TUI_PID/status")
    printf '%-40s VmRSS %6.1f MB   VmHWM %6.1f MB\n' "$1" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)"
}

# $1 prefixes announced to a listen router.
listen_case() {
    local n=$1 port prefixes
    port=$(free_port)
    start_tui --no-cluster --router "big=listen:127.0.0.1:$port,as=64512,peer-as=64513,peer=127.0.0.1" --interval 0.5
    wait_screen 'big · ' 10
    # 10.0.0.0 upwards, one /32 each.
    prefixes=$(python3 -c "import ipaddress,sys; b=int(ipaddress.IPv4Address('10.0.0.0')); print(' '.join(f'{ipaddress.IPv4Address(b+i)}/32' for i in range($n)))")
    # shellcheck disable=SC2086
    "$BIN" bgp announce --peer "127.0.0.1:$port" --as 64513 --peer-as 64512 \
        --source 127.0.0.1 --next-hop 127.0.0.2 $prefixes >"$WORK/announce.log" 2>&1 &
    ANNOUNCE_PID=$!
    tmux -L "$SOCK" send-keys -t rss 3
    wait_screen " routes 1/$n " 60
    report "listen router, $n routes (routes view)"
    tmux -L "$SOCK" send-keys -t rss q
    kill "$ANNOUNCE_PID" 2>/dev/null || true
    wait "$ANNOUNCE_PID" 2>/dev/null || true
    ANNOUNCE_PID=
}

listen_case "$N"
listen_case 1

mkdir -p "$WORK/lab"
"$BIN" lab up --tutorial --name "$LAB_NAME" --state-dir "$WORK/lab" >/dev/null
start_tui --kubeconfig "$WORK/lab/kubeconfig" --interval 0.5
wait_screen 'MetalLB is connected — 1 route' 20
report "tutorial lab, 1 route (routers view)"
tmux -L "$SOCK" send-keys -t rss q
