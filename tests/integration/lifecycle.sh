#!/usr/bin/env bash
# Test the agent's lifecycle on real traffic (DESIGN §5):
#  - a machine interface deleted and re-created (new ifindex) is re-attached and enforced;
#  - SIGTERM leaves programs attached and enforcing, exit status 0;
#  - SIGKILL and restart under continuous traffic: ZERO cross-network packets delivered,
#    same-network traffic carries on;
#  - events replayed after the restart are no-ops;
#  - --uninstall removes programs, pins and state.
#   usage: lifecycle.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: lifecycle.sh PATH/TO/sixguard}
source "$(dirname "$0")/lib.sh"
sg_begin

sg_start_all
events=$(wc -l <"$SG_WORK/events.json")

machine_entries() { # sg_machines entries as /v1/status reports them
  sg_body_of "$(sg_api GET /v1/status)" | sed -nE 's/.*"machines":\{"capacity":[0-9]+,"entries":([0-9]+)\}.*/\1/p'
}
ifindex_of() { ip -n "$SG_HOST" -o link show dev "$1" 2>/dev/null | cut -d: -f1; }

# ---- a machine restart: its interface deleted and re-created with a new ifindex ----
sg_say "interface of m2 deleted and re-created"
old_ifindex=$(ifindex_of "$(sg_if m2)")
ip -n "$SG_HOST" link del "$(sg_if m2)"
sg_check "entry of the deleted interface removed (4 -> 3 entries)" wait_until 60 'test "$(machine_entries)" = 3'
sg_link "$SG_PREFIX-m2" "$(sg_if m2)" "${SG_ADDR[m2]}" "${SG_ADDR[m2]%:*}:0/112"
new_ifindex=$(ifindex_of "$(sg_if m2)")
sg_check "re-created with a new ifindex ($old_ifindex -> $new_ifindex)" test "$old_ifindex" != "$new_ifindex"
sg_check "re-attached" sg_wait_attached "$(sg_if m2)"
sg_check "entry back (4 entries)" wait_until 60 'test "$(machine_entries)" = 4'
sg_check "m2 -> m1 (same network) passes" sg_probe_ping m2 "${SG_ADDR[m1]}"
sg_check "m2 -> m1 UDP passes" sg_probe_udp m2 "${SG_ADDR[m1]}"
sg_check "m2 -> m3 (cross network) blocked" sg_not sg_probe_ping m2 "${SG_ADDR[m3]}"
sg_check "m3 -> m2 TCP (cross network) blocked" sg_not sg_probe_tcp m3 "${SG_ADDR[m2]}"

# ---- SIGTERM: the agent exits 0 and enforcement stays ----
sg_say "SIGTERM"
sg_agent_stop TERM
status=$?
sg_check "agent exited 0 on SIGTERM" test "$status" = 0
for m in "${SG_MACHINES[@]}"; do
  sg_check "still attached to $(sg_if "$m") with no agent running" sg_attached "$(sg_if "$m")"
done
sg_check "pins still there" test -e "$SG_BPFFS/sixguard/sg_machines"
sg_check "no agent: m1 -> m3 still blocked" sg_not sg_probe_ping m1 "${SG_ADDR[m3]}"
sg_check "no agent: m1 -> m2 still passes" sg_probe_ping m1 "${SG_ADDR[m2]}"
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not restart"; exit 1; }

# ---- SIGKILL and restart under continuous traffic ----
sg_say "SIGKILL and restart under traffic"
count=300
interval=0.02
for f in m1 m2 m3 m4; do : >"$SG_WORK/$f.udp"; done
stream() { # stream FROM DST TAG: COUNT numbered one-way datagrams to DST:7002
  for i in $(seq 1 "$count"); do
    echo "$3-$i"
    sleep "$interval"
  done | ip netns exec "$SG_PREFIX-$1" socat -u - UDP6-SENDTO:"[$2]":7002 2>/dev/null
}
stream_pids=()
stream m1 "${SG_ADDR[m2]}" same-m1m2 & stream_pids+=($!)
stream m3 "${SG_ADDR[m1]}" cross-m3m1 & stream_pids+=($!)
stream m1 "${SG_ADDR[m3]}" cross-m1m3 & stream_pids+=($!)
stream m4 "${SG_ADDR[m2]}" cross-m4m2 & stream_pids+=($!)
ip netns exec "$SG_PREFIX-m2" ping -6 -q -i "$interval" -c "$count" -W 1 "${SG_ADDR[m1]}" \
  >"$SG_WORK/ping-same.txt" 2>&1 & stream_pids+=($!)
ip netns exec "$SG_PREFIX-m4" ping -6 -q -i "$interval" -c "$count" -W 1 "${SG_ADDR[m3]}" \
  >"$SG_WORK/ping-cross.txt" 2>&1 & stream_pids+=($!)
sleep 1
killed_at=$(date +%T.%N)
sg_agent_stop KILL
sleep 0.5
restart_started=$(date +%s.%N)
sg_agent_start "$SG_WORK/config.yaml" || sg_fail "agent did not become ready after SIGKILL"
restart_ready=$(date +%s.%N)
wait "${stream_pids[@]}"
sleep 0.5 # the last datagrams in flight

delivered() { grep -c "^$1-" "$SG_WORK/$2.udp"; }
ping_received() { sed -nE 's/.* ([0-9]+) received.*/\1/p' "$1"; }
ping_sent() { sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' "$1"; }
same_udp=$(delivered same-m1m2 m2)
leak_m3m1=$(delivered cross-m3m1 m1)
leak_m1m3=$(delivered cross-m1m3 m3)
leak_m4m2=$(delivered cross-m4m2 m2)
same_ping_sent=$(ping_sent "$SG_WORK/ping-same.txt")
same_ping=$(ping_received "$SG_WORK/ping-same.txt")
cross_ping_sent=$(ping_sent "$SG_WORK/ping-cross.txt")
cross_ping=$(ping_received "$SG_WORK/ping-cross.txt")
echo
echo "  agent SIGKILLed at $killed_at; restarted, ready after $(awk -v a="$restart_started" -v b="$restart_ready" 'BEGIN{printf "%.2f", b-a}') s"
printf '  %-34s %8s %10s %8s\n' stream sent delivered leaked
printf '  %-34s %8s %10s %8s\n' "UDP m1->m2 (same network)" "$count" "$same_udp" -
printf '  %-34s %8s %10s %8s\n' "ping m2->m1 (same network)" "$same_ping_sent" "$same_ping" -
printf '  %-34s %8s %10s %8s\n' "UDP m3->m1 (net-b -> net-a)" "$count" "$leak_m3m1" "$leak_m3m1"
printf '  %-34s %8s %10s %8s\n' "UDP m1->m3 (net-a -> net-b)" "$count" "$leak_m1m3" "$leak_m1m3"
printf '  %-34s %8s %10s %8s\n' "UDP m4->m2 (globex -> acme)" "$count" "$leak_m4m2" "$leak_m4m2"
printf '  %-34s %8s %10s %8s\n' "ping m4->m3 (net-c -> net-b)" "$cross_ping_sent" "$cross_ping" "$cross_ping"
echo
sg_check "zero cross-network datagrams delivered" test "$((leak_m3m1 + leak_m1m3 + leak_m4m2))" = 0
sg_check "zero cross-network echo replies" test "${cross_ping:-x}" = 0
sg_check "every same-network datagram delivered ($same_udp of $count)" test "$same_udp" = "$count"
sg_check "every same-network ping answered ($same_ping of $same_ping_sent)" \
  test -n "$same_ping" -a "$same_ping" = "$same_ping_sent"

# ---- replay: everything is already in effect ----
sg_say "events replayed after the restart"
reply=$(sg_api POST /v1/events "$SG_WORK/events.json")
echo "  $(sg_body_of "$reply")"
sg_check "replay is a no-op" test "$(sg_body_of "$reply")" = "{\"applied\":0,\"unchanged\":$events}"
status_json=$(sg_body_of "$(sg_api GET /v1/status)")
sg_check "after restart the programs were adopted or replaced, 4 interfaces attached" \
  grep -q '"machine_egress":4' <<<"$status_json"

# ---- machine.stopped detaches; machine.started attaches again ----
sg_say "machine.stopped, then machine.started again"
echo '{"type":"machine.stopped","machine":"m4"}' >"$SG_WORK/stop.json"
reply=$(sg_api POST /v1/events "$SG_WORK/stop.json")
sg_check "machine.stopped applied: $(sg_body_of "$reply")" \
  test "$(sg_body_of "$reply")" = '{"applied":1,"unchanged":0}'
sg_check "programs detached from $(sg_if m4)" wait_for 60 sg_detached "$(sg_if m4)"
sg_check "its entry removed (3 entries)" wait_until 60 'test "$(machine_entries)" = 3'
sg_check "the other machines keep theirs" sg_attached "$(sg_if m3)"
grep '"machine":"m4"' "$SG_WORK/events.json" >"$SG_WORK/start.json"
reply=$(sg_api POST /v1/events "$SG_WORK/start.json")
sg_check "machine.started again applied" test "$(sg_body_of "$reply")" = '{"applied":1,"unchanged":0}'
sg_check "attached to $(sg_if m4) again" sg_wait_attached "$(sg_if m4)"
sg_check "entry back (4 entries)" wait_until 60 'test "$(machine_entries)" = 4'
sg_check "m4 -> m3 (cross network) blocked" sg_not sg_probe_ping m4 "${SG_ADDR[m3]}"

# ---- uninstall ----
sg_say "uninstall"
sg_agent_stop TERM
ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$SG_WORK/config.yaml" --uninstall \
  >"$SG_WORK/uninstall.log" 2>&1
status=$?
sed 's/^/    /' "$SG_WORK/uninstall.log"
sg_check "uninstall exited 0" test "$status" = 0
for m in "${SG_MACHINES[@]}"; do
  sg_check "nothing of ours left on $(sg_if "$m")" sg_detached "$(sg_if "$m")"
done
sg_check "pin directory removed" test ! -e "$SG_BPFFS/sixguard"
sg_check "state database removed" test ! -e "$SG_WORK/state/state.db"
sg_check "without sixguard, m1 -> m3 passes again (the detach is real)" \
  sg_probe_ping m1 "${SG_ADDR[m3]}"

sg_finish lifecycle
