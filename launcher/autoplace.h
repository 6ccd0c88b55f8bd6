/* Automatic placement (cpu.placement / numa.placement "auto", libvirt's
 * placement='auto'): what libvirt asks numad for, done here. numad is not
 * on the hosts qemuctl is for; its advice for a new process is the node(s)
 * with the most free memory that hold the process's memory and have the
 * CPUs it needs. The choice is written into the spec (numa.nodeset,
 * cpu.cpuset) before the command line is built, so QEMU's memory backends
 * (host-nodes), the VM cgroup's cpuset.mems and cpuset.cpus, the threads'
 * affinity and the effective spec (`dump`) all carry it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cpuset.h"
#include "../common/err.h"
#include "../host/host.h"
#include "spec.h"

struct autoplace_node {
        unsigned id;
        uint64_t free;   /* bytes the VM can have there */
        unsigned n_cpus; /* CPUs of the node */
};

/* The choice, from nodes (by id, ascending) and distance (n * n by index,
 * as host_numa has it; NULL or 0s: all equally far). One node when one
 * holds memory bytes and has vcpus CPUs: the one with the most free memory
 * among those (ties: more CPUs, then the lower id). Otherwise a set grown
 * from the node with the most free memory, adding the nearest node (least
 * distance summed over the set; ties: more free memory) until the set
 * holds both. Returns 1 with *ret = the set; 0 when not even every node
 * together does (*ret = every node); -1 with err when there is no node. */
int autoplace_choose(const struct autoplace_node *nodes, size_t n, const unsigned *distance, uint64_t memory,
                     unsigned vcpus, struct cpuset *ret, struct qc_err *err);

struct autoplace_decision {
        bool nodes_auto, cpus_auto; /* numa.placement, cpu.placement were auto */
        bool no_numa;               /* the kernel has no NUMA: nothing was bound */
        bool chosen;                /* nodes were chosen (not numa.nodeset's) */
        bool fits;                  /* the nodes hold the VM */
        struct cpuset nodes;        /* the VM's host nodes */
        struct cpuset cpus;         /* their CPUs (cpu.cpuset, with cpus_auto) */
        uint64_t memory, free;      /* bytes: the VM's, free on those nodes */
        unsigned vcpus, n_cpus;
        uint64_t hugepage;          /* free counted in huge pages of this size; 0 = normal pages */
        bool had_nodeset, had_cpuset; /* the file gave one, now replaced */
        struct cpuset old_nodeset, old_cpuset;
};

/* When spec asks for auto placement: choose (host facts: numa from
 * host_numa_read, hp from host_hugepages_read, used with
 * memory.hugepages), and write numa.nodeset / cpu.cpuset into spec.
 * *ret says what was done (all false: nothing was auto). */
int autoplace_apply(struct vm_spec *spec, const struct host_numa *numa, const struct host_hugepages *hp,
                    struct autoplace_decision *ret, struct qc_err *err);
/* What was decided, in one sentence for the user; NULL when nothing was
 * auto (or out of memory). malloc'd. */
char *autoplace_describe(const struct autoplace_decision *d);
