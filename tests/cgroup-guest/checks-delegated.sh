# cgroup.mode "delegated": a service manager (here: this script, as systemd
# would for a unit with Delegate=yes) hands qemuctl the cgroup it starts in;
# QEMU must live inside it and nothing above it may be written. Sourced by
# checks.sh.

DS=$CG/deleg.slice
D=$DS/vm-d1.service
mkdir -p "$D"
# what the manager enables for its delegated unit, one level up
echo "+cpuset +cpu +memory +pids" >"$DS/cgroup.subtree_control"
above=$(cat "$DS/cgroup.subtree_control")
f=$(vmfile d1 '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 2, "pin": { "1": "1" } },
  "memory": { "size": "64M", "limits": { "hard": "256M" } },
  "cgroup": { "mode": "delegated", "pids_max": 128 },')

# qemuctl alone in its cgroup, as ExecStart= is in a unit's
start_in() { # CGROUP ARGS...: exec qemuctl ARGS in CGROUP
        local cg=$1
        shift
        sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

run start_in "$D" $Q start "$f"; ok $? "start d1 in a delegated cgroup (cgroup.mode delegated)"
pid=$(qemu_pid d1)
sup=$(cat "$QEMUCTL_RUNDIR/d1/supervisor.pid" 2>/dev/null)
run $Q qmp d1 query-status; ok $? "a verb waits for the placement"
is "$(task_cgroup "$pid")" /deleg.slice/vm-d1.service/d1/emulator "QEMU is in the delegated cgroup's d1/emulator/"
for v in 0 1; do
        tid=$(vcpu_tid "$pid" $v)
        is "$(task_cgroup "$pid" "$tid")" /deleg.slice/vm-d1.service/d1/vcpu$v "vCPU $v thread is in d1/vcpu$v/"
done
is "$(cat "$D/d1/vcpu1/cpuset.cpus" 2>/dev/null)" 1 "d1/vcpu1/cpuset.cpus = 1 (cpu.pin)"
is "$(task_cgroup "$sup")" /deleg.slice/vm-d1.service/supervisor "the supervisor moved into the leaf supervisor/"
is "$(cat "$D/cgroup.procs")" "" "the delegated cgroup itself holds no process (no internal processes)"
is "$(cat "$D/d1/memory.max" 2>/dev/null)" 268435456 "d1/memory.max = 256M (memory.limits.hard)"
is "$(cat "$D/d1/pids.max" 2>/dev/null)" 128 "d1/pids.max = 128 (cgroup.pids_max)"
is "$(cat "$DS/cgroup.subtree_control")" "$above" "nothing above the delegated cgroup was written"
[ ! -e "$CG/qemuctl/d1" ]; ok $? "no cgroup under cgroup.parent (qemuctl/d1)"
$Q status d1 | grep -qx "Cgroup: */deleg.slice/vm-d1.service/d1 (emulator/, vcpuN/)"
ok $? "qemuctl status shows the VM's cgroup"
if has_verb vcpupin; then
        run $Q vcpupin d1 0 1; ok $? "vcpupin d1 0 1 (a verb from outside finds the delegated cgroup)"
        is "$(cat "$D/d1/vcpu0/cpuset.cpus" 2>/dev/null)" 1 "d1/vcpu0/cpuset.cpus = 1"
else
        skip "vcpupin in a delegated cgroup" "verb vcpupin missing"
fi

run $Q stop --timeout 5 d1; ok $? "stop d1"
wait_for 10 sh -c "[ ! -e '$D/d1' ]"; ok $? "the supervisor removed d1/"
wait_for 10 sh -c "[ ! -e '$D/supervisor' ]"; ok $? "and its leaf supervisor/"
is "$(cat "$D/cgroup.subtree_control")" "" "and disabled what it enabled in the delegated cgroup"

# the manager's kill (systemctl kill, a job's end): cgroup.kill of the
# delegated cgroup ends QEMU and the supervisor alike
run start_in "$D" $Q start "$f"; ok $? "start d1 again"
pid=$(qemu_pid d1)
sup=$(cat "$QEMUCTL_RUNDIR/d1/supervisor.pid" 2>/dev/null)
alive "$pid"; ok $? "d1's QEMU runs (pid $pid)"
echo 1 >"$D/cgroup.kill"
wait_for 10 sh -c "! [ -d /proc/$pid ] || [ \"\$(awk '{print \$3}' /proc/$pid/stat 2>/dev/null)\" = Z ]"
ok $? "cgroup.kill of the delegated cgroup kills QEMU"
wait_for 10 sh -c "[ ! -d /proc/$sup ]"; ok $? "and the supervisor"
wait_for 10 sh -c "[ \"\$(cat $D/cgroup.events | sed -n 's/^populated //p')\" = 0 ]"
ok $? "nothing is left in the delegated cgroup"
# the manager removes its cgroup; a stale record is tidied by the next verb
for c in "$D"/d1/* "$D"/d1 "$D"/supervisor; do [ -d "$c" ] && rmdir "$c" 2>/dev/null; done
$Q list >/dev/null 2>&1

# cgroup.mode auto (the default): a Slurm job's cgroup is taken as
# delegated ($SLURM_JOB_ID, and job_ID in the path: Slurm marks nothing);
# the same unmarked cgroup without the job's id is not
J=$CG/slurm.slice/job_42/step_0
mkdir -p "$J"
echo "+cpuset +cpu +memory +pids" >"$CG/slurm.slice/cgroup.subtree_control"
echo "+cpuset +cpu +memory +pids" >"$CG/slurm.slice/job_42/cgroup.subtree_control"
fa=$(vmfile a1 '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "memory": { "size": "64M" },')
run start_in "$J" env SLURM_JOB_ID=42 $Q start "$fa"; ok $? "start a1 (cgroup.mode auto) in a Slurm job's cgroup"
is "$(task_cgroup "$(qemu_pid a1)")" /slurm.slice/job_42/step_0/a1/emulator "auto: QEMU is inside the job's cgroup"
run $Q stop --timeout 5 a1; ok $? "stop a1"
wait_for 10 sh -c "[ ! -e '$J/a1' ] && [ ! -e '$J/supervisor' ]"; ok $? "the job's cgroup is as it was"
run start_in "$J" $Q start "$fa"; ok $? "start a1 (auto) from the same cgroup, no SLURM_JOB_ID"
is "$(task_cgroup "$(qemu_pid a1)")" /qemuctl/a1/emulator "auto, nothing delegated: QEMU is under cgroup.parent"
run $Q stop --timeout 5 a1; ok $? "stop a1"
start_in "$J" env SLURM_JOB_ID=42 $Q host | grep -q "qemuctl runs in: /slurm.slice/job_42/step_0, delegated"
ok $? "qemuctl host says the job's cgroup is taken as delegated"
start_in "$J" $Q host | grep -q "qemuctl runs in: /slurm.slice/job_42/step_0, not delegated"
ok $? "and without SLURM_JOB_ID that it is not"
for c in "$J" "$CG/slurm.slice/job_42" "$CG/slurm.slice"; do rmdir "$c" 2>/dev/null; done

# refused where nothing was delegated: from the root cgroup
run start_in "$CG" $Q start "$f"
[ $? != 0 ] && echo "$OUT" | grep -q "root cgroup"; ok $? "cgroup.mode delegated from the root cgroup is refused, saying why"
rmdir "$D" "$DS" 2>/dev/null
