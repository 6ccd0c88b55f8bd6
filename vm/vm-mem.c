/* balloon, memstat, setmem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/size.h"
#include "../launcher/membackend.h"
#include "../qmp/qmp.h"
#include "vm-internal.h"

#define MiB (1ull << 20)
/* Linux onlines hotplugged memory in blocks of 128 MiB on x86_64 (the
 * memory_block_size of a small guest); a DIMM not a multiple of it leaves a
 * tail the guest cannot use. */
#define DIMM_ALIGN (128 * MiB)
#define STATS_WAIT_MS 4000

int vm_balloon_query(struct vm_live *vm, uint64_t *ret_actual, struct qc_err *err)
{
        if (qmp_query_balloon(vm->qmp, ret_actual, err) < 0) {
                if (err && err->code == ENODEV)
                        return qc_err_set(err, ENODEV, "the VM has no balloon device (memory.balloon is false)");
                return -1;
        }
        return 0;
}

int vm_balloon_set(struct vm_live *vm, uint64_t target, int timeout_ms, uint64_t *ret_actual, struct qc_err *err)
{
        uint64_t actual = 0, boot = vm->spec->memory.size + vm->spec->memory.plugged;
        int64_t deadline = now_ms() + timeout_ms;
        char t[32], b[32];

        if (target == 0)
                return qc_err_set(err, EINVAL, "a balloon target of 0 would take all of the guest's memory");
        if (target > boot) {
                format_size(target, t, sizeof t);
                format_size(boot, b, sizeof b);
                return qc_err_set(err, ERANGE,
                                  "balloon target %s is more than the guest's memory (%s); use setmem to plug more", t,
                                  b);
        }
        if (vm_balloon_query(vm, &actual, err) < 0)
                return -1;
        if (qmp_balloon(vm->qmp, target, err) < 0)
                return qc_err_wrap(err, "balloon");
        /* the guest driver moves pages in steps; actual follows with
         * BALLOON_CHANGE events, which we do not need: polling is enough */
        for (;;) {
                json_object *ev;

                if (vm_balloon_query(vm, &actual, err) < 0)
                        return -1;
                if (vm_balloon_arrived(actual, target)) {
                        *ret_actual = actual;
                        return 1;
                }
                if (now_ms() >= deadline) {
                        *ret_actual = actual;
                        return 0;
                }
                if (qmp_poll_events(vm->qmp, 200, err) < 0)
                        return -1;
                while ((ev = qmp_next_event(vm->qmp)))
                        json_object_put(ev);
        }
}

static void stats_from_qmp(const struct qmp_balloon_stats *s, struct vm_guest_stats *g)
{
        uint64_t *dst[_QMP_BALLOON_STAT_MAX] = {
                [QMP_BALLOON_STAT_SWAP_IN] = &g->swap_in,
                [QMP_BALLOON_STAT_SWAP_OUT] = &g->swap_out,
                [QMP_BALLOON_STAT_MAJOR_FAULTS] = &g->major_faults,
                [QMP_BALLOON_STAT_MINOR_FAULTS] = &g->minor_faults,
                [QMP_BALLOON_STAT_FREE_MEMORY] = &g->free_memory,
                [QMP_BALLOON_STAT_TOTAL_MEMORY] = &g->total_memory,
                [QMP_BALLOON_STAT_AVAILABLE_MEMORY] = &g->available_memory,
                [QMP_BALLOON_STAT_DISK_CACHES] = &g->disk_caches,
                [QMP_BALLOON_STAT_HTLB_PGALLOC] = &g->htlb_allocs,
                [QMP_BALLOON_STAT_HTLB_PGFAIL] = &g->htlb_failures,
        };

        for (int i = 0; i < _QMP_BALLOON_STAT_MAX; i++)
                *dst[i] = s->known[i] ? s->value[i] : VM_UNKNOWN;
        g->last_update = s->last_update;
}

/* QEMU keeps the last statistics the guest's balloon driver sent and asks
 * for new ones only while guest-stats-polling-interval is on. Linux sends
 * one set when the driver loads, so with polling off (the default) they
 * stay the boot-time numbers forever. With polling off we switch it on
 * (1 s, in QEMU only: the VM file keeps what the user wrote, and polling
 * costs the guest next to nothing) and wait for a report newer than the
 * one we read; with polling on, the numbers are at most one interval old.
 * A guest without the driver never reports: we give up after
 * STATS_WAIT_MS. */
static int guest_stats(struct vm_live *vm, struct vm_memstat *m, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL;
        struct qmp_balloon_stats s;
        int64_t deadline, interval = 0, seen;

        if (qmp_balloon_find(vm->qmp, &path, err) < 0)
                return -1;
        if (qmp_balloon_get_stats(vm->qmp, path, &s, err) < 0)
                return -1;
        if (qmp_balloon_get_stats_interval(vm->qmp, path, &interval, err) < 0)
                return -1;
        /* last-update is host wall time in whole seconds; with 1 s polling
         * each new report has a larger one */
        seen = s.last_update;
        if (interval == 0) {
                if (qmp_balloon_set_stats_interval(vm->qmp, path, 1, err) < 0)
                        return -1;
        } else if (s.last_update != 0) {
                seen = s.last_update - 1; /* what is there is fresh enough */
        }
        deadline = now_ms() + STATS_WAIT_MS;
        while (s.last_update <= seen && now_ms() < deadline) {
                json_object *ev;

                if (qmp_poll_events(vm->qmp, 250, err) < 0)
                        return -1;
                while ((ev = qmp_next_event(vm->qmp)))
                        json_object_put(ev);
                if (qmp_balloon_get_stats(vm->qmp, path, &s, err) < 0)
                        return -1;
        }
        stats_from_qmp(&s, &m->guest);
        m->has_guest_stats = s.last_update != 0;
        return 0;
}

int vm_memstat(struct vm_live *vm, struct vm_memstat *ret, struct qc_err *err)
{
        struct vm_memstat m = { 0 };
        struct qmp_memory_summary sum;
        struct qc_err e2 = { 0 };
        uint64_t v;
        int r;

        m.balloon_actual = VM_UNKNOWN;
        stats_from_qmp(&(struct qmp_balloon_stats){ 0 }, &m.guest);
        if (qmp_query_memory_size_summary(vm->qmp, &sum, err) < 0)
                return -1;
        m.base_memory = sum.base_memory;
        m.plugged_memory = sum.has_plugged_memory ? sum.plugged_memory : VM_UNKNOWN;
        if (qmp_query_balloon(vm->qmp, &m.balloon_actual, &e2) == 0) {
                m.has_balloon = true;
                if (guest_stats(vm, &m, err) < 0)
                        return qc_err_wrap(err, "balloon statistics");
        } else if (e2.code != ENODEV) {
                return qc_err_pass(err, &e2);
        }
        if (vm_process_rss(vm->qemu_pid, &m.host_rss, err) < 0)
                return -1;
        r = vm_process_memory_current(vm->qemu_pid, &v, err);
        if (r < 0)
                return -1;
        m.cgroup_current = r > 0 ? v : VM_UNKNOWN;
        *ret = m;
        return 0;
}

/* ---- setmem ---- */

static int next_dimm_id(const struct qmp_memory_device_list *l, char *buf, size_t len)
{
        for (unsigned i = 0;; i++) {
                bool used = false;

                snprintf(buf, len, "dimm%u", i);
                for (size_t k = 0; k < l->n; k++)
                        if (l->devs[k].id && strcmp(l->devs[k].id, buf) == 0)
                                used = true;
                if (!used)
                        return 0;
        }
}

static int setmem_dimm(struct vm_live *vm, const struct qmp_memory_device_list *l, uint64_t plugged,
                       uint64_t want, struct qc_err *err)
{
        const struct vm_spec *spec = vm->spec;
        char a[32], b[32];
        unsigned dimms = 0;

        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->devs[i].type, "dimm") == 0)
                        dimms++;
        if (want > plugged) {
                uint64_t add = want - plugged;
                struct qmp_dimm d = { .size = add, .node = -1 };
                _cleanup_json_ json_object *props = NULL;
                struct mem_backend mb;
                char id[32], mem_id[40];

                if (add % DIMM_ALIGN) {
                        format_size(add, a, sizeof a);
                        return qc_err_set(err, EINVAL,
                                          "growing by %s: DIMMs must be a multiple of 128M (the guest onlines "
                                          "memory in 128 MiB blocks)",
                                          a);
                }
                if (dimms >= spec->memory.slots)
                        return qc_err_set(err, ENOSPC,
                                          "all %u DIMM slots are used (memory.slots); unplug memory first or "
                                          "restart with more slots",
                                          spec->memory.slots);
                next_dimm_id(l, id, sizeof id);
                d.id = id;
                /* the backend the next boot makes of this DIMM (cmdline's
                 * mem-dimm0): hugepages, prealloc, merge, host-nodes, policy */
                snprintf(mem_id, sizeof mem_id, "mem-%s", id);
                if (mem_backend_build(spec, mem_id, add, true, &mb, err) < 0)
                        return -1;
                d.backend = mb.qom_type;
                if (!(d.props = props = mem_backend_qmp_props(&mb)))
                        return qc_err_sys(err, ENOMEM, "plug DIMM %s", id);
                if (qmp_dimm_plug(vm->qmp, &d, err) < 0)
                        return qc_err_wrap(err, "plug DIMM %s", id);
                vm->spec->memory.plugged += add;
                return vm_live_record(vm, err);
        }
        /* shrink: whole DIMMs, newest (highest slot) first, only if they add
         * up to exactly what goes away */
        uint64_t drop = plugged - want;
        for (size_t pass = 0; pass < 2; pass++) {
                uint64_t left = drop;

                for (size_t i = l->n; i-- > 0 && left;) {
                        const struct qmp_memory_device *d = &l->devs[i];

                        if (strcmp(d->type, "dimm") != 0 || !d->id || d->size > left)
                                continue;
                        if (pass == 1) {
                                if (qmp_dimm_unplug(vm->qmp, d->id, vm_step_timeout(vm), err) < 0)
                                        return qc_err_wrap(err, "unplug DIMM %s (the guest must offline its memory; "
                                                           "memory onlined as movable can be)", d->id);
                                vm->spec->memory.plugged -= d->size;
                                if (vm_live_record(vm, err) < 0)
                                        return -1;
                        }
                        left -= d->size;
                }
                if (pass == 0 && left) {
                        format_size(drop, a, sizeof a);
                        format_size(plugged, b, sizeof b);
                        return qc_err_set(err, EINVAL,
                                          "cannot take away %s: the plugged DIMMs (%s in all) do not add up to it; "
                                          "shrink by whole DIMMs",
                                          a, b);
                }
        }
        return 0;
}

static int setmem_virtio_mem(struct vm_live *vm, const struct qmp_memory_device_list *l, uint64_t want,
                             struct qc_err *err)
{
        const struct qmp_memory_device *d = NULL;
        int64_t deadline = now_ms() + vm_step_timeout(vm);
        char a[32];

        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->devs[i].type, "virtio-mem") == 0 && l->devs[i].id) {
                        d = &l->devs[i];
                        break;
                }
        if (!d)
                return qc_err_set(err, ENODEV, "memory.hotplug is virtio-mem but QEMU lists no virtio-mem device");
        if (d->block_size && want % d->block_size) {
                format_size(d->block_size, a, sizeof a);
                return qc_err_set(err, EINVAL, "virtio-mem grows in blocks of %s; pick a multiple", a);
        }
        if (want > d->max_size) {
                format_size(d->max_size, a, sizeof a);
                return qc_err_set(err, ERANGE, "the virtio-mem device holds at most %s", a);
        }
        _cleanup_free_ char *id = strdup(d->id);
        if (!id)
                return qc_err_sys(err, ENOMEM, "setmem");
        if (qmp_virtio_mem_resize(vm->qmp, id, want, err) < 0)
                return -1;
        /* the guest driver (un)plugs blocks on its own time; wait for it */
        for (;;) {
                struct qmp_memory_device_list *now = NULL;
                uint64_t size = 0;
                json_object *ev;

                if (qmp_query_memory_devices(vm->qmp, &now, err) < 0)
                        return -1;
                for (size_t i = 0; i < now->n; i++)
                        if (now->devs[i].id && strcmp(now->devs[i].id, id) == 0)
                                size = now->devs[i].size;
                qmp_memory_device_list_free(now);
                if (size == want || now_ms() >= deadline) {
                        vm->spec->memory.plugged = size;
                        if (vm_live_record(vm, err) < 0)
                                return -1;
                        if (size == want)
                                return 0;
                        format_size(size, a, sizeof a);
                        return qc_err_set(err, ETIMEDOUT,
                                          "the guest's virtio-mem driver has plugged %s so far; it may go on, "
                                          "check with memstat",
                                          a);
                }
                if (qmp_poll_events(vm->qmp, 250, err) < 0)
                        return -1;
                while ((ev = qmp_next_event(vm->qmp)))
                        json_object_put(ev);
        }
}

int vm_setmem(struct vm_live *vm, uint64_t total, struct qc_err *err)
{
        struct vm_spec *spec = vm->spec;
        struct qmp_memory_device_list *l = NULL;
        struct qmp_memory_summary sum;
        char a[32], b[32];
        uint64_t plugged;
        int r;

        if (spec->memory.max <= spec->memory.size)
                return qc_err_set(err, ENOSPC,
                                  "the VM has no room for hotplug: set memory.max (and memory.slots for DIMMs) in "
                                  "the VM file and restart it");
        if (total > spec->memory.max) {
                format_size(total, a, sizeof a);
                format_size(spec->memory.max, b, sizeof b);
                return qc_err_set(err, ERANGE, "%s asked, but the VM's maximum is %s (memory.max)", a, b);
        }
        if (qmp_query_memory_size_summary(vm->qmp, &sum, err) < 0)
                return -1;
        if (total < sum.base_memory) {
                format_size(sum.base_memory, a, sizeof a);
                return qc_err_set(err, ERANGE,
                                  "the boot memory (%s) cannot be unplugged; use balloon to take memory from the "
                                  "guest",
                                  a);
        }
        if (qmp_query_memory_devices(vm->qmp, &l, err) < 0)
                return -1;
        plugged = qmp_memory_devices_plugged(l);
        /* the record follows QEMU */
        if (spec->memory.plugged != plugged) {
                spec->memory.plugged = plugged;
                if (vm_live_record(vm, err) < 0) {
                        qmp_memory_device_list_free(l);
                        return -1;
                }
        }
        if (sum.base_memory + plugged == total)
                r = 0;
        else if (spec->memory.hotplug == VM_MEM_HOTPLUG_VIRTIO_MEM)
                r = setmem_virtio_mem(vm, l, total - sum.base_memory, err);
        else
                r = setmem_dimm(vm, l, plugged, total - sum.base_memory, err);
        qmp_memory_device_list_free(l);
        return r;
}
