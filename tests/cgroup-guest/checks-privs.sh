# What the running QEMU of cg1 may do: its ids, capabilities, no_new_privs,
# seccomp and open fds (/proc/PID/status, /proc/PID/fd). cg1's VM file asks
# for "security": {"user": "qemu", "group": "qemu", "sandbox": true}; qemu is
# uid/gid 107 in this guest's /etc/passwd. Sourced by checks-place.sh with
# $pid = cg1's QEMU.

is "$(status_field "$pid" Uid)" "107 107 107 107" "QEMU's uids (real, effective, saved, fs) are qemu's"
is "$(status_field "$pid" Gid)" "107 107 107 107" "QEMU's gids are qemu's"
is "$(status_field "$pid" Groups)" 107 "QEMU's supplementary groups: qemu's own (getgrouplist), not root's"
is "$(status_field "$pid" CapEff)" 0000000000000000 "CapEff = 0"
is "$(status_field "$pid" CapPrm)" 0000000000000000 "CapPrm = 0"
is "$(status_field "$pid" CapBnd)" 0000000000000000 "CapBnd = 0 (bounding set emptied)"
is "$(status_field "$pid" CapAmb)" 0000000000000000 "CapAmb = 0"
is "$(status_field "$pid" NoNewPrivs)" 1 "NoNewPrivs = 1"
# -sandbox on: QEMU installs its own seccomp filter (mode 2) before it runs
# the guest, whatever qemuctl does.
is "$(status_field "$pid" Seccomp)" 2 "Seccomp = 2 (filter mode, -sandbox on)"

# Open fds: what QEMU makes itself (sockets for the monitors and console,
# eventfds, signalfd, pipes, the serial log) and /dev/null for 0-2. Nothing
# of qemuctl's may leak in: the VM's lock, the VM file, a terminal, files of
# this test.
bad="" all=""
for fd in /proc/"$pid"/fd/*; do
        t=$(readlink "$fd" 2>/dev/null) || continue
        all="$all ${fd##*/}=$t"
        case $t in
        /dev/null | socket:* | pipe:* | anon_inode:* | "$QEMUCTL_RUNDIR"/cg1/serial.log | "$QEMUCTL_RUNDIR"/cg1/qemu.log) ;;
        *) bad="$bad ${fd##*/}=$t" ;;
        esac
done
diag "QEMU's fds:$all"
is "${bad# }" "" "QEMU holds no unintended fd"
for fd in 0 1 2; do
        t=$(readlink /proc/"$pid"/fd/$fd 2>/dev/null)
        case $t in /dev/null | "$QEMUCTL_RUNDIR"/cg1/*) r=0 ;; *) r=1 ;; esac
        ok $r "QEMU's fd $fd is /dev/null or the state dir ($t)"
done
