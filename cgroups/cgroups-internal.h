/* cgroups/ internals: shared by the module's files and its tests only. */
#pragma once
#include "cgroups.h"

/* What the kernel does by itself when a cgroup is made or removed, and how
 * the enabled controllers are read. cg_hier_open() uses the kernel's; a test
 * gives its own stand-in (a plain directory tree: tests/lib/fakecg.c) to
 * cg_hier_open_ops() once, at setup. */
struct cg_fs_ops {
        /* make cgroup name below dirfd, with the interface files in it;
         * returns 0 or -errno (-EEXIST as is: callers decide) */
        int (*mkdirat)(int dirfd, const char *name);
        /* remove the empty cgroup name below dirfd (AT_FDCWD: an absolute
         * path); 0 or -errno */
        int (*rmdirat)(int dirfd, const char *name);
        /* controllers enabled in dirfd's cgroup.subtree_control */
        unsigned (*subtree_control)(int dirfd);
};
extern const struct cg_fs_ops cg_kernel_ops;

struct cg_hier {
        char *path;       /* mount point (or a test's tree) */
        int fd;           /* its directory */
        unsigned v1_mask; /* controllers bound to cgroup v1 */
        bool sub;         /* a subtree (cg_hier_open_sub), not the mount */
        const struct cg_fs_ops *ops;
};

struct cg_vm {
        char *path;     /* absolute */
        int fd;         /* <parent>/<name> */
        int emu_fd;     /* emulator/ */
        int *vcpu_fds;  /* vcpuN/, -1 until opened */
        unsigned n_vcpu_fds;
        unsigned threaded_ctl; /* controllers enabled in the VM's subtree_control */
        const struct cg_fs_ops *ops; /* its hierarchy's */
};

/* Open the tree at path with ops standing in for the kernel (no check that
 * path is a cgroup2 mount). For tests. */
int cg_hier_open_ops(const char *path, const struct cg_fs_ops *ops, struct cg_hier **ret, struct qc_err *err);
/* Parse a space-separated controller list ("cpuset cpu io"), unknown names
 * ignored. */
unsigned cg_mask_parse(const char *s);
/* "vm1", "qemuctl", "a/b": components of [A-Za-z0-9._:@-], no "." or "..". */
bool cg_path_is_valid(const char *rel);
