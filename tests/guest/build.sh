#!/usr/bin/env bash
# Builds the test guest into OUTDIR (default build/guest): vmlinuz (Debian's
# linux-image-amd64 kernel, the newest /boot/vmlinuz-*-amd64) and initrd.img
# (busybox-static, the kernel modules the tests need in dependency order, the
# init script, the static helper qg). See tests/guest/README.md.
#
# Env: GUEST_KVER (kernel version; default the newest installed),
#      GUEST_EXTRA_MODULES (more module names to load, space separated),
#      CC (host compiler for qg; default cc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/guest}
die() { echo "tests/guest/build.sh: $*" >&2; exit 1; }
# A missing prerequisite is not a build error: the guest tests skip, naming
# it (they read OUTDIR/MISSING). Exit 77 tells make to carry on.
missing() {
        mkdir -p "$out"
        rm -f "$out/initrd.img" "$out/vmlinuz"
        echo "$*" >"$out/MISSING"
        echo "tests/guest/build.sh: test guest not built: $*" >&2
        exit 77
}

if [ -z "${GUEST_KVER:-}" ]; then
        kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n1) ||
                true
        [ -n "$kernel" ] || missing "no /boot/vmlinuz-*-amd64: install linux-image-amd64"
        GUEST_KVER=${kernel#/boot/vmlinuz-}
fi
kernel=/boot/vmlinuz-$GUEST_KVER
moddir=/lib/modules/$GUEST_KVER
[ -e "$kernel" ] || missing "$kernel: no such kernel (install linux-image-$GUEST_KVER)"
[ -r "$kernel" ] || missing "$kernel: not readable (Debian installs it 0600: build as root)"
[ -d "$moddir" ] || missing "$moddir: missing (linux-image-$GUEST_KVER modules)"
[ -x /bin/busybox ] || missing "/bin/busybox missing: install busybox-static"
command -v modinfo >/dev/null || missing "modinfo missing: install kmod"
command -v cpio >/dev/null || missing "cpio missing: install cpio"

# What the tests need, by name; dependencies are added from `modinfo -F
# depends`, so a kernel update that splits or merges modules still works.
# virtio_pci for the balloon and virtio-mem devices; pvpanic_mmio drives the
# ISA pvpanic device (ACPI QEMU0001), pvpanic_pci the PCI one; button turns
# the ACPI power button into KEY_POWER and evdev gives it /dev/input/eventN.
# efivarfs: the UEFI tests read and write EFI variables (firmware-uefi.sh);
# virtiofs and 9p (9pnet_virtio): shared folders; vmw_vsock_virtio_transport:
# vsock. Each only binds to a device the VM has.
wanted="virtio_pci virtio_balloon virtio_mem pvpanic_mmio pvpanic_pci button evdev efivarfs virtiofs 9p 9pnet_virtio vmw_vsock_virtio_transport ${GUEST_EXTRA_MODULES:-}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}

seen=" "
order=()
add_module() { # name, with the chain that asked for it (cycle guard)
        local m=${1//-/_} chain=$2 deps d file
        case $seen in *" $m "*) return ;; esac
        case " $chain " in *" $m "*) die "module dependency cycle: $chain $m" ;; esac
        file=$(modinfo -k "$GUEST_KVER" -n "$m" 2>/dev/null) || die "module $m: not found for $GUEST_KVER"
        seen="$seen$m "
        if [ "$file" = "(builtin)" ]; then return; fi
        deps=$(modinfo -k "$GUEST_KVER" -F depends "$m")
        for d in ${deps//,/ }; do add_module "$d" "$chain $m"; done
        order+=("$m $file $deps")
}
for m in $wanted; do add_module "$m" ""; done
# The guest agent's port driver, loaded by the init only when the VM has a
# virtio-serial device (so the other tests boot as fast as before).
n_always=${#order[@]}
add_module virtio_console ""

# busybox insmod takes a plain .ko: decompress what the kernel package
# compressed (Debian 12's 6.1 ships plain .ko; later kernels use .ko.xz/.zst).
: >"$root/lib/modules/order"
: >"$root/lib/modules/order.agent"
i=0
for entry in "${order[@]}"; do
        read -r m file deps <<<"$entry"
        dst=$root/lib/modules/$m.ko
        case $file in
        *.ko) cp "$file" "$dst" ;;
        *.ko.xz) xz -dc "$file" >"$dst" ;;
        *.ko.zst) zstd -qdc "$file" >"$dst" ;;
        *.ko.gz) gzip -dc "$file" >"$dst" ;;
        *) die "module $m: unknown file type $file" ;;
        esac
        if [ $i -lt $n_always ]; then list=order; else list=order.agent; fi
        echo "$m ${deps:--}" >>"$root/lib/modules/$list"
        i=$((i + 1))
done

# The real QEMU guest agent (Debian's qemu-guest-agent) with the shared
# libraries ldd names, at the paths the loader looks for them. Without the
# package the guest is built without it and the agent tests skip.
if [ -x /usr/sbin/qemu-ga ] && command -v ldd >/dev/null; then
        mkdir -p "$root/sbin"
        cp -L /usr/sbin/qemu-ga "$root/sbin/qemu-ga"
        for lib in $(ldd /usr/sbin/qemu-ga | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
        # qemu-ga's guest-shutdown runs /sbin/shutdown -h -P +0 "..."
        install -m 0755 "$here/shutdown" "$root/sbin/shutdown"
        echo "qemu-ga $(dpkg-query -W -f '${Version}' qemu-guest-agent 2>/dev/null || echo unknown)" >"$root/lib/agent"
else
        echo "no /usr/sbin/qemu-ga: install qemu-guest-agent" >"$out.agent-missing.tmp"
fi

cp /bin/busybox "$root/bin/busybox"
"${CC:-cc}" -static -O2 -Wall -Wextra -Werror -o "$root/bin/qg" "$here/qg.c"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/hotplug" "$root/bin/qg-hotplug"

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$tmp/initrd.img"
cp "$kernel" "$tmp/vmlinuz"
echo "$GUEST_KVER" >"$tmp/kernel-version"
mv "$tmp/vmlinuz" "$out/vmlinuz"
mv "$tmp/kernel-version" "$out/kernel-version"
rm -f "$out/MISSING"
if [ -f "$out.agent-missing.tmp" ]; then mv "$out.agent-missing.tmp" "$out/AGENT-MISSING"; else rm -f "$out/AGENT-MISSING"; fi
mv "$tmp/initrd.img" "$out/initrd.img" # last: make's target
