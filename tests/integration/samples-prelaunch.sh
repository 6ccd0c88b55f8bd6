#!/usr/bin/env bash
# Real QEMU accepts every sample's command line: each samples/*.json is copied
# into a temp dir (its disks created there, as `start` would), `qemuctl
# cmdline` prints the argv, QEMU runs exactly that argv (paused, -S), and the
# test asks QMP on ctl.sock for query-status == "prelaunch", then quits it.
# As root the whole test runs in private network and mount namespaces: VNC
# and host forwards bind nothing on the host, a bridge br0 exists for bridge
# samples, and /etc/qemu/bridge.conf is an overlay only this test sees.
# A sample that cannot run here is skipped with the reason.
set -u
SRC=${QEMUCTL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${QEMUCTL_BUILD:-$SRC/build}
QEMUCTL=${QEMUCTL:-$SRC/qemuctl}
. "$SRC/tests/lib/host-facts.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 77; }

if [ "$(id -u)" = 0 ] && [ -z "${SAMPLES_IN_NS:-}" ] && command -v unshare >/dev/null; then
        if SAMPLES_IN_NS=1 unshare -n -m true 2>/dev/null; then
                exec env SAMPLES_IN_NS=1 unshare -n -m "$0" "$@"
        fi
fi

command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not found (install qemu-system-x86)"
command -v qemu-img >/dev/null || skip_all "qemu-img not found (install qemu-utils)"
command -v python3 >/dev/null || skip_all "python3 not found"
[ -x "$QEMUCTL" ] || skip_all "no qemuctl binary at $QEMUCTL (run make)"
"$QEMUCTL" cmdline --help >/dev/null 2>&1 || skip_all "$QEMUCTL has no cmdline verb"

T=$(mktemp -d /tmp/qemuctl-samples.XXXXXX)
HUGE_RESTORE= # "COUNT FILE": the huge pages to give back, and their nr_hugepages
qpid=
cleanup() {
        [ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
        [ -n "$HUGE_RESTORE" ] && echo "${HUGE_RESTORE% *}" >"${HUGE_RESTORE#* }"
        mountpoint -q /etc 2>/dev/null && [ -n "${SAMPLES_IN_NS:-}" ] && umount -l /etc 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# what this host offers
NETNS=no BRIDGE="not root: no private network namespace for a test bridge"
if [ -n "${SAMPLES_IN_NS:-}" ]; then
        NETNS=yes
        ip link set lo up
        if ! ip link add br0 type bridge 2>/dev/null || ! ip link set br0 up; then
                BRIDGE="cannot create a bridge in a private network namespace"
        elif [ ! -x /usr/lib/qemu/qemu-bridge-helper ]; then
                BRIDGE="no /usr/lib/qemu/qemu-bridge-helper"
        else
                # qemu-bridge-helper reads /etc/qemu/bridge.conf: give it one in
                # an overlay that only this mount namespace sees
                mkdir -p "$T/etc-up" "$T/etc-work"
                if mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/etc-up,workdir=$T/etc-work" /etc 2>/dev/null; then
                        mkdir -p /etc/qemu && echo "allow br0" >/etc/qemu/bridge.conf && BRIDGE=yes
                else
                        BRIDGE="cannot overlay /etc for /etc/qemu/bridge.conf"
                fi
        fi
fi
# KVM as qemuctl decides it (start and run refuse accel kvm where it runs no
# guest): a readable /dev/kvm is not enough (QEMU aborted on "failed to set
# MSR 0x10a" on a host whose KVM creates VMs but runs none)
KVM=$(host_kvm_why)
KVM=${KVM:-yes}

if [ ! -f "$BUILD/guest/vmlinuz" ] || [ ! -f "$BUILD/guest/initrd.img" ]; then
        make -C "$SRC" BUILD="$BUILD" guest >"$T/guest.log" 2>&1
fi
GUEST=yes
[ -f "$BUILD/guest/vmlinuz" ] && [ -f "$BUILD/guest/initrd.img" ] ||
        GUEST="no test guest in $BUILD/guest (make guest failed: $(tail -n1 "$T/guest.log" 2>/dev/null))"

# facts of a sample: accel, hugepage bytes, memory bytes, bridge?, kernel?, cdroms
facts() {
        python3 - "$1" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
t = re.sub(r'/\*.*?\*/', '', t, flags=re.S)
t = re.sub(r'^\s*//.*$', '', t, flags=re.M)
s = json.loads(t)
def size(v):
    m = re.fullmatch(r'(\d+)([KMGT])?(i?B)?', str(v))
    return int(m.group(1)) * 1024 ** ' KMGT'.index(m.group(2) or ' ')
mem = s.get('memory', {})
hp = mem.get('hugepages')
if isinstance(hp, dict): hp = hp.get('size')
print('accel=%s' % s.get('accel', 'auto'))
print('huge=%d' % (size(hp) if hp else 0))
print('mem=%d' % size(mem.get('size', '1G')))
print('bridge=%s' % ('yes' if any(n.get('type') == 'bridge' for n in s.get('net', [])) else 'no'))
print('kernel=%s' % ('yes' if 'kernel' in s.get('boot', {}) else 'no'))
print('cdroms=%s' % ' '.join(d['file'] for d in s.get('disks', []) if d.get('media') == 'cdrom'))
print('firmware=%s' % s.get('firmware', 'bios'))
print("shares='%s'" % ' '.join(x['path'] for x in s.get('shares', [])))
PY
}

# QMP: negotiate, run each command, print each reply (one JSON line each);
# waits up to 60 s for replies: QEMU answers only after it has set up guest
# RAM, and preallocating/locking huge pages takes a while on a busy host.
qmp() { # sock, commands...
        python3 - "$@" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
f = s.makefile('rw')
def reply():
    while True:
        line = f.readline()
        if not line:
            raise SystemExit('QMP closed')
        m = json.loads(line)
        if 'return' in m or 'error' in m:
            return m
f.readline()  # greeting
for cmd in ['qmp_capabilities'] + sys.argv[2:]:
    f.write(json.dumps({'execute': cmd}) + '\n'); f.flush()
    print(json.dumps(reply()))
PY
}

n=0 ran=0 failed=0
report() { # ok|not ok, text
        n=$((n + 1)); echo "$1 $n - $2"
}

for sample in "$SRC"/samples/*.json; do
        name=$(basename "$sample" .json)
        dir=$T/$name
        mkdir -p "$dir/samples" "$dir/run/$name"
        cp "$sample" "$dir/samples/"
        ln -s "$BUILD" "$dir/build" # samples name the test guest as ../build/guest/
        vm=$dir/samples/$name.json
        accel= huge= mem= bridge= kernel= cdroms= firmware= shares=
        eval "$(facts "$vm")" || { report "not ok" "$name: cannot read the sample"; failed=$((failed + 1)); continue; }

        why=
        [ "$kernel" = yes ] && [ "$GUEST" != yes ] && why=$GUEST
        [ "$accel" = kvm ] && [ "$KVM" != yes ] && why="accel kvm: $KVM"
        [ "$bridge" = yes ] && [ "$BRIDGE" != yes ] && why="needs a bridge: $BRIDGE"
        [ "$NETNS" != yes ] && grep -q '"forward"\|"vnc"' "$vm" && [ -z "$why" ] &&
                why="binds host ports; runs only as root in a private network namespace"
        [ "$firmware" != bios ] && ! "$QEMUCTL" host --json 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if any(json.load(sys.stdin)["firmware"]["chosen"][sys.argv[1]].values()) else 1)' "$firmware" &&
                [ -z "$why" ] && why="firmware $firmware: no such firmware descriptor here (install Debian's ovmf)"
        grep -q '"backing"\|"cloud_init"' "$vm" && [ -z "$why" ] &&
                why="its overlay and cloud-init seed are made by start; tests/integration/debian-image.sh boots such a file"
        if [ -z "$why" ] && [ "$huge" -gt 0 ]; then
                pages=$((mem / huge))
                sz=$((huge / 1024))
                nrfile=/sys/kernel/mm/hugepages/hugepages-${sz}kB/nr_hugepages
                freefile=/sys/kernel/mm/hugepages/hugepages-${sz}kB/free_hugepages
                if [ ! -f "$nrfile" ]; then
                        why="the host has no ${sz}kB huge pages"
                else
                        free=$(cat "$freefile")
                        if [ "$free" -lt "$pages" ]; then
                                old=$(cat "$nrfile")
                                if echo $((old + pages - free)) >"$nrfile" 2>/dev/null &&
                                        [ "$(cat "$freefile")" -ge "$pages" ]; then
                                        HUGE_RESTORE="$old $nrfile"
                                        echo "# reserved $((pages - free)) ${sz}kB huge pages for $name"
                                else
                                        echo "$old" >"$nrfile" 2>/dev/null
                                        why="needs $pages free ${sz}kB huge pages, has $free and cannot reserve more"
                                fi
                        fi
                fi
        fi
        if [ -n "$why" ]; then
                report ok "$name # SKIP $why"
                continue
        fi

        for sh in $shares; do # the shared folders (relative to the sample's dir)
                (cd "$dir/samples" && mkdir -p "$sh")
        done
        for cd in $cdroms; do # an install ISO stands in: any bytes do for a paused VM
                truncate -s 1M "$dir/samples/$cd"
        done
        export QEMUCTL_RUNDIR=$dir/run QEMUCTL_DATADIR=$dir/data
        if ! "$QEMUCTL" cmdline "$vm" >"$dir/argv" 2>"$dir/notes"; then
                report "not ok" "$name: qemuctl cmdline failed"; sed 's/^/#   /' "$dir/notes"
                failed=$((failed + 1)); continue
        fi
        # create the disks `start` would create
        while read -r file fmt size; do
                qemu-img create -q -f "$fmt" "$file" "$size" || echo "# qemu-img create $file failed"
        done < <(sed -n 's/^.*disks\[[0-9]*\]: \(.*\) does not exist; start would create it (\([a-z0-9]*\), \([0-9A-Z]*\))$/\1 \2 \3/p' "$dir/notes")
        "$QEMUCTL" cmdline "$vm" >"$dir/argv" 2>"$dir/notes" || { report "not ok" "$name: cmdline after creating disks"; failed=$((failed + 1)); continue; }
        # the same argv from anywhere: paths absolute, no . or .. (as start runs it)
        (cd "$dir/samples" && "$QEMUCTL" cmdline "$name.json" 2>/dev/null) >"$dir/argv-here"
        if ! cmp -s "$dir/argv" "$dir/argv-here" || grep -q '/\.\./\|/\./\|^samples/\|=samples/' "$dir/argv"; then
                report "not ok" "$name: cmdline depends on the current directory or has relative paths"
                diff "$dir/argv" "$dir/argv-here" | sed 's/^/#   /' | head -n 6
                failed=$((failed + 1)); continue
        fi
        # the NVRAM start would copy from the firmware's template (the
        # descriptor whose code the argv maps)
        nvram=$(sed -n 's/^driver=file,node-name=fw-vars-file,filename=//p' "$dir/argv")
        if [ -n "$nvram" ]; then
                code=$(sed -n 's/^driver=file,node-name=fw-code-file,filename=\(.*\),read-only=on$/\1/p' "$dir/argv")
                tmpl=$("$QEMUCTL" host --json | python3 -c 'import json,sys
for d in json.load(sys.stdin)["firmware"]["descriptors"]:
    if d.get("code") == sys.argv[1]:
        print(d["nvram_template"]); break' "$code")
                mkdir -p "$(dirname "$nvram")" && cp "$tmpl" "$nvram" ||
                        echo "# no NVRAM template for $code"
        fi
        # the TPM start's supervisor would run before QEMU (swtpm, --terminate:
        # it ends with QEMU's connection)
        tpmsock=$(sed -n 's/^socket,id=tpm0-ctrl,path=//p' "$dir/argv")
        if [ -n "$tpmsock" ]; then
                if ! command -v swtpm >/dev/null; then
                        report ok "$name # SKIP tpm: swtpm not found (install Debian's swtpm)"; continue
                fi
                mkdir -p "$dir/tpm" "$(dirname "$tpmsock")"
                swtpm socket --tpm2 --tpmstate dir="$dir/tpm" --ctrl type=unixio,path="$tpmsock" --terminate \
                        </dev/null >"$dir/swtpm.log" 2>&1 &
                tpmpid=$!
                for _ in $(seq 100); do [ -S "$tpmsock" ] && break; sleep 0.1; done
        fi
        # virtiofsd per virtiofs share, as start's supervisor runs them (they
        # end when QEMU's connection does)
        vfspids=
        while read -r vsock; do
                [ -x /usr/lib/qemu/virtiofsd ] || break
                mkdir -p "$dir/share"
                /usr/lib/qemu/virtiofsd --socket-path="$vsock" -o source="$dir/share" </dev/null >>"$dir/virtiofsd.log" 2>&1 &
                vfspids="$vfspids $!"
                for _ in $(seq 100); do [ -S "$vsock" ] && break; sleep 0.1; done
        done < <(sed -n 's/^socket,id=fs[0-9]*,path=//p' "$dir/argv")
        mapfile -t argv <"$dir/argv"
        grep -qx -- -S "$dir/argv" || { report "not ok" "$name: argv does not start paused (-S)"; failed=$((failed + 1)); continue; }

        # run as a person pastes it: `cmdline --shell` is the same argv,
        # quoted, with the fds start's supervisor passes (-add-fd fd=N, the
        # serial log's pipe) given as redirections to the files themselves
        "$QEMUCTL" cmdline --shell "$vm" >"$dir/shell-line" 2>/dev/null
        eval "shell_argv=( $(sed -E 's/ [0-9]+>>[^ ]+$//' "$dir/shell-line") )"
        if [ "$(printf '%s\n' "${shell_argv[@]}")" != "$(cat "$dir/argv")" ]; then
                report "not ok" "$name: cmdline --shell is not the argv cmdline prints"
                failed=$((failed + 1)); continue
        fi
        mkdir -p "$dir/run/$name"
        (cd "$dir" && exec bash -c "exec $(cat "$dir/shell-line")") </dev/null >"$dir/qemu.log" 2>&1 &
        qpid=$!
        sock=$dir/run/$name/ctl.sock
        for _ in $(seq 300); do
                [ -S "$sock" ] && break
                kill -0 "$qpid" 2>/dev/null || break
                sleep 0.2
        done
        status=$(qmp "$sock" query-status)
        if echo "$status" | grep -q '"status": "prelaunch"'; then
                report ok "$name: QEMU accepts the argv and waits in prelaunch"
                ran=$((ran + 1))
        else
                report "not ok" "$name: no prelaunch status from QEMU"
                failed=$((failed + 1))
                sed 's/^/#   qemu: /' "$dir/qemu.log" | tail -n 15
                echo "$status" | sed 's/^/#   qmp: /' | tail -n 5
        fi
        qmp "$sock" quit >/dev/null
        [ -n "${tpmpid:-}" ] && { kill "$tpmpid" 2>/dev/null; wait "$tpmpid" 2>/dev/null; tpmpid=; }
        for p in $vfspids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        for _ in $(seq 300); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$qpid" 2>/dev/null; then
                report "not ok" "$name: QEMU did not quit on QMP quit"; failed=$((failed + 1))
                kill -9 "$qpid"
        fi
        wait "$qpid" 2>/dev/null
        qpid=
        if [ -n "$HUGE_RESTORE" ]; then
                echo "${HUGE_RESTORE% *}" >"${HUGE_RESTORE#* }"
                HUGE_RESTORE=
        fi
        rm -rf "$dir/samples"/*.qcow2 "$dir/samples"/*.raw
done
echo "1..$n"
[ "$failed" = 0 ] || exit 1
[ "$ran" -gt 0 ] || exit 77
exit 0
