/* Placement of a running VM: vcpupin, emulatorpin, memtune, numatune,
 * numastat. Each change lands on the host (cgroup files where the controller
 * is usable, sched_setaffinity, migrate_pages), then goes into the effective
 * spec through vm_live's record callback, so `dump` and the next start keep
 * it. The caller holds the VM's lock for the whole operation. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../cgroups/cgroups.h"
#include "../common/cpuset.h"
#include "../common/err.h"
#include "../launcher/placement.h"
#include "vm.h"

struct vm_placement {
        struct vm_live *live;   /* qmp, qemu_pid, spec, cg (NULL: QEMU is in no VM cgroup), record */
        struct cg_hier *hier;   /* NULL when this host has no cgroup2 */
        unsigned usable;        /* controllers usable for the VM (cg_usable of its cgroup.parent) */
        unsigned refused;
        struct cpuset online;   /* the host's online CPUs, read by vm_placement_open */
};

/* Open the VM's cgroup side: the cgroup2 hierarchy, the controllers usable
 * under spec->cgroup.parent, and the VM's own cgroup if QEMU was placed in
 * one, and the host's online CPUs. live->cg is set (owned by p: vm_placement_done
 * frees it). A host without cgroup2 is not an error here. */
int vm_placement_open(struct vm_placement *p, struct vm_live *live, struct qc_err *err);
void vm_placement_done(struct vm_placement *p);

/* Record the effective spec after a change that landed (live->record;
 * nothing when it is NULL). */
int vm_placement_record(struct vm_placement *p, struct qc_err *err);

/* /sys/devices/system/cpu/online under sysroot. */
int vm_host_online_cpus(const char *sysroot, struct cpuset *ret, struct qc_err *err);
/* Every CPU of want is online: "CPU 9 does not exist on this host (online: 0-1)". */
int vm_check_cpus(const struct cpuset *want, const struct cpuset *online, struct qc_err *err);

/* Why pinning is affinity-only here (no usable cpuset), malloc'd sentence for
 * a warning; NULL when cpuset is usable. */
char *vm_placement_cpuset_note(const struct vm_placement *p, const char *what);

/* ---- vcpupin, emulatorpin (vm-pin.c) ---- */

struct vm_pin_info {
        unsigned vcpu;
        pid_t tid;              /* 0 = not plugged (a pin recorded for a later hotplug) */
        bool pinned;            /* the spec has a pin for it */
        struct cpuset pin;      /* the recorded pin */
        bool host_ok;           /* affinity read (the thread may vanish while we look) */
        struct cpuset affinity; /* sched_getaffinity of the thread */
};
/* Every plugged vCPU, plus recorded pins of vCPUs not plugged, by index. */
int vm_vcpupin_get(struct vm_placement *p, struct vm_pin_info **ret, size_t *ret_n, struct qc_err *err);
/* Set (or add, in vCPU order) spec's pin of vcpu; nothing live. */
int vm_pin_record(struct vm_spec *spec, unsigned vcpu, const struct cpuset *cpus, struct qc_err *err);
/* Pin vCPU vcpu to cpus: checked against the host's online CPUs and
 * cpu.max; vcpuN/cpuset.cpus when cpuset is usable, sched_setaffinity of
 * its thread, recorded. A vCPU below cpu.max that is not plugged now only
 * gets the record (applied when it is plugged); *ret_live says which. */
int vm_vcpupin_set(struct vm_placement *p, unsigned vcpu, const struct cpuset *cpus, bool *ret_live,
                   struct qc_err *err);

struct vm_emulator_pin {
        bool pinned;            /* the spec has cpu.emulator_pin */
        struct cpuset pin;
        struct cpuset affinity; /* of QEMU's main thread */
        size_t n_threads;       /* QEMU's threads that are not vCPU threads */
        size_t n_differ;        /* of those, how many have another affinity than the main thread */
};
int vm_emulatorpin_get(struct vm_placement *p, struct vm_emulator_pin *ret, struct qc_err *err);
/* emulator/cpuset.cpus when cpuset is usable, sched_setaffinity of every
 * QEMU thread (/proc/PID/task) that query-cpus-fast does not name, recorded.
 * *ret_threads = how many threads were pinned. */
int vm_emulatorpin_set(struct vm_placement *p, const struct cpuset *cpus, size_t *ret_threads, struct qc_err *err);
/* The whole VM's CPU set (cpu.cpuset, <vcpu cpuset>): every plugged vCPU
 * without its own pin (vcpuN/cpuset.cpus when cpuset is usable, affinity
 * always), and QEMU's other threads unless cpu.emulator_pin says otherwise;
 * recorded. *ret_vcpus / *ret_threads: how many vCPU / other threads moved
 * (may be NULL). */
int vm_cpuset_set(struct vm_placement *p, const struct cpuset *cpus, size_t *ret_vcpus, size_t *ret_threads,
                  struct qc_err *err);

/* ---- memtune (vm-memtune.c) ---- */

/* memtune on cgroup v2, by the VM file's names (memory.limits.*): hard →
 * memory.max, soft → memory.high (what libvirt writes for <soft_limit>),
 * low → memory.low (virsh's soft limit: contention), swap →
 * memory.swap.max (swap alone), min → memory.min. */
enum vm_memtune_key {
        VM_MEMTUNE_HARD,
        VM_MEMTUNE_SOFT,
        VM_MEMTUNE_LOW,
        VM_MEMTUNE_SWAP,
        VM_MEMTUNE_MIN,
        _VM_MEMTUNE_MAX,
        _VM_MEMTUNE_INVALID = -1,
};
/* "hard", "soft", "low", "swap", "min" (the VM file's memory.limits keys) */
const char *vm_memtune_key_to_string(enum vm_memtune_key k);
enum vm_memtune_key vm_memtune_key_from_string(const char *s);
/* "memory.max", ... */
const char *vm_memtune_key_file(enum vm_memtune_key k);
/* "memory.limits.hard", ... (the VM-file key) */
const char *vm_memtune_key_spec(enum vm_memtune_key k);

/* Unlimited, as "max" in the cgroup file and "unlimited" for virsh. */
#define VM_MEMTUNE_UNLIMITED UINT64_MAX
struct vm_memtune {
        bool set[_VM_MEMTUNE_MAX];
        uint64_t value[_VM_MEMTUNE_MAX]; /* bytes, or VM_MEMTUNE_UNLIMITED */
        /* virsh's swap_hard_limit: memory + swap. vm_memtune_set turns it
         * into swap = swap_total - hard (the hard limit given, else the one
         * in force) and sets value[VM_MEMTUNE_SWAP] */
        bool swap_total_set;
        bool swap_resolved; /* set[SWAP] came from swap_total (each target resolves it anew) */
        uint64_t swap_total;
};
/* From the recorded spec (unset keys are unlimited, min and low are 0). */
void vm_memtune_from_spec(const struct vm_spec *spec, struct vm_memtune *ret);
/* The keys set in m into the spec (unlimited: the key unset). */
void vm_memtune_to_spec(struct vm_spec *spec, const struct vm_memtune *m);
/* virsh's swap_hard_limit (m->swap_total, memory + swap) into the swap it
 * means, against m's hard limit or else now's: m->set/value[SWAP]. EINVAL
 * without a hard limit, or below it; swap (alone) given too. */
int vm_memtune_resolve_swap(const struct vm_memtune *now, struct vm_memtune *m, struct qc_err *err);
/* The limits now with m applied: min and low must not be above hard (EINVAL). */
int vm_memtune_check(const struct vm_memtune *now, const struct vm_memtune *m, struct qc_err *err);
/* Read the five files back from a cgroup dir (a file the kernel lacks, like
 * memory.swap.max without swap accounting, stays unset). */
int vm_memtune_read(int dirfd, struct vm_memtune *ret, struct qc_err *err);
/* Write the keys set in m to a cgroup dir: min and high before max, as the
 * guarantee should be in place before the cap. */
int vm_memtune_write(int dirfd, const struct vm_memtune *m, struct qc_err *err);
/* Values in force: read back from the VM's cgroup (*ret_live = true) when the
 * memory controller is usable, else the recorded ones (*ret_live = false). */
int vm_memtune_get(struct vm_placement *p, struct vm_memtune *ret, bool *ret_live, struct qc_err *err);
/* Check (min and low not above hard), refuse when the memory controller is
 * missing (naming the option, the controller and why this host lacks it),
 * write, record. A swap_total becomes the swap it means (m says what was
 * written on return); EINVAL when there is no hard limit to subtract, or
 * swap_total is below it. */
int vm_memtune_set(struct vm_placement *p, struct vm_memtune *m, struct qc_err *err);
/* The missing-controller sentence alone (malloc'd), or NULL when usable. */
char *vm_memtune_missing(const struct vm_placement *p, const char *what);

/* ---- numatune, numastat (vm-numa.c) ---- */

struct vm_numatune {
        enum vm_numa_policy mode;  /* recorded */
        bool has_nodeset;
        struct cpuset nodeset;     /* recorded */
        bool has_mems_allowed;
        struct cpuset mems_allowed; /* QEMU's Mems_allowed_list (/proc/PID/status) */
        bool has_cgroup_mems;
        struct cpuset cgroup_mems;  /* cpuset.mems.effective of the VM's cgroup */
};
int vm_numatune_get(struct vm_placement *p, struct vm_numatune *ret, struct qc_err *err);
/* nodeset (NULL = keep): the nodes must exist (host_nodes); cpuset.mems of
 * the VM cgroup and its children when cpuset is usable, then QEMU's pages
 * moved there (migrate_pages). mode (NULL = keep) cannot change live — QEMU
 * fixes a memory backend's policy when it creates it — so it is recorded for
 * the next start; *ret_mode_deferred says so. *ret_not_moved: pages the
 * kernel could not move. */
int vm_numatune_set(struct vm_placement *p, const struct cpuset *host_nodes, const struct cpuset *nodeset,
                    const enum vm_numa_policy *mode, bool *ret_mode_deferred, long *ret_not_moved,
                    struct qc_err *err);

/* numastat -p categories. */
enum vm_numastat_cat {
        VM_NUMASTAT_HUGE,
        VM_NUMASTAT_HEAP,
        VM_NUMASTAT_STACK,
        VM_NUMASTAT_PRIVATE,
        _VM_NUMASTAT_CAT_MAX,
        _VM_NUMASTAT_CAT_INVALID = -1,
};
/* "Huge", "Heap", "Stack", "Private" */
const char *vm_numastat_cat_to_string(enum vm_numastat_cat c);

struct vm_numastat {
        unsigned n_nodes;    /* highest node seen + 1 */
        uint64_t *bytes;     /* [node * _VM_NUMASTAT_CAT_MAX + cat] */
};
void vm_numastat_done(struct vm_numastat *s);
static inline uint64_t vm_numastat_get(const struct vm_numastat *s, enum vm_numastat_cat c, unsigned node)
{
        return node < s->n_nodes ? s->bytes[node * _VM_NUMASTAT_CAT_MAX + (unsigned)c] : 0;
}
/* Parse the text of /proc/PID/numa_maps: each mapping's "N<node>=<pages>"
 * times its kernelpagesize_kB, in the category numastat gives it (a "huge"
 * mapping, the "heap", a "stack", everything else Private). */
int vm_numastat_parse(const char *text, struct vm_numastat *ret, struct qc_err *err);
int vm_numastat_read(pid_t pid, struct vm_numastat *ret, struct qc_err *err);
