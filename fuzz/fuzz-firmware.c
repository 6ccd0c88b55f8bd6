/* libFuzzer: QEMU firmware descriptors (launcher/firmware.c), JSON files
 * read from /usr/share/qemu/firmware, /etc/qemu/firmware and the user's
 * config dir, written by packages and admins, never by us. The property: any
 * bytes either parse into a descriptor whose paths (when usable) are
 * absolute and whose flags say what its features list says, or are refused
 * with a message naming the file; choosing among one never crashes and
 * picks only a descriptor that fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"
#include "launcher/firmware.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fw_desc d = { 0 };
        struct qc_err err = { 0 };
        char *text = malloc(size + 1);

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (fw_desc_parse("fuzz.json", text, size, &d, &err) < 0) {
                if (!strstr(err.msg, "fuzz.json"))
                        abort(); /* a refusal names the file */
                free(text);
                return 0;
        }
        if (!d.features || !d.file)
                abort();
        if (!d.unusable && (!d.code || d.code[0] != '/' || !d.vars || d.vars[0] != '/' || !d.machines))
                abort();
        if (!!(d.flags & FW_SECURE_BOOT) != strv_contains(d.features, "secure-boot") ||
            !!(d.flags & FW_ENROLLED_KEYS) != strv_contains(d.features, "enrolled-keys") ||
            !!(d.flags & FW_REQUIRES_SMM) != strv_contains(d.features, "requires-smm"))
                abort();
        for (int want = VM_FIRMWARE_UEFI; want <= VM_FIRMWARE_UEFI_SECURE; want++)
                for (int m = 0; m < _VM_MACHINE_MAX; m++) {
                        struct fw_list l = { .v = &d, .n = 1 };
                        const struct fw_desc *got = NULL;
                        char *dirs[] = { "/fuzz", NULL };

                        if (fw_select(&l, want, m, dirs, &got, &err) == 0 &&
                            (got != &d || d.unusable || !d.uefi || !fw_desc_takes_machine(&d, m)))
                                abort();
                }
        fw_desc_done(&d);
        free(text);
        return 0;
}
