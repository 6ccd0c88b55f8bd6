#!/usr/bin/env bash
# What the verb table (cli/verbs.c) makes: the man page and the bash and zsh
# completion are current (gen-verbdoc prints them again), the man page
# renders without warnings and has every verb, the bash completion completes
# (sourced, called with COMP_WORDS as bash would), and `make install
# DESTDIR=...` lays out the binary, man pages and completions. No QEMU.
set -u
Q=${QEMUCTL:?QEMUCTL not set}
SRC=${QEMUCTL_SRCDIR:-$PWD}
B=${QEMUCTL_BUILD:-$SRC/build}
. "${QEMUCTL_SRCDIR:-.}/tests/lib/tap.sh"
[ -x "$B/gen-verbdoc" ] || { echo "not ok 1 - $B/gen-verbdoc is missing (make test-programs builds it)"; exit 1; }

T=$(mktemp -d /tmp/qemuctl-verb-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- checked in and current
for fk in docs/man/qemuctl.1:man docs/completion/qemuctl.bash:bash docs/completion/_qemuctl:zsh; do
        f=${fk%:*}
        "$B/gen-verbdoc" "${fk#*:}" >"$T/gen" 2>&1
        if cmp -s "$T/gen" "$SRC/$f"; then tap_ok 0 "$f is current"; else
                tap_ok 1 "$f is current (run make generate)"
                diff -u "$SRC/$f" "$T/gen" | head -20 | sed 's/^/#   /'
        fi
done

verbs=$("$Q" help | awk '/^  [a-z]/ { print $1 }')
missing=
for v in $verbs; do grep -q "^\.SS $v\$" "$SRC/docs/man/qemuctl.1" || missing="$missing $v"; done
tap_is "$missing" "" "qemuctl.1 has a section per verb"
grep -q '^\.SH EXIT STATUS' "$SRC/docs/man/qemuctl.1" &&
        sed -n '/^\.SH EXIT STATUS/,/^\.SH ENV/p' "$SRC/docs/man/qemuctl.1" | grep -q '^\.B 124$'
tap_ok $? "qemuctl.1 has EXIT STATUS with run's codes"
if command -v groff >/dev/null; then
        w=$(groff -man -ww -z "$SRC/docs/man/qemuctl.1" 2>&1)
        tap_is "$w" "" "groff renders qemuctl.1 without warnings"
else
        tap_skip "groff renders qemuctl.1" "groff missing"
fi

# --- bash completion, as bash calls it
mkdir -p "$T/run/vm-a" "$T/run/vm-b" "$T/cwd/sub" "$T/conf/vms"
touch "$T/run/not-a-dir" "$T/cwd/a.json" "$T/cwd/b.json"
# definitions: def-c is defined only, vm-a defined and running
touch "$T/conf/vms/def-c.json" "$T/conf/vms/vm-a.json" "$T/conf/vms/not-json.txt"
# comp WORDS...: the candidates for the last word, sorted, on one line
comp() {
        (cd "$T/cwd" && QEMUCTL_RUNDIR=$T/run QEMUCTL_CONFDIR=$T/conf bash -c '
                . "$1/docs/completion/qemuctl.bash"
                shift
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
                COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                _qemuctl qemuctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$SRC" "$@")
}
tap_is "$(comp qemuctl st)" "start start-all status stop stop-all " "verbs"
tap_is "$(comp qemuctl dom)" "domcapabilities dominfo dommemstat " "virsh aliases"
tap_is "$(comp qemuctl vcpuinfo '')" "def-c vm-a vm-b " "NAME: the VMs of \$QEMUCTL_RUNDIR and the defined ones of \$QEMUCTL_CONFDIR, each once"
tap_is "$(comp qemuctl dominfo --json vm-)" "vm-a vm-b " "NAME after an option, under an alias"
tap_is "$(comp qemuctl stop --t)" "--timeout " "a verb's options"
tap_is "$(comp qemuctl stop --timeout '')" " " "nothing for a duration"
tap_is "$(comp qemuctl shutdown --timeout 5 v)" "vm-a vm-b " "an option's value is not an argument"
tap_is "$(comp qemuctl stop vm-a '')" " " "nothing after the one NAME"
tap_is "$(comp qemuctl start '')" "a.json b.json def-c sub vm-a " "FILE|NAME: files and the defined VMs"
tap_is "$(comp qemuctl run d)" "def-c " "FILE|NAME: a defined VM by its prefix"
tap_is "$(comp qemuctl validate a.json -v '')" "a.json b.json sub " "FILE...: files, again"
tap_is "$(comp qemuctl run --serial-log s)" "sub " "an option's FILE"
tap_is "$(comp qemuctl numatune --mode i)" "interleave " "an option's choices"
tap_is "$(comp qemuctl vcpupin vm-a 0 '')" " " "nothing for a CPULIST"
tap_is "$(comp qemuctl status -- '')" "def-c vm-a vm-b " "after --"
tap_is "$(comp qemuctl nosuchverb '')" " " "nothing for an unknown verb"
# the state dir rule of launcher/paths.c for a user that is not root
if command -v setpriv >/dev/null; then
        mkdir -p "$T/xdg/qemuctl/vm-x" "$T/xdgc/qemuctl/vms"
        touch "$T/xdgc/qemuctl/vms/def-y.json"
        chmod -R a+rX "$T"
        out=$(cd / && env -u QEMUCTL_RUNDIR -u QEMUCTL_CONFDIR XDG_RUNTIME_DIR="$T/xdg" XDG_CONFIG_HOME="$T/xdgc" \
                setpriv --reuid=65534 --regid=65534 --clear-groups bash -c '
                . "$1/docs/completion/qemuctl.bash"
                COMP_WORDS=(qemuctl kill ""); COMP_CWORD=2
                _qemuctl; echo "${COMPREPLY[*]}"' _ "$SRC" 2>&1)
        tap_is "$out" "def-y vm-x" "not root: \$XDG_RUNTIME_DIR/qemuctl and \$XDG_CONFIG_HOME/qemuctl"
else
        tap_skip "not root: \$XDG_RUNTIME_DIR/qemuctl" "setpriv missing"
fi
if command -v zsh >/dev/null; then
        zsh -n "$SRC/docs/completion/_qemuctl"; tap_ok $? "_qemuctl is valid zsh"
else
        tap_skip "_qemuctl is valid zsh" "zsh missing"
fi

# --- make install DESTDIR=...
if command -v make >/dev/null; then
        # a make of its own, not a sub-make of `make test` (its jobserver)
        out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRC" BUILD="$B" install DESTDIR="$T/dest" PREFIX=/usr 2>&1); rc=$?
        tap_ok $rc "make install DESTDIR=... ($out)"
        want="usr/bin/qemuctl
usr/share/bash-completion/completions/qemuctl
usr/share/man/man1/qemuctl.1
usr/share/zsh/vendor-completions/_qemuctl"
        for f in "$SRC"/docs/man/*.5; do [ -e "$f" ] && want="$want
usr/share/man/man5/${f##*/}"; done
        [ -e "$SRC/docs/vm-file.schema.json" ] && want="$want
usr/share/qemuctl/vm-file.schema.json"
        # the systemd units, in the distribution's unit dir for PREFIX=/usr (as the Makefile says)
        unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
        unitdir=${unitdir:-/lib/systemd/system}
        for f in "$SRC"/systemd/*.in; do [ -e "$f" ] && f=${f##*/} && want="$want
${unitdir#/}/${f%.in}"; done
        tap_is "$(cd "$T/dest" && find . -type f | sed 's|^\./||' | sort)" "$(sort <<<"$want")" "the files, at the usual places"
        [ -x "$T/dest/usr/bin/qemuctl" ] && "$T/dest/usr/bin/qemuctl" version >/dev/null; tap_ok $? "the installed binary runs"
        cmp -s "$T/dest/usr/share/bash-completion/completions/qemuctl" "$SRC/docs/completion/qemuctl.bash"
        tap_ok $? "the bash completion is the checked-in one"
else
        tap_skip "make install DESTDIR=..." "make missing"
fi
echo "1..$n"
[ $failed = 0 ]
