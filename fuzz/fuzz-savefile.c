/* libFuzzer: a save file's footer and metadata (launcher/savefile.h) from
 * arbitrary bytes, as start --restore reads a file that may come from
 * anywhere. Every region the reader accepts must lie inside the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/savefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct savefile *sf, uint64_t limit)
{
        if (sf->stream_offset > limit || sf->stream_length > limit - sf->stream_offset || !sf->spec || !sf->name)
                abort();
        for (size_t i = 0; i < sf->n_disks; i++) {
                const struct savefile_disk *d = &sf->disks[i];
                if (!d->file || (d->captured && (d->offset > limit || d->length > limit - d->offset)))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct savefile sf = { 0 };
        uint64_t off, len;

        /* the input as a whole file: footer at its end, metadata before it */
        if (size >= SAVEFILE_FOOTER_LEN &&
            savefile_parse_footer((const char *)data + size - SAVEFILE_FOOTER_LEN, SAVEFILE_FOOTER_LEN, size, &off,
                                  &len, NULL) == 0) {
                if (off + len + SAVEFILE_FOOTER_LEN != size)
                        abort();
                if (savefile_parse_meta((const char *)data + off, len, off, &sf, NULL) == 0) {
                        check(&sf, off);
                        savefile_done(&sf);
                }
        }
        /* the input as metadata alone */
        if (savefile_parse_meta((const char *)data, size, 1u << 20, &sf, NULL) == 0) {
                check(&sf, 1u << 20);
                savefile_done(&sf);
        }
        return 0;
}
