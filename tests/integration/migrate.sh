#!/usr/bin/env bash
# qemuctl migrate: a running test guest moves between two QEMUCTL_RUNDIRs
# standing in for two hosts, once into a state dir here and once over SSH
# (an sshd of the test's own on a free port, with a host key and an
# authorized key made here; the system's sshd and ~/.ssh are not touched).
# The guest keeps its in-memory state (a counter in its RAM goes on), its
# vCPUs and its memory; the source is gone after. A destination that
# refuses (the name taken there, a disk missing there) fails before
# anything stops; a cancelled migration (--timeout, Ctrl-C) leaves the VM
# running where it was and nothing on the far side. The first VM runs under
# `qemuctl run`, whose last line says where it went (exit 6), not "quit
# over QMP".
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
A=$QEMUCTL_RUNDIR
B=$LC_TMP/run2
mkdir -p -m 700 "$A" "$B"
SSHD_PID=""
on_exit() {
        [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
        QEMUCTL_RUNDIR=$B lc_kill_recorded "$LC_TMP"
        lc_cleanup
}
trap on_exit EXIT

in_b() { QEMUCTL_RUNDIR=$B "$@"; }
# The guest's ask channel is a socket at a host path of the VM file's
# qemu.args: on one host both QEMUs of a move would bind the same path (and
# the source's QEMU removes it when it quits), so each move gives the far
# side its own (--set, as a move between two state dirs of one host must).
ASK=mig
ask() { "$GUEST_ASK_TOOL" -t 120 "$LC_TMP/$ASK.ask" "$@"; }
ask_args() { # SOCKET-NAME: --set for the far side's ask channel
        echo "qemu.args=[\"-chardev\", \"socket,id=ask,path=$LC_TMP/$1.ask,server=on,wait=off\", \"-device\", \"isa-serial,chardev=ask\"]"
}
count() { ask sh 'cat /tmp/count' | sed -n 's/^rc=0 //p'; }

truncate -s 16M "$LC_TMP/mig.raw"
lc_vmfile mig '' "\"disks\": [ { \"file\": \"$LC_TMP/mig.raw\", \"format\": \"raw\" } ]," >/dev/null
sed -i 's/"vcpus": 1/"vcpus": 2/' "$LC_TMP/mig.json"
"$Q" run --timeout 900 --serial-log "$LC_TMP/mig.serial" "$LC_TMP/mig.json" >/dev/null 2>"$LC_TMP/mig-run.err" &
RUN_PID=$!
LC_BG_PIDS=$RUN_PID
lc_wait_ready mig >/dev/null || { echo "# run failed: $(cat "$LC_TMP/mig-run.err")"; exit 1; }
# a counter in the guest's RAM (its root is an initramfs): it goes on after the move
ask sh 'i=0; (while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done) >/dev/null 2>&1 & echo started' >/dev/null
cpus=$(ask cpus); mem=$(ask memtotal)
before=""
for _ in $(seq 150); do before=$(count); [ -n "$before" ] && break; sleep 0.2; done

# two state dirs of one host share its cgroups: the far side refuses the
# VM's cgroup while the source's QEMU is in it, before anything starts
out=$("$Q" migrate mig --to "$B" 2>&1); rc=$?
tap_is $rc 1 "a move here without another cgroup parent: refused"
grep -q 'holds processes on this host.*--set cgroup.parent=qemuctl-2' <<<"$out"; tap_ok $? "with the fix ($out)"
tap_ok "$([ ! -e "$B/mig" ] && echo 0 || echo 1)" "nothing was made on the far side"

# into another state dir on this host
out=$("$Q" migrate mig --to "$B" --set cgroup.parent=qemuctl-b --set "$(ask_args mig-b)" 2>&1); rc=$?
ASK=mig-b
tap_is $rc 0 "migrate --to a state dir here ($out)"
tap_is "$(in_b lc_field mig state)" running \
        "the far side's supervisor runs it"
tap_ok "$([ ! -e "$A/mig" ] && echo 0 || echo 1)" "the source's state dir is gone"
# the source's `qemuctl run`: moved away, to where, and who runs it now
wait $RUN_PID; rc=$?
LC_BG_PIDS=""
last=$(tail -n 1 "$LC_TMP/mig-run.err")
tap_is $rc 6 "the source's qemuctl run exits 6, a documented end ($last)"
case $last in *"VM \`mig\`: migrated to $(realpath "$B") by qemuctl migrate; the far side runs it now; exit 6") r=0 ;; *) r=1 ;; esac
tap_ok $r "its last line says migrated to the far side's state dir, which runs it"
grep -q "quit over QMP" "$LC_TMP/mig-run.err"; tap_ok $((!$?)) "and not \"quit over QMP\""
after=$(count)
tap_ok "$([ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] && echo 0 || echo 1)" \
        "the guest's counter went on ($before, then $after)"
tap_is "$(ask cpus)" "$cpus" "the same vCPUs ($cpus)"
tap_is "$(ask memtotal)" "$mem" "the same memory ($mem)"

# refusals, before anything stops: the name taken there
lc_vmfile taken >/dev/null
sed -i 's/"name": "taken"/"name": "mig"/' "$LC_TMP/taken.json"
"$Q" start "$LC_TMP/taken.json" >/dev/null || { echo "# start failed"; exit 1; }
out=$(in_b "$Q" migrate mig --to "$A" --set cgroup.parent=qemuctl 2>&1); rc=$?
tap_is $rc 1 "a name taken on the far side: refused"
grep -q 'already running' <<<"$out"; tap_ok $? "saying so ($out)"
tap_is "$(in_b lc_field mig state)" running \
        "the VM goes on where it was"
"$Q" kill mig >/dev/null 2>&1
rm -rf "${A:?}/mig"

# a disk the far side does not have
mv "$LC_TMP/mig.raw" "$LC_TMP/mig.raw.away"
out=$(in_b "$Q" migrate mig --to "$A" --set cgroup.parent=qemuctl 2>&1); rc=$?
tap_is $rc 1 "a disk missing on the far side: refused"
grep -q 'mig.raw: No such file' <<<"$out"; tap_ok $? "naming the disk ($out)"
mv "$LC_TMP/mig.raw.away" "$LC_TMP/mig.raw"
tap_ok "$([ ! -e "$A/mig" ] && echo 0 || echo 1)" "nothing was made on the far side"
n1=$(count); sleep 0.5; n2=$(count)
tap_ok "$([ "$n2" -gt "$n1" ] && echo 0 || echo 1)" "the guest runs on ($n1, $n2)"

# cancelled by --timeout: at 1 MiB/s the guest's RAM takes far longer
out=$(in_b "$Q" migrate mig --to "$A" --set cgroup.parent=qemuctl --set "$(ask_args mig-c)" --bandwidth 1M --timeout 2 2>&1); rc=$?
tap_is $rc 1 "--timeout cancels the migration ($out)"
grep -q 'cancelled after --timeout; the VM goes on here' <<<"$out"; tap_ok $? "and says so"
for _ in $(seq 50); do [ -e "$A/mig" ] || break; sleep 0.1; done
tap_ok "$([ ! -e "$A/mig" ] && echo 0 || echo 1)" "nothing is left on the far side"
n1=$(count); sleep 0.5; n2=$(count)
tap_ok "$([ "$n2" -gt "$n1" ] && echo 0 || echo 1)" "the guest runs on where it was ($n1, $n2)"

# Ctrl-C (SIGINT) cancels too
# (env execs qemuctl: $! is its pid; a function would be a subshell's)
env QEMUCTL_RUNDIR="$B" "$Q" migrate mig --to "$A" --set cgroup.parent=qemuctl --set "$(ask_args mig-c)" --bandwidth 1M \
        >"$LC_TMP/int.out" 2>&1 &
mpid=$!
# (the far side said "ready" before its QEMU ran: migrate handles SIGINT by then)
for _ in $(seq 600); do [ -e "$A/mig/qemu.pid" ] && break; sleep 0.1; done
sleep 1
kill -INT $mpid
wait $mpid; rc=$?
tap_is $rc 1 "Ctrl-C cancels the migration ($(cat "$LC_TMP/int.out"))"
tap_is "$(in_b lc_field mig state)" running \
        "the VM goes on where it was"

# over SSH, to the other run dir. sshd without PAM refuses a locked account
# ("!" in /etc/shadow, as an installer leaves root's) even with a key.
me=$(id -un)
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
        tap_ok 0 "over SSH # SKIP openssh-server is not installed (apt-get install openssh-server)"
elif [ "$(getent shadow "$me" | cut -d: -f2 | cut -c1)" = '!' ]; then
        tap_ok 0 "over SSH # SKIP $me's password is locked (! in /etc/shadow): sshd (UsePAM no) lets no locked account in, not even with a key; usermod -p '*' $me allows key logins"
else
        S=$LC_TMP/ssh
        mkdir -m 700 "$S"
        ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
        ssh-keygen -q -t ed25519 -N '' -f "$S/id"
        cp "$S/id.pub" "$S/authorized_keys"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
        cat >"$S/ssh_config" <<EOF
Host *
  IdentityFile $S/id
  IdentitiesOnly yes
  UserKnownHostsFile $S/known_hosts
  StrictHostKeyChecking accept-new
EOF
        mkdir -p /run/sshd # sshd's privilege separation dir (made at boot by its unit)
        /usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
        SSHD_PID=$!
        for _ in $(seq 300); do ssh -F "$S/ssh_config" -o BatchMode=yes -p "$port" "$(id -un)@127.0.0.1" true 2>/dev/null && break; sleep 0.1; done
        before=$(count)
        out=$(in_b env QEMUCTL_SSH="ssh -F $S/ssh_config" "$Q" migrate mig --remote-qemuctl "$Q" --set cgroup.parent=qemuctl --set "$(ask_args mig-d)" \
                --to "ssh://$(id -un)@127.0.0.1:$port$A" 2>&1); rc=$?
        tap_is $rc 0 "migrate over SSH ($out)"
        ASK=mig-d
        grep -q 'QEMU: total [1-9]' <<<"$out"; tap_ok $? "QEMU's figures for a second move of one QEMU (it had been migrated in)"
        tap_is "$(lc_field mig state)" running \
                "the far side's supervisor runs it"
        tap_ok "$([ ! -e "$B/mig" ] && echo 0 || echo 1)" "the source's state dir is gone"
        after=$(count)
        tap_ok "$([ "$after" -gt "$before" ] && echo 0 || echo 1)" "the guest's counter went on ($before, then $after)"
        tap_is "$(ask cpus)" "$cpus" "the same vCPUs"
        tap_is "$(ask memtotal)" "$mem" "the same memory"
        "$Q" stop mig >/dev/null 2>&1
fi
tap_done
