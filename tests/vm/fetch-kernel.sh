#!/bin/bash
# fetch-kernel.sh SUITE
#
# Downloads the newest linux-image-*-amd64 of Debian SUITE (bullseye, bookworm, trixie)
# into the cache and prints the directory holding it, ready to boot:
#   DIR/vmlinuz           the kernel
#   DIR/modules/          its lib/modules/KVER tree, with modules.dep made by depmod
#   DIR/version           KVER
# apt runs on a private sources list, state and cache under the cache directory: the
# system's apt configuration and state are never touched. The mirror is the one the
# system's own sources already use (SIXGUARD_VM_MIRROR overrides it).
#
# Environment: SIXGUARD_VM_CACHE (default /var/cache/sixguard-vm, or
# ~/.cache/sixguard-vm when that is not writable); SIXGUARD_VM_REFRESH=1 re-reads the
# package lists even when the cached kernel is recent (otherwise lists are refreshed
# after 7 days; a failed refresh with a kernel in the cache keeps that kernel).
set -euo pipefail

suite=${1:?usage: fetch-kernel.sh SUITE}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/lib.sh"

cache=$(vm_cache_dir)/$suite
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/deb"
exec 9>"$cache/.lock"
flock 9 # two runs of the same suite at once share one download

log() { echo "fetch-kernel[$suite]: $*" >&2; }

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || {
    log "missing $keyring (apt-get install debian-archive-keyring)"
    exit 1
}
mirror=${SIXGUARD_VM_MIRROR:-$(vm_system_debian_mirror)} || {
    log "cannot find the Debian mirror in /etc/apt/sources.list(.d); set SIXGUARD_VM_MIRROR"
    exit 1
}
echo "deb [signed-by=$keyring] $mirror $suite main" >"$cache/apt/sources.list"
touch "$cache/apt/status"
apt_private=(
    -o "Dir::Etc::SourceList=$cache/apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$cache/apt/lists"
    -o "Dir::State::Status=$cache/apt/status"
    -o "Dir::Cache=$cache/apt/cache"
    -o APT::Architecture=amd64
    -o APT::Sandbox::User=root
    -q
)

ready=$cache/kernel/version
lists_stamp=$cache/apt/lists.stamp
if [[ -f $ready && -f $lists_stamp && ${SIXGUARD_VM_REFRESH:-0} != 1 ]] &&
    [[ -n $(find "$lists_stamp" -mtime -7) ]]; then
    echo "$cache/kernel"
    exit 0
fi

if apt-get "${apt_private[@]}" update >"$cache/apt/update.log" 2>&1; then
    touch "$lists_stamp"
elif [[ -f $ready ]]; then
    log "apt-get update failed (see $cache/apt/update.log); using the cached kernel"
    echo "$cache/kernel"
    exit 0
else
    log "apt-get update failed:"
    cat "$cache/apt/update.log" >&2
    exit 1
fi

# linux-image-amd64 is the metapackage; it depends on the suite's current image package.
package=$(apt-cache "${apt_private[@]}" depends linux-image-amd64 |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
[[ -n $package ]] || {
    log "no linux-image-amd64 dependency found in $suite"
    exit 1
}
version=$(apt-cache "${apt_private[@]}" show "$package" | awk '$1 == "Version:" { print $2; exit }')
stamp="$package $version"
if [[ -f $ready && -f $cache/kernel/package && $(cat "$cache/kernel/package") == "$stamp" ]]; then
    echo "$cache/kernel"
    exit 0
fi

log "downloading $package $version from $mirror"
rm -f "$cache"/deb/*.deb
(cd "$cache/deb" && apt-get "${apt_private[@]}" download "$package" >&2)
deb=$(ls "$cache"/deb/*.deb)

rm -rf "$cache/kernel" "$cache/kernel.new"
mkdir -p "$cache/kernel.new/root"
dpkg-deb -x "$deb" "$cache/kernel.new/root"
root=$cache/kernel.new/root
# bullseye and bookworm ship lib/modules, trixie (merged /usr) usr/lib/modules.
if [[ -d $root/usr/lib/modules && ! -e $root/lib/modules ]]; then
    mkdir -p "$root/lib"
    ln -s ../usr/lib/modules "$root/lib/modules"
fi
kver=$(ls "$root/lib/modules/")
[[ $(wc -w <<<"$kver") == 1 ]] || {
    log "expected one module tree in $deb, found: $kver"
    exit 1
}
depmod -b "$root" "$kver"
ln -s "root/boot/vmlinuz-$kver" "$cache/kernel.new/vmlinuz"
ln -s "root/lib/modules/$kver" "$cache/kernel.new/modules"
echo "$stamp" >"$cache/kernel.new/package"
echo "$kver" >"$cache/kernel.new/version"
mv "$cache/kernel.new" "$cache/kernel"
rm -f "$deb" # the extracted tree is what is used; the .deb is 50-110 MB
echo "$cache/kernel"
