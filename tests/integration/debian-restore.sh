#!/usr/bin/env bash
# save and start --restore on the real Debian 12 guest under TCG (issue 16,
# item 6): one boot, then a counter in the guest's memory goes on after a
# restore, a file written before the save is on its disk after it (the
# overlay captured in the save), and a second restore from the same file
# finds the disk as it was at the save again (what the first restored guest
# wrote is gone), with the guest agent answering each time. The base image
# is never written. On the restored guest, exec's statuses, stdout and stderr
# and a 10 MB cp round trip. TAP output; 77 = skip.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/lib/debian-image.sh"
debian_image_require debian-restore python3
name=dr$$
cleanup() { "$QEMUCTL" kill "$name" >/dev/null 2>&1; }

debian_image_vmfile "$name" restored >"$T/vm.json"
g() { "$QEMUCTL" exec --timeout 120 "$name" -- sh -c "$1" 2>/dev/null; }
count() { g 'cat /dev/shm/count'; }
waits_more() { # VALUE: the counter passes it (bounded: 60 s)
        local c
        for _ in $(seq 120); do c=$(count); [ "${c:-0}" -gt "$1" ] && return 0; sleep 0.5; done
        return 1
}
state() { "$QEMUCTL" status --json "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }

out=$("$QEMUCTL" start "$T/vm.json" 2>&1)
check "start: a cold boot ($out)" [ $? = 0 ]
"$QEMUCTL" wait --for agent --timeout 600 "$name" >/dev/null 2>&1
check "the guest agent answers after the boot" [ $? = 0 ]
# each value written aside and renamed in: a read never finds the file
# truncated and not yet written (an empty count)
g 'nohup sh -c "i=0; while :; do i=\$((i+1)); echo \$i >/dev/shm/count.new; mv /dev/shm/count.new /dev/shm/count; sleep 0.2; done" >/dev/null 2>&1 &
   echo before-save >/var/tmp/disk-mark; sync'
c0=$(count)
check "a counter runs in the guest's memory ($c0)" waits_more "${c0:-0}"
boot_id=$(g 'cat /proc/sys/kernel/random/boot_id')

c1=$(count)
out=$("$QEMUCTL" save "$name" "$T/vm.save" 2>&1)
check "save ($out)" [ $? = 0 ]
check "the VM ended" [ "$(state)" = ended ]

out=$("$QEMUCTL" start --restore "$T/vm.save" 2>&1)
check "start --restore ($out)" [ $? = 0 ]
"$QEMUCTL" wait --for agent --timeout 120 "$name" >/dev/null 2>&1
check "the guest agent answers after the restore" [ $? = 0 ]
check "the same boot (boot_id), no new one" [ "$(g 'cat /proc/sys/kernel/random/boot_id')" = "$boot_id" ]
c2=$(count)
check "the counter goes on from where it was ($c1 -> $c2)" [ "${c2:-0}" -ge "${c1:-1}" ]
check "and keeps counting" waits_more "${c2:-0}"
check "the file written before the save is on the disk" [ "$(g 'cat /var/tmp/disk-mark')" = before-save ]
check "the guest has its 2 CPUs" [ "$(g nproc)" = 2 ]
mem=$(g 'sed -n "s/^MemTotal: *\([0-9]*\).*/\1/p" /proc/meminfo')
check "and its 1G ($mem kB)" [ "${mem:-0}" -gt 900000 ]
g 'echo after-restore >/var/tmp/disk-mark2; sync'
check "the restored guest writes to its disk" [ "$(g 'cat /var/tmp/disk-mark2')" = after-restore ]

# exec and cp on this real guest (qemu-ga of Debian 12, systemd, ext4), the
# CI step's part: the command's own status, stdout and stderr apart, 10 MB
# in and out byte for byte
for rc in 0 1 42; do
        "$QEMUCTL" exec --timeout 120 "$name" -- sh -c "exit $rc" </dev/null
        check "exec returns the guest command's status $rc" [ $? = "$rc" ]
done
"$QEMUCTL" exec --timeout 120 "$name" -- sh -c 'echo to-stdout; echo to-stderr >&2' </dev/null >"$T/o" 2>"$T/e"
check "exec: stdout and stderr apart ($(cat "$T/o") / $(cat "$T/e"))" [ "$(cat "$T/o"):$(cat "$T/e")" = to-stdout:to-stderr ]
head -c 10000000 /dev/urandom >"$T/10m"
"$QEMUCTL" cp "$T/10m" "$name:/var/tmp/10m" &&
        "$QEMUCTL" cp "$name:/var/tmp/10m" "$T/10m.back"
check "cp 10 MB in and out again" [ $? = 0 ]
check "the round trip is byte-identical" cmp -s "$T/10m" "$T/10m.back"
check "the guest's copy is too" [ "$(g 'md5sum /var/tmp/10m' | cut -d' ' -f1)" = "$(md5sum <"$T/10m" | cut -d' ' -f1)" ]

"$QEMUCTL" kill "$name" >/dev/null 2>&1
out=$("$QEMUCTL" start --restore "$T/vm.save" "$T/vm.json" 2>&1)
check "start --restore a second time, with the VM file ($out)" [ $? = 0 ]
"$QEMUCTL" wait --for agent --timeout 120 "$name" >/dev/null 2>&1
check "the agent answers again" [ $? = 0 ]
check "the disk is as it was at the save: the first restore's write is gone" \
        [ "$(g 'cat /var/tmp/disk-mark2 2>/dev/null || echo gone'):$(g 'cat /var/tmp/disk-mark')" = gone:before-save ]
out=$("$QEMUCTL" stop --timeout 120 "$name" 2>&1)
check "stop: the restored guest powers off cleanly ($out)" [ $? = 0 ]
check "the base image's checksum is unchanged" [ "$(sha256sum <"$img/base.qcow2")" = "$sum0" ]

echo "1..$n"
[ $failed = 0 ]
