#!/usr/bin/env bash
# virsh's --live / --config / --current on the live verbs, with the test
# guest under TCG: the refusals virsh makes, the default (--current), and the
# seed's check: vcpupin, emulatorpin, setvcpus, setmem, numatune with
# --config (or both), stop, start -- the guest and /proc show them again.
# memtune --config is checked here by the definition's contents only: this
# host's cgroup2 has no memory controller, so a start with memory.limits is
# refused; tests/cgroup-guest/checks-defs.sh checks memory.max and memory.min
# at the next start on a cgroup2 that has it.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
export QEMUCTL_CONFDIR=$LC_TMP/conf
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || tap_skip_all "needs 2 host CPUs to tell pins apart (nproc: $ncpu)"

f=$(lc_vmfile dc)
vmfile_set "$f" cpu.max=2 memory.size=256M memory.max=512M memory.slots=1
cfg() { "$Q" dump --config dc | jget "$1"; }
has_msg() { case $1 in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# --- a transient VM: --config is refused, as virsh refuses it
t=$(lc_vmfile tr)
"$Q" start "$t" >/dev/null; tap_ok $? "start a transient VM"
out=$("$Q" vcpupin --config tr 0 0 2>&1); rc=$?
has_msg "$out" "transient domains do not have any persistent config"; tap_ok $(( rc == 1 ? $? : 1 )) "--config on a transient VM is refused ($out)"
out=$("$Q" vcpupin --current --live tr 0 0 2>&1); tap_is $? 2 "--current with --live is a usage error ($out)"
"$Q" vcpupin tr 0 0 >/dev/null; tap_ok $? "the default on a running transient VM: live"
"$Q" kill tr >/dev/null

# --- a defined VM that does not run: --current means --config, --live is refused
"$Q" define "$f" >/dev/null; tap_ok $? "define dc"
out=$("$Q" vcpupin --live dc 0 1 2>&1); rc=$?
has_msg "$out" "domain is not running"; tap_ok $(( rc == 1 ? $? : 1 )) "--live on a stopped VM: refused as virsh does ($out)"
out=$("$Q" vcpupin dc 0 1 2>&1); tap_ok $? "vcpupin on a stopped defined VM: the definition ($out)"
tap_is "$(cfg '["cpu"]["pin"]["0"]')" 1 "dump --config: cpu.pin.0 = 1"
out=$("$Q" vcpupin --config dc 5 0 2>&1); tap_is $? 1 "a vCPU past cpu.max is refused ($out)"
out=$("$Q" vcpupin --config dc 2>&1)
echo "$out" | grep -Eq '^ +0 +1$'; tap_ok $? "vcpupin --config shows the definition's pins ($(echo $out))"

# --- the running VM: the default is live; --config leaves it alone
"$Q" start dc >/dev/null; tap_ok $? "start dc"
lc_wait_ready dc >/dev/null; tap_ok $? "guest ready"
pid=$(cat "$QEMUCTL_RUNDIR/dc/qemu.pid")
vcpu_tid() { "$Q" vcpuinfo --json dc | python3 -c 'import json,sys; print([v["thread"] for v in json.load(sys.stdin) if v["vcpu"] == int(sys.argv[1])][0])' "$1"; }
aff() { taskset -pc "$1" | sed 's/.*: //'; }
tap_is "$(aff "$(vcpu_tid 0)")" 1 "vCPU 0 runs on CPU 1: the definition's pin at start"
"$Q" vcpupin dc 0 0 >/dev/null; tap_ok $? "vcpupin dc 0 0 (current = live)"
tap_is "$(aff "$(vcpu_tid 0)")" 0 "vCPU 0 now on CPU 0"
tap_is "$(cfg '["cpu"]["pin"]["0"]')" 1 "the definition still says 1"
"$Q" vcpupin --config dc 0 1 >/dev/null; tap_ok $? "vcpupin --config dc 0 1"
tap_is "$(aff "$(vcpu_tid 0)")" 0 "the running vCPU 0 stays on CPU 0"
"$Q" vcpupin --config dc 1 0 >/dev/null; tap_ok $? "vcpupin --config dc 1 0 (a vCPU not plugged yet)"
"$Q" emulatorpin --live --config dc 0 >/dev/null; tap_ok $? "emulatorpin --live --config dc 0 (both)"
tap_is "$(aff "$pid")" 0 "QEMU's main thread on CPU 0 now"
tap_is "$(cfg '["cpu"]["emulator_pin"]')" 0 "and in the definition"
out=$("$Q" emulatorpin --live --config dc 2>&1); tap_is $? 2 "a query with --live and --config is a usage error ($out)"

# setvcpus: --config within cpu.max; --maximum only with --config
"$Q" setvcpus --config dc 2 >/dev/null; tap_ok $? "setvcpus --config dc 2"
tap_is "$(cfg '["cpu"]["vcpus"]')" 2 "the definition starts with 2"
tap_is "$("$Q" status --json dc | jget '["vcpus"]')" 1 "the running VM still has 1"
out=$("$Q" setvcpus --config dc 3 2>&1); rc=$?
has_msg "$out" "cpu.max"; tap_ok $(( rc == 1 ? $? : 1 )) "setvcpus --config past cpu.max is refused, naming it ($out)"
out=$("$Q" setvcpus --maximum dc 3 2>&1); tap_is $? 2 "--maximum without --config is a usage error ($out)"
out=$("$Q" setvcpus --maximum --config dc 3 2>&1); tap_ok $? "setvcpus --maximum --config dc 3 ($out)"
tap_is "$(cfg '["cpu"]["max"]')" 3 "cpu.max 3 in the definition"
# a pin that the new maximum leaves without its vCPU: the key table refuses it
"$Q" vcpupin --config dc 2 1 >/dev/null
out=$("$Q" setvcpus --maximum --config dc 2 2>&1); rc=$?
has_msg "$out" "cpu.pin.2"; tap_ok $(( rc == 1 ? $? : 1 )) "lowering cpu.max below a pinned vCPU is refused at its place ($out)"
tap_is "$(cfg '["cpu"]["max"]')" 3 "and the definition is unchanged"

# memtune: the definition only here (no memory controller on this host)
out=$("$Q" memtune --config dc --hard-limit 512M --min-guarantee 64M 2>&1); tap_ok $? "memtune --config dc --hard-limit 512M --min-guarantee 64M"
tap_is "$(cfg '["memory"]["limits"]["hard"]')" 512M "memory.limits.hard 512M in the definition"
tap_is "$(cfg '["memory"]["limits"]["min"]')" 64M "memory.limits.min 64M in the definition"
out=$("$Q" memtune --config dc --hard-limit 32M 2>&1); rc=$?
has_msg "$out" "above the hard limit"; tap_ok $(( rc == 1 ? $? : 1 )) "a hard limit below the guarantee is refused ($out)"
"$Q" memtune --config dc | grep -Eq '^hard +: 512M +memory.max'; tap_ok $? "memtune --config shows the definition's limits"
# (removed again: this host's cgroup2 could not start the VM with them)
"$Q" memtune --config dc --hard-limit unlimited --min-guarantee 0B >/dev/null
tap_is "$(cfg '["memory"].get("limits")')" None "memtune --config unlimited / 0B removes them"

# setmem, numatune, balloon
out=$("$Q" setmem --config dc 384M 2>&1); tap_ok $? "setmem --config dc 384M ($out)"
tap_is "$(cfg '["memory"]["plugged"]')" 128M "memory.plugged 128M in the definition"
out=$("$Q" setmem --config dc 1G 2>&1); tap_is $? 1 "setmem --config past memory.max is refused ($out)"
out=$("$Q" numatune --config dc --nodeset 0 --mode interleave 2>&1); tap_ok $? "numatune --config dc --nodeset 0 --mode interleave"
tap_is "$(cfg '["numa"]["policy"]') $(cfg '["numa"]["nodeset"]')" "interleave 0" "numa in the definition"
out=$("$Q" balloon --config dc 200M 2>&1); rc=$?
has_msg "$out" "no balloon size"; tap_ok $(( rc == 2 ? $? : 1 )) "balloon --config is refused, saying why ($out)"
out=$("$Q" balloon --current dc 2>&1); tap_ok $? "balloon --current dc: the running VM's balloon, as --live ($out)"

# --- stop, start: the definition is in force
"$Q" stop --timeout 120 dc >/dev/null; tap_ok $? "stop dc"
out=$("$Q" memtune --live dc 2>&1); rc=$?
has_msg "$out" "domain is not running"; tap_ok $(( rc == 1 ? $? : 1 )) "--live after stop: not running"
"$Q" start dc >/dev/null; tap_ok $? "start dc again"
lc_wait_ready dc >/dev/null; tap_ok $? "guest ready"
pid=$(cat "$QEMUCTL_RUNDIR/dc/qemu.pid")
tap_is "$("$Q" status --json dc | jget '["vcpus"]')" 2 "2 vCPUs (setvcpus --config)"
tap_is "$(lc_ask dc cpus)" "cpus-online 2" "the guest sees 2 CPUs"
tap_is "$(aff "$(vcpu_tid 0)")" 1 "vCPU 0 on CPU 1 (vcpupin --config dc 0 1)"
tap_is "$(aff "$(vcpu_tid 1)")" 0 "vCPU 1 on CPU 0 (vcpupin --config dc 1 0)"
tap_is "$(aff "$pid")" 0 "QEMU's main thread on CPU 0 (emulatorpin --config)"
tap_is "$("$Q" status --json dc | jget '["memory"]')" $((384 * 1024 * 1024)) "384M in all (setmem --config)"
# QEMU's own view (the Debian 6.1 guest leaves a cold-plugged DIMM's memory
# offline unless told, so its MemTotal does not show it)
tap_is "$("$Q" qmp --json dc query-memory-size-summary | jget '["plugged-memory"]')" $((128 * 1024 * 1024)) \
        "QEMU has a 128M DIMM plugged at boot"
grep -q 'policy=interleave' /proc/"$pid"/cmdline 2>/dev/null || tr '\0' ' ' </proc/"$pid"/cmdline | grep -q 'policy=interleave'
tap_ok $? "QEMU runs with policy=interleave (numatune --config)"
"$Q" kill dc >/dev/null
tap_done
