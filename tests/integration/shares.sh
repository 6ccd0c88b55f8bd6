#!/usr/bin/env bash
# "shares": host folders in the guest. virtiofs: a virtiofsd per share,
# started by the supervisor before QEMU (its child, in QEMU's cgroup), the
# guest mounts the tag, reads a host file, writes one the host then sees;
# 9p: read-write too, and read-only really read-only (the guest's write
# fails, nothing reaches the host); after stop no virtiofsd is left;
# validate refuses a read-only virtiofs share with the reason.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
[ -x /usr/lib/qemu/virtiofsd ] || tap_skip_all "/usr/lib/qemu/virtiofsd missing: install Debian's qemu-system-common"
lc_setup
Q=$QEMUCTL
mkdir -p "$LC_TMP/rw" "$LC_TMP/ro" "$LC_TMP/rw9"
echo "from the host" >"$LC_TMP/rw/hello.txt"
echo "reference" >"$LC_TMP/ro/ro.txt"
vfsd() { pgrep -f "virtiofsd --socket-path=$QEMUCTL_RUNDIR/" | tr '\n' ' '; }

f=$(lc_vmfile sh1 "" "\"shares\": [ { \"path\": \"$LC_TMP/rw\", \"tag\": \"rw\" },
    { \"path\": \"$LC_TMP/ro\", \"tag\": \"ro\", \"mode\": \"9p\", \"readonly\": true },
    { \"path\": \"$LC_TMP/rw9\", \"tag\": \"rw9\", \"mode\": \"9p\" } ],")
"$Q" cmdline "$f" >"$LC_TMP/argv"
grep -q '^memory-backend-memfd,id=ram0,size=256M,share=on$' "$LC_TMP/argv"; tap_ok $? "virtiofs: guest RAM is a shared memfd"
grep -qx 'vhost-user-fs-pci,id=share0,chardev=fs0,tag=rw' "$LC_TMP/argv"; tap_ok $? "vhost-user-fs-pci with the tag"
grep -q "^local,id=fsdev1,path=$LC_TMP/ro,security_model=none,readonly=on$" "$LC_TMP/argv"; tap_ok $? "9p read-only: readonly=on"

out=$("$Q" start "$f" 2>&1); tap_ok $? "start ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 sh1; tap_ok $? "ready"
pid=$(vfsd)
[ -n "$pid" ]; tap_ok $? "virtiofsd runs ($pid)"
qpid=$(cat "$QEMUCTL_RUNDIR/sh1/qemu.pid")
first=${pid%% *}
tap_is "$(awk '{print $4}' /proc/$first/stat)" "$(cat "$QEMUCTL_RUNDIR/sh1/supervisor.pid")" "virtiofsd is the supervisor's child"
tap_is "$(grep '^0::' /proc/$first/cgroup)" "$(grep '^0::' /proc/$qpid/cgroup)" "virtiofsd is in QEMU's cgroup"

tap_is "$(lc_ask sh1 sh 'mkdir -p /mnt/rw && mount -t virtiofs rw /mnt/rw && cat /mnt/rw/hello.txt')" "rc=0 from the host" \
        "the guest mounts the virtiofs tag and reads a host file"
tap_is "$(lc_ask sh1 sh 'echo written by the guest >/mnt/rw/from-guest.txt && sync && echo ok')" "rc=0 ok" "the guest writes a file"
tap_is "$(cat "$LC_TMP/rw/from-guest.txt" 2>&1)" "written by the guest" "the host sees it"

tap_is "$(lc_ask sh1 sh 'mkdir -p /mnt/ro && mount -t 9p -o trans=virtio,version=9p2000.L ro /mnt/ro && cat /mnt/ro/ro.txt')" \
        "rc=0 reference" "the guest mounts the read-only 9p tag and reads"
out=$(lc_ask sh1 sh 'echo x >/mnt/ro/new.txt')
case $out in "rc=0"*) false ;; *"Read-only file system"*) true ;; *) false ;; esac
tap_ok $? "a write to the read-only share fails in the guest ($out)"
[ ! -e "$LC_TMP/ro/new.txt" ]; tap_ok $? "and nothing reached the host"
tap_is "$(lc_ask sh1 sh 'mkdir -p /mnt/rw9 && mount -t 9p -o trans=virtio,version=9p2000.L rw9 /mnt/rw9 && echo 9p-write >/mnt/rw9/g.txt && sync && echo ok')" \
        "rc=0 ok" "9p read-write: the guest writes"
tap_is "$(cat "$LC_TMP/rw9/g.txt" 2>&1)" "9p-write" "the host sees the 9p write"

"$Q" stop --timeout 120 sh1 >/dev/null; tap_ok $? "stop"
tap_is "$(vfsd)" "" "no virtiofsd after stop"
[ ! -e "$QEMUCTL_RUNDIR/sh1/virtiofs-0.sock" ]; tap_ok $? "its socket is gone"

printf '{ "name": "r", "shares": [ { "path": "/tmp", "tag": "t", "readonly": true } ] }\n' >"$LC_TMP/rofs.json"
out=$("$Q" validate "$LC_TMP/rofs.json" 2>&1); rc=$?
case $out in *"shares[0].readonly"*"9p"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc != 0 && r == 0 ? 0 : 1 )) "validate: a read-only virtiofs share is refused, pointing at 9p (${out:0:200})"

# {name} in a share's path: each job's own folder (--name); one not made
# yet is refused before anything starts, saying what to do
j=$(lc_vmfile shj "" "\"shares\": [ { \"path\": \"$LC_TMP/results/{name}\", \"tag\": \"out\", \"mode\": \"9p\" } ],")
out=$("$Q" start --name shj-1 "$j" 2>&1); rc=$?
case $out in *"shares[0].path: $LC_TMP/results/shj-1 does not exist"*"mkdir -p $LC_TMP/results/shj-1"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "start --name: the job's share folder is missing, said with the fix (rc $rc: $out)"
[ ! -e "$QEMUCTL_RUNDIR/shj-1" ]; tap_ok $? "and nothing was started"
mkdir -p "$LC_TMP/results/shj-1"
"$Q" cmdline --name shj-1 "$j" | grep -q "^local,id=fsdev0,path=$LC_TMP/results/shj-1,"
tap_ok $? "cmdline --name: {name} in the share's path is the job's name"
tap_done
