#!/usr/bin/env bash
# Disk images decide nothing the VM file did not say (issue 9, part 2):
# a header naming a backing file is refused by validate, cmdline and start
# alike; what cmdline emits makes a real QEMU open no backing file even when
# a header names one after the check; other container formats open with
# their own driver; a block device (a loop device) opens with host_device;
# a FIFO is refused at once. Images are made by qemu-img. TAP output; 77 = skip.
set -u
QEMU=${QEMU_BINARY:-qemu-system-x86_64}
QEMUCTL=${QEMUCTL:-./qemuctl}
for tool in "$QEMU" qemu-img python3; do
        if ! command -v "$tool" >/dev/null; then
                echo "1..0 # SKIP $tool not installed"
                exit 77
        fi
done
n=0 fails=0
check() { # description, then a command that must succeed
        local d=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fails=$((fails + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
all() { # every argument is a shell condition; all must hold
        local c
        for c; do eval "$c" || return 1; done
}
T=$(mktemp -d /tmp/qemuctl-disk-images.XXXXXX)
loop= qpid=
cleanup() {
        [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
        [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
export QEMUCTL_RUNDIR=$T/run
name=dimg$$

# a file only its owner may read: what a guest must never get
printf 'root only\n' >"$T/secret"
chmod 600 "$T/secret"

vmfile() { # file, format ("" = auto), [more keys] -> $T/vm.json, the disk on line 4
        local fmt=
        [ -n "$2" ] && fmt=", \"format\": \"$2\""
        fmt="$fmt, ${3:-\"bus\": \"virtio\"}"
        cat >"$T/vm.json" <<EOF
{ "name": "$name", "accel": "tcg", "memory": { "size": "64M" },
  "serial": "none",
  "disks": [
    { "file": "$1"$fmt }
  ]
}
EOF
}

# ---- a raw disk whose guest wrote a qcow2 header naming the secret ----
qemu-img create -q -f qcow2 -b "$T/secret" -F raw "$T/evil.qcow2" 8M
truncate -s 8M "$T/guest.raw"
dd if="$T/evil.qcow2" of="$T/guest.raw" bs=64k count=1 conv=notrunc status=none
for fmt in "" qcow2 raw; do
        what=${fmt:-auto}
        vmfile guest.raw "$fmt"
        out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
        check "$what: validate refuses a header naming a backing file" [ $rc = 1 ]
        check "$what: at the disk's place, naming the backing path" \
                grep -q "^$T/vm.json:4:[0-9]*: disks\[0\]\.\(file\|format\): .*$T/secret" <<<"$out"
        out=$("$QEMUCTL" cmdline "$T/vm.json" 2>&1 >/dev/null); rc=$?
        check "$what: cmdline refuses it too, at the same place" all '[ $rc != 0 ]' \
                'grep -q "^$T/vm.json:4:[0-9]*: disks\[0\]\..*$T/secret" <<<"$out"'
        out=$("$QEMUCTL" start "$T/vm.json" 2>&1); rc=$?
        check "$what: and start, before any QEMU runs" all '[ $rc != 0 ]' \
                'grep -q "^qemuctl: start: $T/vm.json:4:[0-9]*: disks\[0\]\..*$T/secret" <<<"$out"' \
                '! pgrep -f "guest=$name," >/dev/null'
done
vmfile guest.raw raw
out=$("$QEMUCTL" validate "$T/vm.json")
check "raw declared: says the guest likely wrote it and how to check" \
        grep -q "most likely the guest wrote this.*qemu-img info -f raw $T/guest.raw" <<<"$out"
check "raw declared: never tells to drop \"format\"" bash -c '! grep -qi "leave it out\|remove \"format\"" <<<"$1"' _ "$out"

# ---- what cmdline emits, run by a real QEMU ----
# The disk args of `qemuctl cmdline FILE`, one per line, for QEMU alone.
disk_args() {
        "$QEMUCTL" cmdline "$T/vm.json" | python3 -c '
import sys
a = sys.stdin.read().splitlines()
for i in range(len(a) - 1):
    if a[i] in ("-blockdev", "-drive") or (a[i] == "-device" and "drive=disk" in a[i + 1]):
        print(a[i]); print(a[i + 1])'
}
# Start QEMU paused with those args; print query-named-block-nodes as
# "node-name driver file backing_file_depth" lines.
nodes() {
        local args=()
        mapfile -t args
        rm -f "$T/qmp.sock"
        "$QEMU" -accel tcg -M q35 -S -nodefaults -display none -m 64M \
                -qmp "unix:$T/qmp.sock,server=on,wait=off" "${args[@]}" 2>"$T/qemu.err" &
        qpid=$!
        for _ in $(seq 200); do [ -S "$T/qmp.sock" ] && break; kill -0 $qpid 2>/dev/null || break; sleep 0.05; done
        kill -0 $qpid 2>/dev/null || sed 's/^/# QEMU: /' "$T/qemu.err" >&2
        "$QEMUCTL" qmp --json --socket "$T/qmp.sock" query-named-block-nodes '{"flat": true}' | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    print(n["node-name"], n["drv"], n["file"], n["backing_file_depth"])'
        kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; qpid=
}

qemu-img create -q -f qcow2 "$T/good.qcow2" 8M
vmfile good.qcow2 ""
disk_args >"$T/args"; rc=$?
check "a clean qcow2: cmdline gives its -blockdev args, backing null" all '[ $rc = 0 ]' \
        "grep -q '\"backing\":null' $T/args"
# the header changes after the check (another writer of the image): QEMU
# still opens no backing file
qemu-img rebase -q -u -f qcow2 -b "$T/secret" -F raw "$T/good.qcow2"
out=$(nodes <"$T/args")
check "real QEMU: the qcow2 node is open" grep -q "^disk0-format qcow2 " <<<"$out"
check "real QEMU: no node opened the backing file the header names now" bash -c '! grep -q "secret" <<<"$1"' _ "$out"
check "real QEMU: backing depth 0" grep -q "^disk0-format qcow2 .* 0$" <<<"$out"

# the same for a throwaway disk (-drive snapshot=on, where "backing=" is null)
qemu-img create -q -f qcow2 "$T/snap.qcow2" 8M
vmfile snap.qcow2 "" '"snapshot": true, "bus": "virtio"'
disk_args >"$T/args"
check "snapshot: cmdline gives -drive with backing= (null)" grep -q '^if=none,.*,format=qcow2,snapshot=on,backing=' "$T/args"
qemu-img rebase -q -u -f qcow2 -b "$T/secret" -F raw "$T/snap.qcow2"
out=$(nodes <"$T/args")
check "snapshot, real QEMU: the image's qcow2 node is open (under its temporary overlay)" grep -q " qcow2 .*$T/snap.qcow2" <<<"$out"
check "snapshot, real QEMU: no node opened the backing file the header names now" bash -c '! grep -q "secret" <<<"$1"' _ "$out"

# ---- the other formats qemuctl opens: their own driver, in a real QEMU ----
for fmt in qed vdi vhdx vpc parallels; do
        if ! qemu-img create -q -f $fmt "$T/img.$fmt" 8M 2>/dev/null; then
                skip "$fmt opens with its driver" "qemu-img cannot make $fmt"
                continue
        fi
        vmfile "img.$fmt" ""
        out=$(disk_args | nodes)
        check "$fmt (auto): a real QEMU opens it with the $fmt driver" grep -q "^disk0-format $fmt " <<<"$out"
done
qemu-img create -q -f vmdk "$T/old.vmdk" 8M
vmfile old.vmdk ""
out=$("$QEMUCTL" validate "$T/vm.json")
check "vmdk: refused with the convert line" grep -qF "qemu-img convert -f vmdk -O qcow2 $T/old.vmdk $T/old.qcow2" <<<"$out"

# ---- a FIFO: refused at once, never a hang ----
mkfifo "$T/fifo"
vmfile fifo raw
out=$(timeout 10 "$QEMUCTL" validate "$T/vm.json"); rc=$?
check "FIFO: validate answers (no hang) and refuses" all '[ $rc = 1 ]' \
        'grep -q "named pipe (FIFO), not a disk image" <<<"$out"'

# ---- a block device: a loop device over a qcow2 file ----
qemu-img create -q -f qcow2 "$T/lo.qcow2" 8M
if loop=$(losetup --find --show "$T/lo.qcow2" 2>"$T/losetup.err"); then
        vmfile "$loop" ""
        out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
        check "loop device: validate says ok" [ $rc = 0 ]
        disk_args >"$T/args"
        check "loop device: cmdline uses host_device, and the header's format" all \
                'grep -q "^driver=host_device,node-name=disk0-file,filename=$loop" "$T/args"' \
                "grep -q '\"driver\":\"qcow2\"' $T/args"
        out=$(nodes <"$T/args")
        check "loop device: a real QEMU opens it (host_device under qcow2)" all \
                'grep -q "^disk0-file host_device $loop " <<<"$out"' 'grep -q "^disk0-format qcow2 " <<<"$out"'
        vmfile "$loop" "" '"media": "cdrom"'
        disk_args >"$T/args"
        # host_cdrom is for CD-ROM drives: on a loop device it finds "No medium"
        check "loop device as a cdrom: host_device (it is no CD-ROM drive)" \
                grep -q "^driver=host_device,node-name=disk0-file,filename=$loop,read-only=on" "$T/args"
        out=$(nodes <"$T/args")
        check "loop device as a cdrom: a real QEMU opens it, and reads its header" \
                grep -q "^disk0-format qcow2 " <<<"$out"
else
        skip "loop device works" "losetup not permitted here: $(head -c 200 "$T/losetup.err")"
        loop=
fi

echo "1..$n"
[ $fails = 0 ]
