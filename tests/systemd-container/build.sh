#!/usr/bin/env bash
# Builds the root file system that tests/integration/systemd-units.sh boots
# with `systemd-nspawn -b`: Debian 12 minbase with systemd as PID 1, QEMU,
# and the libraries qemuctl links, into OUTDIR (default
# build/systemd-container):
#   root/    the tree (read-only to the test: it boots it --volatile=overlay)
#   RECIPE   the checksum of this recipe (the test rebuilds when it changes)
# A machine-id of its own, so no boot is a first boot (that would apply
# Debian's "enable everything" presets to the units under test); no waiting
# for a network nobody configured.
# Packages come from the machine's configured Debian sources. A missing
# prerequisite is not a build error: OUTDIR/MISSING names it; exit 77.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/debian-root.sh"
out=${1:-build/systemd-container}
suite=${SYSTEMD_CONTAINER_SUITE:-bookworm}

missing() {
        mkdir -p "$out"
        echo "$*" >"$out/MISSING"
        echo "tests/systemd-container/build.sh: not built: $*" >&2
        exit 77
}
command -v mmdebstrap >/dev/null || missing "mmdebstrap missing: install mmdebstrap"
[ "$(id -u)" = 0 ] || missing "needs root (mmdebstrap root mode, file ownership in the tree)"
sources=$(debian_sources)

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
debian_mmdebstrap tests/systemd-container/build.sh "$suite" "$tmp/root" "$sources" "$tmp/mmdebstrap.log" \
        "$here/packages" \
        --aptopt='APT::Install-Recommends "false"' \
        --customize-hook='echo qemuctl-test >"$1/etc/hostname"' \
        --customize-hook='tr -d - </proc/sys/kernel/random/uuid >"$1/etc/machine-id"' \
        --customize-hook='rm -f "$1"/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service'
rm -rf "$out/root" "$out/MISSING"
mv "$tmp/root" "$out/root"
cat "$here"/build.sh "$here"/packages "$here/../lib/debian-root.sh" | sha256sum | cut -d' ' -f1 >"$out/RECIPE"
echo "tests/systemd-container/build.sh: $out/root ($(du -sh "$out/root" | cut -f1))"
