# Shell helpers for tests that write or read VM files and qemuctl's JSON
# (sourced; tests/guest/lifecycle.sh sources it). python3 does the JSON.
#   vmfile_set FILE KEY.PATH=VALUE ...  set members in place: KEY.PATH dotted,
#       objects made on the way; VALUE is JSON (3, true, {"0": "0"}) or else
#       a string (512M)
#   jget EXPR   print EXPR of the JSON on stdin, EXPR a Python subscript
#       chain: '["cpu"]["vcpus"]', '[0]["name"]'

vmfile_set() {
        python3 - "$@" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    v = json.load(f)
for a in sys.argv[2:]:
    key, sep, raw = a.partition("=")
    if not sep:
        sys.exit("vmfile_set: %s: expected KEY.PATH=VALUE" % a)
    try:
        val = json.loads(raw)
    except ValueError:
        val = raw
    *parents, last = key.split(".")
    o = v
    for k in parents:
        o = o.setdefault(k, {})
    o[last] = val
with open(path, "w") as f:
    json.dump(v, f, indent=1)
PY
}

jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }
