#!/bin/bash
# Every query of the Grafana dashboard through a real Prometheus scraping a real agent: each
# panel's expression (with the dashboard's variables replaced as Grafana would: $instance by
# the agent's instance, $__rate_interval by 1m) must return data, and the table panels must be
# instant queries in table format. The instance variable's label_values() query must find the
# agent.
#
#   dashboard_live_test.sh SIXGUARD_BINARY
#
# Traffic first, so that the rate panels have something to show: events applied, a blocked
# ping (drops), a passing ping (passes). Decisions come from Prometheus's answers, polled until
# they hold or a deadline passes; never from a fixed sleep.
# Root only; skips (77) otherwise unless SIXGUARD_REQUIRE_KERNEL_TESTS=1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SIXGUARD=${1:-}
SG_PREFIX=sg-dash-$$
SG_IFP=d$$
DASHBOARD="$root/deploy/grafana/sixguard-dashboard.json"
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
source "$here/../integration/lib.sh"
SG_METRICS_PORT=$(sg_random_port 20000)
PROM_PORT=$(sg_random_port 40000)

sg_require_environment prometheus jq

# ---- static: the table panels are instant table queries ----
bad_tables=$(jq -r '.panels[] | select(.type == "table") | .title as $t | .targets[]
  | select(.instant != true or .format != "table" or .range == true) | $t' "$DASHBOARD")
sg_check "table panels use instant queries in table format${bad_tables:+ (not: $bad_tables)}" test -z "$bad_tables"
sg_check "a panel shows the agent's scrape errors" \
  jq -e '[.panels[].targets[]?.expr] | any(test("sixguard_scrape_errors_total"))' "$DASHBOARD" >/dev/null
sg_check "a panel shows targets Prometheus could not scrape" \
  jq -e '[.panels[].targets[]?.expr] | any(test("up\\{job=\"sixguard\""))' "$DASHBOARD" >/dev/null

sg_init
sg_agent_up

sg_prometheus_start "$PROM_PORT"

query() { # query PROMQL: the JSON answer of an instant query
  ip netns exec "$SG_HOST" curl -s --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    --data-urlencode "query=$1" 2>/dev/null
}
results() { query "$1" | jq -r 'select(.status == "success") | .data.result | length' 2>/dev/null; }
wait_results() { # wait_results PROMQL: polls (up to 60 s) until it returns at least one series
  local n
  for _ in $(seq 1 120); do
    n=$(results "$1")
    [ -n "$n" ] && [ "$n" -gt 0 ] && return 0
    sleep 0.5
  done
  return 1
}

# Traffic while Prometheus scrapes: events, a drop, a pass.
wait_results 'up{job="sixguard"} == 1' || { echo "FAIL: Prometheus never scraped the agent"; tail "$SG_WORK/prometheus.log"; exit 1; }
sg_write_events "$SG_WORK/events.ndjson"
reply=$(sg_api POST /v1/events "$SG_WORK/events.ndjson")
[ "$(sg_status_of "$reply")" = 200 ] || { echo "FAIL: POST /v1/events: $reply"; exit 1; }
sg_wait_attached "$(sg_if m1)" || { echo "FAIL: m1 not attached"; exit 1; }
sg_check "m1 -> m2 (same network) passes" sg_probe_ping m1 "${SG_ADDR[m2]}"
sg_check "m1 -> m3 (other network) is dropped" sg_not sg_probe_ping m1 "${SG_ADDR[m3]}"
# The rate panels need two scrapes on each side of the traffic within their 1m window: wait
# for the drop to show as a rate, which is the slowest of them.
wait_results 'sum(rate(sixguard_packets_total{verdict="drop"}[1m])) > 0' ||
  sg_fail "the drop never showed as a rate in Prometheus"

instance="127.0.0.1:$SG_METRICS_PORT"
variable=$(jq -r '.templating.list[] | select(.name == "instance") | .query.query' "$DASHBOARD")
# label_values(METRIC, LABEL) is Grafana's; its Prometheus equivalent is the series API.
metric=$(sed -E 's/^label_values\(([a-z_]+), *([a-z_]+)\)$/\1/' <<<"$variable")
found=$(ip netns exec "$SG_HOST" curl -s --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/series" \
  --data-urlencode "match[]=$metric" | jq -r '.data[].instance' 2>/dev/null)
sg_check "the \$instance variable ($variable) finds the agent ($instance)" grep -qx "$instance" <<<"$found"

panels=0
while IFS=$'\t' read -r title expr; do
  panels=$((panels + 1))
  promql=${expr//\$__rate_interval/1m}
  promql=${promql//\$instance/$instance}
  n=$(results "$promql")
  if [ -n "$n" ] && [ "$n" -gt 0 ]; then
    sg_pass "$title: $n series ($promql)"
  else
    sg_fail "$title returns no data: $promql -> $(query "$promql" | head -c 300)"
  fi
done < <(jq -r '.panels[] | select(.targets) | .title as $t | .targets[] | [$t, .expr] | @tsv' "$DASHBOARD")
sg_check "every panel query was run ($panels)" test "$panels" -gt 15

sg_finish dashboard_live
