/* The TAP side of tests/lib/fakeqmp.h, for the test programs (tap.h's
 * counters are each program's own, so these are inline). */
#pragma once
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fakeqmp.h"
#include "tests/tap.h"

/* One assertion: the fake peer saw exactly its script (what it saw instead
 * as a diagnostic). Frees f. */
static inline void fakeqmp_check(struct fakeqmp *f, const char *what)
{
        char *log = NULL;

        if (!ok(fakeqmp_finish(f, &log) == 0, "%s: the fake peer saw exactly its script", what))
                tap_diag("%s", log ? log : "");
        free(log);
        fakeqmp_free(f);
}

/* s contains sub; a diagnostic saying so when it does not (for ok()). */
static inline bool tap_contains(const char *s, const char *sub)
{
        bool r = s && strstr(s, sub);

        if (!r)
                tap_diag("\"%s\" does not contain \"%s\"", s ? s : "(null)", sub);
        return r;
}
