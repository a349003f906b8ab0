# shellcheck shell=bash
# Shared by the etcd benchmarks, scripts/bench/fleet.sh and fleet_ceiling.sh: their opening
# (root, tools, build) and their 3-member etcd cluster. Sourced, not run. The caller kills
# the members (their PIDs are in ETCD3_PIDS) in its own cleanup.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
OUT=${SIXGUARD_BENCH_OUT:-$BUILD_DIR/bench}
# shellcheck disable=SC2034  # read by the scripts that source this
BENCH=$BUILD_DIR/tests/bench/fleet_bench
# The workload both publish (fleet_bench publish, then changes at RATE per second).
OBJECTS=${OBJECTS:-100000}
RATE=${RATE:-10000}
ETCD3_PIDS=()

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# fleet_prepare SCRIPT "TOOL..." TARGET...: needs root and the tools; builds the TARGETs.
fleet_prepare() {
  local script=$1 tools=$2 tool
  shift 2
  [ "$(id -u)" -eq 0 ] || { echo "scripts/bench/$script: needs root (namespaces)" >&2; exit 1; }
  for tool in $tools; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
  cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target "$@" >/dev/null
  mkdir -p "$OUT"
}

# etcd3_start NS HOST CLIENT_BASE PEER_BASE TOKEN DATA: three members in namespace NS, member i
# named mi, serving clients on HOST:CLIENT_BASE+i and peers on HOST:PEER_BASE+i, with data and
# logs under DATA; returns once the cluster answers (or after 60 s: the callers' first request
# then fails and says so). Sets ETCD3_ENDPOINTS and appends the PIDs to ETCD3_PIDS.
etcd3_start() {
  local ns=$1 host=$2 client_base=$3 peer_base=$4 token=$5 data=$6 i
  local cluster="m1=http://$host:$((peer_base + 1)),m2=http://$host:$((peer_base + 2))"
  cluster+=",m3=http://$host:$((peer_base + 3))"
  ETCD3_ENDPOINTS="http://$host:$((client_base + 1)),http://$host:$((client_base + 2))"
  ETCD3_ENDPOINTS+=",http://$host:$((client_base + 3))"
  for i in 1 2 3; do
    ip netns exec "$ns" etcd --name "m$i" --data-dir "$data/etcd$i" \
      --listen-client-urls "http://$host:$((client_base + i))" \
      --advertise-client-urls "http://$host:$((client_base + i))" \
      --listen-peer-urls "http://$host:$((peer_base + i))" \
      --initial-advertise-peer-urls "http://$host:$((peer_base + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$token" \
      >>"$data/etcd$i.log" 2>&1 &
    ETCD3_PIDS+=($!)
  done
  for _ in $(seq 1 300); do
    ip netns exec "$ns" etcdctl --endpoints "$ETCD3_ENDPOINTS" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
}
