#!/usr/bin/env bash
# The definition store with the test guest under TCG: define (relative paths
# resolved against the file), list --all, start NAME from anywhere, edit
# (saved only when valid; reopened on a terminal), dump --config, undefine of
# a running VM (it keeps running, transient), the FILE|NAME rule.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
lc_setup
Q=$QEMUCTL
export QEMUCTL_CONFDIR=$LC_TMP/conf
g=$(cd "$GUEST_DIR" && pwd)

# a VM file whose kernel and initrd are relative to it
mkdir -p "$LC_TMP/files/sub" "$LC_TMP/elsewhere"
ln -s "$g/vmlinuz" "$LC_TMP/files/vmlinuz"
ln -s "$g/initrd.img" "$LC_TMP/files/initrd.img"
f=$(lc_vmfile defs1)
sed -i "s|\"kernel\": \"[^\"]*\"|\"kernel\": \"../vmlinuz\"|; s|\"initrd\": \"[^\"]*\"|\"initrd\": \"../initrd.img\"|" "$f"
mv "$f" "$LC_TMP/files/sub/defs1.json"

# --- a bad file is refused with its place, and nothing is stored
printf '{ "name": "bad1",\n  "cpu": { "vcpus": "two" } }\n' >"$LC_TMP/bad1.json"
out=$("$Q" define "$LC_TMP/bad1.json" 2>&1); rc=$?
[ $rc = 1 ] && case $out in *"bad1.json:2:"*"cpu.vcpus"*) true ;; *) false ;; esac
tap_ok $? "define refuses an invalid file at FILE:LINE:COL (${out:0:140})"
[ ! -e "$QEMUCTL_CONFDIR/vms/bad1.json" ]; tap_ok $? "nothing stored for it"

# --- define from another directory, by a relative path
out=$(cd "$LC_TMP/files" && "$Q" define sub/defs1.json 2>&1); tap_ok $? "define ($out)"
tap_is "$(stat -c %a "$QEMUCTL_CONFDIR/vms/defs1.json")" 600 "the definition is 0600"
tap_is "$(ls -A "$QEMUCTL_CONFDIR/vms")" defs1.json "nothing but the definition in vms/ (no temporary file)"
kern=$("$Q" dump --config defs1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["boot"]["kernel"])')
tap_is "$kern" "$LC_TMP/files/vmlinuz" "the relative kernel path was resolved against the file at define"
"$Q" list | grep -q defs1; tap_is $? 1 "list without --all: not there (no state dir)"
"$Q" list --all | grep -Eq '^defs1 +shut off +- +1 +256M'; tap_ok $? "list --all: defs1 shut off, its size"
tap_is "$(lc_field defs1 state)" "shut off" "status --json: shut off"
tap_is "$(lc_field defs1 persistent)" True "status --json: persistent"

# --- start NAME, from a directory where the relative paths mean nothing
out=$(cd "$LC_TMP/elsewhere" && "$Q" start defs1 2>&1); tap_ok $? "start defs1 by name ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 defs1; tap_ok $? "the guest boots from the definition"
"$Q" list | grep -Eq '^defs1 +running'; tap_ok $? "list: running"
"$Q" status defs1 | grep -q "^Persistent:  yes ($QEMUCTL_CONFDIR/vms/defs1.json)"; tap_ok $? "status: Persistent yes"

# --- edit: a valid change is saved, for the next start
cat >"$LC_TMP/ed-mem.sh" <<'ED'
#!/bin/sh
sed -i 's/"size": "256M"/"size": "320M"/' "$1"
ED
chmod +x "$LC_TMP/ed-mem.sh"
out=$(EDITOR=$LC_TMP/ed-mem.sh VISUAL= "$Q" edit defs1 2>&1); rc=$?
tap_ok $rc "edit with a valid change ($out)"
case $out in *"next start"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "edit says the running VM gets it at its next start"
"$Q" dump --config defs1 | grep -q '"size": "320M"'; tap_ok $? "dump --config: the edit"
"$Q" dump defs1 | grep -q '"size": "256M"'; tap_ok $? "dump: the running VM is unchanged"
out=$(EDITOR=true "$Q" edit defs1 2>&1); tap_ok $? "edit without a change ($out)"
case $out in *"not changed"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "says not changed"

# --- edit: an invalid change is not saved; without a terminal, no question
cp "$QEMUCTL_CONFDIR/vms/defs1.json" "$LC_TMP/before.json"
cat >"$LC_TMP/ed-bad.sh" <<'ED'
#!/bin/sh
sed -i 's/"vcpus": 1/"vcpus": "two"/' "$1"
ED
chmod +x "$LC_TMP/ed-bad.sh"
out=$(EDITOR=$LC_TMP/ed-bad.sh "$Q" edit defs1 2>&1 </dev/null); rc=$?
tap_is $rc 1 "an invalid edit fails"
case $out in *"qemuctl-edit-defs1-"*".json:"*"cpu.vcpus"*"your edit is in"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "it shows the problem at its place and where the edit was kept (${out:0:200})"
cmp -s "$LC_TMP/before.json" "$QEMUCTL_CONFDIR/vms/defs1.json"; tap_ok $? "the definition is untouched"
kept=$(printf '%s\n' "$out" | sed -n 's/.*your edit is in //p'); rm -f "$kept"
# with a terminal: asked, reopened, saved once valid (virsh edit's loop)
cat >"$LC_TMP/ed-twice.sh" <<ED
#!/bin/sh
if [ ! -e "$LC_TMP/ed-once" ]; then touch "$LC_TMP/ed-once"; sed -i 's/"vcpus": 1/"vcpus": "two"/' "\$1"
else sed -i 's/"vcpus": "two"/"vcpus": 1/; s/"size": "320M"/"size": "384M"/' "\$1"; fi
ED
chmod +x "$LC_TMP/ed-twice.sh"
if command -v script >/dev/null; then
        out=$(printf 'y\n' | EDITOR=$LC_TMP/ed-twice.sh timeout 60 script -qec "$Q edit defs1" /dev/null 2>&1); rc=$?
        case $out in *"cpu.vcpus"*"Edit again?"*"definition saved"*) r=0 ;; *) r=1 ;; esac
        tap_ok $(( rc == 0 ? r : 1 )) "on a terminal: the problem, Edit again?, y, fixed, saved (rc $rc)"
        "$Q" dump --config defs1 | grep -q '"size": "384M"'; tap_ok $? "the second edit is in the definition"
else
        tap_ok 0 "edit on a terminal # SKIP script(1) (util-linux) not installed"
fi
# a rename is refused
cat >"$LC_TMP/ed-rename.sh" <<'ED'
#!/bin/sh
sed -i 's/"name": "defs1"/"name": "defs9"/' "$1"
ED
chmod +x "$LC_TMP/ed-rename.sh"
out=$(EDITOR=$LC_TMP/ed-rename.sh "$Q" edit defs1 2>&1 </dev/null); rc=$?
case $out in *"names VM \`defs9\`"*"undefine"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "edit refuses a rename and says how (${out:0:160})"
rm -f /tmp/qemuctl-edit-defs1-*.json "${TMPDIR:-/tmp}"/qemuctl-edit-defs1-*.json 2>/dev/null

# --- stop, start: the definition's memory now
"$Q" stop --timeout 120 defs1 >/dev/null; tap_ok $? "stop"
"$Q" list --all | grep -Eq '^defs1 +ended'; tap_ok $? "list --all: defs1 ended (the last run's record)"
"$Q" start defs1 >/dev/null; tap_ok $? "start defs1 again"
tap_is "$(lc_field defs1 memory)" $((384 * 1024 * 1024)) "it runs with the edited memory size"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 180 defs1; tap_ok $? "the guest boots again"

# --- the VM's data dir (UEFI variables, TPM state): kept unless asked
export QEMUCTL_DATADIR=$LC_TMP/data
mkdir -p "$QEMUCTL_DATADIR/defs1/tpm"
touch "$QEMUCTL_DATADIR/defs1/nvram.fd" "$QEMUCTL_DATADIR/defs1/nvram.template" \
        "$QEMUCTL_DATADIR/defs1/tpm/tpm2-00.permall" "$QEMUCTL_DATADIR/defs1/tpm-setup.log"
out=$("$Q" undefine --nvram defs1 2>&1); rc=$?
case $out in *"is running and uses its NVRAM: stop it first"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "undefine --nvram of a running VM is refused ($out)"
[ -e "$QEMUCTL_CONFDIR/vms/defs1.json" ] && [ -e "$QEMUCTL_DATADIR/defs1/nvram.fd" ]
tap_ok $? "and the definition and the NVRAM are still there"

# --- undefine a running VM: it keeps running, transient
out=$("$Q" undefine defs1 2>&1); tap_ok $? "undefine a running VM ($out)"
case $out in *"data dir $QEMUCTL_DATADIR/defs1 is kept"*"undefine --nvram --tpm"*"rm -r $QEMUCTL_DATADIR/defs1"*"once the VM stops"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "says the data dir is kept, and how to remove it now that the VM is not defined (undefine --nvram would refuse it)"
tap_is "$(cd "$QEMUCTL_DATADIR/defs1" && ls -A | sort | tr '\n' ' ')" "nvram.fd nvram.template tpm tpm-setup.log " "it is"
case $out in *"keeps running"*"transient"*) r=0 ;; *) r=1 ;; esac; tap_ok $r "says it keeps running, transient"
tap_is "$(lc_field defs1 state)" running "still running"
tap_is "$(lc_field defs1 persistent)" False "no longer persistent"
[ ! -e "$QEMUCTL_CONFDIR/vms/defs1.json" ]; tap_ok $? "the definition file is gone"
out=$("$Q" dump --config defs1 2>&1); rc=$?
case $out in *"not defined"*"transient"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "dump --config of a transient VM is refused ($out)"
"$Q" dump defs1 | grep -q '"name": "defs1"'; tap_ok $? "dump still shows what it runs"
out=$("$Q" undefine defs1 2>&1); tap_is $? 1 "undefine again: not defined ($out)"
"$Q" kill defs1 >/dev/null; tap_ok $? "kill"

# --- undefine --nvram, then --tpm: each removes its own; the dir goes with the last
"$Q" define --no-files "$LC_TMP/files/sub/defs1.json" >/dev/null; tap_ok $? "define defs1 again"
# a state dir that cannot be trusted says nothing of whether QEMU runs: the data stays
chmod 0777 "$QEMUCTL_RUNDIR/defs1"
out=$("$Q" undefine --nvram defs1 2>&1); rc=$?
chmod 0700 "$QEMUCTL_RUNDIR/defs1"
case $out in *"cannot tell whether VM \`defs1\` runs"*"so its NVRAM stays"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "undefine --nvram with an untrusted state dir is refused ($out)"
[ -e "$QEMUCTL_CONFDIR/vms/defs1.json" ] && [ -e "$QEMUCTL_DATADIR/defs1/nvram.fd" ]; tap_ok $? "the definition and the NVRAM are still there"
out=$("$Q" undefine --nvram defs1 2>&1); tap_ok $? "undefine --nvram ($out)"
tap_is "$(cd "$QEMUCTL_DATADIR/defs1" && ls -A | sort | tr '\n' ' ')" "tpm tpm-setup.log " "the NVRAM and its record are gone, the TPM state stays"
"$Q" define --no-files "$LC_TMP/files/sub/defs1.json" >/dev/null
out=$("$Q" undefine --tpm defs1 2>&1); tap_ok $? "undefine --tpm ($out)"
[ ! -e "$QEMUCTL_DATADIR/defs1" ]; tap_ok $? "the TPM state is gone, and the data dir with it"
case $out in *"is kept"*) r=1 ;; *) r=0 ;; esac; tap_ok $r "no word of a kept data dir then"

# --- the FILE|NAME rule
out=$("$Q" start nosuchvm 2>&1); rc=$?
case $out in *"neither a defined VM"*"nor a file"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 ? r : 1 )) "start NAME of nothing says what a NAME and a FILE are ($out)"
cp "$LC_TMP/files/sub/defs1.json" "$LC_TMP/files/sub/plainvm"
(cd "$LC_TMP/files/sub" && "$Q" cmdline plainvm >/dev/null); tap_ok $? "a bare word that is a file here (and no definition) is the file"
(cd "$LC_TMP/files" && "$Q" define --no-files sub/plainvm >/dev/null)
(cd "$LC_TMP/files/sub" && "$Q" cmdline defs1.json >/dev/null); tap_ok $? "NAME.json is a file, never a definition"
tap_done
