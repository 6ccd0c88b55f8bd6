/* QMP client library. Stands on its own: links with common/ and json-c only.
 *
 * Layer 1 (qmp.c): transport — connect, greeting, qmp_capabilities, CRLF
 * framing, numeric ids matched on replies, timeouts, an event queue.
 * Layer 2 (qmp-*.c): one small function per QMP command with typed results. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../common/cleanup.h"
#include "../common/err.h"

#define QMP_DEFAULT_TIMEOUT_MS 10000
#define QMP_MAX_LINE (16u << 20) /* a reply longer than this is an error */
/* Events queued while the caller waits for something else (a reply, another
 * event): past either bound the wait fails with ENOBUFS. A peer sending 1,000
 * events of 1 MiB must not cost us a GiB. */
#define QMP_MAX_QUEUED_EVENTS 16384
#define QMP_MAX_QUEUED_BYTES (8u << 20)

struct qmp;

struct qmp_version {
        int major, minor, micro;
        char *package; /* e.g. "Debian 1:7.2+dfsg-7+deb12u18" */
};

/* Connect to a unix socket, read the greeting, negotiate capabilities.
 * timeout_ms bounds the greeting and becomes the per-command timeout. */
int qmp_connect(const char *path, int timeout_ms, struct qmp **ret, struct qc_err *err);
/* Same over an already-connected fd (taken over: closed by qmp_free). */
int qmp_open_fd(int fd, int timeout_ms, struct qmp **ret, struct qc_err *err);
void qmp_free(struct qmp *q);
int qmp_fd(const struct qmp *q);
/* Timeout of each command (ms; negative = wait forever). */
void qmp_set_timeout(struct qmp *q, int timeout_ms);
int qmp_get_timeout(const struct qmp *q);
const struct qmp_version *qmp_greeting_version(const struct qmp *q);
/* Capabilities offered in the greeting (e.g. "oob"), NULL-terminated. */
char *const *qmp_greeting_capabilities(const struct qmp *q);
bool qmp_version_at_least(const struct qmp *q, int major, int minor);

/* Execute cmd with args (taken; may be NULL). On success *ret (if non-NULL)
 * gets the "return" value (caller puts it). A QMP error reply becomes
 * -1 with err: "device_add: <class>: <desc>", err->code by class:
 * CommandNotFound EOPNOTSUPP, DeviceNotFound ENODEV, DeviceNotActive ENXIO,
 * KVMMissingCap ENOSYS, anything else EIO. Transport failures: ETIMEDOUT (no
 * reply within the timeout; a late reply is discarded later), ECONNRESET
 * (peer closed), EPROTO (garbage, wrong id), EMSGSIZE (line > QMP_MAX_LINE),
 * ENOBUFS (the event queue is full: see below).
 * Events that arrive meanwhile are queued, at most QMP_MAX_QUEUED_EVENTS of
 * them and QMP_MAX_QUEUED_BYTES of JSON text in all: an event past that is
 * dropped and the wait fails with ENOBUFS (a late reply to that command is
 * discarded). The queued events stay; read them and go on. */
int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret, struct qc_err *err);
/* The same, with fd passed along (SCM_RIGHTS on the command's first byte;
 * a unix socket only: ENOTSOCK otherwise): getfd, add-fd. fd stays ours. */
int qmp_execute_fd(struct qmp *q, const char *cmd, json_object *args, int fd, json_object **ret,
                   struct qc_err *err);
/* Raw: a whole command object in ({"execute":..., "arguments":...}; taken;
 * any "id" in it is replaced by the connection's own), the whole reply
 * object out ({"return":...} or {"error":...}); an error reply is not a
 * failure here. */
int qmp_execute_raw(struct qmp *q, json_object *cmd, json_object **ret_reply, struct qc_err *err);

/* Events. match may be NULL (any event of that name); name NULL = any event.
 * The queue is checked first; events of other names stay queued. *ret gets
 * the whole event object ({"event":..., "data":..., "timestamp":...}).
 * Returns 0, or -1 with err->code ETIMEDOUT when none came in time (ENOBUFS:
 * the queue is full). */
typedef bool (*qmp_event_match_fn)(json_object *event, void *userdata);
int qmp_wait_event(struct qmp *q, const char *name, qmp_event_match_fn match, void *userdata, int timeout_ms,
                   json_object **ret, struct qc_err *err);
/* Pop the oldest queued event without blocking (NULL if none). */
json_object *qmp_next_event(struct qmp *q);
/* Read whatever is available within timeout_ms into the event queue; returns
 * as soon as at least one event arrived. Returns 0 (maybe with nothing new),
 * 1 when it stopped with the queue half full and more already received (read
 * the queue and call again: poll(2) on qmp_fd() will not say so), or -1 with
 * err (peer closed: err->code ECONNRESET; the queue is full: ENOBUFS). */
int qmp_poll_events(struct qmp *q, int timeout_ms, struct qc_err *err);
size_t qmp_events_queued(const struct qmp *q);
/* Bytes of JSON text of the events queued. */
size_t qmp_events_queued_bytes(const struct qmp *q);

/* Typed access to what a peer sent (replies and events): a peer may send any
 * member with any type, or null. Each getter returns the member only when it
 * has the type asked for, else NULL or the fallback; obj may be NULL or of
 * any type. Never json_object_get_string() & co. on a member these did not
 * hand out. */
json_object *qmp_member(json_object *obj, const char *key, json_type type);
const char *qmp_member_string(json_object *obj, const char *key);
bool qmp_member_bool(json_object *obj, const char *key, bool fallback);
int64_t qmp_member_int(json_object *obj, const char *key, int64_t fallback);
/* An event's name (NULL unless a string) and its "data" (NULL unless an object). */
const char *qmp_event_name(json_object *ev);
json_object *qmp_event_data(json_object *ev);

static inline void qmp_freep(struct qmp **q)
{
        qmp_free(*q);
}
static inline void json_putp(json_object **o)
{
        json_object_put(*o);
}
#define _cleanup_qmp_ __attribute__((cleanup(qmp_freep)))
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* ---- Layer 2: commands (see qmp-commands.h for the full list) ---- */
#include "qmp-commands.h"

/* _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = NULL; and so on */
DEFINE_CLEANUP_FUNC(struct qmp_cpu_list *, qmp_cpu_list_free)
DEFINE_CLEANUP_FUNC(struct qmp_hotpluggable_cpu_list *, qmp_hotpluggable_cpu_list_free)
DEFINE_CLEANUP_FUNC(struct qmp_memory_device_list *, qmp_memory_device_list_free)
DEFINE_CLEANUP_FUNC(struct qmp_qom_prop_list *, qmp_qom_prop_list_free)
DEFINE_CLEANUP_FUNC(struct qmp_cpu_def_list *, qmp_cpu_def_list_free)
