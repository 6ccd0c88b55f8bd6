/* Placement and privileges of one VM's launch (see launch-placement.h). */
#include "launch-placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../qmp/qmp-commands.h"
#include "../qmp/qmp.h"
#include "handle.h"
#include "placement.h"
#include "state.h"

const char *launch_placement_parent(const struct vm_spec *spec)
{
        return spec->cgroup.parent && *spec->cgroup.parent ? spec->cgroup.parent : VM_CGROUP_PARENT_DEFAULT;
}

DEFINE_CLEANUP_FUNC(struct cg_hier *, cg_hier_free)

/* The parent cg_usable and cg_vm_create get: in a delegated cgroup the
 * hierarchy is that cgroup (nothing above it is written) and the VM's cgroup
 * is right below it. */
static const char *vm_parent(const struct launch_placement *lp)
{
        return lp->cg_sub ? "" : launch_placement_parent(lp->spec);
}

static int hier_of(const struct launch_placement *lp, struct cg_hier **ret, struct qc_err *err)
{
        return lp->cg_sub ? cg_hier_open_sub(lp->cg_sub, ret, err) : cg_hier_open(NULL, ret, err);
}

/* The hierarchy and what is usable under the VM's parent; 0 with *ret NULL
 * when the host gives us no cgroup to make (why in *why). */
static int open_hier(const struct launch_placement *lp, struct cg_hier **ret, unsigned *usable, unsigned *refused,
                     struct qc_err *why)
{
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;

        *ret = NULL;
        *usable = *refused = 0;
        if (hier_of(lp, &h, why) < 0)
                return 0;
        if (cg_usable(h, vm_parent(lp), usable, refused, why) < 0) {
                if (lp->cg_sub)
                        qc_err_wrap(why, "delegated cgroup /%s", lp->cg_sub);
                else
                        qc_err_wrap(why, "cgroup parent \"%s\"", vm_parent(lp));
                return 0;
        }
        *ret = TAKE_PTR(h);
        return 0;
}

/* Handed to us: systemd marks the cgroup of a unit with Delegate=yes; a
 * Slurm job's processes live below its job_ID cgroup (Slurm marks nothing). */
static bool delegation_detected(const char *own, const char *abs)
{
        const char *job = getenv("SLURM_JOB_ID");
        char pat[64];

        if (cg_is_delegated(abs))
                return true;
        if (!job || !*job || snprintf(pat, sizeof pat, "job_%s", job) >= (int)sizeof pat)
                return false;
        for (const char *p = own; p && *p;) {
                size_t n = strcspn(p, "/");

                if (n == strlen(pat) && strncmp(p, pat, n) == 0)
                        return true;
                p += n;
                p += *p == '/';
        }
        return false;
}

int launch_placement_own_cgroup(char **ret_own, bool *ret_delegated, struct qc_err *err)
{
        _cleanup_free_ char *own = NULL, *mnt = NULL, *abs = NULL;

        if (cg_find_mount(NULL, &mnt, NULL, err) < 0 || cg_proc_path(0, &own, err) < 0)
                return -1;
        if (asprintf(&abs, "%s/%s", mnt, own) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret_delegated = *own && delegation_detected(own, abs);
        *ret_own = TAKE_PTR(own);
        return 0;
}

/* cgroup.mode: decide where the VM's cgroup goes, and for a delegated
 * cgroup leave it for its supervisor/ leaf now, before anything enables a
 * controller in it. -1 with err: refused. */
static int resolve_mode(struct launch_placement *lp, struct qc_err *err)
{
        const struct vm_spec *spec = lp->spec;
        bool forced = spec->cgroup.mode == VM_CGROUP_DELEGATED;
        _cleanup_free_ char *own = NULL, *mnt = NULL, *abs = NULL;
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;
        struct qc_err e = { 0 };
        bool in_leaf = false;
        char *leaf;

        if (spec->cgroup.mode == VM_CGROUP_PARENT)
                return 0;
        if (cg_find_mount(NULL, &mnt, NULL, &e) < 0 || cg_proc_path(0, &own, &e) < 0) {
                if (!forced)
                        return 0;
                return qc_err_set(err, e.code, "cgroup.mode \"delegated\": %s", e.msg);
        }
        /* already in our leaf (a second VM started by the same process):
         * the delegated cgroup is the one above it */
        leaf = strrchr(own, '/');
        if (leaf && strcmp(leaf + 1, VM_CGROUP_SUPERVISOR_LEAF) == 0) {
                *leaf = '\0';
                in_leaf = true;
        }
        if (asprintf(&abs, "%s/%s", mnt, own) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (!forced && (!*own || !delegation_detected(own, abs)))
                return 0;
        if (!*own)
                return qc_err_set(err, EPERM,
                                  "cgroup.mode \"delegated\": qemuctl runs in the root cgroup (%s), which no "
                                  "service manager delegated to it. Start it from a unit with Delegate=yes "
                                  "(systemd-run -p Delegate=yes ...), or set cgroup.mode to \"parent\"",
                                  mnt);
        if (strcmp(spec->name, VM_CGROUP_SUPERVISOR_LEAF) == 0)
                return qc_err_set(err, EINVAL,
                                  "a VM named \"%s\" cannot run in a delegated cgroup: qemuctl's own leaf there "
                                  "has that name. Rename the VM, or set cgroup.mode to \"parent\"",
                                  VM_CGROUP_SUPERVISOR_LEAF);
        if (in_leaf) {
                /* the one who moved us there undoes it */
                lp->cg_sub = TAKE_PTR(own);
                return 0;
        }
        if (cg_hier_open_sub(own, &h, &e) < 0 ||
            cg_hier_enter_leaf(h, VM_CGROUP_SUPERVISOR_LEAF, &lp->sub_had, &lp->made_leaf, &e) < 0)
                return qc_err_set(err, e.code, "cgroup.mode \"%s\" (%s): %s%s", forced ? "delegated" : "auto",
                                  forced ? "set in the VM file" : "this cgroup is marked delegated", e.msg,
                                  e.code == EACCES || e.code == EPERM
                                          ? ". The cgroup qemuctl was started in is not writable by it: delegate "
                                            "it (systemd: Delegate=yes), or set cgroup.mode to \"parent\""
                                          : "");
        lp->in_leaf = true;
        lp->cg_sub = TAKE_PTR(own);
        return 0;
}

/* Undo resolve_mode's move once nothing of ours is left beside the leaf
 * (another VM's cgroup keeps it as it is). Best effort. */
static void leave_leaf(struct launch_placement *lp)
{
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;

        if (!lp->in_leaf || cg_hier_open_sub(lp->cg_sub, &h, NULL) < 0)
                return;
        if (cg_hier_leave_leaf(h, VM_CGROUP_SUPERVISOR_LEAF, lp->sub_had, lp->made_leaf, NULL) == 1)
                lp->in_leaf = false;
}

void launch_placement_done(struct launch_placement *lp)
{
        leave_leaf(lp);
        free(lp->cg_sub);
        lp->cg_sub = NULL;
        strv_done(&lp->warnings);
        strv_done(&lp->refusals);
        privs_done(&lp->privs);
        cg_vm_free(lp->cg);
        lp->cg = NULL;
        qmp_cpu_list_free(lp->vcpus);
        lp->vcpus = NULL;
}

static int refuse(struct launch_placement *lp, struct qc_err *err)
{
        if (strv_push(&lp->refusals, err->msg) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

int launch_placement_check(const struct vm_spec *spec, struct launch_placement *ret, struct qc_err *err)
{
        struct launch_placement *lp = ret;
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;
        struct placement_issues is = { 0 };
        struct qc_err why = { 0 }, e = { 0 };
        struct cpuset nodes;
        unsigned refused = 0, wanted = placement_wanted_controllers(spec);
        bool mode_refused = false;

        *lp = (struct launch_placement){ .spec = spec };
        if (resolve_mode(lp, &e) < 0) {
                /* that refusal says it all: no cgroup is looked at */
                mode_refused = true;
                if (refuse(lp, &e) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory");
        } else {
                open_hier(lp, &h, &lp->usable, &refused, &why);
        }
        qc_err_clear(&e);
        if (h) {
                lp->use_cgroup = true;
                if (placement_check_controllers(spec, h, lp->usable, refused, &is, err) < 0)
                        return -1;
                for (size_t i = 0; i < is.n; i++)
                        if (strv_push(is.v[i].fatal ? &lp->refusals : &lp->warnings, is.v[i].msg) < 0) {
                                placement_issues_done(&is);
                                return qc_err_set(err, ENOMEM, "out of memory");
                        }
                placement_issues_done(&is);
        } else if (!mode_refused && wanted) {
                _cleanup_free_ char *names = cg_mask_to_string(wanted);

                qc_err_set(&e, EOPNOTSUPP,
                           "the VM file needs the cgroup v2 controller%s %s, but qemuctl cannot make a cgroup "
                           "here: %s. Run qemuctl as root on a host with cgroup2, or remove those keys",
                           strchr(names ? names : "", ' ') ? "s" : "", names ? names : "?", why.msg);
                if (refuse(lp, &e) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory");
        } else if (!mode_refused && strv_pushf(&lp->warnings, "QEMU runs in no cgroup of its own (%s)", why.msg) < 0) {
                return qc_err_set(err, ENOMEM, "out of memory");
        }

        if (spec->numa.has_nodeset) {
                if (placement_host_nodes(&nodes, &e) < 0 || placement_check_nodes(spec, &nodes, &e) < 0)
                        if (refuse(lp, &e) < 0)
                                return qc_err_set(err, ENOMEM, "out of memory");
        }
        qc_err_clear(&e);
        if (placement_check_hugepages(spec, "", &e) < 0 && refuse(lp, &e) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        lp->memlock = placement_memlock_bytes(spec);
        qc_err_clear(&e);
        if (privs_resolve(spec->security.user, spec->security.group, &lp->privs, &e) < 0 && refuse(lp, &e) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (lp->refusals.n)
                return qc_err_set(err, EINVAL, "%s", lp->refusals.v[0]);
        return 0;
}

DEFINE_CLEANUP_FUNC(struct cg_vm *, cg_vm_free)

/* Create the VM's cgroup with its limits (reopened: `start`'s supervisor
 * closed what the CLI had open). */
static int make_cgroup(struct launch_placement *lp, struct qc_err *err)
{
        const struct vm_spec *spec = lp->spec;
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;
        _cleanup_(cg_vm_freep) struct cg_vm *cg = NULL;
        unsigned refused;
        struct qc_err why = { 0 };

        open_hier(lp, &h, &lp->usable, &refused, &why);
        if (!h)
                return qc_err_set(err, why.code, "%s", why.msg);
        if (cg_vm_create(h, vm_parent(lp), spec->name, lp->usable, spec->cpu.vcpus, &cg, err) < 0)
                return -1;
        /* from here on the cleanup hook removes it, even if we fail */
        lp->cg = TAKE_PTR(cg);
        return placement_apply_cgroup(spec, lp->cg, lp->usable, err);
}

int launch_placement_make_cgroup(void *userdata, int *ret_fd, struct qc_err *err)
{
        struct launch_placement *lp = userdata;

        *ret_fd = -1;
        if (!lp->use_cgroup)
                return 0;
        if (!lp->cg && make_cgroup(lp, err) < 0)
                return -1;
        *ret_fd = cg_vm_emulator_fd(lp->cg);
        return 0;
}

int launch_placement_place_qemu(pid_t qemu_pid, void *userdata, struct qc_err *err)
{
        struct launch_placement *lp = userdata;
        const struct vm_spec *spec = lp->spec;

        /* QEMU has not exec'd yet: it waits for us (spawn's handshake), so
         * it runs its first instruction in emulator/ with every limit set.
         * Born there when launch_placement_make_cgroup ran first (spawn_opts
         * .into_cgroup); moved there here otherwise. */
        if (lp->use_cgroup && !lp->cg) {
                if (make_cgroup(lp, err) < 0 || cg_vm_place_pid(lp->cg, qemu_pid, err) < 0)
                        return -1;
        }
        if (lp->memlock && placement_apply_memlock(qemu_pid, lp->memlock, err) < 0)
                return -1;
        /* every thread QEMU makes inherits this; vCPU threads get theirs
         * in launch_placement_pin_vcpus */
        if (placement_emulator_cpus(spec) && placement_set_affinity(qemu_pid, placement_emulator_cpus(spec), err) < 0)
                return qc_err_wrap(err, spec->cpu.has_emulator_pin ? "cpu.emulator_pin" : "cpu.cpuset");
        return 0;
}

int launch_placement_pin_vcpus(struct qmp *q, pid_t qemu_pid, void *userdata, struct qc_err *err)
{
        struct launch_placement *lp = userdata;
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = NULL;

        if (qmp_query_cpus_fast(q, &l, err) < 0)
                return qc_err_wrap(err, "find the vCPU threads");
        for (size_t i = 0; i < l->n; i++) {
                const struct qmp_cpu *c = &l->cpus[i];
                int fd;

                if (c->cpu_index < 0 || c->thread_id <= 0)
                        return qc_err_set(err, EPROTO, "query-cpus-fast names vCPU %lld without a thread",
                                          (long long)c->cpu_index);
                /* vcpuN/ is empty: making it threaded takes no rwsem */
                if (lp->cg && cg_vm_vcpu_fd(lp->cg, (unsigned)c->cpu_index, &fd, err) < 0)
                        return -1;
        }
        /* Pins take effect before the guest runs, as affinity (and
         * vcpuN/cpuset.cpus, for when the thread gets there). The moves into
         * vcpuN/ wait for launch_placement_place_vcpus: each move into a cgroup
         * takes the kernel's cgroup_threadgroup_rwsem for writing, and
         * without the cgroup2 option favordynmods the first one after a quiet
         * spell waits for an RCU grace period (~10 ms) to get it out of its
         * fast reader mode; start need not wait for that. */
        for (size_t i = 0; i < l->n; i++)
                if (placement_pin_vcpu(lp->spec, lp->cg, lp->usable, (unsigned)l->cpus[i].cpu_index,
                                       (pid_t)l->cpus[i].thread_id, err) < 0)
                        return -1;
        qmp_cpu_list_free(lp->vcpus);
        lp->vcpus = TAKE_PTR(l);
        return 0;
}

int launch_placement_place_vcpus(void *userdata, struct qc_err *err)
{
        struct launch_placement *lp = userdata;
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = TAKE_PTR(lp->vcpus);

        if (!lp->cg || !l)
                return 0;
        /* all moves back to back: one grace period for all vCPUs */
        for (size_t i = 0; i < l->n; i++)
                if (cg_vm_place_vcpu(lp->cg, (unsigned)l->cpus[i].cpu_index, (pid_t)l->cpus[i].thread_id, err) < 0)
                        return -1;
        /* only the emulator's threads are left in emulator/ now */
        return placement_apply_emulator_pin(lp->spec, lp->cg, lp->usable, err);
}

void launch_placement_remove_cgroup(void *userdata)
{
        struct launch_placement *lp = userdata;

        /* best effort: nobody is left to tell; `list` and `kill` tidy */
        if (lp->cg) {
                cg_vm_remove(lp->cg, 5000, NULL);
                cg_vm_free(lp->cg);
                lp->cg = NULL;
        }
        leave_leaf(lp);
}

int launch_placement_find(pid_t pid, const char *name, char **ret_sub)
{
        _cleanup_free_ char *rel = NULL, *tail = NULL;
        size_t n, t;

        if (cg_proc_path(pid, &rel, NULL) < 0 || asprintf(&tail, "%s/emulator", name) < 0)
                return 0;
        n = strlen(rel);
        t = strlen(tail);
        if (n < t || strcmp(rel + n - t, tail) != 0 || (n > t && rel[n - t - 1] != '/'))
                return 0;
        rel[n > t ? n - t - 1 : 0] = '\0';
        *ret_sub = TAKE_PTR(rel);
        return 1;
}

int launch_placement_tidy(const char *rundir, int wait_ms, struct qc_err *err)
{
        int64_t deadline = now_ms() + wait_ms;
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;
        _cleanup_(cg_vm_freep) struct cg_vm *cg = NULL;
        struct vm_spec *spec = NULL;
        struct qc_err e = { 0 };
        bool empty = false;
        int r;

        r = vm_load_spec(rundir, &spec, &e);
        if (r < 0)
                return 0; /* no spec, no cgroup of ours to find */
        if (cg_hier_open(NULL, &h, &e) < 0 ||
            cg_vm_open(h, launch_placement_parent(spec), spec->name, &cg, &e) < 0) {
                spec_free(spec);
                return 0;
        }
        spec_free(spec);
        for (;;) {
                if (cg_is_empty(cg_vm_fd(cg), &empty, err) < 0)
                        return qc_err_wrap(err, "cgroup %s", cg_vm_path(cg));
                if (empty)
                        return cg_vm_remove(cg, 1000, err);
                if (now_ms() >= deadline)
                        return 0;
                usleep(20 * 1000);
        }
}
