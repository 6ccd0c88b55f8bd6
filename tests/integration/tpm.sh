#!/usr/bin/env bash
# "tpm": true: swtpm started by the supervisor before QEMU, in the VM's
# cgroup, its control socket in the state dir; the guest sees a TPM 2.0
# (/dev/tpm0, tpm_version_major 2, PCR 0 extended by the firmware's measured
# boot); the TPM's state survives stop and start (its resetCount, read with a
# raw TPM2_ReadClock through /dev/tpm0, counts on instead of starting over);
# after stop, kill, and kill with the supervisor gone, no swtpm is left.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
command -v swtpm >/dev/null || tap_skip_all "swtpm not found: install Debian's swtpm package"
command -v swtpm_setup >/dev/null || tap_skip_all "swtpm_setup not found: install Debian's swtpm-tools package"
ls /usr/share/qemu/firmware/*.json >/dev/null 2>&1 ||
        tap_skip_all "no firmware descriptors in /usr/share/qemu/firmware: install Debian's ovmf package"
lc_setup
export QEMUCTL_DATADIR=$LC_TMP/data
Q=$QEMUCTL

swtpms() { pgrep -f "swtpm socket .*$LC_TMP" | tr '\n' ' '; }
# TPM2_ReadClock (tag 0x8001, size 10, cc 0x181); the reply's TPMS_TIME_INFO
# has clockInfo.resetCount at bytes 26..29: +1 at every TPM2_Startup(CLEAR),
# kept in the TPM's NV state
RC='exec 4<>/dev/tpm0; printf "\200\001\000\000\000\012\000\000\001\201" >&4; dd bs=64 count=1 <&4 2>/dev/null | od -An -tu1 -j26 -N4 | tr -s " "'
reset_count() { # NAME: resetCount as a number
        local a
        a=$(lc_ask "$1" sh "$RC")
        set -- ${a#rc=0}
        [ $# = 4 ] && echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
}

"$Q" host | grep -q '^TPM (tpm): *swtpm and swtpm_setup found'; tap_ok $? "host lists the TPM's programs"
f=$(lc_vmfile tpm1 "" '"firmware": "uefi", "tpm": true,')
"$Q" cmdline "$f" >"$LC_TMP/argv"
grep -qx 'tpm-crb,tpmdev=tpm0' "$LC_TMP/argv" && grep -qx 'emulator,id=tpm0,chardev=tpm0-ctrl' "$LC_TMP/argv" &&
        grep -qx "socket,id=tpm0-ctrl,path=$QEMUCTL_RUNDIR/tpm1/swtpm.sock" "$LC_TMP/argv"
tap_ok $? "cmdline: tpm-crb on q35, swtpm's socket in the state dir"
out=$("$Q" start "$f" 2>&1); tap_ok $? "start ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 tpm1; tap_ok $? "the guest is ready"
pid=$(swtpms)
[ -n "$pid" ]; tap_ok $? "swtpm runs ($pid)"
qpid=$(cat "$QEMUCTL_RUNDIR/tpm1/qemu.pid")
tap_is "$(awk '{print $4}' /proc/${pid% }/stat)" "$(cat "$QEMUCTL_RUNDIR/tpm1/supervisor.pid")" "swtpm is the supervisor's child"
tap_is "$(grep '^0::' /proc/${pid% }/cgroup)" "$(grep '^0::' /proc/$qpid/cgroup)" "swtpm is in QEMU's cgroup"
tap_is "$(stat -c '%a %F' "$QEMUCTL_RUNDIR/tpm1/swtpm.sock")" "600 socket" "swtpm.sock: a socket of mode 0600"
[ -s "$QEMUCTL_DATADIR/tpm1/tpm/tpm2-00.permall" ]; tap_ok $? "the TPM's state is in the VM's data dir, beside the NVRAM"
tap_is "$(lc_ask tpm1 sh '[ -c /dev/tpm0 ] && cat /sys/class/tpm/tpm0/tpm_version_major')" "rc=0 2" \
        "the guest sees a TPM 2.0 (/dev/tpm0)"
pcr0=$(lc_ask tpm1 sh 'cat /sys/class/tpm/tpm0/pcr-sha256/0')
case $pcr0 in "rc=0 "[0-9A-F]*) [ "${pcr0#rc=0 }" != 0000000000000000000000000000000000000000000000000000000000000000 ] ;; *) false ;; esac
tap_ok $? "PCR 0 (sha256) holds the firmware's measurements ($pcr0)"
r1=$(reset_count tpm1)
[ -n "$r1" ]; tap_ok $? "TPM2_ReadClock through /dev/tpm0: resetCount $r1"
"$Q" stop --timeout 120 tpm1 >/dev/null; tap_ok $? "stop"
tap_is "$(swtpms)" "" "no swtpm after stop"
[ ! -e "$QEMUCTL_RUNDIR/tpm1/swtpm.sock" ]; tap_ok $? "its socket is gone"

out=$("$Q" start "$f" 2>&1); tap_ok $? "start again ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 tpm1; tap_ok $? "ready again"
r2=$(reset_count tpm1)
[ -n "$r2" ] && [ -n "$r1" ] && [ "$r2" -gt "$r1" ]
tap_ok $? "the TPM's state survived: resetCount $r1 -> $r2"
"$Q" kill tpm1 >/dev/null; tap_ok $? "kill"
tap_is "$(swtpms)" "" "no swtpm after kill"

# the supervisor gone: QEMU runs on; kill ends QEMU, and swtpm (--terminate) with it
out=$("$Q" start "$f" 2>&1); tap_ok $? "start a third time ($out)"
kill -KILL "$(cat "$QEMUCTL_RUNDIR/tpm1/supervisor.pid")"
"$Q" kill tpm1 >/dev/null; tap_ok $? "kill with the supervisor gone"
for _ in $(seq 100); do [ -z "$(swtpms)" ] && break; sleep 0.1; done
tap_is "$(swtpms)" "" "no swtpm left: it ends with its QEMU connection"
cgmnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cgmnt" ]; then
        [ ! -e "$cgmnt/qemuctl/tpm1" ]
        tap_ok $? "no cgroup left: kill removed it once swtpm had gone too"
fi

# pc: TIS
g=$(lc_vmfile tpm2 "" '"machine": "pc", "tpm": true,')
"$Q" cmdline "$g" | grep -qx 'tpm-tis,tpmdev=tpm0'; tap_ok $? "pc: tpm-tis"
tap_done
