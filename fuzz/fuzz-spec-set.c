/* libFuzzer: --set changes (spec-set.c) and `info usernet` (ports.c) on
 * arbitrary bytes. Each input line is one KEY.PATH=VALUE (or !KEY.PATH, an
 * --unset) applied to a VM
 * file with lists, a free-form object and forwards; a result that parses
 * must serialize, parse again and serialize to the same text. The same
 * bytes are read as QEMU's `info usernet` against the file's forwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/ports.h"
#include "launcher/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
        "{ \"name\": \"f\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 1, \"max\": 2, \"pin\": { \"0\": \"0\" } },\n"
        "  \"memory\": { \"size\": \"512M\", \"balloon\": false },\n"
        "  \"disks\": [ { \"file\": \"d-{name}.qcow2\", \"format\": \"qcow2\" } ],\n"
        "  \"net\": [ { \"type\": \"user\", \"forward\": [\"tcp:0:22\", \"udp:127.0.0.1:0:53\", \"tcp:2222:80\"] } ] }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_overrides ov = { 0 };
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL, *again = NULL, *plain = NULL;
        struct vm_ports ports = { 0 };
        struct qc_err err = { 0 };
        char *text = malloc(size + 1), *line, *save = NULL, *j1, *j2;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (spec_parse("vm.json", base, strlen(base), &plain, &d, &err) < 0)
                abort();
        (void)vm_ports_resolve(plain, text, &ports, &err);
        vm_ports_done(&ports);
        spec_free(plain);

        for (line = strtok_r(text, "\n", &save); line && ov.n < 16; line = strtok_r(NULL, "\n", &save))
                (void)(line[0] == '!' ? spec_overrides_add_unset(&ov, line + 1, &err)
                                      : spec_overrides_add_set(&ov, line, &err));
        if (spec_parse_with("fuzz/vm.json", base, strlen(base), &ov, &s, &d, &err) < 0) {
                for (size_t i = 0; i < d.n; i++)
                        free(spec_diag_format("fuzz/vm.json", &d.v[i]));
        } else {
                j1 = spec_to_json(s);
                if (!j1 || spec_parse("vm.json", j1, strlen(j1), &again, &d, &err) < 0)
                        abort();
                j2 = spec_to_json(again);
                if (!j2 || strcmp(j1, j2) != 0)
                        abort();
                free(j1);
                free(j2);
        }
        spec_free(s);
        spec_free(again);
        spec_diags_done(&d);
        spec_overrides_done(&ov);
        free(text);
        return 0;
}
