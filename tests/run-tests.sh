#!/usr/bin/env bash
# Runs each test program (unit test binary or integration script), keeps its
# output in $BUILD/test-logs/, and ends with one line: "N passed, N failed, N skipped".
# A program passes with exit 0, is skipped with exit 77 (its reason is shown),
# and fails otherwise (its log is shown). Passed and failed count programs;
# skipped counts skipped programs plus the checks that passing programs skipped
# (TAP "ok N - ... # SKIP reason"), each named. TEST_TIMEOUT (s) bounds each program.
set -u
BUILD=${BUILD:-build}
logdir=$BUILD/test-logs
mkdir -p "$logdir"
export QEMUCTL=${QEMUCTL:-$PWD/qemuctl}
export QEMUCTL_SRCDIR=$PWD
export QEMUCTL_BUILD=$PWD/$BUILD
pass=0 fail=0 skip=0
failed=() skipped=()
for t in "$@"; do
        name=$(basename "$t")
        log=$logdir/$name.log
        start=$(date +%s%N)
        timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$t" >"$log" 2>&1 </dev/null
        rc=$?
        ms=$(( ($(date +%s%N) - start) / 1000000 )); secs=$((ms / 1000)).$(( (ms % 1000) / 100 ))
        case $rc in
        0) pass=$((pass + 1)); echo "PASS $name (${secs}s)"
           # checks a passing program skipped ("ok N - what # SKIP why") are
           # counted and named too
           while IFS= read -r line; do
                   skip=$((skip + 1))
                   skipped+=("$name: ${line#ok * - }")
                   echo "  skipped check: ${line#ok * - }"
           done < <(grep -E '^ok [0-9]+ .*# SKIP' "$log") ;;
        77) skip=$((skip + 1))
            reason=$(grep -m1 -o 'SKIP.*' "$log" | sed 's/^SKIP *//')
            skipped+=("$name: ${reason:-no reason given}")
            echo "SKIP $name: ${reason:-no reason given}" ;;
        *) fail=$((fail + 1)); failed+=("$name")
           [ $rc = 124 ] && echo "# timed out after ${TEST_TIMEOUT:-300}s" >>"$log"
           echo "FAIL $name (exit $rc, ${secs}s) — log: $log"
           sed 's/^/    | /' "$log" | tail -60 ;;
        esac
done
echo
for s in "${skipped[@]+"${skipped[@]}"}"; do echo "skipped: $s"; done
for f in "${failed[@]+"${failed[@]}"}"; do echo "failed: $f"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
