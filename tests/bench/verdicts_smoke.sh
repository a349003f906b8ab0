#!/usr/bin/env bash
# Runs a benchmark binary for a few repeats, for its verdict checks, not its timing: every
# measured case asserts the action its program returned, so a policy the benchmark writes that
# no longer gives the case's verdict (a flag the agent now sets, a map it now fills) fails here
# instead of at the next `scripts/bench.sh`. Needs root (BPF_PROG_TEST_RUN, namespaces):
# skipped (77) without it, failed with SIXGUARD_REQUIRE_KERNEL_TESTS=1.
#   usage: verdicts_smoke.sh BINARY [ARGS...]
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
[ "$(id -u)" -eq 0 ] || sg_skip "needs root"
exec "$@"
