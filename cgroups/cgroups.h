/* cgroup v2 for VMs: find the hierarchy, say which controllers are usable,
 * create a VM's subtree, write limits, move processes and threads, read
 * stats, freeze, kill, remove. Stands on its own: needs only common/.
 *
 * Where a VM's cgroup lives: <cgroup2 mount>/<parent>/<name>/, the mount found
 * in /proc/self/mountinfo (type cgroup2: /sys/fs/cgroup on a unified host,
 * /sys/fs/cgroup/unified on a hybrid one). parent defaults to "qemuctl". On a
 * systemd host, give qemuctl a delegated subtree instead of writing next to
 * systemd's own: run it from a unit with Delegate=yes (or `systemd-run
 * --scope -p Delegate=yes`) and set "cgroup": {"parent":
 * "system.slice/qemuctl.service/vms"} — a cgroup with no processes of its
 * own, since cgroup v2 lets a cgroup either hold processes or hand domain
 * controllers to its children, not both.
 *
 * Layout per VM (as libvirt does on v2):
 *   <parent>/<name>/          domain: memory.*, pids.max, cpu.weight/max, cpuset.mems
 *   <parent>/<name>/emulator/ threaded: QEMU's process and non-vCPU threads
 *   <parent>/<name>/vcpuN/    threaded: one vCPU thread each (cpuset.cpus)
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

enum cg_controller {
        CG_CPUSET,
        CG_CPU,
        CG_IO,
        CG_MEMORY,
        CG_HUGETLB,
        CG_PIDS,
        CG_RDMA,
        CG_MISC,
        _CG_CONTROLLER_MAX,
        _CG_CONTROLLER_INVALID = -1,
};
#define CG_MASK(c) (1u << (c))
/* Controllers that work inside a threaded subtree (the rest are domain only). */
#define CG_THREADED_MASK (CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_PIDS))

const char *cg_controller_to_string(enum cg_controller c);
enum cg_controller cg_controller_from_string(const char *s);
/* "cpuset cpu memory" (malloc'd; "" for none). */
char *cg_mask_to_string(unsigned mask);

/* An open cgroup2 hierarchy (the mount, or a fake tree in tests). */
struct cg_hier;

/* Find the cgroup2 mount in a mountinfo file (NULL = /proc/self/mountinfo).
 * *ret_v1_mask: controllers mounted as cgroup v1 (a hybrid host), so an error
 * can say why the v2 hierarchy lacks them. err->code ENOENT when there is
 * none. Every function here that takes err returns 0 or -1 with err->code set
 * (docs/STYLE.md, the error convention). */
int cg_find_mount(const char *mountinfo, char **ret_path, unsigned *ret_v1_mask, struct qc_err *err);
/* Open the hierarchy at path; refuses a path that is not cgroup2 (statfs).
 * path NULL = find it with cg_find_mount(). */
int cg_hier_open(const char *path, struct cg_hier **ret, struct qc_err *err);
/* Open the subtree at rel (relative to the cgroup2 mount, "a/b") as a
 * hierarchy of its own: everything made through it stays below rel, and
 * nothing above rel is ever written (a delegated cgroup). */
int cg_hier_open_sub(const char *rel, struct cg_hier **ret, struct qc_err *err);
void cg_hier_free(struct cg_hier *h);
const char *cg_hier_path(const struct cg_hier *h);
unsigned cg_hier_v1_mask(const struct cg_hier *h);
/* Opened with cg_hier_open_sub. */
bool cg_hier_is_sub(const struct cg_hier *h);
/* Controllers the root offers (its cgroup.controllers). */
int cg_hier_controllers(struct cg_hier *h, unsigned *ret_mask, struct qc_err *err);

/* Controllers usable for a VM under parent ("qemuctl", "a/b"): offered by the
 * root and enabled, or enableable, in cgroup.subtree_control at every level
 * down to parent. This creates the parent cgroups and enables what it can
 * (it is the check and the set-up in one; writing "+x" is how one asks).
 * ret_refused (may be NULL): controllers the root offers but some level
 * refused. */
int cg_usable(struct cg_hier *h, const char *parent, unsigned *ret_usable, unsigned *ret_refused,
              struct qc_err *err);

/* The cgroup pid (0 = ourselves) is in, from /proc/PID/cgroup's "0::" line:
 * relative to the cgroup2 mount, without the leading '/' ("" = the root).
 * err->code ENOENT when the process is in no cgroup2 hierarchy, or is
 * gone (no /proc/PID/cgroup). */
int cg_proc_path(pid_t pid, char **ret_rel, struct qc_err *err);
/* The same from /proc/PID/cgroup's text: 1 with *ret_rel (malloc'd), 0 when
 * no "0::" line is there (hybrid hosts list their v1 hierarchies on lines
 * of their own), -1 with err (ENOMEM). */
int cg_proc_cgroup_parse(const char *text, char **ret_rel, struct qc_err *err);
/* A service manager delegated the cgroup at abs_path to its processes: it
 * carries the xattr trusted.delegate (or user.delegate) = "1", which systemd
 * sets on the cgroup of a unit with Delegate=yes (v251 and later). */
bool cg_is_delegated(const char *abs_path);
/* Move the calling process (every thread) into leaf, a child of h's root
 * made if missing: the leaf a process leaves its cgroup for, so that the
 * cgroup itself holds no process and may enable controllers for its
 * children (cgroup v2's no-internal-processes rule). *ret_had: the
 * controllers enabled in the root's cgroup.subtree_control before;
 * *ret_made: the leaf was made here. */
int cg_hier_enter_leaf(struct cg_hier *h, const char *leaf, unsigned *ret_had, bool *ret_made, struct qc_err *err);
/* Undo cg_hier_enter_leaf once nothing else was made beside leaf: disable
 * what was enabled in the root's cgroup.subtree_control since (all but
 * had), move the calling process back into the root, and remove leaf when
 * remove and empty. Returns 1 when done, 0 when other cgroups still live
 * beside leaf (then nothing is changed: their controllers stay). */
int cg_hier_leave_leaf(struct cg_hier *h, const char *leaf, unsigned had, bool remove, struct qc_err *err);

/* Why a controller is not usable, for messages: "it is bound to cgroup v1 —
 * hybrid mode", "the kernel does not offer it", "enabling it below the root
 * was refused". Static string. */
const char *cg_missing_reason(const struct cg_hier *h, enum cg_controller c, unsigned refused);

/* One VM's cgroup subtree. */
struct cg_vm;

/* Create <parent>/<name>/ with emulator/ and vcpu0..n_vcpus-1 (threaded),
 * enabling `controllers` down the path: all of them into the parent's
 * cgroup.subtree_control, the threaded ones (cpu, cpuset) into the VM's. An
 * existing VM cgroup with processes in it is an error (err->code EBUSY); an empty
 * leftover is reused. */
int cg_vm_create(struct cg_hier *h, const char *parent, const char *name, unsigned controllers, unsigned n_vcpus,
                 struct cg_vm **ret, struct qc_err *err);
/* Open an existing VM cgroup (for verbs on a running VM). err->code ENOENT
 * if absent. */
int cg_vm_open(struct cg_hier *h, const char *parent, const char *name, struct cg_vm **ret, struct qc_err *err);
void cg_vm_free(struct cg_vm *vm);
/* "/sys/fs/cgroup/unified/qemuctl/vm1" */
const char *cg_vm_path(const struct cg_vm *vm);
/* Directory fds (owned by vm; O_PATH-free, usable with openat and as
 * CLONE_INTO_CGROUP's cgroup fd). */
int cg_vm_fd(const struct cg_vm *vm);
int cg_vm_emulator_fd(const struct cg_vm *vm);
/* vcpuN/, created (threaded, controllers enabled) on first use: a vCPU added
 * by hotplug gets its cgroup the moment its thread is placed. */
int cg_vm_vcpu_fd(struct cg_vm *vm, unsigned vcpu, int *ret_fd, struct qc_err *err);

/* Move a whole process (all its threads) into emulator/. */
int cg_vm_place_pid(struct cg_vm *vm, pid_t pid, struct qc_err *err);
/* Move one thread into vcpuN/ (its process must already be in the VM). */
int cg_vm_place_vcpu(struct cg_vm *vm, unsigned vcpu, pid_t tid, struct qc_err *err);

/* fork() that puts the child into the cgroup at cgroup_fd before the child
 * runs: clone3(CLONE_INTO_CGROUP | CLONE_PIDFD) on Linux >= 5.7; on older
 * kernels fork() and the child writes itself into cgroup.procs before this
 * returns in it. *ret_pid = 0 in the child, the child's pid in the parent.
 * In the child only async-signal-safe calls until exec (no fork handlers
 * ran). *ret_pidfd (may be NULL) = pidfd in the parent, or -1 when the kernel
 * gave none. Returns < 0 on failure — in the child too, when the fallback's
 * write failed; then the child must report and _exit. */
int cg_fork_into(int cgroup_fd, pid_t *ret_pid, int *ret_pidfd, struct qc_err *err);

/* Only the clone3 half of cg_fork_into: no fallback. Fails with err->code
 * for which cg_clone_unsupported() is true on a kernel without
 * CLONE_INTO_CGROUP (the caller then forks and moves the child itself).
 * ret_pidfd NULL = no pidfd asked for. */
int cg_clone_into(int cgroup_fd, pid_t *ret_pid, int *ret_pidfd, struct qc_err *err);
bool cg_clone_unsupported(int code);

/* Limits. 0 = leave as is; CG_LIMIT_MAX writes "max". One writer per
 * controller; they write to any cgroup dirfd. */
#define CG_LIMIT_MAX UINT64_MAX
struct cg_memory_limits {
        uint64_t max, high, low, swap_max, min;
};
int cg_set_memory(int dirfd, const struct cg_memory_limits *m, struct qc_err *err);
int cg_set_pids(int dirfd, uint64_t max, struct qc_err *err);
/* weight 1..10000 (0 = leave); max_percent of one CPU (0 = leave), written as
 * cpu.max "quota period" with a 100 ms period. */
int cg_set_cpu(int dirfd, unsigned weight, unsigned max_percent, struct qc_err *err);
/* cpus/mems in list syntax ("0-3"); NULL = leave. */
int cg_set_cpuset(int dirfd, const char *cpus, const char *mems, struct qc_err *err);

/* The one writer every cgroup file goes through. */
int cg_write(int dirfd, const char *file, const char *value, struct qc_err *err);
int cg_read(int dirfd, const char *file, char **ret, struct qc_err *err);

struct cg_pressure {
        double some_avg10, full_avg10;
        uint64_t some_total_us, full_total_us;
};
struct cg_stats {
        bool has_memory; /* memory controller enabled here */
        uint64_t memory_current, memory_anon, memory_file, memory_swap_current;
        bool has_cpu; /* cpu.stat exists even without the cpu controller */
        uint64_t cpu_usage_us, cpu_user_us, cpu_system_us, cpu_nr_throttled, cpu_throttled_us;
        bool has_pids;
        uint64_t pids_current;
        bool has_pressure;
        struct cg_pressure cpu_pressure, memory_pressure, io_pressure;
};
int cg_read_stats(int dirfd, struct cg_stats *ret, struct qc_err *err);
/* One key of a "key value" file (memory.stat, cpu.stat, cgroup.events). */
int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret, struct qc_err *err);

/* cgroup.freeze, then wait (up to timeout_ms) until cgroup.events says
 * "frozen" matches. err->code ETIMEDOUT if it does not. */
int cg_freeze(int dirfd, bool frozen, int timeout_ms, struct qc_err *err);
/* SIGKILL every process in the subtree: cgroup.kill (Linux >= 5.14), else
 * signal each pid in cgroup.procs of every cgroup below. */
int cg_kill(int dirfd, struct qc_err *err);
/* True when no process is left in the subtree (cgroup.events populated 0). */
int cg_is_empty(int dirfd, bool *ret, struct qc_err *err);
/* Remove the VM's cgroups (children first), waiting up to timeout_ms for the
 * kernel to let go of exited processes. vm stays valid only for cg_vm_free. */
int cg_vm_remove(struct cg_vm *vm, int timeout_ms, struct qc_err *err);
