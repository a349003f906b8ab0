#!/bin/bash
# Every manifest under deploy/kubernetes validated against the Kubernetes schemas, and the
# ServiceMonitor and PrometheusRule against prometheus-operator's CRD schemas (kubeconform is
# not packaged for Debian; the schemas come from npm).
#
#   k8s_schema_test.sh CACHE_DIR
#
# The npm packages are installed once into CACHE_DIR (under the build directory) at pinned
# versions. Without node/npm, or when the npm registry cannot be reached, the test reports
# SKIP (exit 77), never a pass. A deliberately broken copy of the DaemonSet must be refused
# first: a validator that accepts everything fails the test.
# Limit: kubernetes-models' validators (ajv, compiled from the OpenAPI definitions) check types,
# required fields, enums and formats, but accept fields the schema does not know (kubeconform
# -strict would refuse a misspelt key); deploy_test.cpp reads the keys that matter by name.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${1:?usage: k8s_schema_test.sh CACHE_DIR}
packages=(kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 js-yaml@4.1.0)

for tool in node npm yq; do
  command -v "$tool" >/dev/null || { echo "SKIP: needs $tool (Debian packages nodejs, npm, yq)"; exit 77; }
done
mkdir -p "$cache"
if [ ! -f "$cache/.installed-v1" ]; then
  if ! timeout 300 npm install --prefix "$cache" --no-audit --no-fund --no-save --silent \
    "${packages[@]}" >"$cache/npm.log" 2>&1; then
    echo "SKIP: npm install ${packages[*]} failed (registry unreachable?):"
    tail -n 5 "$cache/npm.log"
    exit 77
  fi
  touch "$cache/.installed-v1"
fi
cp "$here/k8s_validate.mjs" "$cache/k8s_validate.mjs" # resolves its imports in $cache

# The validator must be able to fail: a containerPort that is not a number, a probe without a
# port, a DaemonSet without a selector.
broken="$cache/broken.yaml"
yq -y 'select(.kind == "DaemonSet")
  | .spec.template.spec.containers[0].ports[0].containerPort = "metrics-port"' \
  "$root/deploy/kubernetes/daemonset.yaml" >"$broken"
if node "$cache/k8s_validate.mjs" "$broken" >"$cache/broken.out" 2>&1; then
  echo "FAIL: a DaemonSet with containerPort \"metrics-port\" was accepted:"
  cat "$cache/broken.out"
  exit 1
fi
echo "ok:   a broken DaemonSet is refused: $(grep FAIL "$cache/broken.out" | head -n 1 | cut -c1-160)"

manifests=("$root"/deploy/kubernetes/*.yaml)
if node "$cache/k8s_validate.mjs" "${manifests[@]}"; then
  echo "PASS: ${#manifests[@]} manifests valid"
else
  echo "FAIL"
  exit 1
fi
