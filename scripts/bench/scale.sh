#!/usr/bin/env bash
# Scale (issue 6, group `scale`): ns/packet of the flycast and cross-network paths (machine
# egress XDP and uplink TC) with 1, 1k, 100k and 1M Flycast entries, 10k networks and 1k
# machines in the maps, then the same with 64k machines (scale-64k-machines.json), measured with BPF_PROG_TEST_RUN beside a do-nothing floor at each
# level; and each map's memory per entry (the kernel's memlock accounting). Never fails on
# timing.
#
#   scripts/bench/scale.sh [scale_bench options]   # e.g. --repeat 5000000 --trials 7
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/scale.json.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sgb_start scale scale_bench
sgb_run "$BUILD_DIR/tests/bench/scale_bench" --json "$SGB_JSON" --ns-prefix "$SGB_PREFIX" "$@"
# Issue 14: flat from 1 to 64k machines on a host (one round: the Flycast levels are above).
sgb_run "$BUILD_DIR/tests/bench/scale_bench" --json "${SGB_JSON%.json}-64k-machines.json" \
  --ns-prefix "$SGB_PREFIX" --machines 65536 --rounds 1 "$@"
