#!/usr/bin/env bash
# The monitor for people (issue 15): with a client holding qmp.sock open and
# another polling it every 100 ms, qemuctl's verbs (balloon, setmem,
# setvcpus, stop) all succeed; several clients share qmp.sock; what a person
# does there by hand (balloon, device_del of a vCPU, stop) shows in status,
# vcpuinfo, list and dump; `qemuctl qmp NAME` / `hmp NAME` with no command
# are line-editing shells with completion (driven through a pty).
# The vCPU unplug is made on a VM of its own, ended by kill: QEMU 7.2 under
# TCG is not sound after one (it aborts on a later hotplug, and once hung at
# exit after the guest's power off: tests/guest/README.md).
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
command -v socat >/dev/null || tap_skip_all "socat is not installed"
lc_setup
Q=$QEMUCTL

f=$(lc_vmfile mon)
vmfile_set "$f" cpu.max=2 memory.size=512M memory.max=1G memory.slots=2
out=$("$Q" start "$f" 2>&1); tap_ok $? "start mon ($out)"
lc_wait_ready mon >/dev/null; tap_ok $? "guest ready"
sock=$QEMUCTL_RUNDIR/mon/qmp.sock
tap_is "$(stat -c '%a %F' "$sock")" "600 socket" "qmp.sock is there for people, 0600"

# --- a person holds qmp.sock (greeted, never negotiates, never reads on),
# and a script polls query-status every 100 ms on it
socat -u "UNIX-CONNECT:$sock" - >"$LC_TMP/holder.out" 2>&1 &
holder=$!
python3 - "$sock" "$LC_TMP/poller" <<'PY' &
import json, os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rwb", buffering=0)
out = sys.argv[2]
greeting = json.loads(f.readline())
f.write(b'{"execute": "qmp_capabilities"}\n'); f.readline()
polls = errors = 0
events = set()
wrong = []
ended = None
stop = False
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
while not stop:
    try:
        f.write(b'{"execute": "query-status", "id": %d}\n' % polls)
    except OSError:
        break  # QEMU is gone
    while True:
        try:
            line = f.readline()
        except OSError:
            line = b""
        if not line:
            stop = True
            break
        m = json.loads(line)
        if "event" in m:
            events.add(m["event"])
            continue
        # QEMU's exit after stop pressed the power button (POWERDOWN; QEMU
        # may be gone before its SHUTDOWN is relayed): the relay answers the
        # command then out (or, with none out, without id) with the error
        # that QEMU is gone, and closes; any other error is wrong
        if "error" in m and events & {"POWERDOWN", "SHUTDOWN"} and \
                m["error"].get("desc", "").startswith("lost the connection to QEMU's monitor"):
            ended = m["error"]["desc"]
            stop = True
            break
        if m.get("id") != polls or "return" not in m:
            errors += 1
            wrong.append(m)
        polls += 1
        break
    open(out + ".tmp", "w").write(json.dumps({"polls": polls, "errors": errors, "events": sorted(events),
                                      "wrong": wrong[:3], "ended": ended}))
    os.rename(out + ".tmp", out)
    time.sleep(0.1)
PY
poller=$!
LC_BG_PIDS="$holder $poller"
for _ in $(seq 600); do [ -s "$LC_TMP/holder.out" ] && [ -s "$LC_TMP/poller" ] && break; sleep 0.1; done
grep -q '"QMP"' "$LC_TMP/holder.out"; tap_ok $? "the holder got a greeting"
[ -s "$LC_TMP/poller" ]; tap_ok $? "the poller is polling"

out=$("$Q" status mon 2>&1); tap_ok $? "status while both hold qmp.sock"
echo "$out" | grep -q "^Monitor: *$sock (QMP for people"; tap_ok $? "status names the people's monitor ($(echo "$out" | grep Monitor:))"
tap_is "$(lc_field mon monitor)" "$sock" "status --json: monitor"
echo "$out" | grep -q 'State: *running (QEMU: running)'; tap_ok $? "status has QEMU's own view ($(echo "$out" | grep State:))"
out=$("$Q" balloon --timeout 120 mon 256M 2>&1); tap_ok $? "balloon mon 256M ($out)"
out=$("$Q" setmem mon 768M 2>&1); tap_ok $? "setmem mon 768M ($out)"
out=$("$Q" setvcpus mon 2 2>&1); tap_ok $? "setvcpus mon 2 ($out)"
out=$("$Q" qmp mon query-status 2>&1); tap_ok $? "qemuctl qmp mon, through the relay too"
echo "$out" | grep -q '"status": "running"'; tap_ok $? "it says running"
# several at once
for i in 1 2 3 4; do ("$Q" qmp --json mon query-name >"$LC_TMP/q$i.out" 2>&1; echo $? >"$LC_TMP/q$i.rc") & done
wait_n=0
for i in 1 2 3 4; do
        for _ in $(seq 600); do [ -s "$LC_TMP/q$i.rc" ] && break; sleep 0.1; done
        [ "$(cat "$LC_TMP/q$i.rc" 2>/dev/null)" = 0 ] && grep -q '"name":"mon"' "$LC_TMP/q$i.out" && wait_n=$((wait_n + 1))
done
tap_is $wait_n 4 "four qmp clients at once all answered"
out=$(echo '{"execute":"qmp_capabilities"}{"execute":"query-name","id":"n"}' | sed 's/}{/}\n{/' |
      socat -t 5 - "UNIX-CONNECT:$sock" 2>&1)
echo "$out" | grep -q '{"return":{"name":"mon"},"id":"n"}'; tap_ok $? "echo ... | socat (its side closed at once) gets its answers ($(echo $out | cut -c1-200))"

# --- by hand on qmp.sock: balloon
out=$("$Q" qmp mon balloon '{"value": 402653184}' 2>&1); tap_ok $? "a person's balloon 384M ($out)"
for _ in $(seq 120); do [ "$(lc_field mon balloon_actual)" = 402653184 ] && break; sleep 0.5; done
tap_is "$(lc_field mon balloon_actual)" 402653184 "status --json: balloon_actual from QEMU's BALLOON_CHANGE"
"$Q" status mon | grep -q '^Balloon: *384M'; tap_ok $? "status shows the balloon ($("$Q" status mon | grep Balloon:))"

tap_is "$("$Q" dump mon | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu"]["vcpus"])')" 2 "dump: 2 vCPUs"

# --- by hand: stop, then cont
out=$("$Q" qmp mon stop 2>&1); tap_ok $? "a person's stop ($out)"
for _ in $(seq 300); do [ "$(lc_field mon state)" = paused ] && break; sleep 0.1; done
tap_is "$(lc_field mon state)" paused "status --json: paused (the supervisor saw STOP)"
"$Q" status mon | grep -q 'State: *paused (QEMU: paused)'; tap_ok $? "status: paused, QEMU agrees"
"$Q" list | grep -Eq '^mon +paused '; tap_ok $? "list: paused"
out=$("$Q" hmp mon cont 2>&1); tap_ok $? "a person's cont over hmp ($out)"
for _ in $(seq 300); do [ "$(lc_field mon state)" = running ] && break; sleep 0.1; done
tap_is "$(lc_field mon state)" running "status --json: running again (RESUME)"

# Python's verdicts as "R<TAB>STATUS<TAB>DESC" lines, diagnostics as "# ..."
py_tap() {
        local k st d
        while IFS=$'\t' read -r k st d; do
                if [ "$k" = R ]; then tap_ok "$st" "$d"; else printf '%s\n' "$k${st:+ $st}${d:+ $d}"; fi
        done
}

# --- the shells, through a pty: a prompt, completion of a prefix, a reply
python3 - "$Q" <<'PY' >"$LC_TMP/shell.tap"
import os, pty, select, sys, termios, time
q = sys.argv[1]
def run(args, steps):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(q, [q] + args, dict(os.environ, TERM="xterm"))
    buf = b""
    def until(want, t=15):
        nonlocal buf
        end = time.time() + t
        while time.time() < end:
            if want in buf:
                return True
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
        return want in buf
    res = []
    for send, want in steps:
        if send is not None:
            os.write(fd, send)
        res.append(until(want))
    # Ctrl-D at the next prompt, once the line editor has put the terminal
    # in raw mode: typed while it is still in cooked mode between two lines
    # (libedit may print the prompt before it switches), the tty takes it
    # for its own end-of-file and the editor never sees it. A pty's master
    # reads the pair's termios.
    end = time.time() + 15
    while time.time() < end:
        if not buf.endswith(b"mon) ") or termios.tcgetattr(fd)[3] & termios.ICANON:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
            continue
        break
    os.write(fd, b"\x04")
    for _ in range(100):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return res, os.waitstatus_to_exitcode(st), buf.decode(errors="replace")
        time.sleep(0.1)
    os.kill(pid, 9)  # a shell that did not leave on Ctrl-D
    os.waitpid(pid, 0)
    return res, -1, buf.decode(errors="replace")
# completion is seen by what runs: "query-bal" alone is no command, and
# "pa" no argument of qom-get (the screen has cursor moves in between)
res, rc, out = run(["qmp", "mon"], [(None, b"(QEMU mon) "), (b"query-bal\t\r", b'"actual": '),
                                   (b"qom-get pa\t/machine property=type\r", b'"pc-q35-'),
                                   (b"query-stat\t\t", b"query-stats-schemas"),
                                   (b"us\r", b'"status": "running"'),
                                   (b"balloon value=x\r", b"error: GenericError")])
names = ["qmp shell prompts with the VM's name", "Tab completes query-bal, Enter runs query-balloon: the reply",
         "Tab completes an argument name from the schema (qom-get pa -> path=), KEY=VALUE arguments run",
         "Tab Tab lists the candidates of an ambiguous prefix (query-stat: query-status, query-stats...)",
         "and the line goes on from there (query-stat + us)", "an error reply is shown as such"]
def R(ok, n):
    print("R\t%d\t%s" % (0 if ok else 1, n))
for ok, n in zip(res, names):
    R(ok, n)
R(rc == 0, "Ctrl-D leaves the qmp shell with status 0 (%d)" % rc)
if not all(res):
    print("# " + out.replace("\r", "").replace("\n", "\n# "))
res, rc, out = run(["hmp", "mon"], [(None, b"(HMP mon) "), (b"info bal\t\r", b"balloon: actual=")])
for ok, n in zip(res, ["hmp shell prompts", "Tab completes info bal, Enter runs info balloon"]):
    R(ok, n)
R(rc == 0, "Ctrl-D leaves the hmp shell (%d)" % rc)
if not all(res):
    print("# " + out.replace("\r", "").replace("\n", "\n# "))
PY
py_tap <"$LC_TMP/shell.tap"

# --- stop with both still connected: the power button, the guest powers off
out=$("$Q" stop --timeout 120 mon 2>&1); tap_ok $? "stop mon while both hold qmp.sock ($out)"
tap_is "$(lc_field mon state)" ended "ended"
kill -TERM $poller 2>/dev/null
wait $poller 2>/dev/null
python3 - "$LC_TMP/poller" <<'PY' >"$LC_TMP/poller.tap"
import json, sys
d = json.load(open(sys.argv[1]))
print("R\t%d\tthe poller was answered all along (%d polls, %d wrong)" %
      (0 if d["polls"] >= 10 and d["errors"] == 0 else 1, d["polls"], d["errors"]))
for m in d["wrong"]:
    print("# wrong: %s" % json.dumps(m))
if d["ended"]:
    print("# the last poll was answered at QEMU's exit: %s" % d["ended"])
want = {"BALLOON_CHANGE", "STOP", "RESUME", "POWERDOWN"}
print("R\t%d\tit saw QEMU's events too (%s)" % (0 if want <= set(d["events"]) else 1, ",".join(d["events"])))
PY
py_tap <"$LC_TMP/poller.tap"
for _ in $(seq 300); do kill -0 $holder 2>/dev/null || break; sleep 0.1; done
kill -0 $holder 2>/dev/null; tap_is $? 1 "the holder saw its connection end with QEMU"
kill $holder 2>/dev/null

# --- by hand: device_del of a vCPU setvcpus plugged (the guest ejects it),
# on a VM of its own: kill ends it whatever QEMU makes of the unplug
f=$(lc_vmfile mond)
vmfile_set "$f" cpu.max=2
out=$("$Q" start "$f" 2>&1); tap_ok $? "start mond ($out)"
lc_wait_ready mond >/dev/null; tap_ok $? "its guest ready"
out=$("$Q" setvcpus mond 2 2>&1); tap_ok $? "setvcpus mond 2 ($out)"
tap_is "$("$Q" dump mond | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu"]["vcpus"])')" 2 "dump: 2 vCPUs"
out=$("$Q" qmp mond device_del '{"id": "vcpu1"}' 2>&1); tap_ok $? "a person's device_del vcpu1 ($out)"
n=0
for _ in $(seq 240); do
        n=$("$Q" vcpuinfo --json mond 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
        [ "$n" = 1 ] && break
        sleep 0.5
done
tap_is "$n" 1 "vcpuinfo: 1 vCPU"
for _ in $(seq 300); do "$Q" list | grep -Eq '^mond +running +[0-9]+ +1 ' && break; sleep 0.2; done
"$Q" list | grep -Eq '^mond +running +[0-9]+ +1 '; tap_ok $? "list: 1 vCPU (the supervisor saw DEVICE_DELETED) ($("$Q" list | grep '^mond '))"
"$Q" status mond | grep -q '^vCPUs: *1 (max 2)'; tap_ok $? "status: 1 vCPU ($("$Q" status mond | grep vCPUs:))"
tap_is "$("$Q" dump mond | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu"]["vcpus"])')" 1 "dump: 1 vCPU"
"$Q" kill mond >/dev/null 2>&1; tap_ok $? "kill mond"

# --- by hand: quit (a second VM; nothing needs its guest)
f=$(lc_vmfile monq)
out=$("$Q" start "$f" 2>&1); tap_ok $? "start monq ($out)"
out=$("$Q" qmp monq quit 2>&1); tap_ok $? "a person's quit on qmp.sock ($out)"
for _ in $(seq 300); do [ "$(lc_field monq state)" = ended ] && break; sleep 0.1; done
tap_is "$(lc_field monq state)" ended "status --json: ended (the supervisor saw SHUTDOWN)"
tap_is "$(lc_field monq shutdown_reason)" host-qmp-quit "and why: host-qmp-quit"
[ ! -e "$QEMUCTL_RUNDIR/monq/qmp.sock" ]; tap_ok $? "qmp.sock is gone with the VM"
tap_done
