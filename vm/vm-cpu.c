/* setvcpus and vcpuinfo. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/io.h"
#include "../launcher/placement.h"
#include "../qmp/qmp.h"
#include "vm-internal.h"

int vm_live_record(struct vm_live *vm, struct qc_err *err)
{
        if (!vm->record)
                return 0;
        if (vm->record(vm->userdata, vm->spec, err) < 0)
                return qc_err_wrap(err, "record the change");
        return 0;
}

void vm_vcpu_infos_free(struct vm_vcpu_info *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i].qom_path);
        free(v);
}

static int info_cmp(const void *pa, const void *pb)
{
        const struct vm_vcpu_info *a = pa, *b = pb;

        return a->vcpu < b->vcpu ? -1 : a->vcpu > b->vcpu;
}

int vm_vcpuinfo(struct vm_live *vm, struct vm_vcpu_info **ret, size_t *ret_n, struct qc_err *err)
{
        struct qmp_cpu_list *l = NULL;
        struct vm_vcpu_info *v;
        size_t n;

        if (qmp_query_cpus_fast(vm->qmp, &l, err) < 0)
                return -1;
        n = l->n;
        v = calloc(n ? n : 1, sizeof *v);
        if (!v) {
                qmp_cpu_list_free(l);
                return qc_err_sys(err, ENOMEM, "vcpuinfo");
        }
        for (size_t i = 0; i < n; i++) {
                const struct qmp_cpu *c = &l->cpus[i];
                struct vm_vcpu_info *e = &v[i];
                struct qc_err e2 = { 0 };

                e->vcpu = (unsigned)c->cpu_index;
                e->tid = (pid_t)c->thread_id;
                e->socket_id = c->props.socket_id;
                e->core_id = c->props.core_id;
                e->thread_id = c->props.thread_id;
                e->node_id = c->props.node_id;
                if (c->qom_path && !(e->qom_path = strdup(c->qom_path))) {
                        qmp_cpu_list_free(l);
                        vm_vcpu_infos_free(v, n);
                        return qc_err_sys(err, ENOMEM, "vcpuinfo");
                }
                /* a thread that is gone (unplug racing with us) is shown as
                 * such rather than failing the whole listing */
                e->host_ok = vm_task_stat_read(vm->qemu_pid, e->tid, &e->stat, &e2) == 0 &&
                             vm_thread_affinity(e->tid, &e->affinity, &e2) == 0;
                if (e->host_ok)
                        e->cpu_time_ns = vm_task_cpu_time_ns(&e->stat);
        }
        qmp_cpu_list_free(l);
        if (n > 1)
                qsort(v, n, sizeof *v, info_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* query-hotpluggable-cpus as sorted plan slots (origin = index in *ret_list). */
static int query_slots(struct vm_live *vm, struct qmp_hotpluggable_cpu_list **ret_list, struct vm_cpu_slot **ret,
                       size_t *ret_n, struct qc_err *err)
{
        struct qmp_hotpluggable_cpu_list *l = NULL;
        struct vm_cpu_slot *s;

        if (qmp_query_hotpluggable_cpus(vm->qmp, &l, err) < 0)
                return -1;
        s = calloc(l->n ? l->n : 1, sizeof *s);
        if (!s) {
                qmp_hotpluggable_cpu_list_free(l);
                return qc_err_sys(err, ENOMEM, "vCPU slots");
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct qmp_hotpluggable_cpu *h = &l->slots[i];

                s[i] = (struct vm_cpu_slot){
                        .socket_id = h->props.socket_id,
                        .die_id = h->props.die_id,
                        .core_id = h->props.core_id,
                        .thread_id = h->props.thread_id,
                        .node_id = h->props.node_id,
                        .vcpus_count = h->vcpus_count > 0 ? (unsigned)h->vcpus_count : 1,
                        .origin = i,
                };
                if ((h->type && !(s[i].type = strdup(h->type))) ||
                    (h->qom_path && !(s[i].qom_path = strdup(h->qom_path)))) {
                        vm_cpu_slots_free(s, l->n);
                        qmp_hotpluggable_cpu_list_free(l);
                        return qc_err_sys(err, ENOMEM, "vCPU slots");
                }
        }
        vm_cpu_slots_sort(s, l->n);
        *ret_n = l->n;
        *ret = s;
        *ret_list = l;
        return 0;
}

/* The vCPU thread of slot index `vcpu` once QEMU lists it, by QOM path. */
static int find_thread(struct vm_live *vm, const char *qom_path, pid_t *ret_tid, struct qc_err *err)
{
        struct qmp_cpu_list *l = NULL;
        int r = 0;

        if (qmp_query_cpus_fast(vm->qmp, &l, err) < 0)
                return -1;
        for (size_t i = 0; i < l->n; i++)
                if (l->cpus[i].qom_path && strcmp(l->cpus[i].qom_path, qom_path) == 0) {
                        *ret_tid = (pid_t)l->cpus[i].thread_id;
                        r = 1;
                }
        qmp_cpu_list_free(l);
        return r;
}

static int plug_one(struct vm_live *vm, const struct qmp_hotpluggable_cpu_list *l, const struct vm_cpu_slot *s,
                    unsigned vcpu, struct qc_err *err)
{
        char id[32], path[64];
        pid_t tid = 0;
        int r;

        /* libvirt's naming, so a plugged vCPU has a stable id to unplug by */
        snprintf(id, sizeof id, "vcpu%u", vcpu);
        if (qmp_cpu_plug(vm->qmp, &l->slots[s->origin], id, err) < 0)
                return qc_err_wrap(err, "plug vCPU %u", vcpu);
        /* device_add of a CPU returns once the vCPU thread exists */
        snprintf(path, sizeof path, "/machine/peripheral/%s", id);
        r = find_thread(vm, path, &tid, err);
        if (r < 0)
                return qc_err_wrap(err, "plug vCPU %u", vcpu);
        if (r == 0)
                return qc_err_set(err, EPROTO, "plug vCPU %u: QEMU accepted it but query-cpus-fast does not list %s",
                                  vcpu, path);
        /* as at start: into vcpuN/ (cpuset.cpus), its pin as affinity */
        if (placement_place_vcpu(vm->spec, vm->cg, vm->cg_usable, vcpu, tid, err) < 0)
                return qc_err_wrap(err, "vCPU %u plugged, but placing its thread %d", vcpu, (int)tid);
        return 0;
}

static int unplug_one(struct vm_live *vm, const struct vm_cpu_slot *s, unsigned vcpu, struct qc_err *err)
{
        const char *peri = "/machine/peripheral/";
        /* a vCPU we plugged goes by its id; one from -smp has only its path */
        const char *id = strncmp(s->qom_path, peri, strlen(peri)) == 0 ? s->qom_path + strlen(peri) : s->qom_path;

        if (qmp_cpu_unplug(vm->qmp, id, vm_step_timeout(vm), err) < 0) {
                if (err && err->code == ETIMEDOUT)
                        return qc_err_set(err, ETIMEDOUT,
                                          "unplug vCPU %u: the guest did not release it within %d s (it must "
                                          "offline the CPU and acknowledge the ACPI eject); the request stays pending, so "
                                          "it may still go: check with vcpuinfo",
                                          vcpu, vm_step_timeout(vm) / 1000);
                return qc_err_wrap(err, "unplug vCPU %u", vcpu);
        }
        return 0;
}

static void report(vm_progress_fn progress, void *userdata, const char *op, unsigned vcpu, unsigned now)
{
        char what[64];

        if (!progress)
                return;
        snprintf(what, sizeof what, "%s vCPU %u (%u now)", op, vcpu, now);
        progress(userdata, what);
}

static int setvcpus_device_add(struct vm_live *vm, unsigned target, vm_progress_fn progress, void *userdata,
                               struct qc_err *err)
{
        struct qmp_hotpluggable_cpu_list *l = NULL;
        struct vm_cpu_slot *slots = NULL;
        _cleanup_free_ struct vm_cpu_step *steps = NULL;
        size_t n = 0, n_steps = 0;
        unsigned have;
        int r = -1;

        if (query_slots(vm, &l, &slots, &n, err) < 0)
                return -1;
        if (vm_cpu_plan(slots, n, target, &steps, &n_steps, err) < 0)
                goto out;
        have = vm_cpu_slots_plugged(slots, n);
        /* the record follows QEMU, even if it was out of step before */
        if (vm->spec->cpu.vcpus != have) {
                vm->spec->cpu.vcpus = have;
                if (vm_live_record(vm, err) < 0)
                        goto out;
        }
        for (size_t i = 0; i < n_steps; i++) {
                const struct vm_cpu_step *st = &steps[i];

                if (st->op == VM_CPU_PLUG) {
                        if (plug_one(vm, l, &slots[st->vcpu], st->vcpu, err) < 0)
                                goto out;
                        vm->spec->cpu.vcpus++;
                } else {
                        if (unplug_one(vm, &slots[st->vcpu], st->vcpu, err) < 0)
                                goto out;
                        vm->spec->cpu.vcpus--;
                }
                if (vm_live_record(vm, err) < 0)
                        goto out;
                report(progress, userdata, st->op == VM_CPU_PLUG ? "plugged" : "unplugged", st->vcpu,
                       vm->spec->cpu.vcpus);
        }
        r = 0;
out:
        vm_cpu_slots_free(slots, n);
        qmp_hotpluggable_cpu_list_free(l);
        return r;
}

/* QEMU before 2.7 (no query-hotpluggable-cpus): cpu-add plugs the vCPU of a
 * given index, one at a time; nothing unplugs. */
static int setvcpus_cpu_add(struct vm_live *vm, unsigned target, vm_progress_fn progress, void *userdata,
                            struct qc_err *err)
{
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = NULL;
        unsigned have;

        if (qmp_query_cpus_fast(vm->qmp, &l, err) < 0)
                return -1;
        have = (unsigned)l->n;
        if (target < have)
                return qc_err_set(err, EOPNOTSUPP,
                                  "%u vCPUs asked, %u plugged: this QEMU can only add vCPUs (cpu-add; it has no "
                                  "query-hotpluggable-cpus, which came with QEMU 2.7 and is what unplugging needs); "
                                  "to run with fewer, set cpu.vcpus in the VM file and restart the VM",
                                  target, have);
        if (vm->spec->cpu.vcpus != have) {
                vm->spec->cpu.vcpus = have;
                if (vm_live_record(vm, err) < 0)
                        return -1;
        }
        while (have < target) {
                const struct qmp_cpu *c;
                unsigned vcpu = 0;

                /* the lowest index QEMU does not list */
                while (qmp_cpu_list_find_index(l, vcpu))
                        vcpu++;
                if (qmp_cpu_add(vm->qmp, vcpu, err) < 0)
                        return qc_err_wrap(err, "plug vCPU %u", vcpu);
                qmp_cpu_list_free(TAKE_PTR(l));
                /* cpu-add returns once the vCPU thread exists */
                if (qmp_query_cpus_fast(vm->qmp, &l, err) < 0)
                        return qc_err_wrap(err, "plug vCPU %u", vcpu);
                c = qmp_cpu_list_find_index(l, vcpu);
                if (!c)
                        return qc_err_set(err, EPROTO, "plug vCPU %u: QEMU accepted cpu-add but does not list the vCPU",
                                          vcpu);
                /* as at start: into vcpuN/ (cpuset.cpus), its pin as affinity */
                if (placement_place_vcpu(vm->spec, vm->cg, vm->cg_usable, vcpu, (pid_t)c->thread_id, err) < 0)
                        return qc_err_wrap(err, "vCPU %u plugged, but placing its thread %d", vcpu,
                                           (int)c->thread_id);
                have++;
                vm->spec->cpu.vcpus++;
                if (vm_live_record(vm, err) < 0)
                        return -1;
                report(progress, userdata, "plugged", vcpu, vm->spec->cpu.vcpus);
        }
        return 0;
}

int vm_setvcpus(struct vm_live *vm, unsigned target, vm_progress_fn progress, void *userdata, struct qc_err *err)
{
        enum qmp_cpu_hotplug how;

        if (target > vm->spec->cpu.max && vm->spec->cpu.max)
                return qc_err_set(err, ERANGE,
                                  "%u vCPUs asked, but the VM's maximum is %u (cpu.max in the VM file; changing it "
                                  "needs a restart)",
                                  target, vm->spec->cpu.max);
        if (target == 0)
                return qc_err_set(err, EINVAL, "a VM needs at least 1 vCPU");
        if (qmp_cpu_hotplug_method(vm->qmp, &how, err) < 0)
                return -1;
        switch (how) {
        case QMP_CPU_HOTPLUG_DEVICE_ADD:
                return setvcpus_device_add(vm, target, progress, userdata, err);
        case QMP_CPU_HOTPLUG_CPU_ADD:
                return setvcpus_cpu_add(vm, target, progress, userdata, err);
        case QMP_CPU_HOTPLUG_NONE:
        default:
                return qc_err_set(err, EOPNOTSUPP,
                                  "this QEMU cannot hotplug vCPUs (it has neither query-hotpluggable-cpus nor cpu-add)");
        }
}
