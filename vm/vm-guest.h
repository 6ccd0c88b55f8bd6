/* A guest's question channel: a serial line whose chardev is a unix socket
 * (server) and whose guest side answers one line per question line, as the
 * test guest does on ttyS1 ("cpus" -> "cpus-online 3"; a question that
 * starts with a tag "#ID " gets an answer with the same tag). Used by
 * `setvcpus --guest-online` and by the tests. */
#pragma once
#include "../common/err.h"

/* Connect (retrying while the socket does not exist or refuses, until
 * timeout_ms), send one question line, and return its one-line answer (tag
 * stripped) in *ret_answer (malloc'd). */
int vm_guest_ask(const char *sock_path, const char *question, int timeout_ms, char **ret_answer,
                 struct qc_err *err);
/* vm_guest_ask, then parse "<key> <number>" (e.g. "cpus-online 3"). */
int vm_guest_ask_number(const char *sock_path, const char *question, const char *key, int timeout_ms,
                        long long *ret, struct qc_err *err);
/* Ask `question` until the answer "<key> N" says N == want or timeout_ms
 * passes (ETIMEDOUT, with the last N in *ret_got). */
int vm_guest_wait_number(const char *sock_path, const char *question, const char *key, long long want,
                         int timeout_ms, long long *ret_got, struct qc_err *err);
