/* Launch-time placement: which VM-file keys this host's cgroups can honour,
 * host NUMA nodes and hugepages checked before QEMU starts, RLIMIT_MEMLOCK for
 * locked memory, the VM's cgroup limits, and each vCPU thread's cgroup and
 * pinning.
 *
 * Pinning without the cpuset controller (a hybrid host): cpu.pin and
 * cpu.emulator_pin fall back to sched_setaffinity alone, with a warning, as a
 * virsh user expects pinning to work (libvirt sets affinity and cpuset both;
 * affinity alone can be undone by a process inside the VM's QEMU, which is
 * the difference). numa.nodeset without cpuset: guest RAM is still bound by
 * QEMU's memory backend (host-nodes, policy); only cpuset.mems for QEMU's own
 * allocations is lost: a warning. Memory limits, cpu.weight/max_percent and
 * cgroup.pids_max have no fallback: refused. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups/cgroups.h"
#include "common/cpuset.h"
#include "common/err.h"
#include "launcher/spec.h"

struct placement_issue {
        const char *key; /* "cpu.pin", "memory.limits.hard", ... */
        enum cg_controller controller;
        bool fatal;      /* false: a fallback works (print as a warning) */
        char *msg;       /* the whole sentence, with the fix */
};
struct placement_issues {
        struct placement_issue *v;
        size_t n;
        size_t n_fatal;
};
void placement_issues_done(struct placement_issues *is);

/* The controllers the VM file's keys need (CG_MASK bits). */
unsigned placement_wanted_controllers(const struct vm_spec *spec);
/* Every key of spec that needs a controller missing from usable (refused:
 * offered at the root but refused below, from cg_usable()). Messages name
 * the key, the controller, the hierarchy and why it lacks it, and the fix. */
int placement_check_controllers(const struct vm_spec *spec, const struct cg_hier *h, unsigned usable,
                                unsigned refused, struct placement_issues *ret, struct qc_err *err);

/* numa.nodeset against the host's nodes (host_nodes: from
 * placement_host_nodes(), or a test's). */
int placement_check_nodes(const struct vm_spec *spec, const struct cpuset *host_nodes, struct qc_err *err);
/* The same for a nodeset alone (numatune): "numa.nodeset: host node 5 does
 * not exist; this host has node 0". */
int placement_check_nodeset(const struct cpuset *want, const struct cpuset *host_nodes, struct qc_err *err);
int placement_host_nodes(struct cpuset *ret, struct qc_err *err);

/* memory.hugepages: the page size exists, enough free pages of it (on the
 * bound nodes with a strict nodeset), and memory.hugepages.path is a
 * hugetlbfs mount of that page size. sysroot "" = this host. */
int placement_check_hugepages(const struct vm_spec *spec, const char *sysroot, struct qc_err *err);

/* RLIMIT_MEMLOCK that memory.locked needs (libvirt's rule: the hard limit
 * when set, else the guest's maximum memory + 1 GiB for QEMU itself); 0 when
 * memory is not locked. */
uint64_t placement_memlock_bytes(const struct vm_spec *spec);
/* prlimit(pid, RLIMIT_MEMLOCK) to bytes (soft = hard); pid 0 = ourselves. */
int placement_apply_memlock(pid_t pid, uint64_t bytes, struct qc_err *err);

/* The VM's cgroup limits at launch: memory.* and pids.max, cpu.weight and
 * cpu.max on the domain, cpuset.mems = numa.nodeset — each only when its
 * controller is in usable. */
int placement_apply_cgroup(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, struct qc_err *err);
/* Where vCPU vcpu runs: its cpu.pin, else cpu.cpuset; NULL: anywhere. */
const struct cpuset *placement_vcpu_cpus(const struct vm_spec *spec, unsigned vcpu);
/* Where QEMU's other threads run: cpu.emulator_pin, else cpu.cpuset; NULL:
 * anywhere. */
const struct cpuset *placement_emulator_cpus(const struct vm_spec *spec);
/* emulator/cpuset.cpus = placement_emulator_cpus (with cpuset in usable). Written
 * once the vCPU threads left emulator/: before that it would confine the
 * affinity a vCPU's own pin asks for. */
int placement_apply_emulator_pin(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, struct qc_err *err);
/* sched_setaffinity of one thread (tid; 0 = caller). */
int placement_set_affinity(pid_t tid, const struct cpuset *cpus, struct qc_err *err);
/* A vCPU thread as soon as QMP names it (at start and after every hotplug):
 * into vcpuN/, pinned per cpu.pin (cpuset.cpus when usable, and affinity
 * always). A vCPU with no pin entry while the emulator is pinned gets every
 * online CPU back (it inherited the emulator's affinity). vm NULL (QEMU in no
 * cgroup of its own): affinity only. */
int placement_place_vcpu(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, unsigned vcpu, pid_t tid,
                         struct qc_err *err);
/* Only the pin half of placement_place_vcpu (the thread already in vcpuN/):
 * for a caller that moves several threads back to back first. */
int placement_pin_vcpu(const struct vm_spec *spec, struct cg_vm *vm, unsigned usable, unsigned vcpu, pid_t tid,
                       struct qc_err *err);
