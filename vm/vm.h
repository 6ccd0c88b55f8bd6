/* Live CPU and memory changes on a running VM: setvcpus, vcpuinfo, balloon,
 * memstat, setmem. Combines QMP (qmp/), cgroups (cgroups/) and host facts
 * (vm-host.h). The caller (cli/live.c) opens the VM, holds its lock for the
 * whole operation, and hands in a struct vm_live. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/cpuset.h"
#include "../common/err.h"
#include "../launcher/spec.h"
#include "vm-host.h"
#include "vm-plan.h"

struct qmp;
struct cg_vm;

struct vm_live {
        struct qmp *qmp;       /* connected to RUNDIR/qmp.sock */
        pid_t qemu_pid;
        struct vm_spec *spec;  /* the effective spec; live changes update it */
        struct cg_vm *cg;      /* the VM's cgroup, NULL when it has none */
        unsigned cg_usable;    /* controllers usable in it (CG_MASK bits) */
        /* Record the effective spec after each change that landed, so a
         * failure half-way leaves a true record (may be NULL). */
        int (*record)(void *userdata, const struct vm_spec *spec, struct qc_err *err);
        void *userdata;
        int step_timeout_ms;   /* per plugged/unplugged vCPU or DIMM; 0 = 30 s */
};

/* ---- vCPUs ---- */

struct vm_vcpu_info {
        unsigned vcpu;         /* QEMU's cpu-index */
        pid_t tid;             /* host thread id */
        char *qom_path;
        int64_t socket_id, core_id, thread_id, node_id; /* -1 = not given */
        bool host_ok;          /* false when the thread vanished while we looked */
        struct proc_stat stat;
        uint64_t cpu_time_ns;
        struct cpuset affinity;
};
void vm_vcpu_infos_free(struct vm_vcpu_info *v, size_t n);

/* Per plugged vCPU, sorted by index: QMP query-cpus-fast + the host's view
 * of each thread. */
int vm_vcpuinfo(struct vm_live *vm, struct vm_vcpu_info **ret, size_t *ret_n, struct qc_err *err);

/* Called after each step of setvcpus (may be NULL). */
typedef void (*vm_progress_fn)(void *userdata, const char *what);

/* Plug or unplug one vCPU at a time until `target` are plugged, each
 * confirmed before the next and its thread placed as at start, recording
 * spec.cpu.vcpus after each. A target past cpu.max is refused with the limit
 * named. The way is chosen from query-commands: query-hotpluggable-cpus +
 * device_add/device_del (QEMU >= 2.7), else cpu-add, which only plugs: fewer
 * vCPUs than plugged is then refused (EOPNOTSUPP) with what to do instead. */
int vm_setvcpus(struct vm_live *vm, unsigned target, vm_progress_fn progress, void *userdata, struct qc_err *err);

/* ---- memory ---- */

/* "unknown" is UINT64_MAX in every field below that may be missing. */
#define VM_UNKNOWN UINT64_MAX

struct vm_guest_stats {
        uint64_t swap_in, swap_out, major_faults, minor_faults; /* pages / counts */
        uint64_t free_memory, total_memory, available_memory, disk_caches; /* bytes */
        uint64_t htlb_allocs, htlb_failures;
        int64_t last_update; /* host wall time (s since the epoch) QEMU got them, 0 = never */
};

struct vm_memstat {
        bool has_balloon;
        uint64_t balloon_actual;     /* bytes the guest has (boot + plugged - ballooned) */
        bool has_guest_stats;        /* the driver reported at least once */
        struct vm_guest_stats guest;
        uint64_t base_memory;        /* query-memory-size-summary */
        uint64_t plugged_memory;     /* VM_UNKNOWN when QEMU does not say */
        uint64_t host_rss;           /* QEMU's VmRSS */
        uint64_t cgroup_current;     /* memory.current, VM_UNKNOWN where unavailable */
};
int vm_memstat(struct vm_live *vm, struct vm_memstat *ret, struct qc_err *err);

/* Query the balloon: actual size in bytes. err->code ENODEV without a balloon. */
int vm_balloon_query(struct vm_live *vm, uint64_t *ret_actual, struct qc_err *err);
/* Ask for target bytes and wait (up to timeout_ms) until actual is within 1%.
 * Returns 1 arrived, 0 timed out (with *ret_actual where it stopped), -1 err. */
int vm_balloon_set(struct vm_live *vm, uint64_t target, int timeout_ms, uint64_t *ret_actual, struct qc_err *err);

/* Grow (or shrink, as far as the guest lets go) hotplugged memory so the
 * guest has `total` bytes = memory.size + plugged; at most memory.max. DIMMs
 * (pc-dimm, one per call, up to memory.slots) or virtio-mem requested-size,
 * as memory.hotplug says. Records spec.memory.plugged. */
int vm_setmem(struct vm_live *vm, uint64_t total, struct qc_err *err);
