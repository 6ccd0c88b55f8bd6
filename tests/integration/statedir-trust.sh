#!/usr/bin/env bash
# State dirs are trusted only when they are ours (issue 9, part 3). Played as
# the attacker would: another user (nobody) plants a VM's status.json naming a
# root process (a `sleep` this test started) and symlinks at the names records
# are written through, in a shared sticky dir used as QEMUCTL_RUNDIR, in a VM
# dir of another owner, and in a VM dir others may write. Every verb must
# refuse, saying what is wrong and what to do; the sleep survives and the
# symlinks' target is untouched. A record in our own state dir that names a
# process which is not the VM's QEMU gets no signal either. No QEMU runs.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=$QEMUCTL

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (to act as root against another user's plants)"
command -v setpriv >/dev/null || tap_skip_all "needs setpriv (util-linux) to act as another user"
id nobody >/dev/null 2>&1 || tap_skip_all "needs the user nobody"
NOBODY=$(id -u nobody)

T=$(mktemp -d /tmp/qemuctl-trust.XXXXXX)
chmod 0755 "$T"
sleep 1000 &
VICTIM=$!
cleanup() { kill -KILL "$VICTIM" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
start_of() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; } # field 22
VSTART=$(start_of "$VICTIM")

# a root-owned file the planted symlinks point at
echo precious >"$T/target"
chmod 0644 "$T/target"

# plant DIR: as nobody, a running VM whose QEMU is the victim (kill would
# SIGKILL it), and VM DIR.stale whose QEMU is gone (list/status would write its
# end through a planted symlink at every temporary name a record could be
# written through: the old "status.json.tmp.PID" for the pids to come, and
# the new ones)
plant() { # BASEDIR NAME
        as_nobody env PATH=/usr/local/bin:/usr/bin:/bin python3 - "$1" "$2" "$VICTIM" "$VSTART" "$T/target" <<'PY'
import json, os, sys
base, name, pid, start, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def vm(d, rec):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "status.json"), "w") as f:
        json.dump(rec, f)
    with open(os.path.join(d, "qemu.pid"), "w") as f:
        f.write("%d\n" % rec["qemu_pid"])
    last = int(open("/proc/sys/kernel/ns_last_pid").read())
    for n in ["status.json.tmp", "spec.json.tmp"] + \
             ["status.json.tmp.%d" % p for p in range(last + 1, last + 4000)]:
        try:
            os.symlink(target, os.path.join(d, n))
        except FileExistsError:
            pass
running = {"state": "running", "qemu_pid": pid, "qemu_start": start,
           "supervisor_pid": pid, "supervisor_start": start, "started_at": 1}
vm(os.path.join(base, name), running)
vm(os.path.join(base, name + ".stale"), dict(running, qemu_pid=2**31 - 2, qemu_start=1,
                                             supervisor_pid=0, supervisor_start=0))
PY
}

alive() { [ -d "/proc/$VICTIM" ] && ! grep -q '^State:.*Z' "/proc/$VICTIM/status"; }

# run every verb against NAME in QEMUCTL_RUNDIR=BASE; each must fail with a
# message matching WHAT and FIX, leave the victim and the target alone
attack() { # LABEL BASE NAME WHAT-GLOB FIX-GLOB
        local label=$1 base=$2 name=$3 what=$4 fix=$5 out rc verb
        for verb in kill stop status list; do
                if [ $verb = list ]; then
                        out=$(QEMUCTL_RUNDIR=$base timeout 60 "$Q" list 2>&1); rc=$?
                else
                        out=$(QEMUCTL_RUNDIR=$base timeout 60 "$Q" $verb "$name" 2>&1); rc=$?
                fi
                case $out in *$what*) m=0 ;; *) m=1 ;; esac
                case $out in *$fix*) f=0 ;; *) f=1 ;; esac
                tap_ok $(( rc != 0 && m == 0 && f == 0 ? 0 : 1 )) \
                        "$label: $verb refuses (rc $rc), names what is wrong and the fix: ${out:0:300}"
                alive; tap_ok $? "$label: the root process (pid $VICTIM) survives $verb"
                tap_is "$(cat "$T/target")" precious "$label: the symlinks' target is untouched after $verb"
                tap_is "$(stat -c %U "$T/target")" root "$label: ... and still root's"
        done
        # the stale VM's record would be rewritten by list/status
        out=$(QEMUCTL_RUNDIR=$base timeout 60 "$Q" status "$name.stale" 2>&1); rc=$?
        tap_ok $(( rc != 0 ? 0 : 1 )) "$label: status of the stale plant refuses too: ${out:0:200}"
        tap_is "$(cat "$T/target")" precious "$label: the target is untouched after status of the stale plant"
}

# --- 1. a shared sticky dir (1777) as QEMUCTL_RUNDIR
S=$T/shared
mkdir -m 1777 "$S"
plant "$S" evil
attack "sticky 1777 base" "$S" evil "$S is writable by group or others" "QEMUCTL_RUNDIR"
# start must refuse it too, before it makes anything there
# (its QEMU is /bin/false: should start ever get that far, nothing runs)
echo '{ "name": "trust-mine", "accel": "tcg", "qemu": { "binary": "/bin/false" } }' >"$T/mine.json"
out=$(QEMUCTL_RUNDIR=$S "$Q" start "$T/mine.json" 2>&1); rc=$?
case $out in *"$S is writable by group or others"*) m=0 ;; *) m=1 ;; esac
tap_ok $(( rc != 0 && m == 0 ? 0 : 1 )) "sticky 1777 base: start refuses: ${out:0:200}"
[ ! -e "$S/trust-mine" ]; tap_ok $? "sticky 1777 base: start made nothing there"

# --- 2. our base (0755, root's), a VM dir that belongs to nobody
B=$T/base
mkdir -m 0755 "$B"
mkdir "$B/evil" "$B/evil.stale"
chown nobody "$B/evil" "$B/evil.stale"
plant "$B" evil
attack "VM dir of another user" "$B" evil "$B/evil is owned by uid $NOBODY" "rm -r $B/evil"

# --- 3. our base, our VM dir, but others may write it (0777)
C=$T/open
mkdir -m 0755 "$C"
mkdir -m 0777 "$C/evil" "$C/evil.stale"
chmod 0777 "$C/evil" "$C/evil.stale"
plant "$C" evil
attack "VM dir writable by others" "$C" evil "$C/evil is writable by group or others" "rm -r $C/evil"

# --- 4. a symlink as the VM dir, pointing at a dir of ours
D=$T/link
mkdir -m 0700 "$D" "$T/elsewhere"
ln -s "$T/elsewhere" "$D/evil"
out=$(QEMUCTL_RUNDIR=$D "$Q" status evil 2>&1); rc=$?
case $out in *"$D/evil is a symlink"*) m=0 ;; *) m=1 ;; esac
tap_ok $(( rc != 0 && m == 0 ? 0 : 1 )) "a symlink as the VM dir is refused: ${out:0:200}"

# --- 5. our own state dir, a record that names a process that is not the
# VM's QEMU: no signal (its start time matches; its command line does not)
E=$T/own
mkdir -m 0700 "$E" "$E/liar"
printf '{"state":"running","qemu_pid":%d,"qemu_start":%s,"supervisor_pid":0,"supervisor_start":0,"started_at":1}\n' \
        "$VICTIM" "$VSTART" >"$E/liar/status.json"
out=$(QEMUCTL_RUNDIR=$E timeout 60 "$Q" kill liar 2>&1); rc=$?
case $out in *"is not QEMU of VM \`liar\`"*) m=0 ;; *) m=1 ;; esac
tap_ok $(( rc != 0 && m == 0 ? 0 : 1 )) "kill refuses a recorded pid that is not the VM's QEMU: ${out:0:300}"
alive; tap_ok $? "the process (pid $VICTIM) survives kill"
# a record without a start time proves nothing either
printf '{"state":"running","qemu_pid":%d,"qemu_start":0,"supervisor_pid":0,"supervisor_start":0,"started_at":1}\n' \
        "$VICTIM" >"$E/liar/status.json"
out=$(QEMUCTL_RUNDIR=$E timeout 60 "$Q" kill liar 2>&1); rc=$?
tap_ok $(( rc != 0 ? 0 : 1 )) "kill refuses a record without QEMU's start time: ${out:0:300}"
alive; tap_ok $? "the process (pid $VICTIM) survives that kill too"

# --- 6. our own state dir: events.log is not read through a symlink (serial.log
# may be one: run --serial-log links it to its file)
ln -s "$T/target" "$E/liar/events.log"
out=$(QEMUCTL_RUNDIR=$E timeout 5 "$Q" events --all liar 2>&1); rc=$?
case $out in *precious*) m=1 ;; *"Too many levels of symbolic links"*) m=0 ;; *) m=1 ;; esac
tap_ok $(( rc == 1 && m == 0 ? 0 : 1 )) "events does not read events.log through a symlink: ${out:0:200}"

tap_done
