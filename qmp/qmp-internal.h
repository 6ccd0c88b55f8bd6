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
        char **commands; /* query-commands cache (qmp_has_command), sorted */
        size_t n_commands;
};

/* Helpers for the wrappers: typed getters that fail with a message naming
 * the command and the member. */
int qmp_get_member(json_object *obj, const char *cmd, const char *key, json_type type, bool optional,
                   json_object **ret, struct qc_err *err);
int qmp_expect_type(json_object *o, const char *cmd, json_type type, struct qc_err *err);
