#!/usr/bin/env bash
# qemuctl run under a service manager's notify socket ($NOTIFY_SOCKET, an
# abstract name here, as systemd gives one): the datagrams run sends and when.
# The listener (python3) stands in for systemd's end of the protocol only;
# tests/integration/systemd-units.sh runs the same under a real systemd.
# Checked: STATUS=starting first; READY=1 with MAINPID = run's pid only once
# the guest runs and (where the VM has a cgroup) its vCPU thread is in
# vcpu0/; SIGTERM gives STOPPING=1 (the power button), QEMU's SHUTDOWN
# another, the end a last STATUS=; run exits 130.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL

name=nt
sock=@qemuctl-test-notify-$$
log=$LC_TMP/notify.log
lc_vmfile $name >/dev/null
# Every datagram on one line ("|" for its newlines); at READY=1, what /proc
# says of QEMU at that moment: its run state is not asked (that would race),
# but the cgroup of its "CPU 0/TCG" thread is.
python3 - "$sock" "$QEMUCTL_RUNDIR/$name" >"$log" 2>&1 <<'PY' &
import os, socket, sys
name, rundir = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:])
print("bound", flush=True)
s.settimeout(300)
def vcpu0_cgroup():
    try:
        pid = open(os.path.join(rundir, "qemu.pid")).read().strip()
        for t in os.listdir(f"/proc/{pid}/task"):
            if open(f"/proc/{pid}/task/{t}/comm").read().strip() == "CPU 0/TCG":
                for l in open(f"/proc/{pid}/task/{t}/cgroup"):
                    if l.startswith("0::"):
                        return l[3:].strip()
    except OSError as e:
        return "error " + str(e)
    return "none"
while True:
    d = s.recv(65536).decode()
    extra = " @vcpu0=" + vcpu0_cgroup() if "READY=1" in d.split("\n") else ""
    print(d.replace("\n", "|") + extra, flush=True)
    if "STATUS=VM " in d and (" ended: " in d or " did not start: " in d):
        break
PY
lpid=$!
for _ in $(seq 600); do grep -q '^bound' "$log" && break; sleep 0.1; done

NOTIFY_SOCKET=$sock "$Q" run --timeout 300 --serial-log "$LC_TMP/$name.serial" "$LC_TMP/$name.json" \
        2>"$LC_TMP/$name.err" &
rpid=$!
LC_BG_PIDS="$rpid $lpid"
for _ in $(seq 600); do grep -q 'READY=1' "$log" && break; kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
lc_wait_ready $name >/dev/null 2>&1
kill -TERM $rpid
wait $rpid; rc=$?
for _ in $(seq 100); do kill -0 $lpid 2>/dev/null || break; sleep 0.1; done
kill $lpid 2>/dev/null
sed 's/^/# notify: /' "$log"

tap_is "$(sed -n 2p "$log")" "STATUS=starting VM $name" "the first datagram says the VM is starting"
ready=$(grep 'READY=1' "$log")
[ -n "$ready" ]; tap_ok $? "READY=1 was sent"
case "|$ready|" in *"|MAINPID=$rpid|"*) tap_ok 0 "with MAINPID = run's pid ($rpid)" ;;
*) tap_ok 1 "with MAINPID = run's pid ($rpid)" ;; esac
case "$ready" in *"STATUS=VM $name running (QEMU pid "*) tap_ok 0 "and STATUS= says the VM runs" ;;
*) tap_ok 1 "and STATUS= says the VM runs" ;; esac
at=${ready##* @vcpu0=}
case $at in
*/"$name"/vcpu0) tap_ok 0 "at READY=1 the vCPU thread is already in its cgroup ($at)" ;;
/ | none) tap_skip "at READY=1 the vCPU thread is in its cgroup" "QEMU runs in no VM cgroup on this host ($at)" ;;
*) tap_ok 1 "at READY=1 the vCPU thread is already in its cgroup (it is in $at)" ;;
esac
[ "$(grep -n 'READY=1' "$log" | cut -d: -f1)" -lt "$(grep -n 'STOPPING=1' "$log" | head -1 | cut -d: -f1)" ] 2>/dev/null
tap_ok $? "READY=1 came before any STOPPING=1"
grep -q 'STOPPING=1|STATUS=stopping VM nt: ACPI power button' "$log"
tap_ok $? "SIGTERM: STOPPING=1, the power button pressed"
grep -q "STATUS=VM $name is shutting down (guest-shutdown)" "$log"
tap_ok $? "the guest's power off: STATUS= says so"
tail -n 1 "$log" | grep -q "STATUS=VM $name ended: "
tap_ok $? "the last datagram says how it ended"
tap_is "$rc" 130 "run exited 130 (SIGTERM) ($(tail -n 1 "$LC_TMP/$name.err"))"
grep -q 'power button: powering off' "$LC_TMP/$name.serial"
tap_ok $? "the guest powered off through ACPI"
