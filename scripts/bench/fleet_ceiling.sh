#!/usr/bin/env bash
# scripts/bench.sh fleet-ceiling (issue 10): what a 3-member etcd alone serves on this
# machine, with trivial clients instead of agents, so that the fleet bench's figures can be
# read against the machine's ceiling:
#   1. CLIENTS (default 20) concurrent lists through the JSON gateway, each the ranges an
#      agent lists (every global kind and one host's machines, curl to /dev/null): seconds
#      per client;
#   2. CLIENTS watchers of the whole prefix through the gateway (curl to a file), while
#      fleet_bench publishes RATE changes/s (default 10000) for SECONDS_ (default 10): the
#      rate reached, then how long after the last txn every watcher holds its revision, and
#      the CPU seconds etcd (3 members) and the watchers used. The same with no watcher first,
#      and with CLIENTS gRPC watchers (etcdctl) last, to tell the gateway's share.
# Same data as scripts/bench/fleet.sh (fleet_bench publish). Reports, never fails on timing.
set -euo pipefail
# shellcheck source=scripts/bench/etcd_fleet_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/etcd_fleet_lib.sh"
CLIENTS=${CLIENTS:-20}
DURATION=${SECONDS_:-10}
fleet_prepare fleet_ceiling.sh "etcd etcdctl jq curl" fleet_bench

NS="sg-ceil-$$"
WORK=$(mktemp -d "/tmp/$NS-XXXX")
PIDS=()
cleanup() {
  set +e
  local pid
  for pid in "${PIDS[@]}" "${ETCD3_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}" "${ETCD3_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Not for a process put in the background: $! must be the process itself (ip execs it).
in_ns() { ip netns exec "$NS" "$@"; }
url() { echo "http://127.0.0.1:$((24890 + $1))"; }
b64() { printf '%s' "$1" | base64 -w0; }
# etcd's range_end for a prefix: the prefix with its last byte incremented.
b64_end() {
  local p=$1 last
  last=$(printf '%d' "'${p: -1}")
  printf '%s' "${p%?}" | cat - <(printf "\\$(printf '%03o' $((last + 1)))") | base64 -w0
}
# CPU seconds (user + system) of a process so far.
cpu_of() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo 0; }
etcd_cpu() {
  local pid total=0
  for pid in "${ETCD3_PIDS[@]}"; do total=$(awk -v a="$total" -v b="$(cpu_of "$pid")" 'BEGIN {print a + b}'); done
  echo "$total"
}

ip netns add "$NS"
ip -n "$NS" link set lo up
etcd3_start "$NS" 127.0.0.1 24890 24900 "$NS" "$WORK"
ENDPOINTS=$ETCD3_ENDPOINTS
say "etcd: 3 members on loopback; publishing $OBJECTS objects"
publish=$(in_ns "$BENCH" publish --etcd "$ENDPOINTS" --hosts "$CLIENTS" --objects "$OBJECTS")
echo "  $publish"

say "1. $CLIENTS concurrent lists through the gateway (what an agent lists), curl to /dev/null"
list_client() {
  trap - EXIT INT TERM  # a background subshell: the cleanup is the parent's
  local i=$1 kind start end
  start=$(date +%s.%N)
  for kind in networks/ network-ids/ apps/ modes/ flycast/ "hosts/h$i/machines/"; do
    local p="/sixguard/v1/$kind"
    in_ns curl -s -X POST "$(url $((1 + i % 3)))/v3/kv/range" -w "%{http_code} %{size_download}\n" \
      -d "{\"key\":\"$(b64 "$p")\",\"range_end\":\"$(b64_end "$p")\"}" -o /dev/null >>"$WORK/codes$i"
  done
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", b - a}' >"$WORK/list$i"
}
cpu_before=$(etcd_cpu)
start=$(date +%s.%N)
list_pids=()
for i in $(seq 1 "$CLIENTS"); do list_client "$i" & list_pids+=($!); done
for pid in "${list_pids[@]}"; do wait "$pid"; done
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
lists=$(cat "$WORK"/list* | jq -s 'sort')
say "  answers (HTTP code, bytes): $(cat "$WORK"/codes* | sort | uniq -c | awk '{printf "%sx %s %s; ", $1, $2, $3}')"
one=$(in_ns curl -sf -X POST "$(url 1)/v3/kv/range" \
  -d "{\"key\":\"$(b64 /sixguard/v1/flycast/)\",\"range_end\":\"$(b64_end /sixguard/v1/flycast/)\"}" | wc -c)
say "  seconds per client: $lists; all done in $wall s; etcd CPU $(awk -v a="$cpu_before" -v b="$(etcd_cpu)" 'BEGIN {printf "%.1f", b - a}') s; the flycast range alone is $one bytes of JSON"
list_json=$(jq -n --argjson s "$lists" --argjson wall "$wall" '{seconds_per_client: $s, wall_seconds: $wall}')

# Changes with W watchers: the rate fleet_bench reached, the drain, the CPU used.
# Watchers through the gateway (curl) or gRPC (etcdctl, WATCH=grpc).
run_changes() {
  local watchers=$1 how=${2:-gateway} w wpids=() last drained start_cpu
  for w in $(seq 1 "$watchers"); do
    if [ "$how" = grpc ]; then
      ip netns exec "$NS" etcdctl --endpoints "$(url $((1 + w % 3)))" watch --prefix /sixguard/v1/ -w json \
        >"$WORK/watch$w" 2>/dev/null &
    else
      ip netns exec "$NS" curl -sN -X POST "$(url $((1 + w % 3)))/v3/watch" \
        -d "{\"create_request\":{\"key\":\"$(b64 /sixguard/v1/)\",\"range_end\":\"$(b64_end /sixguard/v1/)\"}}" \
        >"$WORK/watch$w" 2>/dev/null &
    fi
    wpids+=($!)
    PIDS+=($!)
  done
  # Every watcher follows: a marker key put now is on every watcher's file.
  if [ "$watchers" -gt 0 ]; then
    local marker="/sixguard/v1/bench-marker-$how"
    in_ns etcdctl --endpoints "$ENDPOINTS" put "$marker" x >/dev/null
    for w in $(seq 1 "$watchers"); do
      until grep -q "$(b64 "$marker")\|$marker" "$WORK/watch$w" 2>/dev/null; do
        in_ns etcdctl --endpoints "$ENDPOINTS" put "$marker" x >/dev/null
        sleep 0.1
      done
    done
  fi
  start_cpu=$(etcd_cpu)
  local pid
  changes=$(in_ns "$BENCH" changes --etcd "$ENDPOINTS" --sockets "" --rate "$RATE" --seconds "$DURATION")
  local published_at
  published_at=$(date +%s.%N)
  last=$(jq -r .last_revision <<<"$changes")
  drained=0
  if [ "$watchers" -gt 0 ]; then
    # The watchers hold the last revision once its events are on file: its header revision.
    for w in $(seq 1 "$watchers"); do
      for _ in $(seq 1 1200); do
        grep -q "\"revision\":\"\\?$last\"\\?[,}]" "$WORK/watch$w" && break
        sleep 0.05
      done
    done
    drained=$(awk -v a="$published_at" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  fi
  local etcd_used curl_used=0
  etcd_used=$(awk -v a="$start_cpu" -v b="$(etcd_cpu)" 'BEGIN {printf "%.1f", b - a}')
  for pid in "${wpids[@]}"; do
    curl_used=$(awk -v a="$curl_used" -v b="$(cpu_of "$pid")" 'BEGIN {printf "%.1f", a + b}')
  done
  local bytes=0
  [ "$watchers" -gt 0 ] && bytes=$(stat -c %s "$WORK/watch1")
  for pid in "${wpids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  rm -f "$WORK"/watch*
  jq -n --argjson c "$changes" --argjson w "$watchers" --argjson drained "$drained" \
    --argjson etcd_cpu "$etcd_used" --argjson curl_cpu "$curl_used" --argjson bytes "$bytes" \
    --arg how "$how" '{watchers: $w, via: $how, changes_per_second: ($c.changes_per_second | round), changes_sent: $c.changes_sent,
      publish_seconds: ($c.publish_seconds * 100 | round / 100), drain_seconds_after_last_txn: $drained,
      etcd_cpu_seconds: $etcd_cpu, watchers_cpu_seconds: $curl_cpu, bytes_per_watcher: $bytes}'
}
say "2a. $RATE changes/s for $DURATION s, no watcher"
none=$(run_changes 0)
echo "  $none"
say "2b. $RATE changes/s for $DURATION s, $CLIENTS watchers of the prefix (curl to a file)"
many=$(run_changes "$CLIENTS")
echo "  $many"
say "2c. $RATE changes/s for $DURATION s, $CLIENTS gRPC watchers of the prefix (etcdctl to a file)"
grpc=$(run_changes "$CLIENTS" grpc)
echo "  $grpc"
jq -n --argjson publish "$publish" --argjson list "$list_json" --argjson none "$none" --argjson many "$many" \
  --argjson grpc "$grpc" \
  --argjson load "$(cut -d' ' -f1-3 /proc/loadavg | jq -R 'split(" ") | map(tonumber)')" \
  '{publish: $publish, lists: $list, changes_no_watcher: $none, changes_watched: $many, changes_watched_grpc: $grpc, loadavg: $load}' \
  >"$OUT/fleet-ceiling.json"
say "written $OUT/fleet-ceiling.json"
