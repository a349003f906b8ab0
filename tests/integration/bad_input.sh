#!/usr/bin/env bash
# Test that bad input is refused cleanly and changes nothing:
#  - a bad configuration: a clear error naming the key and the file, exit status 2;
#  - malformed (400), conflicting (409) and invalid (422) events: nothing applied;
#  - a machine whose interface does not exist yet: accepted, and attached and enforced the
#    moment the interface appears.
#   usage: bad_input.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: bad_input.sh PATH/TO/sixguard}
source "$(dirname "$0")/lib.sh"
sg_begin

# ---- configuration ----
sg_say "bad configuration"
bad_config() { # bad_config DESCRIPTION KEY YAML: exit 2 and the error names KEY and the file
  local what=$1 key=$2 file="$SG_WORK/bad.yaml" out status
  printf '%s\n' "$3" >"$file"
  out=$("$SIXGUARD" agent --config "$file" 2>&1)
  status=$?
  echo "    $out"
  sg_check "$what: exit 2, error names '$key' and the file" \
    test "$status" = 2 -a -n "$(grep -F "$key" <<<"$out" | grep -F "$file")"
}
bad_config "unknown key" colour "colour: blue"
bad_config "bad mode" mode "mode: strict"
bad_config "bad infra prefix" infra_prefixes 'infra_prefixes: ["fdaa::zz/128"]'
bad_config "ring buffer not a power of two" map_sizes.events "map_sizes: {events: 5000}"
bad_config "bad metrics address" metrics_address 'metrics_address: "localhost"'
bad_config "health address not loopback" health_address 'health_address: "0.0.0.0:9531"'
out=$("$SIXGUARD" agent --config "$SG_WORK/does-not-exist.yaml" 2>&1)
status=$?
echo "    $out"
sg_check "missing explicit --config file: exit 2, names the file" \
  test "$status" = 2 -a -n "$(grep -F "$SG_WORK/does-not-exist.yaml" <<<"$out")"
out=$("$SIXGUARD" agent --frobnicate 2>&1)
sg_check "unknown agent flag: exit 2" test $? = 2

# ---- events ----
sg_topology || { echo "FAIL: could not build the topology"; exit 1; }
# m4's interface does not exist when its machine.started arrives.
ip -n "$SG_HOST" link del "$(sg_if m4)"
sg_write_config "$SG_WORK/config.yaml"
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not start"; exit 1; }
out=$(ip netns exec "$SG_HOST" timeout "$SG_EXIT_WAIT" "$SIXGUARD" agent --config "$SG_WORK/config.yaml" 2>&1)
status=$?
echo "    $(tail -n 1 <<<"$out")"
# One agent per state (DESIGN §5): exit 2, naming the first (state_guard.sh tests the rest).
sg_check "a second agent on the same state refuses to start (exit 2, names PID $SG_AGENT_PID)" \
  test "$status" = 2 -a -n "$(grep -F "locked by another sixguard agent (PID $SG_AGENT_PID)" <<<"$out")"
sg_write_events "$SG_WORK/events.json"
reply=$(sg_api POST /v1/events "$SG_WORK/events.json")
sg_check "events with m4's interface missing accepted: $(sg_body_of "$reply")" \
  test "$(sg_status_of "$reply")" = 200
for m in m1 m2 m3; do sg_check "attached to $(sg_if "$m")" sg_wait_attached "$(sg_if "$m")"; done
sg_check "/readyz 200 although m4's interface is absent" \
  test "$(sg_metrics /readyz >/dev/null; ip netns exec "$SG_HOST" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SG_METRICS_PORT/readyz")" = 200
health_code() { ip netns exec "$SG_HOST" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:9531$1"; }
sg_check "health listener (default health_address 127.0.0.1:9531): /healthz and /readyz 200" \
  test "$(health_code /healthz) $(health_code /readyz)" = "200 200"
sg_check "health listener serves no /metrics (404)" test "$(health_code /metrics)" = 404

sg_say "malformed, conflicting and invalid events"
snapshot() { # what must not change: apps, networks, the maps' entries
  sg_body_of "$(sg_api GET /v1/apps)"
  sg_body_of "$(sg_api GET /v1/networks)"
  sg_body_of "$(sg_api GET /v1/status)" | sed -nE 's/.*("maps":\{[^}]*\}[^}]*\}[^}]*\}[^}]*\}\}).*/\1/p'
}
before=$(snapshot)
post_text() { # post_text EXPECTED_STATUS DESCRIPTION BODY
  printf '%s' "$3" >"$SG_WORK/bad-event.json"
  local reply
  reply=$(sg_api POST /v1/events "$SG_WORK/bad-event.json")
  echo "    $(sg_status_of "$reply") $(sg_body_of "$reply")"
  sg_check "$2 -> $1" test "$(sg_status_of "$reply")" = "$1"
}
post_text 400 "truncated JSON" '{"type":"machine.started","app":'
post_text 400 "unknown type" '{"type":"machine.teleported","machine":"m9"}'
post_text 400 "missing field" '{"type":"machine.started","app":"app-a1","machine":"m9","interface":"x"}'
post_text 409 "network id rebound to another name" \
  '{"type":"network.created","org":"acme","network":"net-z","id":"a:1"}'
post_text 409 "app moved to another network" \
  '{"type":"app.created","org":"acme","app":"app-a1","network":"net-b"}'
post_text 422 "machine address outside its app's network" \
  "$(sg_machine_started app-a1 m9 fdaa:b:1:0:1:0:9:2 x9)"
post_text 422 "unknown app" \
  "$(sg_machine_started app-zz m9 fdaa:a:1:0:1:0:9:2 x9)"
# A batch whose last event is bad: the good ones before it are not applied either.
post_text 422 "batch with one bad event (all or nothing)" \
  '[{"type":"app.created","org":"acme","app":"app-new","network":"net-a"},
    {"type":"flycast.allocated","app":"app-new","address":"fdaa:c:1::1","network":"net-b"}]'
after=$(snapshot)
sg_check "nothing changed (apps, networks, map entries)" test "$before" = "$after"

# ---- the missing interface appears ----
sg_say "m4's interface appears"
sg_link "$SG_PREFIX-m4" "$(sg_if m4)" "${SG_ADDR[m4]}" "${SG_ADDR[m4]%:*}:0/112"
sg_check "attached to $(sg_if m4) once it exists" sg_wait_attached "$(sg_if m4)"
sg_check "m4 -> m1 (cross network) blocked" sg_not sg_probe_ping m4 "${SG_ADDR[m1]}"
sg_check "m4 -> fdaa::3 (infra) passes" sg_probe_ping m4 fdaa::3
sg_check "m2 -> m4 TCP (cross network) blocked" sg_not sg_probe_tcp m2 "${SG_ADDR[m4]}"

sg_finish bad_input
