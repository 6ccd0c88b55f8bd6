# The placement verbs' own views on a cgroup v2 with every controller:
# what vcpupin/memtune/numatune/numastat show, memtune's other limits, its
# refusal, and the record `dump` keeps. Sourced by checks-place.sh while cg1
# runs, after its vcpupin 1 0, emulatorpin 0, numatune --nodeset 1 and
# memtune --hard-limit 160M (helpers from run.sh; $V = cg1's cgroup, $pid =
# its QEMU).

if ! has_verb vcpupin || ! has_verb memtune || ! has_verb numatune || ! has_verb numastat; then
        skip "placement verbs read back the VM's cgroup" "a placement verb is missing"
else
        # vcpupin: the thread's affinity and the record agree
        run $Q vcpupin cg1; ok $? "vcpupin cg1 shows the pinning"
        is "$(echo "$OUT" | awk '$1 == 1 { print $2, $3 }')" "0 0" "vcpupin: vCPU 1 affinity 0, pinned 0"
        run $Q vcpupin cg1 0 1; ok $? "vcpupin cg1 0 1"
        is "$(cat $V/vcpu0/cpuset.cpus 2>/dev/null)" 1 "vcpu0/cpuset.cpus = 1"
        is "$(task_affinity "$pid" "$(vcpu_tid "$pid" 0)")" 1 "vCPU 0 thread: sched_getaffinity says 1"
        echo "$OUT" | grep -q warning; is $? 1 "no affinity-only warning where cpuset works"
        run $Q emulatorpin cg1; ok $? "emulatorpin cg1 shows the pinning"
        is "$(echo "$OUT" | awk 'NR == 2 { print $2, $3 }')" "0 0" "emulatorpin: affinity 0, pinned 0"

        # memtune: values in force come from the cgroup
        # qemuctl's own names: one cgroup file each
        run $Q memtune cg1 --soft 128M --min 16M --swap 0B
        ok $? "memtune cg1 --soft 128M --min 16M --swap 0B"
        is "$(cat $V/memory.high 2>/dev/null)" 134217728 "memory.high = 128M"
        is "$(cat $V/memory.min 2>/dev/null)" 16777216 "memory.min = 16M"
        if [ -f $V/memory.swap.max ]; then
                is "$(cat $V/memory.swap.max)" 0 "memory.swap.max = 0 (swap 0B: none at all)"
        else
                skip "memory.swap.max = 0" "the kernel has no swap accounting"
        fi
        # virsh's names with virsh's meaning (issue 13, item 7): --soft-limit is
        # the limit under contention (memory.low), --swap-hard-limit is memory
        # + swap (160M in force: swap 40M); each change says what it wrote
        run $Q memtune cg1 --soft-limit 96M --swap-hard-limit 200M
        ok $? "memtune cg1 --soft-limit 96M --swap-hard-limit 200M"
        is "$(cat $V/memory.low 2>/dev/null)" 100663296 "virsh's --soft-limit 96M: memory.low = 96M"
        is "$(cat $V/memory.high 2>/dev/null)" 134217728 "memory.high untouched (128M)"
        echo "$OUT" | grep -q "memory.low = 96M (--soft-limit: virsh's limit under contention"
        ok $? "says it wrote memory.low, and why"
        echo "$OUT" | grep -q "memory.swap.max = 40M (--swap-hard-limit 200M is memory + swap"
        ok $? "says it wrote memory.swap.max = 40M (200M - hard 160M)"
        if [ -f $V/memory.swap.max ]; then
                is "$(cat $V/memory.swap.max)" 41943040 "memory.swap.max = 40M"
        else
                skip "memory.swap.max = 40M" "the kernel has no swap accounting"
        fi
        OUT=$($Q memtune cg1 --swap-hard-limit 100M 2>&1)
        is $? 1 "--swap-hard-limit below the hard limit is refused"
        case $OUT in *"below the hard limit 160M"*) r=0 ;; *) r=1 ;; esac
        ok $r "says why: $OUT"
        run $Q memtune cg1; ok $? "memtune cg1 shows the values"
        echo "$OUT" | sed 's/^/#   /'
        echo "$OUT" | grep -q "^hard *: 160M *memory.max"; ok $? "hard : 160M memory.max"
        echo "$OUT" | grep -q "^soft *: 128M *memory.high"; ok $? "soft : 128M memory.high"
        echo "$OUT" | grep -q "^low *: 96M *memory.low"; ok $? "low : 96M memory.low"
        echo "$OUT" | grep -q "^min *: 16M *memory.min"; ok $? "min : 16M memory.min"
        echo "$OUT" | grep -q "recorded values"; is $? 1 "not the recorded values"
        OUT=$($Q memtune --json cg1 2>&1)
        case $OUT in *'"hard": 167772160'*'"source": "cgroup"'*) r=0 ;; *) r=1 ;; esac
        ok $r "memtune --json: hard 167772160 from the cgroup"
        OUT=$($Q memtune cg1 --hard-limit 8M 2>&1); rc=$?
        is "$rc" 1 "memtune --hard-limit 8M below the 16M guarantee is refused"
        case $OUT in *"min guarantee 16M is above the hard limit 8M"*) r=0 ;; *) r=1 ;; esac
        ok $r "says why: $OUT"
        is "$(cat $V/memory.max 2>/dev/null)" 167772160 "memory.max still 160M"

        # numatune: the cgroup's mems, QEMU's Mems_allowed_list
        OUT=$($Q numatune --json cg1 2>&1)
        case $OUT in *'"cgroup_mems": "1"'*) r=0 ;; *) r=1 ;; esac
        ok $r "numatune --json: cgroup mems 1"
        case $OUT in *'"numa_nodeset": "1"'*) r=0 ;; *) r=1 ;; esac
        ok $r "numatune --json: recorded nodeset 1"
        run $Q numatune cg1 --nodeset 0-1; ok $? "numatune cg1 --nodeset 0-1"
        is "$(cat $V/cpuset.mems 2>/dev/null)" 0-1 "cg1's cpuset.mems = 0-1"
        is "$(cat $V/vcpu1/cpuset.mems 2>/dev/null)" 0-1 "vcpu1/cpuset.mems = 0-1"
        OUT=$($Q numatune cg1 --nodeset 2 2>&1); rc=$?
        is "$rc" 1 "numatune --nodeset 2 refused"
        case $OUT in *"host node 2 does not exist; this host has nodes 0-1"*) r=0 ;; *) r=1 ;; esac
        ok $r "names the nodes: $OUT"

        # numastat: two node columns, a non-zero total
        run $Q numastat cg1; ok $? "numastat cg1"
        echo "$OUT" | sed 's/^/#   /'
        echo "$OUT" | grep -q "Node 0 *Node 1 *Total"; ok $? "numastat: a column per node"
        is "$(echo "$OUT" | awk '$1 == "Total" && $NF > 0 { print "yes" }')" yes "numastat: QEMU holds memory (Total > 0)"

        # dump: what the verbs changed is recorded
        run $Q dump cg1; ok $? "dump cg1"
        d=$(echo "$OUT" | tr -d ' \n')
        case $d in *'"pin":{"0":"1","1":"0","2":"0"}'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: cpu.pin 0:1 1:0 2:0"
        case $d in *'"emulator_pin":"0"'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: cpu.emulator_pin 0"
        case $d in *'"nodeset":"0-1"'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: numa.nodeset 0-1"
        case $d in *'"hard":"160M"'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: memory.limits.hard 160M"
        case $d in *'"soft":"128M"'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: memory.limits.soft 128M"
        case $d in *'"low":"96M"'*) r=0 ;; *) r=1 ;; esac
        ok $r "dump: memory.limits.low 96M"
        if [ -f $V/memory.swap.max ]; then
                case $d in *'"swap":"40M"'*) r=0 ;; *) r=1 ;; esac
                ok $r "dump: memory.limits.swap 40M"
        fi
fi
