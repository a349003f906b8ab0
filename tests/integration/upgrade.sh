#!/usr/bin/env bash
# Upgrade under traffic (DESIGN §5, issue 12): the kernel as an older build left it (its
# programs attached, on an sg_machines of another layout, sg_meta saying layout 0:
# tests/fixtures/older_agent), then today's agent started while a same-network and a
# cross-network stream of sequence-numbered UDP run. It must migrate, never misread: a new
# sg_machines of today's layout filled from the state, the older programs replaced atomically
# (XDP directly or inside libxdp's dispatcher, whichever the kernel gives), the pin swapped,
# sg_meta at today's layout; 0 cross-network datagrams delivered, 0 same-network lost.
#   usage: upgrade.sh PATH/TO/sixguard [UDP_SEQ OLDER_AGENT OLDER_OBJECT]  (defaults: in the
#          build tree next to sixguard, as the VM guest suite runs it)
set -uo pipefail
SIXGUARD=${1:?usage: upgrade.sh PATH/TO/sixguard [UDP_SEQ OLDER_AGENT OLDER_OBJECT]}
build=$(dirname "$SIXGUARD")
UDP_SEQ=${2:-$build/tests/integration/sixguard_udp_seq}
OLDER_AGENT=${3:-$build/tests/fixtures/sixguard_older_agent}
OLDER_OBJECT=${4:-$build/tests/fixtures/sixguard_older.bpf.o}
SG_PREFIX=sg-up-$$
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tools/takeover_lib.sh"
sg_require_environment jq
for tool in "$UDP_SEQ" "$OLDER_AGENT"; do [ -x "$tool" ] || sg_skip "not built: $tool"; done
[ -f "$OLDER_OBJECT" ] || sg_skip "not built: $OLDER_OBJECT"
sg_init

sg_start_all
ifnames=()
for m in "${SG_MACHINES[@]}"; do ifnames+=("$(sg_if "$m")"); done
machines_before=$(map_keys sg_machines)
# The Flycast address is released for the takeover, so that sg_machines (the map whose layout
# changes) is the only map holding entries: the empty-state guard below must count it.
echo "{\"type\":\"flycast.released\",\"address\":\"$SG_FLYCAST\"}" >"$SG_WORK/release.json"
reply=$(sg_api POST /v1/events "$SG_WORK/release.json")
sg_check "Flycast released" test "$(sg_status_of "$reply")" = 200
sg_agent_stop TERM

# ---- the older build takes the kernel over ----
sg_say "an older build's programs and sg_machines layout put in place"
# libxdp keeps its dispatcher state in a bpffs: the agent points it at its own (main.cpp).
if ! LIBXDP_BPFFS=$SG_BPFFS ip netns exec "$SG_HOST" "$OLDER_AGENT" "$OLDER_OBJECT" "$SG_BPFFS/sixguard" "${ifnames[@]}" \
  >"$SG_WORK/older.log" 2>&1; then
  echo "FAIL: the older build could not be put in place:"
  cat "$SG_WORK/older.log"
  exit 1
fi
cat "$SG_WORK/older.log"
# An older build has no sg_owner_slots (issue 14): its pin goes (the older programs keep the
# map they were loaded with); today's agent must create it and fill it from the state.
rm -f "$SG_BPFFS/sixguard/sg_owner_slots"
value_size() { ip netns exec "$SG_HOST" bpftool -j map show pinned "$(pin "$1")" | jq -r .bytes_value; }
meta_slot() { # sg_meta slot $1 (little-endian u32)
  ip netns exec "$SG_HOST" bpftool -j map lookup pinned "$(pin sg_meta)" key "$1" 0 0 0 |
    jq -r '.formatted.value // (.value | map(tonumber) | .[0] + 256 * .[1])'
}
sg_check "older layout pinned: sg_machines value of 32 bytes" test "$(value_size sg_machines)" = 32
sg_check "older layout recorded: sg_meta says sg_machines is layout 0" test "$(meta_slot 0)" = 0
for m in "${SG_MACHINES[@]}"; do
  sg_check "the older programs on $(sg_if "$m") use the older sg_machines" \
    programs_use_pinned "$(sg_if "$m")" sg_machines
done
sg_check "older build enforcing: m1 -> m2 passes" sg_probe_ping m1 "${SG_ADDR[m2]}"
sg_check "older build enforcing: m1 -> m3 blocked" sg_not sg_probe_ping m1 "${SG_ADDR[m3]}"

# ---- hostile operator: today's agent over the older build with its state missing ----
# The new sg_machines would start empty (another layout): the refusal must count the old map.
sg_say "today's agent with the state missing: must refuse, the older build left enforcing"
mv "$SG_WORK/state" "$SG_WORK/state.kept"
status=0
ip netns exec "$SG_HOST" timeout 120 "$SIXGUARD" agent --config "$SG_WORK/config.yaml" \
  >"$SG_WORK/refused.log" 2>&1 || status=$?
sg_check "refused for safety (exit 2, got $status)" test "$status" = 2
sg_check "... saying the pinned maps hold entries" grep -q "is empty (it is missing) but the maps pinned in .* hold 4 entries" "$SG_WORK/refused.log"
rm -rf "$SG_WORK/state"
mv "$SG_WORK/state.kept" "$SG_WORK/state"
sg_check "older sg_machines still pinned (32 bytes)" test "$(value_size sg_machines)" = 32
sg_check "the older programs on $(sg_if m1) still use it" programs_use_pinned "$(sg_if m1)" sg_machines

# ---- today's agent starts under traffic ----
sg_say "upgrade: today's agent started under traffic"
streams_start
sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not start over the older build"; exit 1; }
streams_finish
streams_check upgrade
sg_check "the log names the migration of sg_machines (value size 32 -> 28, layout 0 -> 2)" \
  grep -q "migrating pinned map sg_machines (value size 32 -> 28, layout 0 -> 2; another layout: filled from the state)" \
  "$SG_WORK/agent.log"
sg_check "the log says how the older programs were replaced" \
  grep -Eq "$(sg_if m1) machine_egress: replaced (atomically|in libxdp's dispatcher)" "$SG_WORK/agent.log"
grep -E "$(sg_if m1) machine_egress: " "$SG_WORK/agent.log" | tail -n 1
printf '{"type":"flycast.allocated","app":"%s","address":"%s","network":"%s"}\n' \
  "$SG_FLYCAST_TARGET" "$SG_FLYCAST" "$SG_FLYCAST_NET" >"$SG_WORK/allocate.json"
reply=$(sg_api POST /v1/events "$SG_WORK/allocate.json")
sg_check "Flycast allocated again" test "$(sg_status_of "$reply")" = 200
sg_check "sg_machines pin now today's layout (28 bytes)" test "$(value_size sg_machines)" = 28
sg_check "sg_meta says sg_machines is layout 2" test "$(meta_slot 0)" = 2
sg_check "every sg_machines entry present" test "$(map_keys sg_machines)" = "$machines_before"
sg_check "no staging pin left" sg_not test -e "$(pin sg_machines_next)"
for m in "${SG_MACHINES[@]}"; do
  sg_check "programs on $(sg_if "$m") use the pinned sg_machines" \
    programs_use_pinned "$(sg_if "$m")" sg_machines
done
# Each machine's owner slot (index ifindex & (size - 1): seq 4 bytes, ifindex 4, then the
# sg_machines value) says what sg_machines says for its interface.
slot_matches_hash() { # slot_matches_hash IFNAME
  local ifindex slots index hash slot
  ifindex=$(ip -n "$SG_HOST" -o link show dev "$1" | cut -d: -f1)
  slots=$(ip netns exec "$SG_HOST" bpftool -j map show pinned "$(pin sg_owner_slots)" | jq .max_entries)
  index=$((ifindex & (slots - 1)))
  hash=$(ip netns exec "$SG_HOST" bpftool -j map lookup pinned "$(pin sg_machines)" \
    key $((ifindex & 255)) $(((ifindex >> 8) & 255)) $(((ifindex >> 16) & 255)) $(((ifindex >> 24) & 255)) |
    jq -c '(.value // .[0].value) | map(ltrimstr("0x") | ascii_downcase)') || return 1
  slot=$(ip netns exec "$SG_HOST" bpftool -j map lookup pinned "$(pin sg_owner_slots)" \
    key $((index & 255)) $(((index >> 8) & 255)) $(((index >> 16) & 255)) $(((index >> 24) & 255)) |
    jq -c '(.value // .[0].value) | map(ltrimstr("0x") | ascii_downcase)') || return 1
  [ "$(jq -r '.[4:8] | reverse | join("")' <<<"$slot")" = "$(printf '%08x' "$ifindex")" ] &&
    [ "$(jq -c '.[8:36]' <<<"$slot")" = "$hash" ] && [ $((0x$(jq -r '.[0]' <<<"$slot") % 2)) = 0 ]
}
sg_check "sg_owner_slots pinned again by today's agent" test -e "$(pin sg_owner_slots)"
for m in "${SG_MACHINES[@]}"; do
  sg_check "the owner slot of $(sg_if "$m") is filled from the state (= its sg_machines entry)" \
    slot_matches_hash "$(sg_if "$m")"
  sg_check "programs on $(sg_if "$m") use the pinned sg_owner_slots" \
    programs_use_pinned "$(sg_if "$m")" sg_owner_slots
done
sg_run_matrix
sg_check_matrix
sg_check "connectivity matrix exact after the upgrade" test $? = 0

sg_finish upgrade
