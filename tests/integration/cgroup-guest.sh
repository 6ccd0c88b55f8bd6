#!/usr/bin/env bash
# qemuctl on a real cgroup v2 with every controller: boots the cgroup guest
# (tests/cgroup-guest/: Debian's kernel, qemuctl, QEMU, the test guest) under
# TCG with 2 vCPUs on 2 fake NUMA nodes, lets it run its checks with real
# inner QEMUs, and reports their TAP lines from its serial console. Any
# failing check inside fails this test; a missing "done" line (the guest hung
# or crashed) too. Builds the guest first when it is missing or older than
# qemuctl or its sources.
#
# Env: CGROUP_GUEST_TIMEOUT (s, default 780: boot + every check),
#      CGROUP_GUEST_KEEP=1 (keep the serial log; its path is printed),
#      CGROUP_GUEST_ONLY=NAME (run tests/cgroup-guest/checks-NAME.sh alone:
#      while working on one group of checks; make test runs them all),
#      CGROUP_GUEST_BENCH=ROUNDS (timing mode for `make bench`, not a test:
#      the guest runs tests/cgroup-guest/bench.sh instead of its checks, and
#      its "cgroup-guest-bench:" lines are printed without that prefix).
set -u
src=${QEMUCTL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${QEMUCTL_BUILD:-$src/build}
qemuctl=${QEMUCTL:-$src/qemuctl}
qemu=${QEMU:-/usr/bin/qemu-system-x86_64}
out=$build/cgroup-guest
limit=${CGROUP_GUEST_TIMEOUT:-780}

skip_all() { echo "1..0 # SKIP $*"; exit 77; }
[ -x "$qemu" ] || skip_all "$qemu not found: install qemu-system-x86"
[ -f "$build/guest/MISSING" ] && skip_all "test guest not built: $(cat "$build/guest/MISSING")"
[ -f "$build/guest/initrd.img" ] || skip_all "test guest not built ($build/guest): run make guest"
[ -x "$qemuctl" ] || { echo "# no qemuctl binary at $qemuctl (run make)"; exit 1; }

stale=0
[ -f "$out/initrd.img" ] || stale=1
for f in "$qemuctl" "$build/guest/initrd.img" "$build/tests/test-cgroups-real" "$build"/bench/bench-start "$build"/bench/cg-move-wait "$src"/tests/cgroup-guest/*; do
        [ -e "$f" ] && [ "$f" -nt "$out/initrd.img" ] && stale=1
done
if [ $stale = 1 ]; then
        t0=$(date +%s)
        QEMUCTL=$qemuctl QEMUCTL_BUILD=$build QEMU=$qemu "$src/tests/cgroup-guest/build.sh" "$out" 2>&1 | sed 's/^/# /'
        rc=${PIPESTATUS[0]}
        [ "$rc" = 77 ] && skip_all "cgroup guest not built: $(cat "$out/MISSING")"
        [ "$rc" = 0 ] || { echo "# building the cgroup guest failed (exit $rc)"; exit 1; }
        echo "# built the cgroup guest in $(($(date +%s) - t0)) s"
fi

tmp=$(mktemp -d /tmp/qemuctl-cgguest.XXXXXX)
qpid=""
cleanup() {
        if [ -n "$qpid" ]; then
                kill -KILL "$qpid" 2>/dev/null
                wait "$qpid" 2>/dev/null
        fi
        if [ "${CGROUP_GUEST_KEEP:-0}" = 1 ]; then echo "# serial log kept: $tmp/serial.log"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 2 vCPUs on 2 NUMA nodes (cpuset.cpus and cpuset.mems have somewhere to
# move to), 31 apart (not the default 20: qemuctl host must read it); 1.25 GiB per node: inner VMs are small, but a memory hog test
# allocates past their limit. cgroup_no_v1=all leaves every controller to v2.
t0=$(date +%s)
"$qemu" -accel tcg -machine q35 -cpu max -smp 2 -m 2560M -nodefaults -display none -no-reboot \
        -object memory-backend-ram,id=m0,size=1280M -object memory-backend-ram,id=m1,size=1280M \
        -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 -numa dist,src=0,dst=1,val=31 \
        -kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
        -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 cgtest.timeout=$((limit - 30))${CGROUP_GUEST_BENCH:+ cgtest.bench=$CGROUP_GUEST_BENCH}${CGROUP_GUEST_ONLY:+ cgtest.only=$CGROUP_GUEST_ONLY}" \
        -serial "file:$tmp/serial.log" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!

log=$tmp/serial.log
alive() { kill -0 "$qpid" 2>/dev/null && [ "$(awk '{print $3}' /proc/"$qpid"/stat 2>/dev/null)" != Z ]; }
first=""
while ! grep -q '^cgroup-guest: done' "$log" 2>/dev/null; do
        [ -z "$first" ] && grep -q '^TAP version' "$log" 2>/dev/null && first=$(($(date +%s) - t0))
        alive || break
        [ $(($(date +%s) - t0)) -lt "$limit" ] || break
        sleep 1
done
total=$(($(date +%s) - t0))
# the guest powers off right after "done"; give it a moment, then make sure
for _ in 1 2 3 4 5; do alive || break; sleep 1; done

tr -d '\r' <"$log" >"$tmp/console.txt"
if [ -n "${CGROUP_GUEST_BENCH:-}" ]; then
        sed -n 's/^cgroup-guest-bench: //p' "$tmp/console.txt"
        grep -q '^cgroup-guest: done' "$tmp/console.txt" || { echo "the guest did not finish (${total} s)" >&2; exit 1; }
        exit 0
fi
# The guest's TAP, as it came (the serial line ends in CRLF).
sed -n '/^TAP version/,$p' "$tmp/console.txt" | grep -E '^(not )?ok [0-9]+|^#' || true
done_line=$(grep -m1 '^cgroup-guest: done' "$tmp/console.txt")
n_ok=$(grep -cE '^ok [0-9]+' "$tmp/console.txt")
n_notok=$(grep -cE '^not ok [0-9]+' "$tmp/console.txt")
echo "# guest: ${first:-?} s to its first check, $total s in all"
if [ -z "$done_line" ]; then
        if alive; then echo "# the guest did not finish within ${limit} s"; else echo "# QEMU (the cgroup guest) ended before the guest finished"; fi
        echo "# console (last 60 lines):"; tail -n 60 "$tmp/console.txt" | sed 's/^/#   /'
        sed 's/^/# qemu: /' "$tmp/qemu.log"
        echo "not ok 1 - the cgroup guest ran its checks to the end"
        echo "1..1"
        exit 1
fi
echo "# $done_line"
echo "1..$((n_ok + n_notok))"
[ "$n_notok" = 0 ] && [ $((n_ok + n_notok)) -gt 0 ] && case $done_line in *" 0 failed"*) exit 0 ;; esac
exit 1
