#!/bin/bash
# build-initramfs.sh MODULE_DIR OUTPUT MODULE...
#
# Builds the test VM's initramfs (gzip'd newc cpio) from busybox-static, tests/vm/init and
# the named kernel modules of MODULE_DIR (a kernel's lib/modules/KVER tree with a
# modules.dep, see fetch-kernel.sh). Each module's dependencies come from modules.dep and
# are loaded before it; compressed modules (.ko.xz, .ko.zst) are decompressed here because
# busybox insmod does not read them. A module built into the kernel (modules.builtin) is
# skipped; a module the kernel does not have is reported and skipped.
set -euo pipefail

if (($# < 2)); then
    echo "usage: $0 MODULE_DIR OUTPUT MODULE..." >&2
    exit 2
fi
module_dir=$1
output=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=$(command -v busybox) || {
    echo "build-initramfs: busybox not found (apt-get install busybox-static)" >&2
    exit 1
}
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' &&
    ldd "$busybox" >/dev/null 2>&1; then
    echo "build-initramfs: $busybox is dynamically linked (apt-get install busybox-static)" >&2
    exit 1
fi

staging=$(mktemp -d /tmp/sg-vm-initramfs.XXXXXX)
trap 'rm -rf "$staging"' EXIT

# Module name as the kernel spells it (dashes and underscores are the same), into $name;
# no subshell: modules.dep has thousands of lines.
canonical() { name=${1##*/}; name=${name%%.ko*}; name=${name//-/_}; }

declare -A path_of deps_of builtin emitted
while IFS=: read -r module deps; do
    canonical "$module"
    path_of[$name]=$module
    deps_of[$name]=$deps
done <"$module_dir/modules.dep"
while read -r module; do
    canonical "$module"
    builtin[$name]=1
done <"$module_dir/modules.builtin"

# Module parameters: no default dummy0 device in the guest (tests make their own).
declare -A params=([dummy]="numdummies=0")

order=()
add_module() { # depth-first: every dependency before the module that needs it
    local name dep
    canonical "$1"
    [[ -z ${emitted[$name]:-} ]] || return 0
    emitted[$name]=1
    if [[ -n ${builtin[$name]:-} ]]; then
        return 0
    fi
    if [[ -z ${path_of[$name]:-} ]]; then
        echo "build-initramfs: module $name is not in this kernel, skipped" >&2
        return 0
    fi
    for dep in ${deps_of[$name]}; do
        add_module "$dep"
    done
    order+=("$name")
}
for module in "$@"; do
    add_module "$module"
done

mkdir -p "$staging"/{bin,sbin,dev,proc,sys,lib/modules,host,rw,newroot}
cp "$busybox" "$staging/bin/busybox"
ln -s busybox "$staging/bin/sh"
install -m 0755 "$here/init" "$staging/init"
: >"$staging/lib/modules/load-order"
for name in "${order[@]}"; do
    src="$module_dir/${path_of[$name]}"
    dst="$staging/lib/modules/$name.ko"
    case "$src" in
    *.ko.xz) xz -dc "$src" >"$dst" ;;
    *.ko.zst) zstd -qdc "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
    *) cp "$src" "$dst" ;;
    esac
    echo "$name.ko ${params[$name]:-}" >>"$staging/lib/modules/load-order"
done

(cd "$staging" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$output.tmp"
mv "$output.tmp" "$output"
echo "build-initramfs: ${#order[@]} modules: ${order[*]}" >&2
