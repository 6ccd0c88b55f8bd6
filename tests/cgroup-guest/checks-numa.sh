# Host NUMA facts on two nodes (qemuctl host: distances, the per-node
# numastat counters, AnonHugePages), numastat over every VM, and automatic
# placement (cpu.placement / numa.placement "auto"): the node with more free
# memory is chosen, whichever it is, and QEMU's memory policy, cpuset.mems,
# cpuset.cpus and affinity show it. Sourced by checks.sh.

# --- qemuctl host on two nodes
run $Q host
host_out=$OUT
d01=$(awk '{ print $2 }' /sys/devices/system/node/node0/distance)
is "$(cat /sys/devices/system/node/node0/distance)" "10 31" "node 0's distances are 10 31 (-numa dist,src=0,dst=1,val=31)"
echo "$host_out" | grep -q "^  node distances:"; ok $? "qemuctl host: a node distances table"
is "$(echo "$host_out" | awk '$1 == "0:" { print $2, $3 } $1 == "1:" { print $2, $3 }' | tr '\n' ' ')" "10 $d01 $d01 10 " \
        "qemuctl host: the distances of both nodes, as sysfs has them"
for nd in 0 1; do
        before=$(awk '$1 == "numa_hit" { print $2 }' /sys/devices/system/node/node$nd/numastat)
        got=$($Q host | awk -v n=$nd '$1 == "node" && $2 == n { getline; if ($1 == "numa_hit") { sub(",", "", $2); print $2 } }')
        after=$(awk '$1 == "numa_hit" { print $2 }' /sys/devices/system/node/node$nd/numastat)
        [ -n "$got" ] && [ "$got" -ge "$before" ] && [ "$got" -le "$after" ]
        ok $? "qemuctl host: node $nd's numa_hit $got is the kernel's (between $before and $after)"
        echo "$host_out" | grep -Eq "^  node $nd +cpus $nd, memory .*, AnonHugePages "; ok $? "qemuctl host: node $nd's CPUs, memory and AnonHugePages"
done
run $Q host --json
case $(echo "$OUT" | tr -d ' \n') in
*'"distances":[10,'"$d01"'],'*'"numastat":{"numa_hit":'*'"distances":['"$d01"',10],'*) r=0 ;;
*) r=1 ;;
esac
ok $r "qemuctl host --json: each node's distances and numastat counters"

# --- automatic placement
# Free memory of a node in MiB, and 2M huge pages taken from a node (they
# are no longer free memory there: what numad would see).
node_free() { awk '$3 == "MemFree:" { print int($4 / 1024) }' /sys/devices/system/node/node$1/meminfo; }
HP=/sys/devices/system/node/node%s/hugepages/hugepages-2048kB/nr_hugepages
reserve() { # NODE PAGES
        local f
        f=$(printf $HP "$1")
        echo "$2" >"$f" 2>/dev/null
        cat "$f" 2>/dev/null
}
# Make node FULL have at least 200 MiB less free memory than the other.
fill() { # FULL OTHER
        local gap pages got
        reserve 0 0 >/dev/null
        reserve 1 0 >/dev/null
        gap=$(($(node_free "$1") - $(node_free "$2") + 200))
        pages=0
        [ $gap -gt 0 ] && pages=$(((gap + 1) / 2))
        got=$(reserve "$1" $pages)
        diag "node $1: $got huge pages of 2M reserved; free now: node 0 $(node_free 0) MiB, node 1 $(node_free 1) MiB"
        [ "$(node_free "$1")" -lt "$(node_free "$2")" ]
}
auto_vm() { # NAME NODE (the node expected: the one with more free memory)
        local name=$1 nd=$2 f pid tid VA
        VA=$CG/qemuctl/$name
        f=$(vmfile "$name" '"cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1, "placement": "auto" },
  "memory": { "size": "64M" },')
        OUT=$($Q start "$f" 2>&1); ok $? "start $name (cpu.placement auto)"
        echo "$OUT" | sed 's/^/#   /'
        echo "$OUT" | grep -q "note: automatic placement: numa.placement and cpu.placement \"auto\": host node $nd "
        ok $? "start says it chose host node $nd"
        pid=$(qemu_pid "$name")
        run $Q qmp "$name" query-status # waits for the vCPU moves (the VM's lock)
        grep -qE "^[0-9a-f]+ bind:$nd( |$)" /proc/"$pid"/numa_maps; ok $? "$name: guest RAM is bound to node $nd (numa_maps: bind:$nd)"
        is "$(cat $VA/emulator/cpuset.mems.effective 2>/dev/null)" $nd "$name: cpuset.mems in effect for QEMU = $nd"
        is "$(status_field "$pid" Mems_allowed_list)" $nd "$name: QEMU's Mems_allowed_list = $nd"
        tid=$(vcpu_tid "$pid" 0)
        is "$(cat $VA/vcpu0/cpuset.cpus 2>/dev/null)" $nd "$name: vcpu0/cpuset.cpus = $nd (node $nd's CPU)"
        is "$(task_affinity "$pid" "$tid")" $nd "$name: vCPU 0 thread: sched_getaffinity says $nd"
        is "$(task_affinity "$pid" "$pid")" $nd "$name: QEMU's main thread: sched_getaffinity says $nd"
        run $Q dump "$name"
        d=$(echo "$OUT" | tr -d ' \n')
        case $d in *'"placement":"auto"'*'"cpuset":"'$nd'"'*'"nodeset":"'$nd'"'*) r=0 ;; *'"cpuset":"'$nd'"'*'"placement":"auto"'*'"nodeset":"'$nd'"'*) r=0 ;; *) r=1 ;; esac
        ok $r "$name: dump records the choice (placement auto, cpu.cpuset $nd, numa.nodeset $nd)"
        [ $r = 0 ] || echo "#   $d"
        run $Q status "$name"
        echo "$OUT" | grep -q "^Placement: *auto (numa and cpu, chosen at start): memory on host node $nd, CPUs $nd$"
        ok $? "$name: status says where"
}
if ! [ -w "$(printf $HP 0)" ] || ! [ -w "$(printf $HP 1)" ]; then
        skip "automatic placement" "no per-node 2M huge pages to make the nodes' free memory differ"
else
        fill 0 1; ok $? "node 0 has less free memory than node 1"
        auto_vm ap1 1
        # --- numastat over every running VM: a row for ap1, a column per node
        if has_verb numastat; then
                run $Q numastat; ok $? "numastat (every VM)"
                echo "$OUT" | sed 's/^/#   /'
                echo "$OUT" | grep -Eq "^VM \(QEMU PID\) +Node 0 +Node 1 +Total$"; ok $? "numastat: a column per node"
                echo "$OUT" | grep -Eq "^ap1 \($(qemu_pid ap1)\) "; ok $? "numastat: ap1's row"
        fi
        # numatune --nodeset by hand: the placement is static from now on
        run $Q numatune ap1 --nodeset 0-1; ok $? "numatune ap1 --nodeset 0-1"
        run $Q dump ap1
        case $(echo "$OUT" | tr -d ' \n') in *'"nodeset":"0-1","placement":"static"'*) r=0 ;; *) r=1 ;; esac
        ok $r "ap1: dump says numa.nodeset 0-1, numa.placement static (the next start keeps them)"
        run $Q kill ap1; ok $? "kill ap1"
        fill 1 0; ok $? "now node 1 has less free memory than node 0"
        auto_vm ap2 0
        run $Q kill ap2; ok $? "kill ap2"
        reserve 0 0 >/dev/null
        reserve 1 0 >/dev/null
fi
