/* Placement and privileges of one VM's launch (see launch-placement.h). */
#include "launch-placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
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

/* The hierarchy and what is usable under parent; 0 with *ret NULL when the
 * host gives us no cgroup to make (why in *why). */
static int open_hier(const struct vm_spec *spec, struct cg_hier **ret, unsigned *usable, unsigned *refused,
                     struct qc_err *why)
{
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;

        *ret = NULL;
        *usable = *refused = 0;
        if (cg_hier_open(NULL, &h, why) < 0)
                return 0;
        if (cg_usable(h, launch_placement_parent(spec), usable, refused, why) < 0) {
                qc_err_wrap(why, "cgroup parent \"%s\"", launch_placement_parent(spec));
                return 0;
        }
        *ret = TAKE_PTR(h);
        return 0;
}

void launch_placement_done(struct launch_placement *lp)
{
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

        *lp = (struct launch_placement){ .spec = spec };
        open_hier(spec, &h, &lp->usable, &refused, &why);
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
        } else if (wanted) {
                _cleanup_free_ char *names = cg_mask_to_string(wanted);

                qc_err_set(&e, EOPNOTSUPP,
                           "the VM file needs the cgroup v2 controller%s %s, but qemuctl cannot make a cgroup "
                           "here: %s. Run qemuctl as root on a host with cgroup2, or remove those keys",
                           strchr(names ? names : "", ' ') ? "s" : "", names ? names : "?", why.msg);
                if (refuse(lp, &e) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory");
        } else if (strv_pushf(&lp->warnings, "QEMU runs in no cgroup of its own (%s)", why.msg) < 0) {
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

        open_hier(spec, &h, &lp->usable, &refused, &why);
        if (!h)
                return qc_err_set(err, why.code, "%s", why.msg);
        if (cg_vm_create(h, launch_placement_parent(spec), spec->name, lp->usable, spec->cpu.vcpus, &cg, err) < 0)
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
        if (spec->cpu.has_emulator_pin && placement_set_affinity(qemu_pid, &spec->cpu.emulator_pin, err) < 0)
                return qc_err_wrap(err, "cpu.emulator_pin");
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

        if (!lp->cg)
                return;
        /* best effort: nobody is left to tell; `list` and `kill` tidy */
        cg_vm_remove(lp->cg, 5000, NULL);
        cg_vm_free(lp->cg);
        lp->cg = NULL;
}

int launch_placement_tidy(const char *rundir, struct qc_err *err)
{
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
        if (cg_is_empty(cg_vm_fd(cg), &empty, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(cg));
        if (!empty)
                return 0;
        return cg_vm_remove(cg, 1000, err);
}
