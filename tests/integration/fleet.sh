#!/usr/bin/env bash
# Fleet (DESIGN §6, issue 10): a 3-member etcd cluster and 3 hosts, each host a network
# namespace running its own `sixguard agent` (own bpffs mount, state dir, socket) that follows
# etcd. Machines on every host, uplinks between hosts over a bridge; the platform is written
# to etcd with `sixguard publish` (later changes as raw §6 keys, one etcd transaction each,
# through etcd's JSON gateway, as a platform writing around publish would), then:
#   - the connectivity matrix across hosts: same network passes, cross network is blocked,
#     Flycast works;
#   - faults, each under traffic (a cross-network UDP stream that must deliver 0 packets):
#     the etcd leader killed; every member stopped then started (fail static, status
#     disconnected, then converge); an agent stopped while 1000 changes are published and the
#     store compacted (it lists again, removes what is gone, converges); keys that break the
#     rules written next to valid ones (skipped, counted, listed; the rest applied);
#   - convergence after every step: each agent's pinned maps (bpftool on its own bpffs) hold
#     exactly the machines and Flycast addresses etcd gives its host, not the agent's view.
#
# Layout: namespace "fab" holds two bridges: brc (control: etcd on 10.77.0.254, hosts on
# 10.77.0.i) and bru (6PN uplinks: hosts on fd00:99::i, routes to the other hosts' /112s).
# Usage: fleet.sh PATH-TO-SIXGUARD
set -u
SIXGUARD=$(readlink -f "${1:-}" 2>/dev/null || echo "${1:-}")
SG_ID=${SG_ID:-$$}
SG_PREFIX="sg-es-$SG_ID"
SG_IFP="e${SG_ID: -6}"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

sg_require_environment
for tool in etcd etcdctl jq; do command -v "$tool" >/dev/null || sg_skip "needs $tool (etcd-server, etcd-client, jq)"; done
sg_init

FAB="$SG_PREFIX-fab"
ETCD_IP=10.77.0.254
declare -A ETCD_PID=()
PREFIX=/sixguard/v1
HOSTS=(1 2 3)
declare -A AGENT_PID=()

# ---- the platform ----
# net-a (acme, a:1), net-b (acme, b:1), net-c (globex, c:1). Machines: host 1: m1 (app-a1),
# m4 (app-c1) and the Flycast proxy; host 2: m2 (app-a2), m3 (app-b1); host 3: m5 (app-b1).
SG_MACHINES=(m1 m2 m3 m4 m5)
declare -A HOST_OF=([m1]=1 [m4]=1 [m2]=2 [m3]=2 [m5]=3)
declare -A SG_ADDR=(
  [m1]=fdaa:a:1:0:1:0:1:2 [m4]=fdaa:c:1:0:1:0:4:2
  [m2]=fdaa:a:1:0:2:0:2:2 [m3]=fdaa:b:1:0:2:0:3:2 [m5]=fdaa:b:1:0:3:0:5:2)
declare -A SG_NET=([m1]=net-a [m2]=net-a [m3]=net-b [m4]=net-c [m5]=net-b)
declare -A SG_APP=([m1]=app-a1 [m2]=app-a2 [m3]=app-b1 [m4]=app-c1 [m5]=app-b1)
FLYCAST=fdaa:b:1:0:1:f1:0:1 # for app-a1, allocated into net-b; its proxy runs on host 1

hostns() { echo "$SG_PREFIX-h$1"; }
# A probe's evidence (lib.sh sg_drops) is every agent's drop counters.
SG_DROP_HOSTS="$(hostns 1) $(hostns 2) $(hostns 3)"
etcd_url() { echo "http://$ETCD_IP:$((23790 + $1))"; }
endpoints() { echo "$(etcd_url 1),$(etcd_url 2),$(etcd_url 3)"; }
ctl() { ip netns exec "$FAB" etcdctl --endpoints "$(endpoints)" --command-timeout=5s "$@"; }

etcd_start() { # etcd_start I: member I (restart: same data dir, flags for a new cluster ignored)
  local i=$1
  local cluster="e1=http://$ETCD_IP:23801,e2=http://$ETCD_IP:23802,e3=http://$ETCD_IP:23803"
  ip netns exec "$FAB" etcd --name "e$i" --data-dir "$SG_WORK/etcd$i" \
    --listen-client-urls "$(etcd_url "$i")" --advertise-client-urls "$(etcd_url "$i")" \
    --listen-peer-urls "http://$ETCD_IP:$((23800 + i))" \
    --initial-advertise-peer-urls "http://$ETCD_IP:$((23800 + i))" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token "$SG_PREFIX" >>"$SG_WORK/etcd$i.log" 2>&1 &
  ETCD_PID[$i]=$!
  SG_PIDS+=($!)
}
etcd_stop() { # etcd_stop I [SIGNAL]
  kill -"${2:-TERM}" "${ETCD_PID[$1]}" 2>/dev/null
  wait "${ETCD_PID[$1]}" 2>/dev/null
  ETCD_PID[$1]=""
}
etcd_healthy() { ctl endpoint health >/dev/null 2>&1; }

# txn FILE: FILE has lines "put<TAB>KEY<TAB>VALUE" or "del<TAB>KEY"; one etcd transaction
# through the JSON gateway. Prints the revision it made.
txn() {
  local body
  body=$(jq -R -s 'split("\n") | map(select(length > 0) | split("\t")) | {success: map(
      if .[0] == "put" then {request_put: {key: (.[1] | @base64), value: (.[2] | @base64)}}
      else {request_delete_range: {key: (.[1] | @base64)}} end)}' "$1")
  local url
  for url in $(endpoints | tr , ' '); do
    if out=$(ip netns exec "$FAB" curl -sf --max-time 5 -X POST "$url/v3/kv/txn" -d "$body"); then
      jq -r '.header.revision' <<<"$out"
      return 0
    fi
  done
  return 1
}
put_line() { printf 'put\t%s\t%s\n' "$PREFIX/$1" "$2"; }
del_line() { printf 'del\t%s\n' "$PREFIX/$1"; }
machine_line() { # machine_line M
  local m=$1
  put_line "hosts/h${HOST_OF[$m]}/machines/$m" \
    "$(sg_machine_started "${SG_APP[$m]}" "$m" "${SG_ADDR[$m]}" "$(sg_if "$m")")"
}
# The platform through `sixguard publish`: one NDJSON batch, machines naming their host; it
# validates against the store and writes one transaction (network-ids/ bindings included).
platform_publish() {
  {
    echo '{"type":"network.created","org":"acme","network":"net-a","id":"a:1"}'
    echo '{"type":"network.created","org":"acme","network":"net-b","id":"b:1"}'
    echo '{"type":"network.created","org":"globex","network":"net-c","id":"c:1"}'
    echo '{"type":"app.created","org":"acme","app":"app-a1","network":"net-a"}'
    echo '{"type":"app.created","org":"acme","app":"app-a2","network":"net-a"}'
    echo '{"type":"app.created","org":"acme","app":"app-b1","network":"net-b"}'
    echo '{"type":"app.created","org":"globex","app":"app-c1","network":"net-c"}'
    echo "{\"type\":\"flycast.allocated\",\"app\":\"app-a1\",\"address\":\"$FLYCAST\",\"network\":\"net-b\"}"
    local m
    for m in "${SG_MACHINES[@]}"; do
      sg_machine_started "${SG_APP[$m]}" "$m" "${SG_ADDR[$m]}" "$(sg_if "$m")" "h${HOST_OF[$m]}"
    done
  } >"$SG_WORK/platform.ndjson"
  ip netns exec "$FAB" "$SIXGUARD" publish --etcd "$(endpoints)" --prefix "$PREFIX" "$SG_WORK/platform.ndjson" >"$SG_WORK/publish.out" 2>&1 || {
    cat "$SG_WORK/publish.out"
    return 1
  }
  ctl get "$PREFIX/" --prefix --keys-only --limit 1 -w json | jq -r .header.revision
}

# ---- hosts and agents ----
host_create() { # host_create I
  local i=$1 ns
  ns=$(hostns "$i")
  sg_ns "$ns" || return 1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
  ip link add "${SG_IFP}c$i" netns "$ns" type veth peer name "${SG_IFP}C$i" netns "$FAB" || return 1
  ip -n "$FAB" link set "${SG_IFP}C$i" master brc up
  ip -n "$ns" addr add "10.77.0.$i/24" dev "${SG_IFP}c$i"
  ip -n "$ns" link set "${SG_IFP}c$i" up
  ip link add "${SG_IFP}u$i" netns "$ns" type veth peer name "${SG_IFP}U$i" netns "$FAB" || return 1
  ip -n "$FAB" link set "${SG_IFP}U$i" master bru up
  ip -n "$ns" addr add "fd00:99::$i/64" dev "${SG_IFP}u$i" nodad
  ip -n "$ns" link set "${SG_IFP}u$i" up
  mkdir -p "$SG_WORK/h$i/bpffs"
  mount -t bpf bpf "$SG_WORK/h$i/bpffs" || return 1
  BPFFS_MOUNTS+=("$SG_WORK/h$i/bpffs")
  cat >"$SG_WORK/h$i/config.yaml" <<YAML
state_dir: $SG_WORK/h$i/state
api_socket: $SG_WORK/h$i/api.sock
metrics_address: "127.0.0.1:9530"
bpffs: $SG_WORK/h$i/bpffs
machine_egress_hook: ${SIXGUARD_TEST_EGRESS_HOOK:-auto}
uplinks: [${SG_IFP}u$i]
infra_prefixes: ["fdaa::3/128"]
source:
  etcd:
    endpoints: [$(endpoints)]
    prefix: $PREFIX
    host: h$i
YAML
}
BPFFS_MOUNTS=()
fleet_cleanup() {
  local status=$? i
  set +e
  for i in "${HOSTS[@]}"; do
    [ -n "${AGENT_PID[$i]:-}" ] && kill -KILL "${AGENT_PID[$i]}" 2>/dev/null && wait "${AGENT_PID[$i]}" 2>/dev/null
  done
  [ $status -ne 0 ] && for i in "${HOSTS[@]}"; do
    echo "---- agent h$i log (tail)"
    tail -n 15 "$SG_WORK/h$i/agent.log" 2>/dev/null
  done
  local mount
  for mount in "${BPFFS_MOUNTS[@]}"; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
  (exit $status)
  sg_cleanup
}
trap fleet_cleanup EXIT

agent_start() { # agent_start I: starts the agent of host I and waits for its /readyz
  local i=$1 ns
  ns=$(hostns "$i")
  echo "---- agent start $(date +%T.%N)" >>"$SG_WORK/h$i/agent.log"
  ip netns exec "$ns" "$SIXGUARD" agent --config "$SG_WORK/h$i/config.yaml" \
    >>"$SG_WORK/h$i/agent.log" 2>&1 &
  AGENT_PID[$i]=$!
  wait_for 60 agent_ready "$i"
}
agent_ready() {
  kill -0 "${AGENT_PID[$1]}" 2>/dev/null || return 1
  [ "$(ip netns exec "$(hostns "$1")" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
    http://127.0.0.1:9530/readyz)" = 200 ]
}
agent_stop() {
  kill -TERM "${AGENT_PID[$1]}" 2>/dev/null
  wait "${AGENT_PID[$1]}" 2>/dev/null
  AGENT_PID[$1]=""
}
status_of() { # status_of I: GET /v1/status of host I's agent
  curl -s --max-time 3 --unix-socket "$SG_WORK/h$1/api.sock" http://sixguard/v1/status
}
metric_of() { # metric_of I NAME
  ip netns exec "$(hostns "$1")" curl -s --max-time 3 http://127.0.0.1:9530/metrics |
    awk -v name="$2" '$1 == name {print $2}'
}
source_connected() { [ "$(status_of "$1" | jq -r .source.connected)" = "$2" ]; }
every_connected() { local i; for i in "${HOSTS[@]}"; do source_connected "$i" "$1" || return 1; done; }

# ---- convergence: the pinned maps against the image of etcd's state for each host ----
# Expected: sg_machines holds one entry per machine key of the host whose interface exists
# (keyed by its ifindex), sg_flycast one per flycast/ key whose target app is live (every
# host: Flycast is global). Read from the maps with bpftool, not from the agent.
expected_machines() { # expected_machines I: sorted ifindexes
  local i=$1 ns iface
  ns=$(hostns "$i")
  ctl get --prefix "$PREFIX/hosts/h$i/machines/" --print-value-only |
    jq -r 'select(type == "object") | .interface' 2>/dev/null | while read -r iface; do
    ip -n "$ns" -j link show dev "$iface" 2>/dev/null | jq -r '.[0].ifindex'
  done | sort -n
}
expand6() { # expand6 ADDR: the 8 groups of 4 hex digits
  local addr=$1 head tail g i groups=()
  if [[ $addr == *::* ]]; then head=${addr%%::*} tail=${addr#*::}; else head=$addr tail=""; fi
  local -a h=() t=()
  [ -n "$head" ] && IFS=: read -ra h <<<"$head"
  [ -n "$tail" ] && IFS=: read -ra t <<<"$tail"
  groups=("${h[@]}")
  for ((i = ${#h[@]} + ${#t[@]}; i < 8; i++)); do groups+=(0); done
  groups+=("${t[@]}")
  # printf -v, not $(printf): a fork per group made a poll of 250 addresses on 3 hosts 6,000
  # forks, minutes on a loaded machine, and the test outran its hang guard while the agents
  # had long converged.
  local out="" part
  for g in "${groups[@]}"; do
    printf -v part '%04x:' $((16#$g))
    out+=$part
  done
  echo "${out%:}"
}
expected_flycast() {
  local a
  ctl get --prefix "$PREFIX/flycast/" --keys-only | sed -n "s|^$PREFIX/flycast/||p" | grep . |
    while read -r a; do expand6 "$a"; done | sort
}
pinned_machines() {
  bpftool map dump pinned "$SG_WORK/h$1/bpffs/sixguard/sg_machines" -j 2>/dev/null |
    jq -r '.[] | (.formatted.key // (.key | map(ltrimstr("0x") | ("0x" + .) | tonumber) | .[0] + .[1]*256 + .[2]*65536 + .[3]*16777216))' |
    sort -n
}
pinned_flycast() {
  bpftool map dump pinned "$SG_WORK/h$1/bpffs/sixguard/sg_flycast" -j 2>/dev/null |
    jq -r '.[] | .key | map(ltrimstr("0x")) | [range(0; 16; 2) as $g | .[$g] + .[$g + 1]] | join(":")' |
    sort
}
converged_host() { # converged_host I EXPECTED-FLYCAST
  [ "$(pinned_machines "$1")" = "$(expected_machines "$1")" ] &&
    [ "$(pinned_flycast "$1")" = "$2" ]
}
# Every host holds the same Flycast set: read it from etcd once per poll, not once per host.
converged() {
  local i flycast
  flycast=$(expected_flycast)
  for i in "${HOSTS[@]}"; do converged_host "$i" "$flycast" || return 1; done
}
check_converged() { # check_converged STEP
  if wait_for 60 converged; then
    sg_pass "$1: every agent's pinned maps equal etcd's state for its host"
  else
    sg_fail "$1: maps differ from etcd's state"
    local i
    for i in "${HOSTS[@]}"; do
      echo "  h$i machines pinned [$(pinned_machines "$i" | tr '\n' ' ')] expected [$(expected_machines "$i" | tr '\n' ' ')]"
      echo "  h$i flycast pinned $(pinned_flycast "$i" | wc -l) expected $(expected_flycast | wc -l)"
    done
  fi
}

# ---- traffic ----
probe() { # probe FROM TO-ADDRESS: ping then TCP
  sg_probe_ping "$1" "$2" && sg_probe_tcp "$1" "$2"
}
run_matrix() {
  local dir="$SG_WORK/matrix" from to pids=()
  rm -rf "$dir"
  mkdir -p "$dir"
  for from in "${SG_MACHINES[@]}"; do
    for to in "${SG_MACHINES[@]}"; do
      [ "$from" = "$to" ] && continue
      (if SG_PROBE_ONCE=1 probe "$from" "${SG_ADDR[$to]}"; then echo pass; else echo block; fi >"$dir/$from-$to") &
      pids+=($!)
    done
    (if SG_PROBE_ONCE=1 sg_probe_tcp "$from" "$FLYCAST"; then echo pass; else echo block; fi >"$dir/$from-fly") &
    pids+=($!)
  done
  wait "${pids[@]}"
  local want got bad=0
  for from in "${SG_MACHINES[@]}"; do
    for to in "${SG_MACHINES[@]}" fly; do
      [ "$from" = "$to" ] && continue
      if [ "$to" = fly ]; then
        # Reached from its network (net-b) and by its target app's machine (rule 6).
        if [ "${SG_NET[$from]}" = net-b ] || [ "${SG_APP[$from]}" = app-a1 ]; then want=pass; else want=block; fi
      elif [ "${SG_NET[$from]}" = "${SG_NET[$to]}" ]; then want=pass; else want=block; fi
      got=$(cat "$dir/$from-$to")
      # One attempt each ran in parallel; a missed pass is probed again alone, where the agents'
      # drop counters tell a datapath block from a lost answer (lib.sh sg_probe).
      if [ "$got" = block ] && [ "$want" = pass ]; then
        if [ "$to" = fly ]; then sg_probe_tcp "$from" "$FLYCAST"; else probe "$from" "${SG_ADDR[$to]}"; fi &&
          got=pass
        echo "  $from -> $to: blocked in the parallel round, alone: $got"
      fi
      if [ "$got" != "$want" ]; then
        echo "  $from (h${HOST_OF[$from]}) -> $to: got $got, want $want"
        bad=$((bad + 1))
      fi
    done
  done
  return $bad
}

# Cross-network traffic during the faults: m4 (net-c, host 1) -> m2 (net-a, host 2) and
# m2 -> m5 (net-b, host 3), every datagram to the one-way UDP 7002 receivers; and same-network
# m1 -> m2 as evidence that traffic flowed. Counted on the receivers.
traffic_start() {
  local spec from to tag
  for spec in m4:m2:cross m2:m5:cross m1:m2:same; do
    IFS=: read -r from to tag <<<"$spec"
    sg_spawn ip netns exec "$SG_PREFIX-$from" bash -c \
      "i=0; while :; do echo $tag-$from-\$i; i=\$((i+1)); sleep 0.02; done | socat -u - UDP6-SENDTO:[${SG_ADDR[$to]}]:7002"
  done
}
cross_delivered() { cat "$SG_WORK"/m*.udp 2>/dev/null | grep -c '^cross-' || true; }
same_delivered() { grep -c '^same-' "$SG_WORK/m2.udp" 2>/dev/null || true; }

# ================================================================================
sg_say "fabric and etcd"
sg_ns "$FAB" || exit 1
for br in brc bru; do
  ip -n "$FAB" link add "$br" type bridge && ip -n "$FAB" link set "$br" up || exit 1
done
ip -n "$FAB" addr add "$ETCD_IP/24" dev brc
for i in 1 2 3; do etcd_start "$i"; done
wait_for 60 etcd_healthy || { tail -n 20 "$SG_WORK"/etcd1.log; sg_fail "etcd cluster did not become healthy"; exit 1; }

sg_say "hosts, machines, routes"
for i in "${HOSTS[@]}"; do host_create "$i" || { sg_fail "host $i"; exit 1; }; done
for m in "${SG_MACHINES[@]}"; do
  SG_HOST=$(hostns "${HOST_OF[$m]}") sg_machine "$m" "$(sg_if "$m")" "${SG_ADDR[$m]}" || exit 1
done
SG_HOST=$(hostns 1) sg_proxy px "$(sg_if px)" "$FLYCAST" "${SG_ADDR[m1]}" || exit 1
for i in "${HOSTS[@]}"; do
  for m in "${SG_MACHINES[@]}"; do
    [ "${HOST_OF[$m]}" = "$i" ] && continue
    ip -n "$(hostns "$i")" -6 route add "${SG_ADDR[$m]%:*}:0/112" via "fd00:99::${HOST_OF[$m]}" dev "${SG_IFP}u$i"
  done
  [ "$i" = 1 ] || ip -n "$(hostns "$i")" -6 route add "$FLYCAST/128" via fd00:99::1 dev "${SG_IFP}u$i"
done
for m in "${SG_MACHINES[@]}"; do sg_wait_listening "$SG_PREFIX-$m" 7000 7001 7002 || exit 1; done
sg_wait_listening "$SG_PREFIX-px" 7000 || exit 1

sg_say "agents (etcd empty), then the platform with sixguard publish"
for i in "${HOSTS[@]}"; do agent_start "$i" || { sg_fail "agent h$i did not become ready"; exit 1; }; done
sg_check "every agent connected to etcd" wait_for 60 every_connected true
revision=$(platform_publish) || { sg_fail "sixguard publish of the platform"; exit 1; }
sg_say "platform at revision $revision"
check_converged "platform published"
# An interface's map entry is written before its programs are attached (DESIGN §5): the maps
# matching etcd is not yet enforcement. Probe once every machine's interface carries them.
attached_everywhere() {
  local m
  for m in "${SG_MACHINES[@]}"; do
    SG_HOST=$(hostns "${HOST_OF[$m]}") sg_attached "$(sg_if "$m")" || return 1
  done
}
sg_check "every machine's interface carries our programs" wait_for 60 attached_everywhere
for i in "${HOSTS[@]}"; do
  sg_check "h$i reports revision >= $revision" test "$(status_of "$i" | jq -r .source.revision)" -ge "$revision"
done
events_refused() {
  local out
  out=$(curl -s --max-time 3 --unix-socket "$SG_WORK/h1/api.sock" -X POST -w '\n%{http_code}' \
    -d '{"type":"network.created","org":"acme","network":"net-z","id":"f:1"}' http://sixguard/v1/events)
  [ "$(tail -n 1 <<<"$out")" = 409 ] && grep -q '"error":".*etcd' <<<"$out"
}
sg_check "POST /v1/events answers 409 naming etcd" events_refused

if run_matrix; then sg_pass "matrix across hosts: same network passes, cross network blocked, Flycast works"; else sg_fail "matrix across hosts"; fi

traffic_start
sg_check "same-network traffic flows" wait_for 60 bash -c "[ \$(grep -c '^same-' '$SG_WORK/m2.udp') -gt 10 ]"

sg_say "fault: the etcd leader killed"
leader=$(ctl endpoint status -w json | jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' | head -n 1)
leader_member=${leader##*:}
leader_member=$((leader_member - 23790))
sg_say "leader is member e$leader_member"
etcd_stop "$leader_member" KILL
{ put_line modes/acme/net-b '{"type":"network.mode","org":"acme","network":"net-b","mode":"enforce"}'
  put_line "flycast/fdaa:b:1::f2" '{"type":"flycast.allocated","app":"app-b1","address":"fdaa:b:1::f2","network":"net-b"}'
} >"$SG_WORK/after-leader.txn"
sg_check "a transaction lands after the leader died" wait_for 60 txn "$SG_WORK/after-leader.txn" >/dev/null
check_converged "leader killed"
if [ -n "${FLEET_DEMO:-}" ]; then # scripts/demo.sh --fleet stops here
  if run_matrix; then sg_pass "matrix with the leader dead: enforcement unchanged"; else sg_fail "matrix with the leader dead"; fi
  for i in "${HOSTS[@]}"; do
    sg_say "h$i: $(status_of "$i" | jq -c '.source | {host, revision, connected, endpoints}')"
  done
  sg_say "cross-network datagrams delivered so far: $(cross_delivered) (same-network: $(same_delivered))"
  [ "$SG_FAILURES" -eq 0 ] || exit 1
  echo "fleet demo: done (everything is removed on exit)"
  exit 0
fi
etcd_start "$leader_member"

sg_say "fault: every etcd member stopped, then started"
wait_for 60 etcd_healthy
for i in "${HOSTS[@]}"; do
  pinned_machines "$i" >"$SG_WORK/h$i/machines.before"
  pinned_flycast "$i" >"$SG_WORK/h$i/flycast.before"
done
for i in 1 2 3; do etcd_stop "$i"; done
sg_check "every agent reports disconnected" wait_for 60 every_connected false
for i in "${HOSTS[@]}"; do
  sg_check "h$i: sixguard_source_connected 0" test "$(metric_of "$i" sixguard_source_connected)" = 0
  sg_check "h$i keeps its maps while etcd is down (fail static)" bash -c \
    "[ \"\$(cat '$SG_WORK/h$i/machines.before')\" = \"$(pinned_machines "$i")\" ] && [ \"\$(cat '$SG_WORK/h$i/flycast.before')\" = \"$(pinned_flycast "$i")\" ]"
done
before_down=$(same_delivered)
sg_check "same-network traffic still flows with etcd down" wait_for 60 bash -c "[ \$(grep -c '^same-' '$SG_WORK/m2.udp') -gt $((before_down + 10)) ]"
for i in 1 2 3; do etcd_start "$i"; done
wait_for 60 etcd_healthy || sg_fail "etcd did not come back"
sg_check "every agent reconnects" wait_for 60 every_connected true
txn <(del_line "flycast/fdaa:b:1::f2") >/dev/null || sg_fail "txn after restart"
check_converged "every member restarted"

sg_say "fault: agent h2 stopped, 1000 changes published, store compacted"
agent_stop 2
changes=0
for round in $(seq 0 9); do
  : >"$SG_WORK/bulk.txn"
  for n in $(seq 0 49); do
    printf -v a 'fdaa:b:1::%x' $((0x1000 + round * 50 + n))
    put_line "flycast/$a" "{\"type\":\"flycast.allocated\",\"app\":\"app-b1\",\"address\":\"$a\",\"network\":\"net-b\"}" >>"$SG_WORK/bulk.txn"
  done
  txn "$SG_WORK/bulk.txn" >/dev/null || sg_fail "bulk put $round"
  [ "$round" = 0 ] && cp "$SG_WORK/bulk.txn" "$SG_WORK/bulk0.txn"
  changes=$((changes + 50))
  # Every other round deletes what it wrote: the history holds changes the agent must not keep.
  if [ $((round % 2)) = 1 ]; then
    sed -e 's/^put\t\([^\t]*\)\t.*/del\t\1/' "$SG_WORK/bulk.txn" >"$SG_WORK/bulk-del.txn"
    txn "$SG_WORK/bulk-del.txn" >/dev/null || sg_fail "bulk delete $round"
    changes=$((changes + 50))
  fi
done
# Rewritten with the same values: changes in etcd's history, none in the state.
while [ $changes -lt 1000 ]; do
  txn "$SG_WORK/bulk0.txn" >/dev/null || sg_fail "bulk rewrite"
  changes=$((changes + 50))
done
sg_say "$changes key changes published while h2 was away"
# What is gone while h2 was away must be removed: its machine m3 (and m3's traffic then fails closed).
txn <(del_line hosts/h2/machines/m3) >/dev/null
rev=$(ctl endpoint status -w json | jq -r '[.[].Status.header.revision] | max')
ctl compact "$rev" >/dev/null || sg_fail "compaction"
agent_start 2 || sg_fail "agent h2 restarted"
resynced() { [ "$(metric_of 2 sixguard_source_resyncs_total | cut -d. -f1)" -ge 1 ] 2>/dev/null; }
sg_check "h2 listed again after the compaction (sixguard_source_resyncs_total >= 1)" wait_for 60 resynced
check_converged "agent restarted after 1000 changes and a compaction"

sg_say "fault: keys that break the rules, written next to valid ones"
{
  put_line apps/app-x '{"type":"app.created","org":"acme","app":"app-y","network":"net-a"}' # value disagrees with key
  put_line hosts/h1/machines/m9 "$(sg_machine_started app-c1 m9 fdaa:a:1:0:1:0:9:2 eth9)" # address outside app-c1's network
  put_line "apps/../x" '{"type":"app.created","org":"acme","app":"x"}'
  put_line "flycast/fdaa:b:1::f3" '{"type":"flycast.allocated","app":"app-b1","address":"fdaa:b:1::f3","network":"net-b"}' # valid
} >"$SG_WORK/bad.txn"
txn "$SG_WORK/bad.txn" >/dev/null || sg_fail "bad txn"
check_converged "invalid keys skipped, the rest applied"
invalid_counted() { [ "$(metric_of 1 sixguard_source_invalid_keys_total | cut -d. -f1)" -ge 3 ] 2>/dev/null; }
sg_check "h1 counts the invalid keys (sixguard_source_invalid_keys_total >= 3)" wait_for 60 invalid_counted
sg_check "h1 lists them in status" bash -c \
  "curl -s --unix-socket '$SG_WORK/h1/api.sock' http://sixguard/v1/status | jq -e '[.source.invalid_keys.keys[].key] | (index(\"$PREFIX/apps/app-x\") != null) and (index(\"$PREFIX/hosts/h1/machines/m9\") != null)' >/dev/null"
sg_check "h2 does not list h1's machine key" bash -c \
  "curl -s --unix-socket '$SG_WORK/h2/api.sock' http://sixguard/v1/status | jq -e '[.source.invalid_keys.keys[].key] | index(\"$PREFIX/hosts/h1/machines/m9\") == null' >/dev/null"

# m3's machine key was deleted: it is no machine any more; the rest of the matrix holds.
unset 'SG_ADDR[m3]'
SG_MACHINES=(m1 m2 m4 m5)
if run_matrix; then sg_pass "matrix after the faults"; else sg_fail "matrix after the faults"; fi

cross=$(cross_delivered)
same=$(same_delivered)
sg_say "traffic during the faults: $same same-network datagrams delivered, $cross cross-network"
dropped_on() { # dropped_on I: packets the datapath of host I dropped (every hook and reason)
  ip netns exec "$(hostns "$1")" curl -s --max-time 3 http://127.0.0.1:9530/metrics |
    awk '/^sixguard_packets_total\{/ && /verdict="drop"/ {sum += $2} END {printf "%d\n", sum}'
}
# Evidence that the cross-network stream was sent and met the datapath: m4's host dropped it.
sg_check "the cross-network stream was sent and dropped on h1 ($(dropped_on 1) drops)" test "$(dropped_on 1)" -gt 100
sg_check "0 cross-network packets delivered during every fault" test "$cross" -eq 0
sg_check "same-network packets were delivered (the traffic ran)" test "$same" -gt 0

[ "$SG_FAILURES" -eq 0 ] || { echo "$SG_FAILURES check(s) failed"; exit 1; }
echo "fleet: all checks passed"
