#!/usr/bin/env bash
# Test that the real agent, attached in a host namespace, enforces DESIGN §2 on real traffic:
# the connectivity matrix (ping, TCP, UDP) between 4 machines on 3 networks in 2 orgs, a
# Flycast address served by a proxy, the platform DNS on fdaa::3, spoofed sources, and that
# explain and the metrics agree with what the packets met.
#   usage: connectivity.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: connectivity.sh PATH/TO/sixguard}
source "$(dirname "$0")/lib.sh"
sg_begin

sg_say "topology: host namespace $SG_HOST, machines ${SG_MACHINES[*]}, proxy, dns"
sg_topology || { echo "FAIL: could not build the topology"; exit 1; }
# Another host behind an uplink: it carries addresses of net-a and net-b machines that run
# there (host id 0:2).
remote_a=fdaa:a:1:0:2:0:9:2
remote_b=fdaa:b:1:0:2:0:9:2
sg_ns "$SG_PREFIX-remote" && sg_link "$SG_PREFIX-remote" "$(sg_if up)" "$remote_a" &&
  ip -n "$SG_PREFIX-remote" addr add "$remote_b/128" dev eth0 nodad &&
  ip -n "$SG_HOST" -6 route add "$remote_b/128" dev "$(sg_if up)" ||
  { echo "FAIL: could not build the remote host"; exit 1; }
sg_write_config "$SG_WORK/config.yaml" "uplinks: [\"$(sg_if up)\"]"
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not start"; exit 1; }

sg_write_events "$SG_WORK/events.json"
reply=$(sg_api POST /v1/events "$SG_WORK/events.json")
events=$(wc -l <"$SG_WORK/events.json")
sg_check "events applied: $(sg_body_of "$reply")" \
  test "$(sg_status_of "$reply")" = 200 -a "$(sg_body_of "$reply")" = "{\"applied\":$events,\"unchanged\":0}"
for m in "${SG_MACHINES[@]}"; do
  sg_check "programs attached to $(sg_if "$m")" sg_wait_attached "$(sg_if "$m")"
done
status=$(sg_body_of "$(sg_api GET /v1/status)")
egress_hook=$(sed -n 's/.*"machine_egress_hook":"\([a-z]*\)".*/\1/p' <<<"$status")
sg_say "machine_egress on ${egress_hook:-?}: $(sed -n 's/.*"datapath":{[^}]*"reason":"\([^"]*\)".*/\1/p' <<<"$status")"
case ${SIXGUARD_TEST_EGRESS_HOOK:-auto} in
tc) sg_check "status reports machine_egress on tc" test "$egress_hook" = tc ;;
*) sg_check "status reports machine_egress on xdp or tc" test "$egress_hook" = xdp -o "$egress_hook" = tc ;;
esac

sg_say "connectivity matrix"
sg_run_matrix
if sg_check_matrix; then sg_pass "matrix as DESIGN §2 says"; else sg_fail "matrix"; fi

# The evidence rule cannot retry a datapath drop away: a probe the datapath drops (m1 -> m3,
# cross network) is decided by the drop counted on its first attempt, as a test that wrongly
# expected a pass there would see.
retries_before=$(cat "$SG_WORK/probe-retries" 2>/dev/null | wc -l)
drops_before=$(sg_drops)
sg_check "a dropped probe is blocked: m1 -> m3 tcp" sg_not sg_probe_tcp m1 "${SG_ADDR[m3]}"
drops_after=$(sg_drops)
sg_check "... by a counted drop (${drops_before:-?} -> ${drops_after:-?}), not retried" \
  test "${drops_after:-0}" -gt "${drops_before:-0}" -a \
  "$(cat "$SG_WORK/probe-retries" 2>/dev/null | wc -l)" = "$retries_before"

# ---- the uplink: traffic from another host ----
sg_say "uplink"
uplink_drops() {
  sg_metrics /metrics | grep '^sixguard_packets_total{' | grep 'hook="uplink"' |
    grep 'verdict="drop"' | grep 'reason="cross_network"' | awk '{print $2 + 0}'
}
remote_ping() { ip netns exec "$SG_PREFIX-remote" ping -6 -c 1 -W 1 -q -I "$1" "$2" >/dev/null 2>&1; }
sg_check "uplink hook attached (TC ingress on $(sg_if up))" \
  bash -c "ip netns exec $SG_HOST bpftool net show dev $(sg_if up) | grep -q 'clsact/ingress sg_uplink'"
sg_check "status counts 1 uplink" \
  grep -q '"uplink":1' <<<"$(sg_body_of "$(sg_api GET /v1/status)")"
before=$(uplink_drops)
sg_check "remote net-a machine -> m1 (net-a) passes" remote_ping "$remote_a" "${SG_ADDR[m1]}"
sg_check "remote net-b machine -> m3 (net-b) passes" remote_ping "$remote_b" "${SG_ADDR[m3]}"
sg_check "remote net-b machine -> m1 (net-a) blocked" sg_not remote_ping "$remote_b" "${SG_ADDR[m1]}"
after=$(uplink_drops)
sg_check "... by the uplink hook (uplink drop/cross_network ${before:-?} -> ${after:-?})" \
  test "${after:-0}" -gt "${before:-0}"

# ---- explain: the loaded program's verdict on a synthesised packet ----
explain() { # explain SRC DST [IF] -> "hook verdict reason"
  local body="{\"src\":\"$1\",\"dst\":\"$2\"${3:+,\"interface\":\"$3\"}}"
  echo "$body" >"$SG_WORK/explain.json"
  sg_body_of "$(sg_api POST /v1/explain "$SG_WORK/explain.json")" |
    sed -E 's/.*"hook":"([a-z_]+)".*"reason":"([a-z_0-9]+)".*"verdict":"([a-z]+)".*/\1 \3 \2/'
}
expect_explain() { # expect_explain "hook verdict reason" SRC DST [IF]
  local want=$1
  shift
  local got
  got=$(explain "$@")
  sg_check "explain $* -> $got" test "$got" = "$want"
}
sg_say "explain"
expect_explain "machine_egress pass same_network" "${SG_ADDR[m1]}" "${SG_ADDR[m2]}" "$(sg_if m1)"
expect_explain "machine_egress drop cross_network" "${SG_ADDR[m1]}" "${SG_ADDR[m3]}" "$(sg_if m1)"
expect_explain "machine_ingress drop cross_network" "${SG_ADDR[m3]}" "${SG_ADDR[m1]}" "$(sg_if m1)"
expect_explain "machine_egress pass infra" "${SG_ADDR[m4]}" fdaa::3 "$(sg_if m4)"
expect_explain "machine_egress pass same_network" "${SG_ADDR[m3]}" "$SG_FLYCAST" "$(sg_if m3)"
expect_explain "machine_egress drop cross_network" "${SG_ADDR[m4]}" "$SG_FLYCAST" "$(sg_if m4)"
expect_explain "machine_ingress pass flycast" "$SG_FLYCAST" "${SG_ADDR[m1]}" "$(sg_if m1)"
expect_explain "machine_egress drop spoofed_source" fdaa:b:1:0:1:0:99:2 "${SG_ADDR[m3]}" "$(sg_if m1)"
expect_explain "uplink drop cross_network" "${SG_ADDR[m1]}" "${SG_ADDR[m4]}"
expect_explain "uplink pass same_network" "${SG_ADDR[m1]}" "${SG_ADDR[m2]}"
nosuch=$(echo '{"src":"fdaa::1","dst":"fdaa::2","interface":"nosuchif0"}' >"$SG_WORK/explain.json"
  sg_api POST /v1/explain "$SG_WORK/explain.json")
sg_check "explain on an unknown interface is 404" test "$(sg_status_of "$nosuch")" = 404

# ---- spoofed sources: dropped by machine_egress before they reach anyone ----
sg_say "spoofed sources"
send_udp() { # send_udp FROM SRC DST TEXT: one-way datagram to DST:7002 from SRC
  echo "$4" | ip netns exec "$SG_PREFIX-$1" socat -u - UDP6-SENDTO:"[$3]":7002,bind="[$2]" 2>/dev/null
}
spoof_other_net=fdaa:b:1:0:1:0:99:2 # net-b address, outside m1's network
spoof_own_net=fdaa:a:1:0:1:0:77:2   # m1's own network, outside m1's /112
ip -n "$SG_PREFIX-m1" addr add "$spoof_other_net/128" dev eth0 nodad
ip -n "$SG_PREFIX-m1" addr add "$spoof_own_net/128" dev eth0 nodad
spoof_before=$(sg_metrics /metrics | grep '^sixguard_packets_total{' | grep 'hook="machine_egress"' |
  grep 'verdict="drop"' | grep 'reason="spoofed_source"' | awk '{print $2}')
send_udp m1 "${SG_ADDR[m1]}" "${SG_ADDR[m2]}" legit-from-m1 # the control: this one arrives
for i in 1 2 3; do
  send_udp m1 "$spoof_other_net" "${SG_ADDR[m3]}" spoof-other-net
  send_udp m1 "$spoof_own_net" "${SG_ADDR[m2]}" spoof-own-net
done
sleep 1
sg_check "control datagram from m1's own address reached m2" grep -q legit-from-m1 "$SG_WORK/m2.udp"
sg_check "source from another network (net-b) did not reach m3 (net-b)" \
  test "$(grep -c spoof-other-net "$SG_WORK/m3.udp")" = 0
sg_check "source from m1's network outside its /112 did not reach m2" \
  test "$(grep -c spoof-own-net "$SG_WORK/m2.udp")" = 0
spoof_after=$(sg_metrics /metrics | grep '^sixguard_packets_total{' | grep 'hook="machine_egress"' |
  grep 'verdict="drop"' | grep 'reason="spoofed_source"' | awk '{print $2}')
sg_check "machine_egress counted the 6 spoofed datagrams (${spoof_before:-?} -> ${spoof_after:-?})" \
  test "$(awk -v a="${spoof_before:-0}" -v b="${spoof_after:-0}" 'BEGIN{print b-a}')" -ge 6

# ---- metrics: the verdicts seen, attachments per hook ----
sg_say "metrics"
metrics=$(sg_metrics /metrics)
grep -E '^sixguard_(packets_total|attached_interfaces|map_entries)' <<<"$metrics" |
  grep -v ' 0$' | sed 's/^/    /'
sg_check "sixguard_attached_interfaces{hook=machine_egress} is 4" \
  grep -qE '^sixguard_attached_interfaces\{hook="machine_egress"\} 4$' <<<"$metrics"
sg_check "sixguard_attached_interfaces{hook=uplink} is 1" \
  grep -qE '^sixguard_attached_interfaces\{hook="uplink"\} 1$' <<<"$metrics"
cross_drops=$(grep '^sixguard_packets_total{' <<<"$metrics" | grep 'verdict="drop"' |
  grep 'reason="cross_network"' | awk '{s += $2} END {print s + 0}')
sg_check "cross_network drops counted ($cross_drops)" test "$cross_drops" -gt 0

sg_finish connectivity
