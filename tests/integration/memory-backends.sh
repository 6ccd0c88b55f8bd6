#!/usr/bin/env bash
# A hot-plugged DIMM is the same memory as a booted one (issue 9, part 6):
# setmem plugs a DIMM into a VM with 2M huge pages (memfd, no path),
# merge off and a NUMA nodeset; its backend's properties, read back over
# QMP (query-memdev, qom-get), are the boot RAM's, and the ones the next
# boot gives the same dimm0. The huge pages are reserved by this test and
# given back after. Real QEMU under TCG, no boot device (SeaBIOS idles).
# TAP output; 77 = skip.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/guest/lifecycle.sh"
Q=${QEMUCTL:?QEMUCTL not set}
QEMU=${QEMUCTL_QEMU:-/usr/bin/qemu-system-x86_64}
n=0 failed=0
tap_ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
tap_is() { if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else tap_ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
[ -x "$QEMU" ] || skip_all "$QEMU missing"
[ -d /sys/devices/system/node/node0 ] || skip_all "no NUMA node 0 in sysfs"
HP=/sys/kernel/mm/hugepages/hugepages-2048kB
[ -w "$HP/nr_hugepages" ] || skip_all "cannot reserve 2M huge pages ($HP/nr_hugepages not writable)"

T=$(mktemp -d /tmp/qemuctl-membackend.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
V=mb$$
hp_before=$(cat "$HP/nr_hugepages")
cleanup() {
        lc_kill_recorded "$T"
        sleep 0.3
        # give back what this test reserved (pages still in use are freed
        # by the kernel as soon as their QEMU is gone)
        echo "$hp_before" >"$HP/nr_hugepages"
        rm -rf "$T"
}
trap cleanup EXIT

# 128M boot + 128M DIMM, and the same again when the VM boots with dimm0:
# 256M at a time; reserve 160 pages (320M)
want=$((hp_before + 160))
echo "$want" >"$HP/nr_hugepages" 2>/dev/null
free=$(cat "$HP/free_hugepages")
if [ "$free" -lt 128 ]; then
        echo "$hp_before" >"$HP/nr_hugepages"
        skip_all "could reserve only $free free 2M huge pages, 128 needed (memory too fragmented?)"
fi

cat >"$T/vm.json" <<EOF
{
  "name": "$V", "accel": "tcg", "serial": "none",
  "memory": { "size": "128M", "max": "512M", "slots": 2, "hugepages": "2M", "merge": false,
              "balloon": false },
  "numa": { "nodeset": "0", "policy": "strict" }
}
EOF

qmp() { "$Q" qmp --json --socket "$QEMUCTL_RUNDIR/$V/qmp.sock" "$@"; }
# One backend's properties, one "key=value" per line, sorted: what
# query-memdev says about it and what qom-get says of hugetlb/hugetlbsize
# (query-memdev has no field for those). The size is left out: the DIMM's
# is its own.
props() {
        local id=$1
        qmp query-memdev | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m.get("id") == sys.argv[1]:
        for k in sorted(m):
            if k not in ("id", "size"):
                print("%s=%s" % (k, json.dumps(m[k])))' "$id"
        for p in hugetlb hugetlbsize; do
                printf '%s=%s\n' "$p" "$(qmp qom-get "{\"path\": \"/objects/$id\", \"property\": \"$p\"}" 2>/dev/null || echo none)"
        done
        printf 'qom-type=%s\n' "$(qmp qom-get "{\"path\": \"/objects/$id\", \"property\": \"type\"}")"
}

out=$("$Q" start "$T/vm.json" 2>&1); rc=$?
if [ $rc != 0 ]; then
        tap_ok 1 "start a VM with 2M huge pages, merge off, nodeset 0 ($out)"
        echo "1..$n"; exit 1
fi
tap_ok 0 "start a VM with 2M huge pages, merge off, nodeset 0"
boot=$(props ram0)
echo "$boot" | sed 's/^/# boot ram0: /'
grep -qx 'hugetlb=true' <<<"$boot"; tap_ok $? "boot RAM: hugetlb memfd"
grep -qx 'policy="bind"' <<<"$boot" && grep -qx 'host-nodes=\[0\]' <<<"$boot"
tap_ok $? "boot RAM: bound to host node 0"

out=$("$Q" setmem "$V" 256M 2>&1); tap_ok $? "setmem 256M plugs a 128M DIMM ($out)"
plugged=$(props mem-dimm0)
echo "$plugged" | sed 's/^/# plugged mem-dimm0: /'
tap_is "$plugged" "$boot" "the plugged DIMM's backend has the boot RAM's properties (hugetlb, size, merge, prealloc, host-nodes, policy, share, dump)"

# the next boot makes dimm0 from the record (dump: the effective VM file,
# memory.plugged included): the same memory again
"$Q" dump "$V" >"$T/again.json"; tap_ok $? "dump the effective VM file"
grep -q '"plugged"' "$T/again.json"; tap_ok $? "which records the plugged memory"
"$Q" kill "$V" >/dev/null 2>&1; tap_ok $? "kill it"
out=$("$Q" start "$T/again.json" 2>&1); tap_ok $? "start again from the effective VM file ($out)"
booted=$(props mem-dimm0)
echo "$booted" | sed 's/^/# booted mem-dimm0: /'
tap_is "$booted" "$plugged" "the booted dimm0's backend is the plugged one's"
"$Q" kill "$V" >/dev/null 2>&1

echo "1..$n"
[ $failed = 0 ]
