#!/usr/bin/env bash
# Test cmake/SourceRevision.cmake, which the build runs at every build to record the source
# revision: in a scratch git repository, the revision is the commit (12 hex digits), gains
# "-dirty" when a tracked file changes, follows a new commit (what makes a rebuild pick up a
# new HEAD), and the file is not rewritten when nothing changed (so nothing is recompiled);
# outside git it is "unknown", or SIXGUARD_REVISION when given.
#   usage: revision_test.sh SOURCE_DIR
set -uo pipefail
src=$(cd "${1:?usage: revision_test.sh SOURCE_DIR}" && pwd)
command -v git >/dev/null || { echo "SKIP: needs git"; exit 77; }
work=$(mktemp -d /tmp/sixguard-h-release-revision-XXXX)
trap 'rm -rf "$work"' EXIT
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
revision_of() { # revision_of DIR [OVERRIDE]: what the build would record for DIR
  cmake -DSOURCE_DIR="$1" -DTEMPLATE="$src/agent/version/revision.cpp.in" \
    -DOUTPUT="$work/revision.cpp" -DREVISION_OVERRIDE="${2:-}" \
    -P "$src/cmake/SourceRevision.cmake" >/dev/null || return 1
  sed -nE 's/.*return "([^"]*)";.*/\1/p' "$work/revision.cpp"
}
git_in() { git -C "$repo" -c user.name=t -c user.email=t@t "$@"; }

repo="$work/repo"
mkdir -p "$repo"
git_in init -q
git_in commit -q --allow-empty -m one
echo a >"$repo/tracked" && git_in add tracked && git_in commit -q -m two
head=$(git_in rev-parse --short=12 HEAD)
check "a clean checkout records its commit ($head)" test "$(revision_of "$repo")" = "$head"
check "the revision is 12 hex digits" grep -qxE '[0-9a-f]{12}' <<<"$head"
# Nothing changed: the generated file keeps its modification time (configure_file rewrites
# only on a change), so the build recompiles nothing. Set the time into the past to see it.
touch -d '2000-01-01 00:00:00' "$work/revision.cpp"
revision_of "$repo" >/dev/null
check "nothing changed: the file is not rewritten (nothing recompiles)" \
  test "$(stat -c %Y "$work/revision.cpp")" = "$(date -d '2000-01-01 00:00:00' +%s)"
echo untracked >"$repo/new-file"
check "an untracked file does not make it dirty" test "$(revision_of "$repo")" = "$head"
echo b >"$repo/tracked"
check "a changed tracked file: $head-dirty" test "$(revision_of "$repo")" = "$head-dirty"
echo a >"$repo/tracked"
check "changed back (the file only touched): clean again" test "$(revision_of "$repo")" = "$head"
git_in commit -q --allow-empty -m three
new_head=$(git_in rev-parse --short=12 HEAD)
check "a new commit is picked up ($new_head)" test "$(revision_of "$repo")" = "$new_head" -a "$new_head" != "$head"
mkdir -p "$work/tarball"
check "outside git: unknown" test "$(revision_of "$work/tarball")" = unknown
check "outside git with SIXGUARD_REVISION: that" \
  test "$(revision_of "$work/tarball" 0123456789ab)" = 0123456789ab

[ "$failures" -eq 0 ] || { echo "FAILED: $failures check(s)"; exit 1; }
echo PASSED
