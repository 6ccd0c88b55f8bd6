#!/usr/bin/env bash
# start places QEMU and drops its privileges, on this host's real cgroup2
# (hybrid: membership, cgroup.freeze and cgroup.kill work, no controllers):
# QEMU's threads in <parent>/<name>/emulator/ and vcpuN/ (hotplugged vCPUs
# too), freeze and kill through the VM's cgroup, the cgroup removed when QEMU
# ends (by the supervisor, or by `list` when the supervisor died), a VM file
# that needs a missing controller (or a node or hugepage mount this host
# lacks) refused before anything is created, and a QEMU of security.user
# running as that user with no capabilities, no_new_privs, seccomp and only
# the intended fds. Real QEMU under TCG, no boot device (SeaBIOS idles).
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/guest/lifecycle.sh"
Q=${QEMUCTL:?QEMUCTL not set}
QEMU=${QEMUCTL_QEMU:-/usr/bin/qemu-system-x86_64}
n=0 failed=0
tap_ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
tap_is() { if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else tap_ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
[ -x "$QEMU" ] || skip_all "$QEMU missing"
[ "$(id -u)" = 0 ] || skip_all "needs root (cgroups, another user for QEMU)"
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] || skip_all "no cgroup2 mount on this host"
getent passwd nobody >/dev/null || skip_all "no user nobody"
nogroup=$(id -gn nobody)

T=$(mktemp -d /tmp/qemuctl-plstart.XXXXXX)
chmod 755 "$T"
export QEMUCTL_RUNDIR=$T/run
# names unique to this run: cgroups are host-wide, state dirs are not
A=psa$$ B=psb$$ C=psc$$ R=psr$$
cleanup() {
        lc_kill_recorded "$T\|qemuctl"
        sleep 0.3
        for v in $A $B $C $R; do
                [ -d "$CG/qemuctl/$v" ] && find "$CG/qemuctl/$v" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

vmfile() { # NAME EXTRA-MEMBERS
        cat >"$T/$1.json" <<JSON
{
  "name": "$1",
  "machine": "q35",
  "accel": "tcg",
  $2
  "serial": "log"
}
JSON
        echo "$T/$1.json"
}
task_cg() { sed -n 's/^0:://p' "/proc/$1/task/$2/cgroup" 2>/dev/null; }
aff() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/task/$2/status" 2>/dev/null; }
status_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); print }' "/proc/$1/status" 2>/dev/null; }
vcpu_tid() { # PID N
        local t
        for t in /proc/"$1"/task/*; do
                [ "$(cat "$t/comm" 2>/dev/null)" = "CPU $2/TCG" ] && { echo "${t##*/}"; return 0; }
        done
        return 1
}
alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
wait_for() { # SECS CMD...
        local end=$(($(date +%s) + $1))
        shift
        until "$@"; do
                [ "$(date +%s)" -lt "$end" ] || return 1
                sleep 0.1
        done
}
last_cpu=$(($(nproc --all) - 1))

# --- membership: QEMU in emulator/, each vCPU thread in vcpuN/
f=$(vmfile $A '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 2, "max": 3,
           "pin": { "1": "0", "2": "'$last_cpu'" }, "emulator_pin": "'$last_cpu'" },
  "memory": { "size": "128M" },')
out=$("$Q" start "$f" 2>&1); rc=$?
tap_ok $rc "start $A (2 of 3 vCPUs, pins, emulator pin)"
[ $rc = 0 ] || { echo "$out" | sed 's/^/#   /'; echo "1..$n"; exit 1; }
echo "$out" | grep -q 'warning: cpu.pin: the cgroup v2 "cpuset" controller is missing' 2>/dev/null ||
        grep -q ' cpuset ' <(echo " $(cat "$CG/cgroup.controllers") ")
tap_ok $? "start warns that pinning is affinity-only without cpuset (or cpuset is there)"
pid=$(cat "$QEMUCTL_RUNDIR/$A/qemu.pid")
# start returns once the guest runs; the supervisor then moves the vCPU
# threads into vcpuN/ (an RCU grace period without favordynmods) still
# holding the VM's lock: any verb that takes the lock sees them placed
"$Q" qmp $A query-status >/dev/null
tap_ok $? "a verb that takes the VM's lock (qmp $A query-status)"
V=$CG/qemuctl/$A
tap_is "$(task_cg "$pid" "$pid")" "/qemuctl/$A/emulator" "QEMU's main thread is in qemuctl/$A/emulator/"
bad=""
for t in /proc/"$pid"/task/*; do
        case $(cat "$t/comm") in "CPU "*) continue ;; esac
        [ "$(task_cg "$pid" "${t##*/}")" = "/qemuctl/$A/emulator" ] || bad="$bad ${t##*/}"
done
tap_is "$bad" "" "every non-vCPU thread is in emulator/"
for v in 0 1; do
        tid=$(vcpu_tid "$pid" $v)
        tap_is "$(task_cg "$pid" "$tid")" "/qemuctl/$A/vcpu$v" "vCPU $v thread ($tid) is in vcpu$v/"
done
tap_is "$(aff "$pid" "$(vcpu_tid "$pid" 1)")" 0 "vCPU 1 is pinned to CPU 0 (cpu.pin)"
tap_is "$(aff "$pid" "$(vcpu_tid "$pid" 0)")" "$(cat /sys/devices/system/cpu/online)" \
        "vCPU 0 (no pin) may run on every CPU, not the emulator's"
tap_is "$(aff "$pid" "$pid")" "$last_cpu" "QEMU's main thread is pinned to CPU $last_cpu (cpu.emulator_pin)"
tap_is "$(cat "$V/cgroup.type")" "domain threaded" "qemuctl/$A/ is a domain (the root of its threaded subtree)"
tap_is "$(cat "$V/emulator/cgroup.type") $(cat "$V/vcpu0/cgroup.type")" "threaded threaded" "emulator/ and vcpu0/ are threaded"

# --- the same name from another state dir: its cgroup is taken
out=$(QEMUCTL_RUNDIR=$T/run2 "$Q" start "$f" 2>&1); rc=$?
tap_is "$rc" 1 "a second $A (another state dir) is refused"
echo "$out" | grep -q "cgroup $V already holds processes: is a VM of that name running?"
tap_ok $? "naming the busy cgroup"
[ $rc = 1 ] || echo "$out" | sed 's/^/#   /'
tap_is "$(task_cg "$pid" "$pid")" "/qemuctl/$A/emulator" "the first $A is untouched"

# --- hotplug: the new vCPU thread goes to vcpu2/ with its pin
out=$("$Q" setvcpus $A 3 2>&1); rc=$?
tap_ok $rc "setvcpus $A 3"
[ $rc = 0 ] || echo "$out" | sed 's/^/#   /'
wait_for 20 vcpu_tid "$pid" 2 >/dev/null
tid=$(vcpu_tid "$pid" 2)
tap_is "$(task_cg "$pid" "$tid")" "/qemuctl/$A/vcpu2" "hotplugged vCPU 2 thread ($tid) is in vcpu2/"
tap_is "$(aff "$pid" "$tid")" "$last_cpu" "hotplugged vCPU 2 is pinned to CPU $last_cpu"

# --- freeze and thaw through the VM's cgroup
echo 1 >"$V/cgroup.freeze"
wait_for 10 grep -qx 'frozen 1' "$V/cgroup.events"; tap_ok $? "cgroup.freeze 1: cgroup.events says frozen"
t1=$(awk '{ print $14 + $15 }' /proc/"$pid"/task/"$(vcpu_tid "$pid" 0)"/stat); sleep 0.5
t2=$(awk '{ print $14 + $15 }' /proc/"$pid"/task/"$(vcpu_tid "$pid" 0)"/stat)
tap_is "$t2" "$t1" "a frozen vCPU thread gets no CPU time"
echo 0 >"$V/cgroup.freeze"
wait_for 10 grep -qx 'frozen 0' "$V/cgroup.events"; tap_ok $? "cgroup.freeze 0: thawed"
"$Q" qmp --socket "$QEMUCTL_RUNDIR/$A/ctl.sock" query-status 2>&1 | grep -q '"running"'
tap_ok $? "QEMU answers QMP after the thaw, still running"

# --- cgroup.kill ends QEMU; the supervisor records it and removes the cgroup
echo 1 >"$V/cgroup.kill"
wait_for 10 eval '! alive $pid'; tap_ok $? "cgroup.kill ends QEMU"
wait_for 10 eval '[ ! -d $V ]'; tap_ok $? "the supervisor removed qemuctl/$A/"
wait_for 10 eval '"$Q" status $A | grep -q "^State: *crashed"'
tap_ok $? "status says crashed ($("$Q" status $A 2>&1 | sed -n 's/^State: *//p'))"

# --- a supervisor that died leaves the cgroup; kill and list tidy it
f=$(vmfile $C '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "memory": { "size": "64M" },')
"$Q" start "$f" >/dev/null 2>&1; tap_ok $? "start $C"
pid=$(cat "$QEMUCTL_RUNDIR/$C/qemu.pid") sup=$(cat "$QEMUCTL_RUNDIR/$C/supervisor.pid")
kill -KILL "$sup"
kill -KILL "$pid"
# both gone, not just signalled: a supervisor still inside a cgroup write
# (it moves the vCPU threads right after start returns) holds the VM's lock
# until that write returns, and list tidies only what no one holds
wait_for 10 eval '! alive $pid && ! alive $sup'
[ -d "$CG/qemuctl/$C" ]; tap_ok $? "supervisor and QEMU killed: qemuctl/$C/ is left behind"
"$Q" list >/dev/null 2>&1
wait_for 5 eval '[ ! -d $CG/qemuctl/$C ]'; tap_ok $? "qemuctl list removed the stale qemuctl/$C/"

# --- refusals before anything is created
ctl=" $(cat "$CG/cgroup.controllers") "
case $ctl in
*" memory "*) tap_ok 0 "memory limits refused without the memory controller # SKIP this cgroup2 has memory" ;;
*)
        f=$(vmfile $R '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 },
  "memory": { "size": "64M", "limits": { "hard": "256M" } },')
        out=$("$Q" start "$f" 2>&1); rc=$?
        tap_is "$rc" 1 "start with memory.limits.hard is refused (exit 1)"
        echo "$out" | grep -q "memory.limits.hard needs the cgroup v2 \"memory\" controller, but this host's cgroup2 hierarchy ($CG) does not offer it"
        tap_ok $? "the message names the key, the controller and the hierarchy"
        echo "$out" | sed 's/^/#   /'
        echo "$out" | grep -q "or remove memory.limits.hard"; tap_ok $? "and says what to do"
        [ ! -e "$QEMUCTL_RUNDIR/$R" ] && [ ! -e "$CG/qemuctl/$R" ]
        tap_ok $? "nothing was created (no state dir, no cgroup)"
        ;;
esac
f=$(vmfile $R '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "memory": { "size": "64M" },
  "numa": { "policy": "strict", "nodeset": "7" },')
out=$("$Q" start "$f" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
[ $rc = 1 ] && echo "$out" | grep -q "numa.nodeset: host node 7 does not exist; this host has node"
tap_ok $? "a nodeset naming a node this host lacks is refused, naming the node"
f=$(vmfile $R '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "memory": { "size": "64M",
  "hugepages": { "size": "2M", "path": "'$T'" } },')
out=$("$Q" start "$f" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
[ $rc = 1 ] && echo "$out" | grep -q "memory.hugepages"
tap_ok $? "hugepages on a path that is no hugetlbfs mount (or with no free pages) are refused"
[ ! -e "$QEMUCTL_RUNDIR/$R" ] && [ ! -e "$CG/qemuctl/$R" ]; tap_ok $? "still nothing created"

# --- security.user: QEMU as nobody, no capabilities, no_new_privs, seccomp
f=$(vmfile $B '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "memory": { "size": "64M" },
  "security": { "user": "nobody", "group": "'$nogroup'" },')
out=$("$Q" start "$f" 2>&1); rc=$?
tap_ok $rc "start $B as nobody:$nogroup"
[ $rc = 0 ] || echo "$out" | sed 's/^/#   /'
pid=$(cat "$QEMUCTL_RUNDIR/$B/qemu.pid")
uid=$(id -u nobody) gid=$(getent group "$nogroup" | cut -d: -f3)
tap_is "$(status_field "$pid" Uid)" "$uid $uid $uid $uid" "QEMU's uids are nobody's"
tap_is "$(status_field "$pid" Gid)" "$gid $gid $gid $gid" "QEMU's gids are $nogroup's"
tap_is "$(status_field "$pid" CapEff)" 0000000000000000 "CapEff = 0"
tap_is "$(status_field "$pid" CapPrm)" 0000000000000000 "CapPrm = 0"
tap_is "$(status_field "$pid" CapBnd)" 0000000000000000 "CapBnd = 0 (bounding set emptied)"
tap_is "$(status_field "$pid" NoNewPrivs)" 1 "NoNewPrivs = 1"
tap_is "$(status_field "$pid" Seccomp)" 2 "Seccomp = 2 (-sandbox on)"
tap_is "$(task_cg "$pid" "$pid")" "/qemuctl/$B/emulator" "QEMU of another user is in emulator/ too"
bad="" all=""
for fd in /proc/"$pid"/fd/*; do
        t=$(readlink "$fd" 2>/dev/null) || continue
        all="$all ${fd##*/}=$t"
        case $t in
        /dev/null | socket:* | pipe:* | anon_inode:* | "$QEMUCTL_RUNDIR/$B"/serial.log | "$QEMUCTL_RUNDIR/$B"/qemu.log) ;;
        *) bad="$bad ${fd##*/}=$t" ;;
        esac
done
echo "# QEMU's fds:$all"
tap_is "${bad# }" "" "QEMU holds no unintended fd"
for fd in 0 1 2; do
        t=$(readlink /proc/"$pid"/fd/$fd)
        case $t in /dev/null | "$QEMUCTL_RUNDIR/$B"/*) r=0 ;; *) r=1 ;; esac
        tap_ok $r "QEMU's fd $fd is /dev/null or its log ($t)"
done
for s in ctl.sock events.sock relay.sock console.sock; do
        tap_is "$(stat -c '%a %U' "$QEMUCTL_RUNDIR/$B/$s")" "600 root" "$s is 0600 and root's"
done
"$Q" qmp --socket "$QEMUCTL_RUNDIR/$B/ctl.sock" query-status 2>&1 | grep -q '"running"'
tap_ok $? "root's verbs reach QEMU over ctl.sock"
"$Q" kill $B >/dev/null 2>&1; tap_ok $? "kill $B"
wait_for 10 eval '[ ! -d $CG/qemuctl/$B ]'; tap_ok $? "qemuctl/$B/ is gone after kill"

echo "1..$n"
[ $failed = 0 ]
