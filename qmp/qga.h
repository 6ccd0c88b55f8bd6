/* The QEMU guest agent's protocol (qemu-ga over the virtio-serial port
 * org.qemu.guest_agent.0). A sibling of the QMP client: links with common/
 * and json-c only, prints nothing.
 *
 * The agent differs from QMP: no greeting and no capabilities, no ids the
 * client can count on, and one agent behind a port that clients take turns
 * on, so whatever a previous client (or our own timed-out command) left
 * unanswered may still come out of the socket. The remedy is the agent's
 * guest-sync-delimited: the client sends a 0xFF byte (the agent drops what
 * it had half read), then the command with a random id; the agent answers
 * with a 0xFF byte and {"return": id}. Everything before that reply is
 * stale. qga does this at connect and before the next command after any
 * timeout or garbled reply.
 *
 * Every function returns 0 on success, -1 with err on failure: ETIMEDOUT
 * (no reply in time; the connection resyncs before its next command),
 * ECONNRESET (the agent or QEMU closed the socket), EPROTO (not the agent's
 * protocol), or the agent's own error ("guest-exec: GenericError: ...";
 * CommandNotFound is EOPNOTSUPP, anything else EIO). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../common/err.h"

#define QGA_DEFAULT_TIMEOUT_MS 10000

struct qga;

/* Connect to the agent's chardev socket and sync. QEMU serves one client
 * at a time there: another client's connection leaves this one unanswered,
 * which shows as ETIMEDOUT. */
int qga_connect(const char *path, int timeout_ms, struct qga **ret, struct qc_err *err);
/* Wait up to timeout_ms for an agent that answers on path: retried while the
 * socket is not there yet or refuses (QEMU not up), and while the sync goes
 * unanswered (the guest still boots; each sync waits at most try_ms, on the
 * same connection: the agent answers the last one when it starts). On
 * success the connection's command timeout is cmd_timeout_ms. ETIMEDOUT
 * when none answered in time. */
int qga_connect_wait(const char *path, int timeout_ms, int try_ms, int cmd_timeout_ms, struct qga **ret,
                     struct qc_err *err);
/* Same over a connected fd (taken over: closed by qga_free). */
int qga_open_fd(int fd, int timeout_ms, struct qga **ret, struct qc_err *err);
void qga_free(struct qga *g);
int qga_fd(const struct qga *g);
/* Timeout of each command (ms; negative = wait forever). */
void qga_set_timeout(struct qga *g, int timeout_ms);
/* guest-sync-delimited: skip everything up to the reply to a fresh id. */
int qga_sync(struct qga *g, struct qc_err *err);

/* Execute cmd with args (taken; may be NULL); *ret (if non-NULL) gets the
 * "return" value (caller puts it). */
int qga_execute(struct qga *g, const char *cmd, json_object *args, json_object **ret, struct qc_err *err);

int qga_ping(struct qga *g, struct qc_err *err);
/* guest-info's version, malloc'd ("7.2.19"). */
int qga_info_version(struct qga *g, char **ret, struct qc_err *err);

/* guest-exec: run path with argv (NULL-terminated, argv[0] not included:
 * the agent passes path as argv[0]; may be NULL), env ("K=V", NULL-terminated;
 * NULL keeps the agent's), input (fed to stdin, then closed; NULL = none),
 * output captured when capture. *ret_pid is the guest process id. */
int qga_exec(struct qga *g, const char *path, char *const *argv, char *const *env, const void *input,
             size_t input_len, bool capture, int64_t *ret_pid, struct qc_err *err);

struct qga_exec_status {
        bool exited;
        int exitcode;                   /* when exited and not signalled; -1 otherwise */
        int signal;                     /* the signal that ended it, 0 when none */
        unsigned char *out, *errout;    /* decoded bytes (NUL-terminated), NULL when none */
        size_t out_len, err_len;
        bool out_truncated, err_truncated;
};
void qga_exec_status_done(struct qga_exec_status *s);
/* guest-exec-status. Once it says exited, the agent forgets the process. */
int qga_exec_status(struct qga *g, int64_t pid, struct qga_exec_status *ret, struct qc_err *err);

/* guest-file-*: a handle to a guest file opened in mode ("r", "w", ...). */
int qga_file_open(struct qga *g, const char *path, const char *mode, int64_t *ret_handle, struct qc_err *err);
/* Read up to count bytes: *ret (malloc'd), *ret_len, *ret_eof. */
int qga_file_read(struct qga *g, int64_t handle, size_t count, unsigned char **ret, size_t *ret_len, bool *ret_eof,
                  struct qc_err *err);
/* Write len bytes; *ret_written (may be NULL) gets what the agent wrote. */
int qga_file_write(struct qga *g, int64_t handle, const void *data, size_t len, size_t *ret_written,
                   struct qc_err *err);
int qga_file_close(struct qga *g, int64_t handle, struct qc_err *err);

/* guest-shutdown (mode "powerdown", "halt", "reboot"; NULL = powerdown).
 * The agent answers only when it fails, so this sends a guest-sync-delimited
 * behind it: 1 = the agent took it (the sync came back, or the socket
 * closed as the guest went down), 0 = no word within the timeout (it may
 * still be going down; the connection resyncs before its next command),
 * -1 with err when the agent refused (its error reply). */
int qga_shutdown(struct qga *g, const char *mode, struct qc_err *err);

static inline void qga_freep(struct qga **g)
{
        qga_free(*g);
}
#define _cleanup_qga_ __attribute__((cleanup(qga_freep)))
