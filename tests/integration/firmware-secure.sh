#!/usr/bin/env bash
# "firmware": "uefi-secure": Secure Boot enforced by OVMF. Debian's ovmf
# ships a test key enrolled in a variable template (snakeoil: PK, KEK and db)
# and its private key, so this test signs the test guest's kernel itself and
# gives qemuctl a firmware descriptor for that template in a directory of its
# own (QEMUCTL_FIRMWARE_DIRS, ahead of /usr/share/qemu/firmware, as an admin's
# /etc/qemu/firmware would be). Then:
#  - the signed kernel boots to the ready line, and the guest's efivars say
#    SecureBoot = 1 (the kernel says "Secure boot enabled");
#  - from an EFI system partition (BOOTX64.EFI on a FAT disk), the unsigned
#    kernel is refused by the firmware ("Access Denied"), the signed one starts;
#  - Debian's own descriptor (Microsoft's keys) refuses Debian's kernel, which
#    only shim (signed by Microsoft) may start.
set -u
. "$QEMUCTL_SRCDIR/tests/guest/lib.sh"
. "$QEMUCTL_SRCDIR/tests/guest/lifecycle.sh"
guest_require
SNAKE_KEY=/usr/share/ovmf/PkKek-1-snakeoil.key SNAKE_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
SNAKE_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
for f in "$SNAKE_KEY" "$SNAKE_CERT" "$SNAKE_VARS" "$SB_CODE" /usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json; do
        [ -e "$f" ] || tap_skip_all "$f missing: install Debian's ovmf package"
done
for t in sbsign:sbsigntool sbattach:sbsigntool openssl:openssl mkfs.vfat:dosfstools mcopy:mtools mmd:mtools; do
        command -v "${t%%:*}" >/dev/null || tap_skip_all "${t%%:*} not found: install ${t#*:}"
done
lc_setup
export QEMUCTL_DATADIR=$LC_TMP/data
Q=$QEMUCTL
SBVAR=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c

# the kernel without Debian's signature, and signed with the snakeoil key
cp "$GUEST_DIR/vmlinuz" "$LC_TMP/debian.efi"
cp "$GUEST_DIR/vmlinuz" "$LC_TMP/unsigned.efi"
sbattach --remove "$LC_TMP/unsigned.efi" >/dev/null 2>&1 # fails when it had no signature: fine
openssl pkey -in "$SNAKE_KEY" -passin pass:snakeoil -out "$LC_TMP/snakeoil.key" 2>"$LC_TMP/openssl.err" ||
        { cat "$LC_TMP/openssl.err"; tap_ok 1 "decrypt the snakeoil key (Debian's README: password snakeoil)"; tap_done; }
sbsign --key "$LC_TMP/snakeoil.key" --cert "$SNAKE_CERT" --output "$LC_TMP/signed.efi" "$LC_TMP/unsigned.efi" \
        >/dev/null 2>&1; tap_ok $? "sign the kernel with the snakeoil key"

mkdir -p "$LC_TMP/fw"
cat >"$LC_TMP/fw/30-test-snakeoil.json" <<JSON
{
  "description": "OVMF with Secure Boot and SMM, Debian's snakeoil test key enrolled",
  "interface-types": ["uefi"],
  "mapping": { "device": "flash",
               "executable": { "filename": "$SB_CODE", "format": "raw" },
               "nvram-template": { "filename": "$SNAKE_VARS", "format": "raw" } },
  "targets": [ { "architecture": "x86_64", "machines": ["pc-q35-*"] } ],
  "features": ["enrolled-keys", "requires-smm", "secure-boot"],
  "tags": []
}
JSON
export QEMUCTL_FIRMWARE_DIRS=$LC_TMP/fw:/usr/share/qemu/firmware

# --- the signed kernel boots, and the guest sees Secure Boot on
f=$(lc_vmfile sb1 "" '"firmware": "uefi-secure",')
sed -i "s|\"kernel\": \"[^\"]*\"|\"kernel\": \"$LC_TMP/signed.efi\"|" "$f"
"$Q" cmdline "$f" >"$LC_TMP/argv"
grep -q "filename=$SB_CODE,read-only=on" "$LC_TMP/argv" && grep -q 'smm=on' "$LC_TMP/argv" &&
        grep -qx 'driver=cfi.pflash01,property=secure,value=on' "$LC_TMP/argv"
tap_ok $? "cmdline: the test descriptor's code, SMM on, the flash writable from SMM only"
out=$("$Q" start "$f" 2>&1); tap_ok $? "start ($out)"
"$Q" wait --for 'serial:qemuctl-guest: ready' --timeout 240 sb1; tap_ok $? "the signed kernel boots to the ready line"
tap_is "$(lc_ask sb1 sh "mount -t efivarfs efivarfs /sys/firmware/efi/efivars && od -An -tu1 $SBVAR | tr -s ' '")" \
        "rc=0  6 0 0 0 1" "the guest's efivars: SecureBoot = 1"
tap_is "$(lc_ask sb1 sh "dmesg | grep -o 'Secure boot enabled'")" "rc=0 Secure boot enabled" \
        "the guest kernel: Secure boot enabled"
"$Q" kill sb1 >/dev/null

# --- from an EFI system partition: unsigned refused, signed started
esp() { # NAME BINARY
        rm -f "$LC_TMP/$1.img"
        mkfs.vfat -C -n ESP "$LC_TMP/$1.img" 65536 >/dev/null && mmd -i "$LC_TMP/$1.img" ::/EFI ::/EFI/BOOT &&
                mcopy -i "$LC_TMP/$1.img" "$2" ::/EFI/BOOT/BOOTX64.EFI
}
espvm() { # NAME
        cat >"$LC_TMP/$1.json" <<JSON
{ "name": "$1", "accel": "tcg", "firmware": "uefi-secure",
  "cpu": { "mode": "custom", "model": "max", "vcpus": 1 }, "memory": { "size": "256M" },
  "disks": [ { "file": "$LC_TMP/$1.img", "format": "raw", "bus": "virtio" } ] }
JSON
        echo "$LC_TMP/$1.json"
}
esp esp-unsigned "$LC_TMP/unsigned.efi"; tap_ok $? "an ESP with the unsigned kernel as BOOTX64.EFI"
esp esp-signed "$LC_TMP/signed.efi"; tap_ok $? "an ESP with the signed one"
"$Q" start "$(espvm esp-unsigned)" >/dev/null; tap_ok $? "start from the unsigned ESP"
"$Q" wait --for 'serial:Access Denied' --timeout 240 esp-unsigned
tap_ok $? "the firmware refuses the unsigned binary (BdsDxe: failed to load ...: Access Denied)"
"$Q" kill esp-unsigned >/dev/null
grep -q 'EFI stub' "$QEMUCTL_RUNDIR/esp-unsigned/serial.log"; tap_is $? 1 "the unsigned kernel never ran"
"$Q" start "$(espvm esp-signed)" >/dev/null; tap_ok $? "start from the signed ESP"
"$Q" wait --for 'serial:EFI stub: UEFI Secure Boot is enabled' --timeout 240 esp-signed
tap_ok $? "the signed kernel is started, and finds Secure Boot on"
"$Q" kill esp-signed >/dev/null

# --- Debian's own Secure Boot firmware (Microsoft's keys): Debian's kernel is
# signed by Debian's CA, which only shim trusts: refused
unset QEMUCTL_FIRMWARE_DIRS
esp esp-ms "$LC_TMP/debian.efi"
"$Q" cmdline "$(espvm esp-ms)" | grep -q "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mapping"]["executable"]["filename"])' /usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json)"
tap_ok $? "without the test dir: Debian's enrolled descriptor"
"$Q" start "$LC_TMP/esp-ms.json" >/dev/null; tap_ok $? "start with Microsoft's keys"
"$Q" wait --for 'serial:Access Denied' --timeout 240 esp-ms
tap_ok $? "Debian's kernel (not signed by Microsoft) is refused"
"$Q" kill esp-ms >/dev/null
tap_done
