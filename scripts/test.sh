#!/usr/bin/env bash
# Runs every sixguard test and ends non-zero on any failure.
#   scripts/test.sh              the host run (ctest, every test), the API fuzz test, the ODR
#                                check (LTO + -Wodr, build-odr), then the VM suite on Debian's
#                                6.1 kernel (its short list, below)
#   scripts/test.sh --vm all     the VM suite on 5.10, 6.1 and 6.12 as well
#   scripts/test.sh --vm none    no VM suite
#   scripts/test.sh --vm-full    the guests run every integration test labelled `vm`
#                                (also SIXGUARD_VM_FULL=1)
# Kernel tests need root; without it they report themselves skipped. With
# SIXGUARD_REQUIRE_KERNEL_TESTS=1 (as .ci/run sets) a skip is a failure.
#
# The build (build/) has -DSIXGUARD_WERROR=ON: a compiler warning fails the run.
#
# Where each test runs (every ctest test carries LABELS; ctest_labels fails on one without):
#  1. ctest -LE integration -j2: unit, kernel, bpf, exporter, etcd, package, deploy tests. They
#     share no global state (unique namespace and pin names, ports the kernel hands out, temp
#     dirs); the few that do (exporter.*_live: a real Prometheus and agent) are RUN_SERIAL,
#     which ctest runs alone even with -j2.
#  2. ctest -L integration, one at a time: the real agent in namespaces with real traffic.
#     Their probes decide from evidence (tests/integration/lib.sh sg_probe), but they also
#     measure answering under attack and stream loss, which another suite's CPU would skew.
#  3. counted steps: the API fuzz test (ASan+UBSan, its own build-asan) and the ODR check
#     (LTO + -Wodr -Werror=odr, its own build-odr).
#  4. the VM suite (tests/vm/guest-suite.sh) on an older kernel: every gtest binary under
#     tests/kernel, tests/bpf and tests/model (the verifier and the kernel-facing tests), and of
#     the integration tests labelled `vm` the short list that matters most on an older kernel:
#     connectivity (the matrix on the guest's XDP/TC), connectivity_tc_egress (the TC egress
#     fallback 5.10 uses) and upgrade (libxdp's dispatcher over an older build). The others
#     (lifecycle, bad_input, state_guard, tunnel: user-space logic or tunnel kinds the host
#     run covers on the host kernel) cost ~10 of the ~22 guest minutes under TCG; they run in
#     the guests with --vm-full, and on the host in step 2 always.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

vm=6.1
vm_full=${SIXGUARD_VM_FULL:-0}
while [ $# -gt 0 ]; do
  case "$1" in
    --vm) vm=${2:?--vm needs a kernel: 5.10, 6.1, 6.12, all or none}; shift 2 ;;
    --vm-full) vm_full=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
# The guests' short list (a ctest -R regex; see the header).
vm_short='^integration_(connectivity|connectivity_tc_egress|upgrade)$'

sg_install_packages
sg_mount_bpffs
SG_CONFIGURE_ARGS="-DSIXGUARD_WERROR=ON" sg_build build

passed=0 failed=0 skipped=0 status=0

# run_ctest NAME CTEST-ARGS...: one ctest pass, its log in build/ctest-NAME.log, its counts
# added to the totals.
run_ctest() {
  local name=$1 log=build/ctest-$1.log summary total failures skips start=$SECONDS
  shift
  sg_log "ctest ($name): $*"
  ctest --test-dir build --output-on-failure --timeout 600 "$@" 2>&1 | tee "$log" || status=1
  summary=$(grep -E "tests passed, [0-9]+ tests? failed out of" "$log" | tail -1 || true)
  total=$(sed -nE 's/.*out of ([0-9]+).*/\1/p' <<<"$summary")
  failures=$(sed -nE 's/.* ([0-9]+) tests? failed.*/\1/p' <<<"$summary")
  skips=$(grep -cE "\(Skipped\)|\*\*\*Skipped" "$log" || true)
  if [ -z "$total" ]; then
    echo "test.sh: ctest ($name) produced no summary" >&2
    total=0 failures=1 status=1
  fi
  passed=$((passed + total - failures - skips))
  failed=$((failed + failures))
  skipped=$((skipped + skips))
  sg_log "ctest ($name): $((SECONDS - start)) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# run_step NAME LOG COMMAND...: a step outside ctest that counts as one test (the fuzz test,
# the VM suite; more steps go the same way). Its output goes to LOG (and to the terminal as well
# with SG_STEP_STREAM=1); the tail is shown when it fails.
run_step() {
  local name=$1 log=$2 start=$SECONDS rc=0
  shift 2
  sg_log "$name"
  if [ "${SG_STEP_STREAM:-0}" = 1 ]; then
    "$@" 2>&1 | tee "$log" || rc=$?
  else
    "$@" >"$log" 2>&1 || rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    echo "test.sh: $name failed ($log):" >&2
    tail -n 40 "$log" >&2 || true
    failed=$((failed + 1))
    status=1
  fi
  sg_log "$name: $((SECONDS - start)) s"
}

run_ctest parallel -LE integration -j2
run_ctest integration -L integration

# The API fuzz test (tests/fuzz, issue 11) under libFuzzer with ASan and UBSan: its own build
# directory (build-asan, clang, only the fuzz_api target), 100,000 inputs from the checked-in
# seeds. What it adds on a 2-core machine: the instrumented build, about 10 minutes cold
# (measured under load; ccache makes later runs a few minutes), and 100,000 inputs at
# 180-300/s, 6-9 minutes. `scripts/bench.sh fuzz-api --inputs N` runs it longer.
fuzz_api_step() {
  source scripts/lib/fuzz_api.sh
  sg_fuzz_api_build build-asan >build/fuzz-api-build.log 2>&1 || {
    tail -n 40 build/fuzz-api-build.log
    return 1
  }
  sg_fuzz_api_run build-asan 100000
}
run_step "API fuzz test: libFuzzer + ASan + UBSan (build-asan), 100000 inputs" build/fuzz-api.log \
  fuzz_api_step
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' build/fuzz-api.log || true

# The One Definition Rule check (issue 15, scripts/odr-check.sh): the product and the test
# binaries that link the most agent TUs, built with LTO and -Wodr -Werror=odr in build-odr, so
# a type defined twice with different bodies fails CI.
run_step "ODR check: LTO build with -Wodr -Werror=odr (build-odr)" build/odr-check.log \
  scripts/odr-check.sh build-odr

# The VM suite (tests/vm/guest-suite.sh) inside Debian's kernel under qemu (TCG here): the
# gtest suites and the integration short list (header), or every `vm` test with --vm-full.
# `--vm all` runs 5.10, 6.1 and 6.12 in turn. No wall-clock total: under stress-ng the guest
# takes 2-3 times its unloaded ~15 min, so the limit is progress: a guest silent for 15 min is
# stopped (and inside it, a binary or script silent for 10 min, tests/vm/guest-suite.sh).
if [ "$vm" != none ]; then
  vm_tests=$vm_short
  [ "$vm_full" = 1 ] && vm_tests=""
  SG_STEP_STREAM=1 run_step "VM suite ($vm, integration: ${vm_tests:-every test labelled vm})" build/vmtest.log \
    env SIXGUARD_VM_SUITES="gtest integration" SIXGUARD_VM_GTEST_DIRS="kernel bpf model" \
    SIXGUARD_VM_TESTS="$vm_tests" SIXGUARD_VM_LOG_DIR=build/vm-logs \
    scripts/vmtest.sh "$vm" --build-dir build --timeout 0 --idle-timeout 900
fi

echo "sixguard: $passed passed, $failed failed, $skipped skipped"
exit $status
