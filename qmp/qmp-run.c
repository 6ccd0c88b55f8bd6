/* Run state and feature detection: query-version, query-commands,
 * query-status, stop, cont, system_reset, system_powerdown, quit, query-name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "qmp-internal.h"

void qmp_version_done(struct qmp_version *v)
{
        free(v->package);
        v->package = NULL;
}

int qmp_query_version(struct qmp *q, struct qmp_version *ret, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *qemu, *ma, *mi, *mc, *pkg;
        char *p = NULL;

        if (qmp_execute(q, "query-version", NULL, &r, err) < 0)
                return -1;
        if (qmp_expect_type(r, "query-version", json_type_object, err) < 0 ||
            qmp_get_member(r, "query-version", "qemu", json_type_object, false, &qemu, err) < 0 ||
            qmp_get_member(qemu, "query-version", "major", json_type_int, false, &ma, err) < 0 ||
            qmp_get_member(qemu, "query-version", "minor", json_type_int, false, &mi, err) < 0 ||
            qmp_get_member(qemu, "query-version", "micro", json_type_int, false, &mc, err) < 0 ||
            qmp_get_member(r, "query-version", "package", json_type_string, true, &pkg, err) < 0)
                return -1;
        if (pkg && !(p = strdup(json_object_get_string(pkg))))
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret = (struct qmp_version){ .major = json_object_get_int(ma),
                                     .minor = json_object_get_int(mi),
                                     .micro = json_object_get_int(mc),
                                     .package = p };
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int qmp_query_commands(struct qmp *q, char ***ret, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        _cleanup_strv_ strv names = { 0 };

        if (qmp_execute(q, "query-commands", NULL, &r, err) < 0)
                return -1;
        if (qmp_expect_type(r, "query-commands", json_type_array, err) < 0)
                return -1;
        for (size_t i = 0; i < json_object_array_length(r); i++) {
                json_object *name;

                if (qmp_get_member(json_object_array_get_idx(r, i), "query-commands", "name", json_type_string,
                                   false, &name, err) < 0)
                        return -1;
                if (strv_push(&names, json_object_get_string(name)) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory");
        }
        *ret = strv_steal(&names);
        if (!*ret)
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

int qmp_has_command(struct qmp *q, const char *name, bool *ret, struct qc_err *err)
{
        if (!q->commands) {
                char **v = NULL;

                if (qmp_query_commands(q, &v, err) < 0)
                        return -1;
                q->n_commands = strv_length(v);
                qsort(v, q->n_commands, sizeof *v, cmp_str);
                q->commands = v;
        }
        *ret = bsearch(&name, q->commands, q->n_commands, sizeof *q->commands, cmp_str) != NULL;
        return 0;
}

int qmp_query_status(struct qmp *q, char **ret_status, bool *ret_running, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *status, *running;
        char *s;

        if (qmp_execute(q, "query-status", NULL, &r, err) < 0)
                return -1;
        if (qmp_expect_type(r, "query-status", json_type_object, err) < 0 ||
            qmp_get_member(r, "query-status", "status", json_type_string, false, &status, err) < 0 ||
            qmp_get_member(r, "query-status", "running", json_type_boolean, false, &running, err) < 0)
                return -1;
        if (ret_status) {
                s = strdup(json_object_get_string(status));
                if (!s)
                        return qc_err_set(err, ENOMEM, "out of memory");
                *ret_status = s;
        }
        if (ret_running)
                *ret_running = json_object_get_boolean(running);
        return 0;
}

int qmp_cont(struct qmp *q, struct qc_err *err)
{
        return qmp_execute(q, "cont", NULL, NULL, err);
}

int qmp_stop(struct qmp *q, struct qc_err *err)
{
        return qmp_execute(q, "stop", NULL, NULL, err);
}

int qmp_system_reset(struct qmp *q, struct qc_err *err)
{
        return qmp_execute(q, "system_reset", NULL, NULL, err);
}

int qmp_system_powerdown(struct qmp *q, struct qc_err *err)
{
        return qmp_execute(q, "system_powerdown", NULL, NULL, err);
}

int qmp_quit(struct qmp *q, struct qc_err *err)
{
        struct qc_err e = { 0 };

        if (qmp_execute(q, "quit", NULL, NULL, &e) == 0)
                return 0;
        /* QEMU may close the socket before its reply reaches us */
        if (e.code == ECONNRESET || e.code == EPIPE)
                return 0;
        return qc_err_pass(err, &e);
}

int qmp_query_name(struct qmp *q, char **ret, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *name;
        char *s = NULL;

        if (qmp_execute(q, "query-name", NULL, &r, err) < 0)
                return -1;
        if (qmp_expect_type(r, "query-name", json_type_object, err) < 0 ||
            qmp_get_member(r, "query-name", "name", json_type_string, true, &name, err) < 0)
                return -1;
        if (name && !(s = strdup(json_object_get_string(name))))
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret = s;
        return 0;
}
