#!/usr/bin/env bash
# setvcpus, vcpuinfo, balloon, memstat, setmem through the qemuctl binary,
# with the test guest under TCG: the guest confirms what it sees; dump keeps
# the change; two verbs at once on one VM are serialized.
# Memory first: QEMU 7.2 under TCG aborts on a memory hotplug that follows a
# vCPU unplug (docs: found with the test guest).
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL

f=$(lc_vmfile lv)
vmfile_set "$f" cpu.max=3 memory.size=512M memory.max=1G memory.slots=2
out=$("$Q" start "$f" 2>&1); tap_ok $? "start lv: 1 vCPU (max 3), 512M (max 1G, 2 slots) ($out)"
lc_wait_ready lv >/dev/null; tap_ok $? "guest ready"

memkb() { lc_ask lv memtotal | sed 's/^memtotal-kb //'; }

# --- balloon
tap_is "$("$Q" balloon --json lv | jget '["actual"]')" 536870912 "balloon --json: actual 512M"
kb0=$(memkb)
out=$("$Q" balloon --timeout 120 lv 256M 2>&1); tap_ok $? "balloon lv 256M reaches it ($out)"
a=$("$Q" balloon --json lv | jget '["actual"]')
[ "$a" -ge 265751756 ] && [ "$a" -le 271119155 ]; tap_ok $? "actual within 1% of 256M ($a)"
# balloon returns within 1%; the guest's driver goes on to the target. The
# figures compared below (MemTotal, memstat's total) move until it is there.
for _ in $(seq 240); do a=$("$Q" balloon --json lv | jget '["actual"]'); [ "$a" = 268435456 ] && break; sleep 0.5; done
tap_is "$a" 268435456 "the guest's driver settles at 256M"
kb=$(memkb)
[ "$kb" -le $((kb0 - 200 * 1024)) ]; tap_ok $? "guest MemTotal follows ($kb0 -> $kb kB)"
out=$("$Q" memstat --json lv 2>&1); tap_ok $? "memstat --json"
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = d["actual"] and abs(d["actual"] - 256 * 2**20) <= 256 * 2**20 // 100 and d["available"] and d["unused"] is not None \
     and d["base"] == 512 * 2**20 and d["rss"] > 0 and d["last_update"]
sys.exit(0 if ok else 1)'
tap_ok $? "memstat shows the balloon, guest stats, base memory, RSS ($(echo $out | tr -d '\n' | cut -c1-300))"
# the driver sent one set at boot; memstat must show today's, after the balloon
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["available"] and 64 * 2**20 < d["available"] <= 256 * 2**20 else 1)'
tap_ok $? "memstat: the guest's total (available) follows the balloon (at most 256M), not the boot-time numbers"
tap_is "$(echo "$out" | jget '["available"]')" $((kb * 1024)) "memstat: available is the guest's MemTotal now"
"$Q" dump lv | python3 -c 'import json,sys; b=json.load(sys.stdin)["memory"].get("balloon"); sys.exit(0 if not isinstance(b, dict) or not b.get("stats_interval") else 1)'
tap_ok $? "memstat leaves the VM file's stats_interval as written (dump)"
out=$("$Q" dommemstat lv 2>&1)
echo "$out" | grep -Eq '^unused +[0-9]'; tap_ok $? "dommemstat (virsh name) prints guest stats"
echo "$out" | grep -Eq '^last_update +[0-2][0-9]:[0-5][0-9]:[0-5][0-9], [0-9]+ s ago$'
tap_ok $? "last_update as local time and age ($(echo "$out" | grep last_update))"
out=$("$Q" balloon lv 4G 2>&1); rc=$?
tap_is $rc 1 "balloon above the guest's memory refused"
case $out in *"more than the guest's memory"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "says why ($out)"
out=$("$Q" balloon --timeout 120 lv 512M 2>&1); tap_ok $? "balloon back to 512M ($out)"

# --- setmem
kb0=$(memkb)
out=$("$Q" setmem lv 768M 2>&1); tap_ok $? "setmem lv 768M ($out)"
kb=$kb0
for _ in $(seq 120); do kb=$(memkb); [ "$kb" -ge $((kb0 + 250 * 1024)) ] && break; sleep 0.5; done
[ "$kb" -ge $((kb0 + 250 * 1024)) ]; tap_ok $? "guest sees +256M ($kb0 -> $kb kB)"
tap_is "$("$Q" memstat --json lv | jget '["plugged"]')" 268435456 "memstat: 256M plugged"
"$Q" dump lv | grep -q '"plugged"'; tap_ok $? "dump records memory.plugged"
"$Q" list | grep -Eq '^lv +running +[0-9]+ +1 +768M '; tap_ok $? "list: memory column shows 768M with the plugged DIMM ($("$Q" list | grep '^lv '))"
st=$("$Q" status lv)
echo "$st" | grep -qx 'Memory: *768M (base 512M, plugged 256M, max 1G)'
tap_ok $? "status: total and breakdown ($(echo "$st" | grep Memory:))"
"$Q" status --json lv | python3 -c '
import json, sys
d = json.load(sys.stdin)
M = 2**20
sys.exit(0 if (d["memory"], d["memory_base"], d["memory_plugged"], d["memory_max"]) == (768 * M, 512 * M, 256 * M, 1024 * M) else 1)'
tap_ok $? "status --json: memory 768M = memory_base 512M + memory_plugged 256M, memory_max 1G"
out=$("$Q" setmem lv 2G 2>&1); rc=$?
tap_is $rc 1 "setmem past memory.max refused"
case $out in *"maximum is 1G"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "names the limit ($out)"

# --- a vCPU past cpu.max: the message names the range and what is plugged
for a in "" " 0"; do
        out=$("$Q" vcpupin lv 5$a 2>&1); rc=$?
        tap_is "$rc" 1 "vcpupin lv 5$a fails"
        tap_is "$out" "qemuctl: vcpupin: vCPU 5 does not exist: VM \`lv\` has vCPUs 0-2 (cpu.max 3; 1 plugged now)" \
                "vcpupin lv 5$a: names cpu.max and the plugged count"
done

# --- setvcpus, twice at once: verbs on one VM are serialized. Both ask for
# 3: the one that gets the lock plugs vCPUs 1 and 2, the other waits, then
# finds nothing to do. Interleaved, both would plug the same slot and one
# would fail; a vcpuinfo waiting meanwhile sees 1 or 3 vCPUs, never 2.
( "$Q" setvcpus --guest-online "$LC_TMP/lv.ask" --lock-timeout 300 lv 3 >"$LC_TMP/a.out" 2>&1; echo $? >"$LC_TMP/a.rc" ) &
pa=$!
( "$Q" setvcpus --guest-online "$LC_TMP/lv.ask" --lock-timeout 300 lv 3 >"$LC_TMP/b.out" 2>&1; echo $? >"$LC_TMP/b.rc" ) &
pb=$!
( "$Q" vcpuinfo --json --lock-timeout 300 lv >"$LC_TMP/c.out" 2>&1; echo $? >"$LC_TMP/c.rc" ) &
pc=$!
LC_BG_PIDS="$pa $pb $pc"
wait $pa $pb $pc
tap_is "$(cat "$LC_TMP/a.rc")" 0 "setvcpus 3 ($(tr '\n' ' ' <"$LC_TMP/a.out"))"
tap_is "$(cat "$LC_TMP/b.rc")" 0 "concurrent setvcpus 3 ($(tr '\n' ' ' <"$LC_TMP/b.out"))"
tap_is "$(cat "$LC_TMP/a.out" "$LC_TMP/b.out" | grep -c ': plugged vCPU')" 2 "two vCPUs plugged in all"
grep -q 'plugged vCPU' "$LC_TMP/a.out" && grep -q 'plugged vCPU' "$LC_TMP/b.out"
tap_is $? 1 "by one of the two verbs only"
c=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$LC_TMP/c.out" 2>&1)
case $c in 1|3) r=0 ;; *) r=1 ;; esac
tap_ok $r "a vcpuinfo in between sees 1 or 3 vCPUs, never half-way ($c)"
tap_is "$(lc_ask lv cpus)" "cpus-online 3" "guest reports 3 online"
n=$("$Q" vcpuinfo --json lv | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(sum(1 for e in v if e["thread"] > 0 and e["cpu"] is not None and e["affinity"] and e["cpu_time_ns"] is not None))')
tap_is "$n" 3 "vcpuinfo --json: 3 vCPUs with thread, CPU, affinity, CPU time"
"$Q" vcpuinfo lv | grep -Eq '^ +2 +[0-9]+ +[0-9]+ +[a-z-]+ +[0-9.]+s +[0-9]'; tap_ok $? "vcpuinfo table row for vCPU 2"
"$Q" dump lv | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["cpu"]["vcpus"] == 3 else 1)'
tap_ok $? "dump records 3 vCPUs"

# a verb that cannot get the lock in time says so
exec 9>"$QEMUCTL_RUNDIR/lv/lock"
flock 9
out=$("$Q" setvcpus --lock-timeout 1 lv 2 2>&1); rc=$?
flock -u 9
exec 9>&-
tap_is $rc 1 "setvcpus gives up on a held lock ($out)"

# unplug. No hotplug after this: QEMU 7.2 under TCG aborts on a CPU or
# memory hotplug that follows a vCPU unplug.
out=$("$Q" setvcpus --timeout 120 lv 2 2>&1); tap_ok $? "setvcpus lv 2: unplug completes ($out)"
n=""
for _ in $(seq 120); do n=$(lc_ask lv cpus); [ "$n" = "cpus-online 2" ] && break; sleep 0.5; done
tap_is "$n" "cpus-online 2" "guest reports 2 online"
tap_is "$("$Q" vcpuinfo --json lv | jget '[-1]["vcpu"]')" 1 "the highest vCPU went"
"$Q" dump lv | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["cpu"]["vcpus"] == 2 else 1)'
tap_ok $? "dump records 2 vCPUs"

out=$("$Q" setvcpus lv 4 2>&1); rc=$?
tap_is $rc 1 "setvcpus past max refused"
case $out in *"maximum is 3"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "names the limit ($out)"
"$Q" setvcpus lv 0 >/dev/null 2>&1; tap_is $? 1 "setvcpus 0 refused"
"$Q" setvcpus lv two >/dev/null 2>&1; tap_is $? 2 "setvcpus with a non-number is a usage error"
"$Q" status lv | grep -q running; tap_ok $? "the VM still runs"

"$Q" kill lv >/dev/null 2>&1
tap_done
