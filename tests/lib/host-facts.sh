# What this host can run, as qemuctl itself decides it (`qemuctl host
# --json`: the same probes start and run use), for tests to skip with the
# reason instead of guessing from file modes. Source it after setting QEMUCTL.
#
#   host_kvm_why    prints nothing when KVM runs a guest here, else why not

host_kvm_why() {
        "$QEMUCTL" host --json 2>/dev/null | python3 -c '
import json, sys
try:
    k = json.load(sys.stdin)["kvm"]
except Exception as e:
    print("qemuctl host --json gave no KVM facts (%s)" % e); sys.exit(0)
if not k.get("present"):
    print("no /dev/kvm" + (": " + k["why"] if k.get("why") else ""))
elif not k.get("runs_guests"):
    print("KVM does not run a guest here: " + (k.get("why") or "unknown reason"))
'
}
#   host_cgroup2_has CONTROLLER
#                   succeeds when the cgroup2 hierarchy qemuctl uses offers
#                   CONTROLLER (/sys/fs/cgroup/unified on a hybrid host,
#                   /sys/fs/cgroup on a unified one)

host_cgroup2_has() {
        "$QEMUCTL" host --json 2>/dev/null |
                python3 -c 'import json, sys; sys.exit(sys.argv[1] not in json.load(sys.stdin)["cgroup"]["controllers"])' "$1"
}
