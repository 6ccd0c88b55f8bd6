#!/usr/bin/env bash
# vcpupin, emulatorpin, memtune, numatune, numastat on a real QEMU under TCG
# (2 vCPUs, room for 3, no boot device: SeaBIOS idles). Affinity is real
# here; the cgroup controllers are not (hybrid host: the cpuset/memory
# writes are checked in tests/cgroup-guest/checks-placement-verbs.sh).
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/guest/lifecycle.sh"
. "${QEMUCTL_SRCDIR:-.}/tests/lib/host-facts.sh"
Q=${QEMUCTL:?QEMUCTL not set}
QEMU=${QEMUCTL_QEMU:-/usr/bin/qemu-system-x86_64}
n=0 failed=0
tap_ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
tap_is() { if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else tap_ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi; }
tap_skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
[ -x "$QEMU" ] || { echo "1..0 # SKIP $QEMU missing"; exit 77; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 77; }

T=$(mktemp -d /tmp/qemuctl-placement.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
cleanup() {
        lc_kill_recorded "$T"
        [ -n "${LOCK_PID:-}" ] && kill "$LOCK_PID" 2>/dev/null
        sleep 0.2
        rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/pl.json" <<JSON
{
  "name": "pl",
  "machine": "q35",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 2, "max": 3 },
  "memory": { "size": "128M" },
  "serial": "log"
}
JSON

out=$("$Q" start "$T/pl.json" 2>&1); rc=$?
tap_ok $rc "start a 2-vCPU TCG VM ($out)"
[ $rc = 0 ] || { echo "1..$n"; exit 1; }
qpid=$(cat "$QEMUCTL_RUNDIR/pl/qemu.pid")
online=$(cat /sys/devices/system/cpu/online)
last_cpu=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')

aff() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$qpid/task/$1/status" 2>/dev/null; }
vcpu_tid() { # N: from vcpupin --json (query-cpus-fast's thread-id)
        "$Q" vcpupin --json pl | python3 -c 'import json,sys
for v in json.load(sys.stdin):
    if v["vcpu"] == int(sys.argv[1]): print(v["thread"] or "")' "$1"
}

# --- vcpupin: show, pin, check the thread's real affinity
out=$("$Q" vcpupin pl); rc=$?
tap_ok $rc "vcpupin shows the pinning"
echo "$out" | sed 's/^/#   /'
echo "$out" | head -1 | grep -q "VCPU *CPU Affinity"; tap_ok $? "virsh's VCPU / CPU Affinity table"
tap_is "$(echo "$out" | awk '$1 == 0 || $1 == 1 { n++ } END { print n }')" 2 "both vCPUs listed"
t0=$(vcpu_tid 0); t1=$(vcpu_tid 1)
[ -n "$t0" ] && [ -n "$t1" ] && [ -d "/proc/$qpid/task/$t1" ]; tap_ok $? "vCPU threads are QEMU's threads ($t0, $t1)"
tap_is "$(cat /proc/$qpid/task/$t1/comm)" "CPU 1/TCG" "vCPU 1's thread is QEMU's CPU 1/TCG"
a0_before=$(aff "$t0")

out=$("$Q" vcpupin pl 1 "$last_cpu" 2>&1); rc=$?
tap_ok $rc "vcpupin pl 1 $last_cpu ($out)"
tap_is "$(aff "$t1")" "$last_cpu" "vCPU 1's thread: Cpus_allowed_list = $last_cpu (sched_setaffinity)"
tap_is "$(aff "$t0")" "$a0_before" "vCPU 0 untouched"
tap_is "$("$Q" vcpupin pl | awk '$1 == 1 { print $2, $3, $4 }')" "$last_cpu $last_cpu $t1" \
        "vcpupin shows vCPU 1: affinity, recorded pin, thread"
tap_is "$("$Q" vcpupin pl 1 | awk 'NR > 1 { print $1 }')" 1 "vcpupin NAME VCPU shows that vCPU alone"
if host_cgroup2_has cpuset; then
        tap_skip "warning about affinity-only pinning" "this host has cpuset on cgroup2"
else
        case $out in *"warning: pinned with sched_setaffinity only"*"cpuset"*) r=0 ;; *) r=1 ;; esac
        tap_ok $r "warns that pinning is affinity-only without the cpuset controller"
fi

out=$("$Q" vcpupin pl 1 9 2>&1); rc=$?
tap_is "$rc" 1 "vcpupin to CPU 9 fails"
tap_is "$out" "qemuctl: vcpupin: CPU 9 does not exist on this host (online: $online)" "names the CPU and the online ones"
tap_is "$(aff "$t1")" "$last_cpu" "the failed pin changed nothing"
out=$("$Q" vcpupin pl 5 0 2>&1); rc=$?
tap_is "$rc" 1 "vcpupin of vCPU 5 fails"
case $out in *"vCPU 5 does not exist: VM \`pl\` has vCPUs 0-2 (cpu.max 3; 2 plugged now)"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "names the vCPU range: $out"
out=$("$Q" vcpupin pl 1 x 2>&1); rc=$?
tap_is "$rc" 2 "a bad CPU list is a usage error ($out)"
out=$("$Q" vcpupin pl 2 0 2>&1); rc=$?
tap_ok $rc "vcpupin of the unplugged vCPU 2 is recorded ($out)"
"$Q" vcpupin pl | grep -Eq '^ 2 +\(not plugged\) +0 '; tap_ok $? "vcpupin shows vCPU 2: not plugged, pin 0"

# --- emulatorpin: every non-vCPU thread, vCPU threads untouched
out=$("$Q" emulatorpin pl 0 2>&1); rc=$?
tap_ok $rc "emulatorpin pl 0 ($out)"
bad=""
for t in /proc/$qpid/task/*; do
        tid=${t##*/}
        case $tid in "$t0" | "$t1") continue ;; esac
        a=$(aff "$tid")
        [ -z "$a" ] && continue # a worker thread that ended meanwhile
        [ "$a" = 0 ] || bad="$bad $tid($(cat "$t/comm" 2>/dev/null):$a)"
done
tap_is "$bad" "" "every non-vCPU thread of QEMU has Cpus_allowed_list 0"
tap_is "$(aff "$t1")" "$last_cpu" "vCPU 1 keeps its own pin"
tap_is "$(aff "$t0")" "$a0_before" "vCPU 0 keeps its affinity"
tap_is "$("$Q" emulatorpin pl | awk 'NR == 2 { print $2, $3 }')" "0 0" "emulatorpin shows affinity 0, pin 0"
tap_is "$("$Q" emulatorpin --json pl | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["affinity"], d["pin"], d["threads_differing"])')" \
        "0 0 0" "emulatorpin --json"

# --- numastat: QEMU's memory per node
out=$("$Q" numastat pl); rc=$?
tap_ok $rc "numastat"
echo "$out" | sed 's/^/#   /'
echo "$out" | grep -q "^Per-node process memory usage (in MBs) for PID $qpid"; tap_ok $? "numastat -p's heading"
tot=$("$Q" numastat --json pl | python3 -c 'import json,sys
d=json.load(sys.stdin); n0=[x for x in d["nodes"] if x["node"] == 0][0]
print(1 if n0["total"] > 0 and n0["private"] > 0 and d["total"]["total"] >= n0["total"] else 0)')
tap_is "$tot" 1 "numastat --json: node 0 holds QEMU's memory (non-zero private, total)"

# --- numastat over every running VM (numastat -c qemu-kvm): a second VM
sed 's/"name": "pl"/"name": "pl2"/; s/"size": "128M"/"size": "64M"/' "$T/pl.json" >"$T/pl2.json"
out=$("$Q" start "$T/pl2.json" 2>&1); tap_ok $? "start a second VM, pl2 ($out)"
qpid2=$(cat "$QEMUCTL_RUNDIR/pl2/qemu.pid" 2>/dev/null)
out=$("$Q" numastat); rc=$?
tap_ok $rc "numastat without NAME"
echo "$out" | sed 's/^/#   /'
echo "$out" | grep -q "^Per-node process memory usage (in MBs) of every running VM's QEMU"; tap_ok $? "its heading"
echo "$out" | grep -Eq "^VM \(QEMU PID\) +Node 0 .* Total$"; tap_ok $? "a column per node and Total"
for vm in "pl $qpid" "pl2 $qpid2"; do
        set -- $vm
        echo "$out" | grep -Eq "^$1 \($2\) +[0-9]+\.[0-9]{2} .*[1-9][0-9]*\.[0-9]{2}$"; tap_ok $? "a row for VM $1, QEMU pid $2, with a non-zero total"
done
tap_is "$(echo "$out" | grep -c '^pl')" 2 "two VM rows"
# the same rows and columns (the MB change from one read to the next)
tap_is "$("$Q" numastat --all | sed -E 's/[0-9]+\.[0-9]{2}/N/g')" "$(echo "$out" | sed -E 's/[0-9]+\.[0-9]{2}/N/g')" "--all gives the same table"
"$Q" numastat --json --all >"$T/all.json"; tap_ok $? "numastat --all --json"
tap_is "$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
vms={v["name"]: v for v in d["vms"]}
ok=sorted(vms) == ["pl", "pl2"] and vms["pl"]["pid"] == int(sys.argv[2]) and vms["pl2"]["pid"] == int(sys.argv[3])
ok=ok and all(v["total"]["total"] > 0 for v in vms.values())
ok=ok and d["total"]["total"] == sum(v["total"]["total"] for v in vms.values())
ok=ok and all(n["total"] == sum(x["total"] for v in vms.values() for x in v["nodes"] if x["node"] == n["node"]) for n in d["nodes"])
print("yes" if ok else json.dumps(d))' "$T/all.json" "$qpid" "$qpid2")" yes \
        "--json: both VMs with their pids and non-zero totals; the Total row is their sum, per node too"
out=$("$Q" numastat --all pl 2>&1); tap_is $? 2 "numastat --all NAME: a usage error ($out)"
out=$("$Q" kill pl2 2>&1); tap_ok $? "kill pl2 ($out)"
tap_is "$("$Q" numastat | grep -c '^pl')" 1 "once pl2 ended, one VM row"

# --- memtune: values shown; limits refused without the memory controller
out=$("$Q" memtune pl); rc=$?
tap_ok $rc "memtune shows the values"
echo "$out" | grep -q "^hard *: unlimited *memory.max"; tap_ok $? "hard: unlimited (memory.max)"
if host_cgroup2_has memory; then
        tap_skip "memtune refusal" "this host's cgroup2 has the memory controller"
else
        out=$("$Q" memtune pl --hard-limit 1G 2>&1); rc=$?
        tap_is "$rc" 1 "memtune --hard-limit fails here"
        case $out in *"hard (memory.max) needs the cgroup v2 \"memory\" controller"*"does not offer it"*) r=0 ;; *) r=1 ;; esac
        tap_ok $r "names the limit, the controller and why: $out"
        "$Q" dump pl | grep -q '"limits"'; tap_is $? 1 "nothing recorded"
fi
out=$("$Q" memtune pl --hard-limit lots 2>&1); tap_is $? 2 "a bad size is a usage error ($out)"

# --- numatune
out=$("$Q" numatune pl --nodeset 0 2>&1); rc=$?
tap_ok $rc "numatune --nodeset 0 ($out)"
nodes=$(cat /sys/devices/system/node/online 2>/dev/null || echo 0)
out=$("$Q" numatune pl --nodeset 5 2>&1); rc=$?
tap_is "$rc" 1 "numatune --nodeset 5 fails"
case $out in *"host node 5 does not exist; this host has node"*" $nodes") r=0 ;; *) r=1 ;; esac
tap_ok $r "names the host's nodes ($nodes): $out"
out=$("$Q" numatune pl --mode interleave 2>&1); rc=$?
tap_ok $rc "numatune --mode interleave"
case $out in *"recorded for the next start"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "says the mode applies at the next start: $out"
tap_is "$("$Q" numatune --json pl | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["numa_mode"], d["numa_nodeset"], d["mems_allowed"] is not None)')" \
        "interleave 0 True" "numatune --json: mode, nodeset, mems_allowed"

# --- dump keeps all of it
"$Q" dump pl >"$T/dump.json"; tap_ok $? "dump"
tap_is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["cpu"]; n=d["numa"]
print(c["pin"], c["emulator_pin"], n["nodeset"], n["policy"])' "$T/dump.json" | tr -d "'")" \
        "{1: $last_cpu, 2: 0} 0 0 interleave" "dump shows the recorded pins, emulator pin and NUMA binding"
"$Q" validate "$T/dump.json" >/dev/null; tap_ok $? "dump output re-validates"

# --- the lock: a verb waits for another, then gives up
exec 9>"$QEMUCTL_RUNDIR/pl/lock"
flock 9
out=$("$Q" vcpupin --lock-timeout 1 pl 2>&1); rc=$?
tap_is "$rc" 1 "vcpupin waits for the VM's lock and gives up ($out)"
flock -u 9
exec 9>&-

# --- a VM that is not running
"$Q" kill pl >/dev/null 2>&1
for _ in $(seq 50); do [ -d /proc/$qpid ] && [ "$(awk '{print $3}' /proc/$qpid/stat 2>/dev/null)" != Z ] || break; sleep 0.1; done
out=$("$Q" vcpupin pl 2>&1); rc=$?
tap_is "$rc" 1 "vcpupin on a VM that ended fails ($out)"
out=$("$Q" numastat nosuchvm 2>&1); rc=$?
tap_is "$rc" 1 "numastat of an unknown VM fails ($out)"

echo "1..$n"
[ $failed = 0 ]
