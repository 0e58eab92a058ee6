#!/usr/bin/env bash
# The cluster's figures in docs/performance.md, from one run on this machine:
# one node without Redis, one node with Redis, two nodes sharing one port
# (reuseport:) through Redis, and ngIRCd's handshakes beside them.
#
#   docs/cluster-bench/run.sh [BENCH_DIR]      (default: ../shared/bench)
#
# Run from the project's root, with .venv set up.  Needs go, redis-server, ngircd.
# Prints one line per measurement; the JSON of each is left in the scratch folder.
set -euo pipefail
bench=$(cd "${1:-../shared/bench}" && pwd)
root=$PWD
scratch=$(mktemp -d /tmp/cluster-bench.XXXXXX)
(cd "$bench" && GOPROXY=off GOFLAGS=-mod=mod go build -o "$scratch/loadgen" ./loadgen)
ulimit -n 65536 2>/dev/null || true
export PYTHONPATH=$root
twistd=$root/.venv/bin/twistd
options=(--max-clients 5000 --rate 0 --max-per-ip 0)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/::1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$scratch" >"$scratch/redis.log" 2>&1 &
pids+=($!)
sleep 0.5

node() {  # node NAME ENDPOINT [more options]: starts one twistd chatroom, prints its PID
    local name=$1 endpoint=$2
    shift 2
    (cd "$scratch" && exec "$twistd" -n --pidfile= --logfile="$scratch/$name.log" chatroom \
        --port "$endpoint" "${options[@]}" "$@") &
    pids+=($!)
}

measure() {  # measure LABEL PORT: fan-out (unthrottled, then light), handshakes
    local label=$1 port=$2
    "$scratch/loadgen" -proto line -addr "[::1]:$port" -mode fanout -clients 100 -senders 10 \
        -duration 10s >"$scratch/$label-fanout.json" 2>/dev/null
    "$scratch/loadgen" -proto line -addr "[::1]:$port" -mode fanout -clients 100 -senders 10 \
        -rate 100 -duration 10s >"$scratch/$label-light.json" 2>/dev/null
    "$scratch/loadgen" -proto line -addr "[::1]:$port" -mode handshake -hs-concurrency 8 \
        -duration 5s >"$scratch/$label-handshake.json" 2>/dev/null
    python3 - "$scratch" "$label" <<'PY'
import json, sys
scratch, label = sys.argv[1:]
def load(kind):
    return json.load(open(f"{scratch}/{label}-{kind}.json"))
f, l, h = load("fanout"), load("light"), load("handshake")
print(f"{label:28} fanout {f['fanout']['deliveries_per_s']:>12,.0f}/s "
      f"p50 {f['latency']['p50_ms']:7.2f} p99 {f['latency']['p99_ms']:7.2f} ms lost {f['fanout']['lost']} | "
      f"light p50 {l['latency']['p50_ms']:5.2f} p99 {l['latency']['p99_ms']:6.2f} ms | "
      f"handshakes {h['handshake']['handshakes_per_s']:7,.0f}/s")
PY
}

stop_nodes() { for pid in "$@"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done; }

port=$(free_port)
node one "tcp6:$port:interface=\:\:1:backlog=1024"
a=${pids[-1]}; wait_port "$port"; measure "1 node, no Redis" "$port"; stop_nodes "$a"

port=$(free_port)
node one-redis "tcp6:$port:interface=\:\:1:backlog=1024" --redis "redis://127.0.0.1:$redis_port"
a=${pids[-1]}; wait_port "$port"; sleep 1; measure "1 node, Redis" "$port"; stop_nodes "$a"

port=$(free_port)
node two-a "reuseport:$port:interface=\:\:1:backlog=1024" --redis "redis://127.0.0.1:$redis_port"
a=${pids[-1]}
node two-b "reuseport:$port:interface=\:\:1:backlog=1024" --redis "redis://127.0.0.1:$redis_port"
b=${pids[-1]}; wait_port "$port"; sleep 1.5; measure "2 nodes, 1 port, Redis" "$port"; stop_nodes "$a" "$b"

# ngIRCd, as bench/driver.py runs it (its config template, loopback only).
port=$(free_port)
mkdir -p "$scratch/ngircd/conf.d" && chmod 777 "$scratch/ngircd"
sed -e "s|@PORT@|$port|" -e "s|@RUNDIR@|$scratch/ngircd|" "$bench/configs/ngircd.conf" >"$scratch/ngircd/ngircd.conf"
ngircd -n -f "$scratch/ngircd/ngircd.conf" >"$scratch/ngircd.log" 2>&1 &
pids+=($!); n=${pids[-1]}; wait_port "$port"
"$scratch/loadgen" -proto irc -addr "[::1]:$port" -mode handshake -hs-concurrency 8 -duration 5s \
    >"$scratch/ngircd-handshake.json" 2>/dev/null
python3 -c "import json,sys; h=json.load(open(sys.argv[1])); print(f\"{'ngIRCd':28} handshakes {h['handshake']['handshakes_per_s']:7,.0f}/s\")" "$scratch/ngircd-handshake.json"
stop_nodes "$n"
echo "JSON: $scratch"
