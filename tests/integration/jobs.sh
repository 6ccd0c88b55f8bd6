#!/usr/bin/env bash
# Many VMs from one VM file (issue 16, item 5), on the test guest: --name
# and --set through validate, cmdline, start and run; a disk file with
# {name} in it is each VM's own; host port 0 in a forward becomes a free
# port that `port` and `status --json` report (QEMU's own pick, read back
# from `info usernet`), a different one per VM; two `run --exec` of one
# file side by side, each with its own state dir, disk and exit status.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
[ -f "$GUEST_DIR/AGENT-MISSING" ] && tap_skip_all "test guest built without the agent: $(cat "$GUEST_DIR/AGENT-MISSING")"
command -v qemu-img >/dev/null || tap_skip_all "qemu-img not found: install qemu-utils"
lc_setup
Q=$QEMUCTL
T=$LC_TMP
g=$(cd "$GUEST_DIR" && pwd)

cat >"$T/job.json" <<JSON
{
  "name": "job",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 },
  "memory": { "size": "256M" },
  "boot": { "kernel": "$g/vmlinuz", "initrd": "$g/initrd.img", "cmdline": "$GUEST_CMDLINE" },
  "disks": [ { "file": "scratch-{name}.qcow2", "create": "16M" } ],
  "net": [ { "type": "user", "forward": ["tcp:127.0.0.1:0:22", "udp:0:53", "tcp:127.0.0.1:0:80"] } ],
  "serial": "log",
  "guest_agent": true
}
JSON

# the changes are judged as the file's own keys
"$Q" validate --name j1 --set memory.size=384M "$T/job.json" >"$T/v.out" 2>&1
tap_is "$?:$(cat "$T/v.out")" "0:$T/job.json: ok" "validate --name --set: a good result is good"
"$Q" validate --set memory.sise=1G "$T/job.json" >"$T/v2.out" 2>&1
tap_is "$?:$(cat "$T/v2.out")" \
        "1:$T/job.json: --set memory.sise=1G: memory.sise: unknown key; did you mean \"size\"?" \
        "validate --set: an unknown key names the option and suggests"
"$Q" validate --json --set cpu.vcpus=x "$T/job.json" >"$T/v3.json"
tap_is "$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))[0]["errors"][0]; print(e["option"], e["line"], e["path"])' "$T/v3.json")" \
        "--set cpu.vcpus=x 0 cpu.vcpus" "validate --json: the problem's option, line 0"
"$Q" start --set disks.7.file=x "$T/job.json" >/dev/null 2>"$T/s.err"
tap_is "$?:$(cat "$T/s.err")" \
        "1:qemuctl: start: $T/job.json: --set disks.7.file=x: disks: has 1 item: give an index from 0 to 0, or 1 to add one" \
        "start refuses a bad --set before anything is made"
[ ! -e "$QEMUCTL_RUNDIR/job" ]; tap_ok $? "and made no state dir"

"$Q" cmdline --name j1 --set memory.size=384M "$T/job.json" >"$T/c.out" 2>"$T/c.err"
tap_ok $? "cmdline --name --set ($(head -c 300 "$T/c.err"))"
grep -qx 'guest=j1,debug-threads=on' "$T/c.out"; tap_ok $? "cmdline: QEMU's -name is the --name"
grep -q "filename=$T/scratch-j1.qcow2" "$T/c.out"; tap_ok $? "cmdline: {name} in the disk's file is the --name"
grep -qx 'size=384M' "$T/c.out"; tap_ok $? "cmdline: memory.size from --set"
grep -q 'hostfwd=tcp:127.0.0.1:0-:22' "$T/c.out"; tap_ok $? "cmdline: host port 0 goes to QEMU as 0"

# two VMs from the file, each with its own forwarded ports
for n in p1 p2; do
        "$Q" start --name $n "$T/job.json" >/dev/null 2>"$T/$n.err"
        tap_ok $? "start --name $n ($(cat "$T/$n.err"))"
done
p1=$("$Q" port p1 22); p2=$("$Q" port p2 22)
tap_ok "$([[ $p1 =~ ^127\.0\.0\.1:[0-9]+$ && ${p1#*:} != 0 ]]; echo $?)" "port p1 22: a real host port ($p1)"
tap_ok "$([[ $p2 =~ ^127\.0\.0\.1:[0-9]+$ && $p2 != "$p1" ]]; echo $?)" "port p2 22: another one ($p2)"
(exec 3<>/dev/tcp/127.0.0.1/"${p1#*:}") 2>/dev/null; tap_ok $? "the host port is open (slirp listens on it)"
u=$("$Q" port p1 53/udp); tap_ok "$([[ $u =~ ^0\.0\.0\.0:[1-9][0-9]*$ ]]; echo $?)" "port p1 53/udp: every address ($u)"
"$Q" port p1 >"$T/all.out"
tap_is "$(cut -d' ' -f1 "$T/all.out" | tr '\n' ' ')" "22/tcp 53/udp 80/tcp " "port p1: every forward, in file order"
p80=$(grep '^80/tcp' "$T/all.out" | sed 's/.* -> //')
tap_ok "$([[ $p80 != "$p1" ]]; echo $?)" "two port-0 forwards get two ports ($p1, $p80)"
"$Q" port p1 8080 >/dev/null 2>"$T/nop.err"
tap_is "$?:$(cat "$T/nop.err")" \
        "1:qemuctl: port: VM \`p1\` forwards no host port to guest port 8080/tcp; it forwards 22/tcp, 53/udp, 80/tcp" \
        "port of a guest port that is not forwarded"
"$Q" status --json p1 >"$T/st.json"
tap_is "$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["ports"][0]; print(p["rule"], "%s:%d" % (p["host"], p["host_port"]), p["guest_port"])' "$T/st.json")" \
        "tcp:127.0.0.1:0:22 $p1 22" "status --json: ports with the host port start picked"
"$Q" dump p1 >"$T/dump.json"
grep -q '"tcp:127.0.0.1:0:22"' "$T/dump.json"; tap_ok $? "dump keeps port 0 (a restart picks again)"
grep -q '"name": "p1"' "$T/dump.json" && grep -q "scratch-p1.qcow2" "$T/dump.json"
tap_ok $? "dump: the name and the disk that --name gave"
tap_is "$(cat "$T/p1.err" "$T/p2.err")" "" "no warning when the disk has {name} in its path"
"$Q" start --name p3 --set disks.0.file=shared.qcow2 "$T/job.json" >/dev/null 2>"$T/p3.err"
grep -q "disks\[0\]: $T/shared.qcow2 is the same image for every --name" "$T/p3.err"
tap_ok $? "start --name with one disk path for every name warns ($(cat "$T/p3.err"))"
for n in p1 p2 p3; do "$Q" kill $n >/dev/null 2>&1; done
"$Q" port p1 22 >/dev/null 2>"$T/ended.err"
tap_is $? 1 "port of a VM that ended fails ($(cat "$T/ended.err"))"

# two run --exec of one file, side by side: own name, state dir, disk, status
rm -f "$T"/scratch-*.qcow2
"$Q" run --timeout 300 --name ja -n --exec 'exit 7' "$T/job.json" >"$T/ja.out" 2>"$T/ja.err" &
ja=$!
"$Q" run --timeout 300 --name jb -n --exec 'exit 9' "$T/job.json" >"$T/jb.out" 2>"$T/jb.err" &
jb=$!
LC_BG_PIDS="$ja $jb"
wait $ja; ra=$?
wait $jb; rb=$?
LC_BG_PIDS=""
tap_is "$ra:$rb" "7:9" "two run --exec of one file at once: each returns its own command's status ($(tail -1 "$T/ja.err"); $(tail -1 "$T/jb.err"))"
[ -f "$T/scratch-ja.qcow2" ] && [ -f "$T/scratch-jb.qcow2" ]; tap_ok $? "each made its own disk from {name}"
[ -s "$QEMUCTL_RUNDIR/ja/serial.log" ] && [ -s "$QEMUCTL_RUNDIR/jb/serial.log" ]
tap_ok $? "each has its own state dir and console log"
tap_is "$(lc_field ja state) $(lc_field jb state)" "ended ended" "both ended"

# wait --for agent from the moment the record exists (the VM still
# starting): it must not take QEMU's qga.sock, which the supervisor keeps
"$Q" run --timeout 300 --name wa --serial-log "$T/wa.log" "$T/job.json" >/dev/null 2>"$T/wa-run.err" &
wa=$!
LC_BG_PIDS=$wa
for _ in $(seq 600); do [ -e "$QEMUCTL_RUNDIR/wa/status.json" ] && break; sleep 0.05; done
"$Q" wait --for agent --timeout 120 wa 2>"$T/wa.err"
tap_ok $? "wait --for agent, begun while the VM starts ($(cat "$T/wa.err"))"
"$Q" exec wa -- true </dev/null
tap_ok $? "and exec after it"
"$Q" stop wa >/dev/null 2>&1
wait $wa
LC_BG_PIDS=""

# run -n without --exec is a usage error
"$Q" run -n "$T/job.json" >/dev/null 2>"$T/n.err"
tap_is $? 2 "run --no-stdin without --exec is refused ($(head -1 "$T/n.err"))"
tap_done
