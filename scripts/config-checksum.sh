#!/bin/bash
# Keeps the DaemonSet's sixguard.io/config-checksum annotation equal to the SHA-256 of the
# ConfigMap's config.yaml in the same manifest, so that `kubectl apply` after a config change
# changes the pod template and rolls the pods (a ConfigMap edit alone does not restart them).
#
#   scripts/config-checksum.sh [--check] [MANIFEST]   (default deploy/kubernetes/daemonset.yaml)
#
# Without --check it rewrites the annotation in place. With --check it changes nothing and
# exits 1 when the annotation is stale (ctest: deploy.config_checksum).
# Kustomize users can instead generate the ConfigMap with configMapGenerator, whose name
# suffix (a hash of the content) changes the pod template the same way.
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
manifest=${1:-$(dirname "$0")/../deploy/kubernetes/daemonset.yaml}
command -v yq >/dev/null || { echo "needs yq (Debian package yq)" >&2; exit 2; }

config=$(yq -r 'select(.kind == "ConfigMap" and .metadata.name == "sixguard-config") | .data["config.yaml"]' "$manifest")
[ -n "$config" ] || { echo "$manifest: no ConfigMap sixguard-config with config.yaml" >&2; exit 2; }
want=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
have=$(yq -r 'select(.kind == "DaemonSet") | .spec.template.metadata.annotations["sixguard.io/config-checksum"]' "$manifest")

if [ "$have" = "$want" ]; then
  echo "$manifest: config checksum $want is current"
  exit 0
fi
if [ "$check" = 1 ]; then
  echo "$manifest: sixguard.io/config-checksum is $have but the ConfigMap's config.yaml hashes to $want;" >&2
  echo "run scripts/config-checksum.sh $manifest" >&2
  exit 1
fi
# An in-place edit of the one annotation line keeps the file's comments (yq would drop them).
sed -i -E "s|^([[:space:]]*sixguard\.io/config-checksum:).*|\1 \"$want\"|" "$manifest"
echo "$manifest: config checksum set to $want"
