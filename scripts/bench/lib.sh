# shellcheck shell=bash
# Shared by the benchmark groups of scripts/bench/ (live.sh, scale.sh, control.sh,
# restart.sh). Sourced, not run.
#
# Every group builds only the targets it needs into $BUILD_DIR (default build/), writes its
# JSON to $SIXGUARD_BENCH_OUT (default build/bench)/<group>.json and removes, on every exit
# path, what it created: network namespaces and bpffs pins named with $SGB_PREFIX (which holds
# this script's PID) and the processes it started (killed by PID).

SGB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/setup.sh
. "$SGB_ROOT/scripts/lib/setup.sh"

BUILD_DIR=${BUILD_DIR:-$SGB_ROOT/build}
SGB_SOURCE=${SGB_SOURCE:-$SGB_ROOT}  # the source tree $BUILD_DIR is configured from
SGB_OUT=${SIXGUARD_BENCH_OUT:-$BUILD_DIR/bench}
SGB_PIDS=()

# sgb_init GROUP: names, the output directory and the cleanup trap.
sgb_init() {
  SGB_GROUP=$1
  SGB_PREFIX="sg-h7-$SGB_GROUP-$$-"
  SGB_JSON="$SGB_OUT/$SGB_GROUP.json" # used by the group scripts
  export SGB_JSON
  trap sgb_cleanup EXIT
  trap 'exit 130' INT TERM HUP
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/bench/$SGB_GROUP.sh: needs root (BPF, network namespaces)" >&2
    exit 1
  fi
  sg_mount_bpffs /sys/fs/bpf
  mkdir -p "$SGB_OUT"
}

# sgb_start GROUP TARGET...: the opening every group shares: sgb_init GROUP, build the
# TARGETs, and log the load average the figures were taken under.
sgb_start() {
  sgb_init "$1"
  shift
  sgb_build "$@"
  sgb_log_load
}

# sgb_log_load: the load average and CPU count, beside every group's figures.
sgb_log_load() {
  sg_log "$SGB_GROUP: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
}

# sgb_cleanup: the EXIT trap. Kills what we started (by PID), then removes our namespaces and
# pins (names carry $SGB_PREFIX, so nothing of anyone else's matches).
sgb_cleanup() {
  local status=$?
  set +e
  local pid
  for pid in "${SGB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${SGB_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$SGB_PREFIX"); do
    ip netns del "$ns" 2>/dev/null
  done
  local pin
  for pin in /sys/fs/bpf/"${SGB_PREFIX%-}"*; do
    [ -e "$pin" ] && rm -rf "$pin"
  done
  if declare -F sgb_group_cleanup >/dev/null; then sgb_group_cleanup; fi
  return $status
}

# sgb_build TARGET...: configures $BUILD_DIR if needed and builds only these targets.
sgb_build() {
  sg_log "building $* into $BUILD_DIR"
  cmake -S "$SGB_SOURCE" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target "$@" >/dev/null
}

# sgb_forget PID: a process we waited for is no longer ours to kill (its PID may be reused).
sgb_forget() {
  local keep=() pid
  for pid in "${SGB_PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  SGB_PIDS=("${keep[@]}")
}

# sgb_run COMMAND...: runs a benchmark binary in the background (so that the trap can stop it
# by PID on INT/TERM) and returns its exit status.
sgb_run() {
  "$@" &
  local pid=$!
  SGB_PIDS+=("$pid")
  local status=0
  wait "$pid" || status=$?
  sgb_forget "$pid"
  return $status
}

# ---- The agent, for the control and restart groups. ----

SGB_WORK=""
SGB_BPFFS_MOUNT=""
SGB_AGENT_PID=""
SGB_HOST_NS=""

# sgb_agent_env: a work directory, a private bpffs mount (the agent's pins never meet anyone
# else's) and the "host" namespace the agent runs in.
sgb_agent_env() {
  SGB_WORK=$(mktemp -d "/tmp/${SGB_PREFIX}XXXX")
  SGB_BPFFS_MOUNT="$SGB_WORK/bpffs"
  mkdir -p "$SGB_BPFFS_MOUNT"
  mount -t bpf bpf "$SGB_BPFFS_MOUNT"
  SGB_HOST_NS="${SGB_PREFIX}host"
  ip netns add "$SGB_HOST_NS"
  ip -n "$SGB_HOST_NS" link set lo up
}

# sgb_agent_config FLYCAST_SIZE MACHINES_SIZE: the agent's configuration in the work directory
# (machines naming absent interfaces still reserve sg_machines capacity).
sgb_agent_config() {
  cat >"$SGB_WORK/config.yaml" <<YAML
state_dir: $SGB_WORK/state
api_socket: $SGB_WORK/api.sock
metrics_address: "127.0.0.1:9530"
bpffs: $SGB_BPFFS_MOUNT
map_sizes:
  flycast: $1
  machines: $2
YAML
}

# sgb_agent_start: starts the agent in the host namespace (its PID in SGB_AGENT_PID; stderr in
# the work directory). `ip netns exec` execs the agent, so the PID is the agent's.
sgb_agent_start() {
  ip netns exec "$SGB_HOST_NS" "$BUILD_DIR/sixguard" agent --config "$SGB_WORK/config.yaml" \
    2>>"$SGB_WORK/agent.log" &
  SGB_AGENT_PID=$!
  SGB_PIDS+=("$SGB_AGENT_PID")
}

# sgb_agent_wait_ready [SINCE_NS]: polls /readyz (every 5 ms) until 200; prints its JSON line.
sgb_agent_wait_ready() {
  ip netns exec "$SGB_HOST_NS" "$BUILD_DIR/tests/bench/control_bench" wait-ready --port 9530 \
    --timeout 120 ${1:+--since-ns "$1"} || {
    echo "agent not ready; its log:" >&2
    tail -20 "$SGB_WORK/agent.log" >&2
    return 1
  }
}

sgb_group_cleanup() {
  if [ -n "$SGB_HOST_NS" ]; then ip netns del "$SGB_HOST_NS" 2>/dev/null; fi
  if [ -n "$SGB_BPFFS_MOUNT" ] && mountpoint -q "$SGB_BPFFS_MOUNT"; then
    umount "$SGB_BPFFS_MOUNT" 2>/dev/null || umount -l "$SGB_BPFFS_MOUNT"
  fi
  if [ -n "$SGB_WORK" ] && [ -z "${SGB_KEEP_WORK:-}" ]; then rm -rf "$SGB_WORK"; fi
}
