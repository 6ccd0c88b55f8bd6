/* One verb on many VMs at once (cli/each.c). */
#pragma once
#include <stddef.h>

#include "common/strv.h"

struct cli_each_result {
        size_t ok;
        strv failed_names; /* the ones that did not exit 0 (strv_done) */
};
/* Run VERB ARGS... NAME for every NAME of names (NULL-terminated), each in
 * a child of its own, at most parallel at once; print what each said, every
 * line as "NAME: line", as each ends; count which exited 0. Returns 0, or
 * an exit code (printed) when nothing could be run. */
int cli_each(const char *verb, char **names, char **args, unsigned parallel, struct cli_each_result *ret);

/* How many at once unless --parallel says. Starting is CPU work on the
 * host; stopping is mostly waiting for guests to power off. */
#define CLI_START_PARALLEL 4
#define CLI_STOP_PARALLEL 16
