#!/usr/bin/env bash
# Options anywhere (issue 9 §5): every verb takes its options before, between
# and after its arguments, as GNU tools and virsh do, and "--" ends them.
# Checked on a real QEMU under TCG (no boot device: SeaBIOS idles). Also: each
# verb's --help is `qemuctl help VERB`, both from the verb table.
set -u
. "${QEMUCTL_SRCDIR:-.}/tests/guest/lifecycle.sh"
Q=${QEMUCTL:?QEMUCTL not set}
QEMU=${QEMUCTL_QEMU:-/usr/bin/qemu-system-x86_64}
. "${QEMUCTL_SRCDIR:-.}/tests/lib/tap.sh"
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 77; }

T=$(mktemp -d /tmp/qemuctl-cli-options.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
cleanup() {
        lc_kill_recorded "$T"
        sleep 0.2
        rm -rf "$T"
}
trap cleanup EXIT
isjson() { python3 -c 'import json,sys; json.load(sys.stdin)'; }

# --- without a VM: what the parser makes of the words
err=$("$Q" vcpuinfo nosuch --json 2>&1 >/dev/null); rc=$?
tap_is "$rc" 1 "vcpuinfo NAME --json: the option after the name is taken (a missing VM, not a usage error)"
grep -q 'no VM named `nosuch`' <<<"$err"; tap_ok $? "and the name is the name ($err)"
err=$("$Q" status -- --json 2>&1 >/dev/null); rc=$?
tap_is "$rc" 1 "status -- --json: after --, --json is an argument"
grep -q -- '--json' <<<"$err"; tap_ok $? "named as the VM ($err)"
err=$("$Q" stop x --no-such-option 2>&1); rc=$?; err=${err%%$'\n'*}
tap_is "$rc" 2 "an unknown option after the name is a usage error"
grep -q "unknown option '--no-such-option'" <<<"$err"; tap_ok $? "naming the option ($err)"
err=$("$Q" run x.json --timeout 2>&1); rc=$?; err=${err%%$'\n'*}
tap_is "$rc" 2 "an option without its value at the end is a usage error"
grep -q -- "--timeout wants an argument" <<<"$err"; tap_ok $? "saying so ($err)"
err=$("$Q" cmdline "$T/none.json" --shell 2>&1); rc=$?
grep -q 'none.json' <<<"$err"; tap_ok $? "cmdline FILE --shell reads FILE ($err)"

# --- --help and `help VERB` are the same text, for every verb and alias
bad=
for v in $("$Q" help | awk '/^  [a-z]/ { print $1 }') shutdown destroy suspend dominfo dommemstat qemu-monitor-command; do
        a=$("$Q" "$v" --help) || bad="$bad $v(--help exit)"
        b=$("$Q" help "$v") || bad="$bad $v(help exit)"
        [ "$a" = "$b" ] || bad="$bad $v(differ)"
        grep -q "^Usage: qemuctl " <<<"$a" || bad="$bad $v(no usage)"
        c=$("$Q" "$v" x --help 2>/dev/null) && [ "$c" = "$a" ] || bad="$bad $v(--help after an argument)"
done
tap_is "$bad" "" "every verb: --help anywhere = qemuctl help VERB"
"$Q" hmp --help | grep -q "qemuctl hmp vm1 'info balloon'"; tap_ok $? "hmp --help shows the NAME form"
"$Q" qmp --help | grep -q -- "qemu-monitor-command vm1 --hmp --cmd 'info balloon'"; tap_ok $? "qmp --help shows virsh's form"

[ -x "$QEMU" ] || { echo "1..$n"; echo "# SKIP the rest: $QEMU missing"; [ $failed = 0 ]; exit; }
cat >"$T/opts.json" <<JSON
{
  "name": "opts",
  "machine": "q35",
  "accel": "tcg",
  "cpu": { "mode": "custom", "model": "qemu64", "vcpus": 2 },
  "memory": { "size": "128M" },
  "serial": "log"
}
JSON
out=$("$Q" start "$T/opts.json" --lock-timeout 5 2>&1); rc=$?
tap_ok $rc "start FILE --lock-timeout 5 ($out)"
[ $rc = 0 ] || { echo "1..$n"; exit 1; }

out=$("$Q" vcpuinfo opts --json); rc=$?
tap_ok $rc "vcpuinfo NAME --json"
isjson <<<"$out"; tap_ok $? "prints JSON"
tap_is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")" 2 "both vCPUs"
out=$("$Q" status opts --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])'); rc=$?
tap_is "$out" opts "status NAME --json"
out=$("$Q" vcpupin opts 1 --json --lock-timeout=5 | python3 -c 'import json,sys; print([v["vcpu"] for v in json.load(sys.stdin)])')
tap_is "$out" "[1]" "vcpupin NAME VCPU --json --lock-timeout=5"
out=$("$Q" qmp opts query-status --json); rc=$?
tap_is "$out" '{"status":"running","singlestep":false,"running":true}' "qmp NAME COMMAND --json (compact)"
out=$("$Q" qmp --json opts query-name)
tap_is "$out" '{"name":"opts"}' "qmp --json NAME COMMAND"
out=$("$Q" hmp opts --json 'info status')
tap_is "$out" '"VM status: running\r\n"' "hmp NAME --json 'info status'"
# virsh's monitor form (issue 13 item 8), on the alias
out=$("$Q" qemu-monitor-command opts --hmp --cmd 'info status')
tap_is "$out" "VM status: running" "qemu-monitor-command DOMAIN --hmp --cmd 'info status'"
out=$("$Q" qemu-monitor-command opts --hmp info status)
tap_is "$out" "VM status: running" "qemu-monitor-command DOMAIN --hmp info status (words joined)"
out=$("$Q" qemu-monitor-command opts '{"execute": "query-name"}' --json)
tap_is "$out" '{"name":"opts"}' "qemu-monitor-command DOMAIN '{\"execute\": ...}'"
out=$("$Q" qemu-monitor-command opts --pretty '{"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}}')
grep -q '^"pc-q35-[0-9.]*-machine"$' <<<"$out"; tap_ok $? "with \"arguments\" ($out)"
"$Q" qemu-monitor-command opts '{"execute": 1}' 2>/dev/null; rc=$?
tap_is "$rc" 2 "a command object without a string execute is a usage error"
out=$("$Q" pause opts --lock-timeout 5 && "$Q" status --json opts | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
tap_is "$out" "$(printf 'VM `opts` paused\npaused')" "pause NAME --lock-timeout 5"
"$Q" resume opts --lock-timeout=5 >/dev/null; tap_ok $? "resume NAME --lock-timeout=5"
out=$("$Q" kill opts --lock-timeout 5); rc=$?
tap_is "$out" 'VM `opts` killed' "kill NAME --lock-timeout 5"
# options' help wraps at 79 columns; an apostrophe (QEMU's, VM's) is a letter,
# not a quote that glues the rest of the text into one word (JSON examples
# are one word by design)
wide=$(for v in $("$Q" help | awk '/^  [a-z]/{print $1}'); do
        "$Q" "$v" --help | awk -v v="$v" '/^  / && !/[{]/ && length($0) > 79 {print v ": " $0}'
done)
tap_is "$wide" "" "every verb's option help fits in 79 columns"
# and so does the rest of --help: the descriptions, their shared notes
wide=$(for v in $("$Q" help | awk '/^  [a-z]/{print $1}'); do
        "$Q" "$v" --help | awk -v v="$v" '!/[{]/ && length($0) > 79 {print v ": " $0}'
done)
tap_is "$wide" "" "every verb's --help fits in 79 columns"
echo "1..$n"
[ $failed = 0 ]
