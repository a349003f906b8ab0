# Shared set-up for scripts/test.sh, scripts/demo.sh and scripts/bench.sh: Debian packages,
# bpffs, build. Sourced, not run. Every step is idempotent and quiet when nothing is to do.

# The Debian packages sixguard builds, tests and demos with (bookworm names).
SG_PACKAGES=(
  build-essential cmake pkg-config ccache clang llvm bpftool libbpf-dev libxdp-dev xdp-tools
  libelf-dev zlib1g-dev prometheus-cpp-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  libyaml-cpp-dev libboost-dev libsqlite3-dev sqlite3 libcli11-dev clang-format libclang-rt-14-dev
  iproute2 iputils-ping socat curl ethtool nftables prometheus jq libssl-dev openssl etcd-server etcd-client
  libsystemd-dev dpkg-dev groff-base bsdextrautils stress-ng
  yq nodejs
  qemu-system-x86 busybox-static cpio zstd xz-utils kmod debian-archive-keyring linux-perf
)

sg_log() { printf '==> %s\n' "$*" >&2; }

sg_install_packages() {
  local missing=()
  for pkg in "${SG_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    sg_log "missing Debian packages: ${missing[*]} (run as root to install them)"
    return 1
  fi
  sg_log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}

# Mounts bpffs at $1 (default /sys/fs/bpf) unless a bpf filesystem is already there.
sg_mount_bpffs() {
  local path=${1:-/sys/fs/bpf}
  [ "$(id -u)" -eq 0 ] || return 0
  if [ "$(stat -f -c %T "$path" 2>/dev/null)" != "bpf_fs" ]; then
    sg_log "mounting bpffs at $path"
    mkdir -p "$path"
    mount -t bpf bpf "$path"
  fi
}

# Compiler launcher flags for cmake: ccache when it is installed, with its base directory at
# this checkout, so that another clone of the same sources (CI's, a second worktree) reuses
# what was compiled before. Nothing when ccache is missing: the build is the same, only slower.
# (Called as $(sg_ccache_flags), a subshell: the caller exports CCACHE_BASEDIR itself.)
sg_ccache_flags() {
  command -v ccache >/dev/null 2>&1 || return 0
  echo "-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
}

# sg_build [DIR [TARGET...]]: configures and builds into DIR (default build/) every target, or
# only the TARGETs given. SG_CONFIGURE_ARGS (words) are added to the configure step, e.g.
# -DBUILD_TESTING=OFF for the product alone.
sg_build() {
  local dir=${1:-build}
  shift || true
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  sg_log "building ${*:-everything} into $dir"
  export CCACHE_BASEDIR=$PWD  # read by ccache at every compile, here and in later builds
  # shellcheck disable=SC2046,SC2086 # the flags are separate words
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo $(sg_ccache_flags) \
    ${SG_CONFIGURE_ARGS:-} >/dev/null
  # One build; its log is kept and only errors and warnings are shown, but its status decides.
  local log="$dir/build.log" rc=0
  cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >"$log" 2>&1 || rc=$?
  grep -E "error|warning|Error" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    sg_log "build failed (exit $rc); the whole log is $log"
    return "$rc"
  fi
}
