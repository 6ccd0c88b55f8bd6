#!/usr/bin/env bash
# A disk's "backing" base image (issue 16, item 1): validate checks the base
# (exists, format, names no file of its own) and an existing overlay (a
# qcow2 made on that base); start creates a missing overlay with qemu-img,
# backing format written explicitly; dump keeps the relation; a real QEMU
# given cmdline's args opens the base read-only through its own node and
# writes land in the overlay only: the base's checksum is unchanged. No
# guest boots (writes go through QEMU's block layer, qemu-io over HMP).
# TAP output; 77 = skip.
set -u
QEMU=${QEMU_BINARY:-qemu-system-x86_64}
QEMUCTL=${QEMUCTL:-./qemuctl}
for tool in "$QEMU" qemu-img qemu-io python3 sha256sum; do
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
all() { local c; for c; do eval "$c" || return 1; done; }
T=$(mktemp -d /tmp/qemuctl-disk-backing.XXXXXX)
qpid=
cleanup() {
        [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
        "$QEMUCTL" kill "$name" >/dev/null 2>&1
        rm -rf "$T"
}
trap cleanup EXIT
export QEMUCTL_RUNDIR=$T/run
name=dback$$

vmfile() { # overlay, base, [extra keys for the disk]
        cat >"$T/vm.json" <<EOF2
{ "name": "$name", "accel": "tcg", "memory": { "size": "64M" },
  "serial": "none",
  "disks": [
    { "file": "$1", "backing": "$2"${3:+, $3} }
  ]
}
EOF2
}

# the base: a qcow2 with known contents, made read-only as a real one would be
qemu-img create -q -f qcow2 "$T/base.qcow2" 16M
qemu-io -f qcow2 -c 'write -q -P 0x5a 0 1M' "$T/base.qcow2" >/dev/null
chmod 0444 "$T/base.qcow2"
sum0=$(sha256sum <"$T/base.qcow2")

# ---- validate ----
vmfile missing-base-overlay.qcow2 nobase.qcow2
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "a missing base: validate error at disks[0].backing" all '[ $rc = 1 ]' \
        'grep -q "^$T/vm.json:4:[0-9]*: disks\[0\]\.backing: base image $T/nobase.qcow2 does not exist" <<<"$out"'

qemu-img create -q -f qcow2 -b "$T/base.qcow2" -F qcow2 "$T/chain.qcow2"
vmfile ov.qcow2 chain.qcow2
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "a base whose header names a backing file: refused, naming it" all '[ $rc = 1 ]' \
        'grep -q "disks\[0\]\.backing: base image $T/chain.qcow2.*naming backing file \"$T/base.qcow2\"" <<<"$out"'

vmfile ov.qcow2 base.qcow2 '"backing_format": "raw"'
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "backing_format contradicting the base's header: error at backing_format" all '[ $rc = 1 ]' \
        'grep -q "disks\[0\]\.backing_format: the VM file says backing_format raw, but base image $T/base.qcow2 is a qcow2" <<<"$out"'

vmfile ov.raw base.qcow2 '"format": "raw"'
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "an overlay is qcow2: format raw refused" all '[ $rc = 1 ]' \
        'grep -q "disks\[0\]\.format: a disk with a base image (\"backing\") is a qcow2 overlay" <<<"$out"'

qemu-img create -q -f qcow2 "$T/other.qcow2" 16M
qemu-img create -q -f qcow2 -b "$T/other.qcow2" -F qcow2 "$T/foreign.qcow2"
vmfile foreign.qcow2 base.qcow2
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "an existing overlay made on another base: refused, naming both" all '[ $rc = 1 ]' \
        'grep -q "overlay $T/foreign.qcow2 was made on base \"$T/other.qcow2\", not on $T/base.qcow2" <<<"$out"'
vmfile other.qcow2 base.qcow2
out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
check "an existing qcow2 with no backing file is no overlay: refused" all '[ $rc = 1 ]' \
        'grep -q "$T/other.qcow2 is a qcow2 with no backing file, not an overlay of base image $T/base.qcow2" <<<"$out"'

vmfile ov.qcow2 base.qcow2
out=$("$QEMUCTL" validate "$T/vm.json" 2>&1); rc=$?
check "a base and a missing overlay: valid" all '[ $rc = 0 ]' '[ ! -e "$T/ov.qcow2" ]'

# ---- what cmdline emits, run by a real QEMU; writes through it ----
# The block nodes only (no device uses them, so HMP qemu-io may write).
"$QEMUCTL" cmdline "$T/vm.json" | python3 -c '
import sys
a = sys.stdin.read().splitlines()
for i in range(len(a) - 1):
    if a[i] == "-blockdev":
        print(a[i]); print(a[i + 1])' >"$T/args"
check "cmdline: the base is a read-only node the overlay names as backing" all \
        "grep -q 'driver=file,node-name=disk0-base-file,filename=$T/base.qcow2.*read-only=on' $T/args" \
        "grep -q '\"node-name\":\"disk0-base\".*\"backing\":null.*\"read-only\":true' $T/args" \
        "grep -q '\"node-name\":\"disk0-format\".*\"backing\":\"disk0-base\"' $T/args"
check "cmdline creates nothing" test ! -e "$T/ov.qcow2"

# start creates the overlay (then the test stops that VM: no guest is needed)
out=$("$QEMUCTL" start "$T/vm.json" 2>&1); rc=$?
check "start creates the missing overlay" all '[ $rc = 0 ]' '[ -f "$T/ov.qcow2" ]'
info=$(qemu-img info --output=json -U "$T/ov.qcow2" 2>&1)
check "the overlay names the base and its format explicitly" all \
        'grep -q "\"backing-filename\": \"$T/base.qcow2\"" <<<"$info"' \
        'grep -q "\"backing-filename-format\": \"qcow2\"" <<<"$info"'
out=$("$QEMUCTL" dump "$name"); rc=$?
check "dump keeps the relation (backing, its path and format)" all '[ $rc = 0 ]' \
        'grep -q "\"backing\": *\"$T/base.qcow2\"" <<<"$out"' \
        'grep -q "\"backing_format\": *\"qcow2\"" <<<"$out"'
"$QEMUCTL" kill "$name" >/dev/null 2>&1
# its QEMU must be gone (it holds the overlay's write lock)
for _ in $(seq 100); do pgrep -f "guest=$name," >/dev/null || break; sleep 0.1; done

mapfile -t args <"$T/args"
rm -f "$T/qmp.sock"
"$QEMU" -accel tcg -M q35 -S -nodefaults -display none -m 64M \
        -qmp "unix:$T/qmp.sock,server=on,wait=off" "${args[@]}" >"$T/qemu.out" 2>"$T/qemu.err" &
qpid=$!
for _ in $(seq 200); do [ -S "$T/qmp.sock" ] && break; kill -0 $qpid 2>/dev/null || break; sleep 0.05; done
nodes=$("$QEMUCTL" qmp --json --socket "$T/qmp.sock" query-named-block-nodes | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    print(n["node-name"], n["drv"], n["file"], n["ro"], n["backing_file_depth"])')
check "real QEMU: the overlay is writable with depth 1; the base read-only" all \
        'grep -q "^disk0-format qcow2 $T/ov.qcow2 False 1$" <<<"$nodes"' \
        'grep -q "^disk0-base qcow2 $T/base.qcow2 True 0$" <<<"$nodes"'
[ $fails = 0 ] || { sed 's/^/# /' <<<"$nodes"; sed 's/^/# qemu: /' "$T/qemu.err"; }
# QEMU 7.2 prints qemu-io's report on its own stdout, not in the reply
"$QEMUCTL" qmp --json --socket "$T/qmp.sock" human-monitor-command \
        '{"command-line": "qemu-io disk0-format \"write -P 0xa5 0 4M\""}' >/dev/null 2>&1
"$QEMUCTL" qmp --json --socket "$T/qmp.sock" human-monitor-command \
        '{"command-line": "qemu-io disk0-format \"read -P 0xa5 0 4M\""}' >/dev/null 2>&1
check "real QEMU: 4 MiB written through the disk read back" all \
        'grep -q "^wrote 4194304/" "$T/qemu.out"' 'grep -q "^read 4194304/" "$T/qemu.out"' \
        '! grep -q "Pattern verification failed" "$T/qemu.out" "$T/qemu.err"'
[ $fails = 0 ] || sed 's/^/# /' "$T/qemu.out" "$T/qemu.err"
"$QEMUCTL" qmp --socket "$T/qmp.sock" quit >/dev/null 2>&1
wait $qpid 2>/dev/null; qpid=
check "the base's checksum is unchanged after writes to its overlay" [ "$(sha256sum <"$T/base.qcow2")" = "$sum0" ]
map=$(qemu-img map --output=json -f qcow2 "$T/ov.qcow2" | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"] == 0 and e["data"]))')
check "the writes are in the overlay (4 MiB allocated at depth 0)" [ "$map" -ge 4194304 ]

# the overlay now exists: validate accepts it (its header names this base)
out=$("$QEMUCTL" validate "$T/vm.json" 2>&1); rc=$?
check "an existing overlay on this base: valid" [ $rc = 0 ]

echo "1..$n"
[ $fails = 0 ]
