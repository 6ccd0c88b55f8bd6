#!/usr/bin/env bash
# `make bench`: every figure of issue 6 ("qemuctl costs nothing over bare
# QEMU") against TCG guests on this machine, each side by side with its
# baseline in the same run, and docs/performance.md written from the results
# (machine, date, QEMU, commit, method, table, targets). Programs:
#   bench-start    figure 1 (start: qemuctl vs the identical argv by hand)
#   timeit         figure 2 (one verb as a process) and footprint runs
#   qmp-oneshot    the raw one-shot QMP floor for figure 2
#   bench-qmp      figure 2 (library on a kept-open connection vs raw socket)
#   bench-hotplug  figure 3 (setvcpus 1 → N vs the raw device_add sequence)
#   bench-scale    figure 4 (N VMs: start, list, stop)
#   bench-monitor.sh  figure 6 (verbs with and without people on qmp.sock;
#                  relay vs QEMU's monitor; memory per monitor / per client)
#   bench-agent    figure 7 (exec -- true vs the agent's raw guest-exec loop)
#   bench-restore.sh  figure 8 (Debian image: cold boot vs start --restore, to agent answers)
#   bench-migrate.sh  figure 9 (live migration of a 512 MiB guest: qemuctl migrate vs QEMU's figures)
# BENCH_QUICK=1 runs a few rounds of each (a smoke test of the bench itself).
# Environment: BUILD (build dir), PERF_MD (output), QEMU_BINARY.
set -eu
BUILD=${BUILD:-build}
out=${PERF_MD:-docs/performance.md}
qemu=${QEMU_BINARY:-qemu-system-x86_64}
B=$(cd "$BUILD" && pwd)/bench
# $BUILD/qemuctl, not ./qemuctl: `make check-asan` copies its sanitizer
# build over ./qemuctl, which would double every figure
Q0=$BUILD/qemuctl
[ -x "$Q0" ] || { echo "bench: $Q0 missing (make)" >&2; exit 1; }
if grep -q __asan_init "$Q0"; then echo "bench: $Q0 is built with sanitizers: make clean && make bench" >&2; exit 1; fi
[ -f "$BUILD/guest/initrd.img" ] || { echo "bench: test guest missing: make guest${BUILD:+ (}$(cat "$BUILD/guest/MISSING" 2>/dev/null || true))" >&2; exit 1; }
G=$(cd "$BUILD/guest" && pwd)
if [ -n "${BENCH_QUICK:-}" ]; then
        R_START=3 R_READY=1 R_GUEST=2 R_VERB=5 R_QMP="200 3" R_HP=1 HP_N="8" R_LIST=2 SCALE="1:1 8:1" R_FOOT=2 R_AGENT=3 R_RESTORE="1 2"
else
        R_START=15 R_READY=3 R_GUEST=7 R_VERB=40 R_QMP="2000 15" R_HP=7 HP_N="8 16 32" R_LIST=5 SCALE="1:5 8:4 32:4 64:4" R_FOOT=5 R_AGENT=15 R_RESTORE="3 5"
fi

# sun_path is 108 bytes: keep the scratch dir short
T=$(mktemp -d /tmp/qb.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
cleanup() {
        local f pid
        # every QEMU and supervisor a VM of ours recorded (any figure's state
        # dir), checked against /proc so we never kill a stranger
        for f in $(find "$T" -name qemu.pid -o -name supervisor.pid 2>/dev/null); do
                pid=$(cat "$f")
                if { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -q "$T"; then
                        kill -KILL "$pid" 2>/dev/null || true
                fi
        done
        sleep 0.2
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# a private copy: others rebuilding build/qemuctl during the run must not
# change (or, mid-link, break) what is measured
Q=$T/qemuctl
cp "$Q0" "$Q"

rows=$T/rows.md
: >"$rows"
log() { echo "bench: $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)
t_begin=$(date +%s)

# A small VM with no boot device: after `cont` its guest sits in SeaBIOS and
# costs the host nothing, so verbs are timed against an idle QEMU.
idle_vm() { # NAME MEM
        cat >"$T/$1.json" <<JSON
{ "name": "$1", "accel": "tcg", "memory": { "size": "$2" },
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1 }, "serial": "log" }
JSON
        echo "$T/$1.json"
}

# ---- the host's cgroup2: its mount options, and what a move into a cgroup
# costs after a quiet spell (favordynmods in effect or not, which the mount
# options alone cannot tell on a host where it was once mounted)
cg2_mount=$(awk '$9 == "cgroup2" { print $5 " (mount options " $6 ", superblock options " $11 ")"; exit }' /proc/self/mountinfo)
cg2_wait=$("$B/cg-move-wait" 7)
log "cgroup2: ${cg2_mount:-none}; a move after a quiet spell: $cg2_wait"

# ---- 1. start
log "1/5 start ($R_START rounds + $R_READY to the ready line)"
cat >"$T/bs.json" <<JSON
{ "name": "bs", "accel": "tcg", "memory": { "size": "256M" },
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "boot": { "kernel": "$G/vmlinuz", "initrd": "$G/initrd.img", "cmdline": "console=ttyS0 quiet panic=-1" },
  "serial": "log" }
JSON
"$B/bench-start" "$Q" "$T/bs.json" bs "$T/run" "$T/bare" "$R_START" "$R_READY" | tee -a "$rows"
# the same with the vCPU pinned and the emulator pinned apart (without
# cpuset: affinity; with it, vcpu0/ and emulator/ cpuset.cpus too)
last_cpu=$(($(nproc --all) - 1))
cat >"$T/bp.json" <<JSON
{ "name": "bp", "accel": "tcg", "memory": { "size": "256M" },
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1, "pin": { "0": "0" }, "emulator_pin": "$last_cpu" },
  "boot": { "kernel": "$G/vmlinuz", "initrd": "$G/initrd.img", "cmdline": "console=ttyS0 quiet panic=-1" },
  "serial": "log" }
JSON
"$B/bench-start" "$Q" "$T/bp.json" bp "$T/run" "$T/bare" "$R_START" 0 "1 start, pinned" | tee -a "$rows"

# ---- 1 again on a kernel that never had favordynmods: inside the cgroup
# guest (TCG in TCG, a pure cgroup v2 with cpuset; tests/cgroup-guest/bench.sh)
guest_rows=$T/guest-rows.md
: >"$guest_rows"
guest_cg2="" guest_wait=""
if [ "${BENCH_GUEST:-1}" != 0 ]; then
        log "1/5 start inside the cgroup guest ($R_GUEST rounds, TCG in TCG)"
        if CGROUP_GUEST_BENCH=$R_GUEST QEMUCTL=$(cd "$(dirname "$Q0")" && pwd)/qemuctl \
                QEMUCTL_BUILD=$(cd "$BUILD" && pwd) tests/integration/cgroup-guest.sh >"$T/guest.txt" 2>&1; then
                sed -n 's/^row //p' "$T/guest.txt" | tee "$guest_rows"
                guest_cg2=$(sed -n 's/^cgroup2 //p' "$T/guest.txt")
                guest_wait=$(sed -n 's/^move //p' "$T/guest.txt")
        else
                log "the cgroup guest bench failed: $(tail -n 3 "$T/guest.txt" | tr '\n' ' ')"
                guest_wait="- the cgroup guest bench failed or was skipped: $(tail -n 1 "$T/guest.txt" | tr -d "'")"
        fi
fi

# ---- 2. one verb
log "2/5 one verb"
"$Q" start "$(idle_vm v1 64M)" >/dev/null
# QEMU's own monitor (the verbs' one): figure 6 has the people's relay
sock=$T/run/v1/ctl.sock
"$B/timeit" -f "2 one verb" -n "$R_VERB" -w 3 -- \
        "raw one-shot client (bench/qmp-oneshot)" \
        "$B/qmp-oneshot" "$sock" :: \
        "\`qemuctl qmp --socket … query-status\`" "$Q" qmp --socket "$sock" query-status :: \
        "\`qemuctl status v1\`" "$Q" status v1 :: \
        "\`qemuctl list\` (1 VM)" "$Q" list :: \
        "\`qemuctl version\` (exec + dynamic linking, no work)" "$Q" version :: \
        "\`/bin/true\` (exec floor)" /bin/true | tee -a "$rows"
"$Q" kill v1 >/dev/null
log "2/5 library vs raw socket (bench-qmp)"
# shellcheck disable=SC2086
QEMU_BINARY=$qemu "$B/bench-qmp" $R_QMP >"$T/qmp.md"
cat "$T/qmp.md"

# ---- 3. CPU hotplug
log "3/5 CPU hotplug (N = $HP_N, $R_HP rounds)"
mkdir -p "$T/hp"
# shellcheck disable=SC2086
"$B/bench-hotplug" "$Q" "$T/hp" "$R_HP" $HP_N | tee -a "$rows"

# ---- 4. scale
log "4/5 scale ($SCALE)"
mkdir -p "$T/sc"
# shellcheck disable=SC2086
QEMUCTL_RUNDIR=$T/sc/run "$B/bench-scale" "$Q" "$T/sc" "$R_LIST" $SCALE | tee -a "$rows"

# ---- 5. footprint
log "5/5 footprint"
peak_kb() { # CMD... → max RSS in KiB (GNU time -v)
        /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'
}
foot_row() { # WHAT CMD...   (R_FOOT runs: median/min/max of the peak, MiB)
        local what=$1 v
        shift
        v=$(for _ in $(seq "$R_FOOT"); do peak_kb "$@"; done | sort -n | tr '\n' ' ')
        echo "$v" | awk -v what="$what" -v n="$R_FOOT" '{ printf "| 5 footprint | %s | %.1f | %.1f | %.1f | %d | MiB peak RSS |\n", what, $(int((n+1)/2))/1024, $1/1024, $n/1024, n }'
}
"$Q" start "$(idle_vm f1 64M)" >/dev/null
sock=$T/run/f1/ctl.sock
sup=$(cat "$T/run/f1/supervisor.pid") qpid=$(cat "$T/run/f1/qemu.pid")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# PSS: shared pages (libc, json-c …) split among the processes mapping them
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
{
        foot_row "raw one-shot client (bench/qmp-oneshot)" "$B/qmp-oneshot" "$sock"
        foot_row "\`qemuctl status f1\`" "$Q" status f1
        foot_row "\`qemuctl list\`" "$Q" list
        foot_row "\`qemuctl qmp --socket … query-status\`" "$Q" qmp --socket "$sock" query-status
        s=$(rss "$sup") q=$(rss "$qpid") p=$(pss "$sup")
        awk -v s="$s" -v q="$q" -v p="$p" 'BEGIN {
                printf "| 5 footprint | supervisor of one running VM (VmRSS) | %.1f | | | 1 | MiB |\n", s / 1024
                printf "| 5 footprint | supervisor of one running VM (Pss, shared pages split) | %.1f | | | 1 | MiB |\n", p / 1024
                printf "| 5 footprint | its QEMU (64M guest, TCG; context) | %.1f | | | 1 | MiB |\n", q / 1024 }'
        printf '| 5 footprint | state dir of a running VM (`du -sk`) | %s | | | 1 | KiB: %s |\n' \
                "$(du -sk "$T/run/f1" | cut -f1)" "$(cd "$T/run/f1" && ls | tr '\n' ' ')"
} | tee -a "$rows"
"$Q" kill f1 >/dev/null
{
        printf '| 5 footprint | state dir after the VM ended (`du -sk`) | %s | | | 1 | KiB: %s |\n' \
                "$(du -sk "$T/run/f1" | cut -f1)" "$(cd "$T/run/f1" && ls | tr '\n' ' ')"
} | tee -a "$rows"

# ---- 6. the monitor for people (issue 15)
mkdir -p "$T/mon"
if [ -n "${BENCH_QUICK:-}" ]; then R_MON="5 1"; else R_MON="40 3"; fi
# shellcheck disable=SC2086
bench/bench-monitor.sh "$Q" "$B" "$T/mon" "$G" $R_MON | tee -a "$rows"
# ---- 7. guest agent
if [ -f "$BUILD/guest/AGENT-MISSING" ]; then
        log "7 guest agent: skipped ($(cat "$BUILD/guest/AGENT-MISSING"))"
else
        log "7 guest agent ($R_AGENT rounds)"
        cat >"$T/ga.json" <<JSON
{ "name": "ga", "accel": "tcg", "memory": { "size": "256M" },
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "boot": { "kernel": "$G/vmlinuz", "initrd": "$G/initrd.img", "cmdline": "console=ttyS0 quiet panic=-1" },
  "serial": "log", "guest_agent": true }
JSON
        "$Q" start "$T/ga.json" >/dev/null
        "$Q" wait --for agent --timeout 180 ga
        # the direct floor: QEMU's qga.sock of a second VM whose supervisor
        # is gone (a live one keeps qga.sock's one connection for its relay)
        sed 's/"name": "ga"/"name": "gd"/' "$T/ga.json" >"$T/gd.json"
        "$Q" start "$T/gd.json" >/dev/null
        "$Q" wait --for agent --timeout 180 gd
        kill -KILL "$(cat "$T/run/gd/supervisor.pid")"
        sleep 0.5
        "$B/bench-agent" "$Q" ga "$T/run/ga/agent.sock" "$R_AGENT" "$T/run/gd/qga.sock" | tee -a "$rows"
        "$Q" kill ga >/dev/null
        "$Q" kill gd >/dev/null
fi

# ---- 8. restore instead of boot (the real Debian image)
if [ -s "$BUILD/debian-image/base.qcow2" ]; then
        log "8 restore instead of boot ($R_RESTORE cold rounds × restores)"
        # shellcheck disable=SC2086
        bench/bench-restore.sh "$Q" "$BUILD/debian-image" "$T/br" $R_RESTORE | tee -a "$rows"
else
        log "8 restore: skipped (no Debian image: make debian-image)"
fi
# ---- 9. live migration (issue 12)
if [ -n "${BENCH_QUICK:-}" ]; then R_MIG=2; else R_MIG=6; fi
log "9 live migration ($R_MIG moves)"
mkdir -p "$T/mig"
bench/bench-migrate.sh "$Q" "$T/mig" "$G" "$BUILD/tests/tools/guest-ask" "$R_MIG" | tee -a "$rows"

load_end=$(load)
secs=$(( $(date +%s) - t_begin ))
# the raw results stay in $BUILD/bench/results/ (report.env re-renders the
# report: set -a; . report.env; python3 bench/write-report.py)
res=$B/results
mkdir -p "$res"
cp "$rows" "$res/rows.md"
cp "$T/qmp.md" "$res/qmp.md"
cp "$guest_rows" "$res/guest-rows.md"
cat >"$res/report.env" <<ENV
BENCH_ROWS='$res/rows.md'
BENCH_QMP='$res/qmp.md'
BENCH_QEMU='$qemu'
BENCH_LOAD_START='$load_start'
BENCH_LOAD_END='$load_end'
BENCH_SECS='$secs'
BENCH_QUICK='${BENCH_QUICK:-}'
BENCH_CGROUP2='$cg2_mount'
BENCH_CG_WAIT='$cg2_wait'
BENCH_GUEST_ROWS='$res/guest-rows.md'
BENCH_GUEST_CGROUP2='$guest_cg2'
BENCH_GUEST_CG_WAIT='$guest_wait'
BENCH_GUEST_ROUNDS='$R_GUEST'
BENCH_DATE='$(date -u '+%Y-%m-%d %H:%M UTC')'
ENV
log "writing $out"
(set -a && . "$res/report.env" && python3 bench/write-report.py) >"$out.tmp"
mv -f "$out.tmp" "$out"
log "done in ${secs}s: $out"
