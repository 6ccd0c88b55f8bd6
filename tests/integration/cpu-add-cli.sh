#!/usr/bin/env bash
# `qemuctl setvcpus` on a QEMU too old for query-hotpluggable-cpus (before
# 2.7), end to end through the binary: a fake QEMU (tests/tools/fake-qemu-qmp)
# serves the state dir's QMP socket as QEMU 2.6 would -- no
# query-hotpluggable-cpus nor query-cpus-fast in query-commands, cpu-add
# accepted, query-cpus listing the new vCPU on a thread of the fake. setvcpus
# must plug with cpu-add, place the new thread (its cpu.pin, as affinity),
# record the change, and refuse to unplug, saying why. No real QEMU; the
# placement verbs look at the cgroup hierarchy, so hold the QEMU lock.
set -u
. "$QEMUCTL_SRCDIR/tests/lib/tap.sh"
Q=$QEMUCTL
FAKE=$QEMUCTL_BUILD/tests/tools/fake-qemu-qmp
if [ ! -x "$FAKE" ]; then
        echo "1..0 # SKIP $FAKE is not built (make test-programs)"
        exit 77
fi

base=$(mktemp -d /tmp/qemuctl-cpuadd-XXXXXX)
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$base"' EXIT
export QEMUCTL_RUNDIR=$base/run
name=cpuadd$$
dir=$QEMUCTL_RUNDIR/$name
mkdir -p "$dir" && chmod 0700 "$QEMUCTL_RUNDIR" "$dir"
cat >"$dir/spec.json" <<JSON
{ "name": "$name", "accel": "tcg", "memory": { "size": "128M" },
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 1, "max": 3, "pin": { "1": "0" } } }
JSON
chmod 0600 "$dir/spec.json"

old_qemu='commands:qmp_capabilities,query-commands,query-cpus,query-memory-devices,cpu-add,device_add,device_del,quit'
cpu0='{"current": true, "CPU": 0, "qom_path": "/machine/unattached/device[0]", "pc": 1, "halted": true, "thread_id": 1, "arch": "x86"}'

# The fake QEMU, with the record naming it as the VM's QEMU.
start_fake() {
        "$FAKE" "$dir" greet:2.6.2 "$@" -- -name "guest=$name" >"$base/fake.out" 2>"$base/fake.err" &
        fake=$!
        for _ in $(seq 200); do
                ls "$dir"/*.sock >/dev/null 2>&1 && break
                sleep 0.05
        done
        local start
        start=$(cut -d' ' -f22 "/proc/$fake/stat")
        printf '{"state": "running", "qemu_pid": %d, "qemu_start": %s, "started_at": %s000}\n' \
                "$fake" "$start" "$(date +%s)" >"$dir/status.json"
        chmod 0600 "$dir/status.json"
}
# Wait for the fake: 0 when the client did what the script expected.
end_fake() {
        wait "$fake"
        local rc=$?
        fake=
        [ "$rc" = 0 ] || sed 's/^/#   /' "$base/fake.err"
        return "$rc"
}

# Each verb that takes the VM's lock first brings the record in line with
# QEMU (query-cpus-fast, unknown there: query-cpus; query-memory-devices);
# then setvcpus asks query-commands how to plug.
# --- plug vCPU 1 with cpu-add; its thread is the fake itself
start_fake 'expect:{"execute": "query-cpus-fast"}' 'error:CommandNotFound:The command query-cpus-fast has not been found' \
        'expect:{"execute": "query-cpus"}' "reply:[$cpu0]" 'expect:{"execute": "query-memory-devices"}' 'reply:[]' \
        "$old_qemu" 'expect:{"execute": "query-cpus"}' "reply:[$cpu0]" \
        'expect:{"execute": "cpu-add", "arguments": {"id": 1}}' 'reply:{}' \
        'expect:{"execute": "query-cpus"}' \
        "reply:[$cpu0, {\"current\": false, \"CPU\": 1, \"qom_path\": \"/machine/unattached/device[4]\", \"pc\": 1, \"halted\": true, \"thread_id\": @PID@, \"arch\": \"x86\"}]"
out=$("$Q" setvcpus "$name" 2 2>&1)
tap_ok $? "setvcpus $name 2 on QEMU 2.6 ($out)"
end_fake
tap_ok $? "it used cpu-add, and query-cpus for the threads (as scripted)"
tap_is "$(grep '^affinity' "$base/fake.out")" "affinity 0" "the new vCPU's thread got its cpu.pin (CPU 0)"
tap_is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cpu"]["vcpus"])' "$dir/spec.json")" 2 \
        "the effective spec records 2 vCPUs"

# --- unplug: impossible with cpu-add alone, and said so
cpus2="$cpu0, {\"current\": false, \"CPU\": 1, \"qom_path\": \"/machine/unattached/device[4]\", \"pc\": 1, \"halted\": true, \"thread_id\": 1, \"arch\": \"x86\"}"
start_fake 'expect:{"execute": "query-cpus-fast"}' 'error:CommandNotFound:The command query-cpus-fast has not been found' \
        'expect:{"execute": "query-cpus"}' "reply:[$cpus2]" 'expect:{"execute": "query-memory-devices"}' 'reply:[]' \
        "$old_qemu" 'expect:{"execute": "query-cpus"}' "reply:[$cpus2]"
out=$("$Q" setvcpus "$name" 1 2>&1)
rc=$?
tap_ok $((rc == 0)) "setvcpus $name 1 is refused (exit $rc)"
echo "$out" | grep -q "cpu-add" && echo "$out" | grep -q "restart"
tap_ok $? "saying why and what to do instead ($out)"
end_fake
tap_ok $? "nothing was asked of QEMU but the listing"
tap_is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cpu"]["vcpus"])' "$dir/spec.json")" 2 \
        "the record still says 2"

echo "1..$n"
[ "$failed" = 0 ]
