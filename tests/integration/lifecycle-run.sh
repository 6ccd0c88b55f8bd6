#!/usr/bin/env bash
# qemuctl run: distinct exit codes for a clean poweroff, a guest's own exit
# status (isa-debug-exit), a guest panic, QEMU killed (a crash), a timeout,
# SIGTERM, and a command line QEMU refuses; the serial console on stdout or
# in --serial-log.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL

# run_with NAME QUESTION...: run the VM, ask QUESTION once it is ready; sets RC
run_with() {
        local name=$1; shift
        "$Q" run --timeout 300 --serial-log "$LC_TMP/$name.serial" "$LC_TMP/$name.json" 2>"$LC_TMP/$name.err" &
        local pid=$!
        LC_BG_PIDS="$pid"
        lc_wait_ready "$name" >/dev/null 2>&1 || true
        lc_ask "$name" "$@" >/dev/null
        wait "$pid"; RC=$?
        LC_BG_PIDS=""
}

lc_vmfile off >/dev/null
run_with off poweroff
tap_is "$RC" 0 "guest powered off normally -> 0 ($(cat "$LC_TMP/off.err"))"
grep -q 'qemuctl-guest: ready' "$LC_TMP/off.serial"; tap_ok $? "--serial-log has the console"

lc_vmfile dx >/dev/null
run_with dx exit 7
tap_is "$RC" 7 "guest wrote 7 to isa-debug-exit -> 7 ($(cat "$LC_TMP/dx.err"))"

lc_vmfile pn >/dev/null
run_with pn panic
tap_is "$RC" 4 "guest panicked -> 4 ($(cat "$LC_TMP/pn.err"))"
tap_is "$(lc_field pn panicked)" True "status records the panic"

# a timeout: the power button is ignored, so run quits QEMU after --stop-timeout
lc_vmfile to qemuctl.ignore_acpi=1 >/dev/null
"$Q" run --timeout 20 --stop-timeout 2 --serial-log "$LC_TMP/to.serial" "$LC_TMP/to.json" 2>"$LC_TMP/to.err"
tap_is $? 124 "timeout -> 124 ($(cat "$LC_TMP/to.err"))"
tap_is "$(lc_field to state)" ended "status after the timeout: ended"

# SIGTERM stops the VM cleanly (the guest powers off through ACPI)
lc_vmfile tm >/dev/null
"$Q" run --serial-log "$LC_TMP/tm.serial" "$LC_TMP/tm.json" 2>"$LC_TMP/tm.err" &
pid=$!; LC_BG_PIDS=$pid
lc_wait_ready tm >/dev/null 2>&1
kill -TERM "$pid"
wait "$pid"; rc=$?; LC_BG_PIDS=""
tap_is "$rc" 130 "SIGTERM -> 130 ($(cat "$LC_TMP/tm.err"))"
grep -q 'power button: powering off' "$LC_TMP/tm.serial"; tap_ok $? "SIGTERM pressed the power button"
tap_is "$(lc_field tm shutdown_reason)" guest-shutdown "and the guest powered off"

# QEMU killed by a signal during run (a crash, as far as run can tell) -> 5
lc_vmfile cr >/dev/null
"$Q" run --timeout 300 --serial-log "$LC_TMP/cr.serial" "$LC_TMP/cr.json" 2>"$LC_TMP/cr.err" &
pid=$!; LC_BG_PIDS=$pid
for _ in $(seq 300); do [ "$(lc_field cr state 2>/dev/null)" = running ] && break; sleep 0.2; done
kill -KILL "$(cat "$QEMUCTL_RUNDIR/cr/qemu.pid")"
wait "$pid"; rc=$?; LC_BG_PIDS=""
tap_is "$rc" 5 "QEMU killed by SIGKILL -> 5 ($(cat "$LC_TMP/cr.err"))"
tap_is "$(lc_field cr state)" crashed "status: crashed"
tap_is "$(lc_field cr exit_signal)" 9 "status: signal 9"

# serial on stdout by default
lc_vmfile so >/dev/null
"$Q" run --timeout 300 "$LC_TMP/so.json" >"$LC_TMP/so.out" 2>"$LC_TMP/so.err" &
pid=$!; LC_BG_PIDS=$pid
for _ in $(seq 900); do grep -q 'qemuctl-guest: ready' "$LC_TMP/so.out" && break; sleep 0.2; done
lc_ask so poweroff >/dev/null
wait "$pid"; rc=$?; LC_BG_PIDS=""
tap_is "$rc" 0 "run with the console on stdout -> 0"
grep -q 'qemuctl-guest: ready' "$LC_TMP/so.out"; tap_ok $? "console went to stdout"

# a command line QEMU refuses: its own words, exit 3
vmfile_set "$(lc_vmfile bad)" qemu='{"args": ["-no-such-option"]}'
"$Q" run "$LC_TMP/bad.json" >/dev/null 2>"$LC_TMP/bad.err"
tap_is $? 3 "QEMU refused the command line -> 3"
grep -q 'no-such-option' "$LC_TMP/bad.err"; tap_ok $? "QEMU's own error is shown: $(cat "$LC_TMP/bad.err")"
tap_is "$(lc_field bad state)" failed "status: failed"

"$Q" run --help | grep -q '124  --timeout expired'; tap_ok $? "run --help documents the exit codes"
"$Q" run --timeout soon "$LC_TMP/off.json" 2>/dev/null
tap_is $? 2 "usage error -> 2"
tap_done
