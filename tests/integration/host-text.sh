#!/usr/bin/env bash
# `qemuctl host`'s text output says what --json says about KSM's
# merge_across_nodes (issue 13, item 9: the book reads it by hand), with
# the kernel's own value. TAP output; 77 = skip.
set -u
Q=${QEMUCTL:-./qemuctl}
f=/sys/kernel/mm/ksm/merge_across_nodes
if [ ! -r $f ]; then echo "1..0 # SKIP $f: not in this kernel (KSM without NUMA)"; exit 77; fi
want=$(cat $f)
out=$("$Q" host 2>&1); rc=$?
n=0 fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
ok $rc "qemuctl host"
echo "$out" | grep -Eq "^ +merge_across_nodes $want \("; ok $? "the text says merge_across_nodes $want, as $f does"
"$Q" host --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ksm"]["merge_across_nodes"] == int(sys.argv[1]) else 1)' "$want"
ok $? "and --json agrees"
echo "1..$n"
[ $fails = 0 ]
