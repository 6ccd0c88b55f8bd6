#!/usr/bin/env bash
# "vsock": {"cid": N}: vhost-vsock-pci with guest-cid=N. Where the host has
# no /dev/vhost-vsock (the vhost_vsock module not loaded: a container, a
# kernel without it), start refuses before anything is created and says so,
# and the host-guest exchange is skipped with that reason. Where it has one:
# a host process (socat VSOCK-CONNECT) talks to a listener in the guest (qg
# vsock-echo), and a second VM with the same CID is refused, naming it.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
CID=$(( 1000 + $$ % 100000 ))

f=$(lc_vmfile vs1 "" "\"vsock\": { \"cid\": $CID },")
"$Q" cmdline "$f" | grep -qx "vhost-vsock-pci,id=vsock0,guest-cid=$CID"; tap_ok $? "cmdline: vhost-vsock-pci, guest-cid=$CID"
printf '{ "name": "v", "vsock": { "cid": 2 } }\n' >"$LC_TMP/cid2.json"
out=$("$Q" validate "$LC_TMP/cid2.json" 2>&1)
case $out in *"vsock.cid"*) true ;; *) false ;; esac; tap_ok $? "validate: CID 2 (the host's) is refused (${out:0:160})"

if [ ! -e /dev/vhost-vsock ]; then
        mkdir -p "$QEMUCTL_RUNDIR"
        out=$("$Q" start "$f" 2>&1); rc=$?
        case $out in *"/dev/vhost-vsock is missing"*"modprobe vhost_vsock"*) r=0 ;; *) r=1 ;; esac
        tap_ok $(( rc != 0 && r == 0 ? 0 : 1 )) "start refuses with the reason and the fix (rc $rc: ${out:0:200})"
        tap_is "$(ls -A "$QEMUCTL_RUNDIR")" "" "nothing was created"
        "$Q" host | grep -q '^vsock: .*/dev/vhost-vsock missing: modprobe vhost_vsock'; tap_ok $? "host says vsock is missing, and the fix"
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - a host process talks to the guest over vsock # SKIP /dev/vhost-vsock missing on this host (modprobe vhost_vsock)"
        tap_done
fi
command -v socat >/dev/null || tap_skip_all "socat not found: install socat"
out=$("$Q" start "$f" 2>&1); tap_ok $? "start ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 vs1; tap_ok $? "ready"
lc_ask vs1 sh 'qg vsock-echo 5000 >/run/qg-vsock.log 2>&1 & for i in $(seq 50); do [ -e /run/qg-vsock-listening ] && break; sleep 0.1; done; echo up' >/dev/null
tap_is "$(echo hello | timeout 60 socat - "VSOCK-CONNECT:$CID:5000")" "guest got: hello" "a host process talks to the guest's listener"
g=$(lc_vmfile vs2 "" "\"vsock\": { \"cid\": $CID },")
out=$("$Q" start "$g" 2>&1); rc=$?
case $out in *"guest CID $CID is in use"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc != 0 && r == 0 ? 0 : 1 )) "a second VM with the same CID is refused (${out:0:160})"
"$Q" kill vs1 >/dev/null
tap_done
