#!/usr/bin/env bash
# qemuctl cmdline with accel "auto": when KVM is unusable here and auto
# becomes TCG, host-passthrough/host-model run as -cpu max, and cmdline says
# so on stderr (with the probe's reason). When KVM works, -cpu host and no
# note. accel "kvm" where KVM runs no guest: start and run refuse before
# QEMU is executed (run exits 3), naming the probe's finding and the fix.
# Starts one small VM (hold the QEMU lock). TAP output.
set -u
QEMUCTL=${QEMUCTL:-./qemuctl}
. "${QEMUCTL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/host-facts.sh"
n=0 fails=0
check() { # description, then a command that must succeed
        local d=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fails=$((fails + 1)); fi
}
T=$(mktemp -d /tmp/qemuctl-accel.XXXXXX)
trap 'rm -rf "$T"' EXIT
export QEMUCTL_RUNDIR=$T/run

for mode in host-passthrough host-model; do
        printf '{ "name": "a", "accel": "auto", "cpu": { "mode": "%s" } }\n' "$mode" >"$T/$mode.json"
        "$QEMUCTL" cmdline "$T/$mode.json" >"$T/argv" 2>"$T/err"; rc=$?
        check "$mode: cmdline exits 0" [ $rc = 0 ]
        accel=$(grep -A1 -x -- -accel "$T/argv" | tail -n1)
        cpu=$(grep -A1 -x -- -cpu "$T/argv" | tail -n1)
        if [ "$accel" = kvm ]; then
                if [ $mode = host-passthrough ]; then
                        check "$mode: KVM works here: -cpu host" [ "${cpu%%,*}" = host ]
                        check "$mode: and no note" [ ! -s "$T/err" ]
                else # QEMU's expansion of the host CPU: a named model (or host where none fits, said so)
                        check "$mode: KVM works here: the note names what it became" \
                                grep -q "^qemuctl: cmdline: note: cpu.mode: host-model" "$T/err"
                fi
        else
                want=max; [ $mode = host-model ] && want=max,migratable=on
                check "$mode: auto became tcg: -cpu $want" [ "$accel" = tcg,thread=multi ] && [ "$cpu" = "$want" ]
                check "$mode: stderr says so, with the reason" \
                        grep -q "^qemuctl: cmdline: note: accel auto resolved to tcg (KVM unusable here: .\+): cpu.mode $mode runs as -cpu $want\$" "$T/err"
        fi
done
# start says the same, and starts what cmdline showed
printf '{ "name": "acc%d", "accel": "auto", "cpu": { "mode": "host-model" }, "memory": { "size": "64M" } }\n' $$ >"$T/start.json"
if "$QEMUCTL" start "$T/start.json" >/dev/null 2>"$T/err"; then
        started=1
else
        started=0
fi
check "start with accel auto succeeds" [ $started = 1 ]
if grep -q -- "-accel$" "$T/argv" && [ "$(grep -A1 -x -- -accel "$T/argv" | tail -n1)" = kvm ]; then
        check "start: KVM works here: the host-model note" grep -q "^qemuctl: start: note: cpu.mode: host-model" "$T/err"
else
        check "start: stderr has the same note" \
                grep -q "^qemuctl: start: note: accel auto resolved to tcg (KVM unusable here: .\+): cpu.mode host-model runs as -cpu max,migratable=on\$" "$T/err"
fi
[ $started = 1 ] && "$QEMUCTL" kill "acc$$" >/dev/null 2>&1
printf '{ "name": "a", "accel": "tcg" }\n' >"$T/tcg.json"
"$QEMUCTL" cmdline "$T/tcg.json" >/dev/null 2>"$T/err"
check "accel tcg asked for: no note" [ ! -s "$T/err" ]

# accel "kvm" where KVM runs no guest: refused before QEMU is executed. The
# stand-in QEMU records that it ran (before the fix it did, and the real one
# aborted on its own: "failed to set MSR 0x10a").
kvm_why=$(host_kvm_why)
if [ -z "$kvm_why" ]; then
        n=$((n + 1)); echo "ok $n - # SKIP KVM runs guests here: accel kvm is not refused"
else
        printf '#!/bin/sh\ntouch "%s/qemu-ran"\nexit 1\n' "$T" >"$T/fake-qemu"
        chmod +x "$T/fake-qemu"
        printf '{ "name": "kvm%d", "accel": "kvm", "memory": { "size": "64M" }, "qemu": { "binary": "%s" } }\n' \
                $$ "$T/fake-qemu" >"$T/kvm.json"
        finding=${kvm_why#KVM does not run a guest here: }
        for verb in run start; do
                rm -f "$T/qemu-ran"
                "$QEMUCTL" $verb "$T/kvm.json" >/dev/null 2>"$T/err"; rc=$?
                want=1; [ $verb = run ] && want=3
                check "$verb, accel kvm, KVM runs no guest ($kvm_why): exits $want (got $rc)" [ $rc = $want ]
                check "$verb: QEMU was never executed" [ ! -e "$T/qemu-ran" ]
                check "$verb: names the probe's finding" \
                        grep -qF "qemuctl: $verb: accel: \"kvm\", but KVM does not run a guest on this host (" "$T/err"
                [ "$finding" != "$kvm_why" ] &&
                        check "$verb: the same finding as qemuctl host ($finding)" grep -qF "($finding)" "$T/err"
                check "$verb: names the fix" grep -qF 'set "accel": "auto" (KVM where it runs guests, TCG elsewhere) or "tcg"' "$T/err"
                check "$verb: left no state dir" [ ! -e "$T/run/kvm$$" ]
                sed 's/^/#   /' "$T/err"
        done
        # cmdline still shows the command line (as on a host where KVM runs), and says start would refuse
        "$QEMUCTL" cmdline "$T/kvm.json" >"$T/argv" 2>"$T/err"; rc=$?
        check "cmdline, accel kvm: exits 0" [ $rc = 0 ]
        check "cmdline: -accel kvm" [ "$(grep -A1 -x -- -accel "$T/argv" | tail -n1)" = kvm ]
        check "cmdline: a note that start and run refuse it here" \
                grep -qF 'qemuctl: cmdline: note: start and run refuse this VM file here: accel: "kvm", but KVM does not run a guest' "$T/err"
fi
echo "1..$n"
[ $fails = 0 ]
