# Shared by the integration tests and scripts/demo.sh: a "host" network namespace running the
# real agent, machines each in their own namespace behind a veth pair, a Flycast proxy and a
# DNS stand-in. Sourced, not run.
#
# Everything created is named "$SG_PREFIX-..." (namespaces) or "$SG_IFP..." (interfaces) with
# the PID in it, and removed by sg_cleanup, which the EXIT trap runs on every exit path. Only
# processes this script started are killed, by PID. Nothing touches the host's own namespace
# except a bpffs mount under the work directory (unmounted on exit).
#
# Kernel-test rule: when the environment cannot run these tests (not root, no netns, no bpf),
# sg_skip prints SKIP and exits 77 — unless SIXGUARD_REQUIRE_KERNEL_TESTS=1, then it fails.

SG_ID=${SG_ID:-$$}
SG_PREFIX=${SG_PREFIX:-sg-h4-$SG_ID}
# Interface names have 15 characters at most: "s<pid>" + a short role.
SG_IFP=${SG_IFP:-s$SG_ID}
SG_HOST="$SG_PREFIX-host"
SG_WORK=""
SG_AGENT_PID=""
SG_PIDS=()       # helper processes (socat, ping) we started; killed by PID on cleanup
SG_NAMESPACES=() # namespaces we created
SG_BPFFS_MOUNT=""
SG_METRICS_PORT=${SG_METRICS_PORT:-9530}
# sg_random_port BASE: a port in [BASE, BASE+20000). Inside our own namespace every port is
# free; random ones keep the logs of tests run at once distinguishable.
sg_random_port() { echo $(($1 + RANDOM % 20000)); }
SG_FAILURES=0
SG_ANSWER_WAIT=${SG_ANSWER_WAIT:-5} # seconds an echo server's answer may take (see sg_machine)
SG_PROBE_RETRIES=${SG_PROBE_RETRIES:-4} # attempts after a silent miss (see sg_probe)
# Seconds a command expected to end by itself (an agent that must refuse to start, a CLI call)
# may take before it counts as hung: loading and verifying the programs alone took more than
# 30 s under stress-ng --cpu 4 (load average ~30). A refusal still ends it at once.
SG_EXIT_WAIT=${SG_EXIT_WAIT:-120}

sg_say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
sg_fail() {
  printf 'FAIL: %s\n' "$*"
  SG_FAILURES=$((SG_FAILURES + 1))
}
sg_pass() { printf 'ok:   %s\n' "$*"; }
sg_check() { # sg_check DESCRIPTION COMMAND... : ok when the command succeeds
  local what=$1
  shift
  if "$@"; then sg_pass "$what"; else sg_fail "$what"; fi
}

sg_not() { ! "$@"; } # sg_check "x blocked" sg_not sg_probe_ping ...
# wait_for SECONDS COMMAND...: polls COMMAND (the evidence) every 0.1 s until it succeeds or
# the deadline passes; a loaded machine costs time, never a wrong answer.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

# wait_until SECONDS 'EXPRESSION': wait_for on a shell expression evaluated at every poll.
# (`wait_for 60 test "$(count)" = 3` expands $(count) once, before the first poll: it polls a
# constant and fails whenever the first look comes too early.)
wait_until() {
  local seconds=$1
  shift
  wait_for "$seconds" eval "$1"
}

sg_skip() {
  if [ "${SIXGUARD_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then
    echo "FAIL: SIXGUARD_REQUIRE_KERNEL_TESTS=1 but $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

# sg_require_environment [TOOL...]: checks that this environment can run the test (with the
# test's own extra tools); skips (or fails) with the reason otherwise.
sg_require_environment() {
  [ "$(id -u)" -eq 0 ] || sg_skip "needs root (network namespaces, BPF)"
  local tool
  for tool in ip socat ping curl bpftool "$@"; do
    command -v "$tool" >/dev/null || sg_skip "needs $tool"
  done
  [ -x "${SIXGUARD:-}" ] || sg_skip "sixguard binary not found at '${SIXGUARD:-}'"
  [ -x "$(sg_echo_server)" ] || sg_skip "echo server not found at '$(sg_echo_server)' (target sixguard_echo_server)"
  local probe="$SG_PREFIX-probe"
  ip netns add "$probe" 2>/dev/null || sg_skip "cannot create network namespaces"
  ip netns del "$probe"
  local dir
  dir=$(mktemp -d "/tmp/$SG_PREFIX-bpffs-probe-XXXX")
  if ! mount -t bpf bpf "$dir" 2>/dev/null; then
    rmdir "$dir"
    sg_skip "cannot mount a bpf filesystem"
  fi
  umount "$dir"
  rmdir "$dir"
  bpftool prog show >/dev/null 2>&1 || sg_skip "the bpf() syscall is refused"
}

# sg_begin [TOOL...]: the start of every test: the environment checked (sg_require_environment
# with the test's own tools), then the work directory and the cleanup trap (sg_init).
sg_begin() {
  sg_require_environment "$@"
  sg_init
}

sg_cleanup() {
  local status=$?
  set +e
  if [ -n "$SG_WORK" ] && [ -s "$SG_WORK/probe-retries" ]; then
    echo "---- probes tried again (no answer and no drop counted; lib.sh sg_probe):"
    cat "$SG_WORK/probe-retries"
  fi
  if [ -n "$SG_AGENT_PID" ] && kill -0 "$SG_AGENT_PID" 2>/dev/null; then
    kill -KILL "$SG_AGENT_PID" 2>/dev/null
    wait "$SG_AGENT_PID" 2>/dev/null
  fi
  local pid
  for pid in "${SG_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  for pid in "${SG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  local ns
  for ns in "${SG_NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  if [ -n "$SG_BPFFS_MOUNT" ] && mountpoint -q "$SG_BPFFS_MOUNT"; then
    umount "$SG_BPFFS_MOUNT" 2>/dev/null || umount -l "$SG_BPFFS_MOUNT"
  fi
  if [ -n "$SG_WORK" ] && [ -z "${SG_KEEP_WORK:-}" ]; then rm -rf "$SG_WORK"; fi
  return $status
}

# A run that was killed outright (ctest's TIMEOUT kills with SIGKILL, which no trap sees)
# leaves its namespaces, bpffs mounts and work directory behind, and with them its programs.
# Every run first sweeps what dead runs left: names sg-<tag>-<pid>-..., the pid being the run's
# own ($$, SG_ID's default). A live run's pid is alive, so its things are never touched; a
# non-numeric SG_ID (the demo's) is never swept.
sg_sweep_dead_runs() {
  local name dir mnt
  for name in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
    [[ $name =~ ^sg-[a-z0-9]+-([0-9]+)- ]] || continue
    [ -d "/proc/${BASH_REMATCH[1]}" ] && continue
    ip netns del "$name" 2>/dev/null && echo "swept namespace $name (its run is gone)"
  done
  for dir in /tmp/sg-*; do
    [[ $dir =~ ^/tmp/sg-[a-z0-9]+-([0-9]+)-[A-Za-z0-9]{4}$ ]] || continue
    [ -d "/proc/${BASH_REMATCH[1]}" ] && continue
    # Deepest first: a mount may sit inside another.
    for mnt in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
      umount "$mnt" 2>/dev/null || umount -l "$mnt"
    done
    rm -rf "$dir" && echo "swept $dir (its run is gone)"
  done
}

# Sets up the work directory and the cleanup trap. Call first.
sg_init() {
  sg_sweep_dead_runs
  SG_WORK=$(mktemp -d "/tmp/$SG_PREFIX-XXXX")
  trap sg_cleanup EXIT
  trap 'exit 130' INT TERM
}

sg_ns() { # sg_ns NAME: creates a namespace with lo up, remembered for cleanup
  ip netns add "$1" || return 1
  SG_NAMESPACES+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# The host namespace: forwarding on, its own bpffs mount for the agent's pins.
sg_host_create() {
  sg_ns "$SG_HOST" || return 1
  ip netns exec "$SG_HOST" sysctl -qw net.ipv6.conf.all.forwarding=1
  if [ -z "${SG_BPFFS:-}" ]; then
    SG_BPFFS_MOUNT="$SG_WORK/bpffs"
    mkdir -p "$SG_BPFFS_MOUNT"
    mount -t bpf bpf "$SG_BPFFS_MOUNT" || return 1
    SG_BPFFS=$SG_BPFFS_MOUNT
  fi
}

# sg_link NS HOSTIF ADDR: a veth pair HOSTIF (in the host namespace, fe80::1) <-> eth0 (in NS,
# ADDR/128); NS routes fdaa::/16 via the host; the host routes ROUTE (default ADDR/128) to
# HOSTIF. Re-running it after the link was deleted re-creates it (a machine restart).
sg_link() {
  local ns=$1 hostif=$2 addr=$3 route=${4:-$3/128}
  ip link add "$hostif" netns "$SG_HOST" type veth peer name eth0 netns "$ns" || return 1
  ip -n "$SG_HOST" addr add fe80::1/64 dev "$hostif" nodad
  ip -n "$ns" addr add "$addr/128" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$SG_HOST" link set "$hostif" up
  ip -n "$ns" -6 route add fdaa::/16 via fe80::1 dev eth0
  ip -n "$SG_HOST" -6 route replace "$route" dev "$hostif"
}

# The persistent echo server (tests/integration/tools/echo_server.cpp), built beside the agent.
sg_echo_server() { echo "${SG_ECHO_SERVER:-$(dirname "${SIXGUARD:-.}")/tests/integration/sixguard_echo_server}"; }

# sg_machine NAME HOSTIF ADDR: a machine namespace "$SG_PREFIX-NAME" with an echo server: TCP
# 7000 and UDP 7001 answer "ok-NAME TOKEN" to a probe sending TOKEN, and append each request to
# $SG_WORK/NAME.arrivals (the evidence that it reached the machine); UDP 7002 appends what it
# receives to $SG_WORK/NAME.udp (for one-way "was it delivered" checks).
#
# One process answers everything: a forked shell per connection (socat SYSTEM:) missed answers
# the datapath had passed on a loaded machine (issue 15: "m1 -> m2 tcp: got block" with no drop
# counted). The probe and the proxy still wait up to SG_ANSWER_WAIT seconds for an answer; an
# answer ends the wait at once, so it costs nothing when all goes well.
sg_machine() {
  local name=$1 hostif=$2 addr=$3
  local ns="$SG_PREFIX-$name"
  sg_ns "$ns" || return 1
  sg_link "$ns" "$hostif" "$addr" "${addr%:*}:0/112" || return 1
  sg_spawn ip netns exec "$ns" "$(sg_echo_server)" "$name" "$SG_WORK/$name.arrivals" \
    --tcp 7000 --udp 7001
  : >"$SG_WORK/$name.udp"
  sg_spawn ip netns exec "$ns" socat -u UDP6-RECV:7002 OPEN:"$SG_WORK/$name.udp",append
}

# sg_proxy NAME HOSTIF FLYCAST TARGET: the Flycast proxy. It answers on FLYCAST and connects
# to TARGET with FLYCAST as its source (DESIGN §2 machine_ingress rule 6 passes exactly that).
sg_proxy() {
  local name=$1 hostif=$2 flycast=$3 target=$4
  local ns="$SG_PREFIX-$name"
  sg_ns "$ns" || return 1
  sg_link "$ns" "$hostif" "$flycast" || return 1
  sg_spawn ip netns exec "$ns" socat -t "$SG_ANSWER_WAIT" \
    TCP6-LISTEN:7000,bind="[$flycast]",fork,reuseaddr TCP6:"[$target]":7000,bind="[$flycast]"
}

# sg_dns NAME HOSTIF: the platform DNS stand-in on fdaa::3 (UDP 53 answers what it receives).
sg_dns() {
  local name=$1 hostif=$2
  local ns="$SG_PREFIX-$name"
  sg_ns "$ns" || return 1
  sg_link "$ns" "$hostif" fdaa::3 || return 1
  sg_spawn ip netns exec "$ns" "$(sg_echo_server)" dns "$SG_WORK/$name.arrivals" --udp 53
}

sg_spawn() { # runs a helper in the background, remembered for cleanup
  "$@" >/dev/null 2>&1 &
  SG_PIDS+=($!)
}

# ---- probes: run in the source machine's namespace; succeed when the peer answered ----
# sg_probe_once_PROTO FROM ADDR [PORT]: one attempt. TCP and UDP send $SG_PROBE_TOKEN (default
# "probe"), which the echo server records on arrival and echoes back.
sg_probe_once_ping() { ip netns exec "$SG_PREFIX-$1" ping -6 -c 1 -W 1 -q "$2" >/dev/null 2>&1; }
sg_probe_once_tcp() {
  local out
  # -T as long as -t: the wait for the answer is a time without traffic (see sg_machine).
  out=$(printf '%s\n' "${SG_PROBE_TOKEN:-probe}" | ip netns exec "$SG_PREFIX-$1" \
    timeout $((SG_ANSWER_WAIT + 3)) socat -t "$SG_ANSWER_WAIT" -T "$SG_ANSWER_WAIT" - \
    TCP6:"[$2]":"${3:-7000}",connect-timeout=1 2>/dev/null)
  [[ "$out" == ok-* ]]
}
sg_probe_once_udp() {
  local out
  out=$(printf '%s\n' "${SG_PROBE_TOKEN:-probe}" | ip netns exec "$SG_PREFIX-$1" \
    timeout $((SG_ANSWER_WAIT + 3)) socat -t "$SG_ANSWER_WAIT" -T "$SG_ANSWER_WAIT" - \
    UDP6:"[$2]":"${3:-7001}" 2>/dev/null)
  [[ "$out" == ok-* ]]
}

# sg_drops: every drop the agents counted (sixguard_packets_total, verdict drop, all hooks and
# reasons), summed over the host namespaces in SG_DROP_HOSTS (default the one agent's,
# $SG_HOST); prints nothing when a metrics endpoint does not answer (no agent, an older build).
sg_drops() {
  local host total=0 one
  for host in ${SG_DROP_HOSTS:-$SG_HOST}; do
    one=$(ip netns exec "$host" curl -s --max-time 2 "http://127.0.0.1:$SG_METRICS_PORT/metrics" \
      2>/dev/null | awk '/^sixguard_packets_total\{/ {n++; if (/verdict="drop"/) s += $2}
                          END {if (n) printf "%d\n", s}')
    [ -n "$one" ] || return 0
    total=$((total + one))
  done
  echo "$total"
}

# sg_probe PROTO FROM ADDR [PORT]: decides from evidence, not from one attempt's timing. An
# answer is a pass at once (never retried: a wrong pass is never hidden). No answer while the
# agent counted a drop is the datapath's block, at once. No answer and no drop counted (or no
# counter to read) is no evidence: a loaded machine lost the exchange, so it tries again, up to
# SG_PROBE_RETRIES more times; a datapath that drops without counting still blocks every try.
# Retries are appended to $SG_WORK/probe-retries. Counters are global, so probes that decide
# this way must run one at a time (matrices probe once in parallel, then re-probe alone).
sg_probe() {
  local proto=$1 attempt before after
  shift
  if [ "${SG_PROBE_ONCE:-0}" = 1 ]; then "sg_probe_once_$proto" "$@"; return; fi
  for ((attempt = 0; attempt <= SG_PROBE_RETRIES; attempt++)); do
    before=$(sg_drops)
    "sg_probe_once_$proto" "$@" && return 0
    after=$(sg_drops)
    if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]; then return 1; fi
    [ -n "$SG_WORK" ] && echo "$proto $*: attempt $((attempt + 1)): no answer, no drop counted" \
      >>"$SG_WORK/probe-retries"
  done
  return 1
}
sg_probe_ping() { sg_probe ping "$@"; }
sg_probe_tcp() { sg_probe tcp "$@"; }
sg_probe_udp() { sg_probe udp "$@"; }

# ---- the agent ----
# sg_write_config FILE [extra yaml lines...]
sg_write_config() {
  local file=$1
  shift
  {
    echo "state_dir: $SG_WORK/state"
    echo "api_socket: $SG_WORK/api.sock"
    echo "metrics_address: \"127.0.0.1:$SG_METRICS_PORT\""
    echo "bpffs: $SG_BPFFS"
    echo "mode: enforce"
    # SIXGUARD_TEST_EGRESS_HOOK=tc runs a suite with machine_egress on its TC fallback.
    echo "machine_egress_hook: ${SIXGUARD_TEST_EGRESS_HOOK:-auto}"
    echo "infra_prefixes: [\"fdaa::3/128\"]"
    local line
    for line in "$@"; do echo "$line"; done
  } >"$file"
}

# sg_agent_start CONFIG: starts `sixguard agent` in the host namespace, waits for /readyz.
sg_agent_start() {
  local config=$1
  local log="$SG_WORK/agent.log"
  echo "---- agent start $(date +%T.%N)" >>"$log"
  ip netns exec "$SG_HOST" "$SIXGUARD" agent --config "$config" >>"$log" 2>&1 &
  SG_AGENT_PID=$! # `ip netns exec` execs the agent: this is the agent's own PID
  sg_wait_ready || {
    echo "agent did not become ready; its log:"
    tail -n 30 "$log"
    return 1
  }
}

sg_agent_stop() { # sg_agent_stop [SIGNAL]: default TERM; waits for the exit, returns its status
  local signal=${1:-TERM} status=0
  [ -n "$SG_AGENT_PID" ] || return 0
  kill -"$signal" "$SG_AGENT_PID" 2>/dev/null
  wait "$SG_AGENT_PID" 2>/dev/null || status=$?
  SG_AGENT_PID=""
  return $status
}

sg_metrics() { # sg_metrics PATH: GET on the metrics listener
  ip netns exec "$SG_HOST" curl -s --max-time 2 "http://127.0.0.1:$SG_METRICS_PORT$1"
}

sg_wait_ready() {
  local _
  # Up to 60 s: loading and verifying the programs alone took 8 s on a loaded 2-core machine
  # (load average 14+), and a 10 s deadline failed there. A dead agent ends the wait at once.
  for _ in $(seq 1 600); do
    if [ -n "$SG_AGENT_PID" ] && ! kill -0 "$SG_AGENT_PID" 2>/dev/null; then return 1; fi
    [ "$(ip netns exec "$SG_HOST" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
      "http://127.0.0.1:$SG_METRICS_PORT/readyz" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# sg_api METHOD PATH [BODY-FILE]: prints "<body>\n<http status>".
sg_api() {
  local method=$1 path=$2 body=${3:-}
  local args=(-s --max-time 5 --unix-socket "$SG_WORK/api.sock" -X "$method" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
  curl "${args[@]}" "http://sixguard$path"
}

# sg_attached HOSTIF: our programs are on the interface: an XDP program (ours, or libxdp's
# dispatcher carrying ours) and our TC program on clsact egress.
# machine_egress (XDP, or sg_egress_tc on clsact ingress: agent/datapath/egress_hook.h) and
# machine_ingress are both on interface $1.
sg_attached() {
  local out
  out=$(ip netns exec "$SG_HOST" bpftool net show dev "$1" 2>/dev/null) || return 1
  awk -v dev="$1(" '/^xdp:/ {s="xdp"} /^tc:/ {s="tc"} /^flow_dissector:/ {s=""}
    s=="xdp" && index($0, dev)==1 {x=1}
    s=="tc" && index($0, dev)==1 && /clsact\/ingress/ && /sg_egress_tc/ {x=1}
    s=="tc" && index($0, dev)==1 && /clsact\/egress/ && /sg_machine_ingr/ {t=1}
    END {exit !(x && t)}' <<<"$out"
}
sg_detached() { # neither XDP nor any sg_ TC program on the interface
  local out
  out=$(ip netns exec "$SG_HOST" bpftool net show dev "$1" 2>/dev/null) || return 0
  awk -v dev="$1(" '/^xdp:/ {s="xdp"} /^tc:/ {s="tc"} /^flow_dissector:/ {s=""}
    s=="xdp" && index($0, dev)==1 {found=1}
    s=="tc" && index($0, dev)==1 && /sg_/ {found=1}
    END {exit found}' <<<"$out"
}
sg_wait_attached() { wait_for 60 sg_attached "$1"; }

# ---- the standard topology: 3 networks in 2 orgs, 4 machines, Flycast, DNS ----
# net-a (acme, a:1): m1 app-a1, m2 app-a2; net-b (acme, b:1): m3 app-b1;
# net-c (globex, c:1): m4 app-c1. Flycast FLYCAST targets app-a1 and is allocated into net-b.
SG_MACHINES=(m1 m2 m3 m4)
declare -A SG_ADDR=(
  [m1]=fdaa:a:1:0:1:0:1:2 [m2]=fdaa:a:1:0:1:0:2:2
  [m3]=fdaa:b:1:0:1:0:3:2 [m4]=fdaa:c:1:0:1:0:4:2)
declare -A SG_NET=([m1]=net-a [m2]=net-a [m3]=net-b [m4]=net-c)
declare -A SG_APP=([m1]=app-a1 [m2]=app-a2 [m3]=app-b1 [m4]=app-c1)
SG_FLYCAST=fdaa:b:1:0:1:f1:0:1
SG_FLYCAST_TARGET=app-a1
SG_FLYCAST_NET=net-b

sg_if() { echo "${SG_IFP}$1"; } # host-side interface of machine $1

sg_topology() {
  sg_host_create || return 1
  local m
  for m in "${SG_MACHINES[@]}"; do
    sg_machine "$m" "$(sg_if "$m")" "${SG_ADDR[$m]}" || return 1
  done
  sg_proxy px "$(sg_if px)" "$SG_FLYCAST" "${SG_ADDR[m1]}" || return 1
  sg_dns dns "$(sg_if dn)" || return 1
  for m in "${SG_MACHINES[@]}"; do
    sg_wait_listening "$SG_PREFIX-$m" 7000 7001 7002 || return 1
  done
  sg_wait_listening "$SG_PREFIX-px" 7000 && sg_wait_listening "$SG_PREFIX-dns" 53
}

# sg_wait_listening NS PORT...: the helpers' sockets are bound (they start in the background).
sg_listening() { ip netns exec "$1" ss -Hlnu -Hlnt 2>/dev/null | grep -q ":$2\b"; }
sg_wait_listening() {
  local ns=$1 port
  shift
  for port in "$@"; do
    wait_for 60 sg_listening "$ns" "$port" || { echo "nothing listens on $port in $ns"; return 1; }
  done
}

# sg_machine_started APP MACHINE ADDRESS INTERFACE [HOST]: one machine.started event as one
# line of JSON (DESIGN §3); HOST adds the "host" field `sixguard publish` wants.
sg_machine_started() {
  printf '{"type":"machine.started","app":"%s","machine":"%s","address":"%s","interface":"%s"%s}\n' \
    "$1" "$2" "$3" "$4" "${5:+,\"host\":\"$5\"}"
}

# The events describing the topology, NDJSON, to FILE. With ONLY_MACHINE=mN, just that
# machine's machine.started.
sg_write_events() {
  local file=$1
  cat >"$file" <<JSON
{"type":"network.created","org":"acme","network":"net-a","id":"a:1"}
{"type":"network.created","org":"acme","network":"net-b","id":"b:1"}
{"type":"network.created","org":"globex","network":"net-c","id":"c:1"}
{"type":"app.created","org":"acme","app":"app-a1","network":"net-a"}
{"type":"app.created","org":"acme","app":"app-a2","network":"net-a"}
{"type":"app.created","org":"acme","app":"app-b1","network":"net-b"}
{"type":"app.created","org":"globex","app":"app-c1","network":"net-c"}
{"type":"flycast.allocated","app":"$SG_FLYCAST_TARGET","address":"$SG_FLYCAST","network":"$SG_FLYCAST_NET"}
JSON
  local m
  for m in "${SG_MACHINES[@]}"; do
    sg_machine_started "${SG_APP[$m]}" "$m" "${SG_ADDR[$m]}" "$(sg_if "$m")" >>"$file"
  done
}

# sg_agent_up [extra yaml lines...]: the topology, then the agent on it, ready. libxdp keeps
# its dispatcher state in our own bpffs mount too (LIBXDP_BPFFS), never in the host's
# /sys/fs/bpf. Ends the test (exit 1) when either cannot be brought up.
sg_agent_up() {
  sg_topology || { echo "FAIL: could not build the topology"; exit 1; }
  export LIBXDP_BPFFS=$SG_BPFFS
  sg_write_config "$SG_WORK/config.yaml" "$@"
  sg_agent_start "$SG_WORK/config.yaml" || { echo "FAIL: agent did not start"; exit 1; }
}

# sg_start_all [CONFIG LINE...]: the usual start of a test: the topology, $SG_WORK/config.yaml
# (with the extra lines), the agent, the topology's events ($SG_WORK/events.json) applied and
# every machine's interface attached. Ends the test (exit 1) when the topology or the agent
# cannot be brought up; the rest are checks.
sg_start_all() {
  sg_agent_up "$@"
  sg_write_events "$SG_WORK/events.json"
  local reply m
  reply=$(sg_api POST /v1/events "$SG_WORK/events.json")
  sg_check "events applied" test "$(sg_status_of "$reply")" = 200
  for m in "${SG_MACHINES[@]}"; do
    sg_check "attached to $(sg_if "$m")" sg_wait_attached "$(sg_if "$m")"
  done
}

# sg_prometheus_start PORT: a real Prometheus in the host namespace, scraping the agent's
# metrics listener every second, its TSDB and log in $SG_WORK; killed by sg_cleanup.
sg_prometheus_start() {
  mkdir -p "$SG_WORK/tsdb"
  cat >"$SG_WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sixguard
    static_configs:
      - targets: ["127.0.0.1:$SG_METRICS_PORT"]
YAML
  ip netns exec "$SG_HOST" prometheus --config.file="$SG_WORK/prometheus.yml" \
    --storage.tsdb.path="$SG_WORK/tsdb" --web.listen-address="127.0.0.1:$1" \
    >"$SG_WORK/prometheus.log" 2>&1 &
  SG_PIDS+=($!) # `ip netns exec` execs Prometheus: this is its PID
}

# sg_expect_status EXPECTED "<body>\n<status>" : the HTTP status line matches
sg_status_of() { tail -n 1 <<<"$1"; }
sg_body_of() { sed '$d' <<<"$1"; }

# sg_probe_cell FROM TO PROTO: one cell of the matrix; TO is a machine, "fly" (the Flycast
# address) or "dns" (fdaa::3). Prints pass or block. TCP and UDP carry the cell's token
# (sg_cell_token), which the target's echo server records when the request arrives.
sg_probe_cell() {
  local from=$1 to=$2 proto=$3 addr port=""
  case "$to" in
    fly) addr=$SG_FLYCAST ;;
    dns) addr=fdaa::3; [ "$proto" = udp ] && port=53 ;;
    *) addr=${SG_ADDR[$to]} ;;
  esac
  if SG_PROBE_TOKEN=$(sg_cell_token "$from" "$to" "$proto") "sg_probe_$proto" "$from" "$addr" $port
  then echo pass; else echo block; fi
}
SG_MATRIX_RUN=0
sg_cell_token() { echo "cell-$SG_MATRIX_RUN-$1-$2-$3"; }
# The machine whose echo server a cell's request reaches: the Flycast proxy forwards to its
# target's machine.
sg_cell_receiver() {
  case "$1" in
    fly) local m; for m in "${SG_MACHINES[@]}"; do
           [ "${SG_APP[$m]}" = "$SG_FLYCAST_TARGET" ] && { echo "$m"; return; }; done ;;
    *) echo "$1" ;;
  esac
}

# Runs every probe of the matrix in parallel, one attempt each; results in
# $SG_WORK/matrix/<from>-<to>-<proto> ("pass" or "block"). Targets: each machine, "fly" (the
# Flycast address, TCP) and "dns" (fdaa::3: ping and UDP 53).
#
# A loaded machine can make a probe miss an answer that the datapath passed (connectivity.sh
# once saw "m1 -> m2 tcp: got block, want pass" with no drop counted). So a cell that came out
# blocked where DESIGN §2 says pass is probed again, alone, with sg_probe's evidence rule: a
# counted drop confirms the block, no answer without a drop is retried. This cannot hide a
# datapath fault: a wrong drop blocks every attempt, and a wrong pass is never retried (an
# answer that arrived is evidence). The retried cells are listed in $dir/retried.
sg_run_matrix() {
  local dir="$SG_WORK/matrix"
  SG_MATRIX_RUN=$((SG_MATRIX_RUN + 1))
  rm -rf "$dir"
  mkdir -p "$dir"
  local from to proto pids=()
  export SG_PROBE_ONCE=1 # attempts in parallel: the drop counters cannot tell them apart
  for from in "${SG_MACHINES[@]}"; do
    for to in "${SG_MACHINES[@]}"; do
      [ "$from" = "$to" ] && continue
      for proto in ping tcp udp; do
        sg_probe_cell "$from" "$to" "$proto" >"$dir/$from-$to-$proto" &
        pids+=($!)
      done
    done
    sg_probe_cell "$from" fly tcp >"$dir/$from-fly-tcp" &
    pids+=($!)
    sg_probe_cell "$from" dns ping >"$dir/$from-dns-ping" &
    pids+=($!)
    sg_probe_cell "$from" dns udp >"$dir/$from-dns-udp" &
    pids+=($!)
  done
  wait "${pids[@]}"
  unset SG_PROBE_ONCE
  sg_reprobe_blocked "$dir"
}

sg_reprobe_blocked() { # sg_reprobe_blocked DIR
  local dir=$1 from to proto got
  for from in "${SG_MACHINES[@]}"; do
    for to in "${SG_MACHINES[@]}" fly dns; do
      [ "$from" = "$to" ] && continue
      [ "$(sg_expected "$from" "$to")" = pass ] || continue
      for proto in ping tcp udp; do
        [ "$(cat "$dir/$from-$to-$proto" 2>/dev/null)" = block ] || continue
        got=$(sg_probe_cell "$from" "$to" "$proto")
        echo "$from -> $to $proto: blocked in the parallel round, alone: $got" >>"$dir/retried"
        echo "$got" >"$dir/$from-$to-$proto"
      done
    done
  done
  [ -f "$dir/retried" ] && cat "$dir/retried" >&2
  return 0
}

# What DESIGN §2 says for each probe: machines reach machines of their own network only; the
# Flycast address is reached from the network it was allocated into (and by its target app,
# rule 6: replies to the proxy); fdaa::3 (infra) from everywhere.
sg_expected() { # sg_expected FROM TO
  local from=$1 to=$2
  case "$to" in
    dns) echo pass ;;
    fly)
      if [ "${SG_NET[$from]}" = "$SG_FLYCAST_NET" ] || [ "${SG_APP[$from]}" = "$SG_FLYCAST_TARGET" ]; then
        echo pass
      else echo block; fi ;;
    *) if [ "${SG_NET[$from]}" = "${SG_NET[$to]}" ]; then echo pass; else echo block; fi ;;
  esac
}

# Prints the matrix (cells: ping/tcp/udp, + reached, - blocked, ! unexpected) and counts
# every probe whose outcome differs from sg_expected as a failure.
sg_check_matrix() {
  local dir="$SG_WORK/matrix" from to proto cell got want bad=0
  printf '\n%-12s' "from \\ to"
  for to in "${SG_MACHINES[@]}"; do printf '%-12s' "$to(${SG_NET[$to]})"; done
  printf '%-12s%-10s\n' "flycast" "fdaa::3"
  for from in "${SG_MACHINES[@]}"; do
    printf '%-12s' "$from(${SG_NET[$from]})"
    for to in "${SG_MACHINES[@]}" fly dns; do
      cell=""
      if [ "$from" = "$to" ]; then printf '%-12s' "."; continue; fi
      local protos=(ping tcp udp)
      [ "$to" = fly ] && protos=(tcp)
      [ "$to" = dns ] && protos=(ping udp)
      want=$(sg_expected "$from" "$to")
      for proto in "${protos[@]}"; do
        got=$(cat "$dir/$from-$to-$proto" 2>/dev/null || echo missing)
        # A blocked request must not have reached the machine either: an answer lost on the
        # way back would hide a one-way leak.
        if [ "$got" = block ] && [ "$proto" != ping ] && grep -qx "$proto $(sg_cell_token "$from" "$to" "$proto")" \
          "$SG_WORK/$(sg_cell_receiver "$to").arrivals" 2>/dev/null; then
          got="block, but the request arrived"
        fi
        if [ "$got" != "$want" ]; then
          cell+="!"
          bad=$((bad + 1))
          echo "$from -> $to $proto: got $got, want $want" >>"$dir/unexpected"
        elif [ "$got" = pass ]; then cell+="+"; else cell+="-"; fi
      done
      printf '%-12s' "$cell"
    done
    printf '\n'
  done
  printf '(cells: ping,tcp,udp; flycast: tcp; fdaa::3: ping,udp53; + reached, - blocked, ! unexpected)\n\n'
  [ -f "$dir/unexpected" ] && cat "$dir/unexpected"
  return $bad
}

# sg_finish NAME [LOG]: the end of a test: with failed checks, the tail of the agent's log
# (default $SG_WORK/agent.log) and exit 1; otherwise "NAME: all checks passed".
sg_finish() {
  local name=$1 log=${2:-$SG_WORK/agent.log}
  if [ "$SG_FAILURES" -gt 0 ]; then
    echo "---- agent log (tail)"
    tail -n 40 "$log"
    echo "$name: $SG_FAILURES check(s) FAILED"
    exit 1
  fi
  echo "$name: all checks passed"
}
