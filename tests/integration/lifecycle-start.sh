#!/usr/bin/env bash
# start/list/wait/dump/pause/resume/stop with the test guest under TCG, a
# guest that ignores ACPI, two verbs at once, kill -9 of QEMU and of the
# supervisor, and names that must never reach the disk.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL

# --- names refused before anything touches the disk
mkdir -p "$QEMUCTL_RUNDIR"
long=$(printf 'a%.0s' $(seq 200))
for bad in "a/b" ".." "$long"; do
        f=$(lc_vmfile ok)
        sed -i "s|\"name\": \"ok\"|\"name\": \"$bad\"|" "$f"
        out=$("$Q" start "$f" 2>&1); rc=$?
        [ $rc = 1 ]; tap_ok $? "start refuses name '${bad:0:20}' (rc $rc: ${out:0:120})"
        "$Q" status "$bad" >/dev/null 2>&1; tap_is $? 1 "status refuses name '${bad:0:20}'"
done
# a missing disk image is named at its place in the VM file, like validate does
printf '{ "name": "nodisk", "accel": "tcg", "disks": [ { "file": "/nonexistent/a.img" } ] }\n' >"$LC_TMP/nodisk.json"
out=$("$Q" start "$LC_TMP/nodisk.json" 2>&1); rc=$?
[ $rc = 1 ] && case $out in *"nodisk.json:1:"*"disks[0].file: /nonexistent/a.img does not exist"*) true ;; *) false ;; esac
tap_ok $? "start names a missing image as FILE:LINE:COL: disks[0].file (${out:0:160})"
tap_is "$(ls -A "$QEMUCTL_RUNDIR")" "" "nothing was created in the state dir base"

# --- start, list, wait for the ready line, dump re-validates
f=$(lc_vmfile vm1)
out=$("$Q" start "$f" 2>&1); tap_ok $? "start vm1 ($out)"
# QEMU (our own user here) binds its sockets under umask 077: start makes them 0600
for s in ctl.sock events.sock relay.sock console.sock; do
        tap_is "$(stat -c '%a %F' "$QEMUCTL_RUNDIR/vm1/$s")" "600 socket" "$s is a socket of mode 0600"
done
"$Q" list | grep -Eq '^vm1 +running +[0-9]+ +1 +256M'; tap_ok $? "list shows vm1 running with pid, vCPUs, memory"
"$Q" list --json | python3 -c 'import json,sys; l=json.load(sys.stdin); sys.exit(0 if l[0]["name"]=="vm1" and l[0]["state"]=="running" else 1)'
tap_ok $? "list --json"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 vm1; tap_ok $? "wait --for serial: sees the guest's ready line"
out=$("$Q" start "$f" 2>&1); rc=$?
case $out in *"already running"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "starting it again is refused: $out"
"$Q" dump vm1 >"$LC_TMP/dump.json"; tap_ok $? "dump"
"$Q" validate "$LC_TMP/dump.json" >/dev/null; tap_ok $? "dump output re-validates"
tap_is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$LC_TMP/dump.json")" vm1 "dump names the VM"

# the record itself (status.json), not status's view of the processes
rec_state() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$QEMUCTL_RUNDIR/$1/status.json"; }

# --- pause/resume change status
"$Q" pause vm1 >/dev/null; tap_ok $? "pause"
tap_is "$(lc_field vm1 state)" paused "status: paused"
tap_is "$(lc_field vm1 qemu_status)" paused "status: QEMU says paused"
"$Q" resume vm1 >/dev/null; tap_ok $? "resume"
tap_is "$(lc_field vm1 state)" running "status: running again"
# pause and resume return once the supervisor has recorded QEMU's STOP and
# RESUME (it does a moment after QEMU answered the verb): a stopped
# supervisor holds them back until it runs again
spid=$(cat "$QEMUCTL_RUNDIR/vm1/supervisor.pid")
for v in pause resume; do
        kill -STOP "$spid"
        "$Q" $v vm1 >/dev/null 2>"$LC_TMP/$v.err" & vpid=$!; LC_BG_PIDS=$vpid
        sleep 1
        kill -0 "$vpid" 2>/dev/null; tap_ok $? "$v waits while the supervisor has not recorded it"
        kill -CONT "$spid"
        wait "$vpid"; tap_ok $? "$v ($(cat "$LC_TMP/$v.err"))"
        LC_BG_PIDS=
        want=paused; [ $v = resume ] && want=running
        tap_is "$(rec_state vm1)" $want "$v returns once the record says $want"
done
tap_is "$(lc_ask vm1 echo alive)" alive "guest answers after resume"
"$Q" qmp vm1 query-status | grep -q '"status": "running"'; tap_ok $? "qmp NAME query-status"
"$Q" hmp vm1 'info status' | grep -q 'VM status: running'; tap_ok $? "hmp NAME 'info status'"
"$Q" qemu-monitor-command vm1 query-status | grep -q running; tap_ok $? "virsh name qemu-monitor-command"
timeout 5 "$Q" events --all vm1 >"$LC_TMP/events.out"
python3 -c 'import json,sys; e=[json.loads(l)["event"] for l in open(sys.argv[1])]; sys.exit(0 if e[:3]==["RESUME","STOP","RESUME"] else 1)' "$LC_TMP/events.out"
tap_ok $? "events --all: JSON lines, the pause and resume among them"

# --- stop: the ACPI power button powers the guest off
"$Q" stop --timeout 120 vm1 >/dev/null; tap_ok $? "stop"
tap_is "$(lc_field vm1 state)" ended "status right after stop: ended"
tap_is "$(rec_state vm1)" ended "stop returns once the record says ended"
"$Q" wait --for shutdown --timeout 30 vm1; tap_ok $? "wait --for shutdown"
tap_is "$(lc_field vm1 state)" ended "status: ended"
tap_is "$(lc_field vm1 shutdown_reason)" guest-shutdown "powered off by the guest (ACPI)"
grep -q 'power button: powering off' "$QEMUCTL_RUNDIR/vm1/serial.log"; tap_ok $? "the guest saw the power button"
[ -e "$QEMUCTL_RUNDIR/vm1/status.json" ]; tap_ok $? "the state dir stays for inspection"
"$Q" list | grep -Eq '^vm1 +ended'; tap_ok $? "list shows vm1 ended"
# start waits for the VM's lock no longer than --lock-timeout
flock -o "$QEMUCTL_RUNDIR/vm1/lock" sleep 5 & LC_BG_PIDS=$!
# until it holds the lock (a try of ours fails), 5 s at most
for _ in $(seq 100); do flock -n "$QEMUCTL_RUNDIR/vm1/lock" true || break; sleep 0.05; done
t0=$(date +%s%N)
out=$("$Q" start --lock-timeout 300ms "$LC_TMP/vm1.json" 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
case $out in *"holds VM \`vm1\`"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 && ms < 3000 ? 0 : 1 )) "start --lock-timeout 300ms gives up after ${ms} ms: $out"
kill "$LC_BG_PIDS" 2>/dev/null; wait "$LC_BG_PIDS" 2>/dev/null; LC_BG_PIDS=

# --- stop on a paused VM resumes it first: a paused guest cannot see the
#     power button, and would sit out the whole --timeout
"$Q" start "$LC_TMP/vm1.json" >/dev/null; tap_ok $? "start vm1 again"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 vm1; tap_ok $? "vm1 ready"
"$Q" pause vm1 >/dev/null; tap_ok $? "pause vm1"
t0=$(date +%s%N)
"$Q" stop --timeout 60 vm1 >"$LC_TMP/stop-paused.out" 2>&1; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap_ok $(( rc == 0 && ms < 45000 ? 0 : 1 )) "stop of a paused VM returns in ${ms} ms (rc $rc), not after --timeout"
grep -q 'is paused; resuming it' "$LC_TMP/stop-paused.out"; tap_ok $? "stop says it resumes the paused VM: $(head -n1 "$LC_TMP/stop-paused.out")"
tap_is "$(lc_field vm1 state)" ended "status right after stop: ended"
tap_is "$(lc_field vm1 shutdown_reason)" guest-shutdown "the guest powered off through ACPI (not quit)"
"$Q" stop --help | grep -q 'paused VM is resumed first'; tap_ok $? "stop --help says so"

# --- a guest that ignores ACPI is quit after the timeout; meanwhile a second
#     verb on the same VM is refused with the holder named
f=$(lc_vmfile vm2 qemuctl.ignore_acpi=1)
"$Q" start "$f" >/dev/null; tap_ok $? "start vm2 (ignores ACPI)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 vm2; tap_ok $? "vm2 ready"
"$Q" stop --timeout 8 vm2 >"$LC_TMP/stop.out" 2>&1 &
stop_pid=$!; LC_BG_PIDS="$stop_pid"
# the stop holds the lock while it waits for the guest
for _ in $(seq 50); do grep -q stop "$QEMUCTL_RUNDIR/vm2/lock" 2>/dev/null && break; sleep 0.1; done
out=$("$Q" pause --lock-timeout 1 vm2 2>&1); rc=$?
case $out in *"another qemuctl command (pid $stop_pid, \`stop\`) holds VM \`vm2\`"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "a concurrent verb waits, then names the holder: $out"
wait "$stop_pid"; tap_ok $? "stop returns once QEMU quit"
LC_BG_PIDS=
tap_is "$(lc_field vm2 state)" ended "status right after stop (quit): ended"
grep -q 'did not power off' "$LC_TMP/stop.out"; tap_ok $? "stop says the guest ignored the power button"
grep -q 'power button ignored' "$QEMUCTL_RUNDIR/vm2/serial.log"; tap_ok $? "the guest ignored it"
"$Q" wait --for shutdown --timeout 30 vm2
tap_is "$(lc_field vm2 shutdown_reason)" host-qmp-quit "vm2 ended by quit"
tap_is "$(lc_field vm2 state)" ended "vm2 ended"

# --- kill -9 of QEMU: the supervisor records the crash; the state stays
f=$(lc_vmfile vm3)
"$Q" start "$f" >/dev/null; tap_ok $? "start vm3"
qpid=$(cat "$QEMUCTL_RUNDIR/vm3/qemu.pid")
# the VM's cgroup: <cgroup2 mount>/<parent>/<name>, QEMU itself in emulator/
cgmnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
cgrel=$(sed -n 's/^0:://p' "/proc/$qpid/cgroup")
vmcg=$cgmnt${cgrel%/emulator}
if [ -n "$cgmnt" ] && [ "$(id -u)" = 0 ]; then
        tap_is "${cgrel##*/}" emulator "QEMU runs in the VM's emulator/ cgroup ($cgrel)"
        [ -d "$vmcg" ]; tap_ok $? "the VM's cgroup $vmcg exists"
else
        vmcg=
        tap_diag "no cgroup2 mount or not root: no cgroup to check"
fi
kill -KILL "$qpid"
"$Q" wait --for shutdown --timeout 30 vm3; tap_ok $? "vm3 ended after kill -9 of QEMU"
# the record says the end once nothing of the run is left (a start of the
# name may follow at once)
if [ -n "$vmcg" ]; then
        [ ! -d "$vmcg" ]; tap_ok $? "the supervisor removed the VM's cgroup $vmcg before it recorded the end"
fi
tap_is "$(lc_field vm3 state)" crashed "status: crashed"
tap_is "$(lc_field vm3 exit_signal)" 9 "status: killed by signal 9"
"$Q" status vm3 | grep -q 'QEMU was killed (signal 9'; tap_ok $? "status says how in words"
[ -e "$QEMUCTL_RUNDIR/vm3/qemu.log" ] && [ -e "$QEMUCTL_RUNDIR/vm3/serial.log" ]; tap_ok $? "the state stays for inspection"
[ ! -e "$QEMUCTL_RUNDIR/vm3/ctl.sock" ]; tap_ok $? "dead sockets removed"

# --- kill -9 of the supervisor: QEMU keeps running, verbs still work
f=$(lc_vmfile vm4)
"$Q" start "$f" >/dev/null; tap_ok $? "start vm4"
spid=$(cat "$QEMUCTL_RUNDIR/vm4/supervisor.pid")
qpid=$(cat "$QEMUCTL_RUNDIR/vm4/qemu.pid")
kill -KILL "$spid"; sleep 0.5
[ "$(awk '{print $3}' /proc/"$qpid"/stat)" != Z ]; tap_ok $? "QEMU survives its supervisor"
tap_is "$(lc_field vm4 state)" running "status still works: running"
tap_is "$(lc_field vm4 supervisor_alive)" False "status says the supervisor is gone"
"$Q" pause vm4 >/dev/null; tap_ok $? "pause works without a supervisor"
tap_is "$(lc_field vm4 qemu_status)" paused "QEMU paused"
"$Q" resume vm4 >/dev/null; tap_ok $? "resume works without a supervisor"
"$Q" kill vm4 >/dev/null; tap_ok $? "kill works without a supervisor"
tap_is "$(lc_field vm4 state)" ended "an unwatched end is recorded as ended"
tap_is "$(rec_state vm4)" ended "kill writes the end itself when the supervisor is gone"
lc_field vm4 message | grep -q '^killed by qemuctl kill'; tap_ok $? "the record says qemuctl kill ended it: $(lc_field vm4 message)"
tap_is "$(lc_field vm4 shutdown_reason)" host-qmp-quit "by QMP quit"
[ "$(lc_field vm4 ended_at)" -ge "$(lc_field vm4 started_at)" ] && [ "$(lc_field vm4 ended_at)" -gt 0 ]
tap_ok $? "with the time it ended"
"$Q" list | grep -Eq '^vm4 +ended'; tap_ok $? "list tidies it"
out=$("$Q" start "$f" 2>&1); tap_ok $? "start again over the stale state dir ($out)"
# kill; status: consistent at once. kill waits for the supervisor's record:
# a stopped supervisor holds it back until it runs again
spid=$(cat "$QEMUCTL_RUNDIR/vm4/supervisor.pid")
kill -STOP "$spid"
"$Q" kill vm4 >/dev/null & kpid=$!; LC_BG_PIDS=$kpid
sleep 1
kill -0 "$kpid" 2>/dev/null; tap_ok $? "kill waits while the supervisor has not recorded the end"
kill -CONT "$spid"
wait "$kpid"; tap_ok $? "kill vm4"
LC_BG_PIDS=
tap_is "$(rec_state vm4)" ended "kill returns once the supervisor recorded the end"
tap_is "$(lc_field vm4 state)" ended "status right after kill: ended"
"$Q" list | grep -Eq '^vm4 +ended'; tap_ok $? "list right after kill: ended"

# --- stale state dirs, as after a host reboot: the record says running, but
#     its QEMU pid is someone else's (a sleep of ours, started at another
#     time) and its supervisor pid is gone. list and start tidy them and
#     leave the stranger alone.
sleep 600 & stranger=$!; LC_BG_PIDS=$stranger
( exit 0 ) & gone=$!; wait "$gone"
stale() { # NAME: a state dir whose record names the stranger and a gone supervisor
        mkdir -p "$QEMUCTL_RUNDIR/$1"
        "$Q" validate "$(lc_vmfile "$1")" >/dev/null
        cp "$LC_TMP/$1.json" "$QEMUCTL_RUNDIR/$1/spec.json"
        printf '{ "state": "running", "qemu_pid": %d, "qemu_start": 1, "supervisor_pid": %d, "supervisor_start": 1, "started_at": %d000 }\n' \
                "$stranger" "$gone" "$(date +%s)" >"$QEMUCTL_RUNDIR/$1/status.json"
        echo "$stranger" >"$QEMUCTL_RUNDIR/$1/qemu.pid"
        echo "$gone" >"$QEMUCTL_RUNDIR/$1/supervisor.pid"
}
stale st1
"$Q" list | grep -Eq '^st1 +ended'; tap_ok $? "list: a stale record whose pid is someone else's is ended"
tap_is "$(rec_state st1)" ended "list wrote the end into the stale record"
lc_field st1 message | grep -q 'no supervisor'; tap_ok $? "status says nobody watched the end"
stale st2
out=$("$Q" start "$LC_TMP/st2.json" 2>&1); tap_ok $? "start over a stale state dir ($out)"
tap_is "$(lc_field st2 state)" running "st2 runs"
[ "$(cat "$QEMUCTL_RUNDIR/st2/qemu.pid")" != "$stranger" ]; tap_ok $? "with a QEMU of its own"
"$Q" kill st2 >/dev/null; tap_ok $? "kill st2"
kill -0 "$stranger" 2>/dev/null; tap_ok $? "the stranger the stale records named is untouched"

# --- state dirs that lost spec.json or status.json (a full disk, hand
#     editing): listed as broken while no QEMU of theirs runs, status says
#     what is wrong and what to do, start tidies them; a QEMU that still runs
#     is reported as running and never started twice
stale br1; rm "$QEMUCTL_RUNDIR/br1/spec.json"
"$Q" list | grep -Eq '^br1 +broken'; tap_ok $? "list: a dead state dir without spec.json is broken"
out=$("$Q" status br1 2>/dev/null); rc=$?
case $out in *"Problem:"*"has no spec.json"*"remove the directory"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 0 && r == 0 ? 0 : 1 )) "status br1 names the missing spec.json and what to do (rc $rc)"
tap_is "$(lc_field br1 state 2>/dev/null)" broken "status --json: broken"
mkdir -p "$QEMUCTL_RUNDIR/br2"; echo '{ "state": "runn' >"$QEMUCTL_RUNDIR/br2/status.json"
"$Q" list | grep -Eq '^br2 +broken'; tap_ok $? "list: a cut-short status.json is broken"
p=$(lc_field br2 problem 2>/dev/null)
case $p in *"unusable status.json"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "status says status.json is unusable: ${p:0:120}"
out=$("$Q" start "$(lc_vmfile br2)" 2>&1); tap_ok $? "start tidies a broken state dir ($out)"
tap_is "$(lc_field br2 state)" running "br2 runs"
bpid=$(cat "$QEMUCTL_RUNDIR/br2/qemu.pid")
mv "$QEMUCTL_RUNDIR/br2/spec.json" "$LC_TMP/br2.spec"
"$Q" list | grep -Eq "^br2 +running +$bpid "; tap_ok $? "list: a running VM without spec.json is still running with its pid"
p=$(lc_field br2 problem 2>/dev/null)
case $p in *"has no spec.json, but QEMU (pid $bpid)"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "status says its QEMU still runs: ${p:0:120}"
mv "$LC_TMP/br2.spec" "$QEMUCTL_RUNDIR/br2/spec.json"
# without its supervisor, nobody rewrites the record once QEMU is gone
kill -KILL "$(cat "$QEMUCTL_RUNDIR/br2/supervisor.pid")"; sleep 0.3
echo '{' >"$QEMUCTL_RUNDIR/br2/status.json"
"$Q" list | grep -Eq "^br2 +running +$bpid "; tap_ok $? "list: a lost record whose QEMU (qemu.pid) runs is running"
out=$("$Q" start "$LC_TMP/br2.json" 2>&1); rc=$?
case $out in *"still runs"*"kill $bpid"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "start refuses while the lost record's QEMU runs: $out"
[ "$(cat "$QEMUCTL_RUNDIR/br2/qemu.pid")" = "$bpid" ] && kill -0 "$bpid"; tap_ok $? "and left it alone"
kill -KILL "$bpid"; for _ in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
"$Q" list | grep -Eq '^br2 +broken'; tap_ok $? "once that QEMU is gone: broken"
out=$("$Q" start "$LC_TMP/br2.json" 2>&1); tap_ok $? "and start tidies it ($out)"
"$Q" kill br2 >/dev/null; tap_ok $? "kill br2"
kill "$stranger"; wait "$stranger" 2>/dev/null; LC_BG_PIDS=

tap_done
