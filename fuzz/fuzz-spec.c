/* libFuzzer: spec_parse on arbitrary bytes. A file that parses must
 * serialize with spec_to_json, parse again, and serialize to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL, *again = NULL;
        struct qc_err err = { 0 };
        char *j1, *j2;

        /* a relative directory exercises path resolution */
        if (spec_parse("fuzz/vm.json", (const char *)data, size, &s, &d, &err) < 0) {
                for (size_t i = 0; i < d.n; i++)
                        free(spec_diag_format("fuzz/vm.json", &d.v[i]));
                spec_diags_done(&d);
                return 0;
        }
        j1 = spec_to_json(s);
        if (!j1)
                abort();
        /* no directory: the resolved paths stay as they are */
        if (spec_parse("vm.json", j1, strlen(j1), &again, &d, &err) < 0)
                abort();
        j2 = spec_to_json(again);
        if (!j2 || strcmp(j1, j2) != 0)
                abort();
        free(j1);
        free(j2);
        spec_free(s);
        spec_free(again);
        spec_diags_done(&d);
        return 0;
}
