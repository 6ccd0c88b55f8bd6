#!/usr/bin/env bash
# Builds the Debian 12 test image into OUTDIR (default build/debian-image):
#   base.qcow2  ext4 root file system (label "root", no partition table, no
#               bootloader): systemd, cloud-init (NoCloud only),
#               qemu-guest-agent, openssh-server, the Debian cloud kernel
#   vmlinuz, initrd.img  the image's own kernel and initramfs, for direct
#               kernel boot with KERNEL_ARGS (below)
#   RECIPE      the checksum of this recipe (make rebuilds when it changes)
# Packages come from the machine's configured Debian sources (the only network
# the CI machine has). A missing prerequisite is not a build error: the tests
# that need the image skip, naming it (OUTDIR/MISSING); exit 77.
# See tests/debian-image/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/debian-root.sh"
out=${1:-build/debian-image}
suite=${DEBIAN_IMAGE_SUITE:-bookworm}
size=${DEBIAN_IMAGE_SIZE:-3G}

missing() {
        mkdir -p "$out"
        rm -f "$out/base.qcow2" "$out/vmlinuz" "$out/initrd.img"
        echo "$*" >"$out/MISSING"
        echo "tests/debian-image/build.sh: Debian image not built: $*" >&2
        exit 77
}
command -v mmdebstrap >/dev/null || missing "mmdebstrap missing: install mmdebstrap"
command -v mkfs.ext4 >/dev/null || missing "mkfs.ext4 missing: install e2fsprogs"
command -v qemu-img >/dev/null || missing "qemu-img missing: install qemu-utils"
[ "$(id -u)" = 0 ] || missing "needs root (mmdebstrap root mode, file ownership in the image)"
sources=$(debian_sources)

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/qemuctl-debian-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# What the guest needs and nothing more: the cloud kernel (virtio drivers, fewer
# modules than linux-image-amd64), ifupdown + isc-dhcp-client (cloud-init's
# Debian network renderer), no docs, man pages or translations.
debian_mmdebstrap tests/debian-image/build.sh "$suite" "$root" "$sources" "$tmp/mmdebstrap.log" \
        "$here/packages" --customize-hook="\"$here/customize.sh\" \"\$1\""

kver=$(ls "$root"/boot/vmlinuz-* | sed 's,.*/vmlinuz-,,' | sort -V | tail -n1)
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
# An ext4 file system made from the directory: no loop device, no mount.
mkfs.ext4 -q -L root -d "$root" -F "$tmp/base.raw" "$size"
qemu-img convert -f raw -O qcow2 "$tmp/base.raw" "$tmp/base.qcow2"
chmod 0444 "$tmp/base.qcow2"
chmod 0644 "$tmp/vmlinuz" "$tmp/initrd.img"
rm -f "$out/MISSING"
mv -f "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/base.qcow2" "$out/"
echo "$kver" >"$out/KERNEL_VERSION"
cat "$here"/* "$here/../lib/debian-root.sh" | sha256sum | cut -d' ' -f1 >"$out/RECIPE"
echo "tests/debian-image/build.sh: $out/base.qcow2 ($(du -h "$out/base.qcow2" | cut -f1), kernel $kver)"
