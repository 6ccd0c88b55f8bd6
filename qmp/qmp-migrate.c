/* Migration: fds passed by name (getfd), the outgoing stream (migrate), the
 * incoming one (migrate-incoming), their progress (query-migrate), and the
 * knobs a save sets (capabilities, max-bandwidth). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "qmp-internal.h"

int qmp_getfd(struct qmp *q, int fd, const char *name, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "fdname", json_object_new_string(name));
        return qmp_execute_fd(q, "getfd", a, fd, NULL, err);
}

int qmp_closefd(struct qmp *q, const char *name, struct qc_err *err)
{
        return qmp_execute_str(q, "closefd", "fdname", name, err);
}

int qmp_migrate(struct qmp *q, const char *uri, struct qc_err *err)
{
        return qmp_execute_str(q, "migrate", "uri", uri, err);
}

int qmp_migrate_incoming(struct qmp *q, const char *uri, struct qc_err *err)
{
        return qmp_execute_str(q, "migrate-incoming", "uri", uri, err);
}

int qmp_migrate_cancel(struct qmp *q, struct qc_err *err)
{
        return qmp_execute(q, "migrate_cancel", NULL, NULL, err);
}

int qmp_migrate_set_capability(struct qmp *q, const char *capability, bool state, struct qc_err *err)
{
        json_object *a = json_object_new_object(), *caps = json_object_new_array(), *c = json_object_new_object();

        if (!a || !caps || !c) {
                json_object_put(a);
                json_object_put(caps);
                json_object_put(c);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        json_object_object_add(c, "capability", json_object_new_string(capability));
        json_object_object_add(c, "state", json_object_new_boolean(state));
        json_object_array_add(caps, c);
        json_object_object_add(a, "capabilities", caps);
        if (qmp_execute(q, "migrate-set-capabilities", a, NULL, err) < 0)
                return qc_err_wrap(err, "capability %s", capability);
        return 0;
}

int qmp_migrate_max_bandwidth(struct qmp *q, uint64_t *ret, struct qc_err *err)
{
        static const char cmd[] = "query-migrate-parameters";
        _cleanup_json_ json_object *r = NULL;
        json_object *bw;

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_object, err) < 0 ||
            qmp_get_member(r, cmd, "max-bandwidth", json_type_int, false, &bw, err) < 0)
                return -1;
        *ret = json_object_get_uint64(bw);
        return 0;
}

int qmp_migrate_set_max_bandwidth(struct qmp *q, uint64_t bytes_per_s, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "max-bandwidth", json_object_new_uint64(bytes_per_s));
        return qmp_execute(q, "migrate-set-parameters", a, NULL, err);
}

void qmp_migrate_info_done(struct qmp_migrate_info *m)
{
        free(m->status);
        free(m->error_desc);
        *m = (struct qmp_migrate_info){ 0 };
}

int qmp_query_migrate(struct qmp *q, struct qmp_migrate_info *ret, struct qc_err *err)
{
        static const char cmd[] = "query-migrate";
        _cleanup_json_ json_object *r = NULL;
        json_object *status = NULL, *ram = NULL, *desc = NULL;
        struct qmp_migrate_info m = { 0 };

        if (qmp_execute(q, cmd, NULL, &r, err) < 0 || qmp_expect_type(r, cmd, json_type_object, err) < 0 ||
            qmp_get_member(r, cmd, "status", json_type_string, true, &status, err) < 0 ||
            qmp_get_member(r, cmd, "ram", json_type_object, true, &ram, err) < 0 ||
            qmp_get_member(r, cmd, "error-desc", json_type_string, true, &desc, err) < 0)
                return -1;
        /* no status: no migration was ever started on this QEMU */
        m.status = strdup(status ? json_object_get_string(status) : "none");
        if (desc)
                m.error_desc = strdup(json_object_get_string(desc));
        if (!m.status || (desc && !m.error_desc)) {
                qmp_migrate_info_done(&m);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        m.transferred = (uint64_t)qmp_member_int(ram, "transferred", 0);
        m.total = (uint64_t)qmp_member_int(ram, "total", 0);
        m.remaining = (uint64_t)qmp_member_int(ram, "remaining", 0);
        m.dirty_pages_rate = (uint64_t)qmp_member_int(ram, "dirty-pages-rate", 0);
        m.page_size = (uint64_t)qmp_member_int(ram, "page-size", 0);
        m.total_time_ms = qmp_member_int(r, "total-time", -1);
        m.downtime_ms = qmp_member_int(r, "downtime", -1);
        m.expected_downtime_ms = qmp_member_int(r, "expected-downtime", -1);
        *ret = m;
        return 0;
}
