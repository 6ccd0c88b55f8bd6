#!/usr/bin/env bash
# qemuctl cmdline with accel "auto": when KVM is unusable here and auto
# becomes TCG, host-passthrough/host-model run as -cpu max, and cmdline says
# so on stderr (with the probe's reason). When KVM works, -cpu host and no
# note. Runs no QEMU. TAP output.
set -u
QEMUCTL=${QEMUCTL:-./qemuctl}
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
                check "$mode: KVM works here: -cpu host" [ "${cpu%%,*}" = host ]
                check "$mode: and no note" [ ! -s "$T/err" ]
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
        check "start: KVM works here: no note" [ ! -s "$T/err" ]
else
        check "start: stderr has the same note" \
                grep -q "^qemuctl: start: note: accel auto resolved to tcg (KVM unusable here: .\+): cpu.mode host-model runs as -cpu max,migratable=on\$" "$T/err"
fi
[ $started = 1 ] && "$QEMUCTL" kill "acc$$" >/dev/null 2>&1
printf '{ "name": "a", "accel": "tcg" }\n' >"$T/tcg.json"
"$QEMUCTL" cmdline "$T/tcg.json" >/dev/null 2>"$T/err"
check "accel tcg asked for: no note" [ ! -s "$T/err" ]
echo "1..$n"
[ $fails = 0 ]
