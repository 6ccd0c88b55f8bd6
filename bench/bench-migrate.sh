#!/usr/bin/env bash
# Figure 9 of `make bench` (issue 12): live migration of a 512 MiB test
# guest between two state dirs of this host (qemuctl migrate --to DIR), its
# RAM filled first (200 MiB of random bytes in its tmpfs, so the stream is
# not mostly zero pages). Per round: qemuctl migrate as a whole process
# (wall clock: the far side's start, the stream, the far side's cont, the
# source's quit and tidying) against QEMU's own figures from query-migrate
# at completion (total-time: the stream; downtime: the guest's pause).
# Usage: bench-migrate.sh QEMUCTL SCRATCH GUESTDIR GUEST-ASK ROUNDS
# Prints markdown rows (| figure | what | median | min | max | n | vs |).
set -eu
Q=$1 T=$2 G=$3 ASK=$4 R=$5
A=$T/run-a B=$T/run-b
mkdir -p -m 700 "$A" "$B"
log() { echo "bench: $*" >&2; }
cleanup() {
        local f pid
        for f in $(find "$T" -name qemu.pid -o -name supervisor.pid 2>/dev/null); do
                pid=$(cat "$f")
                if { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -q "$T"; then
                        kill -KILL "$pid" 2>/dev/null || true
                fi
        done
}
trap cleanup EXIT

cat >"$T/mg.json" <<JSON
{ "name": "mg", "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "memory": { "size": "512M" },
  "boot": { "kernel": "$G/vmlinuz", "initrd": "$G/initrd.img", "cmdline": "console=ttyS0 quiet panic=-1" },
  "serial": "log",
  "qemu": { "args": ["-chardev", "socket,id=ask,path=$T/mg.ask,server=on,wait=off", "-device", "isa-serial,chardev=ask"] } }
JSON
QEMUCTL_RUNDIR=$A "$Q" start "$T/mg.json" >/dev/null
QEMUCTL_RUNDIR=$A "$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 mg >/dev/null
"$ASK" -t 300 "$T/mg.ask" sh 'dd if=/dev/urandom of=/tmp/fill bs=1M count=200 2>/dev/null; echo filled' >/dev/null
: >"$T/mg.times"
from=$A to=$B parent=qemuctl-bench-b
for r in $(seq "$R"); do
        t0=$(date +%s%N)
        out=$(QEMUCTL_RUNDIR=$from "$Q" migrate mg --to "$to" --set cgroup.parent=$parent 2>&1) ||
                { log "migrate failed: $out"; break; }
        wall=$(( ($(date +%s%N) - t0) / 1000 ))
        # "VM `mg` migrated to DIR: 2.31 s, 230 MiB of RAM sent, downtime 45 ms (QEMU: total 2100 ms)"
        echo "$wall $(echo "$out" | sed -n 's/.*, \([0-9]*\) MiB of RAM sent, downtime \([0-9-]*\) ms (QEMU: total \([0-9-]*\) ms).*/\1 \2 \3/p')" >>"$T/mg.times"
        if [ "$from" = "$A" ]; then from=$B to=$A parent=qemuctl; else from=$A to=$B parent=qemuctl-bench-b; fi
done
QEMUCTL_RUNDIR=$from "$Q" kill mg >/dev/null 2>&1 || true
python3 - "$T/mg.times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit(0)
rows = [r for r in rows if len(r) == 4]
if not rows:
    sys.exit(0)
wall = [float(r[0]) / 1000 for r in rows]
sent = [float(r[1]) for r in rows]
down = [float(r[2]) for r in rows]
qtot = [float(r[3]) for r in rows]
def row(what, v, vs):
    print(f"| 9 migrate | {what} | {statistics.median(v):.0f} | {min(v):.0f} | {max(v):.0f} | {len(v)} | {vs} |")
row("`qemuctl migrate` as a process (512 MiB guest, 200 MiB of it random)", wall,
    f"{statistics.median(wall) - statistics.median(qtot):+.0f} ms over QEMU's total-time")
row("QEMU's total-time (query-migrate)", qtot, "the stream itself")
row("QEMU's downtime (query-migrate): the guest paused", down, "")
row("RAM sent (MiB)", sent, "")
PY
