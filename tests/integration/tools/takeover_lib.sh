# Helpers of the takeover and upgrade tests (takeover.sh, upgrade.sh), sourced after lib.sh:
# what the pins and the attached programs are (bpftool), and two sequence-numbered UDP
# streams from m1 (same network: to m2; cross network: to m3) counted by udp_seq ($UDP_SEQ).

pin() { echo "$SG_BPFFS/sixguard/$1"; }
map_id() { ip netns exec "$SG_HOST" bpftool -j map show pinned "$(pin "$1")" | jq -r .id; }
map_max() { ip netns exec "$SG_HOST" bpftool -j map show pinned "$(pin "$1")" | jq -r .max_entries; }
map_keys() { # the keys of a pinned map, one per line, sorted
  ip netns exec "$SG_HOST" bpftool -j map dump pinned "$(pin "$1")" |
    jq -c '.[] | (.key // .formatted.key)' | sort
}
# The IDs of the maps the programs on interface $1 use (XDP, inside a dispatcher or not, and
# TC), one line per program: "prog <id>: <map ids>".
prog_ids_on() {
  ip netns exec "$SG_HOST" bpftool -j net show dev "$1" |
    jq -r '.[0] | ((.xdp // [])[] | (.multi_attachments // [.])[] | .id),
                  ((.tc // [])[] | select(.name | startswith("sg_")) | .id)' 2>/dev/null
}
# True when every sg_ program on interface $1 uses the map pinned as $2.
programs_use_pinned() {
  local ifname=$1 want id used found=0 dispatcher=0
  want=$(map_id "$2")
  for id in $(prog_ids_on "$ifname"); do
    local name
    name=$(ip netns exec "$SG_HOST" bpftool -j prog show id "$id" | jq -r .name)
    case "$name" in sg_*) ;; xdp_dispatcher) dispatcher=1; continue ;; *) continue ;; esac
    used=$(ip netns exec "$SG_HOST" bpftool -j prog show id "$id" | jq -r '.map_ids[]?')
    grep -qx "$want" <<<"$used" || { echo "  $ifname: $name (prog $id) uses maps $(echo $used) but $2 is map $want"; return 1; }
    found=$((found + 1))
  done
  # libxdp's dispatcher hides its components from `bpftool net`: xdp-loader lists the programs
  # attached in this interface's dispatcher (" =>  PRIO  NAME  ID  TAG  ACTIONS"), from libxdp's
  # pins under the agent's bpffs. Not every loaded extension program: an older dispatcher's
  # component may stay loaded, attached nowhere, until its last reference goes.
  if [ "$dispatcher" = 1 ]; then
    local components
    components=$(LIBXDP_BPFFS=$SG_BPFFS ip netns exec "$SG_HOST" xdp-loader status "$ifname" 2>/dev/null |
      awk '$1 == "=>" && $3 ~ /^sg_/ && $4 ~ /^[0-9]+$/ { print $4 }')
    [ -n "$components" ] || { echo "  $ifname: xdp-loader lists no sg_ program in the dispatcher"; return 1; }
    for id in $components; do
      used=$(ip netns exec "$SG_HOST" bpftool -j prog show id "$id" | jq -r '.map_ids[]?')
      grep -qx "$want" <<<"$used" || { echo "  $ifname: dispatcher component prog $id uses maps $(echo $used) but $2 is map $want"; return 1; }
      found=$((found + 1))
    done
  fi
  [ "$found" -ge 2 ]
}
explain() { # explain SRC DST [IF] -> "hook verdict reason"
  local body="{\"src\":\"$1\",\"dst\":\"$2\"${3:+,\"interface\":\"$3\"}}"
  echo "$body" >"$SG_WORK/explain.json"
  sg_body_of "$(sg_api POST /v1/explain "$SG_WORK/explain.json")" |
    sed -E 's/.*"hook":"([a-z_]+)".*"reason":"([a-z_0-9]+)".*"verdict":"([a-z]+)".*/\1 \3 \2/'
}
cross_drops() { # machine_egress drop/cross_network packets, summed over CPUs from the pin
  # (read with no agent running too); slot SG_COUNTER_INDEX(machine_egress, drop, cross) = 15
  ip netns exec "$SG_HOST" bpftool -j map lookup pinned "$(pin sg_counters)" key 15 0 0 0 |
    jq '[.formatted.values[].value.packets] | add'
}
distinct_of() { awk '{print $2}' "$1" 2>/dev/null || echo 0; }
# Re-evaluated on every try of wait_for (a "$(...)" argument would be evaluated once).
arrived_more_than() { test "$(distinct_of "$1")" -gt "$2"; }
drops_more_than() { test "$(cross_drops)" -gt "$1"; }
ping_from() { # ping_from MACHINE SRC DST: one echo from SRC (an address of MACHINE's namespace)
  ip netns exec "$SG_PREFIX-$1" ping -6 -c 1 -W 1 -q -I "$2" "$3" >/dev/null 2>&1
}

# streams_start: receivers in m2 and m3, senders in m1, and evidence that both streams flow
# (same-network arrivals, cross-network drops counted) before the caller restarts anything.
streams_start() {
  # The senders run until streams_finish stops them (at most 10 minutes): however long the
  # agent takes to start (minutes in an emulated VM), the streams span the restart.
  rate=${SIXGUARD_TAKEOVER_RATE:-300} # datagrams per second per stream (SIXGUARD_*: reaches VM guests)
  local most=$((rate * 600))
  rm -f "$SG_WORK/same.count" "$SG_WORK/cross.count" "$SG_WORK/same.sent" "$SG_WORK/cross.sent"
  ip netns exec "$SG_PREFIX-m2" "$UDP_SEQ" recv 7009 "$SG_WORK/same.count" >/dev/null 2>&1 &
  same_rx=$!
  SG_PIDS+=($same_rx)
  ip netns exec "$SG_PREFIX-m3" "$UDP_SEQ" recv 7009 "$SG_WORK/cross.count" >/dev/null 2>&1 &
  cross_rx=$!
  SG_PIDS+=($cross_rx)
  sg_wait_listening "$SG_PREFIX-m2" 7009 && sg_wait_listening "$SG_PREFIX-m3" 7009
  drops_before=$(cross_drops)
  ip netns exec "$SG_PREFIX-m1" "$UDP_SEQ" send "${SG_ADDR[m2]}" 7009 "$most" "$rate" >"$SG_WORK/same.sent" &
  same_tx=$!
  SG_PIDS+=($same_tx)
  ip netns exec "$SG_PREFIX-m1" "$UDP_SEQ" send "${SG_ADDR[m3]}" 7009 "$most" "$rate" >"$SG_WORK/cross.sent" &
  cross_tx=$!
  SG_PIDS+=($cross_tx)
  # Evidence that both streams flow before the restart: same-network arrivals, cross drops.
  sg_check "same-network stream arriving before the restart" \
    wait_for 60 arrived_more_than "$SG_WORK/same.count" 0
  sg_check "cross-network stream dropped by machine_egress before the restart" \
    wait_for 60 drops_more_than "${drops_before:-0}"
}
# streams_finish: once the restarted agent is ready, both streams still running, 2 s of
# same-network arrivals more; then the senders stop and say how many they sent; every
# same-network datagram arrived or 60 s passed; the receivers' final counts.
streams_finish() {
  sg_check "the restart happened while both streams ran" kill -0 "$same_tx" "$cross_tx"
  local mark
  mark=$(distinct_of "$SG_WORK/same.count")
  sg_check "same-network stream still arriving after the restart" \
    wait_for 60 arrived_more_than "$SG_WORK/same.count" $((mark + 2 * rate))
  kill -TERM "$same_tx" "$cross_tx"
  wait "$same_tx" "$cross_tx"
  count=$(awk '{print $2}' "$SG_WORK/same.sent")
  count_cross=$(awk '{print $2}' "$SG_WORK/cross.sent")
  # Every same-network datagram has arrived, or the wait ends and the count says how many not.
  wait_for 60 arrived_more_than "$SG_WORK/same.count" $((count - 1))
  kill -TERM "$same_rx" "$cross_rx"
  wait "$same_rx" "$cross_rx" 2>/dev/null
  same=$(distinct_of "$SG_WORK/same.count")
  cross=$(distinct_of "$SG_WORK/cross.count")
  drops_after=$(cross_drops)
}
# streams_check WHAT: 0 cross-network delivered, 0 same-network lost, every cross-network
# datagram met sixguard (counted as a machine_egress drop: not lost on the way).
streams_check() {
  sg_say "$1: same-network $same of $count delivered; cross-network $cross of $count_cross" \
    "delivered, $((drops_after - drops_before)) dropped by machine_egress"
  sg_check "$1: 0 cross-network datagrams delivered ($cross)" test "$cross" = 0
  sg_check "$1: 0 same-network datagrams lost ($same of $count)" test "$same" = "$count"
  sg_check "$1: every cross-network datagram dropped and counted by sixguard" \
    test $((drops_after - drops_before)) -ge "$count_cross"
}
