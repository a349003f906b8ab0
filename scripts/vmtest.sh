#!/bin/bash
# vmtest.sh [OPTIONS] KERNEL [-- CMD...]
#
# Boots a Debian kernel in qemu and runs sixguard's tests on it. KERNEL is 5.10
# (bullseye), 6.1 (bookworm), 6.12 (trixie) or all (the three in sequence, then a summary
# table). The guest runs the host's own userspace: the host root file system is mounted
# read-only over 9p with a tmpfs overlay on top, so the host's build tree, bpftool, ip and
# tc run unchanged and only the kernel differs. CMD (default tests/vm/guest-suite.sh) runs
# in the guest as root, in this repository's directory; its output is printed here and its
# exit code is this script's exit code.
#
# Options:
#   --timeout SEC     kill the VM after SEC seconds in all (default 900; 0: no total; exit
#                     code 124)
#   --idle-timeout SEC  kill the VM when its console has printed nothing for SEC seconds
#                     (default 0: not watched; exit code 124). The guest suite prints a line
#                     per test, so silence means a hang: on a loaded machine this, not a
#                     total, is the limit that holds (scripts/test.sh uses it alone)
#   --build-dir DIR   build tree the default suite runs (default: BUILD_DIR or ./build)
#   --mem MB, --smp N VM size (default 2048, 2)
#   -q, --quiet       print the guest's output only at the end, not as it arrives
#
# Environment: SIXGUARD_VM_ACCEL=kvm|tcg|auto (default auto: KVM when /dev/kvm boots a
# kernel, else TCG), SIXGUARD_VM_MODULES (extra kernel modules to load),
# SIXGUARD_VM_LOG_DIR (keep each kernel's full console log there as console-KERNEL.log; the
# guest command sees DIR/out-KERNEL, writable, as $SIXGUARD_VM_OUT: guest-suite.sh leaves
# its gtest XML reports there),
# SIXGUARD_VM_CACHE, SIXGUARD_VM_REFRESH, SIXGUARD_VM_MIRROR (see tests/vm/fetch-kernel.sh).
# Every SIXGUARD_* variable is passed to the guest command (so SIXGUARD_VM_SUITES and the
# other settings of tests/vm/guest-suite.sh can be given here).
#
# Exit codes: the guest command's, or 124 (time-out), 125 (the VM failed before or while
# running the command: no result marker), 2 (usage).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vm_dir=$repo/tests/vm
# shellcheck source=tests/vm/lib.sh
source "$vm_dir/lib.sh"

usage() {
    sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

timeout_s=900
idle_timeout_s=0
build_dir=${BUILD_DIR:-$repo/build}
mem=2048
smp=2
stream=1
kernel=
guest_cmd=()
while (($#)); do
    case "$1" in
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --idle-timeout) idle_timeout_s=${2:?}; shift 2 ;;
    --build-dir) build_dir=$(cd "${2:?}" && pwd); shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    -q | --quiet) stream=0; shift ;;
    -h | --help) usage ;;
    --) shift; guest_cmd=("$@"); break ;;
    -*) echo "vmtest: unknown option $1" >&2; usage ;;
    *) [[ -z $kernel ]] || usage; kernel=$1; shift ;;
    esac
done
[[ -n $kernel ]] || usage
if ((${#guest_cmd[@]} == 0)); then
    guest_cmd=("$vm_dir/guest-suite.sh" "$build_dir")
fi

suite_of() {
    case "$1" in
    5.10) echo bullseye ;;
    6.1) echo bookworm ;;
    6.12) echo trixie ;;
    *) return 1 ;;
    esac
}

# Modules the guest loads: the 9p root (virtio, 9p and what modules.dep says they need),
# overlayfs for a writable root, and what the datapath tests attach to.
boot_modules=(virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
    netfs fscache 9pnet 9pnet_virtio 9p overlay)
# The tunnel devices tests/integration/tunnel.sh attacks through (the host tree holds no
# modules of the guest's kernel, so they come in the initramfs like the others).
test_modules=(veth sch_ingress cls_bpf act_bpf dummy tun 8021q
    vxlan geneve ip_gre ip6_gre ip6_tunnel sit)
read -r -a extra_modules <<<"${SIXGUARD_VM_MODULES:-}"

work=$(mktemp -d /tmp/sg-vm.XXXXXX)
qemu_pid=
stream_pid=
cleanup() {
    local pid
    for pid in $qemu_pid $stream_pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command file the guest's init runs (in the chroot, from the repository directory).
write_command_file() {
    local file=$1 name
    {
        echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        echo 'export HOME=/root TERM=dumb LANG=C.UTF-8 SIXGUARD_IN_VM=1'
        for name in $(compgen -e); do
            [[ $name == SIXGUARD_* && $name != SIXGUARD_VM_OUT ]] || continue
            printf 'export %s=%q\n' "$name" "${!name}"
        done
        printf 'cd %q || exit 125\n' "$repo"
        printf 'exec'
        printf ' %q' "${guest_cmd[@]}"
        echo
    } >"$file"
}

# KVM when it really runs a guest: here /dev/kvm exists but a vCPU never gets anywhere,
# so the probe boots the kernel for a few seconds and looks for its first console line.
accel=
choose_accel() { # $1: a kernel image to probe with
    [[ -z $accel ]] || return 0
    case "${SIXGUARD_VM_ACCEL:-auto}" in
    kvm | tcg) accel=$SIXGUARD_VM_ACCEL; return 0 ;;
    esac
    accel=tcg
    [[ -r /dev/kvm && -w /dev/kvm ]] || return 0
    local probe_log=$work/kvm-probe.log
    (timeout -k 2 4 qemu-system-x86_64 -accel kvm -cpu host -M pc -m 256 -nodefaults \
        -display none -monitor none -serial "file:$probe_log" -no-reboot \
        -kernel "$1" -append "console=ttyS0 panic=-1" </dev/null >/dev/null 2>&1
        exit 0) 2>/dev/null
    if grep -q 'Linux version' "$probe_log" 2>/dev/null; then
        accel=kvm
    fi
    echo "vmtest: accelerator $accel" >&2
}

# Prints the guest's output between the markers (live when streaming) and sets
# run_rc, run_boot (guest uptime when the command started) and run_wall.
run_one() {
    local kernel=$1 suite kdir kver dir start
    start=$(vm_now)
    run_rc=125 run_boot=- run_wall=- run_kver=-
    suite=$(suite_of "$kernel") || {
        echo "vmtest: unknown kernel $kernel (5.10, 6.1, 6.12 or all)" >&2
        return 2
    }
    dir=$work/$kernel
    mkdir -p "$dir"
    kdir=$("$vm_dir/fetch-kernel.sh" "$suite") || return 125
    kver=$(cat "$kdir/version")
    run_kver=$kver
    "$vm_dir/build-initramfs.sh" "$kdir/modules" "$dir/initramfs.cpio.gz" \
        "${boot_modules[@]}" "${test_modules[@]}" "${extra_modules[@]}" 2>"$dir/initramfs.log" || {
        cat "$dir/initramfs.log" >&2
        return 125
    }
    grep -v 'not in this kernel' "$dir/initramfs.log" >&2 || true
    write_command_file "$dir/command.sh"
    choose_accel "$kdir/vmlinuz"

    local accel_args=(-accel "tcg,thread=multi" -cpu max)
    [[ $accel == kvm ]] && accel_args=(-accel kvm -cpu host)
    # SIXGUARD_VM_LOG_DIR: a writable share the guest command may leave files in (gtest XML).
    local out_share=()
    if [[ -n ${SIXGUARD_VM_LOG_DIR:-} ]]; then
        mkdir -p "$SIXGUARD_VM_LOG_DIR/out-$kernel"
        out_share=(-virtfs "local,path=$(cd "$SIXGUARD_VM_LOG_DIR/out-$kernel" && pwd),mount_tag=sgout,security_model=none")
    fi
    local console=$dir/console.log
    : >"$console"
    echo "vmtest: booting $kver ($suite) with $accel, timeout ${timeout_s}s in all (0: none)," \
        "${idle_timeout_s}s without console output (0: not watched)" >&2
    # no_timer_check: under TCG on a loaded host the guest's IO-APIC timer check can miss its
    # ticks and 5.10 panics at boot ("IO-APIC + timer doesn't work").
    local total=()
    ((timeout_s > 0)) && total=(timeout -k 5 "$timeout_s")
    "${total[@]}" qemu-system-x86_64 "${accel_args[@]}" -M pc -m "$mem" -smp "$smp" \
        -nodefaults -no-user-config -display none -monitor none -no-reboot \
        -serial "file:$console" \
        -kernel "$kdir/vmlinuz" -initrd "$dir/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1 oops=panic mitigations=off no_timer_check sixguard.cmd=$dir/command.sh sixguard.bind=$repo,$build_dir" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        "${out_share[@]}" \
        </dev/null >"$dir/qemu.log" 2>&1 &
    qemu_pid=$!

    if ((stream)); then
        # Follows the console until qemu exits; prints what lies between the markers. In the
        # background: bash runs a trap only once a foreground command ends, `wait` at once.
        tail -n +1 -F -s 0.5 --pid="$qemu_pid" "$console" 2>/dev/null | guest_output_filter &
        stream_pid=$!
    fi
    local qemu_rc=0 idle_killed=0
    if ((idle_timeout_s > 0)); then
        vm_watch_progress "$qemu_pid" "$console" "$idle_timeout_s" || idle_killed=1
    fi
    wait "$qemu_pid" || qemu_rc=$?
    qemu_pid=
    if [[ -n $stream_pid ]]; then
        wait "$stream_pid" || true
        stream_pid=
    fi
    if ((!stream)); then
        guest_output_filter <"$console"
    fi

    run_wall=$(vm_elapsed "$start")
    if [[ -n ${SIXGUARD_VM_LOG_DIR:-} ]]; then
        mkdir -p "$SIXGUARD_VM_LOG_DIR"
        tr -d '\r' <"$console" >"$SIXGUARD_VM_LOG_DIR/console-$kernel.log"
    fi
    local begin end
    begin=$(tr -d '\r' <"$console" | grep -m1 '^@@SIXGUARD-VM BEGIN' || true)
    end=$(tr -d '\r' <"$console" | grep -m1 '^@@SIXGUARD-VM END' || true)
    [[ -n $begin ]] && run_boot=$(sed -n 's/.*uptime=\([0-9.]*\).*/\1/p' <<<"$begin")
    if [[ -n $end ]]; then
        run_rc=$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' <<<"$end")
        echo "vmtest: $kver: guest command exited $run_rc; boot ${run_boot}s, wall ${run_wall}s" >&2
        return 0
    fi
    if ((idle_killed)); then
        run_rc=124
        echo "vmtest: $kver: no console output for ${idle_timeout_s}s: stopped as hung" >&2
    elif ((qemu_rc == 124 || qemu_rc == 137)); then
        run_rc=124
        echo "vmtest: $kver: timed out after ${timeout_s}s" >&2
    else
        run_rc=125
        echo "vmtest: $kver: VM ended without a result (qemu exit $qemu_rc)" >&2
    fi
    grep -h 'SETUP-FAILED' "$console" >&2 || true
    echo "--- last console lines ($console) ---" >&2
    tr -d '\r' <"$console" | tail -n 40 >&2
    echo "--- qemu ---" >&2
    tail -n 20 "$dir/qemu.log" >&2
    return 0
}

guest_output_filter() { # a read loop: mawk would hold lines back in its input buffer
    local line inside=0
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        case "$line" in
        '@@SIXGUARD-VM END'*) return 0 ;;
        '@@SIXGUARD-VM BEGIN'*) inside=1 ;;
        *) ((inside)) && printf '%s\n' "$line" ;;
        esac
    done
    return 0
}

if [[ $kernel != all ]]; then
    run_one "$kernel" || exit $?
    exit "$run_rc"
fi

summary=()
failed=0
for k in 5.10 6.1 6.12; do
    echo "===== kernel $k =====" >&2
    run_one "$k" || run_rc=$?
    summary+=("$(printf '%-6s %-24s %-8s %8s %8s' "$k" "$run_kver" "$run_rc" "$run_boot" "$run_wall")")
    ((run_rc == 0)) || failed=1
done
echo
printf '%-6s %-24s %-8s %8s %8s\n' kernel version result boot_s wall_s
printf '%s\n' "${summary[@]}"
exit "$failed"
