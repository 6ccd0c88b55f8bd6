#!/usr/bin/env bash
# qemuctl run as a Slurm job, on a real single-node Slurm cluster this test
# starts on localhost: munged with a generated key, slurmctld and slurmd with
# a config written into a temp dir (free ports, nothing of the system's
# /etc/slurm or /etc/munge used). With each proctrack plugin (linuxproc:
# the step's process tree; cgroup: the job's cgroup, v1 on a hybrid host;
# pgid: the step's process group), a running VM job is scancel'ed: the guest
# sees the ACPI power button (in the job's output), the job's exit code is
# run's 130, and no QEMU, no qemuctl cgroup and no state dir is left. With
# linuxproc also: a job array of VMs on the node's 2 CPUs, each task ending
# with its own guest's exit code and its console as its output; and jobs
# given fewer CPUs or less memory than the VM needs refused with both numbers.
# The jobs are the samples in samples/slurm/.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
guest_require
for p in munged slurmctld slurmd sbatch scancel scontrol squeue sinfo; do
        command -v "$p" >/dev/null || tap_skip_all "$p not found: apt-get install slurm-wlm munge"
done
[ "$(id -u)" = 0 ] || tap_skip_all "slurmd runs each job as its submitter: needs root"

T=$(mktemp -d /tmp/qemuctl-slurm.XXXXXX)
chmod 755 "$T"
mkdir -m 700 "$T/run"
# the jobs inherit the submitter's environment: their VMs' state dirs go here
export QEMUCTL_RUNDIR=$T/run
export SLURM_CONF=$T/slurm.conf
# the samples call `qemuctl` by name
PATH=$(cd "$(dirname "$QEMUCTL")" && pwd):$PATH
export PATH
SAMPLES=$QEMUCTL_SRCDIR/samples/slurm
DAEMONS=""

stop_daemons() {
        local p
        for p in $DAEMONS; do kill -TERM "$p" 2>/dev/null; done
        for p in $DAEMONS; do
                for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        DAEMONS=""
}
MUNGED=""
cleanup() {
        stop_daemons
        [ -n "$MUNGED" ] && kill -TERM "$MUNGED" 2>/dev/null
        # a QEMU of ours (its sockets are in $T) that survived a failed check
        pkill -KILL -f "qemu-system.*$T" 2>/dev/null
        sleep 0.2
        rm -rf "$T"
}
trap cleanup EXIT

free_ports() { # two TCP ports nobody listens on
        python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}

# munged, once for every cluster
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge.key"
mkdir -m 755 "$T/munge"
# --force: the socket's directory is under the world-writable /tmp
munged -F --force --socket="$T/munge/munge.sock" --key-file="$T/munge.key" --log-file="$T/munge/munged.log" \
        --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/seed" >"$T/munge/out" 2>&1 &
MUNGED=$!
for _ in $(seq 100); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.sock" ] || { echo "# munged did not start:"; sed 's/^/#   /' "$T/munge/out"; exit 1; }

# slurm_start PROCTRACK TASKPLUGIN: a fresh cluster with these plugins
slurm_start() {
        local dir=$T/$1 ports ctld_port slurmd_port
        read -r ctld_port slurmd_port <<<"$(free_ports)"
        mkdir -p "$dir/state" "$dir/spool" "$dir/log"
        cat >"$T/slurm.conf" <<EOF
ClusterName=qemuctltest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/$1
TaskPlugin=$2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=30
MinJobAge=600
NodeName=qcnode NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=2 RealMemory=4096 State=UNKNOWN
PartitionName=qc Nodes=qcnode Default=YES MaxTime=INFINITE State=UP
EOF
        # cgroup/v1 on a hybrid host (freezer for proctrack, memory and
        # cpuset for task/cgroup), cgroup/v2 on a unified one. cgroup/v2 asks
        # systemd over D-Bus for a scope for the job steps; where there is no
        # systemd (or no bus), slurmd makes that cgroup itself
        cat >"$T/cgroup.conf" <<EOF
CgroupPlugin=autodetect
ConstrainCores=yes
ConstrainRAMSpace=yes
IgnoreSystemdOnFailure=yes
EOF
        slurmctld -D -f "$T/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 &
        DAEMONS="$DAEMONS $!"
        # Where PID 1 is systemd, slurmd gets a scope of its own with
        # Delegate=yes, as slurmd.service gives it: cgroup/v2 moves slurmd
        # into a child of its cgroup and enables controllers there, which
        # cgroup v2 forbids while this test's shell shares that cgroup.
        # (systemd-run --scope execs slurmd: $! is slurmd's pid.)
        local wrap=()
        [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] &&
                wrap=(systemd-run --scope --quiet -p Delegate=yes --unit="qemuctl-test-slurmd-$$-$1" --)
        "${wrap[@]}" slurmd -D -f "$T/slurm.conf" -N qcnode >"$dir/log/slurmd.out" 2>&1 &
        DAEMONS="$DAEMONS $!"
        for _ in $(seq 300); do
                [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && return 0
                sleep 0.2
        done
        echo "# the cluster (proctrack/$1) did not come up:"
        tail -n 20 "$dir"/log/* | sed 's/^/#   /'
        return 1
}

job_wait() { # JOBID: until no task of it is pending or running
        for _ in $(seq 1200); do
                [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
                sleep 0.2
        done
        echo "# job $1 still queued or running"; squeue | sed 's/^/#   /'
        return 1
}
job_field() { # JOBID FIELD: e.g. ExitCode -> "7:0"
        scontrol -o show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

vmfile() { # FILE NAME VCPUS KNOBS
        local g
        g=$(cd "$GUEST_DIR" && pwd)
        cat >"$1" <<JSON
{
  "name": "$2",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": $3 },
  "memory": { "size": "256M" },
  "boot": { "kernel": "$g/vmlinuz", "initrd": "$g/initrd.img", "cmdline": "$GUEST_CMDLINE $4" },
  "serial": "log",
  "panic": true,
  "debug_exit": true
}
JSON
}

nothing_left() { # NAME TAG: no QEMU, no qemuctl cgroup, no state dir
        local cg=/sys/fs/cgroup/qemuctl/$1
        [ -d /sys/fs/cgroup/unified ] && cg=/sys/fs/cgroup/unified/qemuctl/$1
        pgrep -f "qemu-system.*guest=$1" >/dev/null
        tap_ok $((!$?)) "$2: no QEMU left"
        tap_ok "$([ ! -e "$cg" ] && echo 0 || echo 1)" "$2: no cgroup left ($cg)"
        tap_ok "$([ ! -e "$QEMUCTL_RUNDIR/$1" ] && echo 0 || echo 1)" "$2: no state dir left (run --rm)"
}

# scancel_case PLUGIN: a VM job cancelled once the guest runs
scancel_case() {
        local name=cancel-$1 j out
        out=$T/$name.out
        vmfile "$T/$name.json" "$name" 1 ""
        # shellcheck disable=SC2046
        j=$(sbatch --parsable $(qemuctl resources --slurm "$T/$name.json") --output="$out" \
                "$SAMPLES/vm.sbatch" "$T/$name.json")
        for _ in $(seq 900); do grep -q 'qemuctl-guest: ready' "$out" 2>/dev/null && break; sleep 0.2; done
        grep -q 'qemuctl-guest: ready' "$out" 2>/dev/null
        tap_ok $? "proctrack/$1: the VM job's guest runs (its console is the job's output)"
        scancel "$j"
        job_wait "$j"
        tap_is "$(job_field "$j" JobState)" CANCELLED "proctrack/$1: scancel cancelled the job"
        grep -q 'qemuctl-guest: power button: powering off' "$out"
        tap_ok $? "proctrack/$1: scancel pressed the guest's ACPI power button (job output)"
        grep -q 'reboot: Power down' "$out"
        tap_ok $? "proctrack/$1: the guest powered itself off"
        tap_is "$(job_field "$j" ExitCode)" 130:0 "proctrack/$1: the job's exit code is run's 130 (interrupted)"
        nothing_left "$name" "proctrack/$1"
        [ "$_tap_fail" = 0 ] || sed 's/^/#   job: /' "$out"
}

# --- proctrack/linuxproc, task/none ---------------------------------------
slurm_start linuxproc task/none || exit 1

# a job array: four VMs, two at a time on the node's 2 CPUs, each with its own result
codes=(0 3 7 9)
mkdir "$T/array"
for i in 0 1 2 3; do
        vmfile "$T/array/vm-$i.json" "array-$i" 1 "qemuctl.exit=${codes[$i]}"
done
# shellcheck disable=SC2046
a=$(sbatch --parsable $(qemuctl resources --slurm "$T/array/vm-0.json") --array=0-3 \
        --output="$T/array/out-%a" "$SAMPLES/array.sbatch" "$T/array")
job_wait "$a"
for i in 0 1 2 3; do
        tap_is "$(job_field "${a}_$i" ExitCode)" "${codes[$i]}:0" "array task $i ends with its guest's exit code ${codes[$i]}"
        grep -q "qemuctl-guest: exiting with status ${codes[$i]}" "$T/array/out-$i"
        tap_ok $? "array task $i: the guest's console is the task's output"
        nothing_left "array-$i" "array task $i"
done

# a job given less than the VM needs is refused before anything starts, with both numbers
vmfile "$T/small.json" small 1 ""
j=$(sbatch --parsable --cpus-per-task=1 --mem=300M --output="$T/small.out" "$SAMPLES/vm.sbatch" "$T/small.json")
job_wait "$j"
tap_is "$(job_field "$j" ExitCode)" 1:0 "a VM that needs more memory than the job's --mem: refused (exit 1)"
grep -q 'needs 516 MiB (256 MiB guest memory + 260 MiB QEMU overhead) but Slurm job [0-9]* was given 300 MiB' "$T/small.out"
tap_ok $? "the refusal names both numbers ($(tail -n 1 "$T/small.out"))"
vmfile "$T/wide.json" wide 2 ""
j=$(sbatch --parsable --cpus-per-task=1 --mem=1G --output="$T/wide.out" "$SAMPLES/vm.sbatch" "$T/wide.json")
job_wait "$j"
tap_is "$(job_field "$j" ExitCode)" 1:0 "a VM with more vCPUs than the job's CPUs: refused (exit 1)"
grep -q 'boots 2 vCPUs but Slurm job [0-9]* was given 1 CPU' "$T/wide.out"
tap_ok $? "the refusal names both numbers ($(tail -n 1 "$T/wide.out"))"
tap_ok "$([ -z "$(ls -A "$QEMUCTL_RUNDIR")" ] && echo 0 || echo 1)" "refused jobs made no state dir"

scancel_case linuxproc
stop_daemons

# --- proctrack/cgroup with task/cgroup (the job's CPUs and memory bound),
# and proctrack/pgid: QEMU is in a process group of its own, outside the
# job's; run's SIGKILL-on-exit ties it to the job all the same
for plugins in "cgroup task/cgroup,task/affinity" "pgid task/none"; do
        read -r proctrack task <<<"$plugins"
        if slurm_start "$proctrack" "$task"; then
                scancel_case "$proctrack"
        else
                tap_ok 1 "a cluster with proctrack/$proctrack starts"
        fi
        stop_daemons
done

kill -TERM "$MUNGED" 2>/dev/null; wait "$MUNGED" 2>/dev/null
tap_done
