# TAP helpers for integration scripts: `. tests/lib/tap.sh`, then tap_ok /
# tap_is / tap_skip, and `echo "1..$n"; [ $failed = 0 ]` at the end.
n=0 failed=0
tap_ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
tap_is() { if [ "$1" = "$2" ]; then tap_ok 0 "$3"; else tap_ok 1 "$3"; echo "#   got  '$1'"; echo "#   want '$2'"; fi; }
tap_skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
