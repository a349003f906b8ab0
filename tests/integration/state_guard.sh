#!/usr/bin/env bash
# One agent per state, and the state database watched (DESIGN §4 readiness, §5 "One agent per
# state", SIGHUP), with the real agent, real files, a real tmpfs and the real pinned maps:
#  - a second agent on the same state_dir and pins refuses to start (exit 2) naming the
#    first's PID; so does one sharing only the pins; --uninstall refuses while one runs;
#  - SIGHUP: the agent goes on, answers, logs the check, and repairs a map entry removed
#    behind its back (a full reconcile by difference); SIGTERM removes the socket file;
#  - an empty state (state.db missing, or 0 bytes) with populated pins is refused (exit 2)
#    and the maps are left as they were;
#  - the disk of state_dir full: 503 for the batch, nothing applied, /readyz not ready with
#    the reason, an ERROR line; it recovers once there is room again;
#  - a corrupt state.db (found by SIGHUP's integrity check): not ready, 503, ERROR;
#  - state.db deleted under the running agent: /readyz not ready with the reason, events 503,
#    maps unchanged, what it holds saved aside; the restart that follows is refused rather
#    than wipe the maps; with the saved copy moved into place it starts and goes on.
#   usage: state_guard.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: state_guard.sh PATH/TO/sixguard}
SG_PREFIX=sg-state-$$
source "$(dirname "$0")/lib.sh"
sg_begin jq sqlite3

SG_STATE_MOUNT=""
state_cleanup() {
  local status=$?
  [ -n "$SG_STATE_MOUNT" ] && mountpoint -q "$SG_STATE_MOUNT" && umount "$SG_STATE_MOUNT"
  sg_cleanup
  return $status
}
trap state_cleanup EXIT

sg_host_create || { echo "FAIL: could not create the host namespace"; exit 1; }
# state_dir on a small tmpfs of its own, so that the test can fill it.
SG_STATE_MOUNT="$SG_WORK/state"
mkdir -p "$SG_STATE_MOUNT"
mount -t tmpfs -o size=8m,mode=0700 "sg-state-$$" "$SG_STATE_MOUNT" ||
  { echo "FAIL: cannot mount a tmpfs for state_dir"; exit 1; }
STATE=$SG_STATE_MOUNT
LOG=$SG_WORK/agent.log
CONFIG=$SG_WORK/config.yaml
sg_write_config "$CONFIG"
PINS=$SG_BPFFS/sixguard

entries() { # entries MAP: how many entries the pinned map holds, read with bpftool
  bpftool map dump pinned "$PINS/$1" -j 2>/dev/null | jq length
}
readyz() { sg_metrics /readyz; }
readyz_code() {
  ip netns exec "$SG_HOST" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://127.0.0.1:$SG_METRICS_PORT/readyz"
}
not_ready_with() { [ "$(readyz_code)" = 503 ] && readyz | grep -q -- "$1"; }
log_has() { grep -q -- "$1" "$LOG"; }
# A start that must end by itself (refused): the agent run in the foreground on a fresh
# $LOG (the previous one kept in agent-all.log), its exit status in $status.
start_expecting_exit() {
  cat "$LOG" >>"$SG_WORK/agent-all.log"; : >"$LOG"
  ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$CONFIG" >>"$LOG" 2>&1
  status=$?
}
log_count() { grep -c -- "$1" "$LOG"; }
ready_now() { [ "$(readyz_code)" = 200 ]; }
checks_logged_beyond() { [ "$(log_count "check done:")" -gt "$1" ]; } # SIGHUP checks in the log
# run_second CONFIG [ARGS...]: runs another agent in the foreground; prints its exit status.
# A second agent that does not refuse would run until the timeout (status 124: a failure).
run_second() {
  local config=$1
  shift
  ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$config" "$@" \
    >>"$SG_WORK/second.log" 2>&1
  local status=$?
  cat "$SG_WORK/second.log" >>"$SG_WORK/second-all.log"
  echo $status
}
flycast_events() { # flycast_events FILE FIRST COUNT: COUNT flycast.allocated events in net-a
  local file=$1 first=$2 count=$3 i
  : >"$file"
  for ((i = first; i < first + count; i++)); do
    printf '{"type":"flycast.allocated","app":"app-a1","address":"fdaa:a:1:0:1:f1:%x:%x","network":"net-a"}\n' \
      $((i / 65536)) $((i % 65536)) >>"$file"
  done
}

# One machine interface in the host namespace (a veth whose peer stays there too: no traffic
# is needed, only the attachments).
MIF=$(sg_if m1)
ip -n "$SG_HOST" link add "$MIF" type veth peer name "${SG_IFP}p1" &&
  ip -n "$SG_HOST" link set "$MIF" up && ip -n "$SG_HOST" link set "${SG_IFP}p1" up ||
  { echo "FAIL: cannot create the machine interface"; exit 1; }
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not start"; exit 1; }
first_pid=$SG_AGENT_PID
cat >"$SG_WORK/base.json" <<JSON
{"type":"network.created","org":"acme","network":"net-a","id":"a:1"}
{"type":"app.created","org":"acme","app":"app-a1","network":"net-a"}
$(sg_machine_started app-a1 m1 fdaa:a:1:0:1:0:1:2 "$MIF")
JSON
flycast_events "$SG_WORK/fly1.json" 1 200
cat "$SG_WORK/fly1.json" >>"$SG_WORK/base.json"
reply=$(sg_api POST /v1/events "$SG_WORK/base.json")
sg_check "base events applied ($(sg_body_of "$reply"))" test "$(sg_status_of "$reply")" = 200
sg_check "200 flycast entries in the pinned map" test "$(entries sg_flycast)" = 200
sg_check "the machine interface attached" sg_wait_attached "$MIF"
sg_check "its sg_machines entry" test "$(entries sg_machines)" = 1

# ---- one agent per state ----
sg_say "second agents"
sg_check "lock file names the agent's PID" test "$(cat "$STATE/agent.lock")" = "$first_pid"
: >"$SG_WORK/second.log"
status=$(run_second "$CONFIG")
sg_check "a second agent on the same state_dir and pins exits 2 (got $status)" test "$status" = 2
sg_check "and names the first's PID $first_pid" \
  grep -q "agent.lock is locked by another sixguard agent (PID $first_pid)" "$SG_WORK/second.log"
# Another state_dir and socket, the same pins: refused on the pin directory.
mkdir -p "$SG_WORK/state2"
sg_write_config "$SG_WORK/config2.yaml"
sed -i -e "s|^state_dir: .*|state_dir: $SG_WORK/state2|" -e "s|^api_socket: .*|api_socket: $SG_WORK/api2.sock|" \
  -e "s|^metrics_address: .*|metrics_address: \"127.0.0.1:$((SG_METRICS_PORT + 1))\"|" \
  "$SG_WORK/config2.yaml"
: >"$SG_WORK/second.log"
status=$(run_second "$SG_WORK/config2.yaml")
sg_check "an agent sharing only the pins exits 2 (got $status)" test "$status" = 2
sg_check "and names the first's PID $first_pid on the pin directory" \
  grep -q "pin directory $PINS is locked by another sixguard agent (PID $first_pid)" "$SG_WORK/second.log"
: >"$SG_WORK/second.log"
ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$CONFIG" --uninstall >>"$SG_WORK/second.log" 2>&1
status=$?
sg_check "--uninstall refuses while the agent runs: exit 2 (got $status)" test "$status" = 2
sg_check "--uninstall names the PID" grep -q "(PID $first_pid)" "$SG_WORK/second.log"
sg_check "the first agent still runs" kill -0 "$first_pid"
sg_check "state.db, lock and pins untouched" \
  test -s "$STATE/state.db" -a -e "$STATE/agent.lock" -a "$(entries sg_flycast)" = 200
sg_check "the first agent still ready" test "$(readyz_code)" = 200

# ---- SIGHUP: a check, never a stop ----
sg_say "SIGHUP"
key=$(bpftool map dump pinned "$PINS/sg_flycast" -j | jq -r '.[0].key | map(ltrimstr("0x")) | join(" ")')
bpftool map delete pinned "$PINS/sg_flycast" key hex $key
sg_check "an entry removed behind the agent's back (199 left)" test "$(entries sg_flycast)" = 199
checks_before=$(log_count "check done:")
kill -HUP "$first_pid"
sg_check "SIGHUP: the check is logged" wait_for 60 checks_logged_beyond "$checks_before"
sg_check "SIGHUP: the agent still runs" kill -0 "$first_pid"
sg_check "SIGHUP: log says what was checked" log_has "received SIGHUP: checking the state database, the maps and the attachments"
sg_check "SIGHUP: the removed entry is back (200)" test "$(entries sg_flycast)" = 200
# Our programs removed from the machine interface behind the agent's back.
ip -n "$SG_HOST" link set dev "$MIF" xdp off
ip netns exec "$SG_HOST" tc qdisc del dev "$MIF" clsact
sg_check "programs removed behind the agent's back" sg_detached "$MIF"
checks_before=$(log_count "check done:")
kill -HUP "$first_pid"
sg_check "second SIGHUP: the check is logged" wait_for 60 checks_logged_beyond "$checks_before"
sg_check "second SIGHUP: the programs are back on $MIF" sg_attached "$MIF"
sg_check "second SIGHUP: the agent still runs" kill -0 "$first_pid"
reply=$(sg_api GET /v1/apps)
sg_check "SIGHUP: the API still answers" test "$(sg_status_of "$reply")" = 200
sg_check "SIGHUP: still ready" test "$(readyz_code)" = 200
sg_check "SIGHUP: the socket file is there" test -S "$SG_WORK/api.sock"

# ---- SIGTERM: a clean stop, the socket file removed ----
sg_agent_stop TERM
status=$?
sg_check "SIGTERM: exit 0 (got $status)" test "$status" = 0
sg_check "SIGTERM: socket file removed" test ! -e "$SG_WORK/api.sock"
sg_check "pins kept (200 flycast entries)" test "$(entries sg_flycast)" = 200

# ---- empty state with populated pins: refused ----
sg_say "empty state refused"
mkdir -p "$SG_WORK/saved"
cp -a "$STATE"/state.db* "$SG_WORK/saved/"
rm -f "$STATE"/state.db*
start_expecting_exit
sg_check "state.db missing, pins populated: exit 2 (got $status)" test "$status" = 2
sg_check "says why (missing at start, 200 flycast)" \
  log_has "ERROR agent: refusing to start: the persisted state $STATE/state.db is empty (it is missing) but the maps pinned in $PINS hold 201 entries (1 machines, 200 flycast, 0 network flags)"
sg_check "says how to recover" log_has "accept-empty-state"
sg_check "maps untouched (200 flycast entries)" test "$(entries sg_flycast)" = 200
sg_check "no state.db left behind by the refusal" test ! -e "$STATE/state.db"
rm -f "$STATE"/state.db*
: >"$STATE/state.db"
start_expecting_exit
sg_check "state.db of 0 bytes, pins populated: exit 2 (got $status)" test "$status" = 2
sg_check "says 0 bytes" log_has "is empty (it is 0 bytes)"
sg_check "maps untouched (200 flycast entries)" test "$(entries sg_flycast)" = 200
# A database with its schema but no rows (what a wiped or re-initialised state looks like).
rm -f "$STATE"/state.db*
sqlite3 "$SG_WORK/saved/state.db" .schema | sqlite3 "$STATE/state.db"
start_expecting_exit
sg_check "state.db without rows, pins populated: exit 2 (got $status)" test "$status" = 2
sg_check "says no rows" log_has "is empty (it holds no rows)"
sg_check "maps untouched (200 flycast entries)" test "$(entries sg_flycast)" = 200
rm -f "$STATE"/state.db*
cp -a "$SG_WORK/saved"/state.db* "$STATE/"
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not start on the restored state"; exit 1; }
sg_check "restored state: started, 200 entries" test "$(entries sg_flycast)" = 200

# ---- the disk of state_dir full ----
sg_say "state_dir full"
dd if=/dev/zero of="$STATE/filler" bs=64k >/dev/null 2>&1 # until ENOSPC
flycast_events "$SG_WORK/fly2.json" 1000 3000
reply=$(sg_api POST /v1/events "$SG_WORK/fly2.json")
sg_check "full disk: the batch answered 503 (got $(sg_status_of "$reply"))" test "$(sg_status_of "$reply")" = 503
sg_check "full disk: the answer says nothing was applied" grep -q "nothing was applied" <<<"$reply"
sg_check "full disk: nothing reached the maps (200 entries)" test "$(entries sg_flycast)" = 200
sg_check "full disk: /readyz not ready, with the reason" not_ready_with "cannot be written"
sg_check "full disk: an ERROR line" log_has "ERROR state: state database $STATE/state.db cannot be written"
sg_check "full disk: the agent runs" kill -0 "$SG_AGENT_PID"
rm -f "$STATE/filler"
sg_check "room again: ready again" wait_for 60 ready_now
sg_check "room again: logged" log_has "INFO  state: state database $STATE/state.db commits again"
reply=$(sg_api POST /v1/events "$SG_WORK/fly2.json")
sg_check "room again: the batch applied (3000)" test "$(sg_status_of "$reply")" = 200
sg_check "room again: 3200 entries" test "$(entries sg_flycast)" = 3200

# ---- corrupt state.db, found by the integrity check SIGHUP runs ----
sg_say "corrupt state.db"
sg_agent_stop TERM # a clean stop checkpoints the WAL into state.db: what follows reads the file
cp -a "$STATE"/state.db* "$SG_WORK/saved/"
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not restart"; exit 1; }
size=$(stat -c %s "$STATE/state.db")
# Every page but the first (the header) overwritten with garbage, in place.
dd if=/dev/urandom of="$STATE/state.db" bs=4096 seek=1 count=$((size / 4096 - 1)) conv=notrunc \
  >/dev/null 2>&1
checks_before=$(log_count "check done:")
kill -HUP "$SG_AGENT_PID"
sg_check "corrupt: SIGHUP check done" wait_for 60 checks_logged_beyond "$checks_before"
sg_check "corrupt: /readyz not ready, with the reason" not_ready_with "is corrupt"
sg_check "corrupt: an ERROR line" log_has "ERROR state: state database $STATE/state.db is corrupt"
flycast_events "$SG_WORK/fly3.json" 5000 10
reply=$(sg_api POST /v1/events "$SG_WORK/fly3.json")
sg_check "corrupt: events answered 503 (got $(sg_status_of "$reply"))" test "$(sg_status_of "$reply")" = 503
sg_check "corrupt: maps unchanged (3200)" test "$(entries sg_flycast)" = 3200
sg_agent_stop TERM
start_expecting_exit
sg_check "corrupt at start: refused, exit 2 (got $status)" test "$status" = 2
sg_check "corrupt at start: says why and how to recover" \
  log_has "ERROR agent: refusing to start: the state database is corrupt (sqlite step"
sg_check "corrupt at start: maps unchanged (3200)" test "$(entries sg_flycast)" = 3200
rm -f "$STATE"/state.db*
cp -a "$SG_WORK/saved"/state.db* "$STATE/"

# ---- state.db deleted under the running agent ----
sg_say "state.db deleted under the agent"
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not restart"; exit 1; }
rm -f "$STATE/state.db" "$STATE/state.db-wal" "$STATE/state.db-shm"
sg_check "deleted: /readyz not ready, with the reason" wait_for 60 not_ready_with "was deleted under the running agent"
sg_check "deleted: an ERROR line" log_has "ERROR state: state database $STATE/state.db"
reply=$(sg_api POST /v1/events "$SG_WORK/fly3.json")
sg_check "deleted: events answered 503 (got $(sg_status_of "$reply"))" test "$(sg_status_of "$reply")" = 503
sg_check "deleted: maps unchanged (3200)" test "$(entries sg_flycast)" = 3200
sg_check "deleted: state.db not re-created by the agent" test ! -e "$STATE/state.db"
reply=$(sg_api GET /v1/apps)
sg_check "deleted: reads still answer" test "$(sg_status_of "$reply")" = 200
recovered=$(ls "$STATE"/state.db.recovered-* 2>/dev/null | head -n 1)
sg_check "deleted: the state the agent holds saved to $recovered" test -s "$recovered"
sg_check "deleted: the reason names the saved copy" not_ready_with "saved to $recovered"
sg_agent_stop TERM
start_expecting_exit
sg_check "after the deletion, the restart is refused: exit 2 (got $status)" test "$status" = 2
sg_check "maps still unchanged (3200)" test "$(entries sg_flycast)" = 3200
mv "$recovered" "$STATE/state.db"
sg_agent_start "$CONFIG" || { echo "FAIL: agent did not start on the saved copy"; exit 1; }
sg_check "saved copy: the agent starts on it with nothing to repair" \
  grep -q "loaded $STATE/state.db: 1 networks, 1 apps, 1 machines, 3200 flycast addresses" "$LOG"
sg_check "saved copy: maps unchanged (3200)" test "$(entries sg_flycast)" = 3200
reply=$(sg_api POST /v1/events "$SG_WORK/fly3.json")
sg_check "saved copy: events accepted again ($(sg_body_of "$reply"))" test "$(sg_status_of "$reply")" = 200
sg_check "saved copy: 3210 entries" test "$(entries sg_flycast)" = 3210
sg_agent_stop TERM

# ---- --uninstall with no agent: takes the locks, removes everything ----
ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$CONFIG" --uninstall >>"$SG_WORK/second.log" 2>&1
status=$?
sg_check "--uninstall with no agent: exit 0 (got $status)" test "$status" = 0
sg_check "--uninstall removed pins, state and lock" \
  test ! -e "$PINS" -a ! -e "$STATE/state.db" -a ! -e "$STATE/agent.lock"

# ---- two agents started at the same instant: exactly one runs ----
sg_say "two agents at once"
cat "$LOG" >>"$SG_WORK/agent-all.log"; : >"$LOG"
ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$CONFIG" >>"$LOG" 2>&1 &
agent_a=$!
ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$CONFIG" >>"$LOG" 2>&1 &
agent_b=$!
SG_PIDS+=("$agent_a" "$agent_b") # killed on every exit path
wait -n "$agent_a" "$agent_b"
status=$?
sg_check "at once: the first to exit exits 2 (got $status)" test "$status" = 2
if kill -0 "$agent_a" 2>/dev/null; then SG_AGENT_PID=$agent_a; else SG_AGENT_PID=$agent_b; fi
sg_check "at once: the other one becomes ready" sg_wait_ready
sg_check "at once: the refusal names the one that runs (PID $SG_AGENT_PID)" \
  log_has "is locked by another sixguard agent (PID $SG_AGENT_PID)"
sg_agent_stop TERM
status=$?
sg_check "at once: the one that ran stops with 0 (got $status)" test "$status" = 0

if [ "$SG_FAILURES" -ne 0 ]; then
  echo "---- agent log (tail)"
  tail -n 40 "$LOG"
  echo "---- second agents' log"
  cat "$SG_WORK/second-all.log" "$SG_WORK/second.log"
  echo "FAILED: $SG_FAILURES check(s)"
  exit 1
fi
echo "PASS"
