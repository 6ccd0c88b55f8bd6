#!/usr/bin/env bash
# serial.log is bounded (VM file "serial_log_max"): a guest writing past the
# bound leaves serial.log + serial.log.1, each within it; `wait --for serial:`
# follows the log as it grows, across the rotation, and past a NUL byte.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
max=65536

f=$(lc_vmfile sl "" '"serial_log_max": "64K",')
out=$("$Q" start "$f" 2>&1); tap_ok $? "start with serial_log_max 64K ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 sl; tap_ok $? "wait sees the ready line"

# a waiter that is already following when the guest writes
"$Q" wait --for 'serial:after-nul MARK-[0-9]+' --timeout 300 sl >"$LC_TMP/w1.out" 2>&1 &
w1=$!
LC_BG_PIDS=$w1
# ~200 KiB of lines, then a line with a NUL byte before the mark
a=$(lc_ask sl "sh i=0; while [ \$i -lt 2600 ]; do echo line-\$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=\$((i+1)); done >/dev/ttyS0; printf 'x\\000after-nul MARK-42\\n' >/dev/ttyS0; echo done")
case $a in *"rc=0"*) tap_ok 0 "the guest wrote ~200 KiB and a NUL line to its console" ;; *) tap_ok 1 "guest write: $a" ;; esac
wait "$w1"; tap_ok $? "a waiter that was following sees the mark after the NUL byte, across rotations"

"$Q" wait --for 'serial:after-nul MARK-42' --timeout 60 sl; tap_ok $? "a new waiter finds it too (NUL-safe)"
"$Q" wait --for 'serial:line-2599-' --timeout 60 sl; tap_ok $? "the newest lines are in the log"
s0=$(stat -c %s "$QEMUCTL_RUNDIR/sl/serial.log")
s1=$(stat -c %s "$QEMUCTL_RUNDIR/sl/serial.log.1" 2>/dev/null || echo missing)
[ "$s1" != missing ] && [ "$s0" -le $max ] && [ "$s1" -le $max ]
tap_ok $? "serial.log ($s0 bytes) and serial.log.1 ($s1 bytes) are each within 64K"
grep -aq 'line-0-' "$QEMUCTL_RUNDIR/sl/serial.log" "$QEMUCTL_RUNDIR/sl/serial.log.1"
tap_ok $(( $? == 0 ? 1 : 0 )) "the oldest lines were dropped"
"$Q" wait --for 'serial:line-0-x' --timeout 2 sl >/dev/null 2>&1
tap_ok $(( $? == 0 ? 1 : 0 )) "wait for what was dropped does not match"

# `console` follows the serial line live (console.sock): what the guest
# writes now reaches its stdout
mkfifo "$LC_TMP/con.in"
"$Q" console sl <"$LC_TMP/con.in" >"$LC_TMP/con.out" 2>&1 &
con=$!
exec 7>"$LC_TMP/con.in" # console's stdin stays open: it reads until killed
LC_BG_PIDS="$LC_BG_PIDS $con"
for _i in $(seq 50); do
        lc_ask sl "sh echo CONSOLE-MARK-\$((6*7)) >/dev/ttyS0" >/dev/null
        grep -aq 'CONSOLE-MARK-42' "$LC_TMP/con.out" && break
        sleep 0.2
done
grep -aq 'CONSOLE-MARK-42' "$LC_TMP/con.out"; tap_ok $? "console shows what the guest writes to its serial line"
kill "$con" 2>/dev/null; wait "$con" 2>/dev/null; exec 7>&-
"$Q" console nosuchvm </dev/null >/dev/null 2>"$LC_TMP/con.err"
tap_ok $(( $? == 0 ? 1 : 0 )) "console of no such VM fails ($(cat "$LC_TMP/con.err"))"

"$Q" stop sl >/dev/null 2>&1; tap_ok $? "stop"
tap_done
