#!/usr/bin/env bash
# Test (issue 13, DESIGN §2 "Encapsulation") that a tenant cannot reach another network by
# handing a packet to a tunnel endpoint on the host. The attack that worked: machine m1 (org
# acme) sent IPv6(m1 -> the host's VXLAN address)/UDP 4789/VXLAN/Ether/IPv6(fdaa::3 -> m3)
# to a VXLAN device in the host namespace, which decapsulated it and delivered it to m3 (org
# globex). Here the attack is built with real kernel tunnel devices: m1's namespace has its
# own tunnel device whose remote is the host's tunnel endpoint, the host namespace has the
# matching device and forwards what comes out of it to m3's veth.
#
# Cases: VXLAN and Geneve over IPv6 and over IPv4, VXLAN over IPv6 on a port configured in
# encap_udp_ports (8472), ip6gre, ip6gretap (Ethernet in GRE), ip6tnl (ip6ip6), GRE over IPv4
# and sit (IPv6 in IPv4); each with the inner source fdaa::3 (infra-looking) or an address of
# m3's network (spoofed_source), or m1's own address (cross_network). A kind the kernel lacks
# is skipped visibly. For each:
#   - audit (global mode: audit): the datagrams ARRIVE at m3 (the path is real, so the
#     enforce check can fail) and machine_egress audit/<reason> moved by exactly the
#     datagrams sent;
#   - enforce: none arrives at m3, machine_egress drop/<reason> moved by exactly the
#     datagrams sent (resent, at most 3 rounds, only while nothing was dropped or delivered),
#     and the drop events (sixguard monitor) carry the inner level's addresses: the inner
#     packet is what was refused.
# Then the infrastructure prefix checks (issue 13 A) on the real agent: network.created for
# an id holding an infra prefix is 409; a restart with an infra prefix inside a persisted
# tenant network exits 2 naming both, and leaves the programs attached; ::/0 is refused.
#   usage: tunnel.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: tunnel.sh PATH/TO/sixguard}
SG_PREFIX=${SG_PREFIX:-sg-tunnel-$$}
SG_IFP=${SG_IFP:-t$$}
source "$(dirname "$0")/lib.sh"
sg_begin

# ---- topology: m1 (acme net-a, the attacker), m3 (globex net-c, the victim) ----
M1=fdaa:a:1:0:1:0:1:2
M3=fdaa:c:1:0:1:0:3:2
SPOOF_INFRA=fdaa::3                 # looks like the platform DNS (passes m3's ingress: infra)
SPOOF_VICTIM_NET=fdaa:c:1:0:1:0:99:2 # m3's network (passes m3's ingress: same_network)
HOST6=2001:db8:5::1                 # the host's tunnel endpoints (not 6PN: a public address)
HOST4=198.51.100.1
M1_V4=192.0.2.2 # m1's IPv4 on its veth, the host side being 192.0.2.1
HOST_MAC=02:00:5e:10:00:01 # the host's Ethernet tunnel devices: the inner frames' destination
PORT=7002                  # m3's one-way UDP listener (sg_machine): lines in $SG_WORK/m3.udp
SENT_PER_ROUND=3
N1="$SG_PREFIX-m1"

sg_say "topology: host $SG_HOST, attacker m1 ($M1), victim m3 ($M3)"
sg_host_create &&
  sg_machine m1 "$(sg_if m1)" "$M1" &&
  sg_machine m3 "$(sg_if m3)" "$M3" &&
  sg_wait_listening "$SG_PREFIX-m3" "$PORT" &&
  ip -n "$SG_HOST" addr add "$HOST6/128" dev lo &&
  ip -n "$SG_HOST" addr add "$HOST4/32" dev lo &&
  ip -n "$SG_HOST" addr add 192.0.2.1/24 dev "$(sg_if m1)" &&
  ip -n "$N1" addr add "$M1_V4/24" dev eth0 &&
  ip -n "$N1" route add "$HOST4/32" via 192.0.2.1 dev eth0 src "$M1_V4" &&
  ip -n "$N1" -6 route add "$HOST6/128" via fe80::1 dev eth0 src "$M1" &&
  # The inner sources. The outer source stays m1's own (the routes above say so, for the
  # tunnels that take no local address): the outer level passes, only the inner is at fault.
  ip -n "$N1" addr add "$SPOOF_INFRA/128" dev lo nodad &&
  ip -n "$N1" addr add "$SPOOF_VICTIM_NET/128" dev lo nodad ||
  { echo "FAIL: could not build the topology"; exit 1; }

# ---- tunnels: one device in m1's namespace, its peer in the host namespace ----
# tunnel_type KIND: the iproute2 type; tunnel_args SIDE KIND: its parameters.
tunnel_type() {
  case $1 in
  vxlan6 | vxlan4 | vxlan8472) echo vxlan ;;
  geneve6 | geneve4) echo geneve ;;
  ip6gre) echo ip6gre ;;
  ip6gretap) echo ip6gretap ;;
  ip6tnl) echo ip6tnl ;;
  gre4) echo gre ;;
  sit) echo sit ;;
  esac
}
tunnel_module() {
  case $1 in
  vxlan6 | vxlan4 | vxlan8472) echo vxlan ;;
  geneve6 | geneve4) echo geneve ;;
  ip6gre | ip6gretap) echo ip6_gre ;;
  ip6tnl) echo ip6_tunnel ;;
  gre4) echo ip_gre ;;
  sit) echo sit ;;
  esac
}
tunnel_args() { # tunnel_args m1|host KIND
  local side=$1 kind=$2 local6=$M1 remote6=$HOST6 local4=$M1_V4 remote4=$HOST4
  if [ "$side" = host ]; then
    local6=$HOST6 remote6=$M1 local4=$HOST4 remote4=$M1_V4
  fi
  case $kind in
  # The host's VXLAN devices have no remote: they take any sender, as the attacked one did.
  vxlan6) if [ "$side" = host ]; then echo "id 4206 local $local6 dstport 4789 nolearning"
          else echo "id 4206 local $local6 remote $remote6 dstport 4789 nolearning"; fi ;;
  vxlan4) if [ "$side" = host ]; then echo "id 4204 local $local4 dstport 4789 nolearning"
          else echo "id 4204 local $local4 remote $remote4 dstport 4789 nolearning"; fi ;;
  # Linux's historical VXLAN port, listed in the agent's encap_udp_ports.
  vxlan8472) if [ "$side" = host ]; then echo "id 4208 local $local6 dstport 8472 nolearning"
             else echo "id 4208 local $local6 remote $remote6 dstport 8472 nolearning"; fi ;;
  # Geneve takes no local address; a device receives from its remote only.
  geneve6) echo "id 4306 remote $remote6" ;;
  geneve4) echo "id 4304 remote $remote4" ;;
  ip6gre | ip6gretap) echo "local $local6 remote $remote6" ;;
  ip6tnl) echo "mode ip6ip6 local $local6 remote $remote6" ;;
  gre4 | sit) echo "local $local4 remote $remote4" ;;
  esac
}

# tunnel_up KIND: creates both ends, routes m3's address from m1 into the tunnel. Returns 2
# when the kernel lacks the tunnel type (the case is skipped), 1 on any other failure.
tunnel_up() {
  local kind=$1 type dev="tu$1" out
  type=$(tunnel_type "$kind")
  modprobe "$(tunnel_module "$kind")" >/dev/null 2>&1 # built in, or absent: ip link says which
  # shellcheck disable=SC2046 # tunnel_args is a list of words
  if ! out=$(ip -n "$SG_HOST" link add "$dev" type "$type" $(tunnel_args host "$kind") 2>&1); then
    if grep -qiE 'unknown device type|not supported' <<<"$out"; then return 2; fi
    echo "    host $type device: $out"
    return 1
  fi
  # shellcheck disable=SC2046
  ip -n "$N1" link add "$dev" type "$type" $(tunnel_args m1 "$kind") || return 1
  case $kind in
  vxlan* | geneve* | ip6gretap) # Ethernet inside
    ip -n "$SG_HOST" link set "$dev" address "$HOST_MAC" || return 1
    ip -n "$N1" link set "$dev" up || return 1
    # The inner frame goes to the host's device MAC, so the host takes it for itself and
    # routes the inner packet on (no neighbour discovery through the tunnel).
    ip -n "$N1" -6 neigh replace "$M3" lladdr "$HOST_MAC" dev "$dev" nud permanent || return 1
    ;;
  *) ip -n "$N1" link set "$dev" up || return 1 ;;
  esac
  ip -n "$SG_HOST" link set "$dev" up || return 1
  ip -n "$N1" -6 route replace "$M3/128" dev "$dev"
}
tunnel_down() {
  ip -n "$N1" -6 route del "$M3/128" 2>/dev/null
  ip -n "$N1" link del "tu$1" 2>/dev/null
  ip -n "$SG_HOST" link del "tu$1" 2>/dev/null
  return 0
}

# ---- evidence: the agent's counters and m3's arrivals ----
counter() { # counter HOOK VERDICT REASON: sixguard_packets_total, or nothing if unreadable
  local metrics
  metrics=$(sg_metrics /metrics) || return 1
  awk -v h="hook=\"$1\"" -v v="verdict=\"$2\"" -v r="reason=\"$3\"" '
    /^sixguard_packets_total\{/ && index($0, h) && index($0, v) && index($0, r) {s += $2; n = 1}
    END {if (n) print s + 0; else print 0}' <<<"$metrics"
}
arrivals() { grep -c "^$1-" "$SG_WORK/m3.udp" 2>/dev/null || true; }
# events SRC DST REASON: machine_egress drop events from m1's interface for SRC -> DST that
# `sixguard monitor --json` printed (the deciding level's addresses, DESIGN §2).
MONITOR_OUT=""
events() {
  [ -n "$MONITOR_OUT" ] || { echo 0; return; }
  grep -F "\"src\":\"$1\"" "$MONITOR_OUT" | grep -F "\"dst\":\"$2\"" |
    grep -F '"hook":"machine_egress"' | grep -F '"verdict":"drop"' |
    grep -F "\"reason\":\"$3\"" | grep -cF "\"interface\":\"$(sg_if m1)\"" || true
}
send() { # send SRC TAG COUNT FIRST: COUNT datagrams "TAG-<n>" from SRC in m1 to m3, over the route
  local src=$1 tag=$2 count=$3 first=$4 i
  for ((i = first; i < first + count; i++)); do
    echo "$tag-$i" | ip netns exec "$N1" socat -u - UDP6-SENDTO:"[$M3]":"$PORT",bind="[$src]" \
      2>/dev/null || echo "    (socat could not send $tag-$i)"
  done
}

# audit_case KIND LABEL SRC REASON: the datagrams arrive and are counted as audited for REASON.
audit_case() {
  local kind=$1 label=$2 src=$3 reason=$4 tag="$1-$2-audit" before after got delta deadline
  before=$(counter machine_egress audit "$reason")
  send "$src" "$tag" "$SENT_PER_ROUND" 1
  deadline=$((SECONDS + 15))
  while :; do
    got=$(arrivals "$tag")
    after=$(counter machine_egress audit "$reason") || after=$before
    delta=$((after - before))
    [ "$got" -ge "$SENT_PER_ROUND" ] && [ "$delta" -ge "$SENT_PER_ROUND" ] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.1
  done
  sg_check "audit  $kind, inner src $label: $got of $SENT_PER_ROUND datagrams reached m3 (the path delivers)" \
    test "$got" = "$SENT_PER_ROUND"
  sg_check "audit  $kind, inner src $label: machine_egress audit/$reason +$delta (want +$SENT_PER_ROUND)" \
    test "$delta" = "$SENT_PER_ROUND"
}

# enforce_case KIND LABEL SRC REASON: nothing arrives; every datagram sent is a machine_egress
# drop for REASON.
enforce_case() {
  local kind=$1 label=$2 src=$3 reason=$4 tag="$1-$2-enforce" before after got=0 delta=0 sent=0
  local round deadline events_before events_after
  before=$(counter machine_egress drop "$reason")
  events_before=$(events "$src" "$M3" "$reason")
  for round in 1 2 3; do
    send "$src" "$tag" "$SENT_PER_ROUND" $((sent + 1))
    sent=$((sent + SENT_PER_ROUND))
    deadline=$((SECONDS + 10))
    while :; do
      got=$(arrivals "$tag")
      after=$(counter machine_egress drop "$reason") || after=$before
      delta=$((after - before))
      # Decided: every datagram dropped, or one delivered (the bypass).
      [ "$delta" -ge "$sent" ] || [ "$got" -gt 0 ] && break 2
      [ $SECONDS -ge $deadline ] && break
      sleep 0.1
    done
    # Some dropped but not all, and none delivered: decided too (the count check says so).
    [ "$delta" -gt 0 ] && break
    echo "    round $round: nothing dropped, nothing delivered yet; sending again"
  done
  sg_check "enforce $kind, inner src $label: $got of $sent datagrams reached m3 (want 0)" test "$got" = 0
  sg_check "enforce $kind, inner src $label: machine_egress drop/$reason +$delta (want +$sent)" \
    test "$delta" = "$sent"
  # The drop events are sent after the counters, through a ring buffer: wait for them.
  deadline=$((SECONDS + 5))
  until [ "$(events "$src" "$M3" "$reason")" -gt "$events_before" ] || [ $SECONDS -ge $deadline ]; do
    sleep 0.1
  done
  events_after=$(events "$src" "$M3" "$reason")
  # An outer level deciding would report the outer addresses (m1 -> the host's endpoint).
  sg_check "enforce $kind, inner src $label: drop events carry the inner level's addresses ($src -> m3): +$((events_after - events_before))" \
    test "$events_after" -gt "$events_before"
}

KINDS=(vxlan6 vxlan4 vxlan8472 geneve6 geneve4 ip6gre ip6gretap ip6tnl gre4 sit)
declare -A AVAILABLE=()
run_cases() { # run_cases audit|enforce
  local mode=$1 kind status
  for kind in "${KINDS[@]}"; do
    [ "$mode" = enforce ] && [ -z "${AVAILABLE[$kind]:-}" ] && continue
    tunnel_up "$kind"
    status=$?
    if [ $status = 2 ]; then
      echo "SKIP case $kind: this kernel ($(uname -r)) has no $(tunnel_type "$kind") devices"
      tunnel_down "$kind"
      continue
    elif [ $status != 0 ]; then
      sg_fail "$mode $kind: could not set the tunnel up"
      tunnel_down "$kind"
      continue
    fi
    AVAILABLE[$kind]=1
    "${mode}_case" "$kind" fdaa::3 "$SPOOF_INFRA" spoofed_source
    "${mode}_case" "$kind" victim-net "$SPOOF_VICTIM_NET" spoofed_source
    "${mode}_case" "$kind" m1-own "$M1" cross_network
    tunnel_down "$kind"
  done
}

# ---- the agent: audit first (proves every path delivers), then enforce ----
config="$SG_WORK/config.yaml"
write_config() { # write_config MODE [INFRA_PREFIXES_YAML]
  sg_write_config "$config" "encap_udp_ports: [8472]"
  sed -i "s/^mode: enforce\$/mode: $1/" "$config"
  [ -n "${2:-}" ] && sed -i "s|^infra_prefixes: .*|infra_prefixes: $2|" "$config"
  return 0
}
write_config audit
sg_agent_start "$config" || { echo "FAIL: agent did not start"; exit 1; }
cat >"$SG_WORK/events.json" <<JSON
{"type":"network.created","org":"acme","network":"net-a","id":"a:1"}
{"type":"network.created","org":"globex","network":"net-c","id":"c:1"}
{"type":"app.created","org":"acme","app":"app-a1","network":"net-a"}
{"type":"app.created","org":"globex","app":"app-c1","network":"net-c"}
$(sg_machine_started app-a1 m1 "$M1" "$(sg_if m1)")
$(sg_machine_started app-c1 m3 "$M3" "$(sg_if m3)")
JSON
reply=$(sg_api POST /v1/events "$SG_WORK/events.json")
sg_check "events applied: $(sg_body_of "$reply")" test "$(sg_status_of "$reply")" = 200
sg_check "programs attached to m1's interface" sg_wait_attached "$(sg_if m1)"
sg_check "programs attached to m3's interface" sg_wait_attached "$(sg_if m3)"

sg_say "audit mode: every tunnel path delivers, and is counted"
run_cases audit

sg_say "enforce mode: nothing arrives"
sg_agent_stop || true
write_config enforce '["fdaa::3/128", "fdaa:77:1::/48"]'
sg_agent_start "$config" || { echo "FAIL: agent did not restart in enforce mode"; exit 1; }
# The monitor stream, to see which level decided. It is known to be connected once it shows
# the drop of a plain (not tunnelled) datagram from a spoofed source, sent until it does.
MONITOR_OUT="$SG_WORK/monitor.json"
"$SIXGUARD" monitor --json --socket "$SG_WORK/api.sock" >"$MONITOR_OUT" 2>&1 &
MONITOR_PID=$!
SG_PIDS+=("$MONITOR_PID")
SENTINEL=fdaa:a:1:0:1:0:77:2 # m1's network, outside m1's /112
ip -n "$N1" addr add "$SENTINEL/128" dev lo nodad
deadline=$((SECONDS + 20))
until [ "$(events "$SENTINEL" "$M3" spoofed_source)" -gt 0 ] || [ $SECONDS -ge $deadline ]; do
  echo sentinel | ip netns exec "$N1" socat -u - UDP6-SENDTO:"[$M3]":"$PORT",bind="[$SENTINEL]" 2>/dev/null
  sleep 0.2
done
sg_check "monitor stream connected (it shows the sentinel's drop)" \
  test "$(events "$SENTINEL" "$M3" spoofed_source)" -gt 0
run_cases enforce
kill "$MONITOR_PID" 2>/dev/null
if [ ${#AVAILABLE[@]} = 0 ]; then sg_fail "no tunnel kind could be set up"; fi

# ---- infrastructure prefixes on the real agent (issue 13 A) ----
sg_say "infrastructure prefixes"
echo '{"type":"network.created","org":"evil","network":"grab","id":"77:1"}' >"$SG_WORK/grab.json"
reply=$(sg_api POST /v1/events "$SG_WORK/grab.json")
echo "    $(sg_body_of "$reply")"
sg_check "network.created for an id holding infra prefix fdaa:77:1::/48 is 409" \
  test "$(sg_status_of "$reply")" = 409
sg_agent_stop || true
write_config enforce '["fdaa::3/128", "fdaa:c:1:5::/64"]'
out=$(ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$config" 2>&1)
status=$?
echo "    $(tail -n 1 <<<"$out")"
sg_check "restart with an infra prefix inside persisted network net-c: exit 2 (got $status)" \
  test "$status" = 2
sg_check "... naming the prefix and the network" \
  bash -c 'grep -F "fdaa:c:1:5::/64" <<<"$1" | grep -qF "net-c"' _ "$out"
sg_check "... and the programs stay attached to m1's interface" sg_attached "$(sg_if m1)"
write_config enforce '["::/0"]'
out=$(ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$config" 2>&1)
status=$?
echo "    $(tail -n 1 <<<"$out")"
sg_check "infra_prefixes [::/0]: exit 2 naming the key (got $status)" \
  bash -c '[ "$1" = 2 ] && grep -qF "infra_prefixes" <<<"$2"' _ "$status" "$out"

sg_finish tunnel
