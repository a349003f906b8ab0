#!/usr/bin/env bash
# Benchmarks, by group. Each group builds what it needs (cmake into build/, or $BUILD_DIR) and
# runs; results are printed and written as JSON under $BENCH_OUT (default: the build dir).
# Benchmarks fail only on errors, never on timing.
#
#   scripts/bench.sh datapath [datapath_bench options]   # e.g. --repeat 1000000 --trials 7
#   scripts/bench.sh all                                  # every group below
#
#   scripts/bench.sh live|scale|attach|control|restart|drift|fleet # scripts/bench/<group>.sh
#   scripts/bench.sh fleet-ceiling                        # etcd alone with trivial clients:
#                                                         # the machine's ceiling for fleet (not in all)
#   scripts/bench.sh fuzz-api [--inputs N]                # the API fuzz test, long mode
#                                                         # (default 1000000 inputs; not in all)
#   scripts/bench.sh fuzz [--frames N] [--seed S]        # differential fuzzer vs the model
#
# Adding a group: a script scripts/bench/<group>.sh, a bench_<group> function below and its
# name in BENCH_GROUPS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BENCH_OUT=${BENCH_OUT:-$BUILD_DIR}
JOBS=${JOBS:-2}
BENCH_GROUPS=(datapath live scale attach control restart drift fleet fuzz)

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

# The differential fuzzer (tests/model): random and mutated frames through every program of the
# datapath and through the reference model; prints frames/s and the rules reached. Fails only on
# a disagreement (a correctness bug, replayable with the printed --seed/--first), never on timing.
bench_fuzz() {
  need_root fuzz
  build model_fuzz
  mkdir -p "$BENCH_OUT"
  "$BUILD_DIR/tests/model/model_fuzz" "$@" | tee "$BENCH_OUT/bench-fuzz.txt"
  return "${PIPESTATUS[0]}"
}

# The other groups are scripts of their own under scripts/bench/ (each builds what it needs,
# prints a table and writes <group>.json).
bench_script() {
  local name=$1
  shift
  SIXGUARD_BENCH_OUT=$BENCH_OUT BUILD_DIR=$BUILD_DIR "$ROOT/scripts/bench/$name.sh" "$@"
}
bench_live() { bench_script live "$@"; }       # live packet rate vs XDP_DROP, nftables, TC
bench_scale() { bench_script scale "$@"; }     # per-packet cost vs Flycast entries; memory
bench_attach() { bench_script attach "$@"; }   # machine.started -> entry + program, p99
bench_control() { bench_script control "$@"; } # events/s, apply latency, RSS
bench_restart() { bench_script restart "$@"; } # SIGKILL to /readyz; leaked and lost packets
bench_drift() { bench_script drift "$@"; }     # drift check time, lock hold, repair time
bench_fleet() { bench_script fleet "$@"; }     # >= 20 agents on etcd: sync, lag, RSS, resync

# The API fuzz test (tests/fuzz) for as long as asked: libFuzzer with ASan and UBSan in
# $BUILD_DIR-asan; other options go to libFuzzer (e.g. -jobs=2). Fails on any finding.
bench_fuzz_api() {
  local inputs=1000000
  while [[ $# -gt 0 ]]; do
    case $1 in
      --inputs) inputs=${2:?--inputs needs a number}; shift 2 ;;
      *) break ;;
    esac
  done
  cd "$ROOT"
  source scripts/lib/fuzz_api.sh
  sg_fuzz_api_build "$BUILD_DIR-asan"
  sg_fuzz_api_run "$BUILD_DIR-asan" "$inputs" "$@"
}

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
  fuzz-api) bench_fuzz_api "$@" ;;
  fleet-ceiling) bench_script fleet_ceiling "$@" ;;
  *)
    if [[ " ${BENCH_GROUPS[*]} " == *" $group "* ]]; then
      "bench_$group" "$@"
    else
      usage
      exit 2
    fi
    ;;
esac
