/* The one place that reads and writes cgroup interface files, and the
 * kernel's side of making and removing a cgroup (cg_kernel_ops). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups-internal.h"
#include "common/cleanup.h"
#include "common/io.h"

int cg_write(int dirfd, const char *file, const char *value, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *line = NULL;
        ssize_t n;

        /* no O_CREAT: a file the kernel does not have is ENOENT. The kernel
         * takes one write(2) per value and strips the newline; O_APPEND does
         * nothing on cgroupfs, and in a test's tree of plain files it keeps
         * every write, in order. */
        fd = openat(dirfd, file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return qc_err_sys(err, errno, "write \"%s\" to %s", value, file);
        if (asprintf(&line, "%s\n", value) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        n = write(fd, line, strlen(line));
        if (n < 0)
                return qc_err_sys(err, errno, "write \"%s\" to %s", value, file);
        if ((size_t)n != strlen(line))
                return qc_err_sys(err, EIO, "write \"%s\" to %s", value, file);
        return 0;
}

int cg_read(int dirfd, const char *file, char **ret, struct qc_err *err)
{
        int r = read_file_at(dirfd, file, 1 << 20, ret, NULL);

        if (r < 0)
                return qc_err_sys(err, -r, "read %s", file);
        return 0;
}

int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret, struct qc_err *err)
{
        _cleanup_free_ char *s = NULL;
        size_t klen = strlen(key);

        if (cg_read(dirfd, file, &s, err) < 0)
                return -1;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');

                if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
                        char *end;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(line + klen + 1, &end, 10);
                        if (errno || end == line + klen + 1)
                                return qc_err_set(err, EINVAL, "%s: \"%s\" is not a number", file, key);
                        *ret = v;
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return qc_err_set(err, ENOENT, "%s has no \"%s\"", file, key);
}

static int kernel_mkdirat(int dirfd, const char *name)
{
        return mkdirat(dirfd, name, 0755) < 0 ? -errno : 0;
}

static int kernel_rmdirat(int dirfd, const char *name)
{
        /* a cgroup directory goes with its interface files */
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static unsigned kernel_subtree_control(int dirfd)
{
        _cleanup_free_ char *s = NULL;

        if (read_file_at(dirfd, "cgroup.subtree_control", 0, &s, NULL) < 0)
                return 0;
        return cg_mask_parse(s);
}

const struct cg_fs_ops cg_kernel_ops = {
        .mkdirat = kernel_mkdirat,
        .rmdirat = kernel_rmdirat,
        .subtree_control = kernel_subtree_control,
};
