#!/bin/bash
# What an operator reads (issue 16): the agent's JSON log and the monitor, against the real agent
# with real traffic.
#
#   operate.sh SIXGUARD_BINARY
#
# 1. log_format: json. The agent runs with SIXGUARD_LOG_LEVEL=debug (so libbpf's and libxdp's
#    lines are in it too); a good batch, a refused (422) and a malformed (400) batch are sent;
#    then EVERY stderr line must parse as a JSON object with an RFC 3339 time, a level, a
#    component and a message, the applied batch must have one info line with its counts by type,
#    and each refused batch one warning with its index, type, field and code.
# 2. --node-config: the agent starts with a node-local file whose uplinks replace the base
#    config's; the uplink is attached (bpftool sees it) and the log says the file was applied.
# 3. The monitor: drops of m1 (net-a) -> m3 (net-b), m1 -> m4 (net-c), and of a remote net-c
#    address behind the uplink -> m3 (hook uplink) carry a wall-clock
#    time close to now (not time since boot), and the names of both ends (machine, app, network,
#    org) from the agent's state. Every filtered stream (--network, --reason, --hook) must
#    receive a drop it matches (proof it is connected) and nothing it excludes. Unknown filter
#    hook and reason values are usage errors (exit 2, checked by the CLI); an unknown network is the
#    agent's 400, so exit 1 (refused) naming it.
#
# Root only; skips (77) otherwise unless SIXGUARD_REQUIRE_KERNEL_TESTS=1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SIXGUARD=${1:-}
SG_PREFIX=sg-op-$$
SG_IFP=o$$
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
SG_METRICS_PORT=$(sg_random_port 20000)

sg_begin jq
sg_topology || { echo "FAIL: topology"; exit 1; }
export LIBXDP_BPFFS=$SG_BPFFS

# Another host behind an uplink named only in the node-local file: a namespace holding a
# net-c address, reached through the veth $UPLINK.
UPLINK="${SG_IFP}up"
REMOTE=fdaa:c:1:0:9:0:9:2
sg_ns "$SG_PREFIX-remote" && sg_link "$SG_PREFIX-remote" "$UPLINK" "$REMOTE" ||
  { echo "FAIL: cannot create the remote host behind $UPLINK"; exit 1; }

sg_write_config "$SG_WORK/config.yaml" "log_format: json" "uplinks: []"
echo "uplinks: [$UPLINK]" >"$SG_WORK/node.yaml"

LOG="$SG_WORK/agent.log"
ip netns exec "$SG_HOST" env SIXGUARD_LOG_LEVEL=debug "$SIXGUARD" agent \
  --config "$SG_WORK/config.yaml" --node-config "$SG_WORK/node.yaml" >"$SG_WORK/agent.stdout" 2>"$LOG" &
SG_AGENT_PID=$!
sg_wait_ready || { echo "FAIL: agent not ready"; tail -n 30 "$LOG"; exit 1; }
sg_say "agent ready (json log, node config $SG_WORK/node.yaml)"

# ---- batches: good, refused, malformed ----
sg_write_events "$SG_WORK/events.ndjson"
reply=$(sg_api POST /v1/events "$SG_WORK/events.ndjson")
[ "$(sg_status_of "$reply")" = 200 ] || { echo "FAIL: POST /v1/events: $reply"; exit 1; }
printf '%s\n' '{"type":"network.created","org":"acme","network":"net-z","id":"7:1"}' \
  '{"type":"app.created","org":"acme","app":"app-z","network":"no-such-net"}' >"$SG_WORK/bad.ndjson"
bad=$(sg_api POST /v1/events "$SG_WORK/bad.ndjson")
sg_check "a batch naming an unknown network is refused ($(sg_status_of "$bad"))" \
  test "$(sg_status_of "$bad")" = 422
echo '{"type":"network.created",' >"$SG_WORK/malformed.json"
malformed=$(sg_api POST /v1/events "$SG_WORK/malformed.json")
sg_check "a malformed batch is refused ($(sg_status_of "$malformed"))" \
  test "$(sg_status_of "$malformed")" = 400
sg_wait_attached "$(sg_if m1)" || { echo "FAIL: m1 not attached"; exit 1; }

# ---- node config: the uplink named only there is attached ----
uplink_attached() {
  wait_for 60 sh -c "ip netns exec '$SG_HOST' bpftool net show dev '$UPLINK' 2>/dev/null | grep -q '$UPLINK('" && return 0
  ip netns exec "$SG_HOST" bpftool net show dev "$UPLINK"
  grep "$UPLINK" "$LOG" | tail -n 3
  return 1
}
sg_check "the uplink from --node-config ($UPLINK) is attached" uplink_attached
sg_check "the log says the node configuration was applied" \
  grep -q '"message":"node configuration [^"]*node.yaml applied"' "$LOG"
printed=$("$SIXGUARD" agent --config "$SG_WORK/config.yaml" --node-config "$SG_WORK/node.yaml" --print-config)
sg_check "--print-config shows the merged uplinks" grep -qx "uplinks: \[$UPLINK\]" <<<"$printed"
sg_check "--print-config keeps the base's other keys (log_format json)" grep -qx "log_format: json" <<<"$printed"

# ---- the monitor ----
mon() { # mon NAME ARGS...: a monitor stream to $SG_WORK/mon-NAME.json
  local name=$1
  shift
  "$SIXGUARD" monitor --json --socket "$SG_WORK/api.sock" "$@" >"$SG_WORK/mon-$name.json" 2>&1 &
  SG_PIDS+=($!)
}
mon all
mon netc --network net-c
mon netc_by_org --network globex/net-c
mon netb_by_id --network b:1
mon egress_cross --hook machine_egress --reason cross_network
mon uplink --hook uplink
jqe() { jq -e "$@" >/dev/null; } # jq -e, quiet: the exit status decides
lines() { if [ -f "$1" ]; then grep -c "^{" "$1"; else echo 0; fi; }
has_pair() { # has_pair FILE SRC DST: a record from SRC to DST is in FILE (a line still being
  # written is skipped)
  [ "$(jq -R -c --arg s "$2" --arg d "$3" 'fromjson? | select(.src == $s and .dst == $d)' "$1" \
    2>/dev/null | wc -l)" -gt 0 ]
}
# Pings until every positive stream has the drop it must see (then the negative ones were
# connected too: they started before the positive ones).
ping_started=$(date +%s)
deadline=$((SECONDS + 30))
until { has_pair "$SG_WORK/mon-netc.json" "${SG_ADDR[m1]}" "${SG_ADDR[m4]}" &&
  has_pair "$SG_WORK/mon-netc_by_org.json" "${SG_ADDR[m1]}" "${SG_ADDR[m4]}" &&
  has_pair "$SG_WORK/mon-netb_by_id.json" "${SG_ADDR[m1]}" "${SG_ADDR[m3]}" &&
  has_pair "$SG_WORK/mon-egress_cross.json" "${SG_ADDR[m1]}" "${SG_ADDR[m3]}" &&
  has_pair "$SG_WORK/mon-uplink.json" "$REMOTE" "${SG_ADDR[m3]}" &&
  has_pair "$SG_WORK/mon-all.json" "${SG_ADDR[m1]}" "${SG_ADDR[m3]}" &&
  has_pair "$SG_WORK/mon-all.json" "${SG_ADDR[m1]}" "${SG_ADDR[m4]}"; } || [ $SECONDS -ge $deadline ]; do
  sg_probe_ping m1 "${SG_ADDR[m3]}"
  sg_probe_ping m1 "${SG_ADDR[m4]}"
  sg_probe_ping remote "${SG_ADDR[m3]}"
done
ping_ended=$(date +%s)
sg_say "monitor records: all $(lines "$SG_WORK/mon-all.json"), net-c $(lines "$SG_WORK/mon-netc.json"), b:1 $(lines "$SG_WORK/mon-netb_by_id.json"), uplink $(lines "$SG_WORK/mon-uplink.json")"

first=$(jq -c --arg s "${SG_ADDR[m1]}" --arg d "${SG_ADDR[m4]}" 'select(.src == $s and .dst == $d)' "$SG_WORK/mon-all.json" | head -n 1)
sg_say "a record: $first"
sg_check "the record names both ends (m1 app-a1 acme/net-a -> app-c1 globex/net-c)" \
  jqe '.src_machine == "m1" and .src_app == "app-a1" and .src_network == "net-a" and .src_org == "acme"
    and .dst_machine == "m4" and .dst_app == "app-c1" and .dst_network == "net-c" and .dst_org == "globex"
    and .hook == "machine_egress" and .verdict == "drop" and .reason == "cross_network"' <<<"$first"
stamp=$(jq -r '.time' <<<"$first")
sg_check "the time is RFC 3339 UTC ($stamp)" \
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' <<<"$stamp"
event_s=$(date -u -d "$stamp" +%s 2>/dev/null || echo 0)
# The wall clock of the drop lies between the first ping and the last (1 s of slack for the
# second boundaries); time since boot read as a date would be decades off.
sg_check "the time is the wall clock of the drop ($event_s within $ping_started..$ping_ended)" \
  test "$event_s" -ge $((ping_started - 1)) -a "$event_s" -le $((ping_ended + 1))

only() { # only FILE JQ-CONDITION: every record satisfies it (and there is at least one)
  [ "$(lines "$1")" -gt 0 ] && jq -e -s "all(.[]; $2)" "$1" >/dev/null
}
sg_check "--network net-c: only records with an end on net-c" \
  only "$SG_WORK/mon-netc.json" '.src_network == "net-c" or .dst_network == "net-c"'
sg_check "--network globex/net-c: the same" \
  only "$SG_WORK/mon-netc_by_org.json" '.src_network == "net-c" or .dst_network == "net-c"'
sg_check "--network b:1: only records with an end on net-b" \
  only "$SG_WORK/mon-netb_by_id.json" '.src_network == "net-b" or .dst_network == "net-b"'
sg_check "--hook machine_egress --reason cross_network: only those (not the uplink's)" \
  only "$SG_WORK/mon-egress_cross.json" '.hook == "machine_egress" and .reason == "cross_network"'
sg_check "--hook uplink: only the uplink's drops (remote net-c -> m3), none of machine_egress" \
  only "$SG_WORK/mon-uplink.json" '.hook == "uplink" and .src_network == "net-c" and .dst_machine == "m3"'
sg_check "the unfiltered stream has the uplink's drop too" \
  has_pair "$SG_WORK/mon-all.json" "$REMOTE" "${SG_ADDR[m3]}"

# ---- filters: unknown values are usage errors ----
usage_error() { # usage_error EXPECTED-TEXT ARGS...
  local expected=$1 out status
  shift
  out=$(timeout "$SG_EXIT_WAIT" "$SIXGUARD" monitor --socket "$SG_WORK/api.sock" "$@" 2>&1)
  status=$?
  [ "$status" = 2 ] && grep -q "$expected" <<<"$out" || { echo "    exit $status: $out"; return 1; }
}
sg_check "monitor --hook bogus: exit 2" usage_error "bogus" --hook bogus
sg_check "monitor --reason nope: exit 2" usage_error "nope" --reason nope
refused() { # refused EXPECTED-TEXT ARGS...: the agent's 400, exit 1 (DESIGN: 1 = 4xx)
  local expected=$1 out status
  shift
  out=$(timeout "$SG_EXIT_WAIT" "$SIXGUARD" monitor --socket "$SG_WORK/api.sock" "$@" 2>&1)
  status=$?
  [ "$status" = 1 ] && grep -q "$expected" <<<"$out" || { echo "    exit $status: $out"; return 1; }
}
sg_check "monitor --network no-such-net: exit 1 naming it" refused "no-such-net" --network no-such-net
sg_check "monitor --network 9:9 (unknown id): exit 1" refused "9:9" --network 9:9
api_status() { sg_status_of "$(sg_api GET "$1")"; }
sg_check "GET /v1/monitor?hook=bogus: 400" test "$(api_status '/v1/monitor?hook=bogus')" = 400
sg_check "GET /v1/monitor?colour=red: 400" test "$(api_status '/v1/monitor?colour=red')" = 400

# ---- a client flooding bad batches cannot flood the log ----
# 100 malformed batches as fast as curl sends them, then (after a full rate window) one more,
# whose line reports how many were left out: every batch is either logged or counted.
FLOOD=100
for _ in $(seq 1 $FLOOD); do sg_api POST /v1/events "$SG_WORK/malformed.json" >/dev/null; done
sleep 1.1 # one whole rate-limit window (1 s) passes: the next line is certain to be logged
sg_api POST /v1/events "$SG_WORK/malformed.json" >/dev/null

# ---- the JSON log ----
sg_agent_stop TERM || true
total=$(wc -l <"$LOG")
bad_lines=$(jq -R -c 'fromjson? // "NOT JSON"' "$LOG" | grep -c '^"NOT JSON"$')
sg_say "agent log: $total lines"
sg_check "every one of the $total log lines is JSON ($bad_lines are not)" test "$bad_lines" = 0 -a "$total" -gt 10
sg_check "every line has time (RFC 3339), level, component and message" \
  jqe -s 'all(.[]; (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))
    and (.level | IN("debug","info","warn","error")) and (.component | type == "string" and length > 0)
    and (.message | type == "string"))' "$LOG"
sg_check "debug lines are there (SIXGUARD_LOG_LEVEL=debug wins over the default)" \
  jqe -s 'any(.[]; .level == "debug")' "$LOG"
applied=$(jq -c 'select(.component == "events" and .level == "info")' "$LOG")
sg_say "applied batch: $applied"
sg_check "one info line for the applied batch, with counts by type" \
  jqe -s 'length == 1 and (.[0] | .applied == 12 and .unchanged == 0 and .status == 200
    and .applied_by_type == {"network.created":3,"app.created":4,"flycast.allocated":1,"machine.started":4})' <<<"$applied"
refused=$(jq -c 'select(.component == "events" and .level == "warn")' "$LOG")
sg_say "refused batches (first 3 lines): $(head -n 3 <<<"$refused")"
sg_check "a warning for the 422 batch: index 1, type app.created, field network, code invalid" \
  jqe -s 'any(.[]; .status == 422 and .index == 1 and .type == "app.created" and .field == "network"
    and .code == "invalid" and (.error | type == "string"))' <<<"$refused"
sg_check "a warning for the 400 batch: code malformed" \
  jqe -s 'any(.[]; .status == 400 and .code == "malformed")' <<<"$refused"
logged=$(jq -s '[.[] | select(.status == 400)] | length' <<<"$refused")
left_out=$(jq -s '[.[] | .suppressed // 0] | add' <<<"$refused")
sg_say "malformed batches: $((FLOOD + 2)) sent, $logged logged, $left_out left out (at most 20 lines a second)"
sg_check "every refused batch is logged or counted as left out ($logged + $left_out = $((FLOOD + 2)))" \
  test $((logged + left_out)) = $((FLOOD + 2))
sg_check "exactly one warning for the 422 batch" jqe -s '[.[] | select(.status == 422)] | length == 1' <<<"$refused"

sg_finish operate
