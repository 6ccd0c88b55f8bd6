#!/usr/bin/env bash
# CPU models and features against the real QEMU (issue 13, items 2-3):
# `cpu-models` lists the binary's models with what TCG can run; its answers
# are cached per binary and asked again when the binary changes; validate,
# cmdline and start refuse an unknown model or feature (with the nearest
# names), a "require"d feature TCG lacks (AVX-512) and a "forbid"den one it
# has, and a start with what TCG has gives the guest exactly that (read back
# from the vCPU over QMP). host-model under TCG keeps -cpu max,migratable=on
# and says so. Starts small VMs under TCG (hold the QEMU lock). TAP output.
set -u
QEMUCTL=${QEMUCTL:-./qemuctl}
QEMU=${QEMU:-qemu-system-x86_64}
. "${QEMUCTL_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
qemu_path=$(command -v "$QEMU") || { echo "1..0 # SKIP $QEMU not found: install qemu-system-x86"; exit 77; }
T=$(mktemp -d /tmp/qemuctl-cpu-models.XXXXXX)
export QEMUCTL_RUNDIR=$T/run QEMUCTL_CACHEDIR=$T/cache
vms=()
cleanup() {
        for v in "${vms[@]+"${vms[@]}"}"; do "$QEMUCTL" kill "$v" >/dev/null 2>&1; done
        rm -rf "$T"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# ---- cpu-models: the binary's models, under TCG ----
"$QEMUCTL" cpu-models --accel tcg --qemu "$QEMU" --json >"$T/m.json" 2>"$T/err"
tap_ok $? "cpu-models --accel tcg --json exits 0"
tap_is "$(json 'print(d["accel"], d["from_cache"], d["host_model"])' <"$T/m.json")" "tcg False None" \
        "asked QEMU (no cache yet); no host-model under TCG"
tap_is "$(json 'm={x["name"]: x for x in d["models"]}; print(m["max"]["usable"], m["qemu64"]["usable"], m["qemu64"]["alias_of"], m["Skylake-Server-v1"]["usable"], "avx512f" in m["Skylake-Server-v1"]["unavailable_features"])' <"$T/m.json")" \
        "True True qemu64-v1 False True" \
        "max and qemu64 usable; Skylake-Server-v1 is not, blocked by avx512f (TCG has no AVX-512)"
tap_is "$(json 'f=d["features"]; print(f["avx512f"], f["sse4.2"], f["sse4_2"], "notafeature" in f)' <"$T/m.json")" \
        "False True True False" "features: avx512f not usable under TCG, sse4.2 usable (by both its names)"
tap_is "$(ls "$T/cache" | wc -l)" 1 "the answers are cached in \$QEMUCTL_CACHEDIR, one file"
"$QEMUCTL" cpu-models --accel tcg --qemu "$QEMU" --json | json 'print(d["from_cache"])' >"$T/out"
tap_is "$(cat "$T/out")" True "asked again: from the cache"
"$QEMUCTL" cpu-models --accel tcg --qemu "$QEMU" --verbose >"$T/out"
tap_ok "$(grep -qE '^Skylake-Server-v1 +no +.*avx512f' "$T/out"; echo $?)" "--verbose: each model's blocking features"
tap_ok "$("$QEMUCTL" cpu-models --accel tcg --qemu "$QEMU" | grep -qE '^qemu64 +yes += qemu64-v1$'; echo $?)" \
        "the text table: model, usable, alias"
"$QEMUCTL" domcapabilities --accel kvm-ish >/dev/null 2>"$T/err"
tap_is "$?" 2 "--accel other than kvm/tcg: usage error"

# ---- under KVM, host-model from the real QEMU: the probe runs no guest, so
# a /dev/kvm that creates VMs is enough (here its vCPUs cannot boot one) ----
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        "$QEMUCTL" cpu-models --accel kvm --qemu "$QEMU" --json >"$T/kvm.json" 2>"$T/err"; rc=$?
        sed 's/^/#   /' "$T/err"
        if [ $rc = 0 ]; then
                tap_is "$(json '
m = {x["name"]: x for x in d["models"]}
h = d["host_model"]
print(d["accel"], h is not None and h["model"] in m and m[h["model"]]["usable"] and m[h["model"]]["migration_safe"]
      and m[h["model"]]["alias_of"] is None,
      h is not None and all(f in d["features"] and p in ("require", "disable") for f, p in h["features"].items()))' <"$T/kvm.json")" \
                        "kvm True True" \
                        "KVM: host-model is a usable, migration-safe, versioned model of the binary, its features QEMU's ($(json 'print(d["host_model"]["model"] if d["host_model"] else None)' <"$T/kvm.json"))"
        else
                tap_skip "KVM: host-model from the real QEMU" "QEMU -accel kvm -machine none did not start here"
        fi
else
        tap_skip "KVM: host-model from the real QEMU" "no usable /dev/kvm"
fi

# ---- the cache follows the binary: a stand-in that counts its runs ----
printf '#!/bin/sh\necho run >>"%s/probes"\nenv >"%s/probe-env"\nexec "%s" "$@"\n' "$T" "$T" "$qemu_path" >"$T/qemu"
chmod +x "$T/qemu"
cat >"$T/counted.json" <<EOF
{ "name": "counted", "accel": "tcg", "cpu": { "model": "Haswell-v4" }, "memory": { "size": "64M" },
  "qemu": { "binary": "$T/qemu" } }
EOF
probes() { [ -e "$T/probes" ] && wc -l <"$T/probes" || echo 0; }
"$QEMUCTL" validate "$T/counted.json" >/dev/null; r1=$?
"$QEMUCTL" validate "$T/counted.json" >/dev/null; r2=$?
tap_is "$r1 $r2 $(probes)" "0 0 1" "two validates: QEMU asked once"
tap_ok "$(grep -qx 'LC_ALL=C' "$T/probe-env" && ! grep -q '^QEMUCTL_CACHEDIR=' "$T/probe-env"; echo $?)" \
        "the probe runs as start runs QEMU: a clean environment (LC_ALL=C, none of ours)"
touch -m -d '2001-01-01 00:00:00' "$T/qemu"
"$QEMUCTL" validate "$T/counted.json" >/dev/null
tap_is "$(probes)" 2 "the binary's mtime changed: asked again"
echo '# grown' >>"$T/qemu"
touch -m -d '2001-01-01 00:00:00' "$T/qemu"
"$QEMUCTL" validate "$T/counted.json" >/dev/null
tap_is "$(probes)" 3 "its size changed (same mtime): asked again"
"$QEMUCTL" cpu-models --accel tcg --qemu "$T/qemu" --refresh >/dev/null
tap_is "$(probes)" 4 "cpu-models --refresh asks again"
"$QEMUCTL" validate "$T/counted.json" >/dev/null
tap_is "$(probes)" 4 "and the refreshed answers are cached"
for f in "$T"/cache/*; do echo '{"format": 1, "binary": 5}' >"$f"; done
"$QEMUCTL" validate "$T/counted.json" >/dev/null; rc=$?
tap_is "$rc $(probes)" "0 5" "a cache file of another shape is asked again, never trusted"

# ---- validate: names and policies ----
cat >"$T/bad.json" <<'EOF'
{ "name": "bad", "accel": "tcg",
  "cpu": { "model": "Westmere-bogus",
           "features": { "notafeature": "require", "avx512f": "require", "sse2": "forbid",
                         "sse4_2": "require", "avx2": "require", "avx512bw": "forbid", "vmx": "optional" } },
  "memory": { "size": "64M" } }
EOF
"$QEMUCTL" validate "$T/bad.json" >"$T/out" 2>&1; rc=$?
sed 's/^/#   /' "$T/out"
tap_is "$rc" 1 "validate: a bad CPU is a bad file (exit 1)"
tap_ok "$(grep -q "bad.json:2:21: cpu.model: \"Westmere-bogus\" is not a CPU model of $qemu_path (QEMU [0-9.]*); did you mean one of .*Westmere-v2" "$T/out"; echo $?)" \
        "unknown model: at its place, with the models of that family"
tap_ok "$(grep -q 'bad.json:3:26: cpu.features.notafeature: not a CPU feature of ' "$T/out"; echo $?)" "unknown feature: at its place"
tap_ok "$(grep -q 'bad.json:3:52: cpu.features.avx512f: required, but TCG cannot give the guest avx512f' "$T/out"; echo $?)" \
        "require of a feature TCG lacks: named"
tap_ok "$(grep -q 'cpu.features.sse2: forbidden, but TCG has sse2' "$T/out"; echo $?)" "forbid of a feature TCG has: named"
tap_is "$(grep -c 'sse4_2\|avx2\|avx512bw\|vmx' "$T/out")" 0 \
        "require of what TCG has (sse4_2 as QEMU spells it too, avx2), forbid of what it lacks, optional: fine"
printf '{ "name": "typo", "accel": "tcg", "cpu": { "model": "Haswel", "features": { "avx521f": "disable" } } }\n' >"$T/typo.json"
"$QEMUCTL" validate "$T/typo.json" >"$T/out" 2>&1
tap_ok "$(grep -q 'cpu.model: .*did you mean "Haswell"?' "$T/out" && grep -q 'cpu.features.avx521f: .*did you mean "avx512f"?' "$T/out"; echo $?)" \
        "typos: did you mean"
"$QEMUCTL" validate --verbose "$T/counted.json" >"$T/out" 2>&1
tap_ok "$(grep -q '^note: .*counted.json:1:[0-9]*: cpu.model: TCG lacks 5 features of Haswell-v4: pcid, x2apic, tsc-deadline, invpcid, spec-ctrl; QEMU turns them off' "$T/out"; echo $?)" \
        "validate --verbose: a model's features TCG lacks, as a note"
"$QEMUCTL" validate --no-files "$T/bad.json" >/dev/null 2>&1
tap_is "$?" 0 "--no-files: QEMU is not asked"
"$QEMUCTL" validate --json "$T/bad.json" | json 'print(sorted(e["path"] for e in d[0]["errors"]))' >"$T/out"
tap_is "$(cat "$T/out")" "['cpu.features.avx512f', 'cpu.features.notafeature', 'cpu.features.sse2', 'cpu.model']" \
        "--json: the same problems"
printf '{ "name": "nq", "accel": "tcg", "qemu": { "binary": "%s/no-such-qemu" } }\n' "$T" >"$T/noqemu.json"
"$QEMUCTL" validate "$T/noqemu.json" >"$T/out" 2>"$T/err"; rc=$?
tap_ok "$([ $rc = 0 ] && grep -q 'warning: .*CPU model and features not checked: .*no-such-qemu' "$T/err"; echo $?)" \
        "a QEMU that cannot be asked: a warning, the file is still good"
printf '{ "name": "hm", "accel": "auto", "cpu": { "mode": "host-model" } }\n' >"$T/hm.json"
"$QEMUCTL" validate --verbose "$T/hm.json" >"$T/out" 2>&1
if grep -q 'accel: accel auto resolved to tcg' "$T/out"; then
        tap_ok "$(grep -q 'note: .*accel: .*cpu.mode host-model runs as -cpu max,migratable=on' "$T/out"; echo $?)" \
                "validate --verbose: host-model under TCG keeps -cpu max,migratable=on, and says so"
else
        tap_skip "validate --verbose: host-model under TCG note" "KVM runs guests here"
fi

# ---- define and edit check the names as validate does; host-model stays ----
export QEMUCTL_CONFDIR=$T/conf
"$QEMUCTL" define "$T/typo.json" >"$T/out" 2>&1; rc=$?
sed 's/^/#   /' "$T/out"
tap_ok "$([ $rc = 1 ] && grep -q 'qemuctl: define: .*typo.json:1:.*cpu.model: .*did you mean "Haswell"?' "$T/out" &&
        [ ! -e "$T/conf/vms/typo.json" ]; echo $?)" "define refuses an unknown model at its place, and stores nothing"
"$QEMUCTL" define --no-files "$T/typo.json" >/dev/null 2>&1
tap_ok "$([ -e "$T/conf/vms/typo.json" ]; echo $?)" "define --no-files: QEMU is not asked"
"$QEMUCTL" define "$T/hm.json" >/dev/null 2>&1; rc=$?
tap_is "$rc $("$QEMUCTL" dump --config hm | json 'print(d["cpu"]["mode"], d["cpu"].get("model"))')" "0 host-model None" \
        "define keeps host-model as written (the start expands it)"
"$QEMUCTL" define "$T/counted.json" >/dev/null 2>&1
cp "$T/conf/vms/counted.json" "$T/counted-before.json"
printf '#!/bin/sh\nsed -i "s/Haswell-v4/Haswell-v99/" "$1"\n' >"$T/ed-model.sh"
chmod +x "$T/ed-model.sh"
out=$(EDITOR=$T/ed-model.sh VISUAL= "$QEMUCTL" edit counted 2>&1 </dev/null); rc=$?
tap_ok "$([ $rc = 1 ] && printf '%s' "$out" | grep -q 'cpu.model: "Haswell-v99" is not a CPU model' &&
        cmp -s "$T/counted-before.json" "$T/conf/vms/counted.json"; echo $?)" \
        "edit to an unknown model: refused at its place, the definition untouched"
rm -f /tmp/qemuctl-edit-counted-*.json

# ---- cmdline and start refuse what validate refuses, before QEMU runs ----
"$QEMUCTL" cmdline "$T/bad.json" >/dev/null 2>"$T/err"; rc=$?
tap_ok "$([ $rc = 1 ] && grep -q 'qemuctl: cmdline: .*cpu.features.avx512f: required' "$T/err"; echo $?)" "cmdline refuses it"
sed "s/\"bad\"/\"bad$$\"/" "$T/bad.json" >"$T/bad-start.json"
"$QEMUCTL" start "$T/bad-start.json" >/dev/null 2>"$T/err"; rc=$?
sed 's/^/#   /' "$T/err"
tap_is "$rc" 1 "start refuses it (exit 1)"
tap_ok "$(grep -q 'qemuctl: start: .*bad-start.json:3:52: cpu.features.avx512f: required, but TCG cannot give the guest avx512f' "$T/err"; echo $?)" \
        "start names the missing feature at its place"
tap_ok "$([ ! -e "$T/run/bad$$" ]; echo $?)" "and left no state dir: QEMU never ran"

# ---- a start with what TCG has: the guest gets exactly that ----
name=cpuok$$
cat >"$T/ok.json" <<EOF
{ "name": "$name", "accel": "tcg",
  "cpu": { "model": "qemu64", "features": { "sse4_2": "require", "avx2": "require", "avx512f": "forbid", "nx": "disable" } },
  "memory": { "size": "64M" }, "serial": "none" }
EOF
"$QEMUCTL" start "$T/ok.json" >/dev/null 2>"$T/err"; rc=$?
sed 's/^/#   /' "$T/err"
tap_is "$rc" 0 "start: require of what TCG has, forbid of what it lacks"
if [ $rc = 0 ]; then
        vms+=("$name")
        path=$("$QEMUCTL" qmp --json "$name" query-cpus-fast | json 'print(d[0]["qom-path"])')
        got=""
        for f in sse4.2 avx2 avx512f nx; do
                got+="$f=$("$QEMUCTL" qmp --json "$name" qom-get "{\"path\": \"$path\", \"property\": \"$f\"}") "
        done
        tap_is "$got" "sse4.2=true avx2=true avx512f=false nx=false " "the vCPU as QEMU has it: the required on, the forbidden and disabled off"
        "$QEMUCTL" kill "$name" >/dev/null 2>&1
fi

# ---- host-model under TCG: today's -cpu max,migratable=on, with a note, not recorded ----
name=cpuhm$$
printf '{ "name": "%s", "accel": "auto", "cpu": { "mode": "host-model" }, "memory": { "size": "64M" }, "serial": "none" }\n' \
        "$name" >"$T/hm-start.json"
"$QEMUCTL" start "$T/hm-start.json" >/dev/null 2>"$T/err"; rc=$?
sed 's/^/#   /' "$T/err"
tap_is "$rc" 0 "start: host-model with accel auto"
if [ $rc = 0 ]; then
        vms+=("$name")
        if grep -q 'accel auto resolved to tcg' "$T/err"; then
                tap_ok "$(grep -q '^qemuctl: start: note: .*cpu.mode host-model runs as -cpu max,migratable=on$' "$T/err"; echo $?)" \
                        "under TCG: the note says it runs as -cpu max,migratable=on"
                tap_is "$("$QEMUCTL" dump "$name" | json 'print(d["cpu"]["mode"], d["cpu"].get("model"))')" "host-model None" \
                        "the effective spec keeps host-model (nothing was expanded)"
        else
                tap_ok "$(grep -q '^qemuctl: start: note: cpu.mode: host-model is ' "$T/err"; echo $?)" \
                        "under KVM: the note names the model"
                tap_is "$("$QEMUCTL" dump "$name" | json 'print(d["cpu"]["mode"])')" custom \
                        "the effective spec records the model as custom"
        fi
        "$QEMUCTL" kill "$name" >/dev/null 2>&1
fi
echo "1..$n"
[ "$failed" = 0 ]
