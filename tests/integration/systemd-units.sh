#!/usr/bin/env bash
# qemuctl's systemd units (systemd/*.in, `make install`) under a real systemd
# as PID 1: a Debian 12 root file system (tests/systemd-container/, built from
# the configured apt sources and cached in build/systemd-container by its
# recipe) booted with `systemd-nspawn -b`, qemuctl and the units installed in
# it by `make install`, the test guest (build/guest) run under TCG inside.
# Checked: the container reaches multi-user.target; `systemctl start
# qemuctl@vm1` returns once the guest runs (Type=notify: READY=1 after `cont`
# and the placement), the unit's cgroup holds QEMU's threads (Delegate=yes:
# vm1/emulator, vm1/vcpuN, qemuctl in supervisor/), STATUS= is shown;
# `systemctl stop` powers the guest off through ACPI (the console in the
# journal says so) with a successful exit status (130); a guest that powers
# off by itself ends the unit with 0; QEMU refusing its command line fails
# the unit with 3. With `start-all`/`stop-all` in this qemuctl: an autostart
# VM comes up at boot (qemuctl-guests.service) and is powered off through
# ACPI when the container powers off.
#
# Env: SYSTEMD_UNITS_KEEP=1 keeps the work dir (console, journal).
set -u
src=${QEMUCTL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${QEMUCTL_BUILD:-${BUILD:-build}}
case $build in /*) ;; *) build=$src/$build ;; esac
out=$build/systemd-container

n=0 failed=0
ok() { # STATUS DESC
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() { # GOT WANT DESC
        if [ "$1" = "$2" ]; then ok 0 "$3"; else
                ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
diag() { echo "# $*"; }

[ "$(id -u)" = 0 ] || skip_all "needs root (systemd-nspawn boots a container)"
command -v systemd-nspawn >/dev/null || skip_all "systemd-nspawn missing: install systemd-container"
command -v nsenter >/dev/null || skip_all "nsenter missing: install util-linux"
command -v script >/dev/null || skip_all "script missing: install bsdutils"
[ -f "$build/guest/initrd.img" ] && [ -f "$build/guest/vmlinuz" ] ||
        skip_all "test guest not built: $(cat "$build/guest/MISSING" 2>/dev/null || echo "run make guest")"

recipe=$(cat "$src"/tests/systemd-container/build.sh "$src"/tests/systemd-container/packages "$src"/tests/lib/debian-root.sh | sha256sum | cut -d' ' -f1)
if [ ! -d "$out/root" ] || [ "$(cat "$out/RECIPE" 2>/dev/null)" != "$recipe" ]; then
        t0=$(date +%s)
        "$src/tests/systemd-container/build.sh" "$out" >&2
        rc=$?
        [ "$rc" = 77 ] && skip_all "container root not built: $(cat "$out/MISSING")"
        [ "$rc" = 0 ] || { echo "# building the container root failed (exit $rc)"; echo "1..0"; exit 1; }
        diag "built the container root in $(($(date +%s) - t0)) s"
fi

tmp=$(mktemp -d /tmp/qemuctl-sdunits.XXXXXX)
chmod 0755 "$tmp"
spid="" cg="" cgv1=""
cleanup() {
        if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
                # the container's systemd halts on SIGRTMIN+4 (poweroff);
                # then nspawn itself
                [ -n "${leader:-}" ] && kill -s SIGRTMIN+4 "$leader" 2>/dev/null
                for _ in $(seq 1 30); do kill -0 "$spid" 2>/dev/null || break; sleep 1; done
                pkill -KILL -P "$spid" 2>/dev/null
                kill -KILL "$spid" 2>/dev/null
        fi
        wait 2>/dev/null
        # ours, and what nspawn made below it (its supervisor/ and payload/,
        # in the v1 name=systemd hierarchy of a hybrid host too)
        [ -n "$cg" ] && for d in "$cg" ${cgv1:+"$cgv1"}; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        if [ "${SYSTEMD_UNITS_KEEP:-0}" = 1 ]; then echo "# kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# qemuctl and its units, as `make install` puts them (PREFIX=/usr/local:
# /usr/local/lib/systemd/system is on systemd's unit path)
if ! make -s -C "$src" BUILD="$build" PREFIX=/usr/local DESTDIR="$tmp/inst" install >"$tmp/install.log" 2>&1; then
        sed 's/^/# /' "$tmp/install.log"
        echo "not ok 1 - make install"; echo "1..1"; exit 1
fi
# what survives the container's reboot: the definitions, /etc/systemd/system
# and the VMs' state dirs (the root itself is a throwaway overlay)
mkdir -p "$tmp/etc-qemuctl" "$tmp/state"
chmod 0700 "$tmp/etc-qemuctl" "$tmp/state"
cp -a "$out/root/etc/systemd/system" "$tmp/etc-systemd"

# Not under systemd here (a CI container, a bare host): nspawn neither
# registers with machined nor makes a scope, so it runs in a cgroup of our
# own (--keep-unit), and the container gets its own cgroup2 namespace below
# it (unified hierarchy, as on a Debian 12 host).
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
nspawn_args=(-D "$out/root" --volatile=overlay --machine=qemuctl-test
        --bind-ro="$tmp/inst/usr/local:/usr/local" --bind-ro="$build/guest:/guest"
        --bind="$tmp/etc-qemuctl:/etc/qemuctl" --bind="$tmp/etc-systemd:/etc/systemd/system"
        --bind="$tmp/state:/run/qemuctl")
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
        # nspawn asks systemd-machined, over the system bus, for a scope of its own
        [ -S /run/dbus/system_bus_socket ] ||
                skip_all "PID 1 is systemd but no D-Bus system bus runs (/run/dbus/system_bus_socket): systemd-nspawn registers the container with systemd-machined over it (apt-get install dbus)"
        diag "PID 1 is systemd: nspawn registers with systemd-machined (a machine-qemuctl\\x2dtest.scope)"
else
        # mountinfo: optional fields, then "-", the type, the source, the options
        mounted() { awk -v t="$1" -v o="${2:-}" '{ for (i = 7; i < NF; i++) if ($i == "-") break }
                $(i + 1) == t && (o == "" || ("," $(i + 3) ",") ~ ("," o ",")) { print $5; exit }' /proc/self/mountinfo; }
        mnt=$(mounted cgroup2)
        [ -n "$mnt" ] || skip_all "no cgroup2 hierarchy mounted (systemd-nspawn needs one)"
        cg=$mnt/qemuctl-sdunits-$$
        mkdir "$cg" || skip_all "cannot make a cgroup for the container under $mnt"
        v1=$(mounted cgroup name=systemd)
        [ -n "$v1" ] && cgv1=$v1/qemuctl-sdunits-$$
        nspawn_args+=(--register=no --keep-unit)
        diag "PID 1 is $(cat /proc/1/comm), not systemd: nspawn --register=no --keep-unit in $cg"
fi

# Boot once; $leader = the container's PID 1 (seen from here)
boot() { # LOG
        local log=$1
        (
                [ -n "$cg" ] && echo $BASHPID >"$cg/cgroup.procs"
                # nspawn's console wants a terminal; script(1) gives it one
                exec script -qfec "$(printf '%q ' systemd-nspawn "${nspawn_args[@]}" -b)" /dev/null </dev/null >"$log" 2>&1
        ) &
        spid=$!
        leader=""
        for _ in $(seq 1 300); do
                for p in $(pgrep -x systemd); do
                        # PID 1 of a pid namespace whose nspawn is ours
                        [ "$(awk '/^NSpid:/ { print $NF }' /proc/$p/status 2>/dev/null)" = 1 ] || continue
                        local q=$p
                        while [ "$q" -gt 1 ]; do
                                [ "$q" = "$spid" ] && { leader=$p; break 2; }
                                q=$(awk '/^PPid:/ { print $2 }' /proc/$q/status 2>/dev/null || echo 1)
                        done
                done
                kill -0 "$spid" 2>/dev/null || break
                [ -n "$leader" ] && break
                sleep 0.2
        done
        [ -n "$leader" ]
}
in_ct() { nsenter -t "$leader" -a -- "$@"; }
poweroff_ct() { # wait until nspawn is gone (it ends when the container powers off)
        in_ct systemctl poweroff --no-block >/dev/null 2>&1 || kill -s SIGRTMIN+4 "$leader" 2>/dev/null
        for _ in $(seq 1 120); do kill -0 "$spid" 2>/dev/null || break; sleep 1; done
        ! kill -0 "$spid" 2>/dev/null && { wait "$spid" 2>/dev/null; spid=""; }
}
# The test guest; ttyS1 (its question channel) must exist for it to arm the
# power button watcher and say "ready" (tests/guest/README.md).
vmfile() { # NAME CMDLINE-EXTRA [MORE-QEMU-ARGS]
        cat <<JSON
{
  "name": "$1",
  "machine": "q35",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 2 },
  "memory": { "size": "256M" },
  "boot": { "kernel": "/guest/vmlinuz", "initrd": "/guest/initrd.img",
            "cmdline": "console=ttyS0 panic=-1 quiet $2" },
  "qemu": { "args": ["-chardev", "socket,id=ask,path=/run/$1-ask.sock,server=on,wait=off",
                     "-device", "isa-serial,chardev=ask"${3:+, $3}] }
}
JSON
}
define() { # NAME CMDLINE-EXTRA [MORE-QEMU-ARGS]: qemuctl define, in the container
        vmfile "$@" | in_ct sh -c "cat >/tmp/$1.json"
        in_ct /usr/local/bin/qemuctl define "/tmp/$1.json" >/dev/null
}
unit_prop() { in_ct systemctl show -P "$2" "$1" 2>/dev/null; }
journal_of() { in_ct journalctl -q -o cat -u "$1" 2>/dev/null; }
# journald reads a unit's output on its own time: what a process wrote just
# before it ended may reach the journal after the unit is inactive
journal_has() { journal_of "$1" | grep -q -- "$2"; } # UNIT REGEX
wait_for() { # SECS CMD...
        local end=$(($(date +%s) + $1))
        shift
        until "$@"; do
                [ "$(date +%s)" -lt "$end" ] || return 1
                sleep 0.5
        done
}

echo "TAP version 13"
t0=$(date +%s)
if ! boot "$tmp/console1.log"; then
        sed 's/^/# console: /' "$tmp/console1.log" | tail -30
        echo "not ok 1 - the container booted (systemd as PID 1)"; echo "1..1"; exit 1
fi
ok 0 "the container's systemd runs as PID 1 (pid $leader here)"
# its private socket is there once it is past its own set-up
wait_for 60 in_ct test -S /run/systemd/private
state=$(in_ct systemctl is-system-running --wait 2>/dev/null)
case $state in running | degraded) ok 0 "systemd finished booting ($state)" ;; *) ok 1 "systemd finished booting ($state)" ;; esac
[ "$state" = degraded ] && in_ct systemctl --failed --no-legend | sed 's/^/#   failed: /'
is "$(in_ct systemctl is-active multi-user.target)" active "multi-user.target reached"
diag "boot to multi-user.target: $(($(date +%s) - t0)) s"
is "$(unit_prop qemuctl@vm1.service LoadState)" loaded "qemuctl@.service is installed where systemd finds it (make install)"

# --- what cgroup.mode auto sees: systemd marks a Delegate=yes unit's cgroup
in_ct systemd-run -q --wait --pipe -p Delegate=yes /usr/local/bin/qemuctl host 2>&1 |
        grep -q "qemuctl runs in: /system.slice/run-.*\.service, delegated"
ok $? "qemuctl host in a unit with Delegate=yes: its cgroup is delegated (trusted.delegate)"
in_ct systemd-run -q --wait --pipe /usr/local/bin/qemuctl host 2>&1 | grep -q "qemuctl runs in: .*, not delegated"
ok $? "in a unit without it: not delegated"

# --- one VM as a unit
define vm1 ""; ok $? "qemuctl define vm1 (in the container: /etc/qemuctl/vms/vm1.json)"
ts=$(date +%s%N)
in_ct systemctl start qemuctl@vm1.service; rc=$?
ok $rc "systemctl start qemuctl@vm1 (Type=notify) returned"
diag "systemctl start took $((($(date +%s%N) - ts) / 1000000)) ms"
# right away, no waiting: READY=1 came after cont and the placement
is "$(in_ct systemctl is-active qemuctl@vm1.service)" active "the unit is active as soon as start returns"
is "$(in_ct /usr/local/bin/qemuctl qmp vm1 query-status --json 2>/dev/null | tr -d ' \n' | grep -o '"status":"[a-z-]*"')" '"status":"running"' "the guest runs when start returns (query-status)"
main=$(unit_prop qemuctl@vm1.service MainPID)
[ "${main:-0}" -gt 0 ]; ok $? "the unit has a main process (pid ${main:-none})"
is "$main" "$(in_ct cat /run/qemuctl/vm1/supervisor.pid 2>/dev/null)" "MainPID is qemuctl run (the supervisor)"
unitcg=$(unit_prop qemuctl@vm1.service ControlGroup)
qpid=$(in_ct cat /run/qemuctl/vm1/qemu.pid 2>/dev/null)
is "$(in_ct sed -n 's/^0:://p' /proc/$main/cgroup)" "$unitcg/supervisor" "qemuctl moved into supervisor/ in the unit's cgroup (Delegate=yes)"
is "$(in_ct sed -n 's/^0:://p' /proc/$qpid/cgroup)" "$unitcg/vm1/emulator" "QEMU is in vm1/emulator/ in the unit's cgroup"
outside=0 vcpus=0
[ -n "$qpid" ] && in_ct test -d /proc/$qpid; ok $? "QEMU runs (pid ${qpid:-none})"
for t in $(in_ct ls /proc/${qpid:-0}/task 2>/dev/null); do
        c=$(in_ct sed -n 's/^0:://p' /proc/$qpid/task/$t/cgroup)
        case $c in "$unitcg"/vm1/*) ;; *) outside=$((outside + 1)); echo "#   thread $t in $c" ;; esac
        case $c in "$unitcg"/vm1/vcpu[0-9]*) vcpus=$((vcpus + 1)) ;; esac
done
[ -n "$qpid" ] && [ "$outside" = 0 ]; ok $? "every QEMU thread is inside the unit's cgroup"
is "$vcpus" 2 "the 2 vCPU threads are in vm1/vcpu0/ and vm1/vcpu1/"
in_ct /usr/local/bin/qemuctl status vm1 | grep -qx "Cgroup: *$unitcg/vm1 (emulator/, vcpuN/)"
ok $? "qemuctl status shows the VM's cgroup in the unit's"
in_ct systemd-cgls --no-pager -u qemuctl@vm1.service 2>/dev/null | sed 's/^/#   /' | head -12
case $(unit_prop qemuctl@vm1.service StatusText) in *"vm1 running"*) ok 0 "STATUS= says the VM runs" ;;
*) ok 1 "STATUS= says the VM runs"; echo "#   got '$(unit_prop qemuctl@vm1.service StatusText)'" ;; esac
wait_for 180 journal_has qemuctl@vm1.service 'qemuctl-guest: ready'
ok $? "the guest's console is in the journal (journalctl -u qemuctl@vm1)"

ts=$(date +%s%N)
in_ct systemctl stop qemuctl@vm1.service; rc=$?
ok $rc "systemctl stop qemuctl@vm1 returned"
diag "systemctl stop (ACPI power off of the guest) took $((($(date +%s%N) - ts) / 1000000)) ms"
wait_for 60 journal_has qemuctl@vm1.service 'qemuctl-guest: power button: powering off'
ok $? "the guest powered off through ACPI (its console in the journal says so)"
# (an inactive unit that did not fail is unloaded at once: systemctl show
# would give defaults, so the exit status is read where qemuctl says it)
wait_for 60 journal_has qemuctl@vm1.service '^qemuctl: run: VM `vm1`: .*; exit 130$'
ok $? "qemuctl run exited 130 (SIGTERM)"
is "$(in_ct systemctl is-active qemuctl@vm1.service)" inactive "SuccessExitStatus=130: the unit is inactive, not failed"

# --- a guest that powers off by itself: exit 0
define vm2 "qemuctl.poweroff=1"
in_ct systemctl start qemuctl@vm2.service
wait_for 120 sh -c "[ \"\$(nsenter -t $leader -a -- systemctl is-active qemuctl@vm2.service)\" != active ]"
ok $? "a guest that powers off ends its unit"
wait_for 60 journal_has qemuctl@vm2.service '^qemuctl: run: VM `vm2`: .*; exit 0$'
ok $? "with exit status 0"
is "$(in_ct systemctl is-active qemuctl@vm2.service)" inactive "and the unit is inactive, not failed"

# --- QEMU refuses its command line: exit 3, a failed unit
define vm3 "" '"-no-such-option"'
in_ct systemctl start qemuctl@vm3.service 2>/dev/null
[ $? != 0 ]; ok $? "systemctl start of a VM QEMU refuses fails"
is "$(unit_prop qemuctl@vm3.service ExecMainStatus)" 3 "qemuctl run exited 3 (QEMU refused)"
is "$(in_ct systemctl is-failed qemuctl@vm3.service)" failed "the unit is failed"
wait_for 60 journal_has qemuctl@vm3.service 'no-such-option'
ok $? "QEMU's error is in the journal"
in_ct systemctl reset-failed qemuctl@vm3.service 2>/dev/null

# --- a name with no definition: a failed unit that says why
in_ct systemctl start qemuctl@nosuch.service 2>/dev/null
is "$(in_ct systemctl is-failed qemuctl@nosuch.service)" failed "qemuctl@nosuch (no definition) fails"
wait_for 60 journal_has qemuctl@nosuch.service 'neither a defined VM'
ok $? "and the journal says there is no such definition"
in_ct systemctl reset-failed qemuctl@nosuch.service 2>/dev/null

# --- autostart at boot, stop at shutdown (defs' verbs)
q() { in_ct /usr/local/bin/qemuctl "$@"; }
if ! q help start-all >/dev/null 2>&1 || ! q help autostart >/dev/null 2>&1; then
        poweroff_ct
        echo "ok $((n + 1)) - autostart at boot, stop at shutdown # SKIP this qemuctl has no start-all/autostart"
        n=$((n + 1))
else
        run() { OUT=$("$@" 2>&1); local rc=$?; [ $rc = 0 ] || echo "$OUT" | sed 's/^/#   /'; return $rc; }
        run define vm4 ""; ok $? "qemuctl define vm4"
        run q autostart vm4; ok $? "qemuctl autostart vm4"
        run in_ct systemctl enable qemuctl-guests.service; ok $? "systemctl enable qemuctl-guests.service"
        poweroff_ct
        [ -z "$spid" ]; ok $? "the container powered off"
        t0=$(date +%s)
        boot "$tmp/console2.log"; ok $? "the container booted again"
        wait_for 60 in_ct test -S /run/systemd/private
        in_ct systemctl is-system-running --wait >/dev/null 2>&1
        is "$(in_ct systemctl is-active qemuctl-guests.service)" active "qemuctl-guests.service ran at boot"
        wait_for 60 sh -c "nsenter -t $leader -a -- /usr/local/bin/qemuctl list 2>/dev/null | grep -q '^vm4 *running'"
        ok $? "the autostart VM vm4 runs after boot"
        vq=$(in_ct cat /run/qemuctl/vm4/qemu.pid 2>/dev/null)
        is "$(in_ct sed -n 's/^0:://p' /proc/$vq/cgroup)" "/qemuctl/vm4/emulator" "vm4's QEMU is in its cgroup under cgroup.parent (the guests unit delegates nothing)"
        wait_for 180 grep -q 'qemuctl-guest: ready' "$tmp/state/vm4/serial.log"
        ok $? "vm4's guest is up"
        poweroff_ct
        # the state dir is bound from here: it outlives the container's /run
        grep -q 'qemuctl-guest: power button: powering off' "$tmp/state/vm4/serial.log"
        ok $? "at poweroff, vm4 was powered off through ACPI (stop-all)"
        diag "second boot to poweroff: $(($(date +%s) - t0)) s"
fi
[ -n "$spid" ] && poweroff_ct
echo "1..$n"
[ "$failed" = 0 ]
