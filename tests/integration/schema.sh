#!/usr/bin/env bash
# docs/vm-file.schema.json, checked with a standard JSON Schema validator
# (Debian's python3-jsonschema): it is a valid draft 2020-12 schema, every
# example in it fits its own key, it accepts every sample and good file
# (and "$schema" in a VM file), and it rejects the structural cases of the
# bad-input corpus (wrong types, unknown keys, bad enums, missing required
# keys). Checks across keys are validate's, not the schema's: those bad
# files must pass the schema. No QEMU. TAP output.
set -u
SRC=${QEMUCTL_SRCDIR:-.}
QEMUCTL=${QEMUCTL:-$SRC/qemuctl}
if ! python3 -c 'import jsonschema' 2>/dev/null; then
        echo "1..0 # SKIP python3-jsonschema is not installed (packages.txt)"
        exit 77
fi
exec python3 - "$SRC" "$QEMUCTL" <<'PY'
import glob, json, os, subprocess, sys, tempfile
import jsonschema

src, qemuctl = sys.argv[1], sys.argv[2]
n = fails = 0

def check(ok, what, why=""):
    global n, fails
    n += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n, what))
    if not ok:
        fails += 1
        for line in str(why).splitlines()[:6]:
            print("# " + line)

def strip_comments(text):
    """JSON with // and /* */ comments (the VM file's syntax) -> JSON."""
    out, i, n_ = [], 0, len(text)
    while i < n_:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n_ and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1]); i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n_
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            i = end + 2
        else:
            out.append(c); i += 1
    return "".join(out)

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read().lstrip("\ufeff")))

schema = json.load(open(os.path.join(src, "docs/vm-file.schema.json")))
V = jsonschema.Draft202012Validator
try:
    V.check_schema(schema); check(True, "the schema is a valid draft 2020-12 schema")
except jsonschema.SchemaError as e:
    check(False, "the schema is a valid draft 2020-12 schema", e.message)
v = V(schema)

def errors(doc):
    return sorted(e.message for e in v.iter_errors(doc))

# every key's example fits the key's own schema
def walk(s, path):
    if isinstance(s, dict):
        for ex in s.get("examples", []):
            errs = [e.message for e in V(s).iter_errors(ex)]
            check(not errs, "example of %s fits its schema" % path, "\n".join(errs))
        for k, sub in s.get("properties", {}).items():
            walk(sub, path + "." + k if path else k)
        for sub in s.get("anyOf", []):
            walk(sub, path)
        if isinstance(s.get("items"), dict):
            walk(s["items"], path + "[]")
walk(schema, "")

good = sorted(glob.glob(os.path.join(src, "samples/*.json"))) + \
       sorted(glob.glob(os.path.join(src, "tests/data/good/*.json")))
check(len(good) >= 8, "samples and good files found (%d)" % len(good))
for p in good:
    e = errors(load(p))
    check(not e, "accepts " + os.path.relpath(p, src), "\n".join(e))

# a VM file may name the schema; qemuctl accepts it too
doc = {"$schema": "../docs/vm-file.schema.json", "name": "vm1", "accel": "tcg"}
check(not errors(doc), "accepts a VM file with \"$schema\"")
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(doc, f)
r = subprocess.run([qemuctl, "validate", "--no-files", f.name], capture_output=True, text=True)
os.unlink(f.name)
check(r.returncode == 0, "qemuctl validate accepts \"$schema\"", r.stdout + r.stderr)
check(errors({"name": "vm1", "$schema": 1}), "\"$schema\" must be a string")

# Every bad file is classified: the schema rejects the structural ones,
# accepts the ones only a check across keys (or of a value's range beyond
# its shape) refuses, and the syntax errors are not JSON at all.
structural = """cgroup-parent cpulist-syntax display-wrong enum-bad
  feature-policy forward-syntax input-dup mac-bad many-errors name-dotdot
  name-missing name-slash name-too-long not-object numa-cell-missing-keys
  pin-bad-key size-bare-number size-no-unit-string size-words too-deep
  unknown-key vcpus-zero vnc-syntax weight-range wrong-type vsock-no-cid
  os-unknown os-variant-name""".split()
across = """bridge-ifname bridge-no-bridge cdrom-readonly-false cpulist-overflow
  dimm-max-without-slots duplicate-key hard-below-size host-passthrough-tcg
  hugepages-bad-size hugepages-not-dividing initrd-without-kernel
  limits-order locked-no-hard max-not-above-size model-with-host-model
  net-keys-wrong-type numa-cell-past-max numa-cell-zero numa-memory-sum numa-missing-vcpu
  numa-overlap-sum numa-overlap numa-several pin-nonexistent
  plugged-past-max plugged-without-max size-overflow slots-without-max
  topology-mismatch vcpus-over-max virtio-mem-no-max backing-snapshot
  cloud-init-header cloud-init-yaml firmware-secure-pc tpm-security-user
  disk-no-file os-legacy-secure-boot""".split()
syntax = """empty single-quotes syntax-missing-comma text-after trailing-comma
  unterminated-comment unterminated-string""".split()
bad = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(src, "tests/data/bad/*.json")))
for name in bad:
    p = os.path.join(src, "tests/data/bad", name + ".json")
    kinds = [k for k, l in (("structural", structural), ("across", across), ("syntax", syntax)) if name in l]
    if len(kinds) != 1:
        check(False, "%s is classified once (structural, across or syntax)" % name, kinds)
        continue
    try:
        doc = load(p)
    except ValueError as e:
        check(kinds[0] == "syntax", "%s: not JSON (%s)" % (name, kinds[0]), e)
        continue
    if kinds[0] == "syntax":
        check(False, "%s: not JSON" % name, "it parsed")
    elif kinds[0] == "structural":
        check(errors(doc), "rejects %s" % name)
    else:
        e = errors(doc)
        check(not e, "accepts %s (only validate's checks across keys refuse it)" % name, "\n".join(e))
listed = set(structural + across + syntax)
check(listed <= set(bad), "every classified bad file exists", sorted(listed - set(bad)))
check(len(structural) >= 20, "at least 20 structural cases (%d)" % len(structural))

print("1..%d" % n)
sys.exit(1 if fails else 0)
PY
