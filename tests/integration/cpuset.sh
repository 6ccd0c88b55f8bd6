#!/usr/bin/env bash
# The whole VM's CPU set (issue 13, item 1; libvirt's <vcpu cpuset>): at
# start every vCPU without its own pin and QEMU's other threads run there;
# `cpuset NAME CPULIST` moves them live, a vCPU with its own pin stays;
# emulatorpin moves QEMU's non-vCPU threads only, as libvirt's does.
# Affinity is what this host offers (its cgroup2 has no cpuset controller);
# the threads' affinity is read from the kernel (sched_getaffinity via
# /proc/PID/task/TID/status). The VM idles in its firmware. TAP; 77 = skip.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=${QEMUCTL:-./qemuctl}
command -v "$GUEST_QEMU" >/dev/null || tap_skip_all "$GUEST_QEMU not found: install qemu-system-x86"
[ "$(nproc --all)" -ge 2 ] || tap_skip_all "needs 2 host CPUs to tell placements apart"
T=$(mktemp -d /tmp/qemuctl-cpuset.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
vm=cpuset$$
cleanup() { "$Q" kill "$vm" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

cat >"$T/vm.json" <<EOF2
{ "name": "$vm", "accel": "tcg", "memory": { "size": "64M" }, "panic": false, "serial": "none",
  "cpu": { "vcpus": 2, "cpuset": "0", "pin": { "1": "1" } } }
EOF2
aff() { awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$(cat "$QEMUCTL_RUNDIR/$vm/qemu.pid")/task/$1/status"; }
vcpu_tid() { "$Q" vcpuinfo --json "$vm" | python3 -c 'import json,sys; print([v["thread"] for v in json.load(sys.stdin) if v["vcpu"] == int(sys.argv[1])][0])' "$1"; }
main_aff() { aff "$(cat "$QEMUCTL_RUNDIR/$vm/qemu.pid")"; }

"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with cpu.cpuset 0 and vCPU 1 pinned to 1"
t0=$(vcpu_tid 0) t1=$(vcpu_tid 1)
tap_is "$(aff "$t0")" 0 "vCPU 0 (no pin of its own) runs on the cpuset: 0"
tap_is "$(aff "$t1")" 1 "vCPU 1 keeps its own pin: 1"
tap_is "$(main_aff)" 0 "QEMU's main thread runs on the cpuset: 0"

out=$("$Q" cpuset "$vm" 1); tap_ok $? "cpuset NAME 1 ($out)"
tap_is "$(aff "$t0")" 1 "vCPU 0 moved to 1"
tap_is "$(aff "$t1")" 1 "vCPU 1 still on its pin"
tap_is "$(main_aff)" 1 "QEMU's main thread moved to 1"
"$Q" cpuset "$vm" | grep -q "^cpuset *: 1 "; tap_ok $? "cpuset NAME shows the set"

out=$("$Q" emulatorpin "$vm" 0); tap_ok $? "emulatorpin NAME 0 ($out)"
tap_is "$(main_aff)" 0 "the emulator moved to 0"
tap_is "$(aff "$t0")" 1 "emulatorpin leaves the vCPUs where they were (vCPU 0 on 1)"
"$Q" emulatorpin --help | grep -q "What does not: the vCPU threads"; tap_ok $? "emulatorpin --help says what does not move"

out=$("$Q" cpuset "$vm" 0); tap_ok $? "cpuset NAME 0 with emulatorpin set"
tap_is "$(aff "$t0")" 0 "vCPU 0 follows the cpuset to 0"
tap_is "$(main_aff)" 0 "the emulator stays on its emulator_pin"
case $out in *"stay on their emulator_pin"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "says the emulator stays ($out)"

"$Q" dump "$vm" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cpu"]; sys.exit(0 if c["cpuset"]=="0" and c["emulator_pin"]=="0" and c["pin"]=={"1":"1"} else 1)'
tap_ok $? "dump records cpu.cpuset 0, emulator_pin 0, pin 1:1"
out=$("$Q" cpuset "$vm" 64 2>&1); rc=$?
tap_ok $(( rc == 1 ? 0 : 1 )) "a CPU the host lacks is refused ($out)"
"$Q" kill "$vm" >/dev/null
tap_done
