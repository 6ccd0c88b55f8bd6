/* What a VM asks of the host (vCPUs, memory with QEMU's overhead), and
 * what a job scheduler gave the process that starts it: `qemuctl resources`
 * prints the first as a submit line's options, `start`/`run` refuse a VM
 * whose request exceeds the second (docs/clusters.md). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"

struct vm_spec;

/* QEMU's own memory beside the guest's RAM, as a job must count it: a
 * fixed part (QEMU's code, heap, device state, under TCG its translation
 * cache) and a part that grows with the guest (page tables, dirty bitmaps).
 * Measured: docs/clusters.md, "What a VM asks for". */
#define VM_OVERHEAD_FIXED (256ULL << 20)
#define VM_OVERHEAD_SHIFT 6 /* + guest RAM / 64 */

struct vm_request {
        unsigned cpus;         /* the vCPUs the guest boots with (cpu.vcpus) */
        uint64_t guest_memory; /* memory.size + memory.plugged, bytes */
        uint64_t overhead;     /* QEMU's own, bytes */
        uint64_t memory;       /* guest_memory + overhead, rounded up to MiB */
};

void vm_request_of(const struct vm_spec *spec, struct vm_request *ret);

/* What the job gave this process; 0 = no bound known. *_from names where the
 * number came from ("SLURM_CPUS_PER_TASK", "the CPU affinity mask", "cgroup
 * v1 memory.limit_in_bytes"): static strings. */
struct vm_allocation {
        bool in_job; /* SLURM_JOB_ID is set */
        const char *job_id;
        unsigned cpus;
        const char *cpus_from;
        uint64_t memory;
        const char *memory_from;
};

/* Read the allocation of the process whose environment is envp (NULL-ended
 * "KEY=value" strings) and whose CPU affinity mask holds affinity_cpus CPUs
 * (0 = unknown), with its cgroup's memory limit from
 * SYSROOT/proc/self/cgroup and SYSROOT/sys/fs/cgroup (cgroup v2 memory.max,
 * or v1 memory.limit_in_bytes on a hybrid host; the smallest limit on the
 * path up to the root). Outside a Slurm job (no SLURM_JOB_ID), in_job is
 * false and nothing else is read. Returns 0, or -1 with err (EINVAL: a
 * SLURM_* variable that is not a number). */
int vm_allocation_read(const char *sysroot, char *const *envp, unsigned affinity_cpus, struct vm_allocation *ret,
                       struct qc_err *err);

/* 0 when the request fits the allocation (or there is no job); -1 with
 * err->code E2BIG and both numbers, where they came from, and what to
 * submit instead. */
int vm_allocation_check(const struct vm_request *req, const struct vm_allocation *a, struct qc_err *err);
