#!/usr/bin/env bash
# Builds the sixguard Debian packages with CPack (cmake/Package.cmake):
#   build/package/sixguard_<version>_<arch>.deb         the stripped binary, the systemd unit,
#                                                       /etc/sixguard/config.yaml (a conffile),
#                                                       the man page, the bash completion, docs
#   build/package/sixguard-dbgsym_<version>_<arch>.deb  /usr/lib/debug/usr/bin/sixguard.debug
#   scripts/package.sh [--build-dir DIR]   (default build)
# `sudo apt install ./build/package/sixguard_*.deb` installs it; nothing is enabled or started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

dir=build
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) dir=${2:?--build-dir needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

sg_install_packages
# Only what the packages carry (sixguard_dist: the stripped binary, its debug file, the man
# page, the completion); a build directory made here leaves the tests out (BUILD_TESTING=OFF),
# one that exists keeps its setting. cpack builds nothing itself (Package.cmake).
[ -f "$dir/CMakeCache.txt" ] || SG_CONFIGURE_ARGS=-DBUILD_TESTING=OFF
sg_build "$dir" sixguard_dist
sg_log "packaging (cpack -G DEB) into $dir/package"
rm -f "$dir"/package/*.deb
(cd "$dir" && cpack -G DEB >cpack.log 2>&1) || { tail -n 30 "$dir/cpack.log" >&2; exit 1; }
for deb in "$dir"/package/*.deb; do
  printf '%s  %s bytes\n' "$deb" "$(stat -c %s "$deb")"
done
