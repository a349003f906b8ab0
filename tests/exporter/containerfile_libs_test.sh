#!/bin/bash
# The Containerfile's runtime stage installs every Debian package whose shared library the
# agent binary links: `ldd BINARY`, each library to its package (`dpkg -S`), each package
# looked up in the runtime stage's apt-get install list. Skips (77) when the binary has not
# been built, fails instead when SIXGUARD_REQUIRE_KERNEL_TESTS=1.
#
#   containerfile_libs_test.sh BINARY CONTAINERFILE
set -uo pipefail
binary=$1
containerfile=$2

if [ ! -x "$binary" ]; then
  if [ "${SIXGUARD_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then
    echo "FAIL: $binary not built"
    exit 1
  fi
  echo "SKIP: $binary not built"
  exit 77
fi

# The package names after "FROM ... AS runtime" up to the end of its RUN instruction.
# shellcheck disable=SC1003 # (the backslashes are the line continuations being removed)
runtime_packages=$(awk '/^FROM .* AS runtime/ {r=1} r && /apt-get install/ {i=1} i {print} i && !/\\$/ {exit}' \
  "$containerfile" | tr ' ' '\n' | tr -d '\\' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -v -E '^(apt-get|install|rm|update|RUN|-y|&&)$' | sort -u)
[ -n "$runtime_packages" ] || { echo "FAIL: no runtime apt-get install list in $containerfile"; exit 1; }

failures=0
while read -r path; do
  [ -n "$path" ] || continue
  package=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
  [ -n "$package" ] || package=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
  if [ -z "$package" ]; then
    echo "FAIL: $path belongs to no Debian package"
    failures=$((failures + 1))
  elif [ "$package" = libc6 ]; then
    echo "ok:   $path ($package, in every Debian image)"
  elif grep -qx "$package" <<<"$runtime_packages"; then
    echo "ok:   $path ($package)"
  else
    echo "FAIL: $path needs package $package, missing from the runtime stage"
    failures=$((failures + 1))
  fi
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')

[ "$failures" -eq 0 ] || exit 1
echo "PASS: every linked library's package is installed by the runtime stage"
