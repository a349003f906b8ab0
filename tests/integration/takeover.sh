#!/usr/bin/env bash
# Taking over the kernel state at start-up (DESIGN §5, issue 12):
#  - resize under traffic: map_sizes doubled and the agent restarted while a same-network and
#    a cross-network stream of sequence-numbered UDP run: 0 cross-network datagrams delivered,
#    0 same-network datagrams lost, every entry in the new maps, the new capacity in
#    sixguard_map_capacity, the attached programs on the new maps;
#  - fault 1: the sg_machines pin deleted and the agent restarted: the attached programs (same
#    tag, old map) are replaced, not adopted; an interface moved to a machine of another
#    network then blocks its old network, and explain agrees.
#   usage: takeover.sh PATH/TO/sixguard [PATH/TO/udp_seq]  (default: next to sixguard in the
#          build tree, as the VM guest suite runs it)
set -uo pipefail
SIXGUARD=${1:?usage: takeover.sh PATH/TO/sixguard [PATH/TO/udp_seq]}
UDP_SEQ=${2:-$(dirname "$SIXGUARD")/tests/integration/sixguard_udp_seq}
SG_PREFIX=sg-tk-$$
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tools/takeover_lib.sh"
sg_require_environment jq
[ -x "$UDP_SEQ" ] || sg_skip "udp_seq not found at '$UDP_SEQ'"
sg_init

sg_start_all

# ---- resize under traffic ----
sg_say "resize: map_sizes doubled, agent restarted under traffic"
machines_before=$(map_keys sg_machines)
flycast_before=$(map_keys sg_flycast)
old_machines_id=$(map_id sg_machines)
streams_start
sg_agent_stop TERM
sg_write_config "$SG_WORK/config.yaml" "map_sizes:" "  machines: $((2 * 16384))" \
  "  flycast: $((2 * 65536))" "  infra: $((2 * 1024))" "  net_flags: $((2 * 16384))" \
  "  events: $((2 * 1048576))"
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not restart resized"; exit 1; }
streams_finish
streams_check resize
sg_check "the log names the migration of sg_machines" \
  grep -q "migrating pinned map sg_machines (max_entries 16384 -> 32768; entries copied)" "$SG_WORK/agent.log"
sg_check "the log says the pins were swapped" grep -q "migration done: the pins of" "$SG_WORK/agent.log"
sg_check "sg_machines pin is a new map of 32768" test "$(map_max sg_machines)" = 32768
sg_check "... not the old one" test "$(map_id sg_machines)" != "$old_machines_id"
sg_check "sg_flycast pin is a new map of 131072" test "$(map_max sg_flycast)" = 131072
sg_check "every sg_machines entry present in the new map" test "$(map_keys sg_machines)" = "$machines_before"
sg_check "every sg_flycast entry present in the new map" test "$(map_keys sg_flycast)" = "$flycast_before"
sg_check "no staging pin left" sg_not test -e "$(pin sg_machines_next)"
sg_check "sixguard_map_capacity reports 32768 for sg_machines" \
  bash -c "ip netns exec $SG_HOST curl -s http://127.0.0.1:$SG_METRICS_PORT/metrics | grep -q '^sixguard_map_capacity{map=\"machines\"} 32768'"
for m in "${SG_MACHINES[@]}"; do
  sg_check "programs on $(sg_if "$m") use the pinned sg_machines" programs_use_pinned "$(sg_if "$m")" sg_machines
done
sg_run_matrix
sg_check_matrix
sg_check "connectivity matrix exact after the resize" test $? = 0
# A second restart with the same sizes migrates nothing and adopts every program.
sg_agent_stop TERM
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not restart"; exit 1; }
sg_check "an unchanged restart adopts (machine_egress of $(sg_if m1))" \
  grep -q "$(sg_if m1) machine_egress: adopted: program [0-9]* is identical and uses the pinned maps" \
  <(sed -n '/---- agent start/h; /---- agent start/!H; ${x;p}' "$SG_WORK/agent.log")

# ---- fault 1: the sg_machines pin deleted, the agent restarted ----
sg_say "fault 1: sg_machines unpinned, agent restarted"
sg_agent_stop TERM
rm -f "$(pin sg_machines)"
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not restart"; exit 1; }
last_start=$(sed -n '/---- agent start/h; /---- agent start/!H; ${x;p}' "$SG_WORK/agent.log")
sg_check "the stale programs were replaced, saying why" \
  grep -q "$(sg_if m1) machine_ingress: replaced atomically: program [0-9]* uses maps .*, not the pinned maps" <<<"$last_start"
for m in "${SG_MACHINES[@]}"; do
  sg_check "programs on $(sg_if "$m") use the new sg_machines" programs_use_pinned "$(sg_if "$m")" sg_machines
done
# Move m1's interface to a machine of net-b (machine.stopped, machine.started), its namespace
# keeping the old address too: net-a's m2 sending to that old address must now be blocked.
new_addr=fdaa:b:1:0:1:0:5:2
ip -n "$SG_PREFIX-m1" addr add "$new_addr/128" dev eth0 nodad
ip -n "$SG_HOST" -6 route replace "${new_addr%:*}:0/112" dev "$(sg_if m1)"
cat >"$SG_WORK/move.json" <<JSON
{"type":"machine.stopped","app":"app-a1","machine":"m1"}
$(sg_machine_started app-b1 m5 "$new_addr" "$(sg_if m1)")
JSON
reply=$(sg_api POST /v1/events "$SG_WORK/move.json")
sg_check "interface moved to a machine of net-b" test "$(sg_status_of "$reply")" = 200
sg_check "net-a m2 -> the moved interface's old address: blocked (ping)" \
  sg_not sg_probe_ping m2 "${SG_ADDR[m1]}"
sg_check "net-a m2 -> the moved interface's old address: blocked (udp)" \
  sg_not sg_probe_udp m2 "${SG_ADDR[m1]}"
sg_check "net-b m3 -> the moved machine's new address: passes" sg_probe_ping m3 "$new_addr"
# And what the moved machine sends from its old net-a address to net-a: blocked, as explain says.
sg_check "the moved machine -> net-a m2 from its old address: blocked" \
  sg_not ping_from m1 "${SG_ADDR[m1]}" "${SG_ADDR[m2]}"
got=$(explain "${SG_ADDR[m1]}" "${SG_ADDR[m2]}" "$(sg_if m1)")
sg_check "explain agrees: $got" test "$got" = "machine_egress drop spoofed_source"
got=$(explain "$new_addr" "${SG_ADDR[m2]}" "$(sg_if m1)")
sg_check "explain: the moved machine -> net-a is cross_network: $got" \
  test "$got" = "machine_egress drop cross_network"
sg_check "the moved machine -> net-a m2 from its new address: blocked" \
  sg_not ping_from m1 "$new_addr" "${SG_ADDR[m2]}"
status=$(sg_body_of "$(sg_api GET /v1/status)")
sg_check "status: maps in sync" grep -q '"maps_in_sync":true' <<<"$status"

sg_finish takeover
