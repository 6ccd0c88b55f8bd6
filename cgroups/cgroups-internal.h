/* cgroups/ internals: shared by the module's files and its tests only. */
#pragma once
#include "cgroups.h"

struct cg_hier {
        char *path;       /* mount point (or fake tree) */
        int fd;           /* its directory */
        unsigned v1_mask; /* controllers bound to cgroup v1 */
        bool fake;
};

struct cg_vm {
        char *path;     /* absolute */
        int fd;         /* <parent>/<name> */
        int emu_fd;     /* emulator/ */
        int *vcpu_fds;  /* vcpuN/, -1 until opened */
        unsigned n_vcpu_fds;
        unsigned threaded_ctl; /* controllers enabled in the VM's subtree_control */
};

/* A fake tree for tests: a plain directory where cgroups are directories and
 * interface files are regular files. cgroup directories created by the
 * library get the interface files the kernel would create (cgroup.* and the
 * files of the controllers their parent enabled), empty except
 * cgroup.controllers and cgroup.events ("populated 0\nfrozen 0\n"). Every
 * cg_write appends "value\n", so a test reads the exact sequence of writes. */
int cg_hier_open_fake(const char *path, struct cg_hier **ret, struct qc_err *err);

/* True when dirfd is not on cgroup2 (a fake tree). */
bool cg_fd_is_fake(int dirfd);
/* mkdirat for a cgroup (populating it in a fake tree). -EEXIST is returned
 * as is (callers decide). */
int cg_mkdirat(int dirfd, const char *name);
/* The set of controllers "+a -b" writes in a fake subtree_control log leave
 * enabled (the fake kernel's view). */
unsigned cg_fake_enabled(int dirfd);
/* Parse a space-separated controller list ("cpuset cpu io"), unknown names
 * ignored. */
unsigned cg_mask_parse(const char *s);
/* "vm1", "qemuctl", "a/b": components of [A-Za-z0-9._:@-], no "." or "..". */
bool cg_path_is_valid(const char *rel);
