#!/usr/bin/env bash
# qemuctl qmp / hmp against a real, paused QEMU (TCG). TAP output; 77 = skip.
set -u
QEMU=${QEMU_BINARY:-qemu-system-x86_64}
if ! command -v "$QEMU" >/dev/null; then
        echo "1..0 # SKIP $QEMU not installed"
        exit 77
fi
QEMUCTL=${QEMUCTL:-./qemuctl}
dir=$(mktemp -d /tmp/qemuctl-qmp-cli.XXXXXX)
qpid=
cleanup() {
        [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT
n=0 fails=0
check() { # description, then a command that must succeed
        local d=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fails=$((fails + 1)); fi
}
all() { eval "$1"; } # check DESC all 'A && B': both in the check, not B after it

"$QEMU" -accel tcg -M q35 -S -nodefaults -display none -m 256M -name qmpcli \
        -qmp "unix:$dir/qmp.sock,server=on,wait=off" -qmp "unix:$dir/ev.sock,server=on,wait=off" &
qpid=$!
for _ in $(seq 600); do [ -S "$dir/ev.sock" ] && break; sleep 0.05; done

out=$("$QEMUCTL" qmp --socket "$dir/qmp.sock" query-status); rc=$?
check "qmp query-status exits 0" [ $rc = 0 ]
check "prints the status as JSON" grep -q '"status": "prelaunch"' <<<"$out"
out=$("$QEMUCTL" qmp --socket "$dir/qmp.sock" --json query-name)
check "--json is compact" [ "$out" = '{"name":"qmpcli"}' ]
out=$("$QEMUCTL" qmp --socket="$dir/qmp.sock" --json qom-get '{"path": "/machine", "property": "type"}')
check "arguments as JSON" grep -q '^"pc-q35-[0-9.]*-machine"$' <<<"$out"
err=$("$QEMUCTL" qmp --socket "$dir/qmp.sock" device_add '{"driver": "no-such-device"}' 2>&1 >/dev/null); rc=$?
check "an error reply exits 1" [ $rc = 1 ]
check "and says what QEMU said" grep -q "^qemuctl: qmp: device_add: GenericError: 'no-such-device'" <<<"$err"
"$QEMUCTL" qmp --socket "$dir/qmp.sock" query-status '[1]' 2>/dev/null; rc=$?
check "ARGS-JSON that is not an object is a usage error" [ $rc = 2 ]
"$QEMUCTL" qmp query-status 2>/dev/null; rc=$?
check "--socket is required" [ $rc = 2 ]
err=$("$QEMUCTL" qmp --socket "$dir/none.sock" query-status 2>&1); rc=$?
check "a missing socket fails with a hint" all '[ $rc = 1 ] && grep -q "is QEMU running" <<<"$err"'
out=$("$QEMUCTL" hmp --socket "$dir/qmp.sock" 'info status')
check "hmp prints HMP text" [ "$out" = "VM status: paused (prelaunch)" ]
# human-monitor-command returns success whatever HMP thinks of the line
out=$("$QEMUCTL" hmp --socket "$dir/qmp.sock" 'info nosuch' 2>"$dir/err"); rc=$?
check "hmp: an unknown HMP command exits 1" [ $rc = 1 ]
check "and says so on stderr, not stdout" \
        all '[ -z "$out" ] && grep -q "^qemuctl: hmp: unknown command: '"'info nosuch'"'\$" "$dir/err"'
out=$("$QEMUCTL" hmp --socket "$dir/qmp.sock" 'device_del nosuch' 2>"$dir/err"); rc=$?
check "hmp: a command HMP refuses (Error: ...) exits 1" [ $rc = 1 ]
check "with HMP's message on stderr" all '[ -z "$out" ] && grep -q "^qemuctl: hmp: Error: .*nosuch" "$dir/err"'
# QEMU serves one client per QMP socket: a second one gets no greeting
# (once the holder has its own: QEMU accepts the next client only when it
# is done with the last, here hmp's)
socat -u "UNIX-CONNECT:$dir/qmp.sock" - >"$dir/holder.out" &
holder=$!
for _ in $(seq 600); do grep -q '"QMP"' "$dir/holder.out" && break; sleep 0.05; done
check "the holder has QEMU's greeting" grep -q '"QMP"' "$dir/holder.out"
err=$("$QEMUCTL" qmp --socket "$dir/qmp.sock" --timeout 1 query-status 2>&1); rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
check "a busy QMP socket fails" [ $rc = 1 ]
check "naming the socket once and the likely cause" \
        [ "$err" = "qemuctl: qmp: $dir/qmp.sock: no greeting from the QMP peer within 1000 ms (is another client connected? QEMU serves one client per QMP socket)" ]
out=$("$QEMUCTL" qmp --help)
check "qmp --help" grep -q "^Usage: qemuctl qmp" <<<"$out"
out=$("$QEMUCTL" hmp --help)
check "hmp --help" grep -q "^Usage: qemuctl hmp" <<<"$out"

"$QEMUCTL" qmp --socket "$dir/ev.sock" --events --timeout 120 >"$dir/events" &
evpid=$!
# QEMU sends events to a client once it has negotiated: reset the VM (still
# in prelaunch) until the listener shows a RESET, then the events checked
for _ in $(seq 300); do
        "$QEMUCTL" qmp --socket "$dir/qmp.sock" system_reset >/dev/null
        grep -q '"event":"RESET"' "$dir/events" && break
        sleep 0.2
done
"$QEMUCTL" qmp --socket "$dir/qmp.sock" cont >/dev/null
"$QEMUCTL" qmp --socket "$dir/qmp.sock" stop >/dev/null
"$QEMUCTL" qmp --socket "$dir/qmp.sock" quit >/dev/null; rc=$?
check "quit" [ $rc = 0 ]
wait "$evpid"; rc=$?
check "--events ends with 0 when QEMU goes away" [ $rc = 0 ]
events=$(grep -o '"event":"[A-Z_]*"' "$dir/events" | sed 's/"event"://; s/"//g' | tr '\n' ' ')
check "RESUME, STOP and SHUTDOWN as JSON lines, after the RESETs that showed the listener there ($events)" \
        grep -Eqx '(RESET )+RESUME STOP SHUTDOWN ' <<<"$events"
wait "$qpid" 2>/dev/null
qpid=
echo "1..$n"
[ $fails = 0 ]
