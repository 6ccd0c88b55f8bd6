#!/usr/bin/env bash
# The real Debian 12 guest (tests/debian-image, `make debian-image`), booted
# once under TCG for many checks (issue 16, items 1 and 2): its disk is an
# overlay that start creates on the read-only base image ("backing"), and
# cloud-init is configured from the VM file (cloud_init: a NoCloud seed
# built at start). After boot: hostname applied, a user with an SSH key made
# by this test logs in through a forwarded port on 127.0.0.1 (host port 0:
# picked at start, read back with `qemuctl port`), a runcmd from
# the VM file ran; after a clean stop the base image's checksum is the same
# and the writes are in the overlay. TAP output; 77 = skip.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/lib/debian-image.sh"
debian_image_require debian-image ssh ssh-keygen python3
name=deb$$
cleanup() { "$QEMUCTL" kill "$name" >/dev/null 2>&1; }

ssh-keygen -q -t ed25519 -N '' -C "qemuctl-test" -f "$T/id"
key=$(cat "$T/id.pub")
token=ran-$RANDOM$RANDOM

cat >"$T/user-data" <<EOF
#cloud-config
hostname: ci-$name
users:
  - name: tester
    shell: /bin/bash
    ssh_authorized_keys:
      - $key
runcmd:
  - echo $token > /var/tmp/runcmd-result
EOF
cat >"$T/vm.json" <<EOF
{ "name": "$name", "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 2 },
  "memory": { "size": "1G" },
  "disks": [ { "file": "overlay.qcow2", "backing": "$img/base.qcow2", "cache": "unsafe" } ],
  "cloud_init": { "user_data": "user-data" },
  "net": [ { "type": "user", "model": "virtio", "forward": ["tcp:127.0.0.1:0:22"] } ],
  "boot": { "kernel": "$img/vmlinuz", "initrd": "$img/initrd.img",
            "cmdline": "root=LABEL=root rw console=ttyS0" },
  "serial": "log" }
EOF

out=$("$QEMUCTL" validate "$T/vm.json" 2>&1); rc=$?
check "validate: the VM file with a base image and cloud-init is valid" [ $rc = 0 ]
out=$("$QEMUCTL" start "$T/vm.json" 2>&1); rc=$?
check "start (creates the overlay, builds the seed)" [ $rc = 0 ]
check "the overlay exists on the base" [ -f "$T/overlay.qcow2" ]
check "the seed is in the state dir" [ -s "$T/run/$name/cidata.iso" ]
# the forward's host port, picked by the kernel at start
port=$("$QEMUCTL" port "$name" 22 2>/dev/null | cut -d: -f2)
"$QEMUCTL" wait --for 'serial:Cloud-init v\. .* finished' --timeout 400 "$name" >/dev/null 2>&1; rc=$?
check "cloud-init finished (NoCloud seed found)" bash -c '[ $1 = 0 ] && ! grep -q "Datasource DataSourceNone" "$2"' _ $rc "$T/run/$name/serial.log"

sshc() {
        ssh -q -i "$T/id" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o BatchMode=yes -o ConnectTimeout=20 tester@127.0.0.1 "$@"
}
got=
for _ in $(seq 30); do got=$(sshc 'echo "$(hostname) $(cat /var/tmp/runcmd-result)"' 2>/dev/null) && break; sleep 2; done
check "SSH login as the cloud-init user with the test's key (forwarded port)" [ -n "$got" ]
check "cloud-init applied the hostname" [ "${got%% *}" = "ci-$name" ]
check "the runcmd from the VM file ran" [ "${got#* }" = "$token" ]

"$QEMUCTL" stop --timeout 120 "$name" >/dev/null 2>&1; rc=$?
check "stop: the guest powers off cleanly (ACPI, logind)" [ $rc = 0 ]
"$QEMUCTL" kill "$name" >/dev/null 2>&1
check "the base image's checksum is unchanged" [ "$(sha256sum <"$img/base.qcow2")" = "$sum0" ]
alloc=$(qemu-img map --output=json -f qcow2 "$T/overlay.qcow2" | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"] == 0 and e["data"]))')
check "the guest's writes are in the overlay" [ "$alloc" -gt 0 ]

echo "1..$n"
[ $failed = 0 ]
