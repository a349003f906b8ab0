#!/usr/bin/env bash
# scripts/dev/bench-report.sh on the fixture runs of tests/scripts/fixtures/bench-report (a
# 6e986a1 "before" and a main "after"; the README there says which writer each file follows):
# specific cells of the joined tables (the after/before ratio of a known row, "-" for a row or
# a group the before run lacks, targets), the groups not run, tables whose rows all have
# their header's columns, and a non-zero exit naming the file, with nothing on stdout, for
# malformed input. No root; needs jq (skips without it).
#   usage: bench_report_test.sh [SOURCE_DIR]
set -uo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
report="$src/scripts/dev/bench-report.sh"
fixtures="$src/tests/scripts/fixtures/bench-report"
# sg_check, sg_not and SG_FAILURES (sourcing it defines functions and sets variables, nothing more).
# shellcheck source=tests/integration/lib.sh
source "$src/tests/integration/lib.sh"
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }
work=$(mktemp -d /tmp/sixguard-bench-report-test-XXXX)
trap 'rm -rf "$work"' EXIT
# has_line FILE LINE: FILE holds exactly this line.
has_line() { grep -qxF -- "$2" "$1"; }
# run NAME ARGS...: the report's stdout, stderr and status in $work/NAME.{out,err,status}.
run() {
  local name=$1
  shift
  "$report" "$@" >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.status"
}
status_of() { cat "$work/$1.status"; }
# tables_square FILE: every row of every table has as many cells as its header.
tables_square() {
  awk '/^\|/ { gsub(/\\\|/, ""); n = gsub(/\|/, "|"); if (!inside) want = n; inside = 1
               if (n != want) { print "ragged: " $0; bad = 1 }; next }
       { inside = 0 } END { exit bad }' "$1"
}
# copy_run NAME FROM: a scratch copy of a fixture run, to break.
copy_run() {
  mkdir -p "$work/$1"
  cp "$fixtures/$2"/* "$work/$1/"
}

# ---- The full report: after = main, before = 6e986a1, labels defaulted. ----
run full --after "$fixtures/after-main" --before "$fixtures/before-6e986a1"
out="$work/full.out"
sg_check "exits 0" test "$(status_of full)" = 0
sg_check "nothing on stderr" test ! -s "$work/full.err"
sg_check "labels default to the directories' names" \
  has_line "$out" "| hook | path | before-6e986a1 ns (×floor) | after-main ns (×floor) | after/before | target |"
sg_check "a heading per group of the after run, in scripts/bench.sh's order" \
  test "$(grep '^### ' "$out" | tr '\n' ' ')" = \
  "### datapath ### live ### scale ### scale-64k-machines ### attach ### control ### restart ### drift ### fleet ### fuzz "
sg_check "every table row has its header's columns" tables_square "$out"
sg_check "no group listed as not run" sg_not grep -q '^Not run' "$out"
sg_check "the runs' dates and 1-minute loads, before and after" \
  has_line "$out" "| live | 2026-12-03T16:40:11Z | 1.31 → 1.95 | 2026-12-04T09:26:03Z | 1.12 → 1.83 |"
sg_check "attach's utc and single load_average" \
  has_line "$out" "| attach | - | - | 2026-12-04T06:41:52Z | 9.52 |"
sg_check "datapath: a row joined by hook+path, after/before 56.6 / 77.5 = 0.73" \
  has_line "$out" "| machine_egress | same_network | 77.5 (3.10) | 56.6 (2.56) | 0.73 | ≤ 1.15×: missed |"
sg_check "datapath: the uplink audit row, 101.0 / 96.8 = 1.04" \
  has_line "$out" "| uplink | audit | 96.8 (3.56) | 101.0 (3.71) | 1.04 | ≤ 2×: missed |"
sg_check "datapath: a path 6e986a1 did not have: '-' before, no ratio" \
  has_line "$out" "| machine_ingress | same_net_no_flycast | - | 41.4 (1.49) | - | ≤ 1.15×: missed |"
sg_check "datapath: the target is the after run's (tunnel: 3 on main, 2 at 6e986a1)" \
  has_line "$out" "| machine_egress | tunnel_no_flycast | - | 42.9 (1.89) | - | ≤ 3×: met |"
sg_check "datapath: worst, absent at 6e986a1" \
  has_line "$out" "Worst ratio to the floor: before-6e986a1: -; after-main: 3.71× (uplink/audit)."
sg_check "datapath: the h-perf14 references, '-' before" \
  has_line "$out" "| machine_ingress | same_network_least | - | 33.0 (1.22) | - |"
sg_check "live: a configuration, Mpps ratio 4.38 / 3.50 = 1.25" \
  has_line "$out" "| sixguard_xdp | cross_network | 3.50 (226.0) | 4.38 (182.4) | 1.25 |"
sg_check "live: a comparison with its target" \
  has_line "$out" "| sixguard_xdp / nft_netdev | 2.26× (2.35×) | 2.77× (2.87×) | rate ≥ 5×: missed |"
sg_check "live: the same-network pass path" \
  has_line "$out" "| same-network pass: added by sixguard, ns/pkt | 88.6 | 76.0 | 0.86 |"
sg_check "live: the program's own cost, a table only the after run has" \
  has_line "$out" "| sixguard_xdp | - | 45.6 | - |"
sg_check "scale: a level, 18.9 / 28.9 = 0.65" \
  has_line "$out" "| machine_egress | flycast | 1000000 | 28.9 (2.86) | 18.9 (1.91) | 0.65 |"
sg_check "scale: the largest/smallest row" \
  has_line "$out" "| uplink | cross_network | largest / smallest | 1.02 (rel. floor 1.00) | 1.01 (rel. floor 0.99) | - |"
sg_check "scale: map memory, per entry (memlock)" \
  has_line "$out" "| sg_flycast | 1000 | 80.1 (8509568) | 80.1 (8509568) | 1.00 |"
sg_check "scale-64k-machines: not run at 6e986a1, '-' before" \
  has_line "$out" "| sg_machines | 65536 | - | 122.0 (7995392) | - |"
sg_check "attach: a group the before run lacks, '-' before, its target" \
  has_line "$out" "| request → entry + program attached, p99 ms | - | 6.10 | - | < 50 ms: met |"
sg_check "control: events/s ratio 97265 / 9652 = 10.08" \
  has_line "$out" "| machine.started x1000 | 9652 (101.20 / 140.30) | 97265 (10.00 / 16.70) | 10.08 | ≥ 50000 events/s: met |"
sg_check "control: RSS per entry" has_line "$out" "| bytes per entry | 612 | 403 | 0.66 |"
sg_check "restart: SIGKILL to ready, 870.4 / 2140.0 = 0.41" \
  has_line "$out" "| SIGKILL → /readyz 200, ms | 2140 | 870 | 0.41 | - |"
sg_check "restart: the leak and its target" \
  has_line "$out" "| cross-network packets delivered (leaked) | 0 | 0 | - | 0: met |"
sg_check "drift: the median check" has_line "$out" "| check, no drift (median), s | - | 2.410 | - |"
sg_check "fleet: the median initial sync" has_line "$out" "| initial sync, median s | - | 8.30 | - |"
sg_check "fuzz: frames/s from bench-fuzz.txt" \
  has_line "$out" "| frames/s | - | 4792 | - | - |"

# ---- The 6e986a1 run alone, relabelled: older schema, missing groups. ----
run old --after "$fixtures/before-6e986a1" --after-label 6e986a1
out="$work/old.out"
sg_check "an older run alone: exits 0" test "$(status_of old)" = 0
sg_check "the groups it lacks are listed as not run" \
  has_line "$out" "Not run (no results in the 6e986a1 run): scale-64k-machines, attach, drift, fleet, fuzz."
sg_check "no references table without references" sg_not grep -q '^References' "$out"
sg_check "without --before, the before column is '-'" \
  has_line "$out" "| uplink | audit | - | 96.8 (3.56) | - | ≤ 2×: missed |"
sg_check "an older run: every table row has its header's columns" tables_square "$out"

# ---- main's datapath schema (worst, no references) and a path the after run dropped. ----
copy_run dropped after-main
jq 'del(.references) | .results |= map(select(.path != "malformed" or .hook != "uplink"))' \
  "$fixtures/after-main/bench-datapath.json" >"$work/dropped/bench-datapath.json"
run dropped --after "$work/dropped" --before "$fixtures/before-6e986a1" --before-label B --after-label A
out="$work/dropped.out"
sg_check "main's datapath schema: exits 0" test "$(status_of dropped)" = 0
sg_check "main's datapath schema: no references table" sg_not grep -q '^References' "$out"
sg_check "a row only the before run has: after '-', its target" \
  has_line "$out" "| uplink | malformed | 56.1 (2.06) | - | - | ≤ 2×: missed |"
sg_check "the labels given" has_line "$out" "| hook | path | B ns (×floor) | A ns (×floor) | after/before | target |"

# ---- Malformed input: exit 1, the file named, nothing printed on stdout. ----
# fails NAME FILE ARGS...: the report exits 1, names FILE on stderr and prints nothing.
fails() {
  local name=$1 file=$2
  shift 2
  run "$name" "$@"
  [ "$(status_of "$name")" = 1 ] && grep -qF -- "$file" "$work/$name.err" && [ ! -s "$work/$name.out" ]
}
copy_run truncated after-main
head -c 200 "$fixtures/after-main/live.json" >"$work/truncated/live.json"
sg_check "a truncated JSON file: exit 1, named" fails truncated "$work/truncated/live.json" --after "$work/truncated"
copy_run empty after-main
: >"$work/empty/control.json"
sg_check "an empty JSON file: exit 1, named" fails empty "$work/empty/control.json" --after "$work/empty"
copy_run shape after-main
echo '{"benchmark": "datapath", "results": {"hook": "uplink"}}' >"$work/shape/bench-datapath.json"
sg_check "results not an array: exit 1, named" fails shape "$work/shape/bench-datapath.json" --after "$work/shape"
copy_run fuzz after-main
echo "model_fuzz: cannot run: needs root" >"$work/fuzz/bench-fuzz.txt"
sg_check "bench-fuzz.txt without its summary: exit 1, named" fails fuzz "$work/fuzz/bench-fuzz.txt" --after "$work/fuzz"
copy_run before after-main
echo '{"benchmark": "restart", "sigkill_to_ready_ms": ,}' >"$work/before/restart.json"
sg_check "a malformed file in the before run: exit 1, named" \
  fails before "$work/before/restart.json" --after "$fixtures/after-main" --before "$work/before"
sg_check "a missing after directory: exit 1, named" fails missing "$work/nowhere" --after "$work/nowhere"
mkdir -p "$work/nothing"
sg_check "an after directory without results: exit 1, named" fails nothing "$work/nothing" --after "$work/nothing"
run usage --before "$fixtures/before-6e986a1"
sg_check "no --after: usage, exit 2" test "$(status_of usage)" = 2

[ "$SG_FAILURES" -eq 0 ] || { echo "FAILED: $SG_FAILURES check(s)"; exit 1; }
echo PASSED
