#include "vm-host.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/io.h"

int vm_task_stat_read(pid_t pid, pid_t tid, struct proc_stat *ret, struct qc_err *err)
{
        int r = proc_stat_read(pid, tid, ret);

        if (r == -EINVAL)
                return qc_err_set(err, EINVAL, "/proc/%d/task/%d/stat: unexpected format", (int)pid, (int)tid);
        if (r < 0)
                return qc_err_sys(err, -r, "read /proc/%d/task/%d/stat", (int)pid, (int)tid);
        return 0;
}

uint64_t vm_task_cpu_time_ns(const struct proc_stat *st)
{
        long tck = sysconf(_SC_CLK_TCK);

        if (tck <= 0)
                tck = 100;
        /* ticks * 1e9 / tck, split to stay inside 64 bits for long-lived threads */
        uint64_t ticks = st->utime + st->stime;
        return ticks / (uint64_t)tck * 1000000000ull + ticks % (uint64_t)tck * 1000000000ull / (uint64_t)tck;
}

const char *vm_task_state_to_string(char state)
{
        switch (state) {
        case 'R':
                return "running";
        case 'S':
                return "sleeping";
        case 'D':
                return "disk-sleep";
        case 'T':
                return "stopped";
        case 't':
                return "tracing-stop";
        case 'Z':
                return "zombie";
        case 'X':
                return "dead";
        case 'I':
                return "idle";
        case 'P':
                return "parked";
        default:
                return "unknown";
        }
}

int vm_status_rss_parse(const char *text, uint64_t *ret)
{
        return proc_status_kb(text, "VmRSS", ret);
}

int vm_process_rss(pid_t pid, uint64_t *ret, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        r = read_file(path, 65536, &text, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        r = vm_status_rss_parse(text, ret);
        if (r == -ENOENT)
                return qc_err_set(err, ENOENT, "%s: no VmRSS line (has the process exited?)", path);
        if (r < 0)
                return qc_err_set(err, EINVAL, "%s: unexpected VmRSS format", path);
        return 0;
}

int vm_thread_affinity(pid_t tid, struct cpuset *ret, struct qc_err *err)
{
        size_t size = CPU_ALLOC_SIZE(QC_CPUSET_MAX);
        cpu_set_t *mask = CPU_ALLOC(QC_CPUSET_MAX);
        struct cpuset cs;

        if (!mask)
                return qc_err_sys(err, ENOMEM, "affinity of thread %d", (int)tid);
        CPU_ZERO_S(size, mask);
        if (sched_getaffinity(tid, size, mask) < 0) {
                int e = errno;
                CPU_FREE(mask);
                return qc_err_sys(err, e, "affinity of thread %d", (int)tid);
        }
        cpuset_zero(&cs);
        for (unsigned i = 0; i < QC_CPUSET_MAX; i++)
                if (CPU_ISSET_S(i, size, mask))
                        cpuset_set(&cs, i);
        CPU_FREE(mask);
        *ret = cs;
        return 0;
}

int vm_cgroup_memory_current(const char *proc_cgroup_text, const char *cgroup2_mount, uint64_t *ret,
                             struct qc_err *err)
{
        _cleanup_free_ char *rel = NULL, *dir = NULL, *path = NULL;
        uint64_t v;
        int r;

        r = cg_proc_cgroup_parse(proc_cgroup_text, &rel, err);
        if (r <= 0)
                return r; /* 0: no cgroup v2 at all */
        if (!(dir = path_join(cgroup2_mount, rel)) || !(path = path_join(dir, "memory.current")))
                return qc_err_sys(err, ENOMEM, "cgroup path");
        r = read_u64_file(path, &v);
        if (r == -ENOENT)
                return 0; /* no memory controller in this hierarchy (hybrid) */
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        *ret = v;
        return 1;
}

int vm_process_memory_current(pid_t pid, uint64_t *ret, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *mnt = NULL;
        struct qc_err e = { 0 };
        char path[64];
        int r;

        if (cg_find_mount(NULL, &mnt, NULL, &e) < 0) {
                if (e.code == ENOENT)
                        return 0; /* no cgroup v2 at all */
                return qc_err_pass(err, &e);
        }
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        r = read_file(path, 65536, &text, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        return vm_cgroup_memory_current(text, mnt, ret, err);
}
