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

static int connect_unix(const char *path, struct qc_err *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof sa.sun_path)
                return qc_err_set(err, ENAMETOOLONG, "%s: socket path too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return qc_err_sys(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return qc_err_sys(err, errno, "connect %s", path);
        return TAKE_FD(fd);
}

/* One question, one answer line (tag stripped) within the deadline. */
static int ask(const char *path, const char *question, int64_t deadline, char *ans, size_t anslen,
               struct qc_err *err)
{
        static unsigned counter;
        _cleanup_close_ int fd = connect_unix(path, err);
        char tag[32], req[256], buf[4096];
        size_t len = 0;
        int n;

        if (fd < 0)
                return -1;
        /* the tag tells our answer from one an earlier client left behind:
         * the guest answers every line it reads */
        n = snprintf(tag, sizeof tag, "#q%d.%u ", (int)getpid(), ++counter);
        snprintf(req, sizeof req, "%s%s\n", tag, question);
        if (write_all(fd, req, strlen(req)) < 0)
                return qc_err_sys(err, errno, "write %s", path);
        for (;;) {
                char *nl;
                ssize_t r;

                while ((nl = memchr(buf, '\n', len))) {
                        *nl = '\0';
                        if (nl > buf && nl[-1] == '\r')
                                nl[-1] = '\0';
                        if (strncmp(buf, tag, (size_t)n) == 0) {
                                snprintf(ans, anslen, "%s", buf + n);
                                return 0;
                        }
                        len -= (size_t)(nl + 1 - buf);
                        memmove(buf, nl + 1, len);
                }
                if (len == sizeof buf - 1)
                        len = 0;
                int64_t left = deadline - now_ms();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (left <= 0)
                        return qc_err_set(err, ETIMEDOUT, "guest: no answer to \"%s\" on %s", question, path);
                r = poll(&p, 1, (int)left);
                if (r < 0 && errno != EINTR)
                        return qc_err_sys(err, errno, "poll");
                if (r <= 0)
                        continue;
                r = read(fd, buf + len, sizeof buf - 1 - len);
                if (r == 0)
                        return qc_err_set(err, EPIPE, "guest: %s closed before answering", path);
                if (r < 0 && errno != EINTR && errno != EAGAIN)
                        return qc_err_sys(err, errno, "read %s", path);
                if (r > 0)
                        len += (size_t)r;
        }
}

int vm_guest_wait_number(const char *sock_path, const char *question, const char *key, long long want,
                         int timeout_ms, long long *ret_got, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;
        size_t kl = strlen(key);
        long long got = -1;

        for (;;) {
                char ans[256], *end;

                if (ask(sock_path, question, deadline, ans, sizeof ans, err) < 0)
                        return -1;
                if (strncmp(ans, key, kl) != 0 || ans[kl] != ' ')
                        return qc_err_set(err, EPROTO, "guest: \"%s\": expected \"%s N\", got \"%s\"", question, key,
                                          ans);
                errno = 0;
                got = strtoll(ans + kl + 1, &end, 10);
                if (errno || end == ans + kl + 1 || *end)
                        return qc_err_set(err, EPROTO, "guest: \"%s\": expected \"%s N\", got \"%s\"", question, key,
                                          ans);
                *ret_got = got;
                if (got == want)
                        return 0;
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT, "the guest reports %lld, not %lld, after %d s (%s)", got,
                                          want, timeout_ms / 1000, question);
                usleep(250 * 1000);
        }
}
