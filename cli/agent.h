/* What the verbs that talk to the guest agent share (cli/agent.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct qga;

/* exec's exit status besides the guest command's own (and 128 + N for a
 * command ended by signal N, as shells report it). */
#define EXEC_EXIT_TIMEOUT 124   /* --timeout: the guest process was killed */
#define EXEC_EXIT_FAIL 125      /* qemuctl or the agent failed */
#define EXEC_EXIT_CANNOT 126    /* the agent could not start the command */
#define EXEC_EXIT_INTERRUPT 130 /* SIGINT/SIGTERM: the guest process was killed */

/* The agent socket of VM name (vm_agent_socket: the supervisor's
 * agent.sock, or qga.sock without a supervisor), refusing a VM without "guest_agent": 0 or an
 * exit code (printed). */
int cli_agent_path(const char *verb, const char *name, char **ret_path);
/* Connect to VM name's agent, waiting up to wait_ms for it to answer. */
int cli_agent_open(const char *verb, const char *name, int wait_ms, struct qga **ret);
/* Run path with args in the guest, input on its stdin (NULL: empty), its
 * stdout and stderr to ours as they arrive; returns the exit status to
 * give (its own, 128 + signal, or EXEC_EXIT_*). timeout_ms 0 = none.
 * on_signals: SIGINT/SIGTERM kill the guest process (EXEC_EXIT_INTERRUPT). */
int cli_agent_exec(const char *verb, struct qga *g, const char *path, char *const *args, const void *input,
                   size_t input_len, int timeout_ms, bool on_signals);
/* All of stdin (not when a terminal, or no_stdin): 0, or an exit code. */
int cli_agent_read_stdin(const char *verb, bool no_stdin, char **ret, size_t *ret_len);
