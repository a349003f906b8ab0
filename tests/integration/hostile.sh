#!/usr/bin/env bash
# The attacks of issue 11 against the real agent (DESIGN §3 "Input limits", §4 listeners and
# health, §5 "One agent per state" and SIGHUP). Each case asserts:
#  - the DESIGN answer (status code, refusal, not ready with a reason, exit 2 naming the first
#    agent...);
#  - the agent stays up: the same PID before and after;
#  - /v1/status (API socket) and /healthz on the loopback health_address answer 200 within
#    1 s while the attack runs (a background prober samples both every 0.2 s; one failed
#    sample is retried by the next, two failures in a row fail the case: CI machines are
#    loaded, an agent that is starved fails every sample);
#  - its peak RSS (VmHWM, reset through /proc/PID/clear_refs before the case) stays under
#    SG_RSS_LIMIT_MB (README: "Behaviour where the contract is silent");
#  - what must not change did not: `sixguard apps`, `sixguard networks` and the pinned maps.
#   usage: hostile.sh PATH/TO/sixguard PATH/TO/hostile_client [CASE...]
#   cases: nesting slow_clients two_agents db_deleted large_batch big_bodies strings
#          db_errors lo sighup (default: all, in that order)
set -uo pipefail
SIXGUARD=${1:?usage: hostile.sh PATH/TO/sixguard PATH/TO/hostile_client [CASE...]}
CLIENT=${2:?usage: hostile.sh PATH/TO/sixguard PATH/TO/hostile_client [CASE...]}
shift 2
SG_PREFIX=${SG_PREFIX:-sg-hh-$$}
source "$(dirname "$0")/lib.sh"
sg_require_environment sqlite3
[ -x "$CLIENT" ] || sg_skip "hostile_client not found at '$CLIENT'"
sg_init

HEALTH_PORT=9531
SG_RSS_LIMIT_MB=${SG_RSS_LIMIT_MB:-256} # peak RSS of the agent during any case
UPLINK="${SG_IFP}up"
SECOND_PIDS=()   # second agents (case two_agents), killed by PID on exit
TMPFS_MOUNT=""   # the small state_dir of case db_errors
PROBE_PID=""

hostile_cleanup() {
  local status=$?
  [ -n "$PROBE_PID" ] && kill "$PROBE_PID" 2>/dev/null
  local pid
  for pid in "${SECOND_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [ -n "$SG_AGENT_PID" ]; then kill -KILL "$SG_AGENT_PID" 2>/dev/null; wait "$SG_AGENT_PID" 2>/dev/null; fi
  SG_AGENT_PID=""
  if [ -n "$TMPFS_MOUNT" ] && mountpoint -q "$TMPFS_MOUNT"; then umount "$TMPFS_MOUNT" || umount -l "$TMPFS_MOUNT"; fi
  (exit $status)
  sg_cleanup
}
trap hostile_cleanup EXIT

# ---- the agent: every listener of DESIGN §4, metrics on all addresses as by default ----
STATE_DIR="$SG_WORK/state"
write_config() { # write_config FILE [STATE_DIR [API_SOCKET [METRICS_PORT [HEALTH_PORT [BPFFS]]]]]
  cat >"$1" <<YAML
state_dir: ${2:-$STATE_DIR}
api_socket: ${3:-$SG_WORK/api.sock}
metrics_address: ":${4:-$SG_METRICS_PORT}"
health_address: "127.0.0.1:${5:-$HEALTH_PORT}"
bpffs: ${6:-$SG_BPFFS}
mode: enforce
machine_egress_hook: ${SIXGUARD_TEST_EGRESS_HOOK:-auto}
infra_prefixes: ["fdaa::3/128"]
uplinks: [$UPLINK]
YAML
}
CONFIG="$SG_WORK/config.yaml"

api() { # api METHOD PATH [BODY-FILE]: "<body>\n<status>" (10 s: the big bodies take a while)
  local args=(-s --max-time "${API_TIME:-10}" --unix-socket "$SG_WORK/api.sock" -X "$1" -w '\n%{http_code}')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$3")
  curl "${args[@]}" "http://sixguard$2"
}
post_text() { printf '%s' "$2" >"$SG_WORK/body.json"; api POST "$1" "$SG_WORK/body.json"; }
health() { # health PATH [PORT]: "<status> <body>" from the loopback health_address
  ip netns exec "$SG_HOST" curl -s --max-time 1 -w ' %{http_code}' "http://127.0.0.1:${2:-$HEALTH_PORT}$1" |
    awk '{code=$NF; $NF=""; body=body $0} END {print code, body}'
}
alive() { [ -n "$SG_AGENT_PID" ] && kill -0 "$SG_AGENT_PID" 2>/dev/null; }

# What must not change: the control plane's view and the pinned maps' entries.
snapshot() {
  "$SIXGUARD" apps --socket "$SG_WORK/api.sock" 2>&1
  "$SIXGUARD" networks --socket "$SG_WORK/api.sock" 2>&1
  pinned_maps
}
pinned_maps() {
  local map
  for map in sg_machines sg_flycast sg_infra sg_net_flags; do
    echo "== $map"
    bpftool map dump pinned "$SG_BPFFS/sixguard/$map" 2>&1 | sort
  done
}

# ---- the prober: /v1/status on the API socket and /healthz on health_address ----
probe_loop() { # probe_loop FILE [EXTRA-URL]: one line per sample "what code seconds"
  local out=$1 extra=${2:-} r
  while :; do
    r=$(curl -s -o /dev/null --max-time 1 --unix-socket "$SG_WORK/api.sock" \
      -w '%{http_code} %{time_total}' http://sixguard/v1/status)
    echo "status ${r:-000 1}" >>"$out"
    r=$(ip netns exec "$SG_HOST" curl -s -o /dev/null --max-time 1 \
      -w '%{http_code} %{time_total}' "http://127.0.0.1:$HEALTH_PORT/healthz")
    echo "healthz ${r:-000 1}" >>"$out"
    if [ -n "$extra" ]; then
      r=$(ip netns exec "$SG_HOST" curl -s -o /dev/null --max-time 1 -w '%{http_code} %{time_total}' "$extra")
      echo "extra ${r:-000 1}" >>"$out"
    fi
    sleep 0.2
  done
}
probe_start() {
  PROBE_FILE="$SG_WORK/probe-$CASE"
  PROBE_WHAT=(status healthz)
  [ -n "${1:-}" ] && PROBE_WHAT+=(extra)
  : >"$PROBE_FILE"
  probe_loop "$PROBE_FILE" "${1:-}" &
  PROBE_PID=$!
}
probe_count() { grep -c "^$1 " "$PROBE_FILE"; }
# probe_stop MIN_SAMPLES: stops the prober; fails the case when an endpoint missed two samples
# in a row or was sampled fewer than MIN_SAMPLES times.
probe_stop() {
  local min=${1:-5} what deadline=$((SECONDS + 15))
  # A short attack still gets its samples: wait (15 s at most) until every endpoint has them.
  for what in "${PROBE_WHAT[@]}"; do
    while [ "$(probe_count "$what")" -lt "$min" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  done
  kill "$PROBE_PID" 2>/dev/null
  wait "$PROBE_PID" 2>/dev/null
  PROBE_PID=""
  local summary
  for what in "${PROBE_WHAT[@]}"; do
    summary=$(awk -v w="$what" '$1==w {n++; if ($2!=200) {bad++; run++; if (run>worst) worst=run} else run=0;
        if ($3>max) max=$3} END {printf "%d %d %d %.3f", n, bad, worst, max + 0}' "$PROBE_FILE")
    read -r n bad worst max <<<"$summary"
    local label=$what
    [ "$what" = status ] && label="/v1/status (API socket)"
    [ "$what" = healthz ] && label="/healthz (health_address)"
    [ "$what" = extra ] && label="$PROBE_EXTRA_LABEL"
    sg_check "$CASE: $label answered during the attack: $n samples, $bad not 200 within 1 s, slowest ${max}s" \
      test "$n" -ge "$min" -a "$worst" -lt 2
  done
}

# ---- RSS ----
rss_reset() { echo 5 >"/proc/$SG_AGENT_PID/clear_refs" 2>/dev/null; }
rss_kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$SG_AGENT_PID/status" 2>/dev/null; }

# ---- each case runs between case_begin and case_end ----
case_begin() {
  CASE=$1
  sg_say "---- case $CASE: $2"
  CASE_PID=$SG_AGENT_PID
  rss_reset
  BEFORE=$(snapshot)
}
case_end() { # case_end [same|changed]: same PID, RSS bound, state unchanged unless said
  local expect=${1:-same}
  sg_check "$CASE: the agent is still running with the same PID ($CASE_PID)" \
    test "$SG_AGENT_PID" = "$CASE_PID" -a -n "$CASE_PID" -a -d "/proc/$CASE_PID"
  if alive; then
    local hwm rss
    hwm=$(rss_kb VmHWM)
    rss=$(rss_kb VmRSS)
    sg_check "$CASE: peak RSS $((hwm / 1024)) MiB (now $((rss / 1024)) MiB) under $SG_RSS_LIMIT_MB MiB" \
      test "$hwm" -lt $((SG_RSS_LIMIT_MB * 1024))
    if [ "$expect" = same ]; then
      AFTER=$(snapshot)
      if [ "$BEFORE" = "$AFTER" ]; then
        sg_pass "$CASE: apps, networks and pinned maps unchanged"
      else
        sg_fail "$CASE: apps, networks or pinned maps changed"
        diff <(echo "$BEFORE") <(echo "$AFTER") | head -n 20 | cut -c 1-160
      fi
    fi
  fi
}
# A case that killed the agent leaves a fresh one for the next: the same state, restarted.
ensure_agent() {
  alive && return 0
  echo "    (the agent is gone; starting a new one for the next cases)"
  SG_AGENT_PID=""
  sg_agent_start "$CONFIG" || { echo "FAIL: the agent did not restart"; exit 1; }
}
status_code_is() { # status_code_is REPLY CODE...
  local got
  got=$(sg_status_of "$1")
  shift
  local code
  for code in "$@"; do [ "$got" = "$code" ] && return 0; done
  return 1
}
show() { echo "    $(sg_status_of "$1") $(sg_body_of "$1" | head -c 300)"; }
repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; } # repeat CHAR COUNT

# =====================================================================================
case_nesting() {
  { repeat '[' 60000; repeat ']' 60000; } >"$SG_WORK/nested.json"
  case_begin nesting_cli "sixguard apply of 60,000 nested '['"
  probe_start
  local out status reply
  out=$(timeout "$SG_EXIT_WAIT" "$SIXGUARD" apply --socket "$SG_WORK/api.sock" "$SG_WORK/nested.json" 2>&1)
  status=$?
  echo "    sixguard apply: exit $status: $(head -c 200 <<<"$out")"
  sg_check "$CASE: sixguard apply of it fails cleanly (exit 1, not a signal)" test "$status" = 1
  sg_check "$CASE: the agent answered 400 (the CLI says so)" grep -q "HTTP 400" <<<"$out"
  probe_stop 3
  case_end
  ensure_agent
  case_begin nesting "60,000 nested '[' (120 KB) to POST /v1/events"
  probe_start
  reply=$(api POST /v1/events "$SG_WORK/nested.json")
  show "$reply"
  sg_check "$CASE: POST /v1/events of 120 KB of nesting -> 400" status_code_is "$reply" 400
  # Deep objects too, and one level over the limit inside a valid event.
  { printf '{"type":"app.created","org":"acme","app":"deep","network":'; repeat '[' 33; repeat ']' 33; printf '}'; } \
    >"$SG_WORK/deep.json"
  reply=$(api POST /v1/events "$SG_WORK/deep.json")
  show "$reply"
  sg_check "$CASE: 33 levels inside an event -> 400" status_code_is "$reply" 400
  { repeat '{"a":' 40000; printf 1; repeat '}' 40000; } >"$SG_WORK/deep-objects.json"
  reply=$(api POST /v1/explain "$SG_WORK/deep-objects.json")
  show "$reply"
  sg_check "$CASE: 40,000 nested objects to /v1/explain -> 400" status_code_is "$reply" 400
  probe_stop 3
  case_end
  ensure_agent
}

# =====================================================================================
case_slow_clients() {
  case_begin slow_clients "100 slow-loris connections; 80 idle monitor streams; 70 TCP connections from a tenant"
  local attack="$SG_WORK/attack.out"

  # (a) 100 connections to the API socket dripping a request one byte a second.
  probe_start
  "$CLIENT" --unix "$SG_WORK/api.sock" --connections 100 --seconds 60 --until-closed --interval-ms 1000 \
    --drip 'POST /v1/events HTTP/1.1\r\nHost: sixguard\r\nContent-Length: 1000000\r\n\r\n[' \
    >"$attack" 2>&1 &
  local client=$!
  SG_PIDS+=("$client")
  wait "$client"
  echo "    slow-loris: $(cat "$attack")"
  # The overall request deadline: the agent ends every one of them (within the client's 60 s).
  sg_check "$CASE: the agent closed every slow connection (request deadline, per-peer cap)" \
    grep -q 'connected=100 .*open_at_end=0 ' "$attack"
  probe_stop 10

  # (b) 80 /v1/monitor streams left open: more than the monitor cap.
  CASE=slow_clients_monitor
  probe_start
  "$CLIENT" --unix "$SG_WORK/api.sock" --connections 80 --seconds 10 \
    --send 'GET /v1/monitor HTTP/1.1\r\nHost: sixguard\r\n\r\n' >"$attack" 2>&1 &
  client=$!
  SG_PIDS+=("$client")
  wait "$client"
  echo "    monitor streams: $(cat "$attack")"
  sg_check "$CASE: some monitor streams were served (200)" grep -q 'statuses=.*200:' "$attack"
  probe_stop 10

  # (c) 70 TCP connections, from inside a tenant machine, to the host's metrics port over the
  # machine's link-local gateway, idle and dripping. /healthz and /readyz on the loopback
  # health_address and /metrics for another peer keep answering.
  CASE=slow_clients_tenant
  local reach
  reach=$(ip netns exec "$SG_PREFIX-m1" curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
    "http://[fe80::1%eth0]:$SG_METRICS_PORT/metrics")
  echo "    a tenant machine reaching the metrics port over fe80::1: HTTP $reach"
  PROBE_EXTRA_LABEL="/metrics from the host (127.0.0.1)"
  probe_start "http://127.0.0.1:$SG_METRICS_PORT/metrics"
  ip netns exec "$SG_PREFIX-m1" "$CLIENT" --tcp "fe80::1%eth0" "$SG_METRICS_PORT" --connections 70 \
    --seconds 60 --until-closed --interval-ms 1000 --drip 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >"$attack" 2>&1 &
  client=$!
  SG_PIDS+=("$client")
  local readyz_bad=0 samples=0 r
  while kill -0 "$client" 2>/dev/null; do
    r=$(health /readyz)
    samples=$((samples + 1))
    [ "${r%% *}" = 200 ] || readyz_bad=$((readyz_bad + 1))
    sleep 0.5
  done
  wait "$client"
  echo "    tenant flood: $(cat "$attack")"
  sg_check "$CASE: the agent closed every flooding connection" grep -q 'connected=70 .*open_at_end=0 ' "$attack"
  sg_check "$CASE: /readyz on health_address answered 200 during the flood ($samples samples, $readyz_bad not)" \
    test "$samples" -ge 5 -a "$readyz_bad" -le 1
  probe_stop 10
  CASE=slow_clients
  case_end
  ensure_agent
}

# =====================================================================================
case_two_agents() {
  case_begin two_agents "a second agent on the same state_dir and bpffs"
  probe_start
  local second="$SG_WORK/second.yaml" out="$SG_WORK/second.log" pid status
  try_second() { # try_second DESCRIPTION CONFIG: the second agent must exit 2 naming the first
    local what=$1 config=$2
    : >"$out"
    ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$config" >"$out" 2>&1 &
    pid=$!
    SECOND_PIDS+=("$pid")
    # It must refuse at once; give it 20 s on a loaded machine, and see whether it became ready.
    local i
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      sg_fail "$what: the second agent is still running after 20 s"
      # Show what two agents on one state do: each binds a new app to its own next ID.
      local a b
      a=$(post_text /v1/events '{"type":"app.created","org":"acme","app":"first-agent-app","network":"net-a"}')
      b=$(curl -s --max-time 5 --unix-socket "$SG_WORK/second.sock" -d \
        '{"type":"app.created","org":"acme","app":"second-agent-app","network":"net-a"}' http://x/v1/events)
      echo "    first agent: $(sg_body_of "$a")   second agent: $b"
      echo "    app IDs: $("$SIXGUARD" apps --socket "$SG_WORK/api.sock" | grep agent-app | tr -s ' ' | tr '\n' ';')" \
        "/ $("$SIXGUARD" apps --socket "$SG_WORK/second.sock" | grep agent-app | tr -s ' ' | tr '\n' ';')"
      kill -KILL "$pid"
      wait "$pid" 2>/dev/null
      return
    fi
    wait "$pid"
    status=$?
    echo "    second agent: exit $status: $(grep -v '^$' "$out" | tail -n 1 | head -c 300)"
    sg_check "$what: exit 2 naming the first agent (PID $SG_AGENT_PID)" \
      test "$status" = 2 -a -n "$(grep -F "$SG_AGENT_PID" "$out")"
  }
  write_config "$second" "$STATE_DIR" "$SG_WORK/second.sock" 9540 9541
  try_second "same state_dir and bpffs" "$second"
  write_config "$second" "$SG_WORK/state-second" "$SG_WORK/second.sock" 9540 9541
  try_second "same bpffs, another state_dir" "$second"
  probe_stop 3
  case_end
  ensure_agent
}

# =====================================================================================
backup_state() { # stops the agent, copies its state, restarts it: a known-good state to restore
  sg_agent_stop TERM
  rm -rf "$SG_WORK/state-backup"
  cp -a "$STATE_DIR" "$SG_WORK/state-backup"
  sg_agent_start "$CONFIG" || { echo "FAIL: the agent did not restart"; exit 1; }
}
restore_state() { # stops whatever runs, puts the backup back, starts a fresh agent
  [ -n "$SG_AGENT_PID" ] && sg_agent_stop KILL
  rm -rf "$STATE_DIR"
  cp -a "$SG_WORK/state-backup" "$STATE_DIR"
  sg_agent_start "$CONFIG" || { echo "FAIL: the agent did not start on the restored state"; exit 1; }
}
not_ready_with_reason() { # /readyz on health_address: 503 with a reason in its body
  local r
  r=$(health /readyz)
  [ "${r%% *}" = 503 ] && [ -n "${r#* }" ]
}
start_refused() { # start_refused DESCRIPTION: a new agent must exit 2 saying why; maps unchanged
  local what=$1 maps_before out status
  maps_before=$(pinned_maps)
  out=$(ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$CONFIG" 2>&1)
  status=$?
  echo "    agent start: exit $status: $(grep -v '^$' <<<"$out" | tail -n 1 | head -c 300)"
  sg_check "$what: the agent refuses to start (exit 2)" test "$status" = 2
  sg_check "$what: the pinned maps are untouched" test "$maps_before" = "$(pinned_maps)"
}

case_db_deleted() {
  case_begin db_deleted "state.db (+ -wal, -shm) deleted or replaced under a running agent; empty state at start"
  backup_state
  CASE_PID=$SG_AGENT_PID
  BEFORE=$(snapshot)
  rss_reset
  probe_start
  rm -f "$STATE_DIR/state.db" "$STATE_DIR/state.db-wal" "$STATE_DIR/state.db-shm"
  sg_check "$CASE: /readyz 503 with a reason within 60 s of the deletion ($(health /readyz; true))" \
    wait_for 60 not_ready_with_reason
  echo "    /readyz: $(health /readyz)"
  local reply
  reply=$(post_text /v1/events '{"type":"app.created","org":"acme","app":"into-the-void","network":"net-a"}')
  show "$reply"
  sg_check "$CASE: an event is refused (503), never acknowledged into the void" status_code_is "$reply" 503
  probe_stop 3
  case_end
  # Restarted on the empty state while the pinned maps hold entries: exit 2, maps kept.
  sg_agent_stop TERM
  start_refused "$CASE: restart with state.db gone"
  : >"$STATE_DIR/state.db"
  start_refused "$CASE: restart with a 0-byte state.db"
  restore_state
  sg_check "$CASE: the restored state is the state before" test "$BEFORE" = "$(snapshot)"

  # Replaced: the same content under a new inode, as a restore from backup would do.
  CASE=db_replaced
  CASE_PID=$SG_AGENT_PID
  rss_reset
  probe_start
  sqlite3 "$STATE_DIR/state.db" ".backup '$SG_WORK/replacement.db'"
  mv "$SG_WORK/replacement.db" "$STATE_DIR/state.db"
  sg_check "$CASE: /readyz 503 with a reason within 60 s of the replacement" wait_for 60 not_ready_with_reason
  reply=$(post_text /v1/events '{"type":"app.created","org":"acme","app":"into-the-void","network":"net-a"}')
  show "$reply"
  sg_check "$CASE: an event is refused (503)" status_code_is "$reply" 503
  probe_stop 3
  case_end
  restore_state
  CASE=db_deleted
}

# =====================================================================================
# A large state: LB_NETS networks of LB_APPS_PER_NET apps, each app with LB_MACHINES machines
# (on interfaces that do not exist: the state holds them and they count against sg_machines,
# default 16384, but the kernel has no entry) and one Flycast address: by default 7,500 apps,
# 15,000 machines, 7,500 Flycast addresses. Then one batch destroys LB_DESTROY apps (the
# code of issue 11 took 29.6 s for it here, and /v1/status answered none of 21 samples).
LB_NETS=${LB_NETS:-25}
LB_APPS_PER_NET=${LB_APPS_PER_NET:-300}
LB_MACHINES=${LB_MACHINES:-2}
LB_DESTROY=${LB_DESTROY:-1900}
large_state_events() { # NDJSON of the large state, in batches of files $SG_WORK/large-N.json
  awk -v nets="$LB_NETS" -v apps="$LB_APPS_PER_NET" -v machines="$LB_MACHINES" -v dir="$SG_WORK" '
  BEGIN {
    for (n = 1; n <= nets; n++) {
      file = sprintf("%s/large-%03d.json", dir, n)
      printf "{\"type\":\"network.created\",\"org\":\"big\",\"network\":\"bn%d\",\"id\":\"%x:1\"}\n", n, 4096 + n > file
      for (a = 1; a <= apps; a++) {
        app = sprintf("ba-%d-%d", n, a)
        printf "{\"type\":\"app.created\",\"org\":\"big\",\"app\":\"%s\",\"network\":\"bn%d\"}\n", app, n > file
        for (m = 1; m <= machines; m++)
          printf "{\"type\":\"machine.started\",\"app\":\"%s\",\"machine\":\"bm-%d-%d-%d\",\"address\":\"fdaa:%x:1:0:%x:%x:0:2\",\"interface\":\"bx%d_%d_%d\"}\n", app, n, a, m, 4096 + n, a, m, n, a, m > file
        printf "{\"type\":\"flycast.allocated\",\"app\":\"%s\",\"address\":\"fdaa:%x:1:0:1:f1:%x:1\",\"network\":\"bn%d\"}\n", app, 4096 + n, a, n > file
      }
      close(file)
    }
  }'
}
case_large_batch() {
  local total_apps=$((LB_NETS * LB_APPS_PER_NET))
  sg_say "building the large state: $LB_NETS networks, $total_apps apps, $((total_apps * LB_MACHINES)) machines, $total_apps Flycast addresses"
  large_state_events
  local file reply start=$SECONDS
  for file in "$SG_WORK"/large-*.json; do
    reply=$(API_TIME=300 api POST /v1/events "$file")
    status_code_is "$reply" 200 || { show "$reply"; sg_fail "large_batch: building the state"; return; }
  done
  echo "    built in $((SECONDS - start)) s"
  case_begin large_batch "$LB_DESTROY app.destroyed in one batch over that state"
  local kept_before
  kept_before=$(bpftool map dump pinned "$SG_BPFFS/sixguard/sg_machines" 2>&1 | sort)
  awk -v nets="$LB_NETS" -v apps="$LB_APPS_PER_NET" -v count="$LB_DESTROY" 'BEGIN {
    printf "["; k = 0
    for (a = 1; a <= apps && k < count; a++) for (n = 1; n <= nets && k < count; n++) {
      printf "%s{\"type\":\"app.destroyed\",\"app\":\"ba-%d-%d\"}", (k ? "," : ""), n, a; k++ }
    print "]" }' >"$SG_WORK/destroy.json"
  probe_start
  local t0 t1
  t0=$(date +%s.%N)
  reply=$(API_TIME=300 api POST /v1/events "$SG_WORK/destroy.json")
  t1=$(date +%s.%N)
  show "$reply"
  echo "    the batch took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s"
  sg_check "$CASE: 200 with applied=$LB_DESTROY" \
    test "$(sg_status_of "$reply")" = 200 -a -n "$(sg_body_of "$reply" | grep -F "\"applied\":$LB_DESTROY")"
  probe_stop 3
  local apps_now
  apps_now=$(sg_body_of "$(api GET /v1/status)" | sed -nE 's/.*"state":\{[^}]*"apps":([0-9]+).*/\1/p')
  echo "    apps in the state now: $apps_now"
  sg_check "$CASE: the apps destroyed are gone, the others stay" test "$apps_now" = "$((total_apps + 4 - LB_DESTROY))"
  sg_check "$CASE: the kernel's machine entries (real interfaces only) unchanged" \
    test "$kept_before" = "$(bpftool map dump pinned "$SG_BPFFS/sixguard/sg_machines" 2>&1 | sort)"
  case_end changed
  ensure_agent
}

# =====================================================================================
case_big_bodies() {
  case_begin big_bodies "15 MB org name, 1 MB app name, 16 MB of [[],[],...] to /v1/explain, 40 MB body"
  probe_start
  { printf '{"type":"network.created","org":"'; repeat a 15000000; printf '","network":"n","id":"e:1"}'; } \
    >"$SG_WORK/big.json"
  local reply
  reply=$(api POST /v1/events "$SG_WORK/big.json")
  show "$reply"
  sg_check "$CASE: a 15 MB org name -> 400" status_code_is "$reply" 400
  { printf '{"type":"app.created","org":"acme","app":"'; repeat b 1000000; printf '","network":"net-a"}'; } \
    >"$SG_WORK/big.json"
  reply=$(api POST /v1/events "$SG_WORK/big.json")
  show "$reply"
  sg_check "$CASE: a 1 MB app name -> 400" status_code_is "$reply" 400
  { printf '%s' "$(printf 'a%.0s' $(seq 1 64))" | sed 's/.*/{"type":"app.created","org":"acme","app":"&","network":"net-a"}/'; } \
    >"$SG_WORK/big.json"
  reply=$(api POST /v1/events "$SG_WORK/big.json")
  show "$reply"
  sg_check "$CASE: a 64-byte app name -> 400" status_code_is "$reply" 400
  # 16 MB of empty arrays: each costs a JSON value when parsed in full.
  { printf '['; repeat , 5333333 | sed 's/,/[],/g'; printf '[]]'; } >"$SG_WORK/big.json"
  rss_reset
  local hwm_before
  hwm_before=$(rss_kb VmHWM)
  reply=$(api POST /v1/explain "$SG_WORK/big.json")
  show "$reply"
  local grew=$(( ($(rss_kb VmHWM) - hwm_before) / 1024 )) size=$(( $(stat -c %s "$SG_WORK/big.json") / 1048576 ))
  sg_check "$CASE: $size MiB of [[],[],...] to /v1/explain -> 400" status_code_is "$reply" 400
  # Proportional: at most 4 copies of the body (socket buffer, parser, request, handler).
  sg_check "$CASE: the peak RSS grew by $grew MiB for it (at most 4 x $size MiB)" test "$grew" -le $((4 * size))
  { printf '{"type":"app.created","org":"acme","app":"x","network":"net-a","pad":"'; repeat p 40000000; printf '"}'; } \
    >"$SG_WORK/big.json"
  reply=$(api POST /v1/events "$SG_WORK/big.json")
  show "$reply"
  sg_check "$CASE: a 40 MB body -> 413" status_code_is "$reply" 413
  rm -f "$SG_WORK/big.json"
  probe_stop 3
  case_end
  ensure_agent
}

# =====================================================================================
case_strings() {
  case_begin strings "NUL and control characters, invalid UTF-8, duplicate keys"
  probe_start
  local a=fdaa:a:1:0:1:0:9:2 reply # net-a, a /112 no machine owns
  expect_400() { # expect_400 DESCRIPTION PATH BODY
    reply=$(post_text "$2" "$3")
    show "$reply"
    sg_check "$CASE: $1 -> 400" status_code_is "$reply" 400
  }
  expect_400 'an address followed by \u0000garbage' /v1/events \
    '{"type":"machine.started","app":"app-a1","machine":"m9","address":"'"$a"'\u0000garbage","interface":"x9"}'
  expect_400 'a Flycast address followed by \u0000' /v1/events \
    '{"type":"flycast.allocated","app":"app-a1","address":"fdaa:b:1:0:1:f1:0:9\u0000","network":"net-b"}'
  expect_400 'an app name with \u0001' /v1/events \
    '{"type":"app.created","org":"acme","app":"ctl\u0001x","network":"net-a"}'
  expect_400 'an explain address followed by \u0000' /v1/explain \
    '{"src":"'"${SG_ADDR[m1]}"'\u0000x","dst":"'"${SG_ADDR[m2]}"'"}'
  expect_400 'a duplicate key ("app" twice)' /v1/events \
    '{"type":"app.created","org":"acme","app":"dup-a","app":"dup-b","network":"net-a"}'
  expect_400 'a duplicate "type"' /v1/events \
    '{"type":"app.destroyed","type":"app.created","org":"acme","app":"dup-c","network":"net-a"}'
  expect_400 'a duplicate key in explain' /v1/explain \
    '{"src":"'"${SG_ADDR[m1]}"'","src":"'"${SG_ADDR[m3]}"'","dst":"'"${SG_ADDR[m2]}"'"}'
  expect_400 'invalid UTF-8 in an org name' /v1/events \
    "$(printf '{"type":"network.created","org":"\xc3\x28","network":"n","id":"e:2"}')"
  expect_400 'a raw control character in a name' /v1/events \
    "$(printf '{"type":"app.created","org":"acme","app":"tab\tx","network":"net-a"}')"
  expect_400 'an interface name that is not a Linux name' /v1/events \
    '{"type":"machine.started","app":"app-a1","machine":"m9","address":"'"$a"'","interface":"a/b"}'
  probe_stop 3
  case_end
  ensure_agent
}

# =====================================================================================
case_db_errors() {
  case_begin db_corrupt "state.db corrupted under a running agent"
  backup_state
  CASE_PID=$SG_AGENT_PID
  BEFORE=$(snapshot)
  rss_reset
  local log_lines reply
  log_lines=$(wc -l <"$SG_WORK/agent.log")
  probe_start
  # Everything into the main file (a second connection may checkpoint; the WAL file stays,
  # emptied), then garbage over the file's pages in place: same inodes, the database is
  # corrupt, not gone or replaced.
  sqlite3 "$STATE_DIR/state.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  local pages=$(( $(stat -c %s "$STATE_DIR/state.db") / 4096 ))
  dd if=/dev/urandom of="$STATE_DIR/state.db" bs=4096 count="$pages" conv=notrunc status=none
  reply=$(post_text /v1/events '{"type":"app.created","org":"acme","app":"onto-garbage","network":"net-a"}')
  show "$reply"
  sg_check "$CASE: the commit fails (500 or 503), never 200" status_code_is "$reply" 500 503
  sg_check "$CASE: /readyz 503 with a reason" wait_for 60 not_ready_with_reason
  echo "    /readyz: $(health /readyz)"
  sg_check "$CASE: an ERROR is logged" wait_for 60 sh -c "tail -n +$((log_lines + 1)) '$SG_WORK/agent.log' | grep -q ERROR"
  tail -n +$((log_lines + 1)) "$SG_WORK/agent.log" | grep ERROR | head -n 2 | sed 's/^/    /'
  probe_stop 3
  case_end
  restore_state

  # Disk full: state_dir on a small tmpfs, filled up.
  CASE=db_full
  sg_agent_stop TERM
  TMPFS_MOUNT="$SG_WORK/small-state"
  mkdir -p "$TMPFS_MOUNT"
  # Room for the state and 4 MiB more: the filler takes the rest.
  mount -t tmpfs -o size=$(( $(du -sm "$STATE_DIR" | cut -f1) + 4 ))m tmpfs "$TMPFS_MOUNT" || { sg_fail "$CASE: cannot mount a tmpfs"; restore_state; return; }
  cp -a "$STATE_DIR/." "$TMPFS_MOUNT/"
  write_config "$SG_WORK/full.yaml" "$TMPFS_MOUNT"
  sg_agent_start "$SG_WORK/full.yaml" || { sg_fail "$CASE: agent did not start on the tmpfs"; }
  CASE_PID=$SG_AGENT_PID
  BEFORE=$(snapshot)
  rss_reset
  log_lines=$(wc -l <"$SG_WORK/agent.log")
  probe_start
  dd if=/dev/zero of="$TMPFS_MOUNT/filler" bs=64k status=none 2>/dev/null
  awk 'BEGIN {printf "["; for (i = 1; i <= 400; i++) printf "%s{\"type\":\"app.created\",\"org\":\"acme\",\"app\":\"full-%d\",\"network\":\"net-a\"}", (i > 1 ? "," : ""), i; print "]"}' \
    >"$SG_WORK/full-batch.json"
  reply=$(api POST /v1/events "$SG_WORK/full-batch.json")
  show "$reply"
  sg_check "$CASE: the commit fails (500 or 503), never 200" status_code_is "$reply" 500 503
  sg_check "$CASE: /readyz 503 with a reason" wait_for 60 not_ready_with_reason
  echo "    /readyz: $(health /readyz)"
  sg_check "$CASE: an ERROR is logged" wait_for 60 sh -c "tail -n +$((log_lines + 1)) '$SG_WORK/agent.log' | grep -q ERROR"
  probe_stop 3
  case_end
  # Space again: the state can be committed, so the agent is ready and takes the batch.
  rm -f "$TMPFS_MOUNT/filler"
  sg_check "$CASE: ready again within 60 s of space coming back" wait_for 60 sh -c \
    "[ \"\$(ip netns exec $SG_HOST curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:$HEALTH_PORT/readyz)\" = 200 ]"
  reply=$(api POST /v1/events "$SG_WORK/full-batch.json")
  show "$reply"
  sg_check "$CASE: with space again, the batch is applied (200)" status_code_is "$reply" 200
  sg_agent_stop KILL
  umount "$TMPFS_MOUNT" && TMPFS_MOUNT=""
  restore_state
  CASE=db_errors
}

# =====================================================================================
case_lo() {
  case_begin lo "machine.started on lo and on the uplink"
  probe_start
  local reply name n=6
  for name in lo "$UPLINK"; do
    n=$((n + 1))
    reply=$(post_text /v1/events "$(sg_machine_started app-a1 "m$n" "fdaa:a:1:0:1:0:$n:2" "$name")")
    show "$reply"
    sg_check "$CASE: a machine on '$name' is refused (400 or 422)" status_code_is "$reply" 400 422
  done
  local a=fdaa:a:1:0:1:0:9:2
  # The daemon attaches what a batch touched, in order: once a machine started after these is
  # attached, an attachment to lo or the uplink would have been made too.
  reply=$(post_text /v1/events "$(sg_machine_started app-a1 m5 "$a" "$(sg_if m5)")")
  sg_check "$CASE: a machine on a real interface after them is attached" sg_wait_attached "$(sg_if m5)"
  sg_check "$CASE: no XDP or TC program of ours on lo" sg_detached lo
  sg_check "$CASE: no machine hooks on the uplink" sg_not sg_attached "$UPLINK"
  reply=$(post_text /v1/events '{"type":"machine.stopped","machine":"m5"}') # back to the state before
  probe_stop 3
  case_end
  ensure_agent
}

# =====================================================================================
case_sighup() {
  case_begin sighup "SIGHUP"
  probe_start
  local i handled
  handled=$(grep -c 'received SIGHUP' "$SG_WORK/agent.log")
  for i in 1 2 3; do
    kill -HUP "$SG_AGENT_PID" 2>/dev/null
    sleep 0.5
  done
  sg_check "$CASE: still serving after 3 SIGHUPs" wait_for 60 sh -c \
    "curl -s -o /dev/null --max-time 1 --unix-socket '$SG_WORK/api.sock' http://x/v1/status"
  sg_check "$CASE: the API socket file is still there and answers" test -S "$SG_WORK/api.sock"
  # DESIGN §5: SIGHUP runs a check now; the agent says so in its log.
  sg_check "$CASE: the agent logged that it handled them" wait_for 60 sh -c \
    "[ \$(grep -c 'received SIGHUP' '$SG_WORK/agent.log') -ge $((handled + 1)) ]"
  probe_stop 5
  case_end
  if ! alive; then
    wait "$SG_AGENT_PID" 2>/dev/null
    echo "    the agent exited with status $?; log tail: $(tail -n 2 "$SG_WORK/agent.log" | tr '\n' ' ')"
    [ -S "$SG_WORK/api.sock" ] && echo "    and left its socket file behind"
  fi
  ensure_agent
}

# =====================================================================================
sg_say "topology and agent"
sg_topology || { echo "FAIL: could not build the topology"; exit 1; }
sg_ns "$SG_PREFIX-up" && sg_link "$SG_PREFIX-up" "$UPLINK" fdaa:ffff::1 \
  || { echo "FAIL: could not build the uplink"; exit 1; }
# m5: an interface with no machine yet (case lo starts one on it).
sg_ns "$SG_PREFIX-m5" && sg_link "$SG_PREFIX-m5" "$(sg_if m5)" fdaa:a:1:0:1:0:9:2 fdaa:a:1:0:1:0:9:0/112 \
  || { echo "FAIL: could not build m5"; exit 1; }
write_config "$CONFIG"
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not start"; exit 1; }
sg_write_events "$SG_WORK/events.json"
reply=$(api POST /v1/events "$SG_WORK/events.json")
status_code_is "$reply" 200 || { show "$reply"; echo "FAIL: the platform's events"; exit 1; }
for m in "${SG_MACHINES[@]}"; do sg_wait_attached "$(sg_if "$m")" || echo "FAIL: $m not attached"; done

ALL=(nesting slow_clients two_agents db_deleted big_bodies strings lo sighup db_errors large_batch)
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=("${ALL[@]}")
for c in "${CASES[@]}"; do
  declare -F "case_$c" >/dev/null || { echo "unknown case '$c' (cases: ${ALL[*]})"; exit 2; }
  "case_$c"
done

sg_finish hostile
