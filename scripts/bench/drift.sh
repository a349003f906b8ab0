#!/usr/bin/env bash
# Drift checks at scale (issue 12, group `drift`): the drift checker of DESIGN §5 over the real
# pinned maps of a loaded datapath and the real control plane, with 256k machines and 1M
# Flycast addresses (map_sizes raised to fit): the time of a check, the longest time it holds
# the control-plane lock (and the slowest batch applied meanwhile), and the time to detect and
# repair one changed entry. Never fails on timing.
#
#   scripts/bench/drift.sh [drift_bench options]   # e.g. --machines 16384 --flycast 65536
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/drift.json.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sgb_start drift drift_bench
# Pins under /sys/fs/bpf/<prefix>pins: sgb_cleanup removes them on every exit path.
sgb_run "$BUILD_DIR/tests/bench/drift_bench" --json "$SGB_JSON" --pin-subdir "${SGB_PREFIX}pins" "$@"
