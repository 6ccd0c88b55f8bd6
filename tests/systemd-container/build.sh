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
sources=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -s "$f" ] && { sources=$f; break; }
done
[ -n "$sources" ] || missing "no Debian apt sources configured (/etc/apt/sources.list.d/debian.sources)"

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pkgs=$(grep -v '^#' "$here/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
if ! mmdebstrap --variant=minbase --include="$pkgs" \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook='echo qemuctl-test >"$1/etc/hostname"' \
        --customize-hook='tr -d - </proc/sys/kernel/random/uuid >"$1/etc/machine-id"' \
        --customize-hook='rm -f "$1"/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service' \
        "$suite" "$tmp/root" "$sources" >"$tmp/mmdebstrap.log" 2>&1; then
        tail -20 "$tmp/mmdebstrap.log" >&2
        grep -qiE 'could not resolve|failed to fetch|unable to connect|temporary failure' \
                "$tmp/mmdebstrap.log" &&
                missing "mmdebstrap could not fetch packages from $sources (no apt network?)"
        echo "tests/systemd-container/build.sh: mmdebstrap failed (log above)" >&2
        exit 1
fi
rm -rf "$out/root" "$out/MISSING"
mv "$tmp/root" "$out/root"
cat "$here"/build.sh "$here"/packages | sha256sum | cut -d' ' -f1 >"$out/RECIPE"
echo "tests/systemd-container/build.sh: $out/root ($(du -sh "$out/root" | cut -f1))"
