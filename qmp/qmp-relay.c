/* Many QMP clients over one QMP connection (qmp-relay.h). */
#include "qmp-relay.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "qmp-internal.h"

#define READ_CHUNK 65536

struct obuf {
        char *buf;
        size_t off, len, cap;
};

struct client {
        int fd;
        uint64_t serial; /* replies find their client by it, never by a reused fd */
        struct qmp_stream in;
        struct obuf out;
        unsigned inflight;
        size_t queued; /* bytes of its commands QEMU has not answered */
        bool negotiated;
        bool eof; /* sent all it will (shutdown of its side): answer, then close */
};

struct pending {
        int64_t id;          /* ours, as QEMU sees it */
        uint64_t serial;     /* the client's */
        json_object *orig_id; /* the client's own id; NULL: it sent none */
        size_t bytes;         /* the command's, as queued for QEMU */
};

struct polled {
        int fd;
        uint64_t serial; /* 0 = upstream */
};

struct qmp_relay {
        char *upstream_path;
        int timeout_ms;
        /* QEMU's monitor, connected when the first client comes; the
         * greeting and qmp_capabilities go through the poll loop too, so
         * the caller's loop never waits for QEMU */
        int up_fd; /* -1: not connected */
        /* clients are greeted when it becomes UP_READY (or on arrival,
         * after), and all are closed when it leaves it: every client is
         * greeted exactly while it is UP_READY */
        enum { UP_NONE, UP_GREETING, UP_NEGOTIATING, UP_READY } up_state;
        int64_t up_deadline; /* for UP_GREETING and UP_NEGOTIATING */
        struct qmp_stream up_in;
        struct obuf up_out;
        char *greeting; /* what each client is greeted with, CRLF included */
        struct client *clients[QMP_RELAY_MAX_CLIENTS];
        size_t n_clients;
        uint64_t next_serial;
        int64_t next_id;
        struct pending *pending;
        size_t n_pending, cap_pending;
        size_t queued; /* bytes of all commands QEMU has not answered */
        struct polled polled[QMP_RELAY_MAX_CLIENTS + 1];
        size_t n_polled;
};

static size_t obuf_left(const struct obuf *b)
{
        return b->len - b->off;
}

static int obuf_add(struct obuf *b, const char *data, size_t n)
{
        if (b->off && b->off == b->len)
                b->off = b->len = 0;
        if (b->len + n > b->cap) {
                size_t ncap = b->cap ? b->cap : 4096;
                char *nb;

                if (b->off) { /* move what is left to the front first */
                        memmove(b->buf, b->buf + b->off, b->len - b->off);
                        b->len -= b->off;
                        b->off = 0;
                }
                while (ncap < b->len + n)
                        ncap *= 2;
                if (ncap > b->cap) {
                        nb = realloc(b->buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        b->buf = nb;
                        b->cap = ncap;
                }
        }
        memcpy(b->buf + b->len, data, n);
        b->len += n;
        return 0;
}

/* Write what the peer takes now. Returns 0, or -1 when the peer is gone. */
static int obuf_flush(struct obuf *b, int fd)
{
        while (obuf_left(b)) {
                ssize_t n = send(fd, b->buf + b->off, obuf_left(b), MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -1;
                }
                b->off += (size_t)n;
        }
        b->off = b->len = 0;
        return 0;
}

/* One message as QEMU frames it: a line of JSON ending in CRLF. */
static int obuf_add_json(struct obuf *b, json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        if (!s || obuf_add(b, s, strlen(s)) < 0 || obuf_add(b, "\r\n", 2) < 0)
                return -ENOMEM;
        return 0;
}

static void client_free(struct client *c)
{
        if (!c)
                return;
        close(c->fd);
        qmp_stream_done(&c->in);
        free(c->out.buf);
        free(c);
}

static struct client *client_by_serial(struct qmp_relay *r, uint64_t serial)
{
        for (size_t i = 0; i < r->n_clients; i++)
                if (r->clients[i]->serial == serial)
                        return r->clients[i];
        return NULL;
}

static void drop_client(struct qmp_relay *r, struct client *c)
{
        for (size_t i = 0; i < r->n_clients; i++)
                if (r->clients[i] == c) {
                        r->clients[i] = r->clients[--r->n_clients];
                        break;
                }
        /* its commands still at QEMU: their replies are dropped on arrival.
         * The entries stay (a few bytes each, one per command QEMU will
         * answer) so that an id-less answer still finds the oldest command;
         * the ids the client sent (up to a line each) go now. */
        for (size_t i = 0; i < r->n_pending; i++)
                if (r->pending[i].serial == c->serial) {
                        json_object_put(r->pending[i].orig_id);
                        r->pending[i].orig_id = NULL;
                }
        client_free(c);
}

/* Queue o for c and send what c takes now. Returns -1 when c was dropped
 * (gone, or too slow a reader). */
static int client_send(struct qmp_relay *r, struct client *c, json_object *o)
{
        if (obuf_add_json(&c->out, o) < 0 || obuf_flush(&c->out, c->fd) < 0 ||
            obuf_left(&c->out) > QMP_RELAY_MAX_OUT) {
                drop_client(r, c);
                return -1;
        }
        return 0;
}

/* An answer made here, not by QEMU: {"error": {...}, "id": id} (id may be NULL). */
static int client_error(struct qmp_relay *r, struct client *c, json_object *id, const char *cls, const char *desc)
{
        _cleanup_json_ json_object *o = json_object_new_object(), *e = json_object_new_object();

        if (!o || !e)
                return -1;
        json_object_object_add(e, "class", json_object_new_string(cls));
        json_object_object_add(e, "desc", json_object_new_string(desc));
        json_object_object_add(o, "error", TAKE_PTR(e));
        if (id)
                json_object_object_add(o, "id", json_object_get(id));
        return client_send(r, c, o);
}

static int negotiate(struct qmp_relay *r, struct client *c, json_object *cmd, json_object *id)
{
        _cleanup_json_ json_object *o = NULL;
        json_object *enable;

        /* QEMU's own words for these */
        if (c->negotiated)
                return client_error(r, c, id, "CommandNotFound",
                                    "Capabilities negotiation is already complete, command ignored");
        enable = qmp_member(qmp_member(cmd, "arguments", json_type_object), "enable", json_type_array);
        if (enable && json_object_array_length(enable) > 0) {
                char desc[160];
                json_object *cap = json_object_array_get_idx(enable, 0);

                if (!json_object_is_type(cap, json_type_string))
                        return client_error(r, c, id, "GenericError",
                                            "Invalid parameter type for 'enable[0]', expected: string");
                snprintf(desc, sizeof desc, "Capability '%s' not available", json_object_get_string(cap));
                return client_error(r, c, id, "GenericError", desc);
        }
        c->negotiated = true;
        o = json_object_new_object();
        if (!o)
                return -1;
        json_object_object_add(o, "return", json_object_new_object());
        if (id)
                json_object_object_add(o, "id", json_object_get(id));
        return client_send(r, c, o);
}

static int forward(struct qmp_relay *r, struct client *c, json_object *cmd, json_object *id)
{
        struct pending *p;
        size_t before;

        if (r->n_pending == r->cap_pending) {
                size_t ncap = r->cap_pending ? r->cap_pending * 2 : 16;
                struct pending *np = realloc(r->pending, ncap * sizeof *np);

                if (!np)
                        return client_error(r, c, id, "GenericError", "out of memory");
                r->pending = np;
                r->cap_pending = ncap;
        }
        p = &r->pending[r->n_pending];
        *p = (struct pending){ .id = ++r->next_id, .serial = c->serial, .orig_id = id ? json_object_get(id) : NULL };
        json_object_object_add(cmd, "id", json_object_new_int64(p->id));
        before = obuf_left(&r->up_out);
        if (obuf_add_json(&r->up_out, cmd) < 0) {
                json_object_put(p->orig_id);
                return client_error(r, c, id, "GenericError", "out of memory");
        }
        p->bytes = obuf_left(&r->up_out) - before;
        r->queued += p->bytes;
        c->queued += p->bytes;
        r->n_pending++;
        c->inflight++;
        return 0;
}

/* Whether c may send QEMU one more command now. */
static bool client_may_send(const struct qmp_relay *r, const struct client *c)
{
        return c->inflight < QMP_RELAY_MAX_INFLIGHT && c->queued < QMP_RELAY_MAX_QUEUED &&
               r->queued < QMP_RELAY_MAX_QUEUED_ALL;
}

/* What json-c takes but QEMU would not, or would read otherwise: NULL when
 * line (as the client sent it) is plain JSON (QEMU's single-quoted strings
 * allowed), else why not. json-c clamps an integer out of range to
 * INT64_MIN or UINT64_MAX and takes NaN, Infinity and comments; the relay
 * must never forward a number other than the one the person typed. */
static const char *not_qemu_json(const char *line, size_t n)
{
        for (size_t i = 0; i < n;) {
                char ch = line[i];

                if (ch == '"' || ch == '\'') {
                        for (i++; i < n && line[i] != ch; i++)
                                if (line[i] == '\\')
                                        i++;
                        i++;
                } else if (ch == '-' || isdigit((unsigned char)ch)) {
                        char num[64];
                        size_t k = i;
                        bool frac = false;

                        while (k < n && strchr("+-0123456789.eE", line[k])) {
                                frac |= line[k] == '.' || line[k] == 'e' || line[k] == 'E';
                                k++;
                        }
                        if (k < n && isalpha((unsigned char)line[k]))
                                return "NaN and Infinity are not JSON"; /* -Infinity */
                        if (k - i >= sizeof num) {
                                if (!frac)
                                        return "integer out of range";
                        } else {
                                char *end;

                                memcpy(num, line + i, k - i);
                                num[k - i] = '\0';
                                errno = 0;
                                if (frac) {
                                        if (!isfinite(strtod(num, &end)))
                                                return "number out of range";
                                } else if (num[0] == '-' ? (strtoll(num, &end, 10), errno == ERANGE)
                                                         : (strtoull(num, &end, 10), errno == ERANGE)) {
                                        return "integer out of range";
                                }
                        }
                        i = k;
                } else if (isalpha((unsigned char)ch)) {
                        size_t k = i;

                        while (k < n && isalpha((unsigned char)line[k]))
                                k++;
                        if (!((k - i == 4 && (!memcmp(line + i, "true", 4) || !memcmp(line + i, "null", 4))) ||
                              (k - i == 5 && !memcmp(line + i, "false", 5))))
                                return "NaN and Infinity are not JSON";
                        i = k;
                } else if (ch == '/') {
                        return "comments are not JSON";
                } else {
                        i++;
                }
        }
        return NULL;
}

/* Act on the messages c sent that are buffered, as far as its in-flight
 * budget goes. Returns -1 when c was dropped. */
static int client_process(struct qmp_relay *r, struct client *c)
{
        if (r->up_state != UP_READY)
                return 0; /* what it sent waits for QEMU's greeting */
        /* `echo '{"execute": ...}' | socat - UNIX-CONNECT:qmp.sock` ends its
         * side at once and waits for the answers */
        if (c->eof && c->inflight == 0 && qmp_stream_pending(&c->in) == 0 && !obuf_left(&c->out)) {
                drop_client(r, c);
                return -1;
        }
        while (client_may_send(r, c)) {
                _cleanup_json_ json_object *cmd = NULL;
                struct qc_err err = { 0 };
                json_object *ex, *id = NULL;
                const char *why;
                int k = qmp_stream_pop(&c->in, &cmd, &err);

                if (k == 0)
                        break;
                if (k < 0) {
                        char desc[sizeof err.msg + 32];

                        if (err.code == EMSGSIZE) {
                                drop_client(r, c);
                                return -1;
                        }
                        snprintf(desc, sizeof desc, "JSON parse error: %s", err.msg);
                        if (client_error(r, c, NULL, "GenericError", desc) < 0)
                                return -1;
                        continue;
                }
                json_object_object_get_ex(cmd, "id", &id);
                if ((why = not_qemu_json(c->in.last_line, c->in.last_len))) {
                        char desc[96];

                        snprintf(desc, sizeof desc, "JSON parse error: %s", why);
                        if (client_error(r, c, id, "GenericError", desc) < 0)
                                return -1;
                        continue;
                }
                if (json_object_object_get_ex(cmd, "execute", &ex) && json_object_is_type(ex, json_type_string) &&
                    strcmp(json_object_get_string(ex), "qmp_capabilities") == 0) {
                        if (negotiate(r, c, cmd, id) < 0)
                                return -1;
                } else if (!c->negotiated) {
                        if (client_error(r, c, id, "CommandNotFound",
                                         "Expecting capabilities negotiation with 'qmp_capabilities'") < 0)
                                return -1;
                } else {
                        /* anything else is QEMU's to judge, exec-oob included
                         * (not offered, so QEMU refuses it) */
                        if (forward(r, c, cmd, id) < 0)
                                return -1;
                }
        }
        if (c->eof && c->inflight == 0 && !obuf_left(&c->out)) {
                drop_client(r, c);
                return -1;
        }
        return 0;
}

/* QEMU is gone or broke the protocol: nobody can be served. why (NULL:
 * say nothing) goes to each client as the error answering each of its
 * commands still out, or without id when it had none out; then it is
 * closed. The next client to arrive connects anew. */
static void disconnect_upstream(struct qmp_relay *r, const char *why)
{
        while (r->n_clients) {
                struct client *c = r->clients[r->n_clients - 1];
                bool told = false, gone = false;

                for (size_t i = 0; why && !gone && i < r->n_pending; i++)
                        if (r->pending[i].serial == c->serial) {
                                told = true;
                                gone = client_error(r, c, r->pending[i].orig_id, "GenericError", why) < 0;
                        }
                if (why && !told)
                        gone = client_error(r, c, NULL, "GenericError", why) < 0;
                if (!gone)
                        drop_client(r, c);
        }
        for (size_t i = 0; i < r->n_pending; i++)
                json_object_put(r->pending[i].orig_id);
        r->n_pending = 0;
        r->queued = 0;
        if (r->up_fd >= 0) {
                close(r->up_fd);
                qmp_stream_done(&r->up_in);
        }
        r->up_fd = -1;
        r->up_state = UP_NONE;
        free(r->up_out.buf);
        r->up_out = (struct obuf){ 0 };
}

/* Hand QEMU's answer to pending[i] to its client, under the client's id. */
static void answer(struct qmp_relay *r, size_t i, json_object *msg)
{
        struct pending p = r->pending[i];
        struct client *c;

        r->pending[i] = r->pending[--r->n_pending];
        r->queued -= p.bytes;
        c = client_by_serial(r, p.serial);
        if (c)
                c->queued -= p.bytes;
        if (!c) {
                json_object_put(p.orig_id);
                return;
        }
        c->inflight--;
        if (p.orig_id)
                json_object_object_add(msg, "id", p.orig_id);
        else
                json_object_object_del(msg, "id");
        if (client_send(r, c, msg) == 0)
                client_process(r, c);
}

static void upstream_message(struct qmp_relay *r, json_object *msg)
{
        json_object *rid;
        size_t oldest = 0;

        if (json_object_object_get_ex(msg, "event", NULL)) {
                /* every client sees every event, as each of QEMU's monitors would */
                for (size_t i = r->n_clients; i-- > 0;)
                        if (r->clients[i]->negotiated)
                                client_send(r, r->clients[i], msg);
                return;
        }
        if (!json_object_object_get_ex(msg, "id", &rid)) {
                /* QEMU answers a line it cannot parse with an error without id.
                 * It runs one command at a time (no oob here), so that line
                 * was the oldest command it has not answered yet. */
                if (!json_object_object_get_ex(msg, "error", NULL) || r->n_pending == 0)
                        return;
                for (size_t i = 1; i < r->n_pending; i++)
                        if (r->pending[i].id < r->pending[oldest].id)
                                oldest = i;
                answer(r, oldest, msg);
                return;
        }
        if (!json_object_is_type(rid, json_type_int))
                return;
        for (size_t i = 0; i < r->n_pending; i++)
                if (r->pending[i].id == json_object_get_int64(rid)) {
                        answer(r, i, msg);
                        return;
                }
}

static void upstream_handshake(struct qmp_relay *r, json_object *msg);

static void upstream_read(struct qmp_relay *r)
{
        char buf[READ_CHUNK];
        struct qc_err err = { 0 };
        json_object *msg;
        ssize_t n = read(r->up_fd, buf, sizeof buf);
        char why[sizeof err.msg + 64];

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0 || qmp_stream_push(&r->up_in, buf, (size_t)n, &err) < 0) {
                snprintf(why, sizeof why, "lost the connection to QEMU's monitor: %s",
                         n < 0 ? strerror(errno) : n == 0 ? "QEMU closed it" : err.msg);
                disconnect_upstream(r, why);
                return;
        }
        for (int k; r->up_fd >= 0 && (k = qmp_stream_pop(&r->up_in, &msg, &err)) != 0;) {
                if (k < 0)
                        continue; /* not ours to answer; QEMU does not send garbage */
                if (r->up_state == UP_READY)
                        upstream_message(r, msg);
                else
                        upstream_handshake(r, msg);
                json_object_put(msg);
        }
}

/* Start connecting: the greeting and qmp_capabilities come through the
 * poll loop (upstream_handshake). Fails only when nobody listens. */
static int connect_upstream(struct qmp_relay *r, struct qc_err *err)
{
        /* a unix socket connects at once or not at all (EAGAIN: backlog full) */
        int fd = unix_connect(r->upstream_path, SOCK_NONBLOCK);

        if (fd == -ENAMETOOLONG)
                return qc_err_set(err, ENAMETOOLONG, "%s: path too long for a unix socket", r->upstream_path);
        if (fd < 0)
                return qc_err_sys(err, -fd, "connect to %s", r->upstream_path);
        if (qmp_stream_init(&r->up_in, QMP_MAX_LINE) < 0) {
                close(fd);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        r->up_in.peer = "QEMU";
        r->up_fd = fd;
        r->up_state = UP_GREETING;
        r->up_deadline = qmp_deadline_after(r->timeout_ms);
        return 0;
}

/* Greet c (once the relay has QEMU's greeting). Returns -1 when c was dropped. */
static int client_greet(struct qmp_relay *r, struct client *c)
{
        if (obuf_add(&c->out, r->greeting, strlen(r->greeting)) < 0 || obuf_flush(&c->out, c->fd) < 0) {
                drop_client(r, c);
                return -1;
        }
        return 0;
}

/* QEMU's greeting, then its answer to our qmp_capabilities; events before
 * that were nobody's. */
static void upstream_handshake(struct qmp_relay *r, json_object *msg)
{
        if (r->up_state == UP_GREETING) {
                _cleanup_json_ json_object *g = json_object_new_object(), *qmp = json_object_new_object();
                json_object *ver = qmp_member(qmp_member(msg, "QMP", json_type_object), "version", json_type_object);
                const char *s;

                if (!ver) {
                        disconnect_upstream(r, "QEMU's monitor sent no greeting");
                        return;
                }
                if (!g || !qmp)
                        goto oom;
                /* QEMU's greeting, without "oob": every command here runs in order */
                json_object_object_add(qmp, "version", json_object_get(ver));
                json_object_object_add(qmp, "capabilities", json_object_new_array());
                json_object_object_add(g, "QMP", TAKE_PTR(qmp));
                s = json_object_to_json_string_ext(g, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                free(r->greeting);
                if (!s || asprintf(&r->greeting, "%s\r\n", s) < 0) {
                        r->greeting = NULL;
                        goto oom;
                }
                static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\r\n";

                if (obuf_add(&r->up_out, caps, strlen(caps)) < 0)
                        goto oom;
                r->up_state = UP_NEGOTIATING;
                return;
        }
        if (json_object_object_get_ex(msg, "event", NULL))
                return;
        if (!json_object_object_get_ex(msg, "return", NULL)) {
                disconnect_upstream(r, "QEMU's monitor refused qmp_capabilities");
                return;
        }
        r->up_state = UP_READY;
        for (size_t i = r->n_clients; i-- > 0;)
                client_greet(r, r->clients[i]);
        return;
oom:
        disconnect_upstream(r, "out of memory");
}

int qmp_relay_new(const char *upstream, int timeout_ms, struct qmp_relay **ret, struct qc_err *err)
{
        struct qmp_relay *r = calloc(1, sizeof *r);

        if (!r || !(r->upstream_path = strdup(upstream))) {
                free(r);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        r->timeout_ms = timeout_ms;
        r->up_fd = -1;
        *ret = r;
        return 0;
}

void qmp_relay_free(struct qmp_relay *r)
{
        if (!r)
                return;
        disconnect_upstream(r, NULL);
        free(r->pending);
        free(r->greeting);
        free(r->upstream_path);
        free(r);
}

size_t qmp_relay_clients(const struct qmp_relay *r)
{
        return r->n_clients;
}

int qmp_relay_add_client(struct qmp_relay *r, int fd, struct qc_err *err)
{
        struct client *c;
        int fl;

        if (r->n_clients == QMP_RELAY_MAX_CLIENTS) {
                close(fd);
                return qc_err_set(err, EMFILE, "%d clients connected already", QMP_RELAY_MAX_CLIENTS);
        }
        if (r->up_fd < 0 && connect_upstream(r, err) < 0) {
                close(fd);
                return -1;
        }
        c = calloc(1, sizeof *c);
        if (!c || qmp_stream_init(&c->in, QMP_MAX_LINE) < 0) {
                free(c);
                close(fd);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        c->fd = fd;
        c->serial = ++r->next_serial;
        fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        r->clients[r->n_clients++] = c;
        if (r->up_state == UP_READY && client_greet(r, c) < 0)
                return qc_err_set(err, EPIPE, "the client left before its greeting");
        return 0;
}

size_t qmp_relay_pollfds(struct qmp_relay *r, struct pollfd *pfd, size_t max)
{
        size_t n = 0;

        r->n_polled = 0;
        if (r->up_fd >= 0 && r->up_state != UP_READY && qmp_remaining(r->up_deadline) == 0) {
                char why[80];

                snprintf(why, sizeof why, "QEMU's monitor did not greet within %d ms", r->timeout_ms);
                disconnect_upstream(r, why);
        }
        if (r->up_fd >= 0 && n < max) {
                pfd[n] = (struct pollfd){ .fd = r->up_fd, .events = POLLIN | (obuf_left(&r->up_out) ? POLLOUT : 0) };
                r->polled[r->n_polled++] = (struct polled){ .fd = r->up_fd, .serial = 0 };
                n++;
        }
        for (size_t i = 0; i < r->n_clients && n < max; i++) {
                struct client *c = r->clients[i];
                short ev = obuf_left(&c->out) ? POLLOUT : 0;

                /* a client with its budget at QEMU sends nothing more until
                 * replies come back; one that reads nothing gets nothing more
                 * read from it either (it is dropped at QMP_RELAY_MAX_OUT) */
                if (r->up_state == UP_READY && !c->eof && client_may_send(r, c) && obuf_left(&c->out) < QMP_RELAY_MAX_OUT / 2)
                        ev |= POLLIN;
                pfd[n] = (struct pollfd){ .fd = c->fd, .events = ev };
                r->polled[r->n_polled++] = (struct polled){ .fd = c->fd, .serial = c->serial };
                n++;
        }
        return n;
}

static void client_read(struct qmp_relay *r, struct client *c, short revents)
{
        char buf[READ_CHUNK];
        struct qc_err err = { 0 };
        ssize_t n;

        if (c->eof) {
                /* POLLHUP: gone both ways; its answers have nowhere to go */
                if (revents & (POLLHUP | POLLERR))
                        drop_client(r, c);
                return;
        }
        n = read(c->fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0 || (n == 0 && (revents & (POLLHUP | POLLERR))) ||
            (n > 0 && qmp_stream_push(&c->in, buf, (size_t)n, &err) < 0)) {
                drop_client(r, c);
                return;
        }
        if (n == 0)
                c->eof = true;
        client_process(r, c);
}

void qmp_relay_dispatch(struct qmp_relay *r, const struct pollfd *pfd, size_t n)
{
        for (size_t i = 0; i < n && i < r->n_polled; i++) {
                const struct polled *p = &r->polled[i];
                struct client *c;

                if (!pfd[i].revents || pfd[i].fd != p->fd)
                        continue;
                if (p->serial == 0) {
                        if (r->up_fd != p->fd)
                                continue;
                        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                                upstream_read(r);
                        continue;
                }
                c = client_by_serial(r, p->serial);
                if (!c)
                        continue;
                if ((pfd[i].revents & POLLOUT) && obuf_flush(&c->out, c->fd) < 0) {
                        drop_client(r, c);
                        continue;
                }
                if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                        client_read(r, c, pfd[i].revents);
                else if (c->eof)
                        client_process(r, c); /* its last answer went out */
        }
        /* a client waiting for room that an answer to another one made:
         * its buffered commands go on (backwards: a drop moves the last one
         * here, seen already) */
        for (size_t i = r->n_clients; i-- > 0;)
                if (qmp_stream_pending(&r->clients[i]->in) && client_may_send(r, r->clients[i]))
                        client_process(r, r->clients[i]);
        /* commands the clients sent go to QEMU in one write where it can */
        if (r->up_fd >= 0 && obuf_left(&r->up_out) && obuf_flush(&r->up_out, r->up_fd) < 0)
                disconnect_upstream(r, "lost the connection to QEMU's monitor: it took no more commands");
}
