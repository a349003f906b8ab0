#!/bin/bash
# The operator-facing deploy/ files against each other (issue 16):
#
#   deploy_ops_test.sh runbooks              every alert has a runbook_url whose anchor is a
#                                            heading of docs/operating.md
#   deploy_ops_test.sh prometheusrule        deploy/kubernetes/prometheusrule.yaml is what
#                                            scripts/gen-prometheusrule.sh makes now, and holds
#                                            the same groups as the rules file
#   deploy_ops_test.sh servicemonitor        the Service/ServiceMonitor select the DaemonSet's
#                                            pods on its metrics port, as job "sixguard"
#   deploy_ops_test.sh config_checksum       the pod template's config checksum is current
#
# Needs yq (Debian package yq) and jq; exits 77 (skip) without them.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rules="$root/deploy/prometheus/sixguard-alerts.yaml"
docs="$root/docs/operating.md"
k8s="$root/deploy/kubernetes"
for tool in yq jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok:   $*"; }
# check OK_MESSAGE FAIL_MESSAGE COMMAND...: ok or fail by the command's status.
check() {
  local good=$1 bad=$2
  shift 2
  if "$@"; then ok "$good"; else fail "$bad"; fi
}

# GitHub's heading anchors: lower case, punctuation other than '-' and '_' removed, spaces
# become '-'.
anchors() {
  grep -E '^#{1,6} ' "$docs" | sed -E 's/^#+ +//' | tr 'A-Z' 'a-z' |
    sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}

case "${1:-}" in
  runbooks)
    known=$(anchors)
    count=0
    while IFS=$'\t' read -r alert url; do
      count=$((count + 1))
      if [ -z "$url" ] || [ "$url" = null ]; then
        fail "$alert has no runbook_url"
        continue
      fi
      case "$url" in
        */docs/operating.md#*) ;;
        *) fail "$alert: runbook_url $url does not point into docs/operating.md"; continue ;;
      esac
      anchor=${url##*#}
      if grep -qx -- "$anchor" <<<"$known"; then
        ok "$alert -> #$anchor"
      else
        fail "$alert: no heading in docs/operating.md has the anchor #$anchor"
      fi
    done < <(yq -r '.groups[].rules[] | select(.alert) | [.alert, (.annotations.runbook_url // "")] | @tsv' "$rules")
    [ "$count" -gt 0 ] || fail "no alerts read from $rules"
    ;;
  prometheusrule)
    scratch=$(mktemp)
    trap 'rm -f "$scratch"' EXIT
    "$root/scripts/gen-prometheusrule.sh" "$scratch" || fail "gen-prometheusrule.sh failed"
    if diff -u "$k8s/prometheusrule.yaml" "$scratch"; then
      ok "prometheusrule.yaml is what gen-prometheusrule.sh makes from the rules file"
    else
      fail "prometheusrule.yaml is stale: run scripts/gen-prometheusrule.sh"
    fi
    # The meaning, not only the text: the same groups, rule for rule.
    if [ "$(yq -c '.groups' "$rules")" = "$(yq -c 'select(.kind == "PrometheusRule") | .spec.groups' "$k8s/prometheusrule.yaml")" ]; then
      ok "its spec.groups equal the rules file's groups ($(yq '[.groups[].rules[]] | length' "$rules") rules)"
    else
      fail "spec.groups differ from the rules file's groups"
    fi
    ;;
  servicemonitor)
    sm="$k8s/servicemonitor.yaml"
    ds="$k8s/daemonset.yaml"
    pod_labels=$(yq -c 'select(.kind == "DaemonSet") | .spec.template.metadata.labels' "$ds")
    service_selector=$(yq -c 'select(.kind == "Service") | .spec.selector' "$sm")
    # selects SELECTOR LABELS: a selector that is not empty and whose every label is in LABELS.
    selects() {
      jq -e -n --argjson sel "$1" --argjson labels "$2" \
        '$sel | to_entries | length > 0 and all(.[]; $labels[.key] == .value)' >/dev/null
    }
    check "the Service selects the DaemonSet's pods ($service_selector)" \
      "the Service selector $service_selector does not match the pod labels $pod_labels" \
      selects "$service_selector" "$pod_labels"
    service_labels=$(yq -c 'select(.kind == "Service") | .metadata.labels' "$sm")
    monitor_selector=$(yq -c 'select(.kind == "ServiceMonitor") | .spec.selector.matchLabels' "$sm")
    check "the ServiceMonitor selects the Service" \
      "the ServiceMonitor selector $monitor_selector does not match the Service labels $service_labels" \
      selects "$monitor_selector" "$service_labels"
    container_port=$(yq -r 'select(.kind == "DaemonSet") | .spec.template.spec.containers[0].ports[] | select(.name == "metrics") | .containerPort' "$ds")
    service_port=$(yq -r 'select(.kind == "Service") | .spec.ports[] | select(.name == "metrics") | .port' "$sm")
    target_port=$(yq -r 'select(.kind == "Service") | .spec.ports[] | select(.name == "metrics") | .targetPort' "$sm")
    endpoint_port=$(yq -r 'select(.kind == "ServiceMonitor") | .spec.endpoints[0].port' "$sm")
    if [ "$service_port" = "$container_port" ] && [ "$target_port" = metrics ] && [ "$endpoint_port" = metrics ]; then
      ok "metrics port $container_port, named metrics, end to end"
    else
      fail "ports disagree: container $container_port, service $service_port -> $target_port, endpoint $endpoint_port"
    fi
    # The scrape job is the Service's name (no jobLabel): it must be the job the rules select.
    job=$(yq -r 'select(.kind == "Service") | .metadata.name' "$sm")
    job_label=$(yq -r 'select(.kind == "ServiceMonitor") | .spec.jobLabel // ""' "$sm")
    if [ "$job" = sixguard ] && [ -z "$job_label" ] && grep -q 'job="sixguard"' "$rules"; then
      ok "the scrape job is \"sixguard\", as the rules select"
    else
      fail "the scrape job would be '$job' (jobLabel '$job_label'), the rules select job=\"sixguard\""
    fi
    ;;
  config_checksum)
    if "$root/scripts/config-checksum.sh" --check "$k8s/daemonset.yaml"; then
      ok "config checksum current"
    else
      fail "config checksum stale"
    fi
    ;;
  *)
    echo "usage: $0 runbooks|prometheusrule|servicemonitor|config_checksum" >&2
    exit 2
    ;;
esac
if [ "$failures" -ne 0 ]; then exit 1; fi
echo "PASS"
