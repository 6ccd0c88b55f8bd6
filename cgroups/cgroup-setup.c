/* Creating a VM's cgroup subtree: enable controllers down the path, make the
 * threaded children, move processes and threads, fork straight into a cgroup. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups-internal.h"
#include "common/cleanup.h"
#include "common/io.h"

/* One write of cgroup.subtree_control: "+cpu +memory" (sign '+', enable)
 * or "-cpu -memory" (sign '-', disable) for the controllers in mask. */
static int write_subtree_control(int fd, char sign, unsigned mask, struct qc_err *err)
{
        char buf[128] = "";

        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                if (!(mask & CG_MASK(i)))
                        continue;
                snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%c%s", buf[0] ? " " : "", sign,
                         cg_controller_to_string((enum cg_controller)i));
        }
        return cg_write(fd, "cgroup.subtree_control", buf, err);
}

/* Enable want in cgroup.subtree_control of fd (only what is not already on:
 * in a delegated subtree the levels above may be enabled but not ours to
 * write). One write for all; if the kernel refuses it, one per controller to
 * learn which. Returns what ended up enabled of want. */
static unsigned enable_here(const struct cg_fs_ops *ops, int fd, unsigned want, unsigned *refused)
{
        unsigned have = ops->subtree_control(fd), missing = want & ~have;

        if (!missing || write_subtree_control(fd, '+', missing, NULL) == 0)
                return want;
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                if (!(missing & CG_MASK(i)))
                        continue;
                if (write_subtree_control(fd, '+', CG_MASK(i), NULL) < 0) {
                        *refused |= CG_MASK(i);
                        want &= ~CG_MASK(i);
                }
        }
        return want;
}

static int open_dir_at(int dirfd, const char *name)
{
        return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Walk root → parent, creating the levels and enabling want at each (the
 * parent's own subtree_control included: that gives the VM cgroup its files). */
static int enable_path(struct cg_hier *h, const char *parent, unsigned want, int *ret_fd, unsigned *ret_enabled,
                       unsigned *ret_refused, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *copy = NULL;
        unsigned offered = 0, refused = 0;
        char *save = NULL;

        while (parent && *parent == '/')
                parent++;
        if (parent && *parent && !cg_path_is_valid(parent))
                return qc_err_set(err, EINVAL,
                                  "cgroup parent \"%s\": use names of letters, digits and ._:@- separated by /",
                                  parent);
        if (cg_hier_controllers(h, &offered, err) < 0)
                return -1;
        want &= offered;
        fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return qc_err_sys(err, errno, "dup");
        copy = strdup(parent ? parent : "");
        if (!copy)
                return qc_err_set(err, ENOMEM, "out of memory");
        want = enable_here(h->ops, fd, want, &refused);
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int r = h->ops->mkdirat(fd, c), nfd;

                if (r < 0 && r != -EEXIST)
                        return qc_err_sys(err, -r, "create cgroup %s/%s", h->path, parent);
                nfd = open_dir_at(fd, c);
                if (nfd < 0)
                        return qc_err_sys(err, errno, "open cgroup %s/%s", h->path, parent);
                close(fd);
                fd = nfd;
                want = enable_here(h->ops, fd, want, &refused);
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        *ret_enabled = want;
        if (ret_refused)
                *ret_refused = refused;
        return 0;
}

int cg_usable(struct cg_hier *h, const char *parent, unsigned *ret_usable, unsigned *ret_refused, struct qc_err *err)
{
        unsigned offered;

        if (cg_hier_controllers(h, &offered, err) < 0)
                return -1;
        return enable_path(h, parent, offered, NULL, ret_usable, ret_refused, err);
}

static int make_threaded(const struct cg_fs_ops *ops, int dirfd, const char *name, int *ret_fd,
                         struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *type = NULL;
        int r = ops->mkdirat(dirfd, name);

        if (r < 0 && r != -EEXIST)
                return qc_err_sys(err, -r, "create cgroup %s", name);
        fd = open_dir_at(dirfd, name);
        if (fd < 0)
                return qc_err_sys(err, errno, "open cgroup %s", name);
        /* a new child of a threaded root starts as "domain invalid"; a
         * leftover that already is threaded is left alone */
        if (r == -EEXIST && cg_read(fd, "cgroup.type", &type, NULL) == 0 && strcmp(type, "threaded\n") == 0) {
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        if (cg_write(fd, "cgroup.type", "threaded", err) < 0)
                return qc_err_wrap(err, "cgroup %s", name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static struct cg_vm *vm_new(const struct cg_hier *h, const char *parent, const char *name)
{
        const char *hpath = h->path;
        struct cg_vm *vm = calloc(1, sizeof *vm);

        if (!vm)
                return NULL;
        vm->fd = vm->emu_fd = -1;
        vm->ops = h->ops;
        while (parent && *parent == '/')
                parent++;
        if (asprintf(&vm->path, "%s%s%s/%s", hpath, parent && *parent ? "/" : "", parent ? parent : "", name) < 0) {
                free(vm);
                return NULL;
        }
        return vm;
}

DEFINE_CLEANUP_FUNC(struct cg_vm *, cg_vm_free)

int cg_vm_create(struct cg_hier *h, const char *parent, const char *name, unsigned controllers, unsigned n_vcpus,
                 struct cg_vm **ret, struct qc_err *err)
{
        _cleanup_(cg_vm_freep) struct cg_vm *vm = NULL;
        _cleanup_close_ int pfd = -1;
        unsigned enabled = 0, refused = 0, tctl;
        int r;

        if (!cg_path_is_valid(name) || strchr(name, '/'))
                return qc_err_set(err, EINVAL, "\"%s\" cannot be a cgroup name", name);
        vm = vm_new(h, parent, name);
        if (!vm)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (enable_path(h, parent, controllers, &pfd, &enabled, &refused, err) < 0)
                return -1;
        if (controllers & ~enabled) {
                _cleanup_free_ char *missing = cg_mask_to_string(controllers & ~enabled);
                return qc_err_set(err, EOPNOTSUPP, "cgroup %s: controllers not usable here: %s", vm->path,
                                  missing ? missing : "?");
        }
        r = h->ops->mkdirat(pfd, name);
        if (r < 0 && r != -EEXIST)
                return qc_err_sys(err, -r, "create cgroup %s", vm->path);
        vm->fd = open_dir_at(pfd, name);
        if (vm->fd < 0)
                return qc_err_sys(err, errno, "open cgroup %s", vm->path);
        if (r == -EEXIST) {
                bool empty = false;

                if (cg_is_empty(vm->fd, &empty, err) < 0)
                        return qc_err_wrap(err, "cgroup %s", vm->path);
                if (!empty)
                        return qc_err_set(err, EBUSY,
                                          "cgroup %s already holds processes: is a VM of that name running?",
                                          vm->path);
        }
        /* cpu and cpuset work per thread; memory and pids stay on the domain */
        tctl = controllers & (CG_MASK(CG_CPU) | CG_MASK(CG_CPUSET));
        if (tctl && (vm->ops->subtree_control(vm->fd) & tctl) != tctl)
                if (write_subtree_control(vm->fd, '+', tctl & ~vm->ops->subtree_control(vm->fd), err) < 0)
                        return qc_err_wrap(err, "cgroup %s", vm->path);
        vm->threaded_ctl = tctl;
        if (make_threaded(vm->ops, vm->fd, "emulator", &vm->emu_fd, err) < 0)
                return qc_err_wrap(err, "cgroup %s", vm->path);
        for (unsigned i = 0; i < n_vcpus; i++) {
                int fd;
                if (cg_vm_vcpu_fd(vm, i, &fd, err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(vm);
        return 0;
}

int cg_vm_open(struct cg_hier *h, const char *parent, const char *name, struct cg_vm **ret, struct qc_err *err)
{
        _cleanup_(cg_vm_freep) struct cg_vm *vm = NULL;

        if (!cg_path_is_valid(name) || strchr(name, '/') || (parent && *parent && !cg_path_is_valid(parent)))
                return qc_err_set(err, EINVAL, "\"%s/%s\" cannot be a cgroup path", parent ? parent : "", name);
        vm = vm_new(h, parent, name);
        if (!vm)
                return qc_err_set(err, ENOMEM, "out of memory");
        vm->fd = open(vm->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (vm->fd < 0)
                return qc_err_sys(err, errno, "open cgroup %s", vm->path);
        vm->emu_fd = open_dir_at(vm->fd, "emulator");
        if (vm->emu_fd < 0)
                return qc_err_sys(err, errno, "open cgroup %s/emulator", vm->path);
        vm->threaded_ctl = vm->ops->subtree_control(vm->fd);
        *ret = TAKE_PTR(vm);
        return 0;
}

void cg_vm_free(struct cg_vm *vm)
{
        if (!vm)
                return;
        for (unsigned i = 0; i < vm->n_vcpu_fds; i++)
                if (vm->vcpu_fds[i] >= 0)
                        close(vm->vcpu_fds[i]);
        free(vm->vcpu_fds);
        if (vm->emu_fd >= 0)
                close(vm->emu_fd);
        if (vm->fd >= 0)
                close(vm->fd);
        free(vm->path);
        free(vm);
}

const char *cg_vm_path(const struct cg_vm *vm)
{
        return vm->path;
}

int cg_vm_fd(const struct cg_vm *vm)
{
        return vm->fd;
}

int cg_vm_emulator_fd(const struct cg_vm *vm)
{
        return vm->emu_fd;
}

int cg_vm_vcpu_fd(struct cg_vm *vm, unsigned vcpu, int *ret_fd, struct qc_err *err)
{
        char name[32];

        if (vcpu >= 4096)
                return qc_err_set(err, ERANGE, "vCPU %u is out of range", vcpu);
        if (vcpu >= vm->n_vcpu_fds) {
                unsigned n = vcpu + 1;
                int *v = realloc(vm->vcpu_fds, n * sizeof *v);

                if (!v)
                        return qc_err_set(err, ENOMEM, "out of memory");
                for (unsigned i = vm->n_vcpu_fds; i < n; i++)
                        v[i] = -1;
                vm->vcpu_fds = v;
                vm->n_vcpu_fds = n;
        }
        if (vm->vcpu_fds[vcpu] < 0) {
                snprintf(name, sizeof name, "vcpu%u", vcpu);
                if (make_threaded(vm->ops, vm->fd, name, &vm->vcpu_fds[vcpu], err) < 0)
                        return qc_err_wrap(err, "cgroup %s", vm->path);
        }
        *ret_fd = vm->vcpu_fds[vcpu];
        return 0;
}

int cg_vm_place_pid(struct cg_vm *vm, pid_t pid, struct qc_err *err)
{
        char buf[24];

        snprintf(buf, sizeof buf, "%d", (int)pid);
        if (cg_write(vm->emu_fd, "cgroup.procs", buf, err) < 0)
                return qc_err_wrap(err, "move process %d into cgroup %s/emulator", (int)pid, vm->path);
        return 0;
}

int cg_vm_place_vcpu(struct cg_vm *vm, unsigned vcpu, pid_t tid, struct qc_err *err)
{
        char buf[24];
        int fd;

        if (cg_vm_vcpu_fd(vm, vcpu, &fd, err) < 0)
                return -1;
        snprintf(buf, sizeof buf, "%d", (int)tid);
        /* cgroup v2 moves single threads only within one threaded subtree:
         * the thread's process must already be in emulator/ (or the VM) */
        if (cg_write(fd, "cgroup.threads", buf, err) < 0)
                return qc_err_wrap(err, "move vCPU %u thread %d into cgroup %s/vcpu%u", vcpu, (int)tid, vm->path,
                                   vcpu);
        return 0;
}

int cg_clone_into(int cgroup_fd, pid_t *ret_pid, int *ret_pidfd, struct qc_err *err)
{
        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_INTO_CGROUP | (ret_pidfd ? CLONE_PIDFD : 0),
                .pidfd = ret_pidfd ? (uint64_t)(uintptr_t)&pidfd : 0,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)cgroup_fd,
        };
        long r;

        /* glibc 2.36 has no clone3 wrapper; the raw syscall skips glibc's fork
         * handlers, so the child may only exec (or call async-signal-safe code) */
        r = syscall(SYS_clone3, &args, sizeof args);
        if (r < 0)
                return qc_err_sys(err, errno, "clone3 into cgroup");
        *ret_pid = (pid_t)r;
        if (r > 0 && ret_pidfd)
                *ret_pidfd = pidfd;
        return 0;
}

bool cg_clone_unsupported(int code)
{
        /* ENOSYS: no clone3 (< 5.3, or a seccomp filter that hides it);
         * E2BIG: 5.3-5.6 know no .cgroup field; EINVAL: no CLONE_INTO_CGROUP */
        return code == ENOSYS || code == E2BIG || code == EINVAL;
}

int cg_fork_into(int cgroup_fd, pid_t *ret_pid, int *ret_pidfd, struct qc_err *err)
{
        struct qc_err ce = { 0 };
        pid_t pid;

        if (cg_clone_into(cgroup_fd, ret_pid, ret_pidfd, &ce) == 0)
                return 0;
        if (!cg_clone_unsupported(ce.code))
                return qc_err_set(err, ce.code, "%s", ce.msg);
        pid = fork();
        if (pid < 0)
                return qc_err_sys(err, errno, "fork");
        if (pid == 0) {
                int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

                *ret_pid = 0;
                if (fd < 0)
                        return qc_err_sys(err, errno, "open cgroup.procs");
                /* "0" is the writer itself */
                if (write(fd, "0", 1) != 1) {
                        int e = errno;
                        close(fd);
                        return qc_err_sys(err, e, "move into cgroup");
                }
                close(fd);
                return 0;
        }
        *ret_pid = pid;
        if (ret_pidfd)
                *ret_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return 0;
}

int cg_hier_enter_leaf(struct cg_hier *h, const char *leaf, unsigned *ret_had, bool *ret_made, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        unsigned had = h->ops->subtree_control(h->fd);
        bool made = false;
        int r;

        if (!cg_path_is_valid(leaf) || strchr(leaf, '/'))
                return qc_err_set(err, EINVAL, "\"%s\" cannot be a cgroup name", leaf);
        r = h->ops->mkdirat(h->fd, leaf);
        if (r == 0)
                made = true;
        else if (r != -EEXIST)
                return qc_err_sys(err, -r, "create cgroup %s/%s", h->path, leaf);
        fd = open_dir_at(h->fd, leaf);
        if (fd < 0)
                return qc_err_sys(err, errno, "open cgroup %s/%s", h->path, leaf);
        /* "0" is the writer: its whole process moves */
        if (cg_write(fd, "cgroup.procs", "0", err) < 0) {
                if (made)
                        (void)h->ops->rmdirat(h->fd, leaf);
                return qc_err_wrap(err, "move qemuctl into cgroup %s/%s", h->path, leaf);
        }
        if (ret_had)
                *ret_had = had;
        if (ret_made)
                *ret_made = made;
        return 0;
}

/* A cgroup below dirfd other than leaf: 1, 0, or -errno. */
static int other_children(int dirfd, const char *leaf)
{
        DIR *d = opendir_at_fd(dirfd);
        struct dirent *e;
        int found = 0;

        if (!d)
                return -errno;
        while ((e = readdir(d)))
                if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                    strcmp(e->d_name, leaf)) {
                        found = 1;
                        break;
                }
        closedir(d);
        return found;
}

int cg_hier_leave_leaf(struct cg_hier *h, const char *leaf, unsigned had, bool remove, struct qc_err *err)
{
        unsigned now;
        int r = other_children(h->fd, leaf);

        if (r < 0)
                return qc_err_sys(err, -r, "read cgroup %s", h->path);
        if (r > 0)
                return 0;
        now = h->ops->subtree_control(h->fd);
        if ((now & ~had) && write_subtree_control(h->fd, '-', now & ~had, err) < 0)
                return qc_err_wrap(err, "cgroup %s", h->path);
        if (cg_write(h->fd, "cgroup.procs", "0", err) < 0)
                return qc_err_wrap(err, "move qemuctl back into cgroup %s", h->path);
        r = remove ? h->ops->rmdirat(h->fd, leaf) : 0;
        if (r < 0 && r != -EBUSY && r != -ENOENT)
                return qc_err_sys(err, -r, "remove cgroup %s/%s", h->path, leaf);
        return 1;
}
