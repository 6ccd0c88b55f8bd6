# The checks, sourced by run.sh (helpers: ok is skip diag run has_verb
# task_cgroup task_affinity vcpu_tid wait_for alive qemu_pid vmfile).

# --- the harness itself: a real cgroup v2 with every controller, 2 CPUs, 2 nodes
ctl=" $(cat $CG/cgroup.subtree_control 2>/dev/null) "
for c in cpuset cpu memory pids; do
        case $ctl in *" $c "*) r=0 ;; *) r=1 ;; esac
        ok $r "cgroup2 at $CG: $c enabled at the root"
done
is "$(nproc)" 2 "2 CPUs online"
is "$(cat /sys/devices/system/node/online)" 0-1 "2 NUMA nodes online"
run $Q host
echo "$OUT" | grep -q "^cgroup v2: *$CG, controllers: cpuset cpu io memory" 
ok $? "qemuctl host: cgroup v2 at $CG with cpuset cpu io memory ..."
echo "$OUT" | grep '^cgroup' | sed 's/^/#   /'

# --- cgroups/ with every controller: its own real-QEMU unit test
if [ -x /cgtest/test-cgroups-real ]; then
        QEMUCTL_QEMU=/usr/bin/qemu-system-x86_64 /cgtest/test-cgroups-real >"$T/cgroups-real.log" 2>&1
        rc=$?
        sed 's/^/#   /' "$T/cgroups-real.log"
        case $rc in
        0) ok 0 "test-cgroups-real passes on a cgroup2 with every controller" ;;
        77) skip "test-cgroups-real" "$(grep -m1 -o 'SKIP.*' "$T/cgroups-real.log")" ;;
        *) ok 1 "test-cgroups-real passes on a cgroup2 with every controller (exit $rc)" ;;
        esac
else
        skip "test-cgroups-real" "not built (make test-programs)"
fi

. /cgtest/checks-place.sh
. /cgtest/checks-defs.sh
. /cgtest/checks-delegated.sh
. /cgtest/checks-numa.sh
