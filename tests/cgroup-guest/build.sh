#!/usr/bin/env bash
# Builds the cgroup guest ("outer" guest) into OUTDIR (default
# build/cgroup-guest): an initramfs holding qemuctl, qemu-system-x86_64 with
# every shared library and data file it needs for a TCG q35/pc VM, busybox,
# the test guest (build/guest: the "inner" guest qemuctl starts) and the
# in-guest test script. Booted with Debian's kernel (build/guest/vmlinuz), it
# gives qemuctl a real cgroup v2 with every controller, which this hybrid host
# lacks. See tests/cgroup-guest/README.md.
#
# Env: QEMUCTL (the qemuctl binary; default ./qemuctl), QEMUCTL_BUILD (build
#      dir: the test guest and the unit tests; default build),
#      QEMU (default /usr/bin/qemu-system-x86_64).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/cgroup-guest}
build=${QEMUCTL_BUILD:-build}
qemuctl=${QEMUCTL:-./qemuctl}
qemu=${QEMU:-/usr/bin/qemu-system-x86_64}
die() { echo "tests/cgroup-guest/build.sh: $*" >&2; exit 1; }
# Same convention as tests/guest/build.sh: a missing prerequisite is named in
# OUTDIR/MISSING and the build exits 77; the host test then skips with it.
missing() {
        mkdir -p "$out"
        rm -f "$out/initrd.img"
        echo "$*" >"$out/MISSING"
        echo "tests/cgroup-guest/build.sh: cgroup guest not built: $*" >&2
        exit 77
}

[ -f "$build/guest/MISSING" ] && missing "test guest: $(cat "$build/guest/MISSING")"
[ -f "$build/guest/initrd.img" ] && [ -f "$build/guest/vmlinuz" ] ||
        missing "test guest not built ($build/guest): run make guest"
[ -x "$qemu" ] || missing "$qemu missing: install qemu-system-x86"
[ -x /bin/busybox ] || missing "/bin/busybox missing: install busybox-static"
command -v cpio >/dev/null || missing "cpio missing: install cpio"
command -v ldd >/dev/null || missing "ldd missing (libc-bin)"
[ -x "$qemuctl" ] || die "$qemuctl: no qemuctl binary (run make)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
# Debian 12 is merged-/usr, and the loader paths QEMU was linked with say
# /lib64 and /lib/x86_64-linux-gnu: mirror that layout.
mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} "$root"/{dev,proc,sys,tmp,run,etc,root,var/tmp}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

# A file at its own path (symlinks resolved, so a soname link becomes the file).
add_file() { # SRC [DST]
        local src=$1 dst=${2:-$1}
        dst=${dst#/}
        case $dst in lib/* | lib64/* | bin/* | sbin/*) dst=usr/$dst ;; esac
        mkdir -p "$root/$(dirname "$dst")"
        cp -L "$src" "$root/$dst"
}
# An executable or shared object and every library ldd says it needs.
seen_libs=" "
add_elf() { # SRC [DST]
        local lib
        add_file "$@"
        for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
                case $seen_libs in *" $lib "*) continue ;; esac
                seen_libs="$seen_libs$lib "
                add_file "$lib"
        done
}

add_elf "$qemuctl" /usr/bin/qemuctl
add_elf "$qemu" /usr/bin/qemu-system-x86_64
# QEMU 7.2 loads TCG itself as a module, from <bindir>/../lib/<triplet>/qemu.
for m in /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so; do
        [ -f "$m" ] && add_elf "$m"
done
# What QEMU opens for a -nodefaults q35 or pc VM with a direct kernel boot
# (strace -e openat): the SeaBIOS image, the option ROMs for -kernel, the
# TPR patching ROM. vgabios-*, sgabios and pvh.bin for the VMs that ask.
for f in /usr/share/seabios/*.bin /usr/share/seabios/*.aml; do add_file "$f"; done
for f in kvmvapic.bin linuxboot.bin linuxboot_dma.bin multiboot.bin multiboot_dma.bin pvh.bin sgabios.bin; do
        [ -f "/usr/share/qemu/$f" ] && add_file "/usr/share/qemu/$f"
done
# qemu-img: start creates disks a VM file asks for.
command -v qemu-img >/dev/null && add_elf "$(command -v qemu-img)" /usr/bin/qemu-img
add_file /bin/busybox /usr/bin/busybox
# The loader finds the libraries without a cache too, but QEMU's modules and
# any later library dir are found for sure with one.
printf '/usr/lib/x86_64-linux-gnu\n/usr/lib\n' >"$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || true

# The inner guest: kernel + initramfs for the VMs qemuctl starts inside.
mkdir -p "$root/guest"
cp "$build/guest/vmlinuz" "$build/guest/initrd.img" "$root/guest/"
# cgroups/ on a cgroup2 with every controller: its real-QEMU unit test.
if [ -x "$build/tests/test-cgroups-real" ]; then
        add_elf "$build/tests/test-cgroups-real" /cgtest/test-cgroups-real
fi

# bench/cgroup-guest-bench.sh's programs (figure 1 and the cost of a cgroup
# move, on this fresh kernel), when built
for b in bench-start cg-move-wait; do
        [ -x "$build/bench/$b" ] && add_elf "$build/bench/$b" "/cgtest/$b"
done

# A user and group for "security": {"user": "qemu", "group": "qemu"} (glibc
# reads /etc/passwd without nsswitch.conf).
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
qemu:x:107:107:QEMU:/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
qemu:x:107:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"

# The verbs of this qemuctl binary (its own help), for checks of verbs still
# being written.
"$qemuctl" help 2>&1 | awk '/^  [a-z]/ { print "verb", $1 }' >"$root/etc/qemuctl-features"

install -m 0755 "$here/init" "$root/init"
mkdir -p "$root/cgtest"
install -m 0755 "$here/run.sh" "$here/bench.sh" "$root/cgtest/"
install -m 0644 "$here"/checks*.sh "$root/cgtest/"

mkdir -p "$out"
# gzip -1: ~100 MB of QEMU and libraries; build speed beats size here.
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$tmp/initrd.img"
rm -f "$out/MISSING"
# rename, never rewrite in place: another test run may be booting these
cp "$build/guest/vmlinuz" "$tmp/vmlinuz"
mv "$tmp/vmlinuz" "$out/vmlinuz"
mv "$tmp/initrd.img" "$out/initrd.img" # last: make's target
echo "tests/cgroup-guest/build.sh: $out/initrd.img ($(du -h "$out/initrd.img" | cut -f1))"
