#!/usr/bin/env bash
# Installing from CD (issue 13, item 5): boot.once and change-media, with
# real firmware. QEMU's SeaBIOS boots tiny boot images made here: an El
# Torito CD whose boot code writes "CD-A" on the serial port and resets the
# machine, one that writes "CD-B" and halts, and a raw disk whose MBR writes
# "HD" and halts. So the serial log says which medium the firmware booted:
#   - "order": "c", "once": "d" boots the CD first, then (QEMU restores
#     `order` at the reset) the disk: CD-A then HD; without once: HD alone;
#   - an empty CD-ROM drive gets CD-B by change-media, and a reset boots it;
#     dump records it; --eject empties the drive (query-block says so);
#   - a medium whose header names a backing file is refused, naming it, and
#     nothing changes; a disk that is not a CD-ROM is refused.
# TAP output; 77 = skip.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=${QEMUCTL:-./qemuctl}
command -v "$GUEST_QEMU" >/dev/null || tap_skip_all "$GUEST_QEMU not found: install qemu-system-x86"
for tool in genisoimage qemu-img python3; do
        command -v $tool >/dev/null || tap_skip_all "$tool not installed (packages.txt)"
done
T=$(mktemp -d /tmp/qemuctl-boot-media.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
vm=bootmedia$$
cleanup() { "$Q" kill "$vm" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

# 16-bit real-mode code, position independent: mov dx,0x3f8, then per byte
# mov al,B / out dx,al; then either a reset (out 0x64, 0xfe: the keyboard
# controller's reset pulse) or cli; hlt; jmp $-2.
bootcode() { # TEXT reset|halt SIZE
        python3 - "$1" "$2" "$3" <<'PY'
import sys
text, end, size = sys.argv[1] + "\r\n", sys.argv[2], int(sys.argv[3])
c = bytearray(b"\xba\xf8\x03")
for ch in text.encode():
    c += bytes([0xb0, ch, 0xee])
c += b"\xb0\xfe\xe6\x64" if end == "reset" else b""
c += b"\xfa\xf4\xeb\xfd"
c += bytes(size - len(c))
if size == 512:
    c[510:512] = b"\x55\xaa"
sys.stdout.buffer.write(c)
PY
}
mkiso() { # NAME TEXT reset|halt
        mkdir -p "$T/$1.d"
        bootcode "$2" "$3" 2048 >"$T/$1.d/boot.bin"
        genisoimage -quiet -o "$T/$1.iso" -b boot.bin -no-emul-boot -boot-load-size 4 "$T/$1.d"
}
mkiso a CD-A reset
mkiso b CD-B halt
bootcode HD halt 512 >"$T/hd.raw"
truncate -s 1M "$T/hd.raw"

vmfile() { # DISKS BOOT
        cat >"$T/vm.json" <<EOF2
{ "name": "$vm", "accel": "tcg", "memory": { "size": "64M" }, "panic": false,
  "disks": [ $1 ],
  "boot": { $2 } }
EOF2
}
# the console's lines joined by spaces: `wait --for serial:` matches a line
# as soon as it is there, before its CR LF may be
serial() { tr -d '\r' 2>/dev/null <"$QEMUCTL_RUNDIR/$vm/serial.log" | paste -sd ' '; }

# ---- boot.once
vmfile '{ "file": "hd.raw", "format": "raw" }, { "file": "a.iso", "media": "cdrom" }' '"order": "c", "once": "d"'
"$Q" cmdline "$T/vm.json" 2>/dev/null | grep -A1 -x -- -boot | tail -1 | grep -qx 'order=c,once=d'
tap_ok $? "cmdline: -boot order=c,once=d"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with boot.once"
"$Q" wait --for 'serial:^HD' --timeout 120 "$vm"; tap_ok $? "the disk booted in the end"
tap_is "$(serial)" "CD-A HD" "once=d: the CD booted first, then after its reset the disk (order c)"
"$Q" kill "$vm" >/dev/null

vmfile '{ "file": "hd.raw", "format": "raw" }, { "file": "a.iso", "media": "cdrom" }' '"order": "c"'
"$Q" start "$T/vm.json" >/dev/null && "$Q" wait --for 'serial:^HD' --timeout 120 "$vm"
tap_ok $? "without once: the disk boots"
tap_is "$(serial)" "HD" "without once: the CD never booted"
"$Q" kill "$vm" >/dev/null

vmfile '{ "file": "hd.raw", "format": "raw" }' '"once": "dx"'
out=$("$Q" validate "$T/vm.json" 2>&1)
case $out in *"boot.once: expected boot devices as letters"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "validate refuses boot.once \"dx\" ($out)"

# ---- change-media
vmfile '{ "file": "hd.raw", "format": "raw" }, { "media": "cdrom" }' '"order": "d"'
"$Q" validate "$T/vm.json" >/dev/null; tap_ok $? "a cdrom without file (an empty drive) validates"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with an empty CD-ROM drive"
inserted() { # the drive's medium as query-block says: its file, or "empty"
        "$Q" qmp "$vm" query-block | python3 -c '
import json, sys
for b in json.load(sys.stdin):
    if b.get("qdev", "").endswith("disk1") or b.get("qdev") == "disk1":
        print(b["inserted"]["image"]["filename"] if "inserted" in b else "empty"); break
else:
    print("no such device")'
}
tap_is "$(inserted)" empty "query-block: the drive is empty"
out=$("$Q" change-media "$vm" 1 "$T/b.iso" 2>&1); tap_ok $? "change-media NAME 1 b.iso ($out)"
tap_is "$(inserted)" "$T/b.iso" "query-block: b.iso is in"
"$Q" qmp "$vm" query-block | python3 -c '
import json, sys
b = [b for b in json.load(sys.stdin) if b.get("qdev", "").endswith("disk1")][0]
i = b["inserted"]
sys.exit(0 if i["ro"] and i["drv"] == "raw" and b["tray_open"] is False else 1)'
tap_ok $? "read-only, format raw (said, not probed), tray closed"
"$Q" reset "$vm" >/dev/null && "$Q" wait --for 'serial:^CD-B' --timeout 120 "$vm"
tap_ok $? "after a reset the firmware boots the new medium"
"$Q" dump "$vm" >"$T/dump.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["disks"][1]; sys.exit(0 if d["file"]==sys.argv[2] and d.get("format")=="raw" else 1)' \
        "$T/dump.json" "$T/b.iso"
tap_ok $? "dump records disks[1].file and its format"

qemu-img create -q -f qcow2 "$T/base.qcow2" 1M
qemu-img create -q -f qcow2 -b "$T/base.qcow2" -F qcow2 "$T/over.qcow2"
out=$("$Q" change-media "$vm" disk1 "$T/over.qcow2" 2>&1); rc=$?
case $out in *"names a backing file, \"$T/base.qcow2\""*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "a medium whose header names a backing file is refused, naming it (${out:0:200})"
tap_is "$(inserted)" "$T/b.iso" "after the refusal b.iso is still in"
out=$("$Q" change-media "$vm" 0 "$T/b.iso" 2>&1); rc=$?
case $out in *"is a disk, not a CD-ROM"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "a disk that is not a CD-ROM is refused ($out)"
out=$("$Q" change-media "$vm" 1 "$T/a.iso" --insert 2>&1); rc=$?
case $out in *"already holds"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "--insert into a full drive is refused ($out)"
out=$("$Q" change-media "$vm" "$T/b.iso" --eject 2>&1); tap_ok $? "change-media NAME FILE-IN-IT --eject ($out)"
tap_is "$(inserted)" empty "query-block: the drive is empty again"
"$Q" dump "$vm" >"$T/dump2.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["disks"][1]; sys.exit(0 if "file" not in d and d["media"]=="cdrom" else 1)' \
        "$T/dump2.json"
tap_ok $? "dump: the drive is recorded empty"
out=$("$Q" change-media "$vm" 1 "$T/a.iso" --insert 2>&1); tap_ok $? "--insert into the empty drive ($out)"
tap_is "$(inserted)" "$T/a.iso" "query-block: a.iso is in (the node names were reused)"
"$Q" kill "$vm" >/dev/null
tap_done
