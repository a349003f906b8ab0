#!/bin/bash
# bpf-smoke.sh [BPF_OBJECT]
#
# What a kernel can do for sixguard's datapath, checked with the host's own tools (clang,
# bpftool, ip, tc, xdp-loader). Meant to run as root inside the test VM:
#   scripts/vmtest.sh 6.1 -- tests/vm/bpf-smoke.sh [build/bpf/sixguard.bpf.o]
# where everything it creates disappears with the VM. It refuses to run on a host unless
# SIXGUARD_SMOKE_ON_HOST=1 (it pins the project's maps by name at the bpffs root).
#
# Part 1, the kernel, with a minimal pass-through program (tests/vm/pass.bpf.c, compiled
# here): XDP native attach on veth, clsact + direct-action tc filter, libxdp multiprog
# (dispatcher + freplace), BPF_PROG_TEST_RUN with the contexts the agent may use.
# Part 2, the project's object (default build/bpf/sixguard.bpf.o): every program through
# the verifier, attached to a veth, traffic through it, BPF_PROG_TEST_RUN of sg_explain.
# PASS/FAIL lines are checks (a FAIL fails the run), INFO lines are facts about the kernel.
# The last line is "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
object=${1:-build/bpf/sixguard.bpf.o}
if [[ ${SIXGUARD_IN_VM:-0} != 1 && ${SIXGUARD_SMOKE_ON_HOST:-0} != 1 ]]; then
    echo "bpf-smoke: meant for the test VM (set SIXGUARD_SMOKE_ON_HOST=1 to run here)" >&2
    exit 2
fi

passed=0
failed=0
check() { # NAME COMMAND...: a required check; prints the command's last lines on failure
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "PASS $name"
        passed=$((passed + 1))
        return 0
    fi
    echo "FAIL $name"
    grep -v '^[0-9]*: (' <<<"$out" | tail -n 12 | sed 's/^/    /'
    failed=$((failed + 1))
    return 1
}
info() { echo "INFO $*"; }
skip() { echo "SKIP $*"; }

pin=/sys/fs/bpf/sg-h6-smoke-$$
ns=sg-h6-smoke-$$
veth=sg-h6-v$$
peer=sg-h6-p$$
work=$(mktemp -d /tmp/sg-h6-smoke.XXXXXX)
created_pins=
cleanup() {
    ip link del "$veth" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$pin" "$work"
    local map # only the by-name map pins this run created
    for map in $created_pins; do rm -f "/sys/fs/bpf/$map"; done
}
trap cleanup EXIT

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$pin"
info "kernel $(uname -r)"

# --- kernel features ------------------------------------------------------------------------
bpftool feature probe kernel >"$work/probe" 2>&1
probe() { grep -q "$2" "$work/probe" && info "$1: yes" || info "$1: NO"; }
probe "prog type xdp" "program_type xdp is available"
probe "prog type sched_cls" "program_type sched_cls is available"
probe "prog type ext (freplace)" "program_type ext is available"
probe "map type ringbuf" "map_type ringbuf is available"
probe "map type lpm_trie" "map_type lpm_trie is available"
probe "large programs (1M insns, bounded loops)" "Large program size limit is available"
[[ -e /sys/kernel/btf/vmlinux ]] && info "kernel BTF: yes" || info "kernel BTF: NO"
# Kernel types that exist only with a feature, from the running kernel's own BTF.
bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null |
    sed -n "s/^\[[0-9]*\] STRUCT '\([a-z_0-9]*\)'.*/\1/p" >"$work/structs"
kstruct() { grep -qx "$2" "$work/structs" && info "$1: yes" || info "$1: NO"; }
kstruct "BPF_F_TEST_XDP_LIVE_FRAMES (5.18+, struct xdp_test_data)" xdp_test_data
kstruct "tcx: tc attach through bpf_link (6.6+, struct tcx_entry)" tcx_entry
kstruct "bpf_link for XDP (5.9+, struct bpf_xdp_link)" bpf_xdp_link

# Contexts for BPF_PROG_TEST_RUN. Packet: Ethernet + IPv6 fdaa:0:2:45b:1:2:3:1 ->
# fdaa:0:3:1::1 + ICMPv6 echo, 62 bytes.
printf '\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd' >"$work/pkt"
printf '\x60\x00\x00\x00\x00\x08\x3a\x40' >>"$work/pkt"
printf '\xfd\xaa\x00\x00\x00\x02\x04\x5b\x00\x01\x00\x02\x00\x03\x00\x01' >>"$work/pkt"
printf '\xfd\xaa\x00\x00\x00\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01' >>"$work/pkt"
printf '\x80\x00\x00\x00\x00\x01\x00\x01' >>"$work/pkt"
zeros() { head -c "$1" /dev/zero; }
le32() { # the little-endian bytes of a 32-bit number
    local v=$1 escaped
    escaped=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $(((v >> 8) & 255)) \
        $(((v >> 16) & 255)) $(((v >> 24) & 255)))
    printf '%b' "$escaped"
}
# __sk_buff up to cb[]: cb[0] = 2, cb[1] = 1 (what the agent's explain passes).
{ zeros 48; le32 2; le32 1; zeros 12; } >"$work/skb_cb"
# __sk_buff with ifindex (offset 40) = lo as well.
{ zeros 40; le32 1; zeros 4; le32 2; le32 1; zeros 12; } >"$work/skb_ifindex"
# xdp_md {data 0, data_end 62, data_meta 0, ingress_ifindex lo, rx_queue 0, egress 0}.
{ le32 0; le32 62; le32 0; le32 1; le32 0; le32 0; } >"$work/xdp_md"

# --- part 1: the kernel, with a pass-through program ----------------------------------------
ip netns add "$ns"
ip link add "$veth" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip link set "$veth" up
ip -n "$ns" link set "$peer" up
ip -n "$ns" link set lo up

pass_obj=$work/pass.bpf.o
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
if check "compile tests/vm/pass.bpf.c" clang -g -O2 -target bpf -idirafter "/usr/include/$multiarch" \
    -c "$here/pass.bpf.c" -o "$pass_obj" &&
    check "load the pass-through programs" bpftool prog loadall "$pass_obj" "$pin/pass"; then
    xdp_pass=$pin/pass/sg_vm_xdp_pass
    tc_pass=$pin/pass/sg_vm_tc_pass
    if check "XDP native (xdpdrv) attach on veth" ip link set dev "$veth" xdpdrv pinned "$xdp_pass"; then
        info "veth XDP mode: $(ip -d link show dev "$veth" | grep -o 'prog/xdp[a-z]*' | head -1)"
        ip link set dev "$veth" xdpdrv off
    fi
    check "tc qdisc clsact" tc qdisc add dev "$veth" clsact &&
        check "tc filter bpf direct-action on clsact egress" \
            tc filter add dev "$veth" egress bpf direct-action object-pinned "$tc_pass"
    tc qdisc del dev "$veth" clsact 2>/dev/null

    # libxdp's multiprog dispatcher attaches programs with freplace (BPF_PROG_TYPE_EXT).
    if ! command -v xdp-loader >/dev/null; then
        info "libxdp multiprog: not checked (no xdp-loader: apt-get install xdp-tools)"
    elif out=$(xdp-loader load -m native -p "$work/xdp-pins" "$veth" "$pass_obj" 2>&1); then
        info "libxdp multiprog (xdp-loader, native): yes: $(xdp-loader status "$veth" 2>&1 |
            awk '/xdp_dispatcher|=>/ { printf "%s ", $0 }' | tr -s ' ')"
        xdp-loader unload -a "$veth" >/dev/null 2>&1
    else
        info "libxdp multiprog (xdp-loader, native): NO: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    fi

    check "test_run tc without context" bpftool prog run pinned "$tc_pass" data_in "$work/pkt"
    check "test_run tc with __sk_buff.cb[] context" \
        bpftool prog run pinned "$tc_pass" data_in "$work/pkt" ctx_in "$work/skb_cb"
    check "test_run xdp without context" bpftool prog run pinned "$xdp_pass" data_in "$work/pkt"
    if out=$(bpftool prog run pinned "$tc_pass" data_in "$work/pkt" ctx_in "$work/skb_ifindex" 2>&1); then
        info "test_run tc __sk_buff.ifindex in context: yes"
    else
        info "test_run tc __sk_buff.ifindex in context: NO ($(tail -n 1 <<<"$out"))"
    fi
    if out=$(bpftool prog run pinned "$xdp_pass" data_in "$work/pkt" ctx_in "$work/xdp_md" 2>&1); then
        info "test_run xdp xdp_md.ingress_ifindex in context (5.15+): yes"
    else
        info "test_run xdp xdp_md.ingress_ifindex in context (5.15+): NO ($(tail -n 1 <<<"$out"))"
    fi
fi

# --- part 2: the project's object -----------------------------------------------------------
if [[ ! -f $object ]]; then
    check "project object $object exists (cmake --build build --target sixguard_skel_gen)" false
elif before=$(ls /sys/fs/bpf) && check "project object loads: bpftool prog loadall $object" \
    bpftool prog loadall "$object" "$pin/sixguard"; then
    created_pins=$(comm -13 <(echo "$before") <(ls /sys/fs/bpf) | grep -v '^sg-h6-smoke-')
    for prog in "$pin"/sixguard/*; do
        info "loaded $(bpftool prog show pinned "$prog" | head -1 | sed 's/^[0-9]*: //;s/  */ /g') $(bpftool prog show pinned "$prog" | grep -o 'xlated [0-9]*B  jited [0-9]*B')"
    done
    info "maps pinned by name: $(echo $created_pins)"
    check "project XDP sg_machine_egress native attach on veth" \
        ip link set dev "$veth" xdpdrv pinned "$pin/sixguard/sg_machine_egress"
    check "project tc sg_machine_ingress on clsact egress" \
        bash -c "tc qdisc add dev $veth clsact &&
                 tc filter add dev $veth egress bpf direct-action object-pinned $pin/sixguard/sg_machine_ingress"
    # Link-local traffic is not 6PN: the design passes it both ways.
    sleep 2 # IPv6 duplicate address detection on the new link-local addresses
    ll=$(ip -6 addr show dev "$veth" scope link | awk '/inet6/ { sub(/\/.*/, "", $2); print $2; exit }')
    if ip netns exec "$ns" ping -6 -c 2 -W 2 "$ll%$peer" >"$work/ping" 2>&1; then
        info "ping6 link-local through the project's XDP + tc programs: replies"
    else
        info "ping6 link-local through the project's XDP + tc programs: no reply"
    fi
    # What the programs counted (sg_counters: slot = (hook * 3 + verdict) * 8 + reason).
    bpftool -j map dump pinned /sys/fs/bpf/sg_counters 2>/dev/null | python3 -c '
import json, sys
hooks = ["machine_egress", "machine_ingress", "uplink"]
verdicts = ["pass", "drop", "audit"]
reasons = ["not_6pn", "malformed", "spoofed_source", "not_for_machine", "infra", "flycast",
           "same_network", "cross_network"]
for entry in json.load(sys.stdin):
    entry = entry.get("formatted", entry)  # with BTF bpftool names the fields
    slot = entry["key"]
    packets = sum(cpu["value"]["packets"] for cpu in entry["values"])
    if packets:
        hook, rest = divmod(slot, 24)
        print("INFO counted %s %s/%s: %d packets" % (hooks[hook], verdicts[rest // 8],
                                                  reasons[rest % 8], packets))
' 2>&1 | sed 's/^Traceback.*/INFO counters: cannot decode sg_counters/' | grep '^INFO'
    if [[ -e $pin/sixguard/sg_explain ]]; then
        # The agent's explain: cb[0] = hook (SG_HOOK_UPLINK 2), cb[1] = ifindex (none).
        { zeros 48; le32 2; le32 0; zeros 12; } >"$work/skb_explain"
        # Networks 0:2 -> 0:3, no infra, no Flycast: drop/cross_network (DESIGN 2, uplink
        # rule 7), SG_EXPLAIN_ENCODE(SG_VERDICT_DROP 1, SG_REASON_CROSS_NETWORK 7) = 263.
        check "test_run sg_explain uplink 0:2 -> 0:3 returns drop/cross_network (263)" \
            bash -c "bpftool prog run pinned $pin/sixguard/sg_explain data_in $work/pkt \
                     ctx_in $work/skb_explain | tee /dev/stderr | grep -q 'Return value: 263,'"
    fi
else
    skip "project object attach and test_run: the object did not load"
fi

echo "$passed passed, $failed failed"
((failed == 0))
