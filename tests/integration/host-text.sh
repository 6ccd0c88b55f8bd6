#!/usr/bin/env bash
# `qemuctl host`'s text and --json output say what the kernel says about
# what the book reads by hand (issue 13, item 9): KSM's merge_across_nodes,
# the NUMA node distances, each node's numastat counters and AnonHugePages,
# the host's AnonHugePages, khugepaged's settings. Values the kernel changes
# all the time (counters) are checked to lie between two reads of the file.
# TAP output; 77 = skip.
set -u
Q=${QEMUCTL:-./qemuctl}
N=/sys/devices/system/node
KH=/sys/kernel/mm/transparent_hugepage/khugepaged
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 77; }
out=$("$Q" host 2>&1); rc=$?
. "${QEMUCTL_SRCDIR:-.}/tests/lib/tap.sh"
tap_ok $rc "qemuctl host"
echo "$out" | sed 's/^/#   /'
json=$(mktemp /tmp/qemuctl-host-json.XXXXXX)
trap 'rm -f "$json"' EXIT
"$Q" host --json >"$json"; tap_ok $? "qemuctl host --json"

# --- KSM's merge_across_nodes
f=/sys/kernel/mm/ksm/merge_across_nodes
if [ ! -r $f ]; then
        tap_skip "merge_across_nodes" "$f: not in this kernel (KSM without NUMA)"
else
        want=$(cat $f)
        echo "$out" | grep -Eq "^ +merge_across_nodes $want \("; tap_ok $? "the text says merge_across_nodes $want, as $f does"
        python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ksm"]["merge_across_nodes"] == int(sys.argv[2]) else 1)' "$json" "$want"
        tap_ok $? "and --json agrees"
fi

# --- NUMA: distances and the per-node counters, as sysfs has them
if [ ! -r $N/node0/distance ]; then
        tap_skip "node distances and numastat counters" "$N/node0: no NUMA in sysfs"
else
        nodes=$(cd $N && ls -d node[0-9]* | sed 's/node//' | sort -n)
        want=""
        for i in $nodes; do want="$want$i: $(cat $N/node$i/distance)|"; done
        got=$(echo "$out" | sed -n '/^  node distances:/,/^[^ ]/p' | awk '$1 ~ /^[0-9]+:$/ { $1 = $1; printf "%s|", $0 }')
        [ "$got" = "$want" ]; tap_ok $? "the distance table is each node's $N/nodeN/distance ($want)"
        python3 - "$json" $N <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["numa"]["nodes"]
for n in d:
    want = [int(x) for x in open("%s/node%d/distance" % (sys.argv[2], n["id"])).read().split()]
    if n["distances"] != want:
        sys.exit("node %d: %s, sysfs %s" % (n["id"], n["distances"], want))
PY
        tap_ok $? "--json: each node's distances"
        for i in $nodes; do
                before=$(cat $N/node$i/numastat)
                got=$("$Q" host --json)
                after=$(cat $N/node$i/numastat)
                python3 - "$i" "$before" "$got" "$after" <<'PY'
import json, sys
node = int(sys.argv[1])
b = dict(l.split() for l in sys.argv[2].splitlines())
a = dict(l.split() for l in sys.argv[4].splitlines())
st = [n for n in json.loads(sys.argv[3])["numa"]["nodes"] if n["id"] == node][0]["numastat"]
keys = ["numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node"]
bad = [k for k in keys if not int(b[k]) <= st[k] <= int(a[k])]
sys.exit("outside the kernel's reads: %s" % bad if bad else 0)
PY
                tap_ok $? "--json: node $i's six numastat counters are the kernel's"
                echo "$out" | grep -A1 -E "^  node $i +cpus " | grep -Eq "^ +numa_hit [0-9]+, numa_miss [0-9]+, numa_foreign [0-9]+, interleave_hit [0-9]+, local_node [0-9]+, other_node [0-9]+$"
                tap_ok $? "the text: node $i's counters under its line"
                if grep -q AnonHugePages $N/node$i/meminfo; then
                        echo "$out" | grep -Eq "^  node $i +cpus .*, AnonHugePages [0-9.]+ [KMGT]?i?B$"; tap_ok $? "the text: node $i's AnonHugePages"
                fi
        done
fi

# --- THP: AnonHugePages and khugepaged
if grep -q '^AnonHugePages:' /proc/meminfo; then
        kb=$(awk '$1 == "AnonHugePages:" { print $2 }' /proc/meminfo)
        echo "$out" | grep -Eq "^THP: .*; AnonHugePages [0-9.]+ [KMGT]?i?B$"; tap_ok $? "the THP line: AnonHugePages (/proc/meminfo: $kb kB)"
        python3 -c 'import json,sys; v = json.load(open(sys.argv[1]))["transparent_hugepages"]["anon_huge_pages"]; sys.exit(0 if isinstance(v, int) and v % 1024 == 0 else 1)' "$json"
        tap_ok $? "--json: transparent_hugepages.anon_huge_pages in bytes"
else
        tap_skip "AnonHugePages" "/proc/meminfo has none (no THP in this kernel)"
fi
if [ ! -r $KH/pages_to_scan ]; then
        tap_skip "khugepaged" "$KH: not in this kernel"
else
        line=$(echo "$out" | grep -E '^  khugepaged ')
        echo "# $line"
        for k in pages_to_scan scan_sleep_millisecs alloc_sleep_millisecs defrag max_ptes_none max_ptes_swap; do
                v=$(cat $KH/$k)
                case "$line" in *" $k $v,"* | *" $k $v;"*) r=0 ;; *) r=1 ;; esac
                tap_ok $r "the text: khugepaged $k $v, as $KH/$k says"
        done
        python3 - "$json" $KH <<'PY'
import json, sys
kh = json.load(open(sys.argv[1]))["transparent_hugepages"]["khugepaged"]
for k in ["pages_to_scan", "scan_sleep_millisecs", "alloc_sleep_millisecs", "defrag", "max_ptes_none", "max_ptes_swap"]:
    if kh[k] != int(open("%s/%s" % (sys.argv[2], k)).read()):
        sys.exit(k)
PY
        tap_ok $? "--json: khugepaged's settings as sysfs has them"
fi
echo "1..$n"
[ $failed = 0 ]
