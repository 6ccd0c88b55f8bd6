#!/usr/bin/env bash
# The USB controller for "input" (issue 13, item 4): xhci, ehci, uhci (the
# pc and q35 flavours) give QEMU that controller with the tablet on it
# (QOM type, and HMP `info usb` lists the tablet: it attached); "none" with
# input devices is refused at its place. The VM idles in its firmware.
# TAP output; 77 = skip.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=${QEMUCTL:-./qemuctl}
command -v "$GUEST_QEMU" >/dev/null || tap_skip_all "$GUEST_QEMU not found: install qemu-system-x86"
T=$(mktemp -d /tmp/qemuctl-usb.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
vm=usb$$
cleanup() { "$Q" kill "$vm" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
vmfile() { # MACHINE USB
        cat >"$T/vm.json" <<EOF2
{ "name": "$vm", "machine": "$1", "accel": "tcg", "memory": { "size": "64M" }, "panic": false, "serial": "none",
  "input": ["usb-tablet"], "usb": "$2" }
EOF2
}
for c in "q35 xhci qemu-xhci" "q35 ehci usb-ehci" "q35 uhci ich9-usb-uhci1" "pc uhci piix3-usb-uhci"; do
        set -- $c
        vmfile "$1" "$2"
        "$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start: $1, usb $2"
        got=$("$Q" qmp "$vm" qom-get '{"path": "/machine/peripheral/usb", "property": "type"}' | tr -d '" \n')
        tap_is "$got" "$3" "$1, usb $2: the controller is $3"
        "$Q" hmp "$vm" 'info usb' | grep -q "QEMU USB Tablet"; tap_ok $? "$1, usb $2: the tablet is attached to it (info usb)"
        "$Q" kill "$vm" >/dev/null
done
vmfile q35 none
out=$("$Q" validate "$T/vm.json" 2>&1); rc=$?
case $out in *'usb: "none" leaves the 1 input device without a bus'*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "usb none with an input device is refused ($out)"
tap_done
