/* The one place that reads and writes cgroup interface files, and the fake
 * tree's stand-in for the kernel's side of mkdir. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroups-internal.h"
#include "common/cleanup.h"
#include "common/io.h"

bool cg_fd_is_fake(int dirfd)
{
        struct statfs sfs;

        if (fstatfs(dirfd, &sfs) < 0)
                return false;
        return sfs.f_type != CGROUP2_SUPER_MAGIC;
}

int cg_write(int dirfd, const char *file, const char *value, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *line = NULL;
        int r;

        if (!cg_fd_is_fake(dirfd)) {
                r = write_file_at(dirfd, file, value);
                if (r < 0)
                        return qc_err_sys(err, -r, "write \"%s\" to %s", value, file);
                return 0;
        }
        /* fake tree: no O_CREAT, so a file the kernel would not have is ENOENT
         * here too; append, so tests see every write in order */
        fd = openat(dirfd, file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return qc_err_sys(err, errno, "write \"%s\" to %s", value, file);
        if (asprintf(&line, "%s\n", value) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        r = write_all(fd, line, strlen(line));
        if (r < 0)
                return qc_err_sys(err, -r, "write \"%s\" to %s", value, file);
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

unsigned cg_fake_enabled(int dirfd)
{
        _cleanup_free_ char *s = NULL;
        unsigned mask = 0;
        char *save = NULL;

        if (read_file_at(dirfd, "cgroup.subtree_control", 0, &s, NULL) < 0)
                return 0;
        for (char *tok = strtok_r(s, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
                enum cg_controller c = cg_controller_from_string(tok + 1);

                if (c == _CG_CONTROLLER_INVALID)
                        continue;
                if (tok[0] == '+')
                        mask |= CG_MASK(c);
                else if (tok[0] == '-')
                        mask &= ~CG_MASK(c);
        }
        return mask;
}

static const char *const fake_common_files[] = {
        "cgroup.procs", "cgroup.threads", "cgroup.type", "cgroup.subtree_control", "cgroup.freeze",
        "cgroup.kill",  "cpu.stat",       "cpu.pressure", "memory.pressure",       "io.pressure",
};

static const struct {
        enum cg_controller c;
        const char *file;
} fake_controller_files[] = {
        { CG_CPUSET, "cpuset.cpus" },     { CG_CPUSET, "cpuset.mems" },  { CG_CPU, "cpu.weight" },
        { CG_CPU, "cpu.max" },            { CG_MEMORY, "memory.max" },   { CG_MEMORY, "memory.high" },
        { CG_MEMORY, "memory.min" },      { CG_MEMORY, "memory.swap.max" }, { CG_MEMORY, "memory.current" },
        { CG_MEMORY, "memory.stat" },     { CG_PIDS, "pids.max" },       { CG_PIDS, "pids.current" },
        { CG_IO, "io.weight" },
};

static int fake_touch(int dirfd, const char *file, const char *content)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        return content ? write_all(fd, content, strlen(content)) : 0;
}

int cg_mkdirat(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *ctl = NULL;
        unsigned enabled;
        int r;

        if (mkdirat(dirfd, name, 0755) < 0)
                return -errno;
        if (!cg_fd_is_fake(dirfd))
                return 0;
        /* what the kernel creates in a new cgroup: the core files, and the
         * files of each controller the parent hands down */
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        enabled = cg_fake_enabled(dirfd);
        for (size_t i = 0; i < ELEMENTSOF(fake_common_files); i++)
                if ((r = fake_touch(fd, fake_common_files[i], NULL)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(fake_controller_files); i++)
                if (enabled & CG_MASK(fake_controller_files[i].c))
                        if ((r = fake_touch(fd, fake_controller_files[i].file, NULL)) < 0)
                                return r;
        ctl = cg_mask_to_string(enabled);
        if (!ctl)
                return -ENOMEM;
        if ((r = fake_touch(fd, "cgroup.controllers", ctl)) < 0)
                return r;
        return fake_touch(fd, "cgroup.events", "populated 0\nfrozen 0\n");
}
