#!/bin/sh
# The in-guest tests (busybox sh), run by the cgroup guest's init. TAP on
# stdout (the console); the last line is
#   cgroup-guest: done N passed M failed K skipped
# which the host side (tests/integration/cgroup-guest.sh) waits for. A check
# whose verb is not in this qemuctl build prints
#   ok N - DESC # SKIP REASON
# naming what it waits for. Checks live in checks.sh.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
export QEMUCTL_RUNDIR=/run/qemuctl
Q=/usr/bin/qemuctl
T=/tmp/cgtest
CG=/sys/fs/cgroup
mkdir -p "$T"

n=0 passed=0 failed=0 skipped=0
ok() { # STATUS DESC  (STATUS 0 = pass)
        n=$((n + 1))
        if [ "$1" = 0 ]; then
                echo "ok $n - $2"; passed=$((passed + 1))
        else
                echo "not ok $n - $2"; failed=$((failed + 1))
        fi
}
is() { # GOT WANT DESC
        if [ "$1" = "$2" ]; then ok 0 "$3"; else
                ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi
}
skip() { # DESC REASON
        n=$((n + 1)); skipped=$((skipped + 1))
        echo "ok $n - $1 # SKIP $2"
}
diag() { echo "# $*"; }
# Run a command; on failure show its output as TAP comments. Sets OUT.
run() {
        OUT=$("$@" 2>&1)
        local rc=$?
        [ $rc = 0 ] || echo "$OUT" | sed 's/^/#   /'
        return $rc
}

has_verb() { grep -qx "verb $1" /etc/qemuctl-features; }

# The v2 cgroup path of a task ("/qemuctl/vm1/vcpu0"); "" when gone.
task_cgroup() { # PID [TID]
        sed -n 's/^0:://p' "/proc/$1/task/${2:-$1}/cgroup" 2>/dev/null
}
# The CPUs a thread may run on: what sched_getaffinity returns.
task_affinity() { # PID TID
        awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/task/$2/status" 2>/dev/null
}
status_field() { # PID FIELD
        awk -v k="$2:" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); print }' "/proc/$1/status" 2>/dev/null
}
# tid of QEMU's thread named "CPU N/TCG" (qemuctl passes debug-threads=on).
vcpu_tid() { # PID N
        local t
        for t in /proc/"$1"/task/*; do
                [ "$(cat "$t/comm" 2>/dev/null)" = "CPU $2/TCG" ] && { echo "${t##*/}"; return 0; }
        done
        return 1
}
wait_for() { # SECS CMD...: poll until CMD succeeds
        local end=$(($(date +%s) + $1))
        shift
        until "$@"; do
                [ "$(date +%s)" -lt "$end" ] || return 1
                sleep 0.2
        done
}
alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
qemu_pid() { cat "$QEMUCTL_RUNDIR/$1/qemu.pid" 2>/dev/null; }

# A VM file for an inner VM: TCG, the test guest when a kernel is wanted,
# otherwise no boot device at all (SeaBIOS then idles in HLT, so a running
# inner VM costs almost no CPU in this already emulated guest).
vmfile() { # NAME EXTRA-JSON-MEMBERS
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

# Kill what a VM of ours left running (by its pid files), at the end.
cleanup_vms() {
        local f
        for f in "$QEMUCTL_RUNDIR"/*/qemu.pid "$QEMUCTL_RUNDIR"/*/supervisor.pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
}

echo "TAP version 13"
diag "verbs: $(sed -n 's/^verb //p' /etc/qemuctl-features | tr '\n' ' ')"
start=$(date +%s)
if [ -n "${CGTEST_ONLY:-}" ]; then
        diag "only checks-$CGTEST_ONLY.sh (CGROUP_GUEST_ONLY)"
        . "/cgtest/checks-$CGTEST_ONLY.sh"
else
        . /cgtest/checks.sh
fi
cleanup_vms
echo "1..$n"
diag "in-guest time: $(($(date +%s) - start)) s"
echo "cgroup-guest: done $passed passed $failed failed $skipped skipped"
