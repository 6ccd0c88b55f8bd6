# Helpers for tests/integration/lifecycle-*.sh (sourced after lib.sh; kept
# outside tests/integration/ because every *.sh there is run as a test).
#   lc_setup              temp dir, QEMUCTL_RUNDIR, a trap that kills what we started
#   lc_kill_recorded PAT  SIGKILL the QEMUs/supervisors recorded in QEMUCTL_RUNDIR (cmdline matching PAT)
#   lc_vmfile NAME [KNOBS] [EXTRA-JSON]   write $LC_TMP/NAME.json (test guest, TCG, ask channel)
#   lc_ask NAME QUESTION  ask the guest of VM NAME
#   lc_field NAME KEY     a field of `qemuctl status --json NAME`
#   lc_wait_started NAME  wait for a record of a run that has not ended (starting, running, paused)
#   lc_wait_ready NAME    lc_wait_started, then the guest's ready line
# and tests/lib/vmfile.sh's vmfile_set, jget.

. "$QEMUCTL_SRCDIR/tests/lib/vmfile.sh"

lc_setup() {
        LC_TMP=$(mktemp -d /tmp/qemuctl-lc.XXXXXX)
        export QEMUCTL_RUNDIR=$LC_TMP/run
        trap lc_cleanup EXIT
}

# SIGKILL every QEMU and supervisor the VMs in $QEMUCTL_RUNDIR recorded
# (qemu.pid, supervisor.pid) whose command line matches PATTERN (a temp dir of
# the test's own), so a reused pid of a stranger is never killed.
lc_kill_recorded() { # PATTERN
        local f pid
        for f in "$QEMUCTL_RUNDIR"/*/qemu.pid "$QEMUCTL_RUNDIR"/*/supervisor.pid; do
                [ -f "$f" ] || continue
                pid=$(cat "$f")
                if { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -q "$1"; then
                        kill -KILL "$pid" 2>/dev/null
                fi
        done
}

lc_cleanup() {
        lc_kill_recorded "$LC_TMP"
        for p in ${LC_BG_PIDS:-}; do kill -KILL "$p" 2>/dev/null; done
        sleep 0.2
        rm -rf "$LC_TMP"
}

lc_vmfile() { # NAME [KNOBS] [EXTRA-JSON-MEMBERS]
        local name=$1 knobs=${2:-} extra=${3:-}
        local g
        g=$(cd "$GUEST_DIR" && pwd)
        cat >"$LC_TMP/$name.json" <<JSON
{
  "name": "$name",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "memory": { "size": "256M" },
  "boot": { "kernel": "$g/vmlinuz", "initrd": "$g/initrd.img", "cmdline": "$GUEST_CMDLINE $knobs" },
  "serial": "log",
  "panic": true,
  "debug_exit": true,
  $extra
  "qemu": { "args": ["-chardev", "socket,id=ask,path=$LC_TMP/$name.ask,server=on,wait=off",
                     "-device", "isa-serial,chardev=ask"] }
}
JSON
        echo "$LC_TMP/$name.json"
}

lc_ask() { "$GUEST_ASK_TOOL" -t 120 "$LC_TMP/$1.ask" "${@:2}"; }

lc_field() { # NAME KEY
        "$QEMUCTL" status --json "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

# NAME, run in the background: it may have no state dir yet, or still the
# one of an earlier run of that name, whose record says it ended (and whose
# serial.log has a ready line) until the new run clears it. Bounded: 60 s.
lc_wait_started() { # NAME
        local _i
        for _i in $(seq 300); do
                python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["state"] not in ("starting", "running", "paused"))' \
                        "$QEMUCTL_RUNDIR/$1/status.json" 2>/dev/null && return 0
                sleep 0.2
        done
        echo "# $1: no record of a run that has not ended within 60 s" >&2
        return 1
}

lc_wait_ready() { # NAME: lc_wait_started, then the guest's ready line
        lc_wait_started "$1" && "$QEMUCTL" wait --for 'serial:qemuctl-guest: ready' --timeout 180 "$1"
}
