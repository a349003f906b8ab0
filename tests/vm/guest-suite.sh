#!/bin/bash
# guest-suite.sh [BUILD_DIR]
#
# The default command of scripts/vmtest.sh: sixguard's kernel-facing tests on the guest
# kernel, run from the host's build tree (read-only in the guest, so no ctest: it writes
# into the build tree). Runs from the repository root:
#   1. every GoogleTest binary under BUILD_DIR/tests (not tests/bench: benchmarks mean
#      nothing under emulation), with SIXGUARD_REQUIRE_KERNEL_TESTS=1 so a test that cannot
#      reach the kernel fails instead of skipping, XML reports in /tmp/sixguard-vm-gtest;
#   2. every tests/integration/*.sh but lib.sh, as `bash SCRIPT BUILD_DIR/sixguard` (what
#      tests/integration/CMakeLists.txt registers; exit 0 pass, 77 skip, else fail), with
#      SIXGUARD_BUILD_DIR and SIXGUARD_BIN in the environment too.
# Prints one summary line per suite and last "N passed, N failed" (tests for gtest, scripts
# for integration). The reports and logs are copied to $SIXGUARD_VM_OUT when it is set. Exit 0 only when nothing failed and something ran.
#
# Environment: SIXGUARD_VM_SUITES (default "gtest integration"), SIXGUARD_VM_GTEST_DIRS
# (directories under BUILD_DIR/tests to search, e.g. "kernel bpf"; default all but bench),
# SIXGUARD_VM_GTEST_FILTER (--gtest_filter for every binary), SIXGUARD_VM_SUITE_TIMEOUT
# (seconds per binary or script, default 600), SIXGUARD_VM_SCRIPTS (only these integration
# scripts, by file name, e.g. "upgrade.sh takeover.sh"; default all).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd) || {
    echo "guest-suite: no build directory ${1:-$repo/build}"
    echo "0 passed, 1 failed"
    exit 1
}
suites=${SIXGUARD_VM_SUITES:-gtest integration}
per_suite_timeout=${SIXGUARD_VM_SUITE_TIMEOUT:-600}
export SIXGUARD_REQUIRE_KERNEL_TESTS=1
# The differential fuzzer (tests/model) runs 220k frames per hook on the host; under TCG a
# smaller sample still proves every program and verifier path on the guest kernel.
export SIXGUARD_FUZZ_FRAMES=${SIXGUARD_FUZZ_FRAMES:-5000}
# hostile.sh holds the agent to answering within 1 s under attack and to RSS bounds: figures
# for real CPUs, not for TCG emulation, and what it attacks is the agent's user-space code,
# which the host's ctest run covers. Its pin and lock cases are also in state_guard.sh, which
# does run here; refusing `lo` is validation, before anything reaches the kernel.
host_only_scripts=${SIXGUARD_VM_HOST_ONLY_SCRIPTS:-hostile.sh}
export SIXGUARD_BUILD_DIR=$build SIXGUARD_BIN=$build/sixguard
reports=/tmp/sixguard-vm-gtest
mkdir -p "$reports"
cd "$repo" || exit 1

total_passed=0
total_failed=0
summary=()
add_summary() { summary+=("$(printf '%-40s %s' "$1" "$2")"); }

elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

run_gtest_binary() {
    local bin=$1 name start out rc passed failed skipped
    name=${bin#"$build"/}
    start=$(date +%s.%N)
    echo "===== gtest $name"
    out=$reports/$(tr / _ <<<"$name").log
    timeout -k 10 "$per_suite_timeout" "$bin" --gtest_color=no \
        --gtest_output="xml:$reports/$(tr / _ <<<"$name").xml" \
        ${SIXGUARD_VM_GTEST_FILTER:+--gtest_filter="$SIXGUARD_VM_GTEST_FILTER"} 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$out" | tail -n 1)
    skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\{0,1\},.*/\1/p' "$out" | tail -n 1)
    failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\{0,1\},.*/\1/p' "$out" | tail -n 1)
    passed=${passed:-0} skipped=${skipped:-0} failed=${failed:-0}
    # A crash, a time-out or a failed environment set-up leaves no count: one failure.
    if ((rc != 0 && failed == 0)); then failed=1; fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    local state=PASS
    ((failed)) && state=FAIL
    ((rc == 124)) && state="FAIL (timed out after ${per_suite_timeout}s)"
    add_summary "gtest $name" "$state: $passed passed, $failed failed, $skipped skipped ($(elapsed_since "$start")s)"
}

run_integration_script() {
    local script=$1 start rc state
    start=$(date +%s.%N)
    echo "===== integration $script"
    timeout -k 10 "$per_suite_timeout" bash "$script" "$SIXGUARD_BIN" 2>&1
    rc=$?
    case $rc in
    0) state=PASS; total_passed=$((total_passed + 1)) ;;
    77) state=SKIP ;;
    124) state="FAIL (timed out after ${per_suite_timeout}s)"; total_failed=$((total_failed + 1)) ;;
    *) state="FAIL (exit $rc)"; total_failed=$((total_failed + 1)) ;;
    esac
    add_summary "integration $script" "$state ($(elapsed_since "$start")s)"
}

gtest_search_dirs() {
    local dir
    if [[ -z ${SIXGUARD_VM_GTEST_DIRS:-} ]]; then
        echo "$build/tests"
        return
    fi
    for dir in $SIXGUARD_VM_GTEST_DIRS; do
        [[ -d $build/tests/$dir ]] && echo "$build/tests/$dir"
    done
}

for suite in $suites; do
    case $suite in
    gtest)
        found=0
        while read -r bin; do
            # A GoogleTest binary carries its own flag names.
            grep -q -- 'gtest_output' "$bin" 2>/dev/null || continue
            found=1
            run_gtest_binary "$bin"
        done < <(gtest_search_dirs | xargs -r -I{} find {} -path "$build/tests/bench" -prune -o \
            -path '*/CMakeFiles' -prune -o -type f -executable -print 2>/dev/null | sort -u)
        ((found)) || add_summary "gtest" "none found under $build/tests"
        ;;
    integration)
        found=0
        for script in tests/integration/*.sh; do
            [[ -f $script && $(basename "$script") != lib.sh ]] || continue
            if [[ -n ${SIXGUARD_VM_SCRIPTS:-} && " $SIXGUARD_VM_SCRIPTS " != *" $(basename "$script") "* ]]; then
                continue
            fi
            if [[ " $host_only_scripts " == *" $(basename "$script") "* ]]; then
                add_summary "integration $script" "not run in the guest (host only, see host_only_scripts)"
                continue
            fi
            found=1
            run_integration_script "$script"
        done
        ((found)) || add_summary "integration" "no tests/integration/*.sh"
        ;;
    *)
        echo "guest-suite: unknown suite $suite"
        total_failed=$((total_failed + 1))
        ;;
    esac
done

# scripts/vmtest.sh with SIXGUARD_VM_LOG_DIR shares a writable directory for the reports.
if [[ -n ${SIXGUARD_VM_OUT:-} && -d $SIXGUARD_VM_OUT ]]; then
    cp "$reports"/* "$SIXGUARD_VM_OUT"/ 2>/dev/null
fi

echo
echo "===== summary (kernel $(uname -r))"
printf '%s\n' "${summary[@]}"
if ((total_passed + total_failed == 0)); then
    echo "guest-suite: nothing ran"
    total_failed=1
fi
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
