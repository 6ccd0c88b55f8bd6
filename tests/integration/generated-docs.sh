#!/usr/bin/env bash
# The VM file's generated docs are current: docs/vm-file.md's key tables,
# docs/vm-file.schema.json and docs/man/qemuctl-vm.5 are what
# tools/gen-docs makes from the key table (launcher/spec-keys.c) now. A
# stale one fails here; `make generate` rewrites them. No QEMU. TAP output.
set -u
SRC=${QEMUCTL_SRCDIR:-.}
GEN=${QEMUCTL_BUILD:-$SRC/build}/tools/gen-docs
n=0 fails=0
check() { # description, then a command that must succeed
        local d=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fails=$((fails + 1)); fi
}
[ -x "$GEN" ] || { echo "1..0 # SKIP $GEN is not built (make test-programs builds it)"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

current() { # name, file in the tree, gen-docs arguments...
        local name=$1 file=$2; shift 2
        if ! "$GEN" "$@" >"$T/$name"; then
                check "gen-docs $* runs" false
                return
        fi
        check "$file is current (else: make generate)" cmp -s "$T/$name" "$SRC/$file"
        cmp -s "$T/$name" "$SRC/$file" || diff -u "$SRC/$file" "$T/$name" | head -20 | sed 's/^/# /'
}
current vm-file.md docs/vm-file.md md "$SRC/docs/vm-file.md"
current schema docs/vm-file.schema.json schema
current man docs/man/qemuctl-vm.5 man "$SRC/docs/vm-file.md"

# generating is idempotent: the tables regenerated from regenerated docs are the same
"$GEN" md "$T/vm-file.md" >"$T/again.md" 2>/dev/null
check "regenerating the markdown changes nothing" cmp -s "$T/vm-file.md" "$T/again.md"

# a stale table is caught (the check can fail)
sed 's/^| `name` | string, required |/| `name` | string |/' "$SRC/docs/vm-file.md" >"$T/stale.md"
"$GEN" md "$T/stale.md" >"$T/fixed.md" 2>/dev/null
check "an edited table is regenerated, not kept" cmp -s "$T/fixed.md" "$T/vm-file.md"
check "so the edit shows as stale" bash -c '! cmp -s "$1" "$2"' _ "$T/stale.md" "$T/fixed.md"

# a section of the table without a place in the markdown is an error
grep -v '^<!-- keys cpu.topology ' "$SRC/docs/vm-file.md" | grep -v -x '' >"$T/missing.md"
check "a section with no table in docs/vm-file.md is refused" bash -c '! "$1" md "$2" >/dev/null 2>&1' _ "$GEN" "$T/missing.md"

if command -v man >/dev/null && command -v groff >/dev/null; then
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$SRC/docs/man/qemuctl-vm.5" 2>&1 >/dev/null)
        check "man renders qemuctl-vm.5 without warnings" [ -z "$out" ]
        [ -z "$out" ] || sed 's/^/# /' <<<"$out" | head -10
fi

echo "1..$n"
[ $fails = 0 ]
