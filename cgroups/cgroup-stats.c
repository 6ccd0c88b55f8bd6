/* Reading a cgroup's state, freezing, killing and removing it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups-internal.h"
#include "common/cleanup.h"
#include "common/io.h"

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ..." */
static int read_pressure(int dirfd, const char *file, struct cg_pressure *p)
{
        _cleanup_free_ char *s = NULL;

        if (read_file_at(dirfd, file, 0, &s, NULL) < 0)
                return -1;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                double avg10 = 0, a60, a300;
                unsigned long long total = 0;

                if (nl)
                        *nl = '\0';
                if (sscanf(line, "some avg10=%lf avg60=%lf avg300=%lf total=%llu", &avg10, &a60, &a300, &total) == 4) {
                        p->some_avg10 = avg10;
                        p->some_total_us = total;
                } else if (sscanf(line, "full avg10=%lf avg60=%lf avg300=%lf total=%llu", &avg10, &a60, &a300,
                                  &total) == 4) {
                        p->full_avg10 = avg10;
                        p->full_total_us = total;
                }
                line = nl ? nl + 1 : NULL;
        }
        return 0;
}

static bool keyed(int dirfd, const char *file, const char *key, uint64_t *ret)
{
        return cg_read_keyed(dirfd, file, key, ret, NULL) == 0;
}

int cg_read_stats(int dirfd, struct cg_stats *ret, struct qc_err *err)
{
        struct cg_stats st = { 0 };
        uint64_t v;

        st.has_memory = read_u64_file_at(dirfd, "memory.current", &st.memory_current) == 0;
        if (st.has_memory) {
                if (keyed(dirfd, "memory.stat", "anon", &v))
                        st.memory_anon = v;
                if (keyed(dirfd, "memory.stat", "file", &v))
                        st.memory_file = v;
                (void)read_u64_file_at(dirfd, "memory.swap.current", &st.memory_swap_current);
        }
        st.has_cpu = keyed(dirfd, "cpu.stat", "usage_usec", &st.cpu_usage_us);
        if (st.has_cpu) {
                (void)keyed(dirfd, "cpu.stat", "user_usec", &st.cpu_user_us);
                (void)keyed(dirfd, "cpu.stat", "system_usec", &st.cpu_system_us);
                (void)keyed(dirfd, "cpu.stat", "nr_throttled", &st.cpu_nr_throttled);
                (void)keyed(dirfd, "cpu.stat", "throttled_usec", &st.cpu_throttled_us);
        }
        st.has_pids = read_u64_file_at(dirfd, "pids.current", &st.pids_current) == 0;
        st.has_pressure = read_pressure(dirfd, "cpu.pressure", &st.cpu_pressure) == 0;
        (void)read_pressure(dirfd, "memory.pressure", &st.memory_pressure);
        (void)read_pressure(dirfd, "io.pressure", &st.io_pressure);
        if (!st.has_cpu && !st.has_memory && faccessat(dirfd, "cgroup.procs", F_OK, 0) < 0)
                return qc_err_sys(err, errno, "read cgroup statistics");
        *ret = st;
        return 0;
}

int cg_is_empty(int dirfd, bool *ret, struct qc_err *err)
{
        uint64_t populated;

        if (cg_read_keyed(dirfd, "cgroup.events", "populated", &populated, err) < 0)
                return -1;
        *ret = populated == 0;
        return 0;
}

int cg_freeze(int dirfd, bool frozen, int timeout_ms, struct qc_err *err)
{
        _cleanup_close_ int efd = -1;
        int64_t deadline = now_ms() + timeout_ms;

        if (cg_write(dirfd, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
                return -1;
        /* freezing is asynchronous: the kernel flips "frozen" in
         * cgroup.events once every task has stopped, and wakes pollers with
         * POLLPRI on that file */
        efd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (efd < 0)
                return qc_err_sys(err, errno, "open cgroup.events");
        for (;;) {
                uint64_t v;
                int64_t left;
                struct pollfd pfd = { .fd = efd, .events = POLLPRI };

                if (cg_read_keyed(dirfd, "cgroup.events", "frozen", &v, err) < 0)
                        return -1;
                if ((v != 0) == frozen)
                        return 0;
                left = deadline - now_ms();
                if (left <= 0)
                        return qc_err_set(err, ETIMEDOUT, "cgroup did not %s within %d ms",
                                          frozen ? "freeze" : "thaw", timeout_ms);
                /* look again at least every 50 ms, not trusting one wakeup */
                (void)poll(&pfd, 1, left > 50 ? 50 : (int)left);
        }
}

static int kill_procs_recursive(int dirfd, int depth, struct qc_err *err)
{
        _cleanup_free_ char *procs = NULL;
        DIR *d;

        if (depth > 16)
                return 0;
        if (cg_read(dirfd, "cgroup.procs", &procs, err) < 0) {
                /* threaded cgroups refuse reading cgroup.procs: their
                 * processes are listed at the threaded root */
                if (err && err->code == EOPNOTSUPP)
                        procs = NULL;
                else
                        return -1;
        }
        for (char *p = procs; p && *p;) {
                char *end;
                long pid = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (pid > 0 && kill((pid_t)pid, SIGKILL) < 0 && errno != ESRCH)
                        return qc_err_sys(err, errno, "kill %ld", pid);
                p = *end ? end + 1 : end;
        }
        d = opendir_at_fd(dirfd);
        if (!d)
                return qc_err_sys(err, errno, "read cgroup directory");
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_close_ int cfd = -1;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cfd >= 0 && kill_procs_recursive(cfd, depth + 1, err) < 0) {
                        closedir(d);
                        return -1;
                }
        }
        closedir(d);
        return 0;
}

int cg_kill(int dirfd, struct qc_err *err)
{
        struct qc_err e = { 0 };

        /* cgroup.kill (5.14) kills the whole subtree atomically, even
         * processes forking while it runs */
        if (cg_write(dirfd, "cgroup.kill", "1", &e) == 0)
                return 0;
        if (e.code != ENOENT)
                return qc_err_pass(err, &e);
        return kill_procs_recursive(dirfd, 0, err);
}

/* Remove every cgroup below dirfd, deepest first. */
static int remove_children(const struct cg_fs_ops *ops, int dirfd, int depth)
{
        DIR *d = opendir_at_fd(dirfd);
        int r = 0;

        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_close_ int cfd = -1;
                int rr;

                if (de->d_type != DT_DIR ||
                    (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))))
                        continue;
                cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cfd < 0 || depth > 16) {
                        r = -EIO;
                        continue;
                }
                if (remove_children(ops, cfd, depth + 1) < 0)
                        r = -EBUSY;
                rr = ops->rmdirat(dirfd, de->d_name);
                if (rr < 0 && rr != -ENOENT)
                        r = rr;
        }
        closedir(d);
        return r;
}

int cg_vm_remove(struct cg_vm *vm, int timeout_ms, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;

        for (unsigned i = 0; i < vm->n_vcpu_fds; i++)
                if (vm->vcpu_fds[i] >= 0) {
                        close(vm->vcpu_fds[i]);
                        vm->vcpu_fds[i] = -1;
                }
        if (vm->emu_fd >= 0) {
                close(vm->emu_fd);
                vm->emu_fd = -1;
        }
        for (;;) {
                /* a process that has exited leaves its cgroup only once reaped
                 * and released: rmdir says EBUSY until then */
                int r = remove_children(vm->ops, vm->fd, 0);

                if (r == 0) {
                        r = vm->ops->rmdirat(AT_FDCWD, vm->path);
                        if (r == 0 || r == -ENOENT)
                                return 0;
                }
                if (r != -EBUSY || now_ms() >= deadline)
                        return qc_err_sys(err, -r, "remove cgroup %s", vm->path);
                usleep(20 * 1000);
        }
}
