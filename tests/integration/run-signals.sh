#!/usr/bin/env bash
# qemuctl run under a job scheduler's signals: Slurm's scancel (and systemd's
# KillMode=control-group, CI runners that kill a process tree) send SIGTERM to
# every process of the job, QEMU included. QEMU must not end on it: the guest
# still gets the ACPI power button from run's supervisor. And when run's
# supervisor itself is SIGKILLed (Slurm after KillWait), no QEMU is left.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL

# start_run NAME: qemuctl run in the background, until the guest is ready; sets PID
start_run() {
        lc_vmfile "$1" >/dev/null
        "$Q" run --timeout 300 --serial-log "$LC_TMP/$1.serial" "$LC_TMP/$1.json" 2>"$LC_TMP/$1.err" &
        PID=$!; LC_BG_PIDS=$PID
        lc_wait_ready "$1" >/dev/null 2>&1
}

# SIGTERM to run and to QEMU at once, as slurmstepd's proctrack/linuxproc
# (every descendant of the step) and proctrack/cgroup (every pid of the job's
# cgroup) send it
start_run all
qpid=$(cat "$QEMUCTL_RUNDIR/all/qemu.pid")
kill -TERM "$PID" "$qpid"
wait "$PID"; rc=$?; LC_BG_PIDS=""
tap_is "$rc" 130 "SIGTERM to run and QEMU together -> 130 ($(cat "$LC_TMP/all.err"))"
grep -q 'power button: powering off' "$LC_TMP/all.serial"; tap_ok $? "the guest saw the power button"
tap_is "$(lc_field all shutdown_reason)" guest-shutdown "the guest powered itself off (not host-signal)"
grep -q 'terminating on signal' "$QEMUCTL_RUNDIR/all/qemu.log"; tap_ok $((!$?)) "QEMU did not end on the signal"

# SIGTERM, SIGINT and SIGHUP to QEMU alone: it keeps running; run still ends it
start_run alone
qpid=$(cat "$QEMUCTL_RUNDIR/alone/qemu.pid")
kill -TERM "$qpid"; kill -INT "$qpid"; kill -HUP "$qpid"
tap_is "$(lc_ask alone echo still-here 2>/dev/null)" still-here "QEMU ignores SIGTERM, SIGINT and SIGHUP sent to it alone"
kill -TERM "$PID"
wait "$PID"; rc=$?; LC_BG_PIDS=""
tap_is "$rc" 130 "then run's own SIGTERM stops it -> 130"

# the supervisor SIGKILLed: QEMU goes with it (PR_SET_PDEATHSIG)
start_run orphan
qpid=$(cat "$QEMUCTL_RUNDIR/orphan/qemu.pid")
kill -KILL "$PID"
wait "$PID" 2>/dev/null; LC_BG_PIDS=""
gone=1
for _ in $(seq 100); do
        st=$(awk '{print $3}' "/proc/$qpid/stat" 2>/dev/null)
        if [ -z "$st" ] || [ "$st" = Z ]; then gone=0; break; fi
        sleep 0.1
done
tap_ok $gone "QEMU ends when run's supervisor is SIGKILLed (no VM left nobody waits for)"

tap_done
