#!/usr/bin/env bash
# Figure 8 of `make bench` (issue 16, item 6): the real Debian 12 image
# (`make debian-image`) from nothing to "the guest agent answers", cold boot
# against `start --restore` of a save taken once the agent answered, side by
# side in one run. Each cold round boots a fresh overlay and is saved; the
# restore rounds that follow restore that save (each writes the captured
# overlay back first, as every restore does). Also: `save` itself and the
# save file's size. Times are wall clock around the qemuctl processes, from
# `start` (or `start --restore`) until `wait --for agent` returns (it syncs
# on one connection, so it returns as soon as qemu-ga answers).
# Prints markdown rows (figure 8); exit 77 when the image is not built.
#
# Usage: bench-restore.sh QEMUCTL IMAGE-DIR SCRATCH COLD-ROUNDS RESTORES-PER-COLD
set -eu
Q=$1 img=$2 T=$3 RC=$4 RR=$5
. "$(dirname "$0")/../tests/lib/debian-image.sh" # debian_image_vmfile
[ -s "$img/base.qcow2" ] || { echo "bench-restore: no Debian image in $img (make debian-image)" >&2; exit 77; }
img=$(cd "$img" && pwd)
mkdir -p "$T"
T=$(cd "$T" && pwd)
export QEMUCTL_RUNDIR=$T/run
name=br
debian_image_vmfile "$name" bench >"$T/vm.json"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
: >"$T/cold" ; : >"$T/restore" ; : >"$T/save" ; : >"$T/size"
for c in $(seq "$RC"); do
        rm -f "$T/overlay.qcow2"
        t0=$(ms)
        "$Q" start "$T/vm.json" >/dev/null
        "$Q" wait --for agent --timeout 900 "$name" >/dev/null
        echo $(( $(ms) - t0 )) >>"$T/cold"
        t0=$(ms)
        "$Q" save "$name" "$T/vm.save" >/dev/null
        echo $(( $(ms) - t0 )) >>"$T/save"
        stat -c %s "$T/vm.save" >>"$T/size"
        for r in $(seq "$RR"); do
                t0=$(ms)
                "$Q" start --restore "$T/vm.save" >/dev/null
                "$Q" wait --for agent --timeout 300 "$name" >/dev/null
                echo $(( $(ms) - t0 )) >>"$T/restore"
                "$Q" kill "$name" >/dev/null
        done
        echo "bench-restore: round $c: cold $(tail -1 "$T/cold") ms, save $(tail -1 "$T/save") ms, restores $(tail -n "$RR" "$T/restore" | tr '\n' ' ')ms" >&2
done
python3 - "$T" <<'PY'
import statistics, sys
T = sys.argv[1]
def vals(n):
    return [int(x) for x in open(f"{T}/{n}").read().split()]
cold, rest, save, size = vals("cold"), vals("restore"), vals("save"), vals("size")
def row(what, v, vs=""):
    print(f"| 8 restore | {what} | {statistics.median(v):.0f} | {min(v)} | {max(v)} | {len(v)} | {vs} |")
mc, mr = statistics.median(cold), statistics.median(rest)
row("cold boot of the Debian image (2 vCPUs, 1G, TCG) → agent answers", cold, "baseline")
row("`start --restore` → agent answers", rest, f"{mc / mr:.1f}× faster than the cold boot")
row(f"`save` once the agent answered (file {statistics.median(size) / 2**20:.0f} MiB: stream + captured overlay)", save, "")
PY
