/* struct vm_spec -> VM file JSON that spec_parse reads back to the same
 * struct (the effective spec in the state dir; `qemuctl dump`), written
 * from the key table (spec-walk.c). */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "spec-keys.h"

DEFINE_CLEANUP_FUNC(json_object *, json_object_put);

char *spec_to_json(const struct vm_spec *s)
{
        _cleanup_(json_object_putp) json_object *o = NULL;

        if (spec_dump_object(s, "", s, &o) < 0 || !o)
                return NULL;
        return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
}
