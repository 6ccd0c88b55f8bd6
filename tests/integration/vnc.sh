#!/usr/bin/env bash
# VNC (issue 13, item 11): ":N" listens on loopback unless "listen" says
# otherwise; a password from a file (never on QEMU's command line) is given
# by QMP set_password before the guest runs, and a real RFB client (VNC
# authentication, DES as the protocol has it) gets in with it and is refused
# with another; password_valid_for expires it (QMP expire_password). The VM
# idles in its firmware (no disk): VNC does not need a guest OS.
# TAP output; 77 = skip.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
Q=${QEMUCTL:-./qemuctl}
command -v "$GUEST_QEMU" >/dev/null || tap_skip_all "$GUEST_QEMU not found: install qemu-system-x86"
python3 -c 'import cryptography' 2>/dev/null || tap_skip_all "python3-cryptography not installed (packages.txt): the test's VNC client needs DES"
T=$(mktemp -d /tmp/qemuctl-vnc.XXXXXX)
export QEMUCTL_RUNDIR=$T/run
vm=vnc$$
cleanup() { "$Q" kill "$vm" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
# a display number no one else here uses (port 5900 + N)
disp=
for n in $(seq 60 99); do
        if ! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", 5900 + int(sys.argv[1])))' "$n" 2>/dev/null; then continue; fi
        disp=$n; break
done
[ -n "$disp" ] || tap_skip_all "no free VNC port in 5960-5999"

# rfb PASSWORD: 0 = authenticated, 1 = refused, 2 = no VNC authentication offered
cat >"$T/rfb.py" <<'PY'
import socket, struct, sys
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

def recv(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
recv(s, 12)
s.sendall(b"RFB 003.008\n")
types = recv(s, recv(s, 1)[0])
if 2 not in types:
    print("security types", list(types)); sys.exit(2)
s.sendall(b"\x02")
challenge = recv(s, 16)
# RFB's DES key: the password's 8 bytes, each byte's bits reversed
key = bytes(int(f"{b:08b}"[::-1], 2) for b in sys.argv[3].encode().ljust(8, b"\0")[:8])
enc = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
s.sendall(enc.update(challenge) + enc.finalize())
sys.exit(0 if struct.unpack(">I", recv(s, 4))[0] == 0 else 1)
PY

vmfile() { # DISPLAY-OBJECT
        cat >"$T/vm.json" <<EOF2
{ "name": "$vm", "accel": "tcg", "memory": { "size": "64M" }, "panic": false, "serial": "none",
  "display": $1 }
EOF2
}
vnc_host() { "$Q" qmp "$vm" query-vnc | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v.get("host"), v.get("auth"))'; }

# ---- ":N" is loopback now
vmfile "{ \"vnc\": \":$disp\" }"
"$Q" cmdline "$T/vm.json" 2>/dev/null | grep -A1 -x -- -vnc | tail -1 | grep -qx "127.0.0.1:$disp"
tap_ok $? "cmdline: \":$disp\" becomes -vnc 127.0.0.1:$disp"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start"
tap_is "$(vnc_host)" "127.0.0.1 none" "query-vnc: listening on 127.0.0.1, no authentication"
"$Q" kill "$vm" >/dev/null

vmfile "{ \"vnc\": \":$disp\", \"listen\": \"0.0.0.0\" }"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with listen 0.0.0.0"
tap_is "$(vnc_host)" "0.0.0.0 none" "query-vnc: listening on every address"
"$Q" kill "$vm" >/dev/null

vmfile "{ \"vnc\": \"127.0.0.1:$disp\", \"listen\": \"0.0.0.0\" }"
out=$("$Q" validate "$T/vm.json" 2>&1)
case $out in *"display.listen: \"vnc\" names its own address"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "an address in both vnc and listen is refused ($out)"

# ---- the password
printf 'Sekr1t\n' >"$T/vnc.pass"; chmod 600 "$T/vnc.pass"
vmfile "{ \"vnc\": \":$disp\", \"password_file\": \"vnc.pass\" }"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with password_file"
pid=$(cat "$QEMUCTL_RUNDIR/$vm/qemu.pid")
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q Sekr1t; tap_is $? 1 "the password is not on QEMU's command line"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-vnc 127.0.0.1:$disp,password=on"; tap_ok $? "-vnc ...,password=on"
tap_is "$(vnc_host)" "127.0.0.1 vnc" "query-vnc: VNC authentication"
python3 "$T/rfb.py" 127.0.0.1 $((5900 + disp)) Sekr1t; tap_is $? 0 "an RFB client gets in with the file's password"
python3 "$T/rfb.py" 127.0.0.1 $((5900 + disp)) wrong; tap_is $? 1 "and is refused with another"
"$Q" dump "$vm" | grep -q Sekr1t; tap_is $? 1 "dump names the file, not the password"
"$Q" kill "$vm" >/dev/null

vmfile "{ \"vnc\": \":$disp\", \"password_file\": \"vnc.pass\", \"password_valid_for\": 1 }"
"$Q" start "$T/vm.json" >/dev/null; tap_ok $? "start with password_valid_for 1"
sleep 2 # past the expiry: however slow this host, the password has expired by now
python3 "$T/rfb.py" 127.0.0.1 $((5900 + disp)) Sekr1t; tap_is $? 1 "after password_valid_for the password no longer works"
"$Q" kill "$vm" >/dev/null

printf '123456789\n' >"$T/long.pass"
vmfile "{ \"vnc\": \":$disp\", \"password_file\": \"long.pass\" }"
out=$("$Q" validate "$T/vm.json" 2>&1); rc=$?
case $out in *"display.password_file: password file $T/long.pass: the password has 9 characters; VNC's authentication uses at most 8"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "a 9-character password is refused at its place ($out)"
vmfile "{ \"vnc\": \":$disp\", \"password_file\": \"nonexistent.pass\" }"
out=$("$Q" start "$T/vm.json" 2>&1); rc=$?
case $out in *"display.password_file: password file $T/nonexistent.pass: No such file"*) r=0 ;; *) r=1 ;; esac
tap_ok $(( rc == 1 && r == 0 ? 0 : 1 )) "start refuses a missing password file, naming it ($out)"
tap_done
