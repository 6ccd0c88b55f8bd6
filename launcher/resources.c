#include "resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "spec.h"

void vm_request_of(const struct vm_spec *spec, struct vm_request *ret)
{
        uint64_t guest = spec->memory.size + spec->memory.plugged;
        uint64_t overhead = VM_OVERHEAD_FIXED + (guest >> VM_OVERHEAD_SHIFT);
        uint64_t mib = 1ULL << 20;

        *ret = (struct vm_request){
                .cpus = spec->cpu.vcpus,
                .guest_memory = guest,
                .overhead = overhead,
                .memory = (guest + overhead + mib - 1) / mib * mib,
        };
}

static const char *env_get(char *const *envp, const char *key)
{
        size_t len = strlen(key);

        for (size_t i = 0; envp && envp[i]; i++)
                if (strncmp(envp[i], key, len) == 0 && envp[i][len] == '=')
                        return envp[i] + len + 1;
        return NULL;
}

/* A Slurm count ("2", or "2(x3)" in the per-node lists): its leading number;
 * 1 when it is there, 0 when not, -1 with err when it is no number. */
static int env_u64(char *const *envp, const char *key, uint64_t *ret, struct qc_err *err)
{
        const char *v = env_get(envp, key);
        char *end;
        unsigned long long n;

        if (!v || !*v)
                return 0;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno || end == v || (*end && *end != '('))
                return qc_err_set(err, EINVAL, "%s=%s is not a number (is this a Slurm job's environment?)", key,
                                  v);
        *ret = n;
        return 1;
}

/* The memory limit on the way from the cgroup at rel up to the root of the
 * hierarchy mounted at base (file: memory.max or memory.limit_in_bytes);
 * 0 = none. Unreadable levels are skipped: a limit we cannot see we cannot
 * hold a VM to. */
static uint64_t cgroup_memory_limit(const char *base, const char *rel, const char *file)
{
        _cleanup_free_ char *path = strdup(rel);
        uint64_t best = 0;

        if (!path)
                return 0;
        for (;;) {
                _cleanup_free_ char *f = NULL;
                _cleanup_free_ char *text = NULL;
                char *slash;

                if (asprintf(&f, "%s%s/%s", base, path, file) > 0 && read_file(f, 64, &text, NULL) == 0) {
                        char *end;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(text, &end, 10);
                        /* "max" (v2), or v1's "unlimited": a page-rounded LLONG_MAX */
                        if (!errno && end != text && v < (1ULL << 62) && (!best || v < best))
                                best = v;
                }
                slash = strrchr(path, '/');
                if (!slash || slash == path)
                        break;
                *slash = '\0';
        }
        return best;
}

/* The smallest memory limit of the process's cgroups, v2 and v1 memory alike
 * (a hybrid host's Slurm constrains memory through v1), and which it was. */
static void cgroup_memory(const char *sysroot, uint64_t *ret, const char **ret_from)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char *save = NULL;

        *ret = 0;
        if (asprintf(&path, "%s/proc/self/cgroup", sysroot) < 0 || read_file(path, 65536, &text, NULL) < 0)
                return;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                _cleanup_free_ char *base = NULL;
                const char *file, *from;
                uint64_t v;

                if (!c2)
                        continue;
                *c2 = '\0';
                if (strcmp(line, "0:") == 0) {
                        /* v2: mounted at /sys/fs/cgroup, or .../unified on a hybrid host */
                        _cleanup_free_ char *probe = NULL;
                        if (asprintf(&probe, "%s/sys/fs/cgroup/unified/cgroup.controllers", sysroot) < 0)
                                continue;
                        if (asprintf(&base, access(probe, F_OK) == 0 ? "%s/sys/fs/cgroup/unified" : "%s/sys/fs/cgroup",
                                     sysroot) < 0)
                                continue;
                        file = "memory.max";
                        from = "cgroup memory.max";
                } else {
                        /* v1: "N:memory:" or "N:cpu,memory:" */
                        char *list = c1 + 1, *tok, *s2 = NULL;
                        bool memory = false;
                        for (tok = strtok_r(list, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
                                memory |= strcmp(tok, "memory") == 0;
                        if (!memory || asprintf(&base, "%s/sys/fs/cgroup/memory", sysroot) < 0)
                                continue;
                        file = "memory.limit_in_bytes";
                        from = "cgroup v1 memory.limit_in_bytes";
                }
                v = cgroup_memory_limit(base, c2 + 1, file);
                if (v && (!*ret || v < *ret)) {
                        *ret = v;
                        *ret_from = from;
                }
        }
}

int vm_allocation_read(const char *sysroot, char *const *envp, unsigned affinity_cpus, struct vm_allocation *ret,
                       struct qc_err *err)
{
        struct vm_allocation a = { 0 };
        uint64_t v, cpus = 0, mem_cpu = 0;
        int r;

        a.job_id = env_get(envp, "SLURM_JOB_ID");
        a.in_job = a.job_id && *a.job_id;
        if (!a.in_job) {
                *ret = a;
                return 0;
        }
        /* CPUs: --cpus-per-task, else what the node gave the job */
        if ((r = env_u64(envp, "SLURM_CPUS_PER_TASK", &v, err)) < 0)
                return -1;
        if (r) {
                cpus = v, a.cpus_from = "SLURM_CPUS_PER_TASK";
        } else {
                if ((r = env_u64(envp, "SLURM_CPUS_ON_NODE", &v, err)) < 0)
                        return -1;
                if (r)
                        cpus = v, a.cpus_from = "SLURM_CPUS_ON_NODE";
        }
        /* task/affinity or task/cgroup bind the job to its CPUs */
        if (affinity_cpus && (!cpus || affinity_cpus < cpus))
                cpus = affinity_cpus, a.cpus_from = "the CPU affinity mask";
        a.cpus = cpus > UINT32_MAX ? UINT32_MAX : (unsigned)cpus;

        /* memory: --mem (MiB per node), else --mem-per-cpu times the CPUs */
        if ((r = env_u64(envp, "SLURM_MEM_PER_NODE", &v, err)) < 0)
                return -1;
        if (r && v) {
                a.memory = v << 20, a.memory_from = "SLURM_MEM_PER_NODE";
        } else {
                if ((r = env_u64(envp, "SLURM_MEM_PER_CPU", &mem_cpu, err)) < 0)
                        return -1;
                if (r && mem_cpu && cpus)
                        a.memory = (mem_cpu * cpus) << 20, a.memory_from = "SLURM_MEM_PER_CPU";
        }
        const char *cg_from = NULL;
        cgroup_memory(sysroot, &v, &cg_from);
        if (v && (!a.memory || v < a.memory))
                a.memory = v, a.memory_from = cg_from;
        *ret = a;
        return 0;
}

static uint64_t mib_up(uint64_t bytes)
{
        return (bytes + (1ULL << 20) - 1) >> 20;
}

int vm_allocation_check(const struct vm_request *req, const struct vm_allocation *a, struct qc_err *err)
{
        if (!a->in_job)
                return 0;
        if (a->cpus && req->cpus > a->cpus)
                return qc_err_set(err, E2BIG,
                                  "the VM boots %u vCPUs but Slurm job %s was given %u CPU%s (%s): submit it with "
                                  "--cpus-per-task=%u (qemuctl resources --slurm FILE prints the request), or "
                                  "lower cpu.vcpus",
                                  req->cpus, a->job_id, a->cpus, a->cpus == 1 ? "" : "s", a->cpus_from, req->cpus);
        /* MiB throughout, as Slurm's --mem counts: "1.0 GiB" next to
         * "1000 MiB" would hide the difference */
        if (a->memory && req->memory > a->memory)
                return qc_err_set(err, E2BIG,
                                  "the VM needs %" PRIu64 " MiB (%" PRIu64 " MiB guest memory + %" PRIu64
                                  " MiB QEMU overhead) but Slurm job %s was given %" PRIu64
                                  " MiB (%s): submit it with --mem=%" PRIu64
                                  "M (qemuctl resources --slurm FILE prints the request), or lower memory.size",
                                  req->memory >> 20, mib_up(req->guest_memory), mib_up(req->overhead), a->job_id,
                                  a->memory >> 20, a->memory_from, req->memory >> 20);
        return 0;
}
