/* Launch-time placement (see placement.h). */
#include "placement.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/size.h"
#include "host/host.h"

void placement_issues_done(struct placement_issues *is)
{
        for (size_t i = 0; i < is->n; i++)
                free(is->v[i].msg);
        free(is->v);
        is->v = NULL;
        is->n = is->n_fatal = 0;
}

struct key_need {
        const char *key;
        enum cg_controller c;
        bool fatal;
        const char *fallback; /* for warnings: what happens instead */
};

/* The mapping from VM-file keys to the cgroup v2 controller each needs. */
static size_t needs_of(const struct vm_spec *s, struct key_need *out)
{
        size_t n = 0;

        if (s->cpu.n_pins)
                out[n++] = (struct key_need){ "cpu.pin", CG_CPUSET, false,
                                              "vCPUs are pinned with sched_setaffinity only" };
        if (s->cpu.has_cpuset)
                out[n++] = (struct key_need){ "cpu.cpuset", CG_CPUSET, false,
                                              "the VM's threads are pinned with sched_setaffinity only" };
        if (s->cpu.has_emulator_pin)
                out[n++] = (struct key_need){ "cpu.emulator_pin", CG_CPUSET, false,
                                              "QEMU's threads are pinned with sched_setaffinity only" };
        if (s->numa.has_nodeset)
                out[n++] = (struct key_need){ "numa.nodeset", CG_CPUSET, false,
                                              "guest RAM is still bound by QEMU's memory backend; "
                                              "QEMU's own allocations are not" };
        if (s->memory.hard_limit)
                out[n++] = (struct key_need){ "memory.limits.hard", CG_MEMORY, true, NULL };
        if (s->memory.soft_limit)
                out[n++] = (struct key_need){ "memory.limits.soft", CG_MEMORY, true, NULL };
        if (s->memory.low_limit)
                out[n++] = (struct key_need){ "memory.limits.low", CG_MEMORY, true, NULL };
        if (s->memory.swap_limit)
                out[n++] = (struct key_need){ "memory.limits.swap", CG_MEMORY, true, NULL };
        if (s->memory.min_guarantee)
                out[n++] = (struct key_need){ "memory.limits.min", CG_MEMORY, true, NULL };
        if (s->cpu.weight)
                out[n++] = (struct key_need){ "cpu.weight", CG_CPU, true, NULL };
        if (s->cpu.max_percent)
                out[n++] = (struct key_need){ "cpu.max_percent", CG_CPU, true, NULL };
        if (s->cgroup.pids_max)
                out[n++] = (struct key_need){ "cgroup.pids_max", CG_PIDS, true, NULL };
        return n;
}

unsigned placement_wanted_controllers(const struct vm_spec *spec)
{
        struct key_need needs[16];
        size_t n = needs_of(spec, needs);
        unsigned mask = 0;

        for (size_t i = 0; i < n; i++)
                mask |= CG_MASK(needs[i].c);
        return mask;
}

static const char *fix_for(const struct cg_hier *h, enum cg_controller c, unsigned refused)
{
        if (cg_hier_is_sub(h))
                return refused & CG_MASK(c)
                               ? "Start qemuctl alone in its delegated cgroup (a unit of its own), or set "
                                 "cgroup.mode to \"parent\""
                               : "Delegate it (systemd: Delegate=yes, or Delegate= naming it), or set cgroup.mode "
                                 "to \"parent\"";
        if (refused & CG_MASK(c))
                return "Use a cgroup.parent where it can be enabled (a delegated subtree with no processes of its "
                       "own)";
        if (cg_hier_v1_mask(h) & CG_MASK(c))
                return "Boot with systemd.unified_cgroup_hierarchy=1";
        return "Use a kernel built with it";
}

int placement_check_controllers(const struct vm_spec *spec, const struct cg_hier *h, unsigned usable,
                                unsigned refused, struct placement_issues *ret, struct qc_err *err)
{
        struct key_need needs[16];
        size_t n = needs_of(spec, needs);
        struct placement_issues is = { 0 };

        is.v = calloc(n ? n : 1, sizeof *is.v);
        if (!is.v)
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const struct key_need *k = &needs[i];
                struct placement_issue *p;
                int r;

                if (usable & CG_MASK(k->c))
                        continue;
                p = &is.v[is.n];
                p->key = k->key;
                p->controller = k->c;
                p->fatal = k->fatal;
                if (k->fatal)
                        r = asprintf(&p->msg,
                                     "%s needs the cgroup v2 \"%s\" controller, but this host's cgroup2 hierarchy "
                                     "(%s) does not offer it (%s). %s, or remove %s.",
                                     k->key, cg_controller_to_string(k->c), cg_hier_path(h),
                                     cg_missing_reason(h, k->c, refused), fix_for(h, k->c, refused), k->key);
                else
                        r = asprintf(&p->msg,
                                     "%s: the cgroup v2 \"%s\" controller is missing from this host's cgroup2 "
                                     "hierarchy (%s; %s), so %s. %s to have both.",
                                     k->key, cg_controller_to_string(k->c), cg_hier_path(h),
                                     cg_missing_reason(h, k->c, refused), k->fallback, fix_for(h, k->c, refused));
                if (r < 0) {
                        p->msg = NULL;
                        placement_issues_done(&is);
                        return qc_err_set(err, ENOMEM, "out of memory");
                }
                is.n++;
                if (k->fatal)
                        is.n_fatal++;
        }
        *ret = is;
        return 0;
}

int placement_host_nodes(struct cpuset *ret, struct qc_err *err)
{
        struct host_numa n;

        if (host_numa_read(&n, err) < 0)
                return -1;
        *ret = n.node_set;
        host_numa_done(&n);
        return 0;
}

int placement_check_nodes(const struct vm_spec *spec, const struct cpuset *host_nodes, struct qc_err *err)
{
        if (!spec->numa.has_nodeset)
                return 0;
        return placement_check_nodeset(&spec->numa.nodeset, host_nodes, err);
}

int placement_check_nodeset(const struct cpuset *want, const struct cpuset *host_nodes, struct qc_err *err)
{
        _cleanup_free_ char *have = NULL;
        int last = cpuset_last(want);

        for (int i = 0; i <= last; i++) {
                if (!cpuset_isset(want, (unsigned)i) || cpuset_isset(host_nodes, (unsigned)i))
                        continue;
                have = cpuset_to_string(host_nodes);
                return qc_err_set(err, ENODEV, "numa.nodeset: host node %d does not exist; this host has node%s %s", i,
                                  cpuset_count(host_nodes) == 1 ? "" : "s", have ? have : "?");
        }
        return 0;
}

static int check_hugetlbfs(const char *path, uint64_t page_size, struct qc_err *err)
{
        struct statfs sfs;
        char want[32], got[32];

        format_size(page_size, want, sizeof want);
        if (statfs(path, &sfs) < 0)
                return qc_err_sys(err, errno, "memory.hugepages.path: %s", path);
        /* QEMU takes any directory for mem-path and, when it is not
         * hugetlbfs, silently backs guest RAM with an ordinary file there */
        if ((uint32_t)sfs.f_type != (uint32_t)HUGETLBFS_MAGIC)
                return qc_err_set(err, EINVAL,
                                  "memory.hugepages.path: %s is not a hugetlbfs mount (QEMU would silently use "
                                  "ordinary pages there). Mount one: mount -t hugetlbfs -o pagesize=%s none %s",
                                  path, want, path);
        if ((uint64_t)sfs.f_bsize != page_size) {
                format_size((uint64_t)sfs.f_bsize, got, sizeof got);
                return qc_err_set(err, EINVAL,
                                  "memory.hugepages.path: %s is a hugetlbfs mount of %s pages, but memory.hugepages "
                                  "is %s. Mount one with -o pagesize=%s, or use size %s",
                                  path, got, want, want, got);
        }
        return 0;
}

int placement_check_hugepages(const struct vm_spec *spec, const char *sysroot, struct qc_err *err)
{
        struct host_hugepages hp = { 0 };
        const struct host_hugepage_size *s;
        uint64_t psz = spec->memory.hugepages, need, avail = 0, total = 0;
        bool per_node;
        char pname[32], mem[32];
        int r = 0;

        if (!psz)
                return 0;
        format_size(psz, pname, sizeof pname);
        if (host_hugepages_read(sysroot, &hp, err) < 0)
                return -1;
        s = host_hugepages_find(&hp, psz);
        if (!s) {
                char sizes[128] = "";
                for (size_t i = 0; i < hp.n_sizes; i++) {
                        char one[32];
                        format_size(hp.sizes[i].page_size, one, sizeof one);
                        snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%s", i ? ", " : "", one);
                }
                r = qc_err_set(err, EINVAL, "memory.hugepages: this host has no %s hugepages (it has: %s)", pname,
                               sizes[0] ? sizes : "none");
                goto out;
        }
        need = (spec->memory.size + psz - 1) / psz;
        format_size_human(spec->memory.size, mem, sizeof mem);
        /* with a strict binding the pages must come from the bound nodes;
         * the kernel keeps no per-node reservation count, so free is used */
        per_node = spec->numa.has_nodeset && spec->numa.policy == VM_NUMA_STRICT && s->n_nodes > 0;
        if (per_node) {
                _cleanup_free_ char *nodes = cpuset_to_string(&spec->numa.nodeset);
                unsigned first = (unsigned)-1;

                for (size_t i = 0; i < s->n_nodes; i++)
                        if (cpuset_isset(&spec->numa.nodeset, s->nodes[i].node)) {
                                avail += s->nodes[i].free;
                                if (first == (unsigned)-1) {
                                        first = s->nodes[i].node;
                                        total = s->nodes[i].total;
                                }
                        }
                if (avail < need)
                        r = qc_err_set(err, ENOMEM,
                                       "memory.hugepages: the guest's %s needs %" PRIu64 " free %s pages on host "
                                       "node%s %s, but they have %" PRIu64 ". Reserve more, e.g. echo %" PRIu64
                                       " > /sys/devices/system/node/node%u/hugepages/hugepages-%" PRIu64
                                       "kB/nr_hugepages",
                                       mem, need, pname, cpuset_count(&spec->numa.nodeset) == 1 ? "" : "s",
                                       nodes ? nodes : "?", avail, total + (need - avail), first, psz / 1024);
                goto out;
        }
        avail = s->free > s->reserved ? s->free - s->reserved : 0;
        if (avail < need)
                r = qc_err_set(err, ENOMEM,
                               "memory.hugepages: the guest's %s needs %" PRIu64 " free %s pages, but this host has "
                               "%" PRIu64 " (%" PRIu64 " free, %" PRIu64 " reserved by others, %" PRIu64
                               " in all). Reserve more: echo %" PRIu64
                               " > /sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
                               mem, need, pname, avail, s->free, s->reserved, s->total, s->total + (need - avail),
                               psz / 1024);
out:
        host_hugepages_done(&hp);
        if (r < 0)
                return r;
        if (spec->memory.hugepages_path)
                return check_hugetlbfs(spec->memory.hugepages_path, psz, err);
        return 0;
}

uint64_t placement_memlock_bytes(const struct vm_spec *spec)
{
        uint64_t mem;

        if (!spec->memory.locked)
                return 0;
        if (spec->memory.hard_limit)
                return spec->memory.hard_limit;
        mem = spec->memory.max > spec->memory.size ? spec->memory.max : spec->memory.size;
        return mem + (1ull << 30);
}

int placement_apply_memlock(pid_t pid, uint64_t bytes, struct qc_err *err)
{
        struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

        struct rlimit now;

        if (prlimit(pid, RLIMIT_MEMLOCK, &rl, NULL) == 0)
                return 0;
        if (errno == EPERM && prlimit(pid, RLIMIT_MEMLOCK, NULL, &now) == 0 && now.rlim_max < bytes)
                return qc_err_set(err, EPERM,
                                  "memory.locked needs RLIMIT_MEMLOCK of %" PRIu64 " bytes, but the hard limit is %"
                                  PRIu64 " and raising it needs CAP_SYS_RESOURCE, which qemuctl lacks. Raise it "
                                  "before starting qemuctl (ulimit -l, systemd LimitMEMLOCK=), or set "
                                  "memory.locked to false",
                                  bytes, (uint64_t)now.rlim_max);
        return qc_err_sys(err, errno, "set RLIMIT_MEMLOCK to %" PRIu64 " bytes for memory.locked", bytes);
}

int placement_apply_cgroup(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, struct qc_err *err)
{
        struct cg_memory_limits m = {
                .max = spec->memory.hard_limit,
                .high = spec->memory.soft_limit,
                .low = spec->memory.low_limit,
                .swap_max = spec->memory.swap_limit,
                .min = spec->memory.min_guarantee,
        };

        if ((usable & CG_MASK(CG_MEMORY)) && cg_set_memory(cg_vm_fd(vm), &m, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(vm));
        if ((usable & CG_MASK(CG_PIDS)) && cg_set_pids(cg_vm_fd(vm), spec->cgroup.pids_max, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(vm));
        if ((usable & CG_MASK(CG_CPU)) && cg_set_cpu(cg_vm_fd(vm), spec->cpu.weight, spec->cpu.max_percent, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(vm));
        if (!(usable & CG_MASK(CG_CPUSET)))
                return 0;
        if (spec->numa.has_nodeset) {
                _cleanup_free_ char *mems = cpuset_to_string(&spec->numa.nodeset);
                if (!mems)
                        return qc_err_set(err, ENOMEM, "out of memory");
                if (cg_set_cpuset(cg_vm_fd(vm), NULL, mems, err) < 0)
                        return qc_err_wrap(err, "numa.nodeset: cgroup %s", cg_vm_path(vm));
        }
        return 0;
}

int placement_apply_emulator_pin(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, struct qc_err *err)
{
        const struct cpuset *set = placement_emulator_cpus(spec);
        _cleanup_free_ char *cpus = NULL;

        if (!set || !(usable & CG_MASK(CG_CPUSET)))
                return 0;
        cpus = cpuset_to_string(set);
        if (!cpus)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (cg_set_cpuset(cg_vm_emulator_fd(vm), cpus, NULL, err) < 0)
                return qc_err_wrap(err, "cpu.emulator_pin: cgroup %s/emulator", cg_vm_path(vm));
        return 0;
}

int placement_set_affinity(pid_t tid, const struct cpuset *cpus, struct qc_err *err)
{
        cpu_set_t *set = CPU_ALLOC(QC_CPUSET_MAX);
        size_t sz = CPU_ALLOC_SIZE(QC_CPUSET_MAX);
        int r = 0;

        if (!set)
                return qc_err_set(err, ENOMEM, "out of memory");
        CPU_ZERO_S(sz, set);
        for (unsigned i = 0; i < QC_CPUSET_MAX; i++)
                if (cpuset_isset(cpus, i))
                        CPU_SET_S(i, sz, set);
        if (sched_setaffinity(tid, sz, set) < 0) {
                _cleanup_free_ char *s = cpuset_to_string(cpus);
                r = qc_err_sys(err, errno, "pin thread %d to CPUs %s", (int)tid, s ? s : "?");
        }
        CPU_FREE(set);
        return r;
}

static const struct vm_vcpu_pin *pin_of(const struct vm_spec *spec, unsigned vcpu)
{
        for (size_t i = 0; i < spec->cpu.n_pins; i++)
                if (spec->cpu.pins[i].vcpu == vcpu)
                        return &spec->cpu.pins[i];
        return NULL;
}

int placement_place_vcpu(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, unsigned vcpu, pid_t tid,
                         struct qc_err *err)
{
        if (vm && cg_vm_place_vcpu(vm, vcpu, tid, err) < 0)
                return -1;
        return placement_pin_vcpu(spec, vm, usable, vcpu, tid, err);
}

const struct cpuset *placement_vcpu_cpus(const struct vm_spec *spec, unsigned vcpu)
{
        const struct vm_vcpu_pin *pin = pin_of(spec, vcpu);

        return pin ? &pin->cpus : spec->cpu.has_cpuset ? &spec->cpu.cpuset : NULL;
}

const struct cpuset *placement_emulator_cpus(const struct vm_spec *spec)
{
        return spec->cpu.has_emulator_pin ? &spec->cpu.emulator_pin
               : spec->cpu.has_cpuset     ? &spec->cpu.cpuset
                                          : NULL;
}

int placement_pin_vcpu(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, unsigned vcpu, pid_t tid,
                       struct qc_err *err)
{
        const struct cpuset *set = placement_vcpu_cpus(spec, vcpu);
        bool own = pin_of(spec, vcpu) != NULL;

        if (set) {
                if (vm && (usable & CG_MASK(CG_CPUSET))) {
                        _cleanup_free_ char *cpus = cpuset_to_string(set);
                        int fd;

                        if (!cpus)
                                return qc_err_set(err, ENOMEM, "out of memory");
                        if (cg_vm_vcpu_fd(vm, vcpu, &fd, err) < 0 || cg_set_cpuset(fd, cpus, NULL, err) < 0)
                                return own ? qc_err_wrap(err, "cpu.pin.%u", vcpu) : qc_err_wrap(err, "cpu.cpuset (vCPU %u)", vcpu);
                }
                if (placement_set_affinity(tid, set, err) < 0)
                        return own ? qc_err_wrap(err, "cpu.pin.%u", vcpu) : qc_err_wrap(err, "cpu.cpuset (vCPU %u)", vcpu);
        } else if (placement_emulator_cpus(spec)) {
                /* vCPU threads are born with the emulator's affinity */
                struct cpuset all;
                long n = sysconf(_SC_NPROCESSORS_CONF);

                cpuset_zero(&all);
                for (long i = 0; i < n && i < QC_CPUSET_MAX; i++)
                        cpuset_set(&all, (unsigned)i);
                if (placement_set_affinity(tid, &all, err) < 0)
                        return qc_err_wrap(err, "vCPU %u", vcpu);
        }
        return 0;
}
