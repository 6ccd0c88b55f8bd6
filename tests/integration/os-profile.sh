#!/usr/bin/env bash
# The OS profile "os" (issue 13, item 4) on real QEMU under TCG, with TZ set
# to a zone 5 h 45 min east of UTC (a POSIX TZ: no tzdata needed, no DST):
#  - "windows": the RTC counts from local time, as QEMU's RTC itself says
#    (qom-get /machine rtc-time) and as the guest reads it from the CMOS
#    (/sys/class/rtc/rtc0/since_epoch); the RTC slews lost ticks; no HPET;
#    a disk on AHCI (ide-hd) and an e1000e; the tablet on xHCI; no hv-*
#    flag under TCG, and start says so;
#  - "windows-legacy": the pc machine, IDE, e1000, the tablet on EHCI;
#  - keys the file gives win (rtc.base utc, hpet true);
#  - "generic" (no os): UTC, HPET present, QEMU's tick policy.
# Clock offsets are rounded to 15 minutes: only the zone is compared, never
# how long anything took. TAP; 77 = skip.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
export TZ=XXX-05:45
ZONE=$(( 5 * 3600 + 45 * 60 ))

qom() { # NAME PATH PROPERTY: the value as JSON
        "$Q" qmp "$1" qom-get "{\"path\": \"$2\", \"property\": \"$3\"}" | tr -d ' \n'
}
# the zone of an RTC time (seconds as if it were UTC) against the host's
# clock now, in seconds, to the nearest 15 minutes
zone_of() { # SECONDS
        python3 -c 'import sys, time; d = int(sys.argv[1]) - time.time(); print(round(d / 900) * 900)' "$1"
}
rtc_zone() { # NAME: QEMU's RTC (rtc-time is a struct tm of what the guest reads)
        local tm
        tm=$("$Q" qmp "$1" qom-get '{"path": "/machine", "property": "rtc-time"}')
        zone_of "$(python3 -c 'import calendar, json, sys
t = json.loads(sys.argv[1])
print(calendar.timegm((t["tm_year"] + 1900, t["tm_mon"] + 1, t["tm_mday"], t["tm_hour"], t["tm_min"], t["tm_sec"])))' "$tm")"
}
rtc_policy() { # NAME: the RTC device's lost_tick_policy (info qtree)
        "$Q" hmp "$1" 'info qtree' | awk '/dev: mc146818rtc/ { on = 1 } on && /lost_tick_policy/ { print $3; exit }' | tr -d '"'
}
has_hpet() { # NAME: the machine's HPET, as QOM and the device tree have it
        local p
        p=$(qom "$1" /machine hpet)
        if "$Q" hmp "$1" 'info qtree' | grep -q 'dev: hpet'; then echo "$p,device"; else echo "$p,none"; fi
}
cpu_path() { # NAME: vCPU 0's QOM path
        "$Q" qmp "$1" query-cpus-fast | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["qom-path"])'
}

# windows, on q35: the test guest boots
f=$(lc_vmfile win "" "\"os\": \"windows\", \"input\": [\"usb-tablet\"],
  \"disks\": [ { \"file\": \"$LC_TMP/win.qcow2\", \"create\": \"16M\" } ], \"net\": [ { \"type\": \"user\" } ],")
out=$("$Q" start "$f" 2>&1); tap_ok $? "windows: start"
case $out in *'note: hyperv (os "windows"): the Hyper-V enlightenments are KVM'*'under TCG'*) r=0 ;; *) r=1 ;; esac
tap_ok $r "windows: start says the hv-* flags are left out under TCG ($out)"
tap_is "$(rtc_zone win)" "$ZONE" "windows: QEMU's RTC counts from local time (TZ $TZ)"
tap_is "$(rtc_policy win)" slew "windows: the RTC slews lost ticks (driftfix=slew)"
tap_is "$(has_hpet win)" "false,none" "windows: no HPET (machine property, device tree)"
tap_is "$(qom win /machine/peripheral/usb type)" '"qemu-xhci"' "windows: the tablet's controller is xHCI"
tap_is "$(qom win /machine/peripheral/disk0 type)" '"ide-hd"' "windows: the disk is on AHCI (ide-hd), not virtio"
tap_is "$(qom win /machine/peripheral/net0 type)" '"e1000e"' "windows: the NIC is an e1000e"
tap_is "$(qom win "$(cpu_path win)" hv-relaxed)" false "windows under TCG: the vCPU has no hv-relaxed"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 win; tap_ok $? "windows: the guest is ready"
a=$(lc_ask win sh 'cat /sys/class/rtc/rtc0/since_epoch')
case $a in 'rc=0 '[0-9]*) tap_is "$(zone_of "${a#rc=0 }")" "$ZONE" "windows: the guest reads local time from the CMOS RTC" ;;
*) tap_ok 1 "windows: the guest reads its CMOS RTC (got: $a)" ;; esac
"$Q" kill win >/dev/null

# windows-legacy: pc, IDE, e1000, EHCI (idles in SeaBIOS)
f=$(lc_vmfile legacy "" "\"os\": \"windows-legacy\", \"input\": [\"usb-tablet\"],
  \"disks\": [ { \"file\": \"$LC_TMP/legacy.qcow2\", \"create\": \"16M\" } ], \"net\": [ { \"type\": \"user\" } ],")
"$Q" start "$f" >/dev/null 2>&1; tap_ok $? "windows-legacy: start"
case $(qom legacy /machine type) in '"pc-i440fx-'*) r=0 ;; *) r=1 ;; esac
tap_ok $r "windows-legacy: the machine is pc (i440FX)"
tap_is "$(qom legacy /machine/peripheral/usb type)" '"usb-ehci"' "windows-legacy: the tablet's controller is EHCI"
"$Q" hmp legacy 'info usb' | grep -q "QEMU USB Tablet"; tap_ok $? "windows-legacy: the tablet is attached to it"
tap_is "$(qom legacy /machine/peripheral/disk0 type)" '"ide-hd"' "windows-legacy: the disk is on IDE"
tap_is "$(qom legacy /machine/peripheral/net0 type)" '"e1000"' "windows-legacy: the NIC is an e1000"
tap_is "$(rtc_zone legacy)" "$ZONE" "windows-legacy: the RTC counts from local time"
tap_is "$(has_hpet legacy)" "false,none" "windows-legacy: no HPET"
"$Q" kill legacy >/dev/null

# the file's keys win over the profile
f=$(lc_vmfile explicit "" '"os": "windows", "rtc": { "base": "utc" }, "hpet": true,')
"$Q" start "$f" >/dev/null 2>&1; tap_ok $? "windows with rtc.base utc and hpet true: start"
tap_is "$(rtc_zone explicit)" 0 "explicit rtc.base utc wins: the RTC counts from UTC"
tap_is "$(has_hpet explicit)" "true,device" "explicit hpet true wins: the HPET is there"
tap_is "$(rtc_policy explicit)" slew "what the file does not give still comes from the profile (driftfix=slew)"
"$Q" kill explicit >/dev/null

# no os: QEMU's own defaults
f=$(lc_vmfile plain "" "")
"$Q" start "$f" >/dev/null 2>&1; tap_ok $? "generic: start"
tap_is "$(rtc_zone plain)" 0 "generic: the RTC counts from UTC (TZ does not matter)"
tap_is "$(has_hpet plain)" "true,device" "generic: the HPET is there"
tap_is "$(rtc_policy plain)" discard "generic: QEMU's tick policy for the RTC (discard)"
"$Q" kill plain >/dev/null
tap_done
