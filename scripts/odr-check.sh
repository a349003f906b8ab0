#!/usr/bin/env bash
# One Definition Rule check (issue 15): builds the product and the test binaries that link the
# most agent translation units with link-time optimisation, where GCC sees every TU's types at
# once and -Wodr reports a class, struct or enum defined differently in two TUs (the bug that
# had two `struct sixguard::Explanation`). -Werror=odr makes any such report fail the build.
#   scripts/odr-check.sh [BUILD_DIR [TARGET...]]   (default build-odr and the list below; its
#                                                  own directory, ccache on)
# Exit status: the build's. scripts/test.sh runs it as one counted step (build/odr-check.log).
#
# -O1 and no debug info: the ODR check is made while the LTO link merges the streamed types
# (GCC's whole-program stage), whatever the optimisation level. The link itself runs with -O0
# (the last -O on the link line is the one its code generation uses): the binaries are never
# run, so optimising them at link time is CPU spent for nothing; the objects stay -O1, ccache's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

dir=${1:-build-odr}
[ $# -gt 0 ] && shift
# The binaries whose link holds the most agent TUs: the product (every agent, datapath, API
# and exporter library) and the API tests (the API and control plane with the test fixtures'
# own types). Kept to two: on 2 cores each LTO link is serial and the step runs in every CI run;
# pass more targets to check them too.
SG_ODR_TARGETS=(sixguard sixguard_api_tests)
[ $# -gt 0 ] && SG_ODR_TARGETS=("$@")

export CCACHE_BASEDIR=$PWD
odr_flags="-flto=auto -Wodr -Werror=odr"
# shellcheck disable=SC2046 # the flags are separate words
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release $(sg_ccache_flags) \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="$odr_flags" -DCMAKE_C_FLAGS="$odr_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$odr_flags -O0" \
  -DCMAKE_AR="$(command -v gcc-ar)" -DCMAKE_RANLIB="$(command -v gcc-ranlib)" >/dev/null
sg_log "ODR check: LTO build of ${SG_ODR_TARGETS[*]} in $dir"
start=$SECONDS
rc=0
cmake --build "$dir" -j"${JOBS:-2}" --target "${SG_ODR_TARGETS[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
  sg_log "ODR check failed (exit $rc) after $((SECONDS - start)) s"
  exit "$rc"
fi
sg_log "ODR check clean: ${#SG_ODR_TARGETS[@]} binaries linked with -Wodr, $((SECONDS - start)) s"
