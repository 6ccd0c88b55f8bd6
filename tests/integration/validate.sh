#!/usr/bin/env bash
# qemuctl validate: output, --json, exit codes. No QEMU needed. TAP output.
set -u
QEMUCTL=${QEMUCTL:-./qemuctl}
SRC=${QEMUCTL_SRCDIR:-.}
n=0 fails=0
check() { # description, then a command that must succeed
        local d=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fails=$((fails + 1)); fi
}
cd "$SRC/tests/data" || exit 1

out=$("$QEMUCTL" validate good/minimal.json good/full.json); rc=$?
check "good files exit 0" [ $rc = 0 ]
check "one ok line per file" [ "$out" = $'good/minimal.json: ok\ngood/full.json: ok' ]

want=$(sed 's|^|bad/|' bad/many-errors.err; echo "good/minimal.json: ok")
out=$("$QEMUCTL" validate bad/many-errors.json good/minimal.json); rc=$?
check "a bad file makes it exit 1" [ $rc = 1 ]
check "every diagnostic, then the good file's ok" [ "$out" = "$want" ]

out=$("$QEMUCTL" validate --json bad/many-errors.json good/minimal.json); rc=$?
check "--json exits 1 too" [ $rc = 1 ]
check "--json: file, ok, errors with line/col/path/message" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert [e["file"] for e in v] == ["bad/many-errors.json", "good/minimal.json"]
assert [e["ok"] for e in v] == [False, True]
errs = v[0]["errors"]
assert len(errs) == int(sys.argv[2]), len(errs)
assert errs[0] == {"line": 2, "col": 11, "path": "name",
                   "message": "\"my vm\" has characters a name can'"'"'t have; use only A-Z a-z 0-9 . _ -"}, errs[0]
assert v[1]["errors"] == []
' "$out" "$(wc -l <bad/many-errors.err)"

err=$("$QEMUCTL" validate /nonexistent/vm.json 2>&1 >/dev/null); rc=$?
check "a missing file exits 1" [ $rc = 1 ]
check "and names it" [ "$err" = "qemuctl: validate: read /nonexistent/vm.json: No such file or directory" ]

"$QEMUCTL" validate >/dev/null 2>&1; rc=$?
check "no file is a usage error (2)" [ $rc = 2 ]
"$QEMUCTL" validate --frobnicate good/minimal.json >/dev/null 2>&1; rc=$?
check "an unknown option is a usage error (2)" [ $rc = 2 ]
out=$("$QEMUCTL" validate --help); rc=$?
check "--help exits 0" [ $rc = 0 ]
check "--help shows the usage" grep -q '^Usage: qemuctl validate' <<<"$out"
out=$("$QEMUCTL" validate -- good/minimal.json); rc=$?
check "-- ends the options" [ $rc = 0 ]

shopt -s nullglob
samples=("$SRC"/samples/*.json)
if [ ${#samples[@]} -gt 0 ]; then
        "$QEMUCTL" validate "${samples[@]}" >/dev/null; rc=$?
        check "every sample in samples/ validates (${#samples[@]})" [ $rc = 0 ]
fi
echo "1..$n"
[ $fails = 0 ]
