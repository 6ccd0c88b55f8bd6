/* Placement and privileges of one VM's launch, for `start` and `run`: what
 * is checked before anything is created, and the supervisor hooks that make
 * the cgroup QEMU is born in (make_cgroup), set its rlimit and affinity
 * before it runs (place_qemu), pin each vCPU thread before the guest runs
 * (pin_vcpus), move each into vcpuN/ once the guest runs (place_vcpus), and
 * remove the cgroup once QEMU is gone (remove_cgroup). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../cgroups/cgroups.h"
#include "../common/err.h"
#include "../common/strv.h"
#include "privs.h"
#include "spec.h"

struct qmp;
struct qmp_cpu_list;

struct launch_placement {
        const struct vm_spec *spec;
        bool use_cgroup;   /* a cgroup2 hierarchy where the VM's cgroup can be made */
        unsigned usable;   /* controllers usable under spec->cgroup.parent */
        strv warnings;     /* for the user: fallbacks in effect (library code does not print) */
        strv refusals;     /* why the start is refused (also the first in err) */
        struct privs privs;
        uint64_t memlock;  /* RLIMIT_MEMLOCK for QEMU, 0 = leave */
        struct cg_vm *cg;  /* made by make_cgroup (or place_qemu), in the supervisor */
        /* cgroup.mode delegated (or auto, detected): the cgroup qemuctl was
         * started in, relative to the cgroup2 mount; the VM's cgroup is
         * cg_sub/NAME/ and qemuctl lives in cg_sub/supervisor/. NULL: the
         * VM's cgroup is cgroup.parent/NAME/ from the root. */
        char *cg_sub;
        bool in_leaf;      /* we moved into cg_sub/supervisor/ */
        bool made_leaf;    /* ... and made it */
        unsigned sub_had;  /* cg_sub's subtree_control before we came */
        struct qmp_cpu_list *vcpus; /* found by pin_vcpus, moved into vcpuN/ by place_vcpus */
};

/* Before anything is created: cgroup controllers the VM file's keys need
 * (missing → a refusal naming key, controller, host fact and fix; a
 * fallback → a warning), numa.nodeset against the host's nodes, hugepages
 * (size, free pages, hugetlbfs mount), security.user/group resolved.
 * Creates at most the parent cgroups (cgroup.parent) on the way. Returns 0,
 * or -1 with err (the first refusal; every one in ret->refusals). ret must be
 * launch_placement_done'd either way. */
int launch_placement_check(const struct vm_spec *spec, struct launch_placement *ret, struct qc_err *err);
void launch_placement_done(struct launch_placement *lp);

/* The supervisor's hooks (struct supervisor_opts; userdata = the
 * launch_placement). place_qemu: create <parent>/<name>/ with emulator/ and vcpuN/,
 * write the limits, move the not-yet-exec'd QEMU into emulator/, raise its
 * RLIMIT_MEMLOCK, pin it per cpu.emulator_pin. pin_vcpus (before `cont`):
 * every vCPU thread QMP names pinned per cpu.pin by affinity, and
 * vcpuN/cpuset.cpus written. place_vcpus (after `cont`, start has returned; the
 * VM's lock is still held): those threads into vcpuN/, then
 * emulator/cpuset.cpus = cpu.emulator_pin. The moves cost an RCU grace
 * period on a host without favordynmods, which start no longer waits for.
 * remove_cgroup: remove the cgroup. */
int launch_placement_place_qemu(pid_t qemu_pid, void *userdata, struct qc_err *err);
/* The supervisor's make_cgroup hook: create the cgroup (as place_qemu
 * would) before QEMU is spawned; *ret_fd = emulator/ (owned by lp), -1
 * without a cgroup. place_qemu then leaves QEMU where it was born. */
int launch_placement_make_cgroup(void *userdata, int *ret_fd, struct qc_err *err);
int launch_placement_pin_vcpus(struct qmp *q, pid_t qemu_pid, void *userdata, struct qc_err *err);
int launch_placement_place_vcpus(void *userdata, struct qc_err *err);
void launch_placement_remove_cgroup(void *userdata);

/* The leaf of a delegated cgroup qemuctl moves itself into. */
#define VM_CGROUP_SUPERVISOR_LEAF "supervisor"

/* The VM's cgroup parent: spec's cgroup.parent or VM_CGROUP_PARENT_DEFAULT. */
const char *launch_placement_parent(const struct vm_spec *spec);

/* The cgroup this process runs in (relative to the cgroup2 mount, "" = the
 * root) and whether cgroup.mode "auto" takes it as delegated (see
 * docs/DESIGN.md, cgroup modes). -1 with err when there is no cgroup2. */
int launch_placement_own_cgroup(char **ret_own, bool *ret_delegated, struct qc_err *err);

/* Where QEMU's VM cgroup is: the cgroup of pid (QEMU's main thread, in
 * VM/emulator/) tells it, in either mode. *ret_sub = the cgroup above the
 * VM's (relative to the mount; "" = the root), when pid is in
 * <sub>/<name>/emulator or below. 1 found, 0 not in such a cgroup. */
int launch_placement_find(pid_t pid, const char *name, char **ret_sub);

/* Remove the cgroup a VM whose supervisor died left behind (spec.json in
 * rundir names its parent), when no process is left in it, waiting up to
 * wait_ms for the last ones to go (helpers such as swtpm end a moment after
 * their QEMU). 0 when there is none (any more). */
int launch_placement_tidy(const char *rundir, int wait_ms, struct qc_err *err);
