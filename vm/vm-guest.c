#include "vm-guest.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"

/* QEMU creates the chardev's socket a moment after it starts: retry while it
 * is not there yet or not listening. */
static int connect_retry(const char *path, int64_t deadline, struct qc_err *err)
{
        for (;;) {
                int fd = unix_connect(path, 0);

                if (fd >= 0)
                        return fd;
                if (fd == -ENAMETOOLONG)
                        return qc_err_set(err, ENAMETOOLONG, "%s: socket path too long", path);
                if ((fd != -ENOENT && fd != -ECONNREFUSED) || now_ms() >= deadline)
                        return qc_err_sys(err, -fd, "connect %s", path);
                usleep(50 * 1000);
        }
}

/* One question, one answer line (tag stripped) before the deadline. */
static int ask(const char *path, const char *question, int64_t deadline, char **ret_answer, struct qc_err *err)
{
        static unsigned counter;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *req = NULL;
        char tag[32], buf[8192];
        size_t len = 0;
        int n;

        if (strchr(question, '\n'))
                return qc_err_set(err, EINVAL, "question must be one line");
        fd = connect_retry(path, deadline, err);
        if (fd < 0)
                return -1;
        /* the tag tells our answer from one left over by an earlier client
         * that gave up: the guest answers every line it reads */
        n = snprintf(tag, sizeof tag, "#%d.%u ", (int)getpid(), ++counter);
        if (asprintf(&req, "%s%s\n", tag, question) < 0) {
                req = NULL;
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        if (write_all(fd, req, strlen(req)) < 0)
                return qc_err_sys(err, errno, "write to %s", path);
        for (;;) {
                char *nl;

                while ((nl = memchr(buf, '\n', len))) {
                        *nl = '\0';
                        if (nl > buf && nl[-1] == '\r')
                                nl[-1] = '\0';
                        if (strncmp(buf, tag, (size_t)n) == 0) {
                                char *a = strdup(buf + n);

                                if (!a)
                                        return qc_err_set(err, ENOMEM, "out of memory");
                                *ret_answer = a;
                                return 0;
                        }
                        len -= (size_t)(nl + 1 - buf);
                        memmove(buf, nl + 1, len);
                }
                if (len == sizeof buf - 1)
                        len = 0; /* an overlong foreign line: drop it */

                int64_t left = deadline - now_ms();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t r;

                if (left <= 0)
                        return qc_err_set(err, ETIMEDOUT, "guest: no answer to \"%s\" on %s", question, path);
                r = poll(&p, 1, (int)left);
                if (r < 0 && errno != EINTR)
                        return qc_err_sys(err, errno, "poll");
                if (r <= 0)
                        continue;
                r = read(fd, buf + len, sizeof buf - 1 - len);
                if (r < 0 && errno != EINTR && errno != EAGAIN)
                        return qc_err_sys(err, errno, "read %s", path);
                if (r == 0)
                        return qc_err_set(err, EPIPE, "guest: %s closed before answering \"%s\"", path, question);
                if (r > 0)
                        len += (size_t)r;
        }
}

int vm_guest_ask(const char *sock_path, const char *question, int timeout_ms, char **ret_answer,
                 struct qc_err *err)
{
        return ask(sock_path, question, now_ms() + timeout_ms, ret_answer, err);
}

static int ask_number(const char *path, const char *question, const char *key, int64_t deadline, long long *ret,
                      struct qc_err *err)
{
        _cleanup_free_ char *a = NULL;
        size_t kl = strlen(key);
        char *end;
        long long v;

        if (ask(path, question, deadline, &a, err) < 0)
                return -1;
        if (strncmp(a, key, kl) != 0 || a[kl] != ' ')
                return qc_err_set(err, EPROTO, "guest: \"%s\": expected \"%s N\", got \"%s\"", question, key, a);
        errno = 0;
        v = strtoll(a + kl + 1, &end, 10);
        if (errno || end == a + kl + 1 || *end)
                return qc_err_set(err, EPROTO, "guest: \"%s\": expected \"%s N\", got \"%s\"", question, key, a);
        *ret = v;
        return 0;
}

int vm_guest_ask_number(const char *sock_path, const char *question, const char *key, int timeout_ms,
                        long long *ret, struct qc_err *err)
{
        return ask_number(sock_path, question, key, now_ms() + timeout_ms, ret, err);
}

int vm_guest_wait_number(const char *sock_path, const char *question, const char *key, long long want,
                         int timeout_ms, long long *ret_got, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                long long got;

                if (ask_number(sock_path, question, key, deadline, &got, err) < 0)
                        return -1;
                *ret_got = got;
                if (got == want)
                        return 0;
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT, "the guest reports %lld, not %lld, after %d s (%s)", got,
                                          want, timeout_ms / 1000, question);
                usleep(250 * 1000);
        }
}
