/* Guest memory: balloon, guest statistics, memory summaries and devices,
 * DIMM and virtio-mem hotplug. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "qmp-internal.h"

int qmp_balloon(struct qmp *q, uint64_t bytes, struct qc_err *err)
{
        json_object *args = json_object_new_object();

        if (!args)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (bytes > INT64_MAX) {
                json_object_put(args);
                return qc_err_set(err, ERANGE, "balloon: %llu bytes is too large", (unsigned long long)bytes);
        }
        json_object_object_add(args, "value", json_object_new_int64((int64_t)bytes));
        return qmp_execute(q, "balloon", args, NULL, err);
}

int qmp_query_balloon(struct qmp *q, uint64_t *ret_actual, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *actual;

        if (qmp_execute(q, "query-balloon", NULL, &r, err) < 0 ||
            qmp_expect_type(r, "query-balloon", json_type_object, err) < 0 ||
            qmp_get_member(r, "query-balloon", "actual", json_type_int, false, &actual, err) < 0)
                return -1;
        *ret_actual = json_object_get_uint64(actual);
        return 0;
}

static bool type_is_balloon(const char *type)
{
        /* "child<virtio-balloon-pci>", "child<virtio-balloon-ccw>", ... */
        return strncmp(type, "child<virtio-balloon", 20) == 0;
}

int qmp_balloon_find(struct qmp *q, char **ret_path, struct qc_err *err)
{
        static const char *const parents[] = { "/machine/peripheral", "/machine/peripheral-anon" };

        for (size_t p = 0; p < ELEMENTSOF(parents); p++) {
                _cleanup_(qmp_qom_prop_list_freep) struct qmp_qom_prop_list *l = NULL;

                if (qmp_qom_list(q, parents[p], &l, err) < 0)
                        return -1;
                for (size_t i = 0; i < l->n; i++)
                        if (type_is_balloon(l->props[i].type)) {
                                char *path;

                                if (!(path = path_join(parents[p], l->props[i].name)))
                                        return qc_err_set(err, ENOMEM, "out of memory");
                                *ret_path = path;
                                return 0;
                        }
        }
        return qc_err_set(err, ENODEV, "this VM has no virtio-balloon device");
}

int qmp_balloon_set_stats_interval(struct qmp *q, const char *path, int64_t seconds, struct qc_err *err)
{
        return qmp_qom_set(q, path, "guest-stats-polling-interval", json_object_new_int64(seconds), err);
}

int qmp_balloon_get_stats_interval(struct qmp *q, const char *path, int64_t *ret_seconds, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;

        if (qmp_qom_get(q, path, "guest-stats-polling-interval", &r, err) < 0 ||
            qmp_expect_type(r, "qom-get guest-stats-polling-interval", json_type_int, err) < 0)
                return -1;
        *ret_seconds = json_object_get_int64(r);
        return 0;
}

static const char *const stat_names[_QMP_BALLOON_STAT_MAX] = {
        [QMP_BALLOON_STAT_SWAP_IN] = "stat-swap-in",
        [QMP_BALLOON_STAT_SWAP_OUT] = "stat-swap-out",
        [QMP_BALLOON_STAT_MAJOR_FAULTS] = "stat-major-faults",
        [QMP_BALLOON_STAT_MINOR_FAULTS] = "stat-minor-faults",
        [QMP_BALLOON_STAT_FREE_MEMORY] = "stat-free-memory",
        [QMP_BALLOON_STAT_TOTAL_MEMORY] = "stat-total-memory",
        [QMP_BALLOON_STAT_AVAILABLE_MEMORY] = "stat-available-memory",
        [QMP_BALLOON_STAT_DISK_CACHES] = "stat-disk-caches",
        [QMP_BALLOON_STAT_HTLB_PGALLOC] = "stat-htlb-pgalloc",
        [QMP_BALLOON_STAT_HTLB_PGFAIL] = "stat-htlb-pgfail",
};

const char *qmp_balloon_stat_to_string(enum qmp_balloon_stat s)
{
        return s >= 0 && s < _QMP_BALLOON_STAT_MAX ? stat_names[s] : NULL;
}

enum qmp_balloon_stat qmp_balloon_stat_from_string(const char *s)
{
        for (int i = 0; i < _QMP_BALLOON_STAT_MAX; i++)
                if (s && strcmp(s, stat_names[i]) == 0)
                        return (enum qmp_balloon_stat)i;
        return _QMP_BALLOON_STAT_INVALID;
}

int qmp_balloon_get_stats(struct qmp *q, const char *path, struct qmp_balloon_stats *ret, struct qc_err *err)
{
        static const char cmd[] = "qom-get guest-stats";
        _cleanup_json_ json_object *r = NULL;
        json_object *stats, *lu;
        struct qmp_balloon_stats st = { 0 };

        if (qmp_qom_get(q, path, "guest-stats", &r, err) < 0)
                return -1;
        if (qmp_expect_type(r, cmd, json_type_object, err) < 0 ||
            qmp_get_member(r, cmd, "stats", json_type_object, false, &stats, err) < 0 ||
            qmp_get_member(r, cmd, "last-update", json_type_int, true, &lu, err) < 0)
                return -1;
        st.last_update = lu ? json_object_get_int64(lu) : 0;
        for (int i = 0; i < _QMP_BALLOON_STAT_MAX; i++) {
                json_object *v;

                if (qmp_get_member(stats, cmd, stat_names[i], json_type_int, true, &v, err) < 0)
                        return -1;
                /* QEMU reports u64 -1 for every statistic the guest never sent */
                if (v && json_object_get_uint64(v) != UINT64_MAX && json_object_get_int64(v) != -1) {
                        st.known[i] = true;
                        st.value[i] = json_object_get_uint64(v);
                }
        }
        *ret = st;
        return 0;
}

int qmp_query_memory_size_summary(struct qmp *q, struct qmp_memory_summary *ret, struct qc_err *err)
{
        static const char cmd[] = "query-memory-size-summary";
        _cleanup_json_ json_object *r = NULL;
        json_object *base, *plugged;

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_object, err) < 0 ||
            qmp_get_member(r, cmd, "base-memory", json_type_int, false, &base, err) < 0 ||
            qmp_get_member(r, cmd, "plugged-memory", json_type_int, true, &plugged, err) < 0)
                return -1;
        *ret = (struct qmp_memory_summary){
                .base_memory = json_object_get_uint64(base),
                .plugged_memory = plugged ? json_object_get_uint64(plugged) : 0,
                .has_plugged_memory = plugged != NULL,
        };
        return 0;
}

void qmp_memory_device_list_free(struct qmp_memory_device_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->devs[i].type);
                free(l->devs[i].id);
                free(l->devs[i].memdev);
        }
        free(l->devs);
        free(l);
}

static int opt_str(json_object *o, const char *key, char **ret, struct qc_err *err)
{
        json_object *v;

        if (qmp_get_member(o, "query-memory-devices", key, json_type_string, true, &v, err) < 0)
                return -1;
        if (v && !(*ret = strdup(json_object_get_string(v))))
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

static int opt_u64(json_object *o, const char *key, uint64_t *ret, struct qc_err *err)
{
        json_object *v;

        if (qmp_get_member(o, "query-memory-devices", key, json_type_int, true, &v, err) < 0)
                return -1;
        if (v)
                *ret = json_object_get_uint64(v);
        return 0;
}

static int opt_i64(json_object *o, const char *key, int64_t *ret, struct qc_err *err)
{
        json_object *v;

        if (qmp_get_member(o, "query-memory-devices", key, json_type_int, true, &v, err) < 0)
                return -1;
        *ret = v ? json_object_get_int64(v) : -1;
        return 0;
}

static int opt_bool(json_object *o, const char *key, bool *ret, struct qc_err *err)
{
        json_object *v;

        if (qmp_get_member(o, "query-memory-devices", key, json_type_boolean, true, &v, err) < 0)
                return -1;
        *ret = v && json_object_get_boolean(v);
        return 0;
}

uint64_t qmp_memory_devices_plugged(const struct qmp_memory_device_list *l)
{
        uint64_t plugged = 0;

        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->devs[i].type, "dimm") == 0 || strcmp(l->devs[i].type, "virtio-mem") == 0)
                        plugged += l->devs[i].size;
        return plugged;
}

int qmp_query_memory_devices(struct qmp *q, struct qmp_memory_device_list **ret, struct qc_err *err)
{
        static const char cmd[] = "query-memory-devices";
        _cleanup_json_ json_object *r = NULL;
        _cleanup_(qmp_memory_device_list_freep) struct qmp_memory_device_list *l = NULL;
        size_t n;

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_array, err) < 0)
                return -1;
        n = json_object_array_length(r);
        l = calloc(1, sizeof *l);
        if (!l || !(l->devs = calloc(n ? n : 1, sizeof *l->devs)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(r, i), *type, *data;
                struct qmp_memory_device *d = &l->devs[i];

                l->n++;
                if (qmp_expect_type(e, cmd, json_type_object, err) < 0 ||
                    qmp_get_member(e, cmd, "type", json_type_string, false, &type, err) < 0 ||
                    qmp_get_member(e, cmd, "data", json_type_object, false, &data, err) < 0)
                        return -1;
                if (!(d->type = strdup(json_object_get_string(type))))
                        return qc_err_set(err, ENOMEM, "out of memory");
                /* dimm/nvdimm say "addr", virtio-mem/virtio-pmem "memaddr" */
                if (opt_str(data, "id", &d->id, err) < 0 || opt_str(data, "memdev", &d->memdev, err) < 0 ||
                    opt_u64(data, "addr", &d->addr, err) < 0 || opt_u64(data, "memaddr", &d->addr, err) < 0 ||
                    opt_u64(data, "size", &d->size, err) < 0 || opt_i64(data, "slot", &d->slot, err) < 0 ||
                    opt_i64(data, "node", &d->node, err) < 0 || opt_bool(data, "hotplugged", &d->hotplugged, err) < 0 ||
                    opt_bool(data, "hotpluggable", &d->hotpluggable, err) < 0 ||
                    opt_u64(data, "requested-size", &d->requested_size, err) < 0 ||
                    opt_u64(data, "max-size", &d->max_size, err) < 0 ||
                    opt_u64(data, "block-size", &d->block_size, err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int object_del(struct qmp *q, const char *id, struct qc_err *err)
{
        return qmp_execute_str(q, "object-del", "id", id, err);
}

int qmp_dimm_plug(struct qmp *q, const struct qmp_dimm *d, struct qc_err *err)
{
        _cleanup_free_ char *mem_id = NULL;
        json_object *obj, *dev;

        if (d->size > INT64_MAX)
                return qc_err_set(err, ERANGE, "pc-dimm %s: size too large", d->id);
        if (asprintf(&mem_id, "mem-%s", d->id) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        obj = json_object_new_object();
        if (!obj)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(obj, "qom-type", json_object_new_string(d->backend ? d->backend : "memory-backend-ram"));
        json_object_object_add(obj, "id", json_object_new_string(mem_id));
        json_object_object_add(obj, "size", json_object_new_int64((int64_t)d->size));
        if (d->props) {
                json_object_object_foreach(d->props, key, val)
                {
                        if (json_object_object_add(obj, key, json_object_get(val)) < 0) {
                                json_object_put(obj);
                                return qc_err_set(err, ENOMEM, "out of memory");
                        }
                }
        }
        if (qmp_execute(q, "object-add", obj, NULL, err) < 0)
                return -1;
        dev = json_object_new_object();
        if (!dev) {
                object_del(q, mem_id, NULL);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        json_object_object_add(dev, "driver", json_object_new_string("pc-dimm"));
        json_object_object_add(dev, "id", json_object_new_string(d->id));
        json_object_object_add(dev, "memdev", json_object_new_string(mem_id));
        if (d->node >= 0)
                json_object_object_add(dev, "node", json_object_new_int64(d->node));
        if (qmp_execute(q, "device_add", dev, NULL, err) < 0) {
                object_del(q, mem_id, NULL); /* best effort: leave no orphan backend */
                return -1;
        }
        return 0;
}

static bool deleted_matches(json_object *ev, void *userdata)
{
        const char *dev = qmp_member_string(qmp_event_data(ev), "device");

        return dev && strcmp(dev, userdata) == 0;
}

int qmp_dimm_unplug(struct qmp *q, const char *id, int timeout_ms, struct qc_err *err)
{
        _cleanup_free_ char *mem_id = NULL;
        int r;

        if (qmp_execute_str(q, "device_del", "id", id, err) < 0)
                return -1;
        r = qmp_wait_event(q, "DEVICE_DELETED", deleted_matches, (void *)id, timeout_ms, NULL, err);
        if (r < 0 && err && err->code == ETIMEDOUT)
                return qc_err_set(err, ETIMEDOUT,
                                  "device_del %s: the guest did not release the DIMM within %d ms "
                                  "(is its memory offline and movable?)", id, timeout_ms);
        if (r < 0)
                return -1;
        if (asprintf(&mem_id, "mem-%s", id) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        return object_del(q, mem_id, err);
}

int qmp_virtio_mem_resize(struct qmp *q, const char *id, uint64_t requested_size, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL;

        if (requested_size > INT64_MAX)
                return qc_err_set(err, ERANGE, "virtio-mem %s: size too large", id);
        if (asprintf(&path, "/machine/peripheral/%s", id) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        return qmp_qom_set(q, path, "requested-size", json_object_new_int64((int64_t)requested_size), err);
}
