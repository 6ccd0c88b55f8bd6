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

# full.json names images that are not here: --no-files checks the file alone
out=$("$QEMUCTL" validate --no-files good/minimal.json good/full.json); rc=$?
check "good files exit 0" [ $rc = 0 ]
check "one ok line per file" [ "$out" = $'good/minimal.json: ok\ngood/full.json: ok' ]
out=$("$QEMUCTL" validate good/full.json); rc=$?
check "without --no-files, full.json's missing images are errors" [ $rc = 1 ]
check "naming the missing ISO at its place" grep -q '^good/full.json:29:24: disks\[1\].file: CD-ROM image /srv/iso/CentOS-7.iso does not exist' <<<"$out"
check "and the missing raw image too" grep -q '^good/full.json:30:24: disks\[2\].file: .*/good/data.raw does not exist; create it' <<<"$out"

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

# disk images, checked as start checks them, every problem at its place
T=$(mktemp -d /tmp/qemuctl-validate.XXXXXX)
trap 'rm -rf "$T"' EXIT
if command -v qemu-img >/dev/null; then
        qemu-img create -q -f qcow2 "$T/x.qcow2" 16M
        printf 'just bytes' >"$T/y.raw"
        cat >"$T/vm.json" <<'EOF2'
{
  "name": "disks",
  "disks": [
    { "file": "x.qcow2", "format": "raw" },
    { "file": "nothing.iso", "media": "cdrom" },
    { "file": "new.qcow2", "create": "1G" },
    { "file": "gone.raw" },
    { "file": "y.raw", "format": "qcow2" }
  ]
}
EOF2
        want="$T/vm.json:4:36: disks[0].format: the VM file says format raw, but $T/x.qcow2 now starts with a qcow2 header. A guest can write anything to its raw disk, so most likely the guest wrote this; qemuctl neither follows the header nor hands a qcow2 image to a guest as raw bytes (keep \"format\": without it the header would decide). Check what is there with \`qemu-img info -f raw $T/x.qcow2\` (the disk as raw) and \`qemu-img info -f qcow2 $T/x.qcow2\` (what the header claims; it opens no backing file); if it really is a qcow2 image, say \"format\": \"qcow2\"
$T/vm.json:5:15: disks[1].file: CD-ROM image $T/nothing.iso does not exist (a CD-ROM is never created: point \"file\" at the ISO)
$T/vm.json:7:15: disks[3].file: $T/gone.raw does not exist; create it, or add \"create\": \"20G\" to have qemuctl make it
$T/vm.json:8:34: disks[4].format: the VM file says format qcow2, but $T/y.raw has no header of a known format, so it is raw; fix \"format\" (or leave it out to use what the file is)"
        out=$("$QEMUCTL" validate "$T/vm.json"); rc=$?
        check "disk problems make validate fail" [ $rc = 1 ]
        check "every disk problem, each at disks[N].file/format's place" [ "$out" = "$want" ]
        [ "$out" = "$want" ] || diff <(echo "$want") <(echo "$out") | sed 's/^/#   /'
        err=$("$QEMUCTL" cmdline "$T/vm.json" 2>&1 >/dev/null); rc=$?
        check "cmdline refuses the same file" [ $rc = 1 ]
        check "with the same diagnostics" [ "$(grep -v '^qemuctl: ' <<<"$err")" = "$want" ]
        check "and a count" grep -qx "qemuctl: cmdline: $T/vm.json: 4 problems; fix them and try again" <<<"$err"
        out=$("$QEMUCTL" validate --json "$T/vm.json")
        check "--json: the disk problems with line/col/path" python3 -c '
import json, sys
v = json.loads(sys.argv[1])[0]
assert not v["ok"] and "notes" not in v
assert [(e["line"], e["col"], e["path"]) for e in v["errors"]] == [
    (4, 36, "disks[0].format"), (5, 15, "disks[1].file"), (7, 15, "disks[3].file"), (8, 34, "disks[4].format")], v
' "$out"
        out=$("$QEMUCTL" validate --no-files "$T/vm.json"); rc=$?
        check "--no-files: the file alone is fine" [ $rc = 0 ]
        # the good part: a missing image with create is fine; -v says it will be made
        cat >"$T/ok.json" <<'EOF2'
{ "name": "disks",
  "disks": [ { "file": "x.qcow2" }, { "file": "new.qcow2", "create": "1G" } ] }
EOF2
        out=$("$QEMUCTL" validate "$T/ok.json"); rc=$?
        check "a missing image with create is no error" [ $rc = 0 ]
        check "and not mentioned without --verbose" [ "$out" = "$T/ok.json: ok" ]
        out=$("$QEMUCTL" validate --verbose "$T/ok.json"); rc=$?
        check "--verbose: a note that start will create it" [ "$out" = "note: $T/ok.json:2:47: disks[1].file: $T/new.qcow2 does not exist; start will create it (qcow2, 1G)
$T/ok.json: ok" ]
        out=$("$QEMUCTL" validate --json --verbose "$T/ok.json")
        check "--json --verbose: notes" python3 -c '
import json, sys
v = json.loads(sys.argv[1])[0]
assert v["ok"] and v["errors"] == [] and [n["path"] for n in v["notes"]] == ["disks[1].file"], v
' "$out"
        check "validate created nothing" [ ! -e "$T/new.qcow2" ]
else
        echo "# qemu-img not found: disk header checks not run"
fi

shopt -s nullglob
samples=("$SRC"/samples/*.json)
if [ ${#samples[@]} -gt 0 ]; then
        # samples are files to copy from: their ISOs and images are not in the repository
        "$QEMUCTL" validate --no-files "${samples[@]}" >/dev/null; rc=$?
        check "every sample in samples/ validates with --no-files (${#samples[@]})" [ $rc = 0 ]
fi
if [ -f "$SRC/samples/windows-install.json" ]; then
        out=$("$QEMUCTL" validate "$SRC/samples/windows-install.json"); rc=$?
        check "windows-install without its ISO: an error by default" [ $rc = 1 ]
        check "naming the ISO" grep -q 'disks\[1\].file: CD-ROM image .*/samples/Win.iso does not exist' <<<"$out"
fi
echo "1..$n"
[ $fails = 0 ]
