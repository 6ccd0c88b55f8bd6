# A defined VM and --config on a cgroup v2 with every controller: what
# memtune/vcpupin/emulatorpin/numatune/setvcpus --config write into the
# definition is what the next start puts in the cgroup files, and --config
# alone leaves the running VM's alone. Sourced by checks.sh (helpers from
# run.sh).

if ! has_verb define; then
        skip "--config changes are in force at the next start" "verb define missing"
else
        export QEMUCTL_CONFDIR=$T/conf
        VD=$CG/qemuctl/cgd
        f=$(vmfile cgd '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1, "max": 2 },
  "memory": { "size": "64M" },')
        run $Q define "$f"; ok $? "define cgd"
        run $Q start cgd; ok $? "start cgd by name"
        pid=$(qemu_pid cgd)
        run $Q memtune --config cgd --hard-limit 200M --min-guarantee 8M
        ok $? "memtune --config cgd --hard-limit 200M --min-guarantee 8M"
        is "$(cat $VD/memory.max 2>/dev/null)" max "--config alone: the running VM's memory.max is untouched"
        run $Q memtune --live --config cgd --soft-limit 150M; ok $? "memtune --live --config cgd --soft-limit 150M"
        is "$(cat $VD/memory.low 2>/dev/null)" 157286400 "--live --config: memory.low = 150M now (--soft-limit)"
        run $Q vcpupin --config cgd 1 1; ok $? "vcpupin --config cgd 1 1 (vCPU 1 is not plugged yet)"
        run $Q emulatorpin --config cgd 0; ok $? "emulatorpin --config cgd 0"
        run $Q numatune --config cgd --nodeset 1; ok $? "numatune --config cgd --nodeset 1"
        run $Q setvcpus --config cgd 2; ok $? "setvcpus --config cgd 2"
        # SeaBIOS with no boot device ignores the power button: kill, not stop
        run $Q kill cgd; ok $? "kill cgd"
        wait_for 30 eval '! alive $pid'
        run $Q start cgd; ok $? "start cgd again"
        pid=$(qemu_pid cgd)
        run $Q qmp cgd query-status; ok $? "(its vCPUs placed: a verb that takes the VM's lock waits for it)"
        is "$(cat $VD/memory.max 2>/dev/null)" 209715200 "memory.max = 200M from the definition"
        is "$(cat $VD/memory.min 2>/dev/null)" 8388608 "memory.min = 8M from the definition"
        is "$(cat $VD/memory.low 2>/dev/null)" 157286400 "memory.low = 150M from the definition (--soft-limit)"
        is "$(ls -d $VD/vcpu* 2>/dev/null | wc -l)" 2 "2 vCPU cgroups (setvcpus --config 2)"
        is "$(cat $VD/vcpu1/cpuset.cpus 2>/dev/null)" 1 "vcpu1/cpuset.cpus = 1 (vcpupin --config)"
        is "$(task_affinity "$pid" "$(vcpu_tid "$pid" 1)")" 1 "vCPU 1 thread: sched_getaffinity says 1"
        is "$(cat $VD/emulator/cpuset.cpus 2>/dev/null)" 0 "emulator/cpuset.cpus = 0 (emulatorpin --config)"
        is "$(cat $VD/emulator/cpuset.mems.effective 2>/dev/null)" 1 "cpuset.mems in effect for QEMU = 1 (numatune --config)"
        run $Q kill cgd; ok $? "kill cgd"
        unset QEMUCTL_CONFDIR
fi
