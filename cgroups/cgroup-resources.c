/* One small writer per controller. libvirt's memtune meaning on v2: hard →
 * memory.max, soft → memory.high, swap → memory.swap.max, min → memory.min. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cgroups-internal.h"

static void limit_str(uint64_t v, char *buf, size_t len)
{
        if (v == CG_LIMIT_MAX)
                snprintf(buf, len, "max");
        else
                snprintf(buf, len, "%" PRIu64, v);
}

static int write_limit(int dirfd, const char *file, uint64_t v, struct qc_err *err)
{
        char buf[32];

        if (v == 0)
                return 0;
        limit_str(v, buf, sizeof buf);
        return cg_write(dirfd, file, buf, err);
}

int cg_set_memory(int dirfd, const struct cg_memory_limits *m, struct qc_err *err)
{
        /* min before max: the kernel takes any order, but a reader sees the
         * guarantee before the cap when it watches the files */
        if (write_limit(dirfd, "memory.min", m->min, err) < 0 || write_limit(dirfd, "memory.low", m->low, err) < 0 ||
            write_limit(dirfd, "memory.high", m->high, err) < 0 ||
            write_limit(dirfd, "memory.max", m->max, err) < 0 ||
            write_limit(dirfd, "memory.swap.max", m->swap_max, err) < 0)
                return -1;
        return 0;
}

int cg_set_pids(int dirfd, uint64_t max, struct qc_err *err)
{
        return write_limit(dirfd, "pids.max", max, err);
}

int cg_set_cpu(int dirfd, unsigned weight, unsigned max_percent, struct qc_err *err)
{
        char buf[48];

        if (weight > 10000)
                return qc_err_set(err, ERANGE, "cpu.weight %u: the kernel takes 1..10000", weight);
        if (weight) {
                snprintf(buf, sizeof buf, "%u", weight);
                if (cg_write(dirfd, "cpu.weight", buf, err) < 0)
                        return -1;
        }
        if (max_percent) {
                /* quota per 100 ms period; 200% = two CPUs' worth */
                snprintf(buf, sizeof buf, "%" PRIu64 " 100000", (uint64_t)max_percent * 1000);
                if (cg_write(dirfd, "cpu.max", buf, err) < 0)
                        return -1;
        }
        return 0;
}

int cg_set_cpuset(int dirfd, const char *cpus, const char *mems, struct qc_err *err)
{
        /* mems first: a cgroup whose cpuset.cpus is set but whose mems are
         * empty still inherits its parent's, so either order works; mems
         * first matches how memory gets bound before threads run */
        if (mems && cg_write(dirfd, "cpuset.mems", mems, err) < 0)
                return -1;
        if (cpus && cg_write(dirfd, "cpuset.cpus", cpus, err) < 0)
                return -1;
        return 0;
}
