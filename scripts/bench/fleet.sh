#!/usr/bin/env bash
# scripts/bench.sh fleet (DESIGN §6, issue 10): AGENTS agents (default 20), each in its own
# network namespace with its own bpffs mount, state dir and socket, following one 3-member
# etcd cluster (in a namespace of its own, reached over a bridge). No traffic.
#   1. publish OBJECTS objects (default 100000: 1 network, apps, Flycast addresses, machines
#      spread over the hosts), then start the agents: initial sync time per agent;
#   2. RATE key changes per second (default 10000) for SECONDS (default 30), each value carrying
#      the publisher's timestamp: publish -> applied lag p50/p99/max over every agent;
#   3. RSS of the agents and of the etcd members;
#   4. one agent stopped, about 1000 changes and some deletions, the store compacted, the agent
#      started: its resync time and the events it applied against the keys that differ.
# Reports (table + $SIXGUARD_BENCH_OUT/fleet.json), never fails on timing.
#   AGENTS=20 OBJECTS=100000 RATE=10000 SECONDS_=30 scripts/bench.sh fleet
set -euo pipefail
# shellcheck source=scripts/bench/etcd_fleet_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/etcd_fleet_lib.sh"
AGENTS=${AGENTS:-20}
DURATION=${SECONDS_:-30}
fleet_prepare fleet.sh "etcd etcdctl jq" sixguard fleet_bench
SIXGUARD=$BUILD_DIR/sixguard

P="sg-esb-$$"
WORK=$(mktemp -d "/tmp/$P-XXXX")
FAB="$P-fab"
ETCD_IP=10.78.0.254
declare -A AGENT_PID=()
NAMESPACES=()
MOUNTS=()
cleanup() {
  set +e
  local pid ns m
  for pid in "${AGENT_PID[@]}" "${ETCD3_PIDS[@]}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; done
  for pid in "${AGENT_PID[@]}" "${ETCD3_PIDS[@]}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null; done
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_add() { ip netns add "$1" && NAMESPACES+=("$1") && ip -n "$1" link set lo up; }
say "etcd: 3 members"
ns_add "$FAB"
ip -n "$FAB" link add br0 type bridge
ip -n "$FAB" link set br0 up
ip -n "$FAB" addr add "$ETCD_IP/16" dev br0
etcd3_start "$FAB" "$ETCD_IP" 24790 24800 "$P" "$WORK"
ENDPOINTS=$ETCD3_ENDPOINTS
ctl() { ip netns exec "$FAB" etcdctl --endpoints "$ENDPOINTS" --command-timeout=30s "$@"; }

say "hosts: $AGENTS namespaces"
for i in $(seq 1 "$AGENTS"); do
  ns="$P-h$i"
  ns_add "$ns"
  ifc="eb$$c$i" peer="eb$$C$i"
  ip link add "$ifc" netns "$ns" type veth peer name "$peer" netns "$FAB"
  ip -n "$FAB" link set "$peer" master br0 up
  ip -n "$ns" addr add "10.78.$((i / 250)).$((i % 250 + 1))/16" dev "$ifc"
  ip -n "$ns" link set "$ifc" up
  mkdir -p "$WORK/h$i/bpffs"
  mount -t bpf bpf "$WORK/h$i/bpffs"
  MOUNTS+=("$WORK/h$i/bpffs")
  cat >"$WORK/h$i/config.yaml" <<YAML
state_dir: $WORK/h$i/state
api_socket: $WORK/h$i/api.sock
metrics_address: "127.0.0.1:9530"
map_sizes: {flycast: 131072}  # the 100k objects are mostly Flycast addresses: all of them fit
bpffs: $WORK/h$i/bpffs
source: {etcd: {endpoints: [$ENDPOINTS], host: h$i}}
YAML
done

agent_start() {
  ip netns exec "$P-h$1" "$SIXGUARD" agent --config "$WORK/h$1/config.yaml" >>"$WORK/h$1/agent.log" 2>&1 &
  AGENT_PID[$1]=$!
}
sockets() {
  local i s=""
  for i in "$@"; do s+="${s:+,}$WORK/h$i/api.sock"; done
  echo "$s"
}
ALL=$(seq 1 "$AGENTS")

say "publishing $OBJECTS objects"
publish=$(ip netns exec "$FAB" "$BENCH" publish --etcd "$ENDPOINTS" --hosts "$AGENTS" --objects "$OBJECTS")
echo "  $publish"
revision=$(jq -r .revision <<<"$publish")

say "starting $AGENTS agents: initial sync (list + reconcile) to revision $revision"
for i in $ALL; do agent_start "$i"; done
# PERF_OUT=FILE: agent h1's initial sync under `perf record -g` (for profiling, not the table).
if [ -n "${PERF_OUT:-}" ]; then
  perf record -g -o "$PERF_OUT" -p "${AGENT_PID[1]}" >/dev/null 2>&1 &
  PERF_PID=$!
fi
# shellcheck disable=SC2086
sync=$("$BENCH" sync --sockets "$(sockets $ALL)" --revision "$revision" --timeout 900) || true
if [ -n "${PERF_PID:-}" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
jq -r '.agents | "  seconds from start to in-maps per agent: \(map(. * 100 | round / 100))"' <<<"$sync"
jq -r '.agents | "  min \(min) s, median \(sort | .[length / 2 | floor]) s, max \(max) s"' <<<"$sync"
# Of which the source's own work: from "following etcd" (the agent is up, its datapath loaded)
# to "listed ... keys" (the list applied: committed and in the maps), from each agent's log.
stamp() { date -d "$(sed -n "s/^\([^ ]*\) .*$1.*/\1/p" "$2" | head -1)" +%s.%N 2>/dev/null || echo 0; }
list_apply=()
for i in $ALL; do
  list_apply+=("$(awk -v a="$(stamp 'source: listed' "$WORK/h$i/agent.log")" \
    -v b="$(stamp 'source: following etcd' "$WORK/h$i/agent.log")" 'BEGIN {printf "%.3f", a - b}')")
done
list_json=$(printf '%s\n' "${list_apply[@]}" | jq -s 'map(. * 100 | round / 100)')
echo "  of which list + reconcile (agent log): $list_json"

say "$RATE changes/s for $DURATION s"
# shellcheck disable=SC2086
changes=$(ip netns exec "$FAB" "$BENCH" changes --etcd "$ENDPOINTS" --sockets "$(sockets $ALL)" \
  --rate "$RATE" --seconds "$DURATION") || true
echo "  $changes"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
agent_rss=()
for i in $ALL; do agent_rss+=("$(rss_kb "${AGENT_PID[$i]}")"); done
etcd_rss=()
for pid in "${ETCD3_PIDS[@]}"; do etcd_rss+=("$(rss_kb "$pid")"); done
agents_json=$(printf '%s\n' "${agent_rss[@]}" | jq -s 'map(. / 1024 | round)')
etcd_json=$(printf '%s\n' "${etcd_rss[@]}" | jq -s 'map(. / 1024 | round)')
say "RSS MiB: agents $agents_json, etcd $etcd_json"

say "resync: agent h1 stopped, 1000 changes, compaction, agent started"
kill -TERM "${AGENT_PID[1]}"
wait "${AGENT_PID[1]}" 2>/dev/null || true
pool_before=$(ctl get --prefix /sixguard/v1/flycast/fdaa:a:1:0:f001: --keys-only | grep -c . || true)
ip netns exec "$FAB" "$BENCH" changes --etcd "$ENDPOINTS" --sockets "" --rate 1000 --seconds 1 >/dev/null || true
# An odd number of 100-key transactions leaves the pool in the other state than before.
pool_after=$(ctl get --prefix /sixguard/v1/flycast/fdaa:a:1:0:f001: --keys-only | grep -c . || true)
# And published Flycast addresses removed for good (those whose 7th group starts with 1).
deleted=$(ctl del --prefix /sixguard/v1/flycast/fdaa:a:1:0:f000:0:1 | tail -1)
last=$(ctl endpoint status -w json | jq -r '[.[].Status.header.revision] | max')
ctl compact "$last" >/dev/null
agent_start 1
resync=$("$BENCH" sync --sockets "$(sockets 1)" --revision "$last" --timeout 300) || true
resync_seconds=$(jq -r '.agents[0]' <<<"$resync")
listed=$(grep -o 'listed [0-9]* keys at revision [0-9]*: [0-9]* events applied' "$WORK/h1/agent.log" | tail -1)
applied=$(sed -n 's/.*: \([0-9]*\) events applied/\1/p' <<<"$listed")
difference=$(((pool_before > pool_after ? pool_before - pool_after : pool_after - pool_before) + deleted))
say "  $resync_seconds s to revision $last; $listed; keys that differ: $difference"

jq -n --argjson publish "$publish" --argjson sync "$sync" --argjson changes "$changes" \
  --argjson agents_rss "$agents_json" --argjson etcd_rss "$etcd_json" \
  --arg resync_seconds "$resync_seconds" --arg applied "${applied:-}" --arg difference "$difference" \
  --argjson agents "$AGENTS" --argjson list_apply "$list_json" \
  '{agents: $agents, publish: $publish, initial_sync_seconds: $sync.agents, list_and_reconcile_seconds: $list_apply, changes: $changes,
    rss_mib: {agents: $agents_rss, etcd: $etcd_rss},
    resync: {seconds: ($resync_seconds | tonumber? // null), events_applied: ($applied | tonumber? // null),
             keys_differing: ($difference | tonumber)}}' >"$OUT/fleet.json"
say "written $OUT/fleet.json"
