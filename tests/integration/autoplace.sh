#!/usr/bin/env bash
# Automatic placement (cpu.placement / numa.placement "auto", issue 13 item
# 10) on this host, a real QEMU under TCG: what start chose is said, bound
# (QEMU's memory policy, the threads' affinity) and recorded (dump, status);
# the VM file's own cpuset is replaced; `cpuset` by hand makes it static.
# The choice between nodes by free memory is checked where there are
# several (tests/cgroup-guest/checks-numa.sh) and on synthetic nodes
# (tests/test-autoplace.c). TAP; 77 = skip.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/guest/lifecycle.sh"
. "${QEMUCTL_SRCDIR:-.}/tests/lib/tap.sh"
Q=${QEMUCTL:?QEMUCTL not set}
QEMU=${QEMUCTL_QEMU:-/usr/bin/qemu-system-x86_64}
[ -x "$QEMU" ] || { echo "1..0 # SKIP $QEMU missing"; exit 77; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 77; }
[ -r /sys/devices/system/node/node0/meminfo ] || { echo "1..0 # SKIP no NUMA in this kernel: automatic placement binds nothing"; exit 77; }

T=$(mktemp -d /tmp/qemuctl-autoplace.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
cleanup() {
        lc_kill_recorded "$T"
        sleep 0.2
        rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/ap.json" <<JSON
{
  "name": "ap",
  "machine": "q35",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1, "cpuset": "0", "placement": "auto" },
  "memory": { "size": "64M" },
  "numa": { "placement": "auto" },
  "serial": "log"
}
JSON

out=$("$Q" validate "$T/ap.json" 2>&1); tap_ok $? "validate: numa.placement auto ($out)"
bad=$(sed 's/"placement": "auto"/"placement": "numad"/' "$T/ap.json" >"$T/bad.json"; "$Q" validate "$T/bad.json" 2>&1); rc=$?
tap_is $rc 1 "validate refuses numa.placement \"numad\""
echo "$bad" | grep -q 'numa.placement: .*"static".*"auto"'; tap_ok $? "... naming the choices ($bad)"

# libvirt's defaults: cpu.placement follows numa.placement, unless the
# file gives cpu.cpuset (then it is static)
sed 's/, "placement": "auto" }/ }/' "$T/ap.json" >"$T/own.json"
out=$("$Q" cmdline "$T/own.json" 2>&1)
echo "$out" | grep -q 'note: automatic placement: numa.placement "auto": host node [0-9]* (.*), the most free memory that holds the VM; memory bound there (numa.nodeset [0-9]*)$'
tap_ok $? "numa.placement auto beside a cpu.cpuset: memory alone is placed (the note says so)"
sed 's/, "cpuset": "0", "placement": "auto" }/ }/' "$T/ap.json" >"$T/follow.json"
"$Q" cmdline "$T/follow.json" 2>&1 | grep -q 'note: automatic placement: numa.placement and cpu.placement "auto"'
tap_ok $? "numa.placement auto alone: cpu.placement follows it"
out=$("$Q" cmdline "$T/ap.json" 2>&1); tap_ok $? "cmdline"
# which node has the most free memory changes from one moment to the next
# on a host with several: the chosen one is read from what was said, and
# checked to be where QEMU is bound (the choice itself: checks-numa.sh)
best=$(echo "$out" | sed -n 's/.*note: automatic placement: .* host node \([0-9]*\) (.*/\1/p')
echo "$out" | grep -q "host-nodes=$best,policy=bind"; tap_ok $? "cmdline: guest RAM bound to node $best, which its note names (host-nodes=$best,policy=bind)"

out=$("$Q" start "$T/ap.json" 2>&1); rc=$?
tap_ok $rc "start (numa.placement and cpu.placement auto, the file's cpuset \"0\")"
echo "$out" | sed 's/^/#   /'
[ $rc = 0 ] || { echo "1..$n"; exit 1; }
best=$(echo "$out" | sed -n 's/.*note: automatic placement: .* host node \([0-9]*\) (.*/\1/p')
best_cpus=$(cat /sys/devices/system/node/node$best/cpulist 2>/dev/null)
echo "# start chose node $best; its CPUs: $best_cpus"
echo "$out" | grep -q "note: automatic placement: numa.placement and cpu.placement \"auto\": host node $best (.*; memory bound there (numa.nodeset $best); CPUs $best_cpus (cpu.cpuset)"
tap_ok $? "start says: node $best, CPUs $best_cpus"
if [ "$best_cpus" != 0 ]; then
        echo "$out" | grep -q "replaces the file's cpu.cpuset 0"; tap_ok $? "... and that it replaces the file's cpu.cpuset 0"
fi
qpid=$(cat "$QEMUCTL_RUNDIR/ap/qemu.pid")
"$Q" vcpuinfo ap >/dev/null # it takes the VM's lock: the placement after start is done
grep -qE "^[0-9a-f]+ bind:$best( |$)" /proc/$qpid/numa_maps; tap_ok $? "QEMU's guest RAM mapping: bind:$best (numa_maps)"
aff() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$qpid/task/$1/status" 2>/dev/null; }
tap_is "$(aff "$qpid")" "$best_cpus" "QEMU's main thread runs on node $best's CPUs"
vt=$(for t in /proc/$qpid/task/*; do [ "$(cat $t/comm)" = "CPU 0/TCG" ] && echo "${t##*/}"; done)
tap_is "$(aff "$vt")" "$best_cpus" "vCPU 0's thread too"
"$Q" dump ap >"$T/dump.json"; tap_ok $? "dump"
tap_is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["cpu"]["placement"], d["cpu"]["cpuset"], d["numa"]["placement"], d["numa"]["nodeset"])' "$T/dump.json")" \
        "auto $best_cpus auto $best" "dump records the choice: placement auto, cpu.cpuset $best_cpus, numa.nodeset $best"
out=$("$Q" status ap); tap_ok $? "status"
echo "$out" | grep -q "^Placement: *auto (numa and cpu, chosen at start): memory on host node $best, CPUs $best_cpus$"; tap_ok $? "status says where ($(echo "$out" | grep Placement))"
tap_is "$("$Q" status --json ap | python3 -c 'import json,sys; p=json.load(sys.stdin)["placement"]; print(p["cpu"], p["numa"], p["nodeset"], p["cpuset"])')" \
        "auto auto $best $best_cpus" "status --json: placement"
# the dumped file starts as it says (the recorded choice is replaced by a new one)
out=$("$Q" kill ap 2>&1); tap_ok $? "kill ap"
out=$("$Q" start "$T/dump.json" 2>&1); tap_ok $? "start from dump's file ($(echo "$out" | grep -c 'automatic placement') automatic placement note)"
# cpuset by hand: cpu.placement is static from then on
out=$("$Q" cpuset ap 0 2>&1); tap_ok $? "cpuset ap 0 ($out)"
tap_is "$("$Q" dump ap | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["cpu"]["placement"], d["cpu"]["cpuset"], d["numa"]["placement"])')" \
        "static 0 auto" "dump: cpu.placement static with cpuset 0; numa.placement stays auto"
out=$("$Q" kill ap 2>&1); tap_ok $? "kill ap"
echo "1..$n"
[ $failed = 0 ]
