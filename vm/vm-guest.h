/* A guest's question channel: a serial line whose chardev is a unix socket
 * (server) and whose guest side answers one line per question line, as the
 * test guest does on ttyS1 ("cpus" -> "cpus-online 3"; a question that
 * starts with a tag "#ID " gets an answer with the same tag). Used by
 * `setvcpus --guest-online`. */
#pragma once
#include "../common/err.h"

/* Ask `question` until the answer "<key> N" says N == want or timeout_ms
 * passes (ETIMEDOUT, with the last N in *ret_got). */
int vm_guest_wait_number(const char *sock_path, const char *question, const char *key, long long want,
                         int timeout_ms, long long *ret_got, struct qc_err *err);
