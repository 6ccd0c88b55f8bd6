/* The fake cgroupfs's side of the kernel (fakecg.h). */
#include "fakecg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"

unsigned fakecg_enabled(int dirfd)
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

static const char *const common_files[] = {
        "cgroup.procs", "cgroup.threads", "cgroup.type", "cgroup.subtree_control", "cgroup.freeze",
        "cgroup.kill",  "cpu.stat",       "cpu.pressure", "memory.pressure",       "io.pressure",
};

static const struct {
        enum cg_controller c;
        const char *file;
} controller_files[] = {
        { CG_CPUSET, "cpuset.cpus" },     { CG_CPUSET, "cpuset.mems" },  { CG_CPU, "cpu.weight" },
        { CG_CPU, "cpu.max" },            { CG_MEMORY, "memory.max" },   { CG_MEMORY, "memory.high" },
        { CG_MEMORY, "memory.min" },      { CG_MEMORY, "memory.swap.max" }, { CG_MEMORY, "memory.current" },
        { CG_MEMORY, "memory.stat" },     { CG_PIDS, "pids.max" },       { CG_PIDS, "pids.current" },
        { CG_IO, "io.weight" },
};

static int touch(int dirfd, const char *file, const char *content)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        return content ? write_all(fd, content, strlen(content)) : 0;
}

static int fake_mkdirat(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *ctl = NULL;
        unsigned enabled;
        int r;

        if (mkdirat(dirfd, name, 0755) < 0)
                return -errno;
        /* what the kernel creates in a new cgroup: the core files, and the
         * files of each controller the parent hands down */
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        enabled = fakecg_enabled(dirfd);
        for (size_t i = 0; i < ELEMENTSOF(common_files); i++)
                if ((r = touch(fd, common_files[i], NULL)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(controller_files); i++)
                if (enabled & CG_MASK(controller_files[i].c))
                        if ((r = touch(fd, controller_files[i].file, NULL)) < 0)
                                return r;
        ctl = cg_mask_to_string(enabled);
        if (!ctl)
                return -ENOMEM;
        if ((r = touch(fd, "cgroup.controllers", ctl)) < 0)
                return r;
        return touch(fd, "cgroup.events", "populated 0\nfrozen 0\n");
}

static int fake_rmdirat(int dirfd, const char *name)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return -errno;
        /* the kernel's interface files go with the directory; ours are files */
        d = opendir_at_fd(fd);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_type == DT_REG)
                        (void)unlinkat(fd, de->d_name, 0);
        closedir(d);
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

const struct cg_fs_ops fakecg_ops = {
        .mkdirat = fake_mkdirat,
        .rmdirat = fake_rmdirat,
        .subtree_control = fakecg_enabled,
};

int fakecg_open(const char *path, struct cg_hier **ret, struct qc_err *err)
{
        return cg_hier_open_ops(path, &fakecg_ops, ret, err);
}
