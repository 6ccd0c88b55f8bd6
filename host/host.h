/* Host facts that decide whether a VM file's placement can work here: NUMA
 * nodes, KSM, hugepages, transparent hugepages, automatic NUMA balancing,
 * KVM, cgroup v2 controllers. Readers take a sysroot prefix ("" = this host)
 * so tests can point them at a fake /sys and /proc. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cpuset.h"
#include "common/err.h"

/* A number of a host facts struct by its sysfs name, which `qemuctl host`
 * shows it by (text and --json): the uint64_t at off. Tables of them end
 * with a NULL name. */
struct host_u64_field {
        const char *name;
        size_t off;
};
static inline uint64_t host_u64_field_get(const void *facts, const struct host_u64_field *f)
{
        return *(const uint64_t *)(const void *)((const char *)facts + f->off);
}

struct host_numa_node {
        unsigned id;
        struct cpuset cpus;
        uint64_t mem_total, mem_free; /* bytes */
};
struct host_numa {
        bool available; /* libnuma: the kernel has NUMA support */
        struct host_numa_node *nodes;
        size_t n_nodes;
        struct cpuset node_set; /* ids of the nodes that exist */
        /* ACPI SLIT distances (numactl --hardware's "node distances"):
         * distance[i * n_nodes + j] from nodes[i] to nodes[j] (10 = local);
         * 0 where libnuma knows none */
        unsigned *distance;
};
/* From libnuma (this host only). Without NUMA support: available=false and
 * one pseudo node 0 holding every CPU and all memory, as libnuma reports,
 * at distance 10 from itself. */
int host_numa_read(struct host_numa *ret, struct qc_err *err);
void host_numa_done(struct host_numa *n);
static inline unsigned host_numa_distance(const struct host_numa *n, size_t i, size_t j)
{
        return n->distance && i < n->n_nodes && j < n->n_nodes ? n->distance[i * n->n_nodes + j] : 0;
}

/* What the book reads by hand per node (numastat, numactl): the kernel's
 * allocation counters from /sys/devices/system/node/nodeN/numastat (pages;
 * numa_hit: allocated here as intended, numa_miss: here though meant for
 * another node, numa_foreign: meant for here, got elsewhere,
 * interleave_hit, local_node: by a task running here, other_node: by a task
 * running elsewhere) and AnonHugePages from nodeN/meminfo. */
struct host_node_stats {
        bool has_numastat;
        uint64_t numa_hit, numa_miss, numa_foreign, interleave_hit, local_node, other_node;
        bool has_anon_huge;
        uint64_t anon_huge; /* bytes */
};
/* host_node_stats' six counters, in nodeN/numastat's order */
extern const struct host_u64_field host_numastat_fields[];
/* A node without those files (no NUMA in sysfs) reads as all absent, not
 * an error. */
int host_node_stats_read(const char *sysroot, unsigned node, struct host_node_stats *ret, struct qc_err *err);
/* One "Key:   N kB" line of /proc/meminfo (sysroot prefix) in bytes: 1
 * found, 0 absent, -1 with err. */
int host_meminfo_read(const char *sysroot, const char *key, uint64_t *ret, struct qc_err *err);

struct host_ksm {
        bool present; /* /sys/kernel/mm/ksm exists */
        uint64_t run; /* 0 stopped, 1 running, 2 unmerge all */
        uint64_t pages_shared, pages_sharing, pages_unshared, pages_volatile, full_scans;
        uint64_t pages_to_scan, sleep_millisecs;
        bool has_merge_across_nodes;
        uint64_t merge_across_nodes;
};
/* host_ksm's numbers from /sys/kernel/mm/ksm/ but merge_across_nodes */
extern const struct host_u64_field host_ksm_fields[];
int host_ksm_read(const char *sysroot, struct host_ksm *ret, struct qc_err *err);

struct host_hugepage_node {
        unsigned node;
        uint64_t total, free, surplus; /* pages */
};
struct host_hugepage_size {
        uint64_t page_size; /* bytes */
        uint64_t total, free, reserved, surplus; /* pages (free includes reserved) */
        struct host_hugepage_node *nodes;
        size_t n_nodes;
};
struct host_hugepages {
        struct host_hugepage_size *sizes; /* ascending page size */
        size_t n_sizes;
};
/* /sys/kernel/mm/hugepages/hugepages-*kB and, per node,
 * /sys/devices/system/node/nodeN/hugepages/. No hugepage support: n_sizes 0. */
int host_hugepages_read(const char *sysroot, struct host_hugepages *ret, struct qc_err *err);
void host_hugepages_done(struct host_hugepages *hp);
const struct host_hugepage_size *host_hugepages_find(const struct host_hugepages *hp, uint64_t page_size);

/* The bracketed choice of a sysfs selector ("always [madvise] never" ->
 * "madvise"); "" when the file is absent. khugepaged's settings and counters
 * from transparent_hugepage/khugepaged/ (has_khugepaged: the directory
 * exists), AnonHugePages from /proc/meminfo. */
struct host_thp {
        char enabled[32], defrag[32];
        bool has_khugepaged;
        uint64_t kh_defrag, pages_to_scan, scan_sleep_millisecs, alloc_sleep_millisecs;
        uint64_t max_ptes_none, max_ptes_swap, max_ptes_shared; /* max_ptes_shared: 0 on kernels before 5.8 */
        uint64_t full_scans, pages_collapsed;
        bool has_anon_huge;
        uint64_t anon_huge; /* bytes */
};
/* host_thp's numbers from khugepaged/: its settings, then its counters */
extern const struct host_u64_field host_khugepaged_settings[], host_khugepaged_counters[];
int host_thp_read(const char *sysroot, struct host_thp *ret, struct qc_err *err);
/* /proc/sys/kernel/numa_balancing: 0, 1 (or 2, 3: memory tiering), -1 when absent. */
int host_numa_balancing_read(const char *sysroot, int *ret, struct qc_err *err);

struct host_kvm {
        bool present;     /* the device node exists */
        bool opened;      /* we could open it */
        int api_version;  /* KVM_GET_API_VERSION, 0 unknown */
        bool creates_vms; /* KVM_CREATE_VM succeeded (running a vCPU is another matter) */
        char module[16];  /* "kvm_intel", "kvm_amd", "" */
        int nested;       /* 1, 0, -1 unknown */
        char why[QC_ERR_MSG_MAX];    /* when not opened / no VM: the reason */
};
/* dev NULL = /dev/kvm. Never fails: what cannot be learnt is reported. */
void host_kvm_read(const char *dev, const char *sysroot, struct host_kvm *ret);

struct host_cgroups {
        char *mount;      /* cgroup2 mount, NULL when none */
        unsigned offered; /* controllers in its root's cgroup.controllers (CG_MASK bits) */
        unsigned v1_mask; /* controllers bound to cgroup v1 */
        char why[QC_ERR_MSG_MAX];    /* when mount is NULL or unreadable */
};
/* mountinfo NULL = /proc/self/mountinfo. */
void host_cgroups_read(const char *mountinfo, struct host_cgroups *ret);
void host_cgroups_done(struct host_cgroups *c);
