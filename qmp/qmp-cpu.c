/* vCPUs: query-cpus-fast, query-hotpluggable-cpus, device_add/device_del of
 * CPU slots, legacy cpu-add. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "qmp-internal.h"

/* CPU unplug is finished by the guest: poll this often when no event says so */
#define UNPLUG_POLL_MS 200

/* ACPI _OST status codes for an eject request (ACPI 6.x, table 6.172) */
#define OST_SOURCE_EJECT 3
#define OST_STATUS_SUCCESS 0
#define OST_STATUS_EJECT_IN_PROGRESS 0x84

static const struct {
        const char *key;
        size_t off;
} prop_keys[] = {
        { "node-id", offsetof(struct qmp_cpu_props, node_id) },
        { "drawer-id", offsetof(struct qmp_cpu_props, drawer_id) },
        { "book-id", offsetof(struct qmp_cpu_props, book_id) },
        { "socket-id", offsetof(struct qmp_cpu_props, socket_id) },
        { "die-id", offsetof(struct qmp_cpu_props, die_id) },
        { "cluster-id", offsetof(struct qmp_cpu_props, cluster_id) },
        { "core-id", offsetof(struct qmp_cpu_props, core_id) },
        { "thread-id", offsetof(struct qmp_cpu_props, thread_id) },
};

static int64_t *prop_field(struct qmp_cpu_props *p, size_t i)
{
        return (int64_t *)((char *)p + prop_keys[i].off);
}

static int parse_props(json_object *entry, const char *cmd, struct qmp_cpu_props *ret, struct qc_err *err)
{
        json_object *props;
        struct qmp_cpu_props p;

        for (size_t i = 0; i < ELEMENTSOF(prop_keys); i++)
                *prop_field(&p, i) = -1;
        if (qmp_get_member(entry, cmd, "props", json_type_object, false, &props, err) < 0)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(prop_keys); i++) {
                json_object *v;

                if (qmp_get_member(props, cmd, prop_keys[i].key, json_type_int, true, &v, err) < 0)
                        return -1;
                if (v)
                        *prop_field(&p, i) = json_object_get_int64(v);
        }
        *ret = p;
        return 0;
}

static void cpu_done(struct qmp_cpu *c)
{
        free(c->qom_path);
        free(c->target);
}

void qmp_cpu_list_free(struct qmp_cpu_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                cpu_done(&l->cpus[i]);
        free(l->cpus);
        free(l);
}

static int dup_member(json_object *o, const char *cmd, const char *key, bool optional, char **ret, struct qc_err *err)
{
        json_object *v;

        if (qmp_get_member(o, cmd, key, json_type_string, optional, &v, err) < 0)
                return -1;
        *ret = NULL;
        if (v && !(*ret = strdup(json_object_get_string(v))))
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

/* query-cpus-fast (QEMU >= 2.12) and the query-cpus it replaced (removed in
 * 6.0) list the same facts under other names: "CPU", "thread_id",
 * "qom_path" (2.4) and "props" (2.10) there. */
static int query_cpus(struct qmp *q, bool legacy, struct qmp_cpu_list **ret, struct qc_err *err)
{
        const char *cmd = legacy ? "query-cpus" : "query-cpus-fast";
        _cleanup_json_ json_object *r = NULL;
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = NULL;
        size_t n;

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_array, err) < 0)
                return -1;
        n = json_object_array_length(r);
        l = calloc(1, sizeof *l);
        if (!l || !(l->cpus = calloc(n ? n : 1, sizeof *l->cpus)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(r, i), *idx, *tid, *props = NULL;
                struct qmp_cpu *c = &l->cpus[i];

                l->n++;
                if (qmp_expect_type(e, cmd, json_type_object, err) < 0 ||
                    qmp_get_member(e, cmd, legacy ? "CPU" : "cpu-index", json_type_int, false, &idx, err) < 0 ||
                    qmp_get_member(e, cmd, legacy ? "thread_id" : "thread-id", json_type_int, false, &tid, err) < 0 ||
                    dup_member(e, cmd, legacy ? "qom_path" : "qom-path", legacy, &c->qom_path, err) < 0 ||
                    dup_member(e, cmd, legacy ? "arch" : "target", true, &c->target, err) < 0 ||
                    (legacy && qmp_get_member(e, cmd, "props", json_type_object, true, &props, err) < 0))
                        return -1;
                if (legacy && !props) {
                        for (size_t k = 0; k < ELEMENTSOF(prop_keys); k++)
                                *prop_field(&c->props, k) = -1;
                } else if (parse_props(e, cmd, &c->props, err) < 0)
                        return -1;
                c->cpu_index = json_object_get_int64(idx);
                c->thread_id = json_object_get_int64(tid);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int qmp_query_cpus_fast(struct qmp *q, struct qmp_cpu_list **ret, struct qc_err *err)
{
        struct qc_err e = { 0 };
        bool fast;

        /* QEMU before 2.12 has query-cpus alone: ask it when query-commands
         * said so already, or when QEMU does not know query-cpus-fast */
        if (q->commands && qmp_has_command(q, "query-cpus-fast", &fast, err) == 0 && !fast)
                return query_cpus(q, true, ret, err);
        if (query_cpus(q, false, ret, &e) == 0)
                return 0;
        if (e.code == EOPNOTSUPP)
                return query_cpus(q, true, ret, err);
        return qc_err_pass(err, &e);
}

const struct qmp_cpu *qmp_cpu_list_find_index(const struct qmp_cpu_list *l, int64_t cpu_index)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->cpus[i].cpu_index == cpu_index)
                        return &l->cpus[i];
        return NULL;
}

const struct qmp_cpu *qmp_cpu_list_find_id(const struct qmp_cpu_list *l, const char *id)
{
        static const char prefix[] = "/machine/peripheral/";

        for (size_t i = 0; i < l->n; i++) {
                const char *p = l->cpus[i].qom_path;
                if (p && strncmp(p, prefix, sizeof prefix - 1) == 0 && strcmp(p + sizeof prefix - 1, id) == 0)
                        return &l->cpus[i];
        }
        return NULL;
}

void qmp_hotpluggable_cpu_list_free(struct qmp_hotpluggable_cpu_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->slots[i].type);
                free(l->slots[i].qom_path);
        }
        free(l->slots);
        free(l);
}

int qmp_query_hotpluggable_cpus(struct qmp *q, struct qmp_hotpluggable_cpu_list **ret, struct qc_err *err)
{
        static const char cmd[] = "query-hotpluggable-cpus";
        _cleanup_json_ json_object *r = NULL;
        _cleanup_(qmp_hotpluggable_cpu_list_freep) struct qmp_hotpluggable_cpu_list *l = NULL;
        size_t n;

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_array, err) < 0)
                return -1;
        n = json_object_array_length(r);
        l = calloc(1, sizeof *l);
        if (!l || !(l->slots = calloc(n ? n : 1, sizeof *l->slots)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(r, i), *cnt;
                struct qmp_hotpluggable_cpu *s = &l->slots[i];

                l->n++;
                if (qmp_expect_type(e, cmd, json_type_object, err) < 0 ||
                    dup_member(e, cmd, "type", false, &s->type, err) < 0 ||
                    qmp_get_member(e, cmd, "vcpus-count", json_type_int, false, &cnt, err) < 0 ||
                    dup_member(e, cmd, "qom-path", true, &s->qom_path, err) < 0 ||
                    parse_props(e, cmd, &s->props, err) < 0)
                        return -1;
                s->vcpus_count = json_object_get_int64(cnt);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static const char *const hotplug_names[_QMP_CPU_HOTPLUG_MAX] = {
        [QMP_CPU_HOTPLUG_NONE] = "none",
        [QMP_CPU_HOTPLUG_DEVICE_ADD] = "device_add",
        [QMP_CPU_HOTPLUG_CPU_ADD] = "cpu-add",
};

const char *qmp_cpu_hotplug_to_string(enum qmp_cpu_hotplug m)
{
        return m >= 0 && m < _QMP_CPU_HOTPLUG_MAX ? hotplug_names[m] : NULL;
}

int qmp_cpu_hotplug_method(struct qmp *q, enum qmp_cpu_hotplug *ret, struct qc_err *err)
{
        bool hot, cpu_add;

        /* query-hotpluggable-cpus + device_add exist since 2.7 and cpu-add is
         * gone since 5.2; prefer device_add wherever it exists, since only it
         * can unplug. */
        if (qmp_has_command(q, "query-hotpluggable-cpus", &hot, err) < 0 ||
            qmp_has_command(q, "cpu-add", &cpu_add, err) < 0)
                return -1;
        *ret = hot ? QMP_CPU_HOTPLUG_DEVICE_ADD : cpu_add ? QMP_CPU_HOTPLUG_CPU_ADD : QMP_CPU_HOTPLUG_NONE;
        return 0;
}

int qmp_cpu_plug(struct qmp *q, const struct qmp_hotpluggable_cpu *slot, const char *id, struct qc_err *err)
{
        json_object *args = json_object_new_object();
        struct qmp_cpu_props p = slot->props;

        if (!args)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(args, "driver", json_object_new_string(slot->type));
        json_object_object_add(args, "id", json_object_new_string(id));
        for (size_t i = 0; i < ELEMENTSOF(prop_keys); i++)
                if (*prop_field(&p, i) >= 0)
                        json_object_object_add(args, prop_keys[i].key, json_object_new_int64(*prop_field(&p, i)));
        return qmp_execute(q, "device_add", args, NULL, err);
}

static int props_cmp(const struct qmp_cpu_props *a, const struct qmp_cpu_props *b)
{
        struct qmp_cpu_props x = *a, y = *b;

        for (size_t i = 0; i < ELEMENTSOF(prop_keys); i++) {
                if (strcmp(prop_keys[i].key, "node-id") == 0)
                        continue;
                if (*prop_field(&x, i) != *prop_field(&y, i))
                        return *prop_field(&x, i) < *prop_field(&y, i) ? -1 : 1;
        }
        return 0;
}

int qmp_cpu_plug_next(struct qmp *q, const char *id, size_t *ret_slot_index, struct qc_err *err)
{
        _cleanup_(qmp_hotpluggable_cpu_list_freep) struct qmp_hotpluggable_cpu_list *l = NULL;
        const struct qmp_hotpluggable_cpu *best = NULL;

        if (qmp_query_hotpluggable_cpus(q, &l, err) < 0)
                return -1;
        /* QEMU lists slots highest first; plug in topology order */
        for (size_t i = 0; i < l->n; i++)
                if (!l->slots[i].qom_path && (!best || props_cmp(&l->slots[i].props, &best->props) < 0))
                        best = &l->slots[i];
        if (!best)
                return qc_err_set(err, ENOSPC, "every CPU slot is plugged already (%zu slots)", l->n);
        if (qmp_cpu_plug(q, best, id, err) < 0)
                return -1;
        if (ret_slot_index)
                *ret_slot_index = (size_t)(best - l->slots);
        return 0;
}

static bool ost_matches(json_object *ev, void *userdata)
{
        json_object *info = qmp_member(qmp_event_data(ev), "info", json_type_object);
        const char *dev = qmp_member_string(info, "device");

        return dev && strcmp(dev, userdata) == 0 && qmp_member_int(info, "source", -1) == OST_SOURCE_EJECT;
}

static int ost_status(json_object *ev)
{
        int64_t st = qmp_member_int(qmp_member(qmp_event_data(ev), "info", json_type_object), "status", -1);

        return st < INT32_MIN || st > INT32_MAX ? -1 : (int)st;
}

/* A vCPU by device id (under /machine/peripheral/) or by QOM path. */
static bool cpu_present(const struct qmp_cpu_list *l, const char *id)
{
        if (id[0] != '/')
                return qmp_cpu_list_find_id(l, id) != NULL;
        for (size_t i = 0; i < l->n; i++)
                if (l->cpus[i].qom_path && strcmp(l->cpus[i].qom_path, id) == 0)
                        return true;
        return false;
}

int qmp_cpu_unplug(struct qmp *q, const char *id, int timeout_ms, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;

        /* device_del takes a QOM path where there is no id: vCPUs that -smp
         * made have only a path */
        if (qmp_execute_str(q, "device_del", "id", id, err) < 0)
                return -1;
        /* QEMU 7.2 sends DEVICE_DELETED only for the vCPU's lapic child, so
         * completion is the guest's _OST for the eject, or the vCPU missing
         * from query-cpus-fast (a guest that does not call _OST). The _OST
         * event names the device by id: a vCPU without one (a path here) is
         * seen by polling only. */
        for (;;) {
                _cleanup_json_ json_object *ev = NULL;
                _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *cpus = NULL;
                struct qc_err werr = { 0 };
                int64_t left = deadline - now_ms();
                int r;

                r = qmp_wait_event(q, "ACPI_DEVICE_OST", ost_matches, (void *)id,
                                   (int)(left < 0 ? 0 : left < UNPLUG_POLL_MS ? left : UNPLUG_POLL_MS), &ev, &werr);
                if (r == 0) {
                        int st = ost_status(ev);

                        if (st == OST_STATUS_SUCCESS)
                                return 0;
                        if (st != OST_STATUS_EJECT_IN_PROGRESS)
                                return qc_err_set(err, EBUSY, "device_del %s: the guest refused to eject the vCPU "
                                                  "(ACPI _OST status %#x)", id, (unsigned)st);
                        continue;
                }
                if (r < 0 && werr.code != ETIMEDOUT)
                        return qc_err_pass(err, &werr);
                if (qmp_query_cpus_fast(q, &cpus, err) < 0)
                        return -1;
                if (!cpu_present(cpus, id))
                        return 0;
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT,
                                          "device_del %s: the guest did not eject the vCPU within %d ms "
                                          "(does it run an ACPI CPU hotplug driver?)", id, timeout_ms);
        }
}

int qmp_cpu_add(struct qmp *q, int64_t cpu_id, struct qc_err *err)
{
        json_object *args = json_object_new_object();

        if (!args)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(args, "id", json_object_new_int64(cpu_id));
        return qmp_execute(q, "cpu-add", args, NULL, err);
}
