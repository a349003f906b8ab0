#!/usr/bin/env bash
# Attach cost (issue 14, group `attach`): with 1,000 machines attached on a host, the time from
# one machine.started request to its sg_machines entry written and a program attached to its
# interface (p50/p99/max over the samples; target p99 < 50 ms). The agent runs in a namespace
# of its own with a private bpffs; the machines' interfaces (veth pairs h7x<j>/h7y<j>) exist
# before their events. Never fails on timing.
#
#   scripts/bench/attach.sh [--machines N (1000)] [--samples S (100)]
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/attach.json.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
machines=1000
samples=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --machines) machines=${2:?--machines needs a number}; shift 2 ;;
    --samples) samples=${2:?--samples needs a number}; shift 2 ;;
    *) echo "usage: $0 [--machines N] [--samples S]" >&2; exit 2 ;;
  esac
done
sgb_init attach
sgb_build sixguard control_bench
sg_log "attach: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
sgb_agent_env
# The interfaces first, in one batch (removed with the namespace).
batch="$SGB_WORK/links.batch"
for ((j = 0; j < machines + samples; j++)); do
  echo "link add h7x$j type veth peer name h7y$j"
  echo "link set h7x$j up"
done >"$batch"
ip -n "$SGB_HOST_NS" -batch "$batch"
sgb_agent_config 65536 $(((machines + samples) * 2))
sgb_agent_start
sgb_agent_wait_ready "" >/dev/null
sgb_run ip netns exec "$SGB_HOST_NS" "$BUILD_DIR/tests/bench/control_bench" attach \
  --socket "$SGB_WORK/api.sock" --pin-dir "$SGB_BPFFS_MOUNT/sixguard" --machines "$machines" \
  --samples "$samples" --json "$SGB_JSON"
echo "JSON: $SGB_JSON"
