# A VM started by qemuctl with pins, limits and a nodeset: where its threads
# land, what the cgroup files say, what live verbs change. Sourced by checks.sh.

V=$CG/qemuctl/cg1
f=$(vmfile cg1 '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 2, "max": 3,
           "pin": { "0": "0", "1": "1", "2": "0" }, "emulator_pin": "1",
           "weight": 200, "max_percent": 150 },
  "memory": { "size": "64M", "limits": { "hard": "512M", "soft": "384M", "min": "32M" } },
  "numa": { "policy": "strict", "nodeset": "0" },
  "cgroup": { "parent": "qemuctl", "pids_max": 256 },
  "security": { "user": "qemu", "group": "qemu", "sandbox": true },')
run $Q start "$f"; ok $? "start cg1 (2 of 3 vCPUs pinned, emulator pinned, hard limit, nodeset 0)"
pid=$(qemu_pid cg1)
# the vCPU threads move into vcpuN/ after start returned, under the VM's lock
run $Q qmp cg1 query-status; ok $? "a verb that takes the VM's lock waits for the placement"
alive "$pid"; ok $? "cg1's QEMU runs (pid $pid)"
# QEMU binds guest RAM itself (memory-backend host-nodes, policy=bind). A
# mapping with no page touched yet is listed as "ADDR bind:0" and nothing
# after it: right after start, SeaBIOS of an inner VM under TCG-in-TCG may not
# have touched guest RAM yet, so the policy is the last field of its line.
grep -qE '^[0-9a-f]+ bind:0( |$)' /proc/"$pid"/numa_maps; ok $? "guest RAM is bound to node 0 (numa_maps: bind:0)"

# --- start-time placement
is "$(task_cgroup "$pid")" /qemuctl/cg1/emulator "QEMU's main thread is in qemuctl/cg1/emulator/"
for v in 0 1; do
        tid=$(vcpu_tid "$pid" $v)
        is "$(task_cgroup "$pid" "$tid")" /qemuctl/cg1/vcpu$v "vCPU $v thread ($tid) is in vcpu$v/"
        is "$(cat $V/vcpu$v/cpuset.cpus 2>/dev/null)" $v "vcpu$v/cpuset.cpus = $v (cpu.pin)"
        is "$(task_affinity "$pid" "$tid")" $v "vCPU $v thread: sched_getaffinity says $v"
done
is "$(cat $V/emulator/cpuset.cpus 2>/dev/null)" 1 "emulator/cpuset.cpus = 1 (cpu.emulator_pin)"
is "$(task_affinity "$pid" "$pid")" 1 "QEMU's main thread: sched_getaffinity says 1"
is "$(cat $V/memory.max 2>/dev/null)" 536870912 "memory.max = 512M (memory.limits.hard)"
is "$(cat $V/memory.high 2>/dev/null)" 402653184 "memory.high = 384M (memory.limits.soft)"
is "$(cat $V/memory.min 2>/dev/null)" 33554432 "memory.min = 32M (memory.limits.min)"
is "$(cat $V/pids.max 2>/dev/null)" 256 "pids.max = 256 (cgroup.pids_max)"
is "$(cat $V/cpu.weight 2>/dev/null)" 200 "cpu.weight = 200 (cpu.weight)"
is "$(cat $V/cpu.max 2>/dev/null)" "150000 100000" "cpu.max = 150000 100000 (cpu.max_percent)"
is "$(cat $V/emulator/cpuset.mems.effective 2>/dev/null)" 0 "cpuset.mems in effect for QEMU = 0 (numa.nodeset)"
is "$(status_field "$pid" Mems_allowed_list)" 0 "QEMU's Mems_allowed_list = 0"

# --- CPU hotplug: the new vCPU thread is placed and pinned at once
if ! has_verb setvcpus; then
        skip "setvcpus places the hotplugged vCPU thread" "verb setvcpus missing"
else
        run $Q setvcpus cg1 3; ok $? "setvcpus cg1 3"
        wait_for 30 vcpu_tid "$pid" 2 >/dev/null; ok $? "QEMU has a thread for vCPU 2"
        tid=$(vcpu_tid "$pid" 2)
        is "$(task_affinity "$pid" "$tid")" 0 "vCPU 2 thread: sched_getaffinity says 0 (cpu.pin)"
        is "$(task_cgroup "$pid" "$tid")" /qemuctl/cg1/vcpu2 "vCPU 2 thread ($tid) is in vcpu2/"
        is "$(cat $V/vcpu2/cpuset.cpus 2>/dev/null)" 0 "vcpu2/cpuset.cpus = 0 (cpu.pin)"
fi

# --- live pinning
if ! has_verb vcpupin; then
        skip "vcpupin moves a vCPU" "verb vcpupin missing"
else
        run $Q vcpupin cg1 1 0; ok $? "vcpupin cg1 1 0"
        tid=$(vcpu_tid "$pid" 1)
        is "$(task_affinity "$pid" "$tid")" 0 "vCPU 1 thread: sched_getaffinity says 0"
        is "$(cat $V/vcpu1/cpuset.cpus 2>/dev/null)" 0 "vcpu1/cpuset.cpus = 0"
fi
if ! has_verb emulatorpin; then
        skip "emulatorpin moves QEMU's other threads" "verb emulatorpin missing"
else
        run $Q emulatorpin cg1 0; ok $? "emulatorpin cg1 0"
        is "$(task_affinity "$pid" "$pid")" 0 "QEMU's main thread: sched_getaffinity says 0"
        is "$(cat $V/emulator/cpuset.cpus 2>/dev/null)" 0 "emulator/cpuset.cpus = 0"
fi

# --- numatune: cpuset.mems moves to the other node
if ! has_verb numatune; then
        skip "numatune changes cpuset.mems" "verb numatune missing"
else
        run $Q numatune cg1 --nodeset 1; ok $? "numatune cg1 --nodeset 1"
        is "$(cat $V/emulator/cpuset.mems.effective 2>/dev/null)" 1 "cpuset.mems in effect for QEMU = 1"
        tid=$(vcpu_tid "$pid" 0)
        is "$(awk '/^Mems_allowed_list:/ { print $2 }' /proc/$pid/task/$tid/status)" 1 "vCPU 0 thread: Mems_allowed_list = 1"
fi

. /cgtest/checks-privs.sh

# --- memtune: memory.max, and the kernel enforces it on the VM's cgroup
if ! has_verb memtune; then
        skip "memtune --hard-limit writes memory.max" "verb memtune missing"
else
        run $Q memtune cg1 --hard-limit 160M; ok $? "memtune cg1 --hard-limit 160M"
        is "$(cat $V/memory.max 2>/dev/null)" 167772160 "memory.max = 160M"
fi
if [ -d "$V/emulator" ]; then
        before=$(awk '$1 == "oom_kill" { print $2 }' $V/memory.events)
        # A process of the VM's cgroup (QEMU's emulator/) that wants 64 MiB
        # more than the limit: busybox dd reads /dev/zero into one bs-sized
        # buffer, touching it all.
        mib=$(( $(cat $V/memory.max) / 1048576 + 64 ))
        sh -c "echo 1000 >/proc/self/oom_score_adj; echo \$\$ >$V/emulator/cgroup.procs &&
               exec dd if=/dev/zero of=/dev/null bs=${mib}M count=1" >"$T/hog.log" 2>&1
        rc=$?
        is "$rc" 137 "a ${mib}M process in cg1's cgroup is killed (SIGKILL) by the kernel (memory.max $(cat $V/memory.max))"
        [ $rc = 137 ] || sed 's/^/#   /' "$T/hog.log"
        after=$(awk '$1 == "oom_kill" { print $2 }' $V/memory.events)
        [ "${after:-0}" -gt "${before:-0}" ]; ok $? "memory.events oom_kill counts it ($before -> $after)"
        alive "$pid"; ok $? "QEMU itself survives"
else
        ok 1 "a process over memory.max in the VM's cgroup is killed (no $V/emulator)"
fi

# --- what the placement verbs show, memtune's other limits, dump's record
. /cgtest/checks-placement-verbs.sh

# --- the end: the supervisor removes the VM's cgroup
run $Q kill cg1; ok $? "kill cg1"
wait_for 30 eval '! alive $pid'; ok $? "QEMU is gone"
wait_for 30 eval '[ ! -d $V ]'; ok $? "the supervisor removed qemuctl/cg1/"
