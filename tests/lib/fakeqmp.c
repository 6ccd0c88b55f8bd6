#include "fakeqmp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

enum op { OP_SEND, OP_SEND_RAW, OP_EXPECT, OP_EXPECT_ANY, OP_EXPECT_SYNC, OP_REPLY, OP_SPLIT, OP_SLEEP, OP_CLOSE, OP_WAIT_EOF };

struct step {
        enum op op;
        char *data;
        size_t len;
        long n, m;
};

struct fakeqmp {
        struct step *steps;
        size_t n_steps;
        int fd, listen_fd;
        char *path;
        pthread_t thread;
        bool running;
        /* server state */
        char *rbuf;
        size_t rlen, rcap;
        char last_id[64];
        size_t chunk;
        int pause_us;
        char *log;
        size_t log_len;
        int failures;
};

static void add(struct fakeqmp *f, enum op op, const void *data, size_t len, long n, long m)
{
        struct step *s;

        f->steps = realloc(f->steps, (f->n_steps + 1) * sizeof *f->steps);
        if (!f->steps)
                abort();
        s = &f->steps[f->n_steps++];
        *s = (struct step){ .op = op, .len = len, .n = n, .m = m };
        if (data) {
                s->data = malloc(len + 1);
                if (!s->data)
                        abort();
                memcpy(s->data, data, len);
                s->data[len] = '\0';
        }
}

struct fakeqmp *fakeqmp_new(void)
{
        struct fakeqmp *f = calloc(1, sizeof *f);

        if (!f)
                abort();
        f->fd = f->listen_fd = -1;
        strcpy(f->last_id, "null");
        return f;
}

void fakeqmp_free(struct fakeqmp *f)
{
        if (!f)
                return;
        if (f->running)
                fakeqmp_finish(f, NULL);
        for (size_t i = 0; i < f->n_steps; i++)
                free(f->steps[i].data);
        free(f->steps);
        free(f->rbuf);
        free(f->log);
        if (f->path) {
                unlink(f->path);
                free(f->path);
        }
        free(f);
}

void fakeqmp_send(struct fakeqmp *f, const char *line)
{
        add(f, OP_SEND, line, strlen(line), 0, 0);
}

void fakeqmp_send_raw(struct fakeqmp *f, const void *data, size_t n)
{
        add(f, OP_SEND_RAW, data, n, 0, 0);
}

void fakeqmp_expect(struct fakeqmp *f, const char *cmd_json)
{
        add(f, OP_EXPECT, cmd_json, strlen(cmd_json), 0, 0);
}

void fakeqmp_expect_any(struct fakeqmp *f)
{
        add(f, OP_EXPECT_ANY, NULL, 0, 0, 0);
}

void fakeqmp_expect_sync(struct fakeqmp *f)
{
        add(f, OP_EXPECT_SYNC, NULL, 0, 0, 0);
}

void fakeqmp_reply(struct fakeqmp *f, const char *return_json)
{
        add(f, OP_REPLY, return_json, strlen(return_json), 0, 0);
}

void fakeqmp_error(struct fakeqmp *f, const char *cls, const char *desc)
{
        char *line;

        if (asprintf(&line, "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}, \"id\": $ID}", cls, desc) < 0)
                abort();
        fakeqmp_send(f, line);
        free(line);
}

void fakeqmp_greet(struct fakeqmp *f)
{
        fakeqmp_send(f, FAKEQMP_GREETING);
        fakeqmp_expect(f, "{\"execute\": \"qmp_capabilities\"}");
        fakeqmp_reply(f, "{}");
}

void fakeqmp_greet_version(struct fakeqmp *f, int major, int minor, int micro)
{
        char line[256];

        snprintf(line, sizeof line,
                 "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": %d, \"minor\": %d, \"major\": %d}, "
                 "\"package\": \"\"}, \"capabilities\": []}}",
                 micro, minor, major);
        fakeqmp_send(f, line);
        fakeqmp_expect(f, "{\"execute\": \"qmp_capabilities\"}");
        fakeqmp_reply(f, "{}");
}

void fakeqmp_expect_commands(struct fakeqmp *f, const char *const *names)
{
        char reply[4096] = "[";
        size_t n = 1;

        for (size_t i = 0; names[i] && n < sizeof reply; i++)
                n += (size_t)snprintf(reply + n, sizeof reply - n, "%s{\"name\": \"%s\"}", i ? ", " : "", names[i]);
        if (n < sizeof reply)
                snprintf(reply + n, sizeof reply - n, "]");
        fakeqmp_expect(f, "{\"execute\": \"query-commands\"}");
        fakeqmp_reply(f, reply);
}

void fakeqmp_split(struct fakeqmp *f, size_t chunk, int pause_us)
{
        add(f, OP_SPLIT, NULL, 0, (long)chunk, pause_us);
}

void fakeqmp_sleep(struct fakeqmp *f, int ms)
{
        add(f, OP_SLEEP, NULL, 0, ms, 0);
}

void fakeqmp_close(struct fakeqmp *f)
{
        add(f, OP_CLOSE, NULL, 0, 0, 0);
}

void fakeqmp_wait_eof(struct fakeqmp *f)
{
        add(f, OP_WAIT_EOF, NULL, 0, 0, 0);
}

__attribute__((format(printf, 2, 3))) static void logf_(struct fakeqmp *f, const char *fmt, ...)
{
        char *s;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        f->log = realloc(f->log, f->log_len + (size_t)n + 2);
        if (!f->log)
                abort();
        memcpy(f->log + f->log_len, s, (size_t)n);
        f->log_len += (size_t)n;
        f->log[f->log_len++] = '\n';
        f->log[f->log_len] = '\0';
        free(s);
}

#define fail(f, ...)                          \
        do {                                  \
                (f)->failures++;              \
                logf_((f), __VA_ARGS__);      \
        } while (0)

static int write_bytes(struct fakeqmp *f, const char *p, size_t n)
{
        while (n > 0) {
                size_t k = f->chunk && f->chunk < n ? f->chunk : n;
                ssize_t w = send(f->fd, p, k, MSG_NOSIGNAL);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1; /* the client went away: tests about that expect it */
                }
                p += w;
                n -= (size_t)w;
                if (f->chunk && n > 0 && f->pause_us)
                        usleep((useconds_t)f->pause_us);
        }
        return 0;
}

static int send_line(struct fakeqmp *f, const char *line)
{
        size_t n = strlen(line), idn = strlen(f->last_id), cap = n * (idn + 1) + 3, o = 0;
        char *out = malloc(cap);
        int r;

        if (!out)
                abort();
        for (const char *p = line; *p;) {
                if (strncmp(p, "$ID", 3) == 0) {
                        memcpy(out + o, f->last_id, idn);
                        o += idn;
                        p += 3;
                } else {
                        out[o++] = *p++;
                }
        }
        memcpy(out + o, "\r\n", 2);
        o += 2;
        r = write_bytes(f, out, o);
        free(out);
        return r;
}

/* One line from the client: 1 with *ret (malloc'd), 0 on EOF, -1 timeout/error. */
static int read_line(struct fakeqmp *f, char **ret)
{
        for (;;) {
                char *nl = f->rlen ? memchr(f->rbuf, '\n', f->rlen) : NULL;
                struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
                ssize_t n;

                if (nl) {
                        size_t len = (size_t)(nl - f->rbuf);
                        char *s = malloc(len + 1);

                        if (!s)
                                abort();
                        memcpy(s, f->rbuf, len);
                        s[len] = '\0';
                        memmove(f->rbuf, nl + 1, f->rlen - len - 1);
                        f->rlen -= len + 1;
                        *ret = s;
                        return 1;
                }
                if (poll(&pfd, 1, FAKEQMP_IO_TIMEOUT_MS) <= 0)
                        return -1;
                if (f->rcap - f->rlen < 4096) {
                        f->rcap = f->rcap ? f->rcap * 2 : 8192;
                        f->rbuf = realloc(f->rbuf, f->rcap);
                        if (!f->rbuf)
                                abort();
                }
                n = read(f->fd, f->rbuf + f->rlen, f->rcap - f->rlen);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? 0 : -1;
                f->rlen += (size_t)n;
        }
}

static void expect(struct fakeqmp *f, const char *want)
{
        char *line = NULL;
        json_object *got = NULL, *exp = NULL, *id, *ge, *ga, *we, *wa;
        int r = read_line(f, &line);

        if (r <= 0) {
                fail(f, "expected %s, but the client %s", want, r == 0 ? "closed the connection" : "sent nothing");
                return;
        }
        got = json_tokener_parse(line);
        if (!got || !json_object_is_type(got, json_type_object)) {
                fail(f, "expected %s, got non-JSON %s", want, line);
                goto out;
        }
        if (json_object_object_get_ex(got, "id", &id))
                snprintf(f->last_id, sizeof f->last_id, "%s", json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN));
        else
                strcpy(f->last_id, "null");
        if (!want)
                goto out;
        exp = json_tokener_parse(want);
        if (!exp)
                abort(); /* a broken script */
        json_object_object_get_ex(got, "execute", &ge);
        json_object_object_get_ex(exp, "execute", &we);
        if (!json_object_object_get_ex(got, "arguments", &ga))
                ga = NULL;
        if (!json_object_object_get_ex(exp, "arguments", &wa))
                wa = NULL;
        if (!json_object_equal(ge, we) || !json_object_equal(ga, wa))
                fail(f, "expected %s\n  got      %s", want, line);
out:
        json_object_put(got);
        json_object_put(exp);
        free(line);
}

/* The guest agent's resync: guest-sync-delimited with an id, after a 0xFF
 * or not. qemu-ga (7.2) answers a 0xFF it reads with a parse error, before
 * the sync's reply: so does this. */
static void expect_sync(struct fakeqmp *f)
{
        char *line = NULL;
        json_object *got = NULL, *ex, *args, *id;
        int r = read_line(f, &line);
        size_t at = 0;

        if (r <= 0) {
                fail(f, "expected guest-sync-delimited, but the client %s",
                     r == 0 ? "closed the connection" : "sent nothing");
                return;
        }
        if ((unsigned char)line[0] == 0xFF) {
                send_line(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\u00ff'\"}}");
                at = 1;
        }
        got = json_tokener_parse(line + at);
        if (!got || !json_object_object_get_ex(got, "execute", &ex) || !json_object_is_type(ex, json_type_string) ||
            strcmp(json_object_get_string(ex), "guest-sync-delimited") != 0 ||
            !json_object_object_get_ex(got, "arguments", &args) || !json_object_object_get_ex(args, "id", &id) ||
            !json_object_is_type(id, json_type_int)) {
                fail(f, "expected guest-sync-delimited with an integer id, got %s", line + at);
                goto out;
        }
        snprintf(f->last_id, sizeof f->last_id, "%lld", (long long)json_object_get_int64(id));
out:
        json_object_put(got);
        free(line);
}

static void *run(void *arg)
{
        struct fakeqmp *f = arg;

        if (f->listen_fd >= 0) {
                struct pollfd pfd = { .fd = f->listen_fd, .events = POLLIN };

                if (poll(&pfd, 1, FAKEQMP_IO_TIMEOUT_MS) <= 0 ||
                    (f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
                        fail(f, "no client connected");
                        return NULL;
                }
        }
        for (size_t i = 0; i < f->n_steps; i++) {
                struct step *s = &f->steps[i];
                char *line;

                switch (s->op) {
                case OP_SEND:
                        send_line(f, s->data);
                        break;
                case OP_SEND_RAW:
                        write_bytes(f, s->data, s->len);
                        break;
                case OP_EXPECT:
                        expect(f, s->data);
                        break;
                case OP_EXPECT_ANY:
                        expect(f, NULL);
                        break;
                case OP_EXPECT_SYNC:
                        expect_sync(f);
                        break;
                case OP_REPLY:
                        if (asprintf(&line, "{\"return\": %s, \"id\": $ID}", s->data) < 0)
                                abort();
                        send_line(f, line);
                        free(line);
                        break;
                case OP_SPLIT:
                        f->chunk = (size_t)s->n;
                        f->pause_us = (int)s->m;
                        break;
                case OP_SLEEP:
                        usleep((useconds_t)s->n * 1000);
                        break;
                case OP_CLOSE:
                        close(f->fd);
                        f->fd = -1;
                        return NULL;
                case OP_WAIT_EOF:
                        for (;;) {
                                int r = read_line(f, &line);
                                if (r <= 0) {
                                        if (r < 0)
                                                fail(f, "the client did not close the connection");
                                        break;
                                }
                                free(line);
                        }
                        break;
                default:
                        abort();
                }
        }
        return NULL;
}

int fakeqmp_start(struct fakeqmp *f, int *ret_fd)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        f->fd = sv[1];
        if (pthread_create(&f->thread, NULL, run, f) != 0) {
                close(sv[0]);
                close(sv[1]);
                f->fd = -1;
                return -EAGAIN;
        }
        f->running = true;
        *ret_fd = sv[0];
        return 0;
}

int fakeqmp_listen(struct fakeqmp *f, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        unlink(path);
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->listen_fd < 0)
                return -errno;
        if (bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(f->listen_fd, 1) < 0) {
                int e = errno;
                close(f->listen_fd);
                f->listen_fd = -1;
                return -e;
        }
        f->path = strdup(path);
        if (pthread_create(&f->thread, NULL, run, f) != 0)
                return -EAGAIN;
        f->running = true;
        return 0;
}

int fakeqmp_finish(struct fakeqmp *f, char **ret_log)
{
        if (f->running) {
                pthread_join(f->thread, NULL);
                f->running = false;
        }
        if (f->fd >= 0) {
                close(f->fd);
                f->fd = -1;
        }
        if (f->listen_fd >= 0) {
                close(f->listen_fd);
                f->listen_fd = -1;
        }
        if (ret_log)
                *ret_log = f->log ? strdup(f->log) : NULL;
        return f->failures ? -1 : 0;
}
