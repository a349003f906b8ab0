#!/usr/bin/env bash
# scripts/dev/bench-report.sh on JSON the real datapath_bench just wrote (a few repeats: its
# schema, not its timing), so the fixtures of bench_report_test.sh cannot drift from the writer
# unnoticed. Needs root (BPF_PROG_TEST_RUN): skipped (77) without it, failed with
# SIXGUARD_REQUIRE_KERNEL_TESTS=1.
#   usage: bench_report_real_test.sh SOURCE_DIR DATAPATH_BENCH
set -uo pipefail
src=$(cd "$1" && pwd)
bench=$2
# shellcheck source=tests/integration/lib.sh
source "$src/tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || sg_skip "needs root"
command -v jq >/dev/null || sg_skip "needs jq"
work=$(mktemp -d /tmp/sixguard-bench-report-real-XXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run"
"$bench" --repeat 1000 --trials 1 --only same_net --json "$work/run/bench-datapath.json" \
  >"$work/bench.out" 2>&1
sg_check "datapath_bench wrote its JSON" test -s "$work/run/bench-datapath.json"
"$src/scripts/dev/bench-report.sh" --after "$work/run" >"$work/report.md" 2>"$work/report.err"
sg_check "the report exits 0 on it" test $? -eq 0
# A row of the table: hook, path, "-" before, an after cell "N.N (N.NN)".
row() { grep -qE "^\| $1 \| $2 \| - \| [0-9]+\.[0-9] \([0-9]+\.[0-9]+\) \| - \|" "$work/report.md"; }
sg_check "the datapath table has the egress same_net_no_flycast row" row machine_egress same_net_no_flycast
sg_check "... and the ingress one" row machine_ingress same_net_no_flycast
sg_check "the references table has same_network_least" row machine_ingress same_network_least
sg_check "the groups not run are listed" grep -q "^Not run .*live" "$work/report.md"
[ "$SG_FAILURES" -eq 0 ] || { cat "$work/bench.out" "$work/report.err"; echo "FAILED: $SG_FAILURES check(s)"; exit 1; }
echo PASSED
