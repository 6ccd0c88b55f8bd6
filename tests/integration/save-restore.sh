#!/usr/bin/env bash
# save and start --restore with the test guest under TCG: a guest counter
# goes on counting after the restore (a booted guest would have none), vCPUs
# and memory are as saved, the writable disk is back as it was at the save
# (twice from one save file), run --restore returns the guest's exit
# status, a copy restored with --name gets its own share folder ({name}),
# a VM file that differs is refused with the
# differences named, a damaged save file is refused, and a save that fails
# midway (a full filesystem) leaves the VM running.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
command -v qemu-img >/dev/null || tap_skip_all "qemu-img not found: install qemu-utils"
lc_setup
Q=$QEMUCTL

# a raw data disk the guest never touches: its bytes tell whether restore
# wrote back what the save captured
qemu-img create -q -f raw "$LC_TMP/data.raw" 4M
printf 'at-save' | dd of="$LC_TMP/data.raw" bs=1 seek=4096 conv=notrunc status=none
# a 9p share with {name}: a copy restored under another name has its own
# folder (the guest mounts by tag; unmounted, 9p does not block a save)
mkdir -p "$LC_TMP/out/sr" "$LC_TMP/out/sr2"
f=$(lc_vmfile sr "" '"disks": [ { "file": "'"$LC_TMP"'/data.raw", "format": "raw" } ],
  "shares": [ { "path": "'"$LC_TMP"'/out/{name}", "tag": "out", "mode": "9p" } ],')
vmfile_set "$f" cpu.vcpus=2 memory.size=384M
out=$("$Q" start "$f" 2>&1); tap_ok $? "start sr: 2 vCPUs, 384M, a raw data disk ($out)"
lc_wait_ready sr >/dev/null; tap_ok $? "guest ready"
lc_ask sr sh "echo marker-\$\$-\$RANDOM >/marker; (i=0; while :; do i=\$((i+1)); echo \$i >/count; sleep 0.1; done) >/dev/null 2>&1 &" >/dev/null
count() { lc_ask sr sh 'cat /count' | sed -n 's/^rc=0 //p'; }
# the counter runs
c0=$(count)
for _ in $(seq 100); do c1=$(count); [ "${c1:-0}" -gt "${c0:-0}" ] && break; sleep 0.2; done
[ "${c1:-0}" -gt "${c0:-0}" ]; tap_ok $? "the guest's counter counts ($c0 -> $c1)"
marker=$(lc_ask sr sh 'cat /marker')
mem0=$(lc_ask sr memtotal)
sum_disk0=$(sha256sum <"$LC_TMP/data.raw")

# --- a save that fails midway: the VM goes on
if mkdir "$LC_TMP/small" && mount -t tmpfs -o size=2m tmpfs "$LC_TMP/small" 2>/dev/null; then
        out=$("$Q" save sr "$LC_TMP/small/sr.save" 2>&1); rc=$?
        tap_is $rc 1 "save into a 2 MiB filesystem fails"
        case $out in *"save failed"*"No space left on device"*"goes on running"*) r=0 ;; *) r=1 ;; esac
        tap_ok $r "says why, and that the VM goes on running ($out)"
        tap_is "$(lc_field sr state)" running "status: still running"
        ca=$(count)
        for _ in $(seq 100); do cb=$(count); [ "${cb:-0}" -gt "${ca:-0}" ] && break; sleep 0.2; done
        [ "${cb:-0}" -gt "${ca:-0}" ]; tap_ok $? "the guest still counts ($ca -> $cb)"
        tap_is "$(ls -A "$LC_TMP/small")" "" "no file left behind"
        # save paused the guest and resumed it; the supervisor records
        # QEMU's STOP and RESUME a moment after QEMU answered, and save
        # returns once it has: a stopped supervisor holds it back
        spid=$(cat "$QEMUCTL_RUNDIR/sr/supervisor.pid")
        kill -STOP "$spid"
        "$Q" save sr "$LC_TMP/small/sr.save" >"$LC_TMP/save.out" 2>&1 & vpid=$!; LC_BG_PIDS=$vpid
        sleep 1
        kill -0 "$vpid" 2>/dev/null; tap_ok $? "a failing save waits while the supervisor has not recorded the pause"
        kill -CONT "$spid"
        wait "$vpid"; tap_is $? 1 "and fails ($(cat "$LC_TMP/save.out"))"
        LC_BG_PIDS=
        tap_is "$(lc_field sr state)" running "status right after: running (save waited for the record of QEMU's RESUME)"
        umount "$LC_TMP/small"
else
        tap_diag "skipped the failing save: cannot mount a tmpfs here (needs root)"
fi

# --- save
c_before=$(count)
out=$("$Q" save sr "$LC_TMP/sr.save" 2>&1); tap_ok $? "save sr ($out)"
tap_is "$(lc_field sr state)" ended "the VM ended"
# where it went and how it comes back, not "quit over QMP" (virsh: shut off (saved))
tap_is "$(lc_field sr saved_to)" "$LC_TMP/sr.save" "status --json: saved_to names the file"
case $(lc_field sr ended) in *"saved to $LC_TMP/sr.save"*"qemuctl start --restore $LC_TMP/sr.save"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "status --json: ended says saved, where, and how to restore ($(lc_field sr ended))"
out=$("$Q" status sr 2>&1)
case $out in *"How:"*"saved to $LC_TMP/sr.save"*"start --restore"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "status: How says saved and how to restore ($(echo "$out" | grep How:))"
echo "$out" | grep -q "quit over QMP"; tap_ok $((!$?)) "and not \"quit over QMP\""
out=$("$Q" list 2>&1)
echo "$out" | grep -Eq '^sr +saved '; tap_ok $? "list: STATE saved ($(echo "$out" | grep '^sr '))"
tap_is "$("$Q" list --json | python3 -c 'import json,sys; print([v.get("saved_to") for v in json.load(sys.stdin) if v["name"] == "sr"][0])')" \
        "$LC_TMP/sr.save" "list --json: saved_to"
tail -c 64 "$LC_TMP/sr.save" | grep -Eq '^qemuctl-save 1 [0-9]{20} [0-9]{20} +$'
tap_ok $? "the file ends in its footer line ($(tail -c 64 "$LC_TMP/sr.save"))"
head -c 4 "$LC_TMP/sr.save" | grep -q QEVM; tap_ok $? "and starts as QEMU's migration stream (QEVM)"
ls "$LC_TMP"/sr.save.tmp-* >/dev/null 2>&1; tap_ok $((!$?)) "no temporary file left"
# the disk changes after the save: restore must put it back
printf 'changed' | dd of="$LC_TMP/data.raw" bs=1 seek=4096 conv=notrunc status=none

# --- a VM file that differs is refused, with what differs
g=$LC_TMP/sr-other.json
cp "$f" "$g"
# cpu.pin is the host's side: no difference to QEMU
vmfile_set "$g" cpu.vcpus=1 memory.size=512M cpu.pin='{"0": "0"}'
out=$("$Q" start --restore "$LC_TMP/sr.save" "$g" 2>&1); rc=$?
tap_is $rc 1 "start --restore with a VM file of 1 vCPU and 512M is refused"
echo "$out" | grep -q 'cpu.vcpus: saved 2, VM file 1'; tap_ok $? "names cpu.vcpus"
echo "$out" | grep -q 'memory.size: saved "384M", VM file "512M"'; tap_ok $? "names memory.size"
echo "$out" | grep -q 'cpu.pin'; tap_ok $((!$?)) "not cpu.pin (the host's side) ($out)"
tap_is "$(lc_field sr state)" ended "nothing was started"
sum_changed=$(sha256sum <"$LC_TMP/data.raw")
[ "$sum_changed" != "$sum_disk0" ]; tap_ok $? "the refused restore left the disk alone"

# --- a damaged save file
head -c 100000 "$LC_TMP/sr.save" >"$LC_TMP/cut.save"
out=$("$Q" start --restore "$LC_TMP/cut.save" 2>&1); rc=$?
tap_is $rc 1 "a truncated save file is refused"
case $out in *"not a qemuctl save file, or a damaged one"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "says so ($out)"

# --- a disk gone: its problem is said at the save file (whose VM file is
# restored), not at "-"
mv "$LC_TMP/data.raw" "$LC_TMP/data.raw.away"
out=$("$Q" start --restore "$LC_TMP/sr.save" 2>&1); rc=$?
mv "$LC_TMP/data.raw.away" "$LC_TMP/data.raw"
case $out in *"start: $LC_TMP/sr.save:"*"disks[0].file"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "a missing disk is named at the save file ($out)"

# --- restore (the VM as saved)
out=$("$Q" start --restore "$LC_TMP/sr.save" 2>&1); tap_ok $? "start --restore ($out)"
tap_is "$(lc_field sr state)" running "status: running"
tap_is "$(lc_field sr saved_to)" "" "the restored VM is no longer said to be saved"
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "the guest's memory is as saved (marker)"
c_after=$(count)
[ "${c_after:-0}" -ge "${c_before:-1}" ]; tap_ok $? "the counter goes on from where it was ($c_before -> $c_after), not from 0"
for _ in $(seq 100); do c2=$(count); [ "${c2:-0}" -gt "${c_after:-0}" ] && break; sleep 0.2; done
[ "${c2:-0}" -gt "${c_after:-0}" ]; tap_ok $? "and keeps counting ($c_after -> $c2)"
tap_is "$(lc_ask sr cpus)" "cpus-online 2" "2 vCPUs online"
tap_is "$(lc_ask sr memtotal)" "$mem0" "MemTotal as before"
tap_is "$(lc_field sr vcpus)" 2 "status: 2 vCPUs"
tap_is "$(sha256sum <"$LC_TMP/data.raw")" "$sum_disk0" "the data disk is back as it was at the save"

# --- once more from the same file, with the VM file given
"$Q" kill sr >/dev/null 2>&1
tap_is "$(lc_field sr saved_to)" "" "killed after the restore: not said to be saved"
printf 'changed' | dd of="$LC_TMP/data.raw" bs=1 seek=4096 conv=notrunc status=none
out=$("$Q" start --restore "$LC_TMP/sr.save" "$f" 2>&1); tap_ok $? "start --restore SAVE FILE, a second time ($out)"
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "the same guest again"
tap_is "$(sha256sum <"$LC_TMP/data.raw")" "$sum_disk0" "the data disk is back again"
out=$("$Q" stop --timeout 60 sr 2>&1); tap_ok $? "the restored guest powers off on the power button ($out)"

# --- a copy under another name, with the VM file: {name} in the share's
# path is the copy's own folder, the host's side, not a difference
out=$("$Q" start --restore "$LC_TMP/sr.save" --name sr2 "$f" 2>&1); tap_ok $? "start --restore --name sr2 with a share's {name} ($out)"
tap_is "$(lc_field sr2 state)" running "sr2 runs"
tr '\0' '\n' <"/proc/$(lc_field sr2 pid)/cmdline" | grep -q "^local,id=fsdev0,path=$LC_TMP/out/sr2,"
tap_ok $? "sr2's QEMU shares sr2's folder"
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "the saved guest (its ask socket is the VM file's)"
"$Q" kill sr2 >/dev/null 2>&1

# --- a guest saved paused comes back paused, as virsh restore does;
# --running says otherwise
out=$("$Q" start --restore "$LC_TMP/sr.save" 2>&1); tap_ok $? "start --restore a third time ($out)"
out=$("$Q" pause sr 2>&1); tap_ok $? "pause sr ($out)"
out=$("$Q" save sr "$LC_TMP/paused.save" 2>&1); tap_ok $? "save the paused guest ($out)"
out=$("$Q" start --restore "$LC_TMP/paused.save" 2>&1); tap_ok $? "start --restore of the paused save ($out)"
case $out in *"is paused, restored from"*"qemuctl resume"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "says it is paused and how to run it"
tap_is "$(lc_field sr state)" paused "status: paused, as it was saved"
tap_is "$("$Q" qmp sr query-status 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" paused "QEMU's own view: paused"
out=$("$Q" resume sr 2>&1); tap_ok $? "resume ($out)"
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "and the saved guest runs"
"$Q" kill sr >/dev/null 2>&1
out=$("$Q" start --restore "$LC_TMP/paused.save" --running 2>&1); tap_ok $? "start --restore --running ($out)"
tap_is "$(lc_field sr state)" running "--running: running at once"
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "the saved guest"
"$Q" kill sr >/dev/null 2>&1

# --- a save of a newer QEMU than this one is refused before QEMU loads it
python3 - "$LC_TMP/sr.save" "$LC_TMP/newer.save" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
m = list(re.finditer(rb'"qemu": *"([0-9]+\.[0-9]+\.[0-9]+)', b))[-1]
v = m.group(1)
newer = (b"99." + b"0" * len(v))[:len(v)]  # as long: the footer's offsets hold
open(sys.argv[2], "wb").write(b[:m.start(1)] + newer + b[m.end(1):])
PY
printf 'changed' | dd of="$LC_TMP/data.raw" bs=1 seek=4096 conv=notrunc status=none
sum_changed=$(sha256sum <"$LC_TMP/data.raw")
out=$("$Q" start --restore "$LC_TMP/newer.save" 2>&1); rc=$?
tap_is $rc 1 "start --restore of a newer QEMU's save is refused"
case $out in *"written by QEMU 99.0"*"with QEMU 99.0 or newer"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "says which QEMU wrote it and which can load it ($out)"
tap_is "$(lc_field sr state)" ended "nothing was started"
tap_is "$(sha256sum <"$LC_TMP/data.raw")" "$sum_changed" "and the disk was left as it was"

# --- start --paused: a boot set up and left paused (virsh start --paused)
out=$("$Q" start --running "$f" 2>&1); rc=$?
tap_is $rc 2 "--running without --restore is a usage error ($out)"
out=$("$Q" start --paused "$f" 2>&1); tap_ok $? "start --paused ($out)"
tap_is "$(lc_field sr state)" paused "status: paused"
out=$("$Q" resume sr 2>&1); tap_ok $? "resume ($out)"
lc_wait_ready sr >/dev/null; tap_ok $? "the guest boots once resumed"
"$Q" kill sr >/dev/null 2>&1

# --- run --restore: the foreground supervisor, the guest's own exit status
"$Q" run --restore "$LC_TMP/sr.save" --timeout 300 --serial-log "$LC_TMP/run.log" >"$LC_TMP/run.out" 2>&1 &
run_pid=$!
LC_BG_PIDS=$run_pid
for _ in $(seq 300); do [ "$(lc_field sr state 2>/dev/null)" = running ] && break; sleep 0.2; done
tap_is "$(lc_ask sr sh 'cat /marker')" "$marker" "run --restore: the saved guest"
lc_ask sr exit 7 >/dev/null
wait $run_pid; rc=$?
tap_is $rc 7 "run --restore exits with the guest's status ($(cat "$LC_TMP/run.out"))"

tap_done
