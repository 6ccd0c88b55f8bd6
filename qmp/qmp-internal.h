/* Shared by the transport (qmp.c) and the command wrappers (qmp-*.c). */
#pragma once
#include <stdint.h>

#include "qmp-stream.h"
#include "qmp.h"

#define QMP_ABANDONED_MAX 16

struct qmp {
        int fd;
        int timeout_ms;
        struct qmp_stream in;
        int64_t next_id;
        struct qmp_version version;
        char **capabilities; /* from the greeting, NULL-terminated */
        /* event ring */
        struct qmp_queued {
                json_object *ev;
                size_t bytes; /* of its JSON text */
        } *events;
        size_t ev_head, ev_len, ev_cap;
        size_t queued_bytes;
        /* ids of commands we stopped waiting for (timeout); their late
         * replies are discarded instead of being taken for the next one's */
        int64_t abandoned[QMP_ABANDONED_MAX];
        size_t n_abandoned;
        bool closed;  /* peer sent EOF */
        /* an fd to send with the next command's first byte (SCM_RIGHTS;
         * qmp_execute_fd), or -1 = none; set only around one transact */
        int send_fd;
        char **commands; /* query-commands cache (qmp_has_command), sorted */
        size_t n_commands;
};

/* Helpers for the wrappers: typed getters that fail with a message naming
 * the command and the member. */
int qmp_get_member(json_object *obj, const char *cmd, const char *key, json_type type, bool optional,
                   json_object **ret, struct qc_err *err);
int qmp_expect_type(json_object *o, const char *cmd, json_type type, struct qc_err *err);

/* Shared by the QMP transport (qmp.c) and the guest agent's (qga.c). */
/* now + timeout_ms on CLOCK_MONOTONIC (ms), or -1 for none when negative. */
int64_t qmp_deadline_after(int timeout_ms);
/* Milliseconds left until deadline (-1 = none), clamped to 0. */
int qmp_remaining(int64_t deadline);
/* Write all of p to a non-blocking fd by the deadline (cmd and timeout_ms
 * name it in the message). ETIMEDOUT, EPIPE/ECONNRESET (peer gone). */
int qmp_send_all(int fd, const char *p, size_t len, int64_t deadline, int timeout_ms, const char *cmd,
                 struct qc_err *err);
/* Wait (by the deadline) until fd is readable and read one chunk into buf.
 * Returns 1 with *ret_n bytes (0: the peer closed, ECONNRESET included), 0
 * on timeout (err untouched), or -1 with err, poll's or read's errno; peer
 * ("qemu") and what complete "connection to PEER lost while waiting for
 * WHAT". EINTR and EAGAIN are retried. */
int qmp_recv_chunk(int fd, int64_t deadline, char *buf, size_t cap, size_t *ret_n, const char *peer,
                   const char *what, struct qc_err *err);
/* qmp_execute with args[key] = secret (a password): the secret never
 * enters a json-c object (json-c's serializer grows its buffer by realloc,
 * leaving copies in freed memory that nothing can wipe); it is written,
 * escaped as JSON, straight into the line sent, which is wiped once sent.
 * The caller wipes its own copy. */
int qmp_execute_secret(struct qmp *q, const char *cmd, json_object *args, const char *key, const char *secret,
                       json_object **ret, struct qc_err *err);
/* qmp_execute of cmd with the one argument {key: value}, the reply's
 * "return" unread: device_del, object-del, blockdev-del, migrate, ... */
int qmp_execute_str(struct qmp *q, const char *cmd, const char *key, const char *value, struct qc_err *err);
/* An {"error": {"class", "desc"}} reply as -1 with err "cmd: class: desc"
 * + note, err->code from the class (see qmp_execute). */
int qmp_reply_error(json_object *reply, const char *cmd, const char *note, struct qc_err *err);
