/* QMP transport: connect, greeting, capabilities, CRLF framing (qmp-stream),
 * numeric ids matched on replies, deadlines on every wait, an event queue. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "qmp-internal.h"

#define READ_CHUNK 65536

/* ---- deadlines ---- */

int64_t qmp_deadline_after(int timeout_ms)
{
        return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int qmp_remaining(int64_t deadline)
{
        int64_t left;

        if (deadline < 0)
                return -1;
        left = deadline - now_ms();
        if (left <= 0)
                return 0;
        return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* ---- event queue ---- */

/* Queue ev (taken), whose JSON text was bytes long. Past the bounds (with
 * anything queued at all) the event is dropped and the wait fails with ENOBUFS: the caller learns that
 * nobody read the events, and nothing grows without bound. what completes
 * "while waiting for ...". */
static int queue_event(struct qmp *q, json_object *ev, size_t bytes, const char *what, struct qc_err *err)
{
        /* one event is always taken (it is within QMP_MAX_LINE) */
        if (q->ev_len > 0 &&
            (q->ev_len >= QMP_MAX_QUEUED_EVENTS || bytes > QMP_MAX_QUEUED_BYTES - q->queued_bytes)) {
                json_object_put(ev);
                return qc_err_set(err, ENOBUFS,
                                  "event queue full (%zu events, %zu bytes queued; at most %u events, %u "
                                  "bytes) while waiting for %s: the peer sends events faster than they are read",
                                  q->ev_len, q->queued_bytes, QMP_MAX_QUEUED_EVENTS, QMP_MAX_QUEUED_BYTES, what);
        }
        if (q->ev_len == q->ev_cap) {
                size_t ncap = q->ev_cap ? q->ev_cap * 2 : 16;
                struct qmp_queued *nv = malloc(ncap * sizeof *nv);

                if (!nv) {
                        json_object_put(ev);
                        return qc_err_set(err, ENOMEM, "out of memory queueing an event");
                }
                for (size_t i = 0; i < q->ev_len; i++)
                        nv[i] = q->events[(q->ev_head + i) % q->ev_cap];
                free(q->events);
                q->events = nv;
                q->ev_cap = ncap;
                q->ev_head = 0;
        }
        q->events[(q->ev_head + q->ev_len) % q->ev_cap] = (struct qmp_queued){ .ev = ev, .bytes = bytes };
        q->ev_len++;
        q->queued_bytes += bytes;
        return 0;
}

/* Remove the i-th queued event (0 = oldest) and return it. */
static json_object *unqueue_event(struct qmp *q, size_t i)
{
        struct qmp_queued e = q->events[(q->ev_head + i) % q->ev_cap];

        for (size_t k = i; k > 0; k--)
                q->events[(q->ev_head + k) % q->ev_cap] = q->events[(q->ev_head + k - 1) % q->ev_cap];
        q->ev_head = (q->ev_head + 1) % q->ev_cap;
        q->ev_len--;
        q->queued_bytes -= e.bytes;
        return e.ev;
}

json_object *qmp_next_event(struct qmp *q)
{
        if (q->ev_len == 0)
                return NULL;
        return unqueue_event(q, 0);
}

size_t qmp_events_queued(const struct qmp *q)
{
        return q->ev_len;
}

size_t qmp_events_queued_bytes(const struct qmp *q)
{
        return q->queued_bytes;
}

/* ---- reading and writing ---- */

int qmp_recv_chunk(int fd, int64_t deadline, char *buf, size_t cap, size_t *ret_n, const char *peer,
                   const char *what, struct qc_err *err)
{
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t n;
                int r;

                r = poll(&pfd, 1, qmp_remaining(deadline));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return qc_err_sys(err, errno, "poll while waiting for %s", what);
                }
                if (r == 0)
                        return 0;
                n = read(fd, buf, cap);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        if (errno != ECONNRESET)
                                return qc_err_sys(err, errno, "connection to %s lost while waiting for %s", peer,
                                                  what);
                        n = 0;
                }
                *ret_n = (size_t)n;
                return 1;
        }
}

/* One message within the deadline. Returns 1 with *ret, 0 on timeout (err
 * untouched), -1 with err. what completes "while waiting for ...". */
static int read_msg(struct qmp *q, int64_t deadline, const char *what, json_object **ret, struct qc_err *err)
{
        char buf[READ_CHUNK];

        for (;;) {
                size_t n;
                int r;

                r = qmp_stream_pop(&q->in, ret, err);
                if (r != 0)
                        return r;
                if (q->closed)
                        return qc_err_set(err, ECONNRESET, "qemu closed the connection%s while waiting for %s",
                                          qmp_stream_pending(&q->in) ? " in the middle of a message" : "",
                                          what);
                r = qmp_recv_chunk(q->fd, deadline, buf, sizeof buf, &n, "qemu", what, err);
                if (r <= 0)
                        return r;
                if (n == 0)
                        q->closed = true;
                else if (qmp_stream_push(&q->in, buf, n, err) < 0)
                        return qc_err_wrap(err, "while waiting for %s", what), -1;
        }
}

int qmp_send_all(int fd, const char *p, size_t len, int64_t deadline, int timeout_ms, const char *cmd,
                 struct qc_err *err)
{
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == ENOTSOCK)
                        n = write(fd, p, len);
                if (n < 0) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                        int r;

                        if (errno == EINTR)
                                continue;
                        if (errno == EPIPE || errno == ECONNRESET)
                                return qc_err_set(err, errno, "qemu closed the connection before %s was sent",
                                                  cmd);
                        if (errno != EAGAIN)
                                return qc_err_sys(err, errno, "send %s", cmd);
                        r = poll(&pfd, 1, qmp_remaining(deadline));
                        if (r == 0)
                                return qc_err_set(err, ETIMEDOUT, "could not send %s within %d ms", cmd,
                                                  timeout_ms);
                        continue;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static bool take_abandoned(struct qmp *q, int64_t id)
{
        for (size_t i = 0; i < q->n_abandoned; i++)
                if (q->abandoned[i] == id) {
                        q->abandoned[i] = q->abandoned[--q->n_abandoned];
                        return true;
                }
        return false;
}

static void abandon(struct qmp *q, int64_t id)
{
        if (q->n_abandoned == QMP_ABANDONED_MAX)
                memmove(q->abandoned, q->abandoned + 1, (QMP_ABANDONED_MAX - 1) * sizeof q->abandoned[0]);
        else
                q->n_abandoned++;
        q->abandoned[q->n_abandoned - 1] = id;
}

/* QMP error classes that callers branch on, as errno values. */
static int class_errno(const char *cls)
{
        if (strcmp(cls, "CommandNotFound") == 0)
                return EOPNOTSUPP;
        if (strcmp(cls, "DeviceNotFound") == 0)
                return ENODEV;
        if (strcmp(cls, "DeviceNotActive") == 0)
                return ENXIO;
        if (strcmp(cls, "KVMMissingCap") == 0)
                return ENOSYS;
        return EIO;
}

int qmp_reply_error(json_object *reply, const char *cmd, const char *note, struct qc_err *err)
{
        json_object *e, *cls = NULL, *desc = NULL;
        const char *c = "Error", *d = "(no description)";

        if (json_object_object_get_ex(reply, "error", &e) && json_object_is_type(e, json_type_object)) {
                if (json_object_object_get_ex(e, "class", &cls) && json_object_is_type(cls, json_type_string))
                        c = json_object_get_string(cls);
                if (json_object_object_get_ex(e, "desc", &desc) && json_object_is_type(desc, json_type_string))
                        d = json_object_get_string(desc);
        }
        return qc_err_set(err, class_errno(c), "%s: %s: %s%s", cmd, c, d, note);
}

/* The command's first byte with fd attached (SCM_RIGHTS): QEMU takes the
 * fd with the bytes it arrived with (getfd, add-fd). */
static int send_with_fd(struct qmp *q, const char *line, int fd, int64_t deadline, const char *name,
                        struct qc_err *err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = (void *)line, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        struct cmsghdr *c;

        memset(&u, 0, sizeof u);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        for (;;) {
                struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
                ssize_t n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);

                if (n == 1)
                        return 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOTSOCK)
                        return qc_err_set(err, ENOTSOCK, "%s: an fd can be passed only over a unix socket", name);
                if (n < 0 && errno != EAGAIN)
                        return qc_err_sys(err, errno, "send %s with its fd", name);
                if (poll(&pfd, 1, qmp_remaining(deadline)) == 0)
                        return qc_err_set(err, ETIMEDOUT, "could not send %s within %d ms", name, q->timeout_ms);
        }
}

/* Where a secret goes in a command's JSON text: the command is serialized
 * with this string in its place, and the line sent gets the secret there. */
#define SECRET_PLACEHOLDER "\"@qemuctl-secret@\""

/* s as the body of a JSON string (what json-c writes: quotes, backslashes
 * and control characters escaped, other bytes as they are) into out, which
 * may be NULL to count; returns its length. Byte by byte into the caller's
 * buffer, so that no other copy of s is made. */
static size_t json_escape_secret(char *out, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        if (out) {
                                out[n] = '\\';
                                out[n + 1] = (char)*p;
                        }
                        n += 2;
                } else if (*p < 0x20) {
                        if (out) {
                                memcpy(out + n, "\\u00", 4);
                                out[n + 4] = hex[*p >> 4];
                                out[n + 5] = hex[*p & 15];
                        }
                        n += 6;
                } else {
                        if (out)
                                out[n] = (char)*p;
                        n++;
                }
        }
        return n;
}

/* The line to send for the JSON text s (CRLF-terminated, malloc'd; *ret_len
 * without the CRLF), with secret (may be NULL) as a JSON string where s has
 * SECRET_PLACEHOLDER. */
static char *make_line(const char *s, const char *secret, size_t *ret_len)
{
        const char *at = secret ? strstr(s, SECRET_PLACEHOLDER) : NULL;
        size_t len = strlen(s), head, tail, body;
        char *line;

        if (secret && !at)
                return NULL;
        head = at ? (size_t)(at - s) + 1 : len; /* up to the opening quote */
        tail = at ? len - head - (sizeof SECRET_PLACEHOLDER - 3) : 0; /* from the closing quote */
        body = at ? json_escape_secret(NULL, secret) : 0;
        line = malloc(head + body + tail + 3);
        if (!line)
                return NULL;
        memcpy(line, s, head);
        if (at) {
                json_escape_secret(line + head, secret);
                memcpy(line + head + body, at + sizeof SECRET_PLACEHOLDER - 2, tail);
        }
        memcpy(line + head + body + tail, "\r\n", 3);
        *ret_len = head + body + tail;
        return line;
}

/* Send cmd (an object with "execute") with a fresh id and wait for its reply.
 * Events met on the way are queued. secret (may be NULL): the string that
 * goes where cmd has SECRET_PLACEHOLDER; the line that held it is wiped
 * once sent. */
static int transact(struct qmp *q, json_object *cmd, const char *name, const char *secret, json_object **ret_reply,
                    struct qc_err *err)
{
        _cleanup_free_ char *line = NULL;
        char what[256];
        int64_t id = ++q->next_id, deadline = qmp_deadline_after(q->timeout_ms);
        size_t len = 0;
        int sent;

        json_object_object_add(cmd, "id", json_object_new_int64(id));
        line = make_line(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                         secret, &len);
        if (!line)
                return qc_err_set(err, ENOMEM, "%s: out of memory", name);
        if (q->send_fd >= 0)
                sent = send_with_fd(q, line, q->send_fd, deadline, name, err) < 0 ||
                                       qmp_send_all(q->fd, line + 1, len + 1, deadline, q->timeout_ms, name, err) < 0
                               ? -1
                               : 0;
        else
                sent = qmp_send_all(q->fd, line, len + 2, deadline, q->timeout_ms, name, err);
        if (secret)
                explicit_bzero(line, len + 2);
        if (sent < 0)
                return -1;
        snprintf(what, sizeof what, "the reply to %s", name);
        for (;;) {
                _cleanup_json_ json_object *msg = NULL;
                json_object *rid;
                int r = read_msg(q, deadline, what, &msg, err);

                if (r < 0)
                        return -1;
                if (r == 0) {
                        abandon(q, id);
                        return qc_err_set(err, ETIMEDOUT, "no reply to %s within %d ms", name, q->timeout_ms);
                }
                if (qmp_event_name(msg)) {
                        if (queue_event(q, TAKE_PTR(msg), q->in.last_len, what, err) < 0) {
                                abandon(q, id);
                                return -1;
                        }
                        continue;
                }
                if (!json_object_object_get_ex(msg, "id", &rid)) {
                        if (json_object_object_get_ex(msg, "error", NULL))
                                /* QEMU answers without an id when it could not
                                 * even parse the command */
                                return qmp_reply_error(msg, name, " (error without id: qemu could not read the command)",
                                                       err);
                        if (json_object_object_get_ex(msg, "QMP", NULL))
                                return qc_err_set(err, EPROTO, "unexpected greeting while waiting for %s",
                                                  what);
                        return qc_err_set(err, EPROTO, "reply without id while waiting for %s", what);
                }
                if (!json_object_is_type(rid, json_type_int) || json_object_get_int64(rid) != id) {
                        if (json_object_is_type(rid, json_type_int) && take_abandoned(q, json_object_get_int64(rid)))
                                continue; /* the late reply to a command that timed out */
                        return qc_err_set(err, EPROTO, "reply id %s does not match command id %lld (%s)",
                                          json_object_to_json_string_ext(rid, JSON_C_TO_STRING_PLAIN),
                                          (long long)id, name);
                }
                if (!json_object_object_get_ex(msg, "return", NULL) && !json_object_object_get_ex(msg, "error", NULL))
                        return qc_err_set(err, EPROTO, "%s: reply has neither \"return\" nor \"error\"", name);
                *ret_reply = TAKE_PTR(msg);
                return 0;
        }
}

int qmp_execute_raw(struct qmp *q, json_object *cmd, json_object **ret_reply, struct qc_err *err)
{
        _cleanup_json_ json_object *c = cmd;
        json_object *name;

        if (!json_object_is_type(c, json_type_object) || !json_object_object_get_ex(c, "execute", &name) ||
            !json_object_is_type(name, json_type_string))
                return qc_err_set(err, EINVAL, "a command is an object with a string \"execute\"");
        return transact(q, c, json_object_get_string(name), NULL, ret_reply, err);
}

int qmp_execute_fd(struct qmp *q, const char *cmd, json_object *args, int fd, json_object **ret,
                   struct qc_err *err)
{
        int r;

        if (fd < 0) {
                json_object_put(args);
                return qc_err_set(err, EBADF, "%s: no fd to pass", cmd);
        }
        q->send_fd = fd;
        r = qmp_execute(q, cmd, args, ret, err);
        q->send_fd = -1;
        return r;
}

/* qmp_execute, with args[secret_key] = secret when secret_key is given */
static int execute(struct qmp *q, const char *cmd, json_object *args, const char *secret_key, const char *secret,
                   json_object **ret, struct qc_err *err)
{
        _cleanup_json_ json_object *c = json_object_new_object(), *a = args, *reply = NULL;
        json_object *r;

        if (!c)
                return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
        json_object_object_add(c, "execute", json_object_new_string(cmd));
        if (secret_key) {
                if (!a && !(a = json_object_new_object()))
                        return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
                /* the placeholder's text, without its quotes */
                json_object_object_add(a, secret_key, json_object_new_string_len(&SECRET_PLACEHOLDER[1],
                                                                                 sizeof SECRET_PLACEHOLDER - 3));
        }
        if (a)
                json_object_object_add(c, "arguments", TAKE_PTR(a));
        if (transact(q, c, cmd, secret_key ? secret : NULL, &reply, err) < 0)
                return -1;
        if (!json_object_object_get_ex(reply, "return", &r))
                return qmp_reply_error(reply, cmd, "", err);
        if (ret)
                *ret = json_object_get(r);
        return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, json_object *args, json_object **ret, struct qc_err *err)
{
        return execute(q, cmd, args, NULL, NULL, ret, err);
}

int qmp_execute_secret(struct qmp *q, const char *cmd, json_object *args, const char *key, const char *secret,
                       json_object **ret, struct qc_err *err)
{
        return execute(q, cmd, args, key, secret, ret, err);
}

int qmp_execute_str(struct qmp *q, const char *cmd, const char *key, const char *value, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
        json_object_object_add(a, key, json_object_new_string(value));
        return qmp_execute(q, cmd, a, NULL, err);
}

/* ---- events ---- */

static bool event_matches(json_object *ev, const char *name, qmp_event_match_fn match, void *userdata)
{
        const char *n = qmp_event_name(ev);

        if (name && (!n || strcmp(n, name) != 0))
                return false;
        return !match || match(ev, userdata);
}

int qmp_wait_event(struct qmp *q, const char *name, qmp_event_match_fn match, void *userdata, int timeout_ms,
                   json_object **ret, struct qc_err *err)
{
        int64_t deadline = qmp_deadline_after(timeout_ms);
        char what[256];

        for (size_t i = 0; i < q->ev_len; i++)
                if (event_matches(q->events[(q->ev_head + i) % q->ev_cap].ev, name, match, userdata)) {
                        json_object *ev = unqueue_event(q, i);
                        if (ret)
                                *ret = ev;
                        else
                                json_object_put(ev);
                        return 0;
                }
        snprintf(what, sizeof what, "event %s", name ? name : "(any)");
        for (;;) {
                _cleanup_json_ json_object *msg = NULL;
                json_object *rid;
                int r = read_msg(q, deadline, what, &msg, err);

                if (r < 0)
                        return -1;
                if (r == 0) {
                        return qc_err_set(err, ETIMEDOUT, "no %s within %d ms", what, timeout_ms);
                }
                if (!qmp_event_name(msg)) {
                        if (json_object_object_get_ex(msg, "id", &rid) && json_object_is_type(rid, json_type_int) &&
                            take_abandoned(q, json_object_get_int64(rid)))
                                continue;
                        return qc_err_set(err, EPROTO, "unexpected reply while waiting for %s: %.200s", what,
                                          json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
                }
                if (event_matches(msg, name, match, userdata)) {
                        if (ret)
                                *ret = TAKE_PTR(msg);
                        return 0;
                }
                if (queue_event(q, TAKE_PTR(msg), q->in.last_len, what, err) < 0)
                        return -1;
        }
}

int qmp_poll_events(struct qmp *q, int timeout_ms, struct qc_err *err)
{
        int64_t deadline = qmp_deadline_after(timeout_ms);

        for (;;) {
                _cleanup_json_ json_object *msg = NULL;
                json_object *rid;
                int r = read_msg(q, deadline, "events", &msg, err);

                if (r <= 0)
                        return r;
                if (!qmp_event_name(msg)) {
                        if (json_object_object_get_ex(msg, "id", &rid) && json_object_is_type(rid, json_type_int) &&
                            take_abandoned(q, json_object_get_int64(rid)))
                                continue;
                        return qc_err_set(err, EPROTO, "unexpected reply while waiting for events: %.200s",
                                          json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
                }
                if (queue_event(q, TAKE_PTR(msg), q->in.last_len, "events", err) < 0)
                        return -1;
                /* return as soon as something arrived and nothing else is buffered */
                if (qmp_stream_pending(&q->in) == 0)
                        deadline = now_ms();
                else if (q->ev_len >= QMP_MAX_QUEUED_EVENTS / 2 || q->queued_bytes >= QMP_MAX_QUEUED_BYTES / 2)
                        return 1; /* more is buffered: let the caller read the queue first */
        }
}

/* ---- greeting and setup ---- */

static int int_member(json_object *o, const char *key, int *ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        *ret = json_object_get_int(v);
        return 0;
}

static int parse_greeting(struct qmp *q, json_object *msg, struct qc_err *err)
{
        json_object *g, *ver, *qemu, *pkg, *caps;
        _cleanup_strv_ strv cv = { 0 };

        if (!json_object_object_get_ex(msg, "QMP", &g) || !json_object_is_type(g, json_type_object))
                return qc_err_set(err, EPROTO, "the peer did not greet with QMP: %.200s",
                                  json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
        if (!json_object_object_get_ex(g, "version", &ver) || !json_object_object_get_ex(ver, "qemu", &qemu) ||
            int_member(qemu, "major", &q->version.major) < 0 || int_member(qemu, "minor", &q->version.minor) < 0 ||
            int_member(qemu, "micro", &q->version.micro) < 0)
                return qc_err_set(err, EPROTO, "greeting has no QEMU version: %.200s",
                                  json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ver, "package", &pkg) && json_object_is_type(pkg, json_type_string)) {
                q->version.package = strdup(json_object_get_string(pkg));
                if (!q->version.package)
                        return qc_err_set(err, ENOMEM, "out of memory");
        }
        if (json_object_object_get_ex(g, "capabilities", &caps) && json_object_is_type(caps, json_type_array))
                for (size_t i = 0; i < json_object_array_length(caps); i++) {
                        json_object *c = json_object_array_get_idx(caps, i);
                        if (json_object_is_type(c, json_type_string) && strv_push(&cv, json_object_get_string(c)) < 0)
                                return qc_err_set(err, ENOMEM, "out of memory");
                }
        q->capabilities = strv_steal(&cv);
        if (!q->capabilities)
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

static int open_fd(int fd, int timeout_ms, int64_t deadline, struct qmp **ret, struct qc_err *err)
{
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_json_ json_object *greeting = NULL;
        int flags, r;

        q = calloc(1, sizeof *q);
        if (!q) {
                close(fd);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        q->fd = fd;
        q->send_fd = -1;
        q->timeout_ms = timeout_ms;
        if (qmp_stream_init(&q->in, QMP_MAX_LINE) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        /* non-blocking so that a write to a peer that stopped reading is
         * bounded by the deadline too */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return qc_err_sys(err, errno, "fcntl on the QMP socket");
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "fcntl on the QMP socket");
        r = read_msg(q, deadline, "the greeting", &greeting, err);
        if (r < 0)
                return -1;
        if (r == 0)
                /* QEMU serves one client per -qmp socket; a second one is
                 * accepted and then left waiting without a greeting */
                return qc_err_set(err, ETIMEDOUT,
                                  "no greeting from the QMP peer within %d ms (is another client connected? QEMU "
                                  "serves one client per QMP socket)",
                                  timeout_ms);
        if (parse_greeting(q, greeting, err) < 0)
                return -1;
        if (qmp_execute(q, "qmp_capabilities", NULL, NULL, err) < 0)
                return -1;
        *ret = TAKE_PTR(q);
        return 0;
}

int qmp_open_fd(int fd, int timeout_ms, struct qmp **ret, struct qc_err *err)
{
        return open_fd(fd, timeout_ms, qmp_deadline_after(timeout_ms), ret, err);
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **ret, struct qc_err *err)
{
        int64_t deadline = qmp_deadline_after(timeout_ms);
        int fd;

        /* A unix connect never waits for the peer, except that a full
         * listen backlog gives EAGAIN: retry until the deadline. */
        while ((fd = unix_connect(path, SOCK_NONBLOCK)) == -EAGAIN && qmp_remaining(deadline) != 0)
                nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        if (fd == -ENAMETOOLONG)
                return qc_err_set(err, ENAMETOOLONG, "QMP socket path too long (max %zu bytes): %s",
                                  UNIX_PATH_MAX_BYTES, path);
        if (fd < 0)
                return qc_err_sys(err, -fd, "connect to %s", path);
        if (open_fd(fd, timeout_ms, deadline, ret, err) < 0)
                return qc_err_wrap(err, "%s", path);
        return 0;
}

void qmp_free(struct qmp *q)
{
        if (!q)
                return;
        if (q->fd >= 0)
                close(q->fd);
        qmp_stream_done(&q->in);
        while (q->ev_len > 0)
                json_object_put(unqueue_event(q, 0));
        free(q->events);
        free(q->version.package);
        strv_free(q->capabilities);
        for (size_t i = 0; i < q->n_commands; i++)
                free(q->commands[i]);
        free(q->commands);
        free(q);
}

int qmp_fd(const struct qmp *q)
{
        return q->fd;
}

void qmp_set_timeout(struct qmp *q, int timeout_ms)
{
        q->timeout_ms = timeout_ms;
}

int qmp_get_timeout(const struct qmp *q)
{
        return q->timeout_ms;
}

const struct qmp_version *qmp_greeting_version(const struct qmp *q)
{
        return &q->version;
}

char *const *qmp_greeting_capabilities(const struct qmp *q)
{
        return q->capabilities;
}

bool qmp_version_at_least(const struct qmp *q, int major, int minor)
{
        return q->version.major > major || (q->version.major == major && q->version.minor >= minor);
}
