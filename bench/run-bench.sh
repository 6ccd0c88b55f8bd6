#!/usr/bin/env bash
# `make bench`: run every benchmark in $BUILD/bench/ and append its results
# to docs/performance.md under a header naming the machine, date and QEMU.
set -eu
BUILD=${BUILD:-build}
out=${PERF_MD:-docs/performance.md}
qemu=${QEMU_BINARY:-qemu-system-x86_64}
[ -f "$out" ] || printf '# Performance\n\nResults appended by `make bench` (bench/run-bench.sh).\n' >"$out"
{
        echo
        echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — $(uname -n), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $("$qemu" --version | head -1)"
        echo
} >>"$out"
for b in "$BUILD"/bench/bench-*; do
        [ -x "$b" ] || continue
        echo "bench: $(basename "$b")"
        "$b" | tee -a "$out"
        echo >>"$out"
done
echo "bench: results appended to $out"
