#!/usr/bin/env bash
# The kernel is checked, not trusted (DESIGN §5): the drift checker against faults made behind
# the running agent's back, with the real agent (drift_check_interval 200ms), real namespaces,
# real traffic and bpftool:
#  1. an sg_machines entry deleted: the machine fails closed until the check puts it back;
#  2. network_id edited in two entries so that a cross-network pair passes: repaired, blocked;
#     then in the two interfaces' owner slots only (sg_owner_slots, the copy the programs read
#     first, issue 14): found as owner_slots drift, cleared, blocked;
#  3. a pin deleted, then bpffs unmounted (in the agent's own mount namespace, never the
#     host's /sys/fs/bpf): mounted and pinned again from the agent's fds, the same maps;
#  4. programs detached (XDP off, or the TC fallback's filter, and the ingress TC filter):
#     attached again.
# Each fault is made while the agent is stopped (SIGSTOP), so that the fault's effect on
# traffic is shown first, with no race against the checker; after SIGCONT the test polls
# the metric and the status for the repair (never a fixed sleep), then checks the
# connectivity cells, the warning in the log and the status.
#   usage: drift.sh PATH/TO/sixguard
set -uo pipefail
SIXGUARD=${1:?usage: drift.sh PATH/TO/sixguard}
SG_PREFIX=sg-drift-$$
source "$(dirname "$0")/lib.sh"
sg_begin jq nsenter

drift_cleanup() {
  local status=$?
  # A stopped agent must be able to die: SIGKILL works on it, but resume it anyway.
  [ -n "$SG_AGENT_PID" ] && kill -CONT "$SG_AGENT_PID" 2>/dev/null
  sg_cleanup
  return $status
}
trap drift_cleanup EXIT

sg_start_all "drift_check_interval: 200ms"
LOG=$SG_WORK/agent.log
PINS=$SG_BPFFS/sixguard

status_json() { sg_body_of "$(sg_api GET /v1/status)"; }
repairs() { # repairs LABEL: sixguard_drift_repairs_total{map="LABEL"}
  sg_metrics /metrics | awk -v series="sixguard_drift_repairs_total{map=\"$1\"}" \
    '$1 == series {print $2 + 0; found=1} END {if (!found) print -1}'
}
repairs_beyond() { [ "$(repairs "$1")" -gt "$2" ]; }
repairs_total() { status_json | jq '.drift.repairs_total'; }
in_sync() { [ "$(status_json | jq '.state.maps_in_sync')" = true ]; }
last_check_stamp() {
  sg_metrics /metrics | awk '$1 == "sixguard_drift_last_check_timestamp_seconds" {print $2 + 0}'
}
log_has() { grep -q -- "$1" "$LOG"; }
ifindex_of() { ip -n "$SG_HOST" -o link show dev "$1" 2>/dev/null | cut -d: -f1; }
key_of() { # key_of IFINDEX: the 4-byte little-endian key bpftool takes
  printf '%d %d %d %d' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}
# sg_owner_slots (issue 14): the programs read an interface's owner from its slot (index
# ifindex & (size - 1); 40 bytes: seq 4, ifindex 4, then the sg_machines value) before the hash,
# so a fault the datapath must see is made in both.
SLOTS=$(bpftool map show pinned "$PINS/sg_owner_slots" -j | jq .max_entries)
slot_key_of() { key_of $(($1 & (SLOTS - 1))); }
clear_slot() { # clear_slot IFINDEX
  # shellcheck disable=SC2046
  bpftool map update pinned "$PINS/sg_owner_slots" key $(slot_key_of "$1") \
    value hex $(printf '00 %.0s' $(seq 40))
}
edit_slot_network() { # edit_slot_network IFINDEX NETWORK_ID: rewrites the copy's network_id (bytes 28-31)
  local ifindex=$1 network=$2 bytes
  # shellcheck disable=SC2046
  read -r -a bytes < <(bpftool map lookup pinned "$PINS/sg_owner_slots" key $(slot_key_of "$ifindex") -j |
    jq -r '(.value // .[0].value) | map(ltrimstr("0x")) | join(" ")') || return 1
  [ "${#bytes[@]}" = 40 ] || return 1
  [ "$(printf '%d' $((0x${bytes[4]} | 0x${bytes[5]} << 8 | 0x${bytes[6]} << 16 | 0x${bytes[7]} << 24)))" = "$ifindex" ] || return 1
  bytes[28]=$(printf '%02x' $((network & 255)))
  bytes[29]=$(printf '%02x' $(((network >> 8) & 255)))
  bytes[30]=$(printf '%02x' $(((network >> 16) & 255)))
  bytes[31]=$(printf '%02x' $(((network >> 24) & 255)))
  # shellcheck disable=SC2046
  bpftool map update pinned "$PINS/sg_owner_slots" key $(slot_key_of "$ifindex") value hex "${bytes[@]}"
}
freeze() { kill -STOP "$SG_AGENT_PID"; }
thaw() { kill -CONT "$SG_AGENT_PID"; }

# The cells each fault can change: same network passes both ways, cross network is blocked
# both ways (ping and TCP).
cells_exact() {
  local what=$1 ok=0
  sg_probe_ping m1 "${SG_ADDR[m2]}" || { echo "  $what: m1 -> m2 ping blocked"; ok=1; }
  sg_probe_tcp m2 "${SG_ADDR[m1]}" || { echo "  $what: m2 -> m1 tcp blocked"; ok=1; }
  sg_probe_ping m1 "${SG_ADDR[m3]}" && { echo "  $what: m1 -> m3 ping passed"; ok=1; }
  sg_probe_tcp m3 "${SG_ADDR[m1]}" && { echo "  $what: m3 -> m1 tcp passed"; ok=1; }
  return $ok
}
sg_check "before any fault: connectivity exact" cells_exact "before"
sg_check "a first drift check ran (timestamp set)" wait_until 60 'test "$(last_check_stamp)" != 0'
sg_check "every repair series at 0" test "$(repairs machines)/$(repairs pin)/$(repairs attachment)" = 0/0/0
sg_check "no drift repaired by the periodic checks of an untouched kernel" \
  test "$(repairs_total)" = 0

M1=$(sg_if m1)
M3=$(sg_if m3)
IF1=$(ifindex_of "$M1")
IF3=$(ifindex_of "$M3")

# ---- 1. an sg_machines entry deleted with bpftool ----
sg_say "fault 1: sg_machines entry of m1 (ifindex $IF1) deleted"
before=$(repairs machines)
freeze
bpftool map delete pinned "$PINS/sg_machines" key $(key_of "$IF1")
clear_slot "$IF1"
sg_check "the fault is real: m1 fails closed (m1 -> m2 blocked)" \
  sg_not sg_probe_ping m1 "${SG_ADDR[m2]}"
thaw
sg_check "repair counted (sixguard_drift_repairs_total{map=machines})" \
  wait_for 60 repairs_beyond machines "$before"
sg_check "the entry is back" bpftool map lookup pinned "$PINS/sg_machines" key $(key_of "$IF1")
sg_check "logged: a warning naming the map and key" \
  log_has "WARN  drift: sg_machines ifindex $IF1: missing"
sg_check "status: maps in sync" wait_for 60 in_sync
sg_check "status: repairs_total >= 1" test "$(repairs_total)" -ge 1
sg_check "after fault 1: connectivity exact (m1 passes again)" cells_exact "after fault 1"

# ---- 2. network_id edited: a cross-network pair passes ----
sg_say "fault 2: network_id of m1 set to net-b's and of m3 to net-a's"
before=$(repairs machines)
total_before=$(repairs_total)
edit_network() { # edit_network IFINDEX NETWORK_ID: rewrites network_id (bytes 20-23)
  local ifindex=$1 network=$2 value flags
  # The value's raw bytes (prefix 16, app_id 4, network_id 4, flags 4, little-endian), as hex.
  value=$(bpftool map lookup pinned "$PINS/sg_machines" key $(key_of "$ifindex") -j |
    jq -r '(.value // .[0].value) | .[0:20] | map(ltrimstr("0x")) | join(" ")') || return 1
  flags=$(bpftool map lookup pinned "$PINS/sg_machines" key $(key_of "$ifindex") -j |
    jq -r '(.value // .[0].value) | .[24:] | map(ltrimstr("0x")) | join(" ")') || return 1
  [ -n "$value" ] || return 1
  # shellcheck disable=SC2086
  bpftool map update pinned "$PINS/sg_machines" key $(key_of "$ifindex") \
    value hex $value $(printf '%02x %02x %02x %02x' $((network & 255)) $(((network >> 8) & 255)) \
      $(((network >> 16) & 255)) $(((network >> 24) & 255))) $flags
}
slots_before=$(repairs owner_slots)
freeze
edit_network "$IF1" $((0x000b0001)) && edit_network "$IF3" $((0x000a0001)) &&
  edit_slot_network "$IF1" $((0x000b0001)) && edit_slot_network "$IF3" $((0x000a0001))
sg_check "the fault is real: m1 -> m3 (cross network) passes" sg_probe_ping m1 "${SG_ADDR[m3]}"
thaw
sg_check "both repairs counted" wait_for 60 repairs_beyond machines $((before + 1))
sg_check "both slots' repairs counted (map=owner_slots)" \
  wait_for 60 repairs_beyond owner_slots $((slots_before + 1))
sg_check "logged: sg_machines ifindex $IF1 different" \
  log_has "WARN  drift: sg_machines ifindex $IF1: different (held prefix .* network_id b:1, wanted .* network_id a:1)"
sg_check "logged: sg_machines ifindex $IF3 different" \
  log_has "WARN  drift: sg_machines ifindex $IF3: different"
sg_check "status: repairs_total grew by 4" wait_until 60 'test "$(repairs_total)" -ge $((total_before + 4))'
sg_check "status: maps in sync" in_sync
sg_check "after fault 2: connectivity exact (cross network blocked again)" cells_exact "after fault 2"

sg_say "fault 2b: network_id edited in the owner slots of m1 and m3 only (the hash is right)"
before=$(repairs machines)
slots_before=$(repairs owner_slots)
freeze
edit_slot_network "$IF1" $((0x000b0001)) && edit_slot_network "$IF3" $((0x000a0001))
sg_check "the fault is real: the programs read the slots (m1 -> m3 passes)" \
  sg_probe_ping m1 "${SG_ADDR[m3]}"
thaw
sg_check "both slots' repairs counted (map=owner_slots)" \
  wait_for 60 repairs_beyond owner_slots $((slots_before + 1))
sg_check "logged: sg_owner_slots ifindex $IF1 different" \
  log_has "WARN  drift: sg_owner_slots ifindex $IF1: different"
sg_check "no sg_machines repair: the hash was right" test "$(repairs machines)" = "$before"
sg_check "status: maps in sync" wait_for 5 in_sync
sg_check "after fault 2b: connectivity exact (cross network blocked again)" cells_exact "after fault 2b"

# ---- 3. a pin deleted, then bpffs unmounted ----
sg_say "fault 3a: pin $PINS/sg_machines deleted"
map_id=$(bpftool map show pinned "$PINS/sg_machines" -j | jq .id)
before=$(repairs pin)
freeze
rm "$PINS/sg_machines"
sg_check "the fault is real: the pin is gone" test ! -e "$PINS/sg_machines"
thaw
sg_check "repair counted (map=pin)" wait_for 60 repairs_beyond pin "$before"
sg_check "pinned again" test -e "$PINS/sg_machines"
sg_check "the pin is the map the programs use (id $map_id)" \
  test "$(bpftool map show pinned "$PINS/sg_machines" -j | jq .id)" = "$map_id"
sg_check "logged: the pin" log_has "WARN  drift: pin $PINS/sg_machines: missing: pinned again"

sg_say "fault 3b: bpffs unmounted under the agent (its own mount namespace)"
in_agent_ns() { nsenter -t "$SG_AGENT_PID" -m -- "$@"; }
before=$(repairs pin)
freeze
in_agent_ns umount -l "$SG_BPFFS"
sg_check "the fault is real: no bpffs at $SG_BPFFS for the agent" \
  sg_not in_agent_ns test -e "$PINS/sg_machines"
thaw
# Every map of ours is pinned again: at least 10 pins (the policy maps, the owner slots,
# counters, events, rate limit).
sg_check "repairs counted for every pin" wait_for 60 repairs_beyond pin $((before + 9))
sg_check "logged: bpffs mounted again" log_has "WARN  drift: bpffs was not mounted at $SG_BPFFS: mounted again"
sg_check "bpffs mounted again for the agent" \
  test "$(in_agent_ns stat -f -c %T "$SG_BPFFS" 2>/dev/null)" = bpf_fs
sg_check "sg_machines pinned again there, the same map (id $map_id)" \
  test "$(in_agent_ns bpftool map show pinned "$PINS/sg_machines" -j | jq .id)" = "$map_id"
sg_check "sg_flycast pinned again there" in_agent_ns test -e "$PINS/sg_flycast"
sg_check "status: no drift error" test "$(status_json | jq '.drift.last_check.errors | length')" = 0
# The maps behind the new pins are the live ones: a batch still lands in the kernel.
cat >"$SG_WORK/more.json" <<JSON
{"type":"flycast.allocated","app":"app-b1","address":"fdaa:a:1:0:1:f2:0:1","network":"net-a"}
JSON
reply=$(sg_api POST /v1/events "$SG_WORK/more.json")
sg_check "a batch after the remount applies" test "$(sg_status_of "$reply")" = 200
sg_check "and its entry is in the map behind the new pin" \
  in_agent_ns bpftool map lookup pinned "$PINS/sg_flycast" key hex fd aa 00 0a 00 01 00 00 00 01 00 f2 00 00 00 01
sg_check "after fault 3: connectivity exact" cells_exact "after fault 3"

# ---- 4. programs detached behind the agent's back ----
sg_say "fault 4: programs detached from $M1"
before=$(repairs attachment)
hook=$(status_json | jq -r '.datapath.machine_egress_hook')
freeze
if [ "$hook" = xdp ]; then
  ip -n "$SG_HOST" link set dev "$M1" xdp off
  ip -n "$SG_HOST" link set dev "$M1" xdpgeneric off 2>/dev/null
else
  tc -n "$SG_HOST" filter del dev "$M1" ingress
fi
tc -n "$SG_HOST" filter del dev "$M1" egress
sg_check "the fault is real: $M1 carries no program of ours" sg_detached "$M1"
thaw
sg_check "repairs counted (map=attachment: machine_egress and machine_ingress)" \
  wait_for 60 repairs_beyond attachment $((before + 1))
sg_check "attached again" sg_wait_attached "$M1"
sg_check "logged: the hook and interface" log_has "WARN  drift: machine_ingress on $M1 (ifindex $IF1): detached"
sg_check "logged: machine_egress too" log_has "WARN  drift: machine_egress on $M1 (ifindex $IF1): detached"
sg_check "status: the interface listed with both hooks" \
  test "$(status_json | jq --arg i "$M1" '[.interfaces[] | select(.interface == $i) | .hooks[]] | length')" = 2
sg_check "after fault 4: connectivity exact" cells_exact "after fault 4"

# ---- SIGHUP runs a check now ----
sg_say "SIGHUP"
checks_before=$(status_json | jq '.drift.checks')
done_before=$(grep -c "check done:" "$LOG")
kill -HUP "$SG_AGENT_PID"
# The SIGHUP check's own log line, not status' last_check: with checks every 200 ms the next
# periodic one replaces last_check (trigger "interval") within 200 ms, which a poll on a loaded
# machine missed for a whole minute.
sg_check "a SIGHUP check recorded (its 'check done:' line)" \
  wait_until 60 'test "$(grep -c "check done:" "$LOG")" -gt "$done_before"'
sg_check "the agent still runs" kill -0 "$SG_AGENT_PID"
sg_check "checks counted ($checks_before before)" test "$(status_json | jq '.drift.checks')" -gt "$checks_before"

sg_say "the whole matrix"
sg_run_matrix
sg_check_matrix
sg_check "connectivity matrix exact after every repair" test $? -eq 0
sg_check "the agent is ready" sg_wait_ready

sg_finish drift
