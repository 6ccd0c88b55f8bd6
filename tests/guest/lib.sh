# Shell helpers for integration tests that boot the test guest
# (tests/guest/README.md). Source it:  . "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
# (it lives here, not in tests/integration/, because every *.sh there is run
# as a test). Uses QEMUCTL_BUILD (default build), QEMU (default
# qemu-system-x86_64), python3 for QMP.
#
#   guest_require                 skip (exit 77) unless guest, QEMU, tools exist
#   guest_start [-a KNOBS] ARGS   boot under TCG with extra QEMU ARGS; sets
#                                 GUEST_TMP GUEST_PID GUEST_QMP GUEST_ASK GUEST_LOG
#   guest_wait_ready [SECS]       wait for "qemuctl-guest: ready" on ttyS0
#   guest_ask [-t SECS] QUESTION  print the guest's answer
#   guest_qmp CMD [ARGS-JSON]     run one QMP command, print the reply JSON
#   guest_wait_exit SECS          wait for QEMU to exit; sets GUEST_EXIT
#   guest_stop                    kill QEMU, remove GUEST_TMP (also on EXIT;
#                                 call it before a second guest_start)
#   guest_args                    the QEMU args of the ask channel, for VM files
#   tap_ok COND-EXIT DESC / tap_is GOT WANT DESC / tap_skip_all / tap_done

GUEST_BUILD=${QEMUCTL_BUILD:-build}
GUEST_DIR=$GUEST_BUILD/guest
GUEST_CMDLINE="console=ttyS0 quiet panic=-1"
GUEST_QEMU=${QEMU:-qemu-system-x86_64}
GUEST_ASK_TOOL=$GUEST_BUILD/tests/tools/guest-ask
GUEST_PID=""
GUEST_TMP=""

_tap_n=0 _tap_fail=0
tap_ok() { # tap_ok STATUS DESC  (STATUS 0 = pass)
        _tap_n=$((_tap_n + 1))
        if [ "$1" = 0 ]; then echo "ok $_tap_n - $2"; else
                echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
tap_is() { # tap_is GOT WANT DESC
        if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else
                tap_ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi
}
tap_skip_all() { echo "1..0 # SKIP $*"; exit 77; }
tap_diag() { echo "# $*"; }
tap_done() {
        echo "1..$_tap_n"
        [ "$_tap_n" -gt 0 ] || { echo "# no assertion ran"; exit 1; }
        [ "$_tap_fail" = 0 ] || exit 1
        exit 0
}

guest_require() {
        [ -f "$GUEST_DIR/MISSING" ] && tap_skip_all "test guest not built: $(cat "$GUEST_DIR/MISSING")"
        [ -f "$GUEST_DIR/initrd.img" ] || tap_skip_all "test guest not built ($GUEST_DIR): run make guest"
        command -v "$GUEST_QEMU" >/dev/null || tap_skip_all "$GUEST_QEMU not found: install qemu-system-x86"
        command -v python3 >/dev/null || tap_skip_all "python3 not found (QMP helper)"
        [ -x "$GUEST_ASK_TOOL" ] || { echo "guest-ask missing: $GUEST_ASK_TOOL (make test-programs)" >&2; exit 1; }
}

# The ask channel as QEMU args, for a VM file's qemu.args or a command line.
guest_args() { # SOCKET
        echo "-chardev socket,id=ask,path=$1,server=on,wait=off -device isa-serial,chardev=ask"
}

guest_start() {
        local knobs=""
        if [ "${1:-}" = -a ]; then knobs=" $2"; shift 2; fi
        GUEST_TMP=$(mktemp -d /tmp/qemuctl-guest.XXXXXX)
        GUEST_QMP=$GUEST_TMP/qmp.sock GUEST_ASK=$GUEST_TMP/ask.sock GUEST_LOG=$GUEST_TMP/serial.log
        trap guest_stop EXIT
        # shellcheck disable=SC2046
        "$GUEST_QEMU" -accel tcg -machine q35 -nodefaults -display none -no-reboot \
                -kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initrd.img" \
                -append "$GUEST_CMDLINE$knobs" -serial "file:$GUEST_LOG" \
                $(guest_args "$GUEST_ASK") -qmp "unix:$GUEST_QMP,server=on,wait=off" \
                "$@" </dev/null >"$GUEST_TMP/qemu.log" 2>&1 &
        GUEST_PID=$!
}

guest_wait_ready() {
        local deadline=$(( $(date +%s) + ${1:-120} ))
        while ! grep -q 'qemuctl-guest: ready' "$GUEST_LOG" 2>/dev/null; do
                if ! _guest_alive; then
                        echo "# QEMU exited before the guest was ready:"; sed 's/^/#   /' "$GUEST_TMP/qemu.log"
                        return 1
                fi
                if [ "$(date +%s)" -ge "$deadline" ]; then
                        echo "# guest not ready after ${1:-120}s; console:"; sed 's/^/#   /' "$GUEST_LOG"
                        return 1
                fi
                sleep 0.2
        done
}

guest_ask() {
        local t=60
        if [ "${1:-}" = -t ]; then t=$2; shift 2; fi
        "$GUEST_ASK_TOOL" -t "$t" "$GUEST_ASK" "$@"
}

guest_qmp() { # CMD [ARGS-JSON]: one QMP command on its own connection
        python3 - "$GUEST_QMP" "$1" "${2:-}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
f = s.makefile("rw")
def reply():
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m:
            return m
f.readline()  # greeting
f.write('{"execute":"qmp_capabilities"}\n'); f.flush(); reply()
cmd = {"execute": sys.argv[2]}
if sys.argv[3]:
    cmd["arguments"] = json.loads(sys.argv[3])
f.write(json.dumps(cmd) + "\n"); f.flush()
print(json.dumps(reply()))
PY
}

_guest_alive() { # kill -0 succeeds on a zombie too: look at its state
        kill -0 "$GUEST_PID" 2>/dev/null && [ "$(awk '{print $3}' /proc/"$GUEST_PID"/stat 2>/dev/null)" != Z ]
}

guest_wait_exit() { # SECS: sets GUEST_EXIT to QEMU's exit code; 1 if it did not exit
        local deadline=$(( $(date +%s) + $1 ))
        while _guest_alive; do
                [ "$(date +%s)" -lt "$deadline" ] || return 1
                sleep 0.2
        done
        GUEST_EXIT=0
        wait "$GUEST_PID" || GUEST_EXIT=$?
        GUEST_PID=""
}

guest_stop() {
        if [ -n "$GUEST_PID" ]; then
                kill -KILL "$GUEST_PID" 2>/dev/null
                wait "$GUEST_PID" 2>/dev/null
                GUEST_PID=""
        fi
        [ -n "$GUEST_TMP" ] && rm -rf "$GUEST_TMP"
        GUEST_TMP=""
}
