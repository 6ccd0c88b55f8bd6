#!/bin/sh
# Timing mode of the cgroup guest (booted with cgtest.bench=ROUNDS by
# bench/cgroup-guest-bench.sh; never a test): figure 1 of `make bench`
# (`qemuctl start` against the identical argv by hand, -S + `cont`) on this
# guest's fresh kernel, whose cgroup2 was never mounted with favordynmods, so
# every move into a cgroup after a quiet spell waits for an RCU grace period.
# Inner VMs: 64M, 1 vCPU, no boot device (SeaBIOS idles); once without pins,
# once with vCPU 0 on CPU 0 and the emulator on CPU 1 (cpuset here). Lines
# on the console, each prefixed "cgroup-guest-bench: ".
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
export QEMUCTL_RUNDIR=/run/qemuctl
R=${CGTEST_BENCH_ROUNDS:-5}
B=/tmp/bench
say() { echo "cgroup-guest-bench: $*"; }
mkdir -p "$B" "$QEMUCTL_RUNDIR"

say "cgroup2 $(awk '$9 == "cgroup2" { print $5 " (mount options " $6 ", superblock options " $11 ")"; exit }' /proc/self/mountinfo)"
say "move $(/cgtest/cg-move-wait 7)"
vmfile() { # NAME EXTRA-CPU-MEMBERS
        cat >"$B/$1.json" <<JSON
{ "name": "$1", "accel": "tcg", "memory": { "size": "64M" },
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 $2 }, "serial": "log" }
JSON
}
vmfile gs ""
vmfile gp ', "pin": { "0": "0" }, "emulator_pin": "1"'
/cgtest/bench-start /usr/bin/qemuctl "$B/gs.json" gs "$QEMUCTL_RUNDIR" "$B/bare" "$R" 0 "1 start" | sed 's/^/cgroup-guest-bench: row /'
/cgtest/bench-start /usr/bin/qemuctl "$B/gp.json" gp "$QEMUCTL_RUNDIR" "$B/bare" "$R" 0 "1 start, pinned" | sed 's/^/cgroup-guest-bench: row /'
say "done"
echo "cgroup-guest: done (bench)"
