#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        if (max == 0)
                max = 64u << 20;
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        char *nb;
                        if (cap >= max)
                                return -EFBIG;
                        cap = cap * 2 > max ? max : cap * 2;
                        nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_fd_all(fd, max, ret, ret_len);
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        return read_file_at(AT_FDCWD, path, max, ret, ret_len);
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int write_file(const char *path, const char *s, mode_t mode)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, mode);

        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

int write_file_at(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -errno;
        /* cgroupfs and sysfs take one write(2) per value */
        n = write(fd, s, strlen(s));
        if (n < 0)
                return -errno;
        if ((size_t)n != strlen(s))
                return -EIO;
        return 0;
}

static int write_atomic(int dirfd, const char *path, const char *s, mode_t mode, bool durable)
{
        static unsigned counter;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        /* a name of our own, made here (O_EXCL) and never followed: whatever
         * else sits at a temporary name is not ours to write through */
        for (int i = 0; fd < 0; i++) {
                free(tmp);
                if (asprintf(&tmp, "%s.tmp.%d.%u", path, (int)getpid(), counter++) < 0) {
                        tmp = NULL;
                        return -ENOMEM;
                }
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
                if (fd < 0 && (errno != EEXIST || i >= 100))
                        return -errno;
        }
        r = write_all(fd, s, strlen(s));
        /* durable: the bytes are on disk before the name points at them, and
         * the rename is on disk before we say it is done */
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(dirfd, tmp, 0);
        else if (durable && fsync(dirfd) < 0)
                r = -errno;
        return r;
}

int write_file_atomic_at(int dirfd, const char *path, const char *s, mode_t mode)
{
        return write_atomic(dirfd, path, s, mode, false);
}

int write_file_durable_at(int dirfd, const char *path, const char *s, mode_t mode)
{
        return write_atomic(dirfd, path, s, mode, true);
}

char *text_tail(const char *text, size_t len, size_t max)
{
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
                len--;
        if (!len)
                return NULL;
        return len > max ? strndup(text + len - max, max) : strndup(text, len);
}

char *path_join(const char *dir, const char *name)
{
        size_t n = dir ? strlen(dir) : 0;
        char *p;

        if (n == 0)
                return strdup(name);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (asprintf(&p, "%.*s%s%s", (int)n, dir, dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return p;
}

int unix_sockaddr(const char *path, struct sockaddr_un *ret)
{
        if (strlen(path) > UNIX_PATH_MAX_BYTES)
                return -ENAMETOOLONG;
        *ret = (struct sockaddr_un){ .sun_family = AF_UNIX };
        strcpy(ret->sun_path, path);
        return 0;
}

int unix_connect(const char *path, int flags)
{
        struct sockaddr_un sa;
        _cleanup_close_ int fd = -1;
        int r = unix_sockaddr(path, &sa);

        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
        if (fd < 0)
                return -errno;
        while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                if (errno != EINTR)
                        return -errno;
        return TAKE_FD(fd);
}

char *path_beside(const char *file, const char *name)
{
        const char *slash = strrchr(file, '/');
        char *p;

        if (name[0] == '/' || !slash)
                return strdup(name);
        if (asprintf(&p, "%.*s/%s", (int)(slash - file), file, name) < 0)
                return NULL;
        return p;
}

DIR *opendir_at_fd(int dirfd)
{
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return d;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);
        size_t len;

        if (!p)
                return -ENOMEM;
        len = strlen(p);
        for (size_t i = 1; i <= len; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                p[i] = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (i < len)
                        p[i] = '/';
        }
        return 0;
}

int read_u64_file(const char *path, uint64_t *ret)
{
        return read_u64_file_at(AT_FDCWD, path, ret);
}

int read_u64_file_at(int dirfd, const char *path, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        unsigned long long v;
        char *end;
        int r = read_file_at(dirfd, path, 4096, &s, NULL);

        if (r < 0)
                return r;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        *ret = v;
        return 0;
}

int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_ms(void)
{
        return now_ns() / 1000000;
}

int remove_dir_flat_at(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        closedir(d);
        if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = -errno;
        return r;
}
