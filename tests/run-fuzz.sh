#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time from its seed corpus
# (fuzz/corpus/NAME/), failing on any crash, leak or sanitizer report.
set -eu
secs=$1; shift
for f in "$@"; do
        name=$(basename "$f")
        seeds=fuzz/corpus/$name
        work=$(mktemp -d)
        [ -d "$seeds" ] || seeds=
        echo "fuzz: $name for ${secs}s"
        "$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
                -artifact_prefix="$work/" "$work" $seeds 2>&1 | tail -15
        rc=${PIPESTATUS[0]}
        if [ "$rc" != 0 ]; then
                echo "fuzz: $name FAILED (exit $rc); reproducer in $work"
                exit 1
        fi
        rm -rf "$work"
done
echo "fuzz: all targets clean"
