#!/usr/bin/env bash
# The test guest itself (tests/guest/): boots under TCG, answers questions on
# ttyS1, powers off on the ACPI power button, honours its knobs, reports a
# panic through pvpanic, exits through isa-debug-exit.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
guest_require

# 1. everything present
guest_start -m 512M -smp 1,maxcpus=2 -device virtio-balloon-pci,id=balloon0
guest_wait_ready; tap_ok $? "guest boots to ready under TCG"
tap_is "$(guest_ask echo hello world)" "hello world" "echo"
tap_is "$(guest_ask cpus)" "cpus-online 1" "one CPU online"
mt=$(guest_ask memtotal)
case $mt in "memtotal-kb "[1-9]*) r=0 ;; *) r=1 ;; esac
tap_ok $r "memtotal answers a number ($mt)"
kb=${mt#memtotal-kb }
[ "$kb" -gt 300000 ] && [ "$kb" -le 524288 ]; tap_ok $? "MemTotal fits -m 512M ($kb kB)"
tap_is "$(guest_ask balloon)" "balloon-driver yes" "virtio_balloon driver bound"
tap_is "$(guest_ask sh 'echo a; echo b; exit 3')" "rc=3 a	b" "sh: exit code and output lines"
tap_is "$(guest_ask nonsense)" "error unknown question 'nonsense' (echo, cpus, memtotal, memfree, balloon, memblocks, sh, poweroff, panic, exit)" "unknown question is an error answer"
ctl=$(guest_ask sh 'cat /sys/fs/cgroup/cgroup.controllers')
r=0; for c in cpuset cpu memory pids; do case " ${ctl#rc=0 } " in *" $c "*) ;; *) r=1 ;; esac; done
tap_ok $r "cgroup2 inside the guest has cpuset, cpu, memory, pids ($ctl)"
r=$(guest_qmp system_powerdown); tap_is "$r" '{"return": {}}' "system_powerdown accepted"
guest_wait_exit 60; tap_ok $? "QEMU exits after the ACPI power button"
tap_is "${GUEST_EXIT:-}" 0 "clean exit status"
grep -q 'qemuctl-guest: power button: powering off' "$GUEST_LOG"; tap_ok $? "guest logged the power button"
guest_stop

# 2. knobs: no balloon driver, ACPI ignored; leave through isa-debug-exit
guest_start -a "qemuctl.nomod=virtio_balloon qemuctl.ignore_acpi=1" -m 256M \
        -device virtio-balloon-pci,id=balloon0 -device isa-debug-exit,iobase=0xf4,iosize=0x04
guest_wait_ready; tap_ok $? "guest with knobs boots"
tap_is "$(guest_ask balloon)" "balloon-driver no" "qemuctl.nomod=virtio_balloon leaves the driver out"
guest_qmp system_powerdown >/dev/null
for _ in $(seq 100); do grep -q 'power button ignored' "$GUEST_LOG" && break; sleep 0.2; done
grep -q 'qemuctl-guest: power button ignored' "$GUEST_LOG"; tap_ok $? "qemuctl.ignore_acpi=1: power button ignored"
tap_is "$(guest_ask echo still here)" "still here" "guest still answers after the power button"
tap_is "$(guest_ask exit 5)" "exit ok" "exit 5 acknowledged"
guest_wait_exit 60; tap_ok $? "QEMU exits through isa-debug-exit"
tap_is "${GUEST_EXIT:-}" 11 "exit status (5 << 1) | 1"
guest_stop

# 3. panic through pvpanic (QEMU pauses instead of exiting, so we can look)
guest_start -m 256M -device pvpanic -action panic=pause
guest_wait_ready; tap_ok $? "guest with pvpanic boots"
tap_is "$(guest_ask panic)" "panic ok" "panic acknowledged"
st=""
for _ in $(seq 150); do
        st=$(guest_qmp query-status)
        case $st in *guest-panicked*) break ;; esac
        sleep 0.2
done
case $st in *'"status": "guest-panicked"'*) r=0 ;; *) r=1 ;; esac
tap_ok $r "QEMU saw the panic through pvpanic ($st)"
guest_stop
tap_done
