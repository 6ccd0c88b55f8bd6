#include "serial-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"

struct serial_log {
        char *path, *path1;
        int fd;
        uint64_t size, max;
};

static int open_new(struct serial_log *l, struct qc_err *err)
{
        l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (l->fd < 0)
                return qc_err_sys(err, errno, "open %s", l->path);
        l->size = 0;
        return 0;
}

int serial_log_open(const char *path, uint64_t max, struct serial_log **ret, struct qc_err *err)
{
        struct serial_log *l = calloc(1, sizeof *l);

        if (!l || !(l->path = strdup(path)) || asprintf(&l->path1, "%s.1", path) < 0) {
                if (l)
                        free(l->path);
                free(l);
                return qc_err_sys(err, ENOMEM, "%s", path);
        }
        l->max = max;
        unlink(l->path1);
        if (open_new(l, err) < 0) {
                l->fd = -1;
                serial_log_close(l);
                return -1;
        }
        *ret = l;
        return 0;
}

/* serial.log -> serial.log.1, and a new serial.log. */
static int rotate(struct serial_log *l, struct qc_err *err)
{
        close(l->fd);
        l->fd = -1;
        if (rename(l->path, l->path1) < 0)
                return qc_err_sys(err, errno, "rename %s to %s", l->path, l->path1);
        return open_new(l, err);
}

int serial_log_write(struct serial_log *l, const void *buf, size_t n, struct qc_err *err)
{
        const char *p = buf;

        while (n > 0) {
                size_t chunk = n;

                if (l->fd < 0 && open_new(l, err) < 0)
                        return -1;
                if (l->max) {
                        if (l->size >= l->max && rotate(l, err) < 0)
                                return -1;
                        if (chunk > l->max - l->size)
                                chunk = (size_t)(l->max - l->size);
                }
                if (write_all(l->fd, p, chunk) < 0)
                        return qc_err_sys(err, errno, "write %s", l->path);
                l->size += chunk;
                p += chunk;
                n -= chunk;
        }
        return 0;
}

void serial_log_close(struct serial_log *l)
{
        if (!l)
                return;
        if (l->fd >= 0)
                close(l->fd);
        free(l->path);
        free(l->path1);
        free(l);
}

void *serial_log_pump(void *arg)
{
        struct serial_log_pump *p = arg;
        char buf[65536];

        for (;;) {
                ssize_t n = read(p->fd, buf, sizeof buf);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                /* a full disk loses log, never blocks the guest */
                serial_log_write(p->log, buf, (size_t)n, NULL);
        }
        close(p->fd);
        p->fd = -1;
        return NULL;
}

/* ---- following ---- */

#define LINE_MAX_BYTES (1u << 20)
#define LINE_OVERLAP 4096u

struct serial_follow {
        int dirfd;
        char *name, *name1;
        int fd;
        dev_t dev;
        ino_t ino;
        bool old_done; /* name.1 read (or absent) */
        char *line;
        size_t len, cap;
};

int serial_follow_open(int dirfd, const char *name, struct serial_follow **ret, struct qc_err *err)
{
        struct serial_follow *f = calloc(1, sizeof *f);

        if (!f || !(f->name = strdup(name)) || asprintf(&f->name1, "%s.1", name) < 0) {
                if (f)
                        free(f->name);
                free(f);
                return qc_err_sys(err, ENOMEM, "%s", name);
        }
        f->fd = -1;
        f->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (f->dirfd < 0) {
                int e = errno;
                serial_follow_close(f);
                return qc_err_sys(err, e, "%s", name);
        }
        *ret = f;
        return 0;
}

void serial_follow_close(struct serial_follow *f)
{
        if (!f)
                return;
        if (f->fd >= 0)
                close(f->fd);
        if (f->dirfd >= 0)
                close(f->dirfd);
        free(f->name);
        free(f->name1);
        free(f->line);
        free(f);
}

/* The line stays NUL-terminated past its length: matchers take it by
 * length (REG_STARTEND), but ASan's regexec interceptor measures it with
 * strlen first and read past an unterminated buffer. */
static int append(struct serial_follow *f, const char *p, size_t n, struct qc_err *err)
{
        if (f->len + n + 1 > f->cap) {
                size_t ncap = f->cap ? f->cap : 4096;
                char *nl;

                while (ncap < f->len + n + 1)
                        ncap *= 2;
                nl = realloc(f->line, ncap);
                if (!nl)
                        return qc_err_sys(err, ENOMEM, "%s", f->name);
                f->line = nl;
                f->cap = ncap;
        }
        memcpy(f->line + f->len, p, n);
        f->len += n;
        f->line[f->len] = '\0';
        return 0;
}

/* Feed bytes; 1 when fn matched. */
static int feed(struct serial_follow *f, const char *p, size_t n, serial_line_fn fn, void *ud, struct qc_err *err)
{
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t take = nl ? (size_t)(nl - p) : n;

                if (f->len + take > LINE_MAX_BYTES) {
                        /* a line without end: hand it in overlapping pieces */
                        size_t room = LINE_MAX_BYTES - f->len;

                        if (append(f, p, room, err) < 0)
                                return -1;
                        if (fn(f->line, f->len, true, ud))
                                return 1;
                        memmove(f->line, f->line + f->len - LINE_OVERLAP, LINE_OVERLAP);
                        f->len = LINE_OVERLAP;
                        p += room;
                        n -= room;
                        continue;
                }
                if (append(f, p, take, err) < 0)
                        return -1;
                p += take;
                n -= take;
                if (!nl)
                        break;
                p++, n--;
                if (fn(f->line, f->len, false, ud))
                        return 1;
                f->len = 0;
        }
        return 0;
}

/* Read fd to its end. */
static int drain(struct serial_follow *f, int fd, serial_line_fn fn, void *ud, struct qc_err *err)
{
        char buf[65536];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return qc_err_sys(err, errno, "read %s", f->name);
                if (n == 0)
                        return 0;
                r = feed(f, buf, (size_t)n, fn, ud, err);
                if (r != 0)
                        return r;
        }
}

int serial_follow_scan(struct serial_follow *f, serial_line_fn fn, void *ud, struct qc_err *err)
{
        struct stat st;
        int r;

        if (!f->old_done) {
                _cleanup_close_ int old = openat(f->dirfd, f->name1, O_RDONLY | O_CLOEXEC);

                f->old_done = true;
                if (old >= 0 && (r = drain(f, old, fn, ud, err)) != 0)
                        return r;
        }
        for (;;) {
                if (f->fd < 0) {
                        /* `run --serial-log FILE` makes serial.log a symlink to FILE */
                        f->fd = openat(f->dirfd, f->name, O_RDONLY | O_CLOEXEC);
                        if (f->fd < 0) {
                                if (errno == ENOENT)
                                        break; /* not yet */
                                return qc_err_sys(err, errno, "open %s", f->name);
                        }
                        if (fstat(f->fd, &st) < 0)
                                return qc_err_sys(err, errno, "stat %s", f->name);
                        f->dev = st.st_dev;
                        f->ino = st.st_ino;
                }
                r = drain(f, f->fd, fn, ud, err);
                if (r != 0)
                        return r;
                /* rotated (a new file under the name) or truncated (a new
                 * run of the VM)? The old file was read to its end. */
                if (fstatat(f->dirfd, f->name, &st, 0) == 0 && (st.st_dev != f->dev || st.st_ino != f->ino)) {
                        close(f->fd);
                        f->fd = -1;
                        continue;
                }
                if (fstat(f->fd, &st) == 0 && st.st_size < lseek(f->fd, 0, SEEK_CUR)) {
                        lseek(f->fd, 0, SEEK_SET);
                        f->len = 0;
                        continue;
                }
                break;
        }
        if (f->len > 0 && fn(f->line, f->len, true, ud))
                return 1;
        return 0;
}
