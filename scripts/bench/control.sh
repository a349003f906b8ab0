#!/usr/bin/env bash
# Control plane (issue 6, group `control`): events/s applied through the agent's API with
# persistence (batches of 1000 and of 1), p50/p99 latency of single-event requests, and the
# agent's RSS with 100k machines + 100k Flycast addresses in its state. The agent runs in a
# namespace of its own with a private bpffs; machines name interfaces that do not exist.
# Never fails on timing.
#
#   scripts/bench/control.sh [--machines N] [--flycast N] [--singles N]
#
# Output: a table on stdout, JSON in ${SIXGUARD_BENCH_OUT:-build/bench}/control.json.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sgb_start control sixguard control_bench
sgb_agent_env
sgb_agent_config 262144 262144
sgb_agent_start
sgb_agent_wait_ready "" >/dev/null
sgb_run "$BUILD_DIR/tests/bench/control_bench" run --socket "$SGB_WORK/api.sock" \
  --agent-pid "$SGB_AGENT_PID" --json "$SGB_JSON" "$@"
echo "JSON: $SGB_JSON"
