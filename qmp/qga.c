/* The guest agent's transport (see qga.h): newline-framed JSON through
 * qmp-stream, the 0xFF sentinel, guest-sync-delimited resync. */
#include "qga.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "qmp-internal.h"

#define READ_CHUNK 65536
#define SENTINEL 0xFF
/* the agent's own replies: its largest are file reads and exec output
 * (base64 of at most 16 MiB of output, the agent's cap) */
#define QGA_MAX_LINE (32u << 20)

struct qga {
        int fd;
        int timeout_ms;
        struct qmp_stream in;
        bool closed;    /* the socket said EOF */
        bool need_sync; /* a reply may still be on its way: resync before the next command */
        bool skip;      /* drop bytes until the next 0xFF */
};

/* Append what was read. A 0xFF byte is the agent's sentinel: what it had
 * half written before it is dropped, complete lines stay. */
static int push_bytes(struct qga *g, const char *p, size_t n, struct qc_err *err)
{
        while (n > 0) {
                const char *ff = memchr(p, SENTINEL, n);
                size_t k = ff ? (size_t)(ff - p) : n;

                if (!g->skip && k > 0 && qmp_stream_push(&g->in, p, k, err) < 0)
                        return -1;
                if (!ff)
                        break;
                g->skip = false;
                qmp_stream_drop_partial(&g->in);
                p = ff + 1;
                n -= k + 1;
        }
        return 0;
}

/* One message by the deadline: 1 with *ret, 0 on timeout (err untouched),
 * -1 with err (EPROTO for a line that is not a JSON object: that line is
 * consumed, the caller may go on). */
static int read_msg(struct qga *g, int64_t deadline, const char *what, json_object **ret, struct qc_err *err)
{
        char buf[READ_CHUNK];

        for (;;) {
                size_t n;
                int r;

                if (!g->skip) {
                        r = qmp_stream_pop(&g->in, ret, err);
                        if (r != 0)
                                return r;
                }
                if (g->closed)
                        return qc_err_set(err, ECONNRESET, "the guest agent's socket closed while waiting for %s",
                                          what);
                r = qmp_recv_chunk(g->fd, deadline, buf, sizeof buf, &n, "the guest agent", what, err);
                if (r <= 0)
                        return r;
                if (n == 0)
                        g->closed = true;
                else if (push_bytes(g, buf, n, err) < 0)
                        return qc_err_wrap(err, "while waiting for %s", what), -1;
        }
}

/* Send {"execute": cmd, "arguments": args (taken)}, after a 0xFF when
 * sentinel. */
static int send_cmd(struct qga *g, const char *cmd, json_object *args, bool sentinel, int64_t deadline,
                    struct qc_err *err)
{
        _cleanup_json_ json_object *c = json_object_new_object(), *a = args;
        _cleanup_free_ char *line = NULL;
        const char *s;
        size_t len, o = 0;

        if (!c)
                return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
        json_object_object_add(c, "execute", json_object_new_string(cmd));
        if (a)
                json_object_object_add(c, "arguments", TAKE_PTR(a));
        s = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
        len = strlen(s);
        line = malloc(len + 3);
        if (!line)
                return qc_err_set(err, ENOMEM, "%s: out of memory", cmd);
        if (sentinel)
                line[o++] = (char)SENTINEL;
        memcpy(line + o, s, len);
        o += len;
        line[o++] = '\n';
        /* whatever happens from here, a reply may be on its way */
        g->need_sync = true;
        return qmp_send_all(g->fd, line, o, deadline, g->timeout_ms, cmd, err);
}

static int64_t fresh_id(void)
{
        uint32_t v;

        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
                v = (uint32_t)now_ns() ^ ((uint32_t)getpid() << 16);
        return (int64_t)(v & 0x7fffffff) + 1;
}

static json_object *sync_args(int64_t id)
{
        json_object *a = json_object_new_object();

        if (a)
                json_object_object_add(a, "id", json_object_new_int64(id));
        return a;
}

static bool is_sync_reply(json_object *msg, int64_t id)
{
        json_object *r;

        return json_object_object_get_ex(msg, "return", &r) && json_object_is_type(r, json_type_int) &&
               json_object_get_int64(r) == id;
}

int qga_sync(struct qga *g, struct qc_err *err)
{
        int64_t id = fresh_id(), deadline = qmp_deadline_after(g->timeout_ms);
        json_object *a = sync_args(id);

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        /* everything buffered is stale, and so is what comes before the
         * agent's sentinel */
        qmp_stream_done(&g->in);
        if (qmp_stream_init(&g->in, QGA_MAX_LINE) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        g->in.peer = "the guest agent";
        g->skip = true;
        if (send_cmd(g, "guest-sync-delimited", a, true, deadline, err) < 0)
                return -1;
        for (;;) {
                _cleanup_json_ json_object *msg = NULL;
                int r = read_msg(g, deadline, "the reply to guest-sync-delimited", &msg, err);

                if (r < 0 && err && err->code == EPROTO)
                        continue; /* stale garbage after a sentinel */
                if (r < 0)
                        return -1;
                if (r == 0)
                        return qc_err_set(err, ETIMEDOUT,
                                          "no reply to guest-sync-delimited within %d ms (is the agent running in "
                                          "the guest? is another client connected to its socket?)",
                                          g->timeout_ms);
                if (is_sync_reply(msg, id)) {
                        g->need_sync = false;
                        return 0;
                }
                /* a stale reply, to us or to another client before us */
        }
}

int qga_execute(struct qga *g, const char *cmd, json_object *args, json_object **ret, struct qc_err *err)
{
        _cleanup_json_ json_object *a = args, *msg = NULL;
        int64_t deadline;
        json_object *r;
        char what[256];
        int k;

        if (g->need_sync && qga_sync(g, err) < 0)
                return -1;
        deadline = qmp_deadline_after(g->timeout_ms);
        if (send_cmd(g, cmd, TAKE_PTR(a), false, deadline, err) < 0)
                return -1;
        snprintf(what, sizeof what, "the reply to %s", cmd);
        k = read_msg(g, deadline, what, &msg, err);
        if (k < 0)
                return -1;
        if (k == 0)
                return qc_err_set(err, ETIMEDOUT, "no reply to %s within %d ms", cmd, g->timeout_ms);
        if (json_object_object_get_ex(msg, "return", &r)) {
                g->need_sync = false;
                if (ret)
                        *ret = json_object_get(r);
                return 0;
        }
        if (json_object_object_get_ex(msg, "error", NULL)) {
                g->need_sync = false;
                return qmp_reply_error(msg, cmd, "", err);
        }
        return qc_err_set(err, EPROTO, "%s: reply has neither \"return\" nor \"error\": %.200s", cmd,
                          json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
}

int qga_shutdown(struct qga *g, const char *mode, struct qc_err *err)
{
        int64_t id = fresh_id(), deadline;
        json_object *a = json_object_new_object(), *s = sync_args(id);

        if (!a || !s) {
                json_object_put(a);
                json_object_put(s);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        json_object_object_add(a, "mode", json_object_new_string(mode ? mode : "powerdown"));
        if (g->need_sync && qga_sync(g, err) < 0) {
                json_object_put(a);
                json_object_put(s);
                return -1;
        }
        deadline = qmp_deadline_after(g->timeout_ms);
        if (send_cmd(g, "guest-shutdown", a, false, deadline, err) < 0) {
                json_object_put(s);
                return -1;
        }
        /* guest-shutdown answers only when it fails: the sync behind it says
         * the agent is past it (an error reply comes before the sync's). No
         * 0xFF before this sync: qemu-ga answers that byte with a parse
         * error of its own, which would be taken for guest-shutdown's
         * refusal (guest-shutdown was sent whole: nothing to flush). */
        if (send_cmd(g, "guest-sync-delimited", s, false, deadline, err) < 0)
                return err && (err->code == EPIPE || err->code == ECONNRESET) ? 1 : -1;
        for (;;) {
                _cleanup_json_ json_object *msg = NULL;
                int r = read_msg(g, deadline, "guest-shutdown", &msg, err);

                if (r < 0 && err && err->code == ECONNRESET)
                        return 1; /* QEMU went away with the guest */
                if (r < 0)
                        return -1;
                if (r == 0)
                        return 0;
                if (is_sync_reply(msg, id)) {
                        g->need_sync = false;
                        return 1;
                }
                if (json_object_object_get_ex(msg, "error", NULL))
                        return qmp_reply_error(msg, "guest-shutdown", "", err);
        }
}

/* ---- connection ---- */

static int new_qga(int fd, int timeout_ms, struct qga **ret, struct qc_err *err)
{
        _cleanup_(qga_freep) struct qga *g = calloc(1, sizeof *g);
        int flags;

        if (!g) {
                close(fd);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        g->fd = fd;
        g->timeout_ms = timeout_ms;
        g->need_sync = true;
        if (qmp_stream_init(&g->in, QGA_MAX_LINE) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        g->in.peer = "the guest agent";
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "fcntl on the guest agent's socket");
        *ret = TAKE_PTR(g);
        return 0;
}

/* A connected socket to path: the fd, or -1 with err (connect's errno). */
static int connect_unix(const char *path, struct qc_err *err)
{
        int fd = unix_connect(path, 0);

        if (fd == -ENAMETOOLONG)
                return qc_err_set(err, ENAMETOOLONG, "guest agent socket path too long (max %zu bytes): %s",
                                  UNIX_PATH_MAX_BYTES, path);
        if (fd < 0)
                return qc_err_sys(err, -fd, "connect to %s", path);
        return fd;
}

int qga_connect_wait(const char *path, int timeout_ms, int try_ms, int cmd_timeout_ms, struct qga **ret,
                     struct qc_err *err)
{
        int64_t deadline = qmp_deadline_after(timeout_ms);
        struct qc_err e = { 0 };

        for (;;) {
                _cleanup_(qga_freep) struct qga *g = NULL;
                int fd = connect_unix(path, &e);

                if (fd < 0) {
                        if (e.code != ENOENT && e.code != ECONNREFUSED)
                                return qc_err_set(err, e.code, "%s", e.msg);
                        if (qmp_remaining(deadline) == 0)
                                return qc_err_set(err, ETIMEDOUT, "no guest agent within %d ms (%s)", timeout_ms,
                                                  e.msg);
                        nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
                        continue;
                }
                if (new_qga(fd, try_ms, &g, err) < 0)
                        return -1;
                for (;;) {
                        int left = qmp_remaining(deadline);

                        g->timeout_ms = left >= 0 && left < try_ms ? left : try_ms;
                        if (qga_sync(g, &e) == 0) {
                                g->timeout_ms = cmd_timeout_ms;
                                *ret = TAKE_PTR(g);
                                return 0;
                        }
                        if (e.code == ECONNRESET)
                                break; /* QEMU went away or let us go: connect again */
                        if (e.code != ETIMEDOUT)
                                return qc_err_set(err, e.code, "%s: %s", path, e.msg);
                        if (qmp_remaining(deadline) == 0)
                                return qc_err_set(err, ETIMEDOUT, "no guest agent answered on %s within %d ms",
                                                  path, timeout_ms);
                }
                if (qmp_remaining(deadline) == 0)
                        return qc_err_set(err, ETIMEDOUT, "no guest agent answered on %s within %d ms", path,
                                          timeout_ms);
        }
}

int qga_open_fd(int fd, int timeout_ms, struct qga **ret, struct qc_err *err)
{
        _cleanup_(qga_freep) struct qga *g = NULL;

        if (new_qga(fd, timeout_ms, &g, err) < 0 || qga_sync(g, err) < 0)
                return -1;
        *ret = TAKE_PTR(g);
        return 0;
}

int qga_connect(const char *path, int timeout_ms, struct qga **ret, struct qc_err *err)
{
        int fd = connect_unix(path, err);

        if (fd < 0)
                return -1;
        if (qga_open_fd(fd, timeout_ms, ret, err) < 0)
                return qc_err_wrap(err, "%s", path);
        return 0;
}

void qga_free(struct qga *g)
{
        if (!g)
                return;
        if (g->fd >= 0)
                close(g->fd);
        qmp_stream_done(&g->in);
        free(g);
}

int qga_fd(const struct qga *g)
{
        return g->fd;
}

void qga_set_timeout(struct qga *g, int timeout_ms)
{
        g->timeout_ms = timeout_ms;
}
