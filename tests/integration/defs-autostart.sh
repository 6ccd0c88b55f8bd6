#!/usr/bin/env bash
# autostart and the host's boot and shutdown (what libvirt-guests does), with
# three test-guest VMs under TCG: autostart NAME [--disable], list
# --autostart, start-all (in parallel, bounded; one that runs is
# skipped; one that fails is named and makes the exit status 1), stop-all
# (every running VM, transient ones too; a guest that ignores the power
# button is quit after --timeout).
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
export QEMUCTL_CONFDIR=$LC_TMP/conf
has() { case $1 in *"$2"*) return 0 ;; *) return 1 ;; esac; }

for n in a1 a2 a3; do "$Q" define "$(lc_vmfile $n)" >/dev/null || echo "# define $n failed"; done
out=$("$Q" autostart a1 2>&1); tap_ok $? "autostart a1 ($out)"
"$Q" autostart a2 >/dev/null; tap_ok $? "autostart a2"
tap_is "$(readlink "$QEMUCTL_CONFDIR/autostart/a1.json")" ../vms/a1.json "autostart/a1.json -> ../vms/a1.json"
out=$("$Q" autostart nosuch 2>&1); tap_is $? 1 "autostart of an undefined VM is refused ($out)"
"$Q" autostart a3 >/dev/null && "$Q" autostart --disable a3 >/dev/null; tap_ok $? "autostart --disable a3"
tap_is "$("$Q" list --all --autostart | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "a1 a2 " "list --all --autostart: a1 a2"
tap_is "$("$Q" list --autostart | awk 'NR > 1' | wc -l)" 0 "list --autostart: none runs yet"
tap_is "$(lc_field a1 autostart)" True "status --json: autostart true"
"$Q" status a3 | grep -q '^Autostart: *disable'; tap_ok $? "status a3: Autostart disable"

# --- start-all: a1 and a2, at most 2 at once
out=$("$Q" start-all --parallel 2 2>&1); rc=$?
tap_is $rc 0 "start-all"
has "$out" "a1: VM \`a1\` is running"; tap_ok $? "a1 reported by name"
has "$out" "a2: VM \`a2\` is running"; tap_ok $? "a2 reported by name"
has "$out" "2 started, 0 failed"; tap_ok $? "the summary counts them ($(echo "$out" | tail -1))"
tap_is "$(lc_field a1 state) $(lc_field a2 state) $(lc_field a3 state)" "running running shut off" "a1, a2 run; a3 not"
out=$("$Q" start-all 2>&1); rc=$?
has "$out" "a1: already running"; tap_ok $(( rc == 0 ? $? : 1 )) "again: already running is skipped, exit 0 ($(echo "$out" | tail -1))"
out=$("$Q" start-all a1 2>&1); tap_is $? 2 "start-all with a NAME is a usage error"

# a marked VM whose kernel is gone: named, exit 1
"$Q" kill a2 >/dev/null
"$Q" autostart a3 >/dev/null
k=$LC_TMP/gone-vmlinuz; cp "$GUEST_DIR/vmlinuz" "$k"
python3 - "$LC_TMP/a3.json" "$k" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); v["boot"]["kernel"] = sys.argv[2]; json.dump(v, open(sys.argv[1], "w"))
PY
"$Q" define "$LC_TMP/a3.json" >/dev/null
rm -f "$k"
out=$("$Q" start-all 2>&1); rc=$?
tap_is $rc 1 "start-all with one that cannot start: exit 1"
has "$out" "1 started, 1 already running, 1 failed (a3)"; tap_ok $? "the summary names it ($(echo "$out" | tail -1))"
echo "$out" | grep -q '^a3: qemuctl: start: '; tap_ok $? "its error, prefixed with its name"
tap_is "$(lc_field a2 state)" running "a2 was started"

# --- stop-all: a1, a2 and a transient VM that ignores the power button
t=$(lc_vmfile t1 qemuctl.ignore_acpi=1)
"$Q" start "$t" >/dev/null; tap_ok $? "start a transient VM that ignores ACPI"
for n in a1 a2 t1; do "$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 $n >/dev/null; done
out=$("$Q" stop-all --timeout 5 2>&1); rc=$?
tap_is $rc 0 "stop-all"
has "$out" "a1: VM \`a1\` powered off"; tap_ok $? "a1 powered off"
has "$out" "a2: VM \`a2\` powered off"; tap_ok $? "a2 powered off"
has "$out" "t1: VM \`t1\` quit"; tap_ok $? "t1 quit after the timeout ($(echo "$out" | grep '^t1' | tail -1))"
has "$out" "3 stopped, 0 failed"; tap_ok $? "the summary ($(echo "$out" | tail -1))"
tap_is "$(lc_field a1 state) $(lc_field a2 state) $(lc_field t1 state)" "ended ended ended" "all ended"
grep -q 'power button: powering off' "$QEMUCTL_RUNDIR/a1/serial.log"; tap_ok $? "a1's guest saw the power button"
out=$("$Q" stop-all 2>&1); tap_ok $? "stop-all with nothing running ($out)"
out=$("$Q" stop-all a1 2>&1); tap_is $? 2 "stop-all with a NAME is a usage error"
"$Q" undefine a1 >/dev/null
[ ! -e "$QEMUCTL_CONFDIR/autostart/a1.json" ]; tap_ok $? "undefine removes the autostart mark"
tap_done
