#!/bin/bash
# guest-suite.sh [BUILD_DIR]
#
# The default command of scripts/vmtest.sh: sixguard's kernel-facing tests on the guest
# kernel, run from the host's build tree (read-only in the guest, so no ctest: it writes
# into the build tree). Runs from the repository root:
#   1. every GoogleTest binary under BUILD_DIR/tests (not tests/bench: benchmarks mean
#      nothing under emulation), with SIXGUARD_REQUIRE_KERNEL_TESTS=1 so a test that cannot
#      reach the kernel fails instead of skipping, XML reports in /tmp/sixguard-vm-gtest;
#   2. every ctest test labelled both `integration` and `vm` (tests/integration/CMakeLists.txt),
#      with the command and environment ctest would give it, read from `ctest -N
#      --show-only=json-v1` (which writes nothing into the build tree); exit 0 pass, the test's
#      SKIP_RETURN_CODE skip, else fail. SIXGUARD_BUILD_DIR and SIXGUARD_BIN are set too. A
#      test's label, not a glob, decides: the same script twice (the TC egress fallback) runs
#      twice, and host-only tests (figures for real CPUs) are simply not labelled `vm`.
# Prints one summary line per suite and last "N passed, N failed" (tests for gtest, scripts
# for integration). The reports and logs are copied to $SIXGUARD_VM_OUT when it is set. Exit 0 only when nothing failed and something ran.
#
# Environment: SIXGUARD_VM_SUITES (default "gtest integration"), SIXGUARD_VM_GTEST_DIRS
# (directories under BUILD_DIR/tests to search, e.g. "kernel bpf"; default all but bench),
# SIXGUARD_VM_GTEST_FILTER (--gtest_filter for every binary), SIXGUARD_VM_SUITE_TIMEOUT
# (seconds a binary or script may go without printing a line before it is stopped as hung,
# default 600: a watchdog on progress, not a total, since under load and TCG a suite that
# keeps printing may take three times its unloaded time), SIXGUARD_VM_TESTS (a ctest -R
# regex: only those integration tests, e.g. "integration_upgrade"; default every one labelled
# vm).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
source "$repo/tests/vm/lib.sh"
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
# The takeover and upgrade streams (tests/integration/tools/takeover_lib.sh): at the host's 300
# datagrams/s per stream the emulated guest's sockets overflowed before the datapath saw them,
# which a "0 same-network lost" check cannot tell from a drop; 100/s still spans the restart.
export SIXGUARD_TAKEOVER_RATE=${SIXGUARD_TAKEOVER_RATE:-100}
export SIXGUARD_BUILD_DIR=$build SIXGUARD_BIN=$build/sixguard
reports=/tmp/sixguard-vm-gtest
mkdir -p "$reports"
cd "$repo" || exit 1

total_passed=0
total_failed=0
summary=()
add_summary() { summary+=("$(printf '%-40s %s' "$1" "$2")"); }

# run_watched OUT CMD...: runs CMD in its own session, its output into OUT and onto the
# console as it comes; stopped when it prints nothing for $per_suite_timeout seconds. Sets
# watched_rc (CMD's exit code, 124 when stopped as hung).
run_watched() {
    local out=$1 pid tail_pid
    shift
    : >"$out"
    setsid "$@" >"$out" 2>&1 </dev/null &
    pid=$!
    tail -n +1 -F -s 1 --pid="$pid" "$out" 2>/dev/null &
    tail_pid=$!
    watched_rc=0
    vm_watch_progress "$pid" "$out" "$per_suite_timeout" || watched_rc=124
    wait "$pid"
    local rc=$?
    ((watched_rc == 124)) || watched_rc=$rc
    wait "$tail_pid" 2>/dev/null
    return 0
}

elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

run_gtest_binary() {
    local bin=$1 name start out rc passed failed skipped
    name=${bin#"$build"/}
    start=$(date +%s.%N)
    echo "===== gtest $name"
    out=$reports/$(tr / _ <<<"$name").log
    run_watched "$out" "$bin" --gtest_color=no \
        --gtest_output="xml:$reports/$(tr / _ <<<"$name").xml" \
        ${SIXGUARD_VM_GTEST_FILTER:+--gtest_filter="$SIXGUARD_VM_GTEST_FILTER"}
    rc=$watched_rc
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
    ((rc == 124)) && state="FAIL (stopped: no output for ${per_suite_timeout}s)"
    add_summary "gtest $name" "$state: $passed passed, $failed failed, $skipped skipped ($(elapsed_since "$start")s)"
}

# run_integration_test NAME SKIP_CODE ENV_JSON CMD_JSON: one ctest test, as ctest would run it.
run_integration_test() {
    local name=$1 skip_code=$2 env_json=$3 cmd_json=$4 start rc state env=() cmd=()
    mapfile -t env < <(jq -r '.[]' <<<"$env_json")
    mapfile -t cmd < <(jq -r '.[]' <<<"$cmd_json")
    start=$(date +%s.%N)
    echo "===== integration $name"
    run_watched "$reports/integration_$name.log" env "${env[@]}" "${cmd[@]}"
    rc=$watched_rc
    case $rc in
    0) state=PASS; total_passed=$((total_passed + 1)) ;;
    "$skip_code") state=SKIP ;;
    124) state="FAIL (stopped: no output for ${per_suite_timeout}s)"; total_failed=$((total_failed + 1)) ;;
    *) state="FAIL (exit $rc)"; total_failed=$((total_failed + 1)) ;;
    esac
    add_summary "integration $name" "$state ($(elapsed_since "$start")s)"
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
        while IFS=$'\t' read -r name skip_code env_json cmd_json; do
            found=1
            run_integration_test "$name" "$skip_code" "$env_json" "$cmd_json"
        done < <(ctest --test-dir "$build" -N -L integration ${SIXGUARD_VM_TESTS:+-R "$SIXGUARD_VM_TESTS"} \
            --show-only=json-v1 2>/dev/null |
            jq -r '.tests[]
                | select(any(.properties[]?; .name == "LABELS" and (.value | index("vm"))))
                | (reduce (.properties[]? | {(.name): .value}) as $p ({}; . + $p)) as $props
                | [.name, ($props.SKIP_RETURN_CODE // 77 | tostring),
                   ($props.ENVIRONMENT // [] | tojson), (.command | tojson)] | @tsv')
        ((found)) || { add_summary "integration" "no ctest test labelled integration and vm"; total_failed=$((total_failed + 1)); }
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
