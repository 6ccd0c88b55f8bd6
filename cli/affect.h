/* --live, --config, --current on the live verbs (cli/affect.c; docs/host.md). */
#pragma once
#include <stdbool.h>

#include "launcher/defs.h"

/* What a live verb on VM NAME changes, from the options given
 * (cli_opts.affect), as virsh decides it: none or --current: the running
 * VM when it runs, else its definition; --current with --live or --config:
 * a usage error; --live on a VM that does not run and --config on one that
 * has no definition (transient): refused, saying why and what to do; a
 * query (query: nothing to change) takes one of them. Returns 0 with *ret
 * (CLI_AFFECT_LIVE and/or CLI_AFFECT_CONFIG), else an exit status (> 0, printed). */
int cli_affect_resolve(const char *verb, const char *name, unsigned given, bool query, unsigned *ret);
/* NAME's definition for a --config query: 0 with *ret, else an exit status
 * (> 0, printed, with every problem at its place). */
int cli_config_load(const char *verb, const char *name, struct vm_spec **ret);
/* Change NAME's definition (defs_update): 0 when written, else an exit status
 * (printed: the change's own refusal, or the key table's problems with the
 * result at their place in the definition). */
int cli_config_update(const char *verb, const char *name, defs_change_fn change, void *userdata);
