#!/usr/bin/env bash
# Test the Debian packages (scripts/package.sh, cmake/Package.cmake): cpack builds them from
# this build directory into a scratch directory; both are unpacked with dpkg-deb -x into a
# scratch root, and from there:
#  - usr/bin/sixguard runs (--version names this build's version and revision, --help the
#    subcommands), is stripped, and its .gnu_debuglink names the debug file the -dbgsym
#    package carries, whose build id is the binary's;
#  - the unit runs /usr/bin/sixguard with /etc/sixguard/config.yaml, is Type=notify, and its
#    Documentation= file is in the package; the config is a conffile;
#  - the man page renders without warnings and documents every subcommand and the exit codes;
#  - the bash completion, sourced in bash, completes subcommands and options.
#   usage: deb_test.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
for tool in cpack dpkg-deb readelf objcopy groff; do
  command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
[ -f "$build/CPackConfig.cmake" ] || { echo "FAIL: $build is not a configured build"; exit 1; }
[ -x "$build/dist/sixguard" ] || { echo "FAIL: $build/dist/sixguard missing (build target sixguard_dist)"; exit 1; }
# cpack packages what is built and builds nothing (cmake/Package.cmake): a dist/ older than the
# binary it was made from would be tested, and shipped, stale.
[ ! "$build/sixguard" -nt "$build/dist/sixguard" ] ||
  { echo "FAIL: $build/dist/sixguard is older than $build/sixguard (build target sixguard_dist)"; exit 1; }

work=$(mktemp -d /tmp/sixguard-h-release-deb-XXXX)
trap 'rm -rf "$work"' EXIT
failures=0
sg_none_of() { # sg_none_of TEXT PATTERN...: no pattern matches TEXT
  local text=$1 pattern
  shift
  for pattern in "$@"; do grep -qE -- "$pattern" <<<"$text" && return 1; done
  return 0
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# cpack into the scratch directory, so that the test leaves the build's own packages alone.
if ! (cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1); then
  tail -n 30 "$work/cpack.log"
  echo "FAIL: cpack"
  exit 1
fi
main=$(ls "$work"/out/sixguard_*.deb 2>/dev/null | head -n 1)
dbgsym=$(ls "$work"/out/sixguard-dbgsym_*.deb 2>/dev/null | head -n 1)
check "cpack made sixguard_*.deb" test -f "$main"
check "cpack made sixguard-dbgsym_*.deb" test -f "$dbgsym"
[ -f "$main" ] && [ -f "$dbgsym" ] || exit 1
root="$work/root"
mkdir -p "$root"
dpkg-deb -x "$main" "$root" && dpkg-deb -x "$dbgsym" "$root" || { echo "FAIL: dpkg-deb -x"; exit 1; }
bin="$root/usr/bin/sixguard"

for file in usr/bin/sixguard usr/lib/systemd/system/sixguard.service etc/sixguard/config.yaml \
  usr/share/man/man8/sixguard.8 usr/share/bash-completion/completions/sixguard \
  usr/share/doc/sixguard/operating.md usr/share/doc/sixguard/README.md \
  usr/lib/debug/usr/bin/sixguard.debug; do
  check "the packages hold /$file" test -s "$root/$file"
done

# ---- the binary ----
version_out=$("$bin" --version 2>&1)
check "--version from the unpacked root exits 0" test $? = 0
check "--version is this build's (same line as build/sixguard)" \
  test "$version_out" = "$("$build/sixguard" --version)"
check "--version names a revision: $version_out" \
  grep -qE '^sixguard [0-9]+\.[0-9]+\.[0-9]+ \(revision ([0-9a-f]{12}(-dirty)?|unknown)\)$' <<<"$version_out"
help_out=$("$bin" --help 2>&1)
check "--help exits 0" test $? = 0
for sub in agent apply apps networks status decode explain monitor; do
  check "--help lists $sub" grep -qE "^  $sub " <<<"$help_out"
done
check "--help documents exit status 3" grep -q "^  3  the agent could not serve" <<<"$help_out"
check "decode works from the unpacked root (no agent needed)" \
  grep -q "network id:    2:45b" <<<"$("$bin" decode fdaa:2:45b:a7b:174:db43:d3c6:2)"
check "the binary is stripped (no .debug_info, no .symtab)" \
  sg_none_of "$(readelf -S -W "$bin")" '\.debug_info' '\.symtab'
check "the binary is smaller than build/sixguard" \
  test "$(stat -c %s "$bin")" -lt "$(stat -c %s "$build/sixguard")"
debuglink=$(objcopy --dump-section .gnu_debuglink="$work/link" "$bin" /dev/null 2>&1 &&
  tr -d '\0' <"$work/link" | head -c 14)
check "the binary's debuglink names sixguard.debug" test "$debuglink" = sixguard.debug
build_id() { readelf -n "$1" 2>/dev/null | sed -nE 's/.*Build ID: ([0-9a-f]+).*/\1/p'; }
check "the debug file has the binary's build id" \
  test -n "$(build_id "$bin")" -a "$(build_id "$bin")" = "$(build_id "$root/usr/lib/debug/usr/bin/sixguard.debug")"
check "the debug file holds the debug info" \
  grep -q '\.debug_info' <<<"$(readelf -S -W "$root/usr/lib/debug/usr/bin/sixguard.debug")"

# ---- the unit and the config ----
unit="$root/usr/lib/systemd/system/sixguard.service"
check "the unit runs /usr/bin/sixguard with /etc/sixguard/config.yaml" \
  grep -qx 'ExecStart=/usr/bin/sixguard agent --config /etc/sixguard/config.yaml' "$unit"
check "the unit is Type=notify" grep -qx 'Type=notify' "$unit"
doc=$(sed -nE 's|^Documentation=file://(.*)$|\1|p' "$unit")
check "the unit's Documentation= ($doc) is in the package" test -n "$doc" -a -s "$root$doc"
check "/etc/sixguard/config.yaml is a conffile" \
  grep -qx /etc/sixguard/config.yaml <<<"$(dpkg-deb -f "$main" >/dev/null; dpkg-deb --ctrl-tarfile "$main" | tar -xO ./conffiles)"
check "the packaged config is the example (every key at its default)" \
  cmp -s "$root/etc/sixguard/config.yaml" "$(dirname "$0")/../../deploy/config.example.yaml"
check "the -dbgsym package depends on this version of sixguard" \
  test "$(dpkg-deb -f "$dbgsym" Depends)" = "sixguard (= $(dpkg-deb -f "$main" Version))"

# ---- the man page ----
man_page="$root/usr/share/man/man8/sixguard.8"
man_warnings=$(LC_ALL=C groff -man -Tascii -ww -z "$man_page" 2>&1)
check "the man page renders without warnings${man_warnings:+: $man_warnings}" test -z "$man_warnings"
man_text=$(LC_ALL=C groff -man -Tascii "$man_page" 2>/dev/null | col -bx 2>/dev/null ||
  LC_ALL=C groff -man -Tascii -P-cbou "$man_page")
for sub in agent apply apps networks status decode explain monitor; do
  check "the man page documents sixguard $sub" grep -q "sixguard $sub" <<<"$man_text"
done
for option in --socket --version --config --uninstall --accept-empty-state --interface --org --json; do
  check "the man page documents $option" grep -q -- "$option" <<<"$man_text"
done
check "the man page has EXIT STATUS with 0-3" \
  grep -A40 '^EXIT STATUS' <<<"$man_text" | grep -qE '^ +3 +the agent could not serve'
check "the man page does not list the hidden generate-docs" sg_none_of "$man_text" generate-docs

# ---- the completion ----
complete_words() { # complete_words WORD...: what <TAB> offers after them (last word: current)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sixguard; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$root/usr/share/bash-completion/completions/sixguard" "$@" 2>/dev/null
}
check "completion: sixguard st<TAB> -> status" test "$(complete_words sixguard st)" = status
check "completion: sixguard <TAB> offers every subcommand" \
  test "$(complete_words sixguard '' | grep -cE '^(agent|apply|apps|networks|status|decode|explain|monitor)$')" = 8
check "completion: sixguard <TAB> hides generate-docs" sg_none_of "$(complete_words sixguard '')" generate-docs
check "completion: sixguard agent --con<TAB> -> --config" test "$(complete_words sixguard agent --con)" = --config
check "completion: sixguard explain a b --int<TAB> -> --interface" \
  test "$(complete_words sixguard explain a b --int)" = --interface
check "completion: sixguard explain -i lo<TAB> -> lo (an interface)" \
  grep -qx lo <<<"$(complete_words sixguard explain -i lo)"
mkdir -p "$work/files" && touch "$work/files/events.json"
check "completion: sixguard apply <file><TAB> completes the file name" \
  test "$(complete_words sixguard apply "$work/files/ev")" = "$work/files/events.json"
check "completion: sixguard status --socket <file><TAB> completes a path" \
  test "$(complete_words sixguard status --socket "$work/files/ev")" = "$work/files/events.json"

if [ "$failures" -gt 0 ]; then
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "PASSED"
