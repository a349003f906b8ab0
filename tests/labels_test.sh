#!/usr/bin/env bash
# Every ctest test carries at least one LABELS value and only known ones: scripts/test.sh picks
# what runs in parallel and what the VM guests run by label (ctest -L/-LE), so a test without
# a label, or with a misspelt one, would silently fall out of a step.
#   usage: labels_test.sh CTEST BUILD_DIR
# Known labels (tests/CMakeLists.txt says what each means): unit kernel bpf integration exporter
# live etcd package deploy fuzz vm. `ctest -N --show-only=json-v1` lists the tests without
# running them; it runs from a scratch directory whose CTestTestfile.cmake points at BUILD_DIR,
# because ctest -N rewrites Testing/Temporary/LastTest.log where it runs: in BUILD_DIR it would
# clobber the log of the ctest run this test is part of.
set -uo pipefail
ctest=${1:?usage: labels_test.sh CTEST BUILD_DIR}
build=${2:?usage: labels_test.sh CTEST BUILD_DIR}
known='["unit","kernel","bpf","integration","exporter","live","etcd","package","deploy","fuzz","vm"]'
build=$(cd "$build" && pwd)
scratch=$(mktemp -d /tmp/sixguard-h-ci-labels-XXXX)
trap 'rm -rf "$scratch"' EXIT
printf 'subdirs("%s")\n' "$build" >"$scratch/CTestTestfile.cmake"
json=$(cd "$scratch" && "$ctest" -N --show-only=json-v1) || { echo "FAIL: ctest -N failed"; exit 1; }
count=$(jq '.tests | length' <<<"$json")
unlabelled=$(jq -r '.tests[] | select(all(.properties[]?; .name != "LABELS")) | .name' <<<"$json")
unknown=$(jq -r --argjson known "$known" '.tests[]
  | (.properties[]? | select(.name == "LABELS") | .value) as $labels
  | ($labels - $known) as $bad | select($bad | length > 0)
  | "\(.name): \($bad | join(","))"' <<<"$json")
# Host-only tests are fine, but the guest must get something, and every vm test is integration.
vm_not_integration=$(jq -r '.tests[]
  | (.properties[]? | select(.name == "LABELS") | .value) as $labels
  | select(($labels | index("vm")) and ($labels | index("integration") | not)) | .name' <<<"$json")
status=0
[ "$count" -gt 0 ] || { echo "FAIL: ctest lists no tests in $build"; status=1; }
[ -z "$unlabelled" ] || { echo "FAIL: tests without LABELS:"; sed 's/^/  /' <<<"$unlabelled"; status=1; }
[ -z "$unknown" ] || { echo "FAIL: unknown labels (known: $known):"; sed 's/^/  /' <<<"$unknown"; status=1; }
[ -z "$vm_not_integration" ] || {
  echo "FAIL: labelled vm but not integration (guest-suite.sh runs -L integration):"
  sed 's/^/  /' <<<"$vm_not_integration"
  status=1
}
[ "$status" -eq 0 ] && echo "ok: all $count tests labelled with known labels"
exit $status
