#!/bin/bash
# A real Prometheus scrapes a real agent: a ping between two machines on different networks is
# dropped by machine_egress, and PromQL through Prometheus's HTTP API sees
# sixguard_packets_total{hook="machine_egress",verdict="drop",reason="cross_network"} rise.
# The live scrape also goes through `promtool check metrics`.
#
#   prometheus_live_test.sh SIXGUARD_BINARY
#
# Everything runs inside network namespaces this test creates (the "host" namespace holds the
# agent, Prometheus and the machines' host-side veths), with its own bpffs mount; all of it is
# removed on every exit path (tests/integration/lib.sh sg_cleanup, run by the EXIT trap).
# Needs root; skips (exit 77) without it or without the agent binary, fails instead when
# SIXGUARD_REQUIRE_KERNEL_TESTS=1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SIXGUARD=${1:-}
SG_PREFIX=sg-h5-$$
SG_IFP=h5$$
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
source "$here/../integration/lib.sh"
SG_METRICS_PORT=$(sg_random_port 20000)
PROM_PORT=$(sg_random_port 40000)

sg_begin prometheus promtool jq
sg_agent_up
sg_say "agent ready, metrics on 127.0.0.1:$SG_METRICS_PORT in $SG_HOST"

sg_write_events "$SG_WORK/events.ndjson"
reply=$(sg_api POST /v1/events "$SG_WORK/events.ndjson")
[ "$(sg_status_of "$reply")" = 200 ] || { echo "FAIL: POST /v1/events: $reply"; exit 1; }
sg_say "events applied: $(sg_body_of "$reply")"
sg_wait_attached "$(sg_if m1)" || { echo "FAIL: m1's interface not attached"; exit 1; }

# ---- promtool check metrics on the live scrape ----
scrape=$(sg_metrics /metrics)
if ! problems=$(promtool check metrics <<<"$scrape" 2>&1) || [ -n "$problems" ]; then
  sg_fail "promtool check metrics on the live scrape: $problems"
else
  sg_pass "promtool check metrics on the live scrape ($(grep -c '^sixguard_' <<<"$scrape") series)"
fi

# ---- Prometheus, scraping every second ----
sg_prometheus_start "$PROM_PORT"

DROP_SERIES='sixguard_packets_total{hook="machine_egress",verdict="drop",reason="cross_network"}'
promql() { # promql QUERY: the first result's value, or nothing
  ip netns exec "$SG_HOST" curl -s --max-time 2 -G \
    "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r 'select(.status=="success") | .data.result[0].value[1] // empty' 2>/dev/null
}
promql_raw() {
  ip netns exec "$SG_HOST" curl -s --max-time 2 -G \
    "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"
}

before=""
for _ in $(seq 1 60); do
  before=$(promql "$DROP_SERIES")
  [ -n "$before" ] && break
  sleep 0.5
done
if [ -z "$before" ]; then
  echo "FAIL: Prometheus never had $DROP_SERIES; its log:"
  tail -n 20 "$SG_WORK/prometheus.log"
  exit 1
fi
sg_say "before the ping, Prometheus has $DROP_SERIES = $before"
up=$(promql 'up{job="sixguard"}')
sg_check "Prometheus scrapes the agent (up=$up)" [ "$up" = 1 ]

# ---- the blocked ping: m1 (net-a) -> m3 (net-b) ----
if ip netns exec "$SG_PREFIX-m1" ping -6 -c 3 -i 0.2 -W 1 -q "${SG_ADDR[m3]}" >/dev/null 2>&1; then
  sg_fail "ping m1 -> m3 across networks was answered"
else
  sg_pass "ping m1 (${SG_ADDR[m1]}) -> m3 (${SG_ADDR[m3]}) is blocked"
fi

after=""
for _ in $(seq 1 40); do
  after=$(promql "$DROP_SERIES")
  [ -n "$after" ] && awk -v a="$after" -v b="$before" 'BEGIN {exit !(a >= b + 3)}' && break
  sleep 0.5
done
sg_check "PromQL sees the drops rise by at least 3 ($before -> $after)" \
  awk -v a="$after" -v b="$before" 'BEGIN {exit !(a >= b + 3)}'

sg_say "scrape excerpt:"
sg_metrics /metrics | grep -E '^sixguard_(packets_total\{hook="machine_egress",verdict="drop"|attached_interfaces|ready|map_entries|build_info)' |
  grep -v ' 0$\|reason="\(not_6pn\|malformed\|spoofed_source\|not_for_machine\|infra\|flycast\|same_network\)"' || true
sg_say "PromQL $DROP_SERIES:"
promql_raw "$DROP_SERIES"
echo
sg_say "PromQL increase(${DROP_SERIES}[1m]):"
promql_raw "increase(${DROP_SERIES}[1m])"
echo

sg_finish prometheus_live
