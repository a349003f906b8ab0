#!/usr/bin/env bash
# Restart (issue 6, group `restart`): with 100k entries in the agent's state (50k machines and
# 50k Flycast addresses, plus three real machines) and continuous UDP traffic between machine
# namespaces, the agent is killed with SIGKILL and started again. Measured: the time from the
# SIGKILL to /readyz 200, the cross-network packets that got through at any time (must be 0:
# enforcement never depends on the agent process) and the same-network packets lost. Fails
# on errors and on a cross-network leak (that is a correctness failure, not a timing one);
# never on timing.
#
#   scripts/bench/restart.sh [SECONDS_OF_TRAFFIC (12)] [PACKETS_PER_SECOND (5000)]
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/restart.json.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# sg_link and sg_machine_started: the machines and their events as the integration tests make them.
# shellcheck source=tests/integration/lib.sh
. "$SGB_ROOT/tests/integration/lib.sh"
sgb_init restart
seconds=${1:-12}
rate=${2:-5000}
entries_machines=50000
entries_flycast=50000
sgb_build sixguard control_bench
BENCH="$BUILD_DIR/tests/bench/control_bench"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
sg_log "restart: load average $load_before, $(nproc) CPUs"

sgb_agent_env
sgb_agent_config 262144 262144
ip netns exec "$SGB_HOST_NS" sysctl -qw net.ipv6.conf.all.forwarding=1

# shellcheck source=tests/integration/lib.sh
. "$SGB_ROOT/tests/integration/lib.sh" # sg_link: the machine wiring the integration tests use
# machine NAME HOSTIF ADDRESS: a namespace behind a veth pair, as a machine on a host: the
# host side (HOSTIF, fe80::1) carries sixguard; the machine routes 6PN via the host (sg_link).
# The namespace is named with $SGB_PREFIX, so that sgb_cleanup removes it.
machine() {
  local ns="${SGB_PREFIX}$1"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  SG_HOST=$SGB_HOST_NS sg_link "$ns" "$2" "$3"
}
# Networks n0 (20:0) and n1 (20:1) and apps a0, a100 (n0) and a1 (n1) come from the populated
# state (tests/bench/control_events.cpp).
M1=fdaa:20:0:0:2:0:1:2 # app a0, network n0
M2=fdaa:20:0:0:2:0:2:2 # app a100, network n0: same network as M1
M3=fdaa:20:1:0:2:0:3:2 # app a1, network n1: another network
IF1="h7a$$" IF2="h7b$$" IF3="h7c$$"
machine m1 "$IF1" "$M1"
machine m2 "$IF2" "$M2"
machine m3 "$IF3" "$M3"

sgb_agent_start
sgb_agent_wait_ready "" >/dev/null
sg_log "restart: populating the state ($entries_machines machines, $entries_flycast Flycast)"
"$BENCH" populate --socket "$SGB_WORK/api.sock" --machines "$entries_machines" \
  --flycast "$entries_flycast" >/dev/null
events=$(
  sg_machine_started a0 r1 "$M1" "$IF1"
  sg_machine_started a100 r2 "$M2" "$IF2"
  sg_machine_started a1 r3 "$M3" "$IF3"
)
curl -sf --unix-socket "$SGB_WORK/api.sock" -H 'Content-Type: application/json' \
  --data-binary "$events" http://sixguard/v1/events >/dev/null
sgb_agent_wait_ready "" >/dev/null

# Traffic: M1 -> M2 (same network) and M1 -> M3 (cross network), counted by the receivers.
recv() { # NS PORT OUT
  ip netns exec "${SGB_PREFIX}$1" "$BENCH" recv --port "$2" --seconds $((seconds + 4)) \
    >"$SGB_WORK/$3" 2>/dev/null &
  SGB_PIDS+=("$!")
}
send() { # DST OUT
  ip netns exec "${SGB_PREFIX}m1" "$BENCH" send --src "$M1" --dst "$1" --port 7009 \
    --rate "$rate" --seconds "$seconds" >"$SGB_WORK/$2" &
  SGB_PIDS+=("$!")
}
recv m2 7009 recv-same.json
recv m3 7009 recv-cross.json
sleep 1
send "$M2" send-same.json
send "$M3" send-cross.json
sleep 3

sg_log "restart: SIGKILL to the agent (pid $SGB_AGENT_PID), then start it again"
killed_ns=$(date +%s%N)
kill -KILL "$SGB_AGENT_PID"
wait "$SGB_AGENT_PID" 2>/dev/null || true
sgb_forget "$SGB_AGENT_PID"
sgb_agent_start
ready=$(sgb_agent_wait_ready "$killed_ns")
ready_ms=$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<<"$ready")

# Let the traffic run out, then read the counts.
for pid in "${SGB_PIDS[@]}"; do
  [ "$pid" = "$SGB_AGENT_PID" ] && continue
  wait "$pid" 2>/dev/null || true
  sgb_forget "$pid"
done
field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$SGB_WORK/$1"; }
sent_same=$(field send-same.json sent)
sent_cross=$(field send-cross.json sent)
got_same=$(field recv-same.json received)
got_cross=$(field recv-cross.json received)
for v in sent_same sent_cross got_same got_cross ready_ms; do
  [ -n "${!v}" ] || { echo "restart: no value for $v" >&2; exit 1; }
done
lost_same=$((sent_same - got_same))
# The leak count means something only if the cross-network flow reached sixguard and was
# dropped there (not lost on the way): its counter, summed from the pinned per-CPU map by the
# restarted agent, must hold every packet that was sent.
dropped_cross=$(ip netns exec "$SGB_HOST_NS" curl -sf http://127.0.0.1:9530/metrics |
  grep '^sixguard_packets_total{' | grep 'hook="machine_egress"' | grep 'verdict="drop"' |
  grep 'reason="cross_network"' | awk '{s += $NF} END {printf "%d", s}')
if [ "${dropped_cross:-0}" -lt "$sent_cross" ]; then
  echo "restart: sixguard counted ${dropped_cross:-0} cross-network drops for $sent_cross sent" >&2
  exit 1
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\nrestart with %d entries in state (%d machines, %d Flycast) + 3 live machines\n' \
  $((entries_machines + entries_flycast)) "$entries_machines" "$entries_flycast"
printf '%-44s %12s\n' "SIGKILL -> /readyz 200 (ms)" "$ready_ms"
printf '%-44s %12s\n' "cross-network packets sent (M1 -> M3)" "$sent_cross"
printf '%-44s %12s\n' "cross-network drops counted by machine_egress" "$dropped_cross"
printf '%-44s %12s  (target 0)\n' "cross-network packets delivered (leaked)" "$got_cross"
printf '%-44s %12s\n' "same-network packets sent (M1 -> M2)" "$sent_same"
printf '%-44s %12s\n' "same-network packets lost" "$lost_same"
echo "traffic: $rate packets/s per flow for $seconds s; the agent was killed 3 s in"
echo "date $started, load average before $load_before, after $load_after"
cat >"$SGB_JSON" <<JSON
{
  "benchmark": "restart",
  "date": "$started",
  "load_average_before": "$load_before",
  "load_average_after": "$load_after",
  "state_entries": $((entries_machines + entries_flycast)),
  "state_machines": $entries_machines,
  "state_flycast": $entries_flycast,
  "traffic_seconds": $seconds,
  "packets_per_second_per_flow": $rate,
  "sigkill_to_ready_ms": $ready_ms,
  "cross_network_sent": $sent_cross,
  "cross_network_leaked": $got_cross,
  "cross_network_dropped_by_sixguard": $dropped_cross,
  "same_network_sent": $sent_same,
  "same_network_received": $got_same,
  "same_network_lost": $lost_same
}
JSON
echo "JSON: $SGB_JSON"
if [ "$got_cross" -ne 0 ]; then
  echo "restart: $got_cross cross-network packets leaked" >&2
  exit 1
fi
