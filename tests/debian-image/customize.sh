#!/bin/sh
# mmdebstrap customize hook of tests/debian-image/build.sh: $1 is the root.
set -eu
r=$1
# The root file system carries the label the kernel command line names.
echo 'LABEL=root / ext4 defaults 0 1' >"$r/etc/fstab"
# NoCloud only: cloud-init probes no cloud metadata service (slow under TCG,
# and there is none).
cat >"$r/etc/cloud/cloud.cfg.d/90-qemuctl.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
CFG
# Per instance: a machine id made at first boot, SSH host keys made by
# cloud-init (never shared by every VM made from this image).
: >"$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id" "$r"/etc/ssh/ssh_host_*
# No hostname baked in: cloud-init sets it from meta-data.
: >"$r/etc/hostname"
