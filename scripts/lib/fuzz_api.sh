# The API fuzz test under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer
# (tests/fuzz/api_fuzz_target.cpp), in its own build directory so the regular build stays
# uninstrumented. Sourced by scripts/test.sh (CI: 100,000 inputs) and scripts/bench.sh
# (`fuzz-api --inputs N`, the long mode).

SG_FUZZ_SANITIZERS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# sg_fuzz_api_build DIR: clang, every library of the request path instrumented for coverage and
# the sanitizers; only the fuzz_api target is built.
sg_fuzz_api_build() {
  local dir=$1 launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" -DSIXGUARD_LIBFUZZER=ON \
    -DCMAKE_C_FLAGS="$SG_FUZZ_SANITIZERS -fsanitize=fuzzer-no-link" \
    -DCMAKE_CXX_FLAGS="$SG_FUZZ_SANITIZERS -fsanitize=fuzzer-no-link" \
    -DCMAKE_EXE_LINKER_FLAGS="$SG_FUZZ_SANITIZERS" >/dev/null &&
    cmake --build "$dir" -j"${JOBS:-2}" --target fuzz_api
}

# sg_fuzz_api_run DIR INPUTS [libFuzzer options...]: INPUTS inputs from the checked-in seeds
# (a scratch copy, so the corpus libFuzzer grows never lands in the tree). Leaks are checked at
# every input libFuzzer suspects and at exit; a crash leaves its input as DIR/fuzz-api/crash-*.
sg_fuzz_api_run() {
  local dir=$1 inputs=$2
  shift 2
  local work="$dir/fuzz-api"
  rm -rf "$work/corpus"
  mkdir -p "$work/corpus"
  cp tests/fuzz/corpus/* "$work/corpus/"
  # Issue 11's first crash, too big to check in: 60,000 nested '[' (mutations start from it).
  { printf '@o'; head -c 60000 /dev/zero | tr '\0' '['; } >"$work/corpus/nesting-60000"
  # state.db commits fsync: a tmpfs keeps 100k inputs within CI time.
  local tmp=/tmp
  [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
  TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/tests/fuzz/fuzz_api" -runs="$inputs" -max_len=131072 -timeout=90 -seed=1 \
    -dict=tests/fuzz/api.dict -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work/corpus"
}
