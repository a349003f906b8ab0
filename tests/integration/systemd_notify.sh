#!/usr/bin/env bash
# Test the agent's readiness notification for systemd's Type=notify, without systemd: the agent
# runs with NOTIFY_SOCKET pointing at a datagram socket this test listens on (socat).
#  - READY=1 arrives, and when it does /readyz already answers 200 and the known machine's
#    interface is attached (restart with a persisted machine: READY=1 waits for the attach);
#  - STATUS= lines say what the agent is doing; STOPPING=1 arrives on SIGTERM, exit 0.
#   usage: systemd_notify.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: systemd_notify.sh PATH/TO/sixguard}
source "$(dirname "$0")/lib.sh"
sg_begin

sg_host_create || { echo "FAIL: could not create the host namespace"; exit 1; }
sg_ns "$SG_PREFIX-m1" && sg_link "$SG_PREFIX-m1" "$(sg_if m1)" fdaa:a:1:0:1:0:1:2 fdaa:a:1:0:1:0:1:0/112 ||
  { echo "FAIL: could not create the machine"; exit 1; }
sg_write_config "$SG_WORK/config.yaml"

NOTIFY_SOCKET_PATH="$SG_WORK/notify.sock"
NOTIFY_LOG="$SG_WORK/notify.log"
: >"$NOTIFY_LOG"
# Each datagram the agent sends is appended to the log as it arrives.
sg_spawn socat -u UNIX-RECV:"$NOTIFY_SOCKET_PATH" OPEN:"$NOTIFY_LOG",append
wait_for 60 test -S "$NOTIFY_SOCKET_PATH" || { echo "FAIL: socat did not bind $NOTIFY_SOCKET_PATH"; exit 1; }

start_notified_agent() {
  : >"$NOTIFY_LOG"
  echo "---- agent start $(date +%T.%N)" >>"$SG_WORK/agent.log"
  ip netns exec "$SG_HOST" env NOTIFY_SOCKET="$NOTIFY_SOCKET_PATH" \
    "$SIXGUARD" agent --config "$SG_WORK/config.yaml" >>"$SG_WORK/agent.log" 2>&1 &
  SG_AGENT_PID=$!
}
# wait_for_line LINE: until the notify log holds LINE; up to 60 s (loading the programs took
# 8 s on a loaded 2-core machine), and a dead agent ends the wait unless the line is there.
wait_for_line() {
  local i
  for i in $(seq 1 600); do
    grep -qx "$1" "$NOTIFY_LOG" && return 0
    if [ -n "$SG_AGENT_PID" ] && ! kill -0 "$SG_AGENT_PID" 2>/dev/null; then
      sleep 0.2
      grep -qx "$1" "$NOTIFY_LOG"
      return
    fi
    sleep 0.1
  done
  return 1
}
readyz() {
  ip netns exec "$SG_HOST" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://127.0.0.1:$SG_METRICS_PORT/readyz"
}

# ---- a fresh agent ----
start_notified_agent
sg_check "READY=1 arrives" wait_for_line READY=1
sg_check "when READY=1 arrived, /readyz answered 200" test "$(readyz)" = 200
sg_check "STATUS=ready came with it" grep -qx STATUS=ready "$NOTIFY_LOG"
cat >"$SG_WORK/events.json" <<JSON
{"type":"network.created","org":"acme","network":"net-a","id":"a:1"}
{"type":"app.created","org":"acme","app":"app-a1","network":"net-a"}
$(sg_machine_started app-a1 m1 fdaa:a:1:0:1:0:1:2 "$(sg_if m1)")
JSON
sg_check "events applied" test "$(sg_status_of "$(sg_api POST /v1/events "$SG_WORK/events.json")")" = 200
sg_check "attached to $(sg_if m1)" sg_wait_attached "$(sg_if m1)"
kill -TERM "$SG_AGENT_PID"
status=0
wait "$SG_AGENT_PID" || status=$?
SG_AGENT_PID=""
sg_check "SIGTERM: exit 0" test "$status" = 0
sg_check "SIGTERM: STOPPING=1 arrives" wait_for_line STOPPING=1
sg_check "READY=1 was sent once" test "$(grep -cx READY=1 "$NOTIFY_LOG")" = 1

# ---- a restart with a persisted machine whose interface exists ----
# The programs stay attached across the restart; detach them so that the new agent has to
# attach before it may say READY=1.
ip netns exec "$SG_HOST" ip link set dev "$(sg_if m1)" xdp off 2>/dev/null
ip netns exec "$SG_HOST" tc qdisc del dev "$(sg_if m1)" clsact 2>/dev/null
sg_check "$(sg_if m1) detached before the restart" sg_detached "$(sg_if m1)"
start_notified_agent
sg_check "restart: READY=1 arrives" wait_for_line READY=1
sg_check "restart: when READY=1 arrived, $(sg_if m1) was attached again" sg_attached "$(sg_if m1)"
sg_check "restart: when READY=1 arrived, /readyz answered 200" test "$(readyz)" = 200
sg_check "restart: every STATUS= line is one printable line" \
  sg_not grep -qvE '^(READY=1|STOPPING=1|STATUS=[[:print:]]+)$' "$NOTIFY_LOG"
sg_agent_stop
sg_check "restart: STOPPING=1 arrives" wait_for_line STOPPING=1

echo "---- notify log of the last run:"
cat "$NOTIFY_LOG"
sg_finish systemd_notify
