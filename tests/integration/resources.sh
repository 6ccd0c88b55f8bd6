#!/usr/bin/env bash
# qemuctl resources: a VM file's request (CPUs, memory + QEMU's overhead) as
# text, --slurm options and --json, with --set; and start/run in a Slurm
# job's environment refusing a VM that does not fit, before anything is
# created. Starts no QEMU (every start here is refused).
set -u
. "$QEMUCTL_SRCDIR/tests/lib/tap.sh"
Q=$QEMUCTL
T=$(mktemp -d /tmp/qemuctl-resources.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -m 700 "$T/run"
export QEMUCTL_RUNDIR=$T/run
cat >"$T/vm.json" <<'JSON'
{ "name": "res", "accel": "tcg", "cpu": { "vcpus": 2 }, "memory": { "size": "768M" } }
JSON

tap_is "$("$Q" resources --slurm "$T/vm.json")" "--cpus-per-task=2 --mem=1036M" \
        "--slurm: vCPUs, and 768 MiB + 256 MiB + 768/64 MiB"
tap_is "$("$Q" resources --slurm --set memory.size=2G --set cpu.vcpus=1 "$T/vm.json")" "--cpus-per-task=1 --mem=2336M" \
        "--set changes the request as it changes the VM"
out=$("$Q" resources "$T/vm.json")
grep -q '^memory        1036 MiB$' <<<"$out"; tap_ok $? "the table says the memory ($(echo $out))"
json=$("$Q" resources --json "$T/vm.json")
tap_is "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["cpus"], j["guest_memory"], j["overhead"], j["memory"], "allocation" in j)' <<<"$json")" \
        "2 805306368 281018368 1086324736 False" "--json: bytes, no allocation outside a job"
json=$(env SLURM_JOB_ID=42 SLURM_CPUS_PER_TASK=2 SLURM_MEM_PER_NODE=1000 "$Q" resources --json "$T/vm.json")
tap_is "$(python3 -c 'import json,sys; a=json.load(sys.stdin)["allocation"]; print(a["job_id"], a["memory"], a["memory_from"], a["fits"])' <<<"$json")" \
        "42 1048576000 SLURM_MEM_PER_NODE False" "--json in a job: the allocation, and that the VM does not fit"
"$Q" resources --slurm --json "$T/vm.json" >/dev/null 2>&1; tap_is $? 2 "--slurm with --json: usage error"
err=$("$Q" resources --set memory.size=lots "$T/vm.json" 2>&1); rc=$?
tap_is $rc 1 "a bad --set: fails"
grep -q 'memory.size.*lots' <<<"$err"; tap_ok $? "naming the key and the value ($err)"

# start in a job's environment that is too small: refused, nothing created
err=$(env SLURM_JOB_ID=42 SLURM_CPUS_PER_TASK=2 SLURM_MEM_PER_NODE=1000 "$Q" start "$T/vm.json" 2>&1); rc=$?
tap_is $rc 1 "start in a job with too little memory: refused"
grep -q 'needs 1036 MiB (768 MiB guest memory + 268 MiB QEMU overhead) but Slurm job 42 was given 1000 MiB (SLURM_MEM_PER_NODE): submit it with --mem=1036M' <<<"$err"
tap_ok $? "with both numbers and the fix ($err)"
err=$(env SLURM_JOB_ID=42 SLURM_CPUS_ON_NODE=1 "$Q" run "$T/vm.json" 2>&1); rc=$?
tap_is $rc 1 "run in a job with too few CPUs: refused"
grep -q 'boots 2 vCPUs but Slurm job 42 was given 1 CPU (SLURM_CPUS_ON_NODE)' <<<"$err"; tap_ok $? "with both numbers ($err)"
err=$(env SLURM_JOB_ID=42 SLURM_MEM_PER_NODE=1G "$Q" start "$T/vm.json" 2>&1); rc=$?
tap_is $rc 1 "a SLURM_* value that is no number: refused"
grep -q 'SLURM_MEM_PER_NODE=1G is not a number' <<<"$err"; tap_ok $? "naming it ($err)"
tap_is "$(ls -A "$T/run")" "" "refused starts made no state dir"
echo "1..$n"; [ "$failed" = 0 ]
