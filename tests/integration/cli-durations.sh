#!/usr/bin/env bash
# Durations on the command line (--timeout, --lock-timeout, run's
# --stop-timeout): what is no duration or out of range is a usage error that
# says so, before anything else happens; nothing overflows (a double past
# INT_MAX converted to int is undefined behaviour). No QEMU needed.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=$QEMUCTL
T=$(mktemp -d /tmp/qemuctl-dur.XXXXXX)
trap 'rm -rf "$T"' EXIT
export QEMUCTL_RUNDIR=$T/run

# refused (exit 2, the option and the value named): verb, option, value, what the message says
refused() { # VERB OPT VALUE WANT-GLOB
        local out rc
        out=$("$Q" "$1" "$2" "$3" novm 2>&1); rc=$?
        case $out in *"$2"*"$4"*) m=0 ;; *) m=1 ;; esac
        tap_ok $(( rc == 2 && m == 0 ? 0 : 1 )) "$1 $2 '$3' is refused (rc $rc): ${out:0:200}"
}
for v in 2147484 2147484s 35792m 2147483648ms 3000000 1e30 1e400 inf infinity -inf Inf; do
        case $v in -*) want="expected" ;; *) want="too long: at most 2147483 s" ;; esac
        refused wait --timeout "$v" "$want"
done
for v in -1 -0.5 nan NaN -nan abc 10x "" 5h; do
        refused stop --timeout "$v" "expected"
done
refused stop --lock-timeout 1e12 "too long"
refused stop --lock-timeout nan "expected"
refused balloon --timeout 0 "a positive number of seconds"
out=$("$Q" run --stop-timeout 99999999 /nonexistent.json 2>&1); rc=$?
case $out in *"--stop-timeout"*"too long"*) m=0 ;; *) m=1 ;; esac
tap_ok $(( rc == 2 && m == 0 ? 0 : 1 )) "run --stop-timeout past the range is refused: ${out:0:200}"

# accepted: the option is fine, so the verb goes on to find no VM (exit 1)
for v in 2147483 2147483s 35791m 2147483647ms 0.5 1e3 90s 2m 500ms; do
        out=$("$Q" stop --timeout "$v" novm 2>&1); rc=$?
        case $out in *"no VM named"*) m=0 ;; *) m=1 ;; esac
        tap_ok $(( rc == 1 && m == 0 ? 0 : 1 )) "stop --timeout '$v' is a duration (rc $rc): ${out:0:160}"
done
tap_done
