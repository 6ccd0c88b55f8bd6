#!/usr/bin/env bash
# The guest agent against the real qemu-ga (Debian's qemu-guest-agent in the
# test guest): exec's exit status, stdout and stderr apart and byte for byte,
# stdin, signals, --timeout; cp both ways (10 MB, byte-identical); wait --for
# agent; stop through the agent, and through ACPI when no agent answers; run
# --exec's exit status with the console still captured.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
[ -f "$GUEST_DIR/AGENT-MISSING" ] && tap_skip_all "test guest built without the agent: $(cat "$GUEST_DIR/AGENT-MISSING")"
lc_setup
Q=$QEMUCTL
T=$LC_TMP

lc_vmfile ga "" '"guest_agent": true,' >/dev/null
"$Q" start "$T/ga.json" >/dev/null 2>"$T/start.err"
tap_ok $? "start a VM with guest_agent ($(cat "$T/start.err"))"
"$Q" wait --for agent --timeout 180 ga 2>"$T/wait.err"
tap_ok $? "wait --for agent ($(cat "$T/wait.err"))"

for n in 0 1 42; do
        "$Q" exec ga -- sh -c "exit $n" </dev/null
        tap_is $? "$n" "exec returns the guest command's status $n"
done

"$Q" exec ga -- sh -c 'echo to-stdout; echo to-stderr >&2' </dev/null >"$T/o" 2>"$T/e"
tap_is "$?:$(cat "$T/o"):$(cat "$T/e")" "0:to-stdout:to-stderr" "stdout and stderr come apart"

# binary, large: 3 MB of every byte value, in through cp, out through exec
head -c 3000000 /dev/urandom >"$T/bin"
"$Q" cp "$T/bin" ga:/tmp/bin
tap_ok $? "cp a 3 MB binary file in"
"$Q" exec ga -- cat /tmp/bin </dev/null >"$T/bin.out" 2>"$T/bin.err"
rc=$?
cmp -s "$T/bin" "$T/bin.out"; tap_ok $? "exec's stdout is the 3 MB binary byte for byte (rc $rc)"
tap_is "$(stat -c %s "$T/bin.err")" 0 "and nothing on stderr"
"$Q" exec ga -- sh -c 'cat /tmp/bin >&2; echo done' </dev/null >"$T/bin2.out" 2>"$T/bin2.err"
cmp -s "$T/bin" "$T/bin2.err"; tap_ok $? "exec's stderr is the 3 MB binary byte for byte"
tap_is "$(cat "$T/bin2.out")" done "while stdout has its own"

printf 'line one\n\0\377 binary\n' >"$T/in"
"$Q" exec ga -- cat <"$T/in" >"$T/in.out"
cmp -s "$T/in" "$T/in.out"; tap_ok $? "stdin reaches the command byte for byte"
"$Q" exec -n ga -- cat <"$T/in" >"$T/n.out"
tap_is "$?:$(stat -c %s "$T/n.out")" "0:0" "--no-stdin: the command gets an empty stdin"

"$Q" exec ga -- sh -c 'kill -TERM $$' </dev/null
tap_is $? 143 "a command ended by SIGTERM -> 128 + 15"
"$Q" exec ga -- /no/such/command </dev/null 2>"$T/nf.err"
tap_is $? 126 "a command the agent cannot start -> 126 ($(cat "$T/nf.err"))"
# the agent has no kill: exec kills a command past --timeout with a guest
# process of its own, a moment after the agent said it started; a slow one
# (2 s here, a loaded guest) must still have ended the command when exec returns
"$Q" exec ga -- sh -c 'rm -f /bin/kill && printf "%s\n" "#!/bin/sh" "sleep 2" "exec busybox kill \"\$@\"" >/bin/kill && chmod +x /bin/kill' </dev/null
tap_ok $? "a slow kill in the guest"
"$Q" exec --timeout 2 ga -- sh -c 'echo before-the-timeout; echo err-before >&2; exec sleep 600' \
        </dev/null >"$T/to.out" 2>"$T/to.err"
tap_is $? 124 "--timeout -> 124 ($(cat "$T/to.err"))"
tap_is "$(cat "$T/to.out")" before-the-timeout "what the command wrote before its timeout is on stdout"
grep -qx err-before "$T/to.err"; tap_ok $? "and on stderr"
"$Q" exec ga -- sh -c 'pidof sleep || echo none' </dev/null >"$T/to.ps"
tap_is "$(cat "$T/to.ps")" none "and the guest process was killed"
"$Q" exec ga -- sh -c 'rm /bin/kill && ln -s /bin/busybox /bin/kill' </dev/null

head -c 10000000 /dev/urandom >"$T/10m"
"$Q" cp "$T/10m" ga:/tmp/10m
tap_ok $? "cp 10 MB in"
"$Q" exec ga -- md5sum /tmp/10m </dev/null >"$T/10m.sum"
tap_is "$(cut -d' ' -f1 "$T/10m.sum")" "$(md5sum <"$T/10m" | cut -d' ' -f1)" "the guest's copy is byte-identical"
"$Q" cp ga:/tmp/10m "$T/10m.back"
tap_ok $? "cp 10 MB out"
cmp -s "$T/10m" "$T/10m.back"; tap_ok $? "the round trip is byte-identical"
mkdir "$T/dir"
"$Q" cp ga:/tmp/bin "$T/dir"
cmp -s "$T/bin" "$T/dir/bin"; tap_ok $? "cp into a directory keeps the guest file's name"
"$Q" cp ga:/no/such/file "$T/nf" 2>"$T/cpnf.err"
tap_is $? 1 "cp of a missing guest file fails ($(cat "$T/cpnf.err"))"

"$Q" stop ga >"$T/stop.out" 2>"$T/stop.err"
tap_ok $? "stop ($(cat "$T/stop.out" "$T/stop.err"))"
grep -q "guest agent" "$T/stop.out"; tap_ok $? "stop went through the guest agent"
grep -q "guest agent: shutdown" "$QEMUCTL_RUNDIR/ga/serial.log"; tap_ok $? "the guest ran the agent's shutdown"

# no agent answers on the port: stop presses the power button instead
lc_vmfile na qemuctl.noagent=1 '"guest_agent": true,' >/dev/null
"$Q" start "$T/na.json" >/dev/null 2>&1
lc_wait_ready na >/dev/null
"$Q" stop --timeout 120 na >"$T/na.out" 2>"$T/na.err"
tap_ok $? "stop without an agent ($(cat "$T/na.out"))"
grep -q "power button: powering off" "$QEMUCTL_RUNDIR/na/serial.log"; tap_ok $? "it pressed the power button ($(cat "$T/na.err"))"

# the supervisor keeps QEMU's one qga.sock connection (so qemu-ga never
# sleeps on EOF between clients) and relays agent.sock onto it, one client
# at a time; with the supervisor gone, verbs talk to qga.sock itself
lc_vmfile gk "" '"guest_agent": true,' >/dev/null
"$Q" start "$T/gk.json" >/dev/null 2>&1
"$Q" wait --for agent --timeout 180 gk 2>"$T/gk.err"
tap_ok $? "wait --for agent through the supervisor's relay ($(cat "$T/gk.err"))"
[ -S "$QEMUCTL_RUNDIR/gk/agent.sock" ]; tap_ok $? "the supervisor serves agent.sock"
"$Q" exec gk -- sh -c 'sleep 3; exit 3' </dev/null &
first=$!
sleep 1 # most likely attached by now; if not, the order is the other way round
"$Q" exec gk -- sh -c 'exit 4' </dev/null 2>"$T/gk2.err"
tap_is $? 4 "a second client waits for its turn on the relay ($(cat "$T/gk2.err"))"
wait $first; tap_is $? 3 "and the first one's status came back whole"
kill -KILL "$(cat "$QEMUCTL_RUNDIR/gk/supervisor.pid")"
for _ in $(seq 50); do [ -e /proc/"$(cat "$QEMUCTL_RUNDIR/gk/supervisor.pid")" ] || break; sleep 0.1; done
"$Q" exec gk -- sh -c 'exit 5' </dev/null 2>"$T/gk3.err"
tap_is $? 5 "with the supervisor gone, exec goes to qga.sock ($(cat "$T/gk3.err"))"
"$Q" kill gk >/dev/null 2>&1

# run --exec: one command for a CI step
lc_vmfile rx "" '"guest_agent": true,' >/dev/null
"$Q" run --timeout 300 --exec 'echo from-the-guest; cat; echo err >&2; exit 42' "$T/rx.json" \
        <"$T/in" >"$T/rx.out" 2>"$T/rx.err"
tap_is $? 42 "run --exec exits with the command's status ($(tail -1 "$T/rx.err"))"
printf 'from-the-guest\n' | cat - "$T/in" | cmp -s - "$T/rx.out"; tap_ok $? "its stdout is the command's alone (stdin passed)"
grep -qx err "$T/rx.err"; tap_ok $? "its stderr has the command's"
grep -q 'qemuctl-guest: starting qemu-ga' "$QEMUCTL_RUNDIR/rx/serial.log"; tap_ok $? "the console is in serial.log"
tap_is "$(lc_field rx state)" ended "the VM has ended"
# while the command runs, verbs that take the VM's lock get it
"$Q" run --timeout 300 --exec 'sleep 8; exit 3' "$T/rx.json" </dev/null >/dev/null 2>"$T/rx2.err" &
pid=$!; LC_BG_PIDS=$pid
# rx's state dir is still there with the last run's "ended" record until
# the new run replaces it: wait for the new run, not for any status.json
lc_wait_started rx
"$Q" wait --for running --timeout 120 rx
"$Q" pause --lock-timeout 2 rx >/dev/null 2>"$T/lock.err"
tap_ok $? "a verb gets the VM's lock while run --exec's command runs ($(cat "$T/lock.err"))"
"$Q" resume rx >/dev/null 2>&1
wait "$pid"; tap_is $? 3 "and the command's status still comes back"; LC_BG_PIDS=""
# the command leaves a guest that ignores both the agent's shutdown and the
# power button: run --exec still ends, through the one stop escalation (the
# supervisor's: power button, quit after --stop-timeout), with the command's
# status; it used to wait for --timeout
lc_vmfile rq qemuctl.ignore_acpi=1 '"guest_agent": true,' >/dev/null
"$Q" run --timeout 120 --stop-timeout 3 --exec 'printf "#!/bin/sh\necho shutdown ignored >/dev/console\n" >/sbin/shutdown; exit 7' \
        "$T/rq.json" </dev/null >"$T/rq.out" 2>"$T/rq.err"
tap_is $? 7 "run --exec of a guest that ignores every shutdown request: the command's status ($(tail -1 "$T/rq.err"))"
tap_is "$(lc_field rq shutdown_reason)" host-qmp-quit "quit over QMP after --stop-timeout"
grep -q "timed out" "$T/rq.err"; tap_ok $(( $? == 0 ? 1 : 0 )) "not when --timeout expired"
grep -q "power button ignored" "$QEMUCTL_RUNDIR/rq/serial.log"; tap_ok $? "the power button was pressed first"
lc_vmfile nx >/dev/null
"$Q" run --exec true "$T/nx.json" 2>"$T/nx.err"
tap_is $? 1 "run --exec refuses a VM file without guest_agent ($(cat "$T/nx.err"))"
tap_done
