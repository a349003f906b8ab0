#!/usr/bin/env bash
# Benchmarks, by group. Each group builds what it needs (cmake into build/, or $BUILD_DIR) and
# runs; results are printed and written as JSON under $BENCH_OUT (default: the build dir).
# Benchmarks fail only on errors, never on timing.
#
#   scripts/bench.sh datapath [datapath_bench options]   # e.g. --repeat 1000000 --trials 7
#   scripts/bench.sh all                                  # every group below
#
# Adding a group: put scripts/bench/<group>.sh next to this script; it is sourced here and
# must define bench_<group>() and append <group> to BENCH_GROUPS (it may use build, need_root,
# ROOT, BUILD_DIR, BENCH_OUT).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BENCH_OUT=${BENCH_OUT:-$BUILD_DIR}
JOBS=${JOBS:-2}
BENCH_GROUPS=(datapath)

usage() {
  echo "usage: $0 {all|$(IFS='|'; echo "${BENCH_GROUPS[*]}")} [options for the group's binary]" >&2
}

build() {
  cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j"$JOBS" --target "$@"
}

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "$0 $1: needs root (BPF_PROG_TEST_RUN, network namespaces)" >&2
    exit 1
  fi
}

# The datapath: ns/packet of each verdict path of each hook beside the XDP_PASS / TC_ACT_OK
# floor, with BPF_PROG_TEST_RUN (tests/bench/datapath_bench.cpp).
bench_datapath() {
  need_root datapath
  build datapath_bench
  mkdir -p "$BENCH_OUT"
  "$BUILD_DIR/tests/bench/datapath_bench" --json "$BENCH_OUT/bench-datapath.json" "$@"
}

# Groups contributed as files (see the header).
for group_file in "$ROOT"/scripts/bench/*.sh; do
  [[ -e $group_file ]] || continue
  # shellcheck source=/dev/null
  source "$group_file"
done

group=${1:-}
[[ -n $group ]] || { usage; exit 2; }
shift
case $group in
  all)
    for g in "${BENCH_GROUPS[@]}"; do
      echo "== $g"
      "bench_$g" "$@"
    done
    ;;
  -h | --help) usage ;;
  *)
    if [[ " ${BENCH_GROUPS[*]} " == *" $group "* ]]; then
      "bench_$group" "$@"
    else
      usage
      exit 2
    fi
    ;;
esac
