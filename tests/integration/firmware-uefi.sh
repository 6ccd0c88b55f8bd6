#!/usr/bin/env bash
# UEFI from QEMU's firmware descriptors (Debian's ovmf): the test guest's
# kernel, an EFI binary, boots under OVMF to its ready line; the VM's NVRAM
# is a copy of the descriptor's template in its data dir, and an EFI
# variable the guest writes through efivarfs survives stop and start, and
# is gone after start --reset-nvram (refused while the VM runs, for a BIOS
# VM and with --restore); a changed firmware key does not reuse variables
# made for another firmware (--reset-nvram is the way on); after kill no
# QEMU is left.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
ls /usr/share/qemu/firmware/*.json >/dev/null 2>&1 ||
        tap_skip_all "no firmware descriptors in /usr/share/qemu/firmware: install Debian's ovmf package"
lc_setup
export QEMUCTL_DATADIR=$LC_TMP/data
Q=$QEMUCTL
VAR=/sys/firmware/efi/efivars/QemuctlTest-3f2f6d1e-8e63-4c1a-9d2b-5b0a2d4e6c71

f=$(lc_vmfile uefi1 "" '"firmware": "uefi",')
"$Q" cmdline "$f" >"$LC_TMP/argv"; tap_ok $? "cmdline"
code=$(sed -n 's/^driver=file,node-name=fw-code-file,filename=\([^,]*\),read-only=on$/\1/p' "$LC_TMP/argv")
[ -n "$code" ] && [ -f "$code" ]; tap_ok $? "the firmware code is a descriptor's, mapped read-only ($code)"
grep -qx "driver=file,node-name=fw-vars-file,filename=$QEMUCTL_DATADIR/uefi1/nvram.fd" "$LC_TMP/argv"
tap_ok $? "the NVRAM is in the VM's data dir"
grep -q 'smm=on' "$LC_TMP/argv"; tap_is $? 1 "plain UEFI: no SMM"
[ ! -e "$QEMUCTL_DATADIR" ]; tap_ok $? "cmdline creates nothing"
chosen=$("$Q" host --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["firmware"]["chosen"]["uefi"]["q35"])')
tap_is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mapping"]["executable"]["filename"])' "$chosen")" \
        "$code" "host --json names the descriptor start uses ($chosen)"
"$Q" host | grep -q "^Firmware: .*descriptor"; tap_ok $? "host lists the firmware found"

out=$("$Q" start "$f" 2>&1); tap_ok $? "start ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 uefi1; tap_ok $? "the guest reaches its ready line under OVMF"
tap_is "$(lc_ask uefi1 sh '[ -d /sys/firmware/efi ] && echo booted-by-uefi')" "rc=0 booted-by-uefi" \
        "the kernel was started by UEFI (/sys/firmware/efi)"
tap_is "$(stat -c %a "$QEMUCTL_DATADIR/uefi1/nvram.fd")" 600 "NVRAM mode 0600"
tmpl=$(cat "$QEMUCTL_DATADIR/uefi1/nvram.template")
[ -f "$tmpl" ] && [ "$(stat -c %s "$tmpl")" = "$(stat -c %s "$QEMUCTL_DATADIR/uefi1/nvram.fd")" ]
tap_ok $? "NVRAM copied from the descriptor's template ($tmpl)"
lc_ask uefi1 sh "mount -t efivarfs efivarfs /sys/firmware/efi/efivars && printf '\\007\\000\\000\\000qemuctl-was-here' >$VAR && echo written" >"$LC_TMP/w"
tap_is "$(cat "$LC_TMP/w")" "rc=0 written" "the guest writes an EFI variable through efivarfs"
"$Q" stop --timeout 120 uefi1 >/dev/null; tap_ok $? "stop"
cmp -s "$tmpl" "$QEMUCTL_DATADIR/uefi1/nvram.fd"; tap_is $? 1 "the NVRAM file changed"

out=$("$Q" start "$f" 2>&1); tap_ok $? "start again ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 uefi1; tap_ok $? "ready again"
tap_is "$(lc_ask uefi1 sh "mount -t efivarfs efivarfs /sys/firmware/efi/efivars && tail -c +5 $VAR")" \
        "rc=0 qemuctl-was-here" "the variable survived stop and start"
# --reset-nvram never under a running QEMU: start refuses a running VM
# before the store is touched
sum_nv=$(sha256sum <"$QEMUCTL_DATADIR/uefi1/nvram.fd")
out=$("$Q" start --reset-nvram "$f" 2>&1); rc=$?
case $out in *"already running"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "start --reset-nvram of the running VM is refused (rc $rc: $out)"
tap_is "$(sha256sum <"$QEMUCTL_DATADIR/uefi1/nvram.fd")" "$sum_nv" "and its NVRAM was left alone"
qpid=$(cat "$QEMUCTL_RUNDIR/uefi1/qemu.pid")
"$Q" kill uefi1 >/dev/null; tap_ok $? "kill"
[ ! -e /proc/"$qpid" ] || [ "$(awk '{print $3}' /proc/"$qpid"/stat 2>/dev/null)" = Z ]
tap_ok $? "no QEMU after kill"
[ -s "$QEMUCTL_DATADIR/uefi1/nvram.fd" ]; tap_ok $? "the NVRAM stays after kill (it is the VM's, not the run's)"

# start --reset-nvram (virsh start --reset-nvram): the template's copy again
out=$("$Q" start --reset-nvram --restore "$LC_TMP/none.save" "$f" 2>&1); rc=$?
case $out in *"--reset-nvram"*"--restore"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 2 ? r : 1 )) "--reset-nvram with --restore is a usage error (rc $rc: $out)"
b=$(lc_vmfile bios1 "")
out=$("$Q" start --reset-nvram "$b" 2>&1); rc=$?
case $out in *"--reset-nvram: $b boots with BIOS"*"no UEFI variable store"*'"firmware": "uefi"'*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "--reset-nvram on a BIOS VM is refused, saying why (rc $rc: $out)"
[ ! -e "$QEMUCTL_RUNDIR/bios1/status.json" ]; tap_ok $? "and nothing was started"
out=$("$Q" start --reset-nvram "$f" 2>&1); rc=$?
tap_ok $rc "start --reset-nvram ($out)"
case $out in *"NVRAM $QEMUCTL_DATADIR/uefi1/nvram.fd reset from the template $tmpl"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "says the NVRAM was reset, from which template"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 uefi1; tap_ok $? "ready on the reset NVRAM"
tap_is "$(lc_ask uefi1 sh "mount -t efivarfs efivarfs /sys/firmware/efi/efivars && { [ -e $VAR ] && echo kept || echo gone; }")" \
        "rc=0 gone" "the variable the guest wrote is gone: the store is the template's again"
"$Q" kill uefi1 >/dev/null

# the firmware key changed: the variables belong to the other firmware
sed -i 's/"firmware": "uefi"/"firmware": "uefi-secure"/' "$f"
out=$("$Q" start "$f" 2>&1); rc=$?
case $out in *"was copied from"*"--reset-nvram"*nvram.fd*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc != 0 && r == 0 ? 0 : 1 )) "uefi-secure on uefi's NVRAM is refused, saying what to do (rc $rc: ${out:0:200})"
st=$(lc_field uefi1 state)
[ -n "$st" ] && [ "$st" != running ]; tap_ok $? "refused before anything was touched: the last run's record stays ($st)"
out=$("$Q" start --reset-nvram "$f" 2>&1); tap_ok $? "with --reset-nvram, uefi-secure starts from its own template ($out)"
"$Q" cmdline "$f" | grep -q 'smm=on'; tap_ok $? "uefi-secure: SMM on"
tap_is "$(cat "$QEMUCTL_DATADIR/uefi1/nvram.template")" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mapping"]["nvram-template"]["filename"])' /usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json)" \
        "the enrolled template (Debian's 40-edk2-x86_64-secure-enrolled.json)"
"$Q" kill uefi1 >/dev/null

# no firmware at all: named, with what to install
out=$(QEMUCTL_FIRMWARE_DIRS=$LC_TMP/none "$Q" start "$f" 2>&1); rc=$?
case $out in *"no UEFI Secure Boot"*"$LC_TMP/none"*ovmf*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc != 0 && r == 0 ? 0 : 1 )) "no descriptor: start says where it looked and what to install (${out:0:200})"
tap_done
