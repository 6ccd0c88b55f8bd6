/* What the verbs share about definitions (cli/defs.c). */
#pragma once
#include <stdbool.h>

/* The VM file a start/run/cmdline argument means, malloc'd: ARG itself
 * when it has a / in it or ends in .json (a file), else the definition
 * of VM ARG, else a file ARG in the current directory. 0, or an exit code
 * (printed): neither a definition nor a file. */
int cli_vm_file(const char *verb, const char *arg, char **ret_file);
struct qc_err;
/* Whether NAME has a state dir (1) or not (0), and whether its QEMU runs;
 * -1 with err when the state dir cannot be read (not ours alone, a bad
 * name). */
int cli_vm_state(const char *name, bool *ret_running, struct qc_err *err);
