#!/usr/bin/env bash
# sixguard in two minutes: builds the agent, makes a small platform in network namespaces
# (a "host" running the real agent on its embedded defaults, 4 machines of 4 apps on 3
# private networks in 2 orgs, a Flycast proxy, the platform DNS on fdaa::3), tells the agent
# about it, and shows who can reach whom - with the reason from `sixguard explain` - and what
# the metrics say. Then it removes everything.
#
#   scripts/demo.sh            run the demo and clean up
#   scripts/demo.sh --keep     leave it running and print how to look around
#   scripts/demo.sh --cleanup  remove what a --keep run left
#   --no-build                 use the binary already built (SIXGUARD_BUILD_DIR, default build)
#   scripts/demo.sh --fleet    a fleet instead (DESIGN §6): 3 etcd members, 3 hosts each with
#                              its own agent following etcd; the platform published to etcd is
#                              enforced on every host, then the etcd leader is killed and
#                              enforcement stays the same (tests/integration/fleet.sh's first
#                              steps, in namespaces of its own; removes everything at the end)
#
# Needs root. Uses the agent's defaults: pins in /sys/fs/bpf/sixguard, state in
# /var/lib/sixguard, API on /run/sixguard/api.sock, metrics on :9530 (inside the demo's host
# namespace). It refuses to run where a sixguard agent is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/setup.sh

keep=0
build=1
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --cleanup) cleanup_only=1 ;;
    --no-build) build=0 ;;
    --fleet) fleet=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: needs root (network namespaces, BPF)" >&2; exit 1; }
if [ -n "${fleet:-}" ]; then
  source scripts/lib/setup.sh
  sg_install_packages
  [ "$build" = 1 ] && sg_build "${SIXGUARD_BUILD_DIR:-build}"
  FLEET_DEMO=1 exec bash tests/integration/fleet.sh "$ROOT/${SIXGUARD_BUILD_DIR:-build}/sixguard"
fi

# Fixed names (not per-PID) so that a --keep run can be found and cleaned up later.
export SG_ID=demo SG_PREFIX=sg-demo SG_IFP=sgdemo SG_BPFFS=/sys/fs/bpf SG_METRICS_PORT=9530
BUILD_DIR=${SIXGUARD_BUILD_DIR:-build}
SIXGUARD="$ROOT/$BUILD_DIR/sixguard"
STATE_FILE=/run/sixguard-demo.env # what a --keep run left: PIDs and namespaces to remove

demo_uninstall() { # detach everything and remove pins and state (agent stopped first)
  nsenter --net="/run/netns/$SG_PREFIX-host" "$SIXGUARD" agent --uninstall 2>&1 |
    sed 's/^/    /' || true
}

if [ -n "${cleanup_only:-}" ]; then
  [ -f "$STATE_FILE" ] || { echo "demo.sh: nothing to clean up ($STATE_FILE not found)"; exit 0; }
  source "$STATE_FILE"
  sg_log "stopping the demo agent (pid $DEMO_AGENT_PID)"
  kill -TERM "$DEMO_AGENT_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$DEMO_AGENT_PID" 2>/dev/null || break; sleep 0.1; done
  sg_log "uninstalling (programs, pins, state)"
  demo_uninstall
  for pid in $DEMO_PIDS; do kill -KILL "$pid" 2>/dev/null || true; done
  for ns in $DEMO_NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$DEMO_WORK" "$STATE_FILE"
  sg_log "demo removed"
  exit 0
fi

if [ -f "$STATE_FILE" ] || ip netns list | grep -q "^$SG_PREFIX-"; then
  echo "demo.sh: a demo is still around; run scripts/demo.sh --cleanup first" >&2
  exit 1
fi
if [ -e /sys/fs/bpf/sixguard ] || [ -S /run/sixguard/api.sock ] || [ -e /var/lib/sixguard/state.db ]; then
  echo "demo.sh: sixguard is installed on this machine (pins, socket or state at the default" >&2
  echo "         paths); the demo uses those paths and will not touch a real installation." >&2
  echo "         (Left over from an interrupted demo? scripts/demo.sh --cleanup, or" >&2
  echo "         build/sixguard agent --uninstall, removes them.)" >&2
  exit 1
fi

sg_install_packages
sg_mount_bpffs /sys/fs/bpf
[ "$build" = 1 ] && sg_build "$BUILD_DIR"
[ -x "$SIXGUARD" ] || { echo "demo.sh: $SIXGUARD not built" >&2; exit 1; }

source tests/integration/lib.sh
sg_init
demo_exit() {
  local status=$?
  if [ "$keep" = 1 ] && [ "$status" = 0 ]; then return 0; fi # left running on purpose
  set +e
  if [ -n "$SG_AGENT_PID" ]; then
    kill -TERM "$SG_AGENT_PID" 2>/dev/null
    wait "$SG_AGENT_PID" 2>/dev/null
    SG_AGENT_PID=""
  fi
  if ip netns list | grep -q "^$SG_HOST\b"; then
    sg_log "cleaning up: sixguard agent --uninstall, namespaces"
    demo_uninstall
  fi
  sg_cleanup
}
trap demo_exit EXIT

sg_log "creating the demo platform in network namespaces"
sg_topology
cat <<EOF
    host namespace $SG_HOST (forwarding, runs the agent)
    m1 app-a1 ${SG_ADDR[m1]}  on net-a (org acme)
    m2 app-a2 ${SG_ADDR[m2]}  on net-a (org acme)
    m3 app-b1 ${SG_ADDR[m3]}  on net-b (org acme)
    m4 app-c1 ${SG_ADDR[m4]}  on net-c (org globex)
    Flycast $SG_FLYCAST: app-a1 exposed into net-b (proxy namespace)
    platform DNS fdaa::3 (an infrastructure prefix by default)
EOF

sg_log "starting: sixguard agent (no configuration file: the embedded defaults)"
mkdir -p /run/sixguard
nsenter --net="/run/netns/$SG_HOST" "$SIXGUARD" agent >"$SG_WORK/agent.log" 2>&1 &
SG_AGENT_PID=$!
if ! sg_wait_ready; then
  echo "the agent did not become ready; its log:"
  cat "$SG_WORK/agent.log"
  exit 1
fi

sg_log "applying the platform's events (sixguard apply)"
sg_write_events "$SG_WORK/events.json"
sed 's/^/    /' "$SG_WORK/events.json"
"$SIXGUARD" apply "$SG_WORK/events.json" | sed 's/^/    /'
for m in "${SG_MACHINES[@]}"; do sg_wait_attached "$(sg_if "$m")"; done

sg_log "who can reach whom (ping, TCP, UDP) and why (sixguard explain)"
sg_run_matrix
reason() { # reason SRC DST IF: the explain line of the sender's hook
  "$SIXGUARD" explain "$1" "$2" --interface "$3" 2>&1 | head -n 1
}
describe() { # describe FROM TO: reached/blocked from the matrix results
  local dir="$SG_WORK/matrix" p got=() word
  for p in ping tcp udp; do [ -f "$dir/$1-$2-$p" ] && got+=("$p:$(cat "$dir/$1-$2-$p")"); done
  word=$(printf '%s ' "${got[@]}")
  echo "${word% }"
}
printf '    %-20s %-28s %-40s %s\n' FROM TO PROBES "EXPLAIN (sender's hook)"
for from in "${SG_MACHINES[@]}"; do
  for to in "${SG_MACHINES[@]}" fly dns; do
    [ "$from" = "$to" ] && continue
    case "$to" in
      fly) dst=$SG_FLYCAST label="Flycast (app-a1 in net-b)" ;;
      dns) dst=fdaa::3 label="fdaa::3 (platform DNS)" ;;
      *) dst=${SG_ADDR[$to]} label="$to ${SG_APP[$to]} ${SG_NET[$to]}" ;;
    esac
    printf '    %-20s %-28s %-40s %s\n' "$from ${SG_APP[$from]} ${SG_NET[$from]}" "$label" \
      "$(describe "$from" "$to")" "$(reason "${SG_ADDR[$from]}" "$dst" "$(sg_if "$from")")"
  done
done
if sg_check_matrix >"$SG_WORK/matrix.txt"; then
  sg_log "every probe as DESIGN §2 says"
else
  sg_log "UNEXPECTED results:"
  cat "$SG_WORK/matrix.txt"
fi

sg_log "a few metrics (curl :9530/metrics in the host namespace, non-zero series)"
sg_metrics /metrics | grep -E '^sixguard_(packets_total|attached_interfaces|map_entries|build_info)' |
  grep -v ' 0$' | sed 's/^/    /'

if [ "$keep" = 1 ]; then
  {
    echo "DEMO_AGENT_PID=$SG_AGENT_PID"
    echo "DEMO_PIDS=\"${SG_PIDS[*]}\""
    echo "DEMO_NAMESPACES=\"${SG_NAMESPACES[*]}\""
    echo "DEMO_WORK=$SG_WORK"
  } >"$STATE_FILE"
  cat <<EOF

The demo is still running (agent pid $SG_AGENT_PID, log $SG_WORK/agent.log). Try:
  $SIXGUARD status
  $SIXGUARD apps --org acme
  $SIXGUARD networks
  $SIXGUARD explain ${SG_ADDR[m1]} ${SG_ADDR[m3]} --interface $(sg_if m1)
  $SIXGUARD explain ${SG_ADDR[m3]} ${SG_ADDR[m1]}          # the uplink hook
  $SIXGUARD monitor            # in one terminal, and in another:
  ip netns exec $SG_PREFIX-m1 ping -6 -c 3 ${SG_ADDR[m3]}
  ip netns exec $SG_HOST curl -s localhost:9530/metrics | grep ^sixguard_packets
Clean up with:
  scripts/demo.sh --cleanup
EOF
  exit 0
fi
sg_log "done; cleaning up (use --keep to leave it running)"
