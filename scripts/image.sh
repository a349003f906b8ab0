#!/usr/bin/env bash
# Builds the sixguard container image from deploy/Containerfile with buildah.
#   scripts/image.sh [--tag NAME] [--base local|registry]
#     --tag   the image name (default localhost/sixguard:<version>)
#     --base  local (default): a Debian bookworm base made here with debootstrap from
#             deb.debian.org (for hosts that reach no container registry), committed as
#             localhost/sixguard-base:bookworm and used for both stages, pinned by digest;
#             registry: the Containerfile's defaults (docker.io debian:bookworm[-slim]).
# Then it runs `sixguard --version` in the image and prints the image's size and labels.
# Not part of scripts/test.sh (it downloads a distribution and builds from scratch).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

# Only this script needs them, so they are not in SG_PACKAGES.
SG_PACKAGES=(buildah debootstrap git)
version=$(sed -nE 's/^project\(sixguard VERSION ([0-9.]+) .*/\1/p' CMakeLists.txt)
tag=localhost/sixguard:$version
base=local
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a name}; shift 2 ;;
    --base) base=${2:?--base needs local or registry}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "image.sh: run as root (buildah, debootstrap)" >&2; exit 1; }
sg_install_packages

revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then
  revision=$revision-dirty
fi
source_url=$(git config --get remote.origin.url 2>/dev/null || true)
[ -n "$source_url" ] || source_url="file://$(pwd) (no git remote)"
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

build_args=()
if [ "$base" = local ]; then
  base_name=localhost/sixguard-base:bookworm
  if ! buildah inspect --type image "$base_name" >/dev/null 2>&1; then
    rootfs=$(mktemp -d /tmp/sixguard-image-rootfs-XXXX)
    trap 'rm -rf "$rootfs"' EXIT
    sg_log "debootstrap bookworm (minbase) from deb.debian.org into $rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$rootfs.log" 2>&1 ||
      { tail -n 20 "$rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    # Security and point-release updates, as the official images have them.
    cat >"$rootfs/etc/apt/sources.list" <<'LIST'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    sg_log "committing $base_name"
    container=$(buildah from scratch)
    buildah copy "$container" "$rootfs" / >/dev/null
    buildah config --cmd /bin/bash "$container"
    buildah commit --rm "$container" "$base_name" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
  base_digest=$(buildah inspect --type image --format '{{.FromImageDigest}}' "$base_name")
  pinned="$base_name@$base_digest"
  sg_log "base $pinned"
  build_args+=(--build-arg "BUILD_IMAGE=$pinned" --build-arg "RUNTIME_IMAGE=$pinned"
    --build-arg "BASE_NAME=$base_name" --build-arg "BASE_DIGEST=$base_digest")
fi

mkdir -p build
sg_log "buildah bud -f deploy/Containerfile -t $tag (revision $revision)"
# chroot isolation on the host's network: no OCI runtime needed, and nothing is set up on the
# host (a private build network would add a bridge and firewall rules to the host). The RUN
# steps only download Debian packages.
buildah bud --isolation chroot --network host --layers=false -f deploy/Containerfile -t "$tag" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  --build-arg "SOURCE=$source_url" --build-arg "CREATED=$created" \
  "${build_args[@]}" . >build/image.log 2>&1 || { tail -n 40 build/image.log >&2; exit 1; }

sg_log "the image"
buildah images --format '{{.Name}}:{{.Tag}} {{.ID}} {{.Size}}' "$tag"
buildah inspect --type image --format '{{range $k, $v := .ImageAnnotations}}{{$k}}={{$v}}{{"\n"}}{{end}}{{range $k, $v := .OCIv1.Config.Labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' "$tag" | sort -u
sg_log "sixguard --version in the image"
container=$(buildah from "$tag")
export BUILDAH_ISOLATION=chroot
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
buildah run "$container" -- /usr/local/bin/sixguard --version
buildah run "$container" -- bpftool version | head -n 1
buildah rm "$container" >/dev/null
