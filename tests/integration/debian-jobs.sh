#!/usr/bin/env bash
# Many CI jobs from one VM file, on the real Debian 12 guest (issue 16,
# item 5): two `run --name N --exec CMD` of one file at once, each with its
# own overlay on the shared read-only base ("file": "{name}.qcow2"), its own
# cloud-init instance and hostname (defaulting from --name), its own
# forwarded SSH port picked at start (host port 0), shown by `port`. The
# test logs in over SSH through each picked port; that login is what lets
# each job's command finish, so both guests must be up side by side. Then
# each run exits with its own command's status and stdout, and the base
# image's checksum is unchanged. TAP output; 77 = skip.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/lib/debian-image.sh"
debian_image_require debian-jobs ssh ssh-keygen python3
a=dja$$ b=djb$$
pids=""
cleanup() {
        for p in $pids; do kill -TERM "$p" 2>/dev/null; done
        "$QEMUCTL" kill "$a" >/dev/null 2>&1
        "$QEMUCTL" kill "$b" >/dev/null 2>&1
        for p in $pids; do wait "$p" 2>/dev/null; done
}

ssh-keygen -q -t ed25519 -N '' -C "qemuctl-test" -f "$T/id"
cat >"$T/user-data" <<EOF
#cloud-config
users:
  - name: tester
    shell: /bin/bash
    ssh_authorized_keys:
      - $(cat "$T/id.pub")
EOF
# one file for every job: no name of its own in any path
cat >"$T/ci.json" <<EOF
{ "name": "ci", "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "memory": { "size": "1G" },
  "disks": [ { "file": "{name}.qcow2", "backing": "$img/base.qcow2", "cache": "unsafe" } ],
  "cloud_init": { "user_data": "user-data" },
  "net": [ { "type": "user", "model": "virtio", "forward": ["tcp:127.0.0.1:0:22"] } ],
  "boot": { "kernel": "$img/vmlinuz", "initrd": "$img/initrd.img",
            "cmdline": "root=LABEL=root rw console=ttyS0" },
  "serial": "log",
  "guest_agent": true }
EOF

# each job's command waits until the test has logged in over SSH (which
# touches /var/tmp/go), then reports the guest's hostname and its own status
cmd='while [ ! -e /var/tmp/go ]; do sleep 1; done; hostname; exit'
"$QEMUCTL" run --timeout 1200 --name "$a" -n --exec "$cmd 11" "$T/ci.json" >"$T/a.out" 2>"$T/a.err" &
pa=$!
"$QEMUCTL" run --timeout 1200 --name "$b" -n --exec "$cmd 12" "$T/ci.json" >"$T/b.out" 2>"$T/b.err" &
pb=$!
pids="$pa $pb"

# the ports are known once QEMU is up (before the guest runs)
port_of() { # NAME: waits for the VM's record, prints its SSH port
        local p
        for _ in $(seq 600); do
                p=$("$QEMUCTL" port "$1" 22 2>/dev/null) && { echo "${p#*:}"; return 0; }
                kill -0 "$2" 2>/dev/null || return 1
                sleep 0.5
        done
        return 1
}
porta=$(port_of "$a" $pa); portb=$(port_of "$b" $pb)
check "port: job A's SSH port was picked at start ($porta)" [ -n "$porta" -a "$porta" != 0 ]
check "port: job B's is another one ($portb)" [ -n "$portb" -a "$portb" != "$porta" ]
check "each job has its own overlay on the base" [ -f "$T/$a.qcow2" -a -f "$T/$b.qcow2" ]

sshc() { # PORT CMD...
        local p=$1; shift
        ssh -q -i "$T/id" -p "$p" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o BatchMode=yes -o ConnectTimeout=20 tester@127.0.0.1 "$@"
}
login() { # PORT: the guest's hostname, once sshd and cloud-init's user are there
        local got
        for _ in $(seq 200); do
                got=$(sshc "$1" 'hostname; touch /var/tmp/go' 2>/dev/null) &&
                        [ -n "$got" ] && { echo "$got"; return 0; }
                sleep 3
        done
        return 1
}
ha=$(login "$porta"); hb=$(login "$portb")
check "SSH login to job A through its picked port; hostname from --name ($ha)" [ "$ha" = "$a" ]
check "SSH login to job B through its picked port; hostname from --name ($hb)" [ "$hb" = "$b" ]

wait $pa; ra=$?
wait $pb; rb=$?
pids=""
check "job A exits with its command's status ($(tail -1 "$T/a.err"))" [ $ra = 11 ]
check "job B exits with its command's status ($(tail -1 "$T/b.err"))" [ $rb = 12 ]
check "job A's stdout is its command's (its own guest's hostname)" [ "$(cat "$T/a.out")" = "$a" ]
check "job B's stdout is its command's" [ "$(cat "$T/b.out")" = "$b" ]
check "the base image's checksum is unchanged" [ "$(sha256sum <"$img/base.qcow2")" = "$sum0" ]

echo "1..$n"
[ $failed = 0 ]
