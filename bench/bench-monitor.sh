#!/usr/bin/env bash
# Figure 6 of `make bench` (issue 15): the monitor for people.
#  a) qemuctl's verbs (balloon, setmem, setvcpus, stop) with nobody on
#     qmp.sock, and with a client holding qmp.sock open plus one polling
#     query-status on it every 100 ms; side by side, rounds interleaved.
#  b) what the relay costs a client: one-shot query-status on QEMU's own
#     monitor (ctl.sock) vs through the supervisor's relay (qmp.sock).
#  c) what each design costs in memory: QEMU's RSS per extra QMP monitor
#     (the "more monitors" design) and the supervisor's RSS per relayed
#     client.
# Usage: bench-monitor.sh QEMUCTL BENCHDIR SCRATCH GUESTDIR ROUNDS VERB_ROUNDS
# Prints markdown rows (| figure | what | median | min | max | n | vs |).
set -eu
Q=$1 B=$2 T=$3 G=$4 R=$5 RV=$6
export QEMUCTL_RUNDIR=$T/run
mkdir -p "$T"
log() { echo "bench: $*" >&2; }
# what a VM of ours recorded, checked against /proc so no stranger is killed
# (run-bench.sh does the same for its whole scratch dir)
cleanup() {
        local f pid
        for f in $(find "$T" -name qemu.pid -o -name supervisor.pid -o -name holder.pid -o -name poller.pid 2>/dev/null); do
                pid=$(cat "$f")
                if { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -q "$T"; then
                        kill -KILL "$pid" 2>/dev/null || true
                fi
        done
}
trap cleanup EXIT

vmfile() { # NAME
        cat >"$T/$1.json" <<JSON
{ "name": "$1", "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1, "max": 2 },
  "memory": { "size": "512M", "max": "1G", "slots": 2 },
  "boot": { "kernel": "$G/vmlinuz", "initrd": "$G/initrd.img", "cmdline": "console=ttyS0 quiet panic=-1" },
  "serial": "log" }
JSON
        echo "$T/$1.json"
}

us() { echo $(( $(date +%s%N) / 1000 )); }

# The people: one holder (greeted, never negotiates, never reads on) and one
# poller (query-status every 100 ms), both on NAME's qmp.sock.
people_start() { # NAME
        local sock=$QEMUCTL_RUNDIR/$1/qmp.sock
        socat -u "UNIX-CONNECT:$sock" - >/dev/null 2>&1 &
        echo $! >"$T/holder.pid"
        python3 - "$sock" <<'PY' >/dev/null 2>&1 &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rwb", buffering=0)
f.readline(); f.write(b'{"execute": "qmp_capabilities"}\n'); f.readline()
while True:
    f.write(b'{"execute": "query-status", "id": 1}\n')
    while True:
        m = f.readline()
        if not m:
            sys.exit(0)
        if b'"return"' in m:
            break
    time.sleep(0.1)
PY
        echo $! >"$T/poller.pid"
        sleep 0.5
}
people_stop() {
        kill "$(cat "$T/holder.pid")" "$(cat "$T/poller.pid")" 2>/dev/null || true
}

# A verb that failed: what it said and what QEMU, its threads and the
# supervisor were doing, on stderr; the round goes on without it.
diagnose() { # NAME VERB
        local d=$QEMUCTL_RUNDIR/$1 pid
        pid=$(cat "$d/qemu.pid" 2>/dev/null || true)
        {
                echo "bench: FAILED: qemuctl $2: $(cat "$T/verb.err")"
                "$Q" status "$1" 2>&1 | sed 's/^/bench:   /'
                tail -n 5 "$d/events.log" 2>/dev/null | sed 's/^/bench:   event /'
                tail -n 5 "$d/qemu.log" 2>/dev/null | sed 's/^/bench:   qemu.log /'
                tail -n 3 "$d/serial.log" 2>/dev/null | sed 's/^/bench:   serial /'
                if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
                        for t in /proc/"$pid"/task/*; do
                                echo "bench:   thread $(cat "$t/comm") $(awk '{ print $3 }' "$t/stat") $(cat "$t/wchan" 2>/dev/null)"
                        done
                fi
        } >&2
}

# one round: a fresh guest (booted untimed), then each verb timed as a process
times=$T/verb-times
: >"$times"
verb_round() { # ROUND WITH(0|1)
        local name=m$1w$2 t0 f
        f=$(vmfile "$name")
        "$Q" start "$f" >/dev/null
        "$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 "$name" >/dev/null
        [ "$2" = 1 ] && people_start "$name"
        for v in "balloon --timeout 120 $name 256M" "balloon --timeout 120 $name 512M" "setmem $name 768M" \
                 "setvcpus $name 2" "stop --timeout 120 $name"; do
                t0=$(us)
                # shellcheck disable=SC2086
                if ! "$Q" $v >/dev/null 2>"$T/verb.err"; then
                        diagnose "$name" "$v"
                        break
                fi
                printf '%s %s %s\n' "$2" "$(echo "$v" | sed "s/ $name\b//; s/ *--timeout 120//")" \
                        "$(( $(us) - t0 ))" >>"$times"
        done
        [ "$2" = 1 ] && people_stop
        "$Q" kill "$name" >/dev/null 2>&1 || true
}
log "6/6 monitor: verbs with and without people on qmp.sock ($RV rounds each, interleaved)"
for r in $(seq "$RV"); do
        if [ $((r % 2)) = 1 ]; then verb_round "$r" 0; verb_round "$r" 1; else verb_round "$r" 1; verb_round "$r" 0; fi
done
python3 - "$times" <<'PY'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    *words, us = line.split()
    with_, verb = words[0], " ".join(words[1:])
    if verb not in order:
        order.append(verb)
    rows.setdefault((verb, with_), []).append(int(us) / 1000)
def fmt(v):
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"
for verb in order:
    base = rows.get((verb, "0"), [])
    for w, what in (("0", "nobody on qmp.sock"), ("1", "a client holds qmp.sock, another polls it every 100 ms")):
        v = sorted(rows.get((verb, w), []))
        if not v:
            continue
        m = statistics.median(v)
        vs = "baseline"
        if w == "1" and base:
            bm = statistics.median(base)
            vs = f"{m / bm:.2f}× nobody ({'+' if m >= bm else '−'}{fmt(abs(m - bm))} ms)"
        print(f"| 6 monitor | `qemuctl {verb}`, {what} | {fmt(m)} | {fmt(v[0])} | {fmt(v[-1])} | {len(v)} | {vs} |")
PY

# b) one-shot latency, direct vs relayed, on one idle VM (no boot device)
log "6/6 monitor: one-shot query-status, QEMU's monitor vs the relay"
cat >"$T/idle.json" <<JSON
{ "name": "mi", "accel": "tcg", "memory": { "size": "64M" },
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "serial": "log" }
JSON
"$Q" start "$T/idle.json" >/dev/null
"$B/timeit" -f "6 monitor" -n "$R" -w 3 -- \
        "one-shot query-status on ctl.sock (QEMU's monitor, direct)" "$B/qmp-oneshot" "$QEMUCTL_RUNDIR/mi/ctl.sock" :: \
        "one-shot query-status on qmp.sock (through the supervisor's relay)" "$B/qmp-oneshot" "$QEMUCTL_RUNDIR/mi/qmp.sock"

# c) memory: the supervisor with 0 and with 16 relayed clients connected
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
sup=$(cat "$QEMUCTL_RUNDIR/mi/supervisor.pid")
s0=$(rss "$sup")
python3 - "$QEMUCTL_RUNDIR/mi/qmp.sock" "$T/clients.ready" <<'PY' &
import socket, sys, time
c = []
for i in range(16):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    f = s.makefile("rwb", buffering=0)
    f.readline(); f.write(b'{"execute": "qmp_capabilities"}\n'); f.readline()
    f.write(b'{"execute": "query-status"}\n'); f.readline()
    c.append((s, f))
open(sys.argv[2], "w").write("ready")
time.sleep(30)
PY
cl=$!
for _ in $(seq 100); do [ -s "$T/clients.ready" ] && break; sleep 0.1; done
s16=$(rss "$sup")
kill $cl 2>/dev/null || true
"$Q" kill mi >/dev/null

# QEMU's RSS per monitor: the VM's own argv (3 monitors), bare, with 0 and 8
# more -qmp monitors, -S (nothing runs), read once the last greeting came
"$Q" cmdline "$T/idle.json" >"$T/argv" 2>/dev/null
qemu_rss() { # EXTRA-MONITORS → KiB
        local d=$T/qr$1 i pid
        mkdir -p "$d/run/mi"
        mapfile -t argv <"$T/argv"
        argv=("${argv[@]//$QEMUCTL_RUNDIR/$d/run}")
        for i in $(seq "$1"); do argv+=(-qmp "unix:$d/x$i.sock,server=on,wait=off"); done
        "${argv[@]}" -S </dev/null >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 200); do
                "$B/qmp-oneshot" "$d/run/mi/ctl.sock" >/dev/null 2>&1 && break
                sleep 0.05
        done
        for i in $(seq "$1"); do "$B/qmp-oneshot" "$d/x$i.sock" >/dev/null 2>&1 || true; done
        rss $pid
        kill -KILL $pid 2>/dev/null
        wait $pid 2>/dev/null || true
}
q0=$(qemu_rss 0) q8=$(qemu_rss 8)
awk -v s0="$s0" -v s16="$s16" -v q0="$q0" -v q8="$q8" 'BEGIN {
        printf "| 6 monitor | supervisor VmRSS, nobody on qmp.sock | %.0f | | | 1 | KiB |\n", s0
        printf "| 6 monitor | supervisor VmRSS, 16 clients on qmp.sock (each negotiated, one command done) | %.0f | | | 1 | KiB: %+.1f KiB per client |\n", s16, (s16 - s0) / 16
        printf "| 6 monitor | QEMU VmRSS, -S, its 3 monitors (ctl, events, relay) | %.0f | | | 1 | KiB |\n", q0
        printf "| 6 monitor | QEMU VmRSS, -S, 8 more -qmp monitors, each greeted once | %.0f | | | 1 | KiB: %+.1f KiB per monitor |\n", q8, (q8 - q0) / 8
}'
