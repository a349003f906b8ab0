#!/usr/bin/env bash
# Live packet rate (issue 6, group `live`): 64-byte cross-network IPv6/UDP frames from a
# BPF_PROG_TEST_RUN live-frames generator into a veth whose peer runs, in turn, XDP_DROP (the
# ceiling), nftables at netdev ingress and at inet prerouting, sixguard's TC program, no
# filter, and sixguard's machine_egress XDP (native); plus the same-network pass path. Median
# of interleaved rounds; ratios against the baselines of the same run. Never fails on timing.
#
#   scripts/bench/live.sh [live_bench options]   # e.g. --seconds 3 --rounds 5
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/live.json.
# Uses both CPUs (generator and receiver, SCHED_FIFO while traffic runs; --rt-priority 0 to
# leave them SCHED_OTHER).
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sgb_init live
sgb_build live_bench
for tool in ethtool nft ip; do
  command -v "$tool" >/dev/null || { echo "live: needs $tool" >&2; exit 1; }
done
sgb_log_load
sgb_run "$BUILD_DIR/tests/bench/live_bench" --json "$SGB_JSON" --ns-prefix "$SGB_PREFIX" \
  --pin-prefix "${SGB_PREFIX%-}" "$@"
