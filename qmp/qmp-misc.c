/* QOM (qom-get, qom-set, qom-list), HMP passthrough, raw JSON execute. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "qmp-internal.h"

static json_object *path_args(const char *path, const char *property)
{
        json_object *a = json_object_new_object();

        if (!a)
                return NULL;
        json_object_object_add(a, "path", json_object_new_string(path));
        if (property)
                json_object_object_add(a, "property", json_object_new_string(property));
        return a;
}

int qmp_qom_get(struct qmp *q, const char *path, const char *property, json_object **ret, struct qc_err *err)
{
        json_object *a = path_args(path, property);

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (qmp_execute(q, "qom-get", a, ret, err) < 0)
                return qc_err_wrap(err, "%s %s", path, property);
        return 0;
}

int qmp_qom_set(struct qmp *q, const char *path, const char *property, json_object *value, struct qc_err *err)
{
        json_object *a = path_args(path, property);

        if (!a) {
                json_object_put(value);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        json_object_object_add(a, "value", value);
        if (qmp_execute(q, "qom-set", a, NULL, err) < 0)
                return qc_err_wrap(err, "%s %s", path, property);
        return 0;
}

void qmp_qom_prop_list_free(struct qmp_qom_prop_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->props[i].name);
                free(l->props[i].type);
        }
        free(l->props);
        free(l);
}

int qmp_qom_list(struct qmp *q, const char *path, struct qmp_qom_prop_list **ret, struct qc_err *err)
{
        static const char cmd[] = "qom-list";
        _cleanup_json_ json_object *r = NULL;
        _cleanup_(qmp_qom_prop_list_freep) struct qmp_qom_prop_list *l = NULL;
        json_object *a = path_args(path, NULL);
        size_t n;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (qmp_execute(q, cmd, a, &r, err) < 0)
                return qc_err_wrap(err, "%s", path);
        if (qmp_expect_type(r, cmd, json_type_array, err) < 0)
                return -1;
        n = json_object_array_length(r);
        l = calloc(1, sizeof *l);
        if (!l || !(l->props = calloc(n ? n : 1, sizeof *l->props)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(r, i), *name, *type;

                if (qmp_expect_type(e, cmd, json_type_object, err) < 0 ||
                    qmp_get_member(e, cmd, "name", json_type_string, false, &name, err) < 0 ||
                    qmp_get_member(e, cmd, "type", json_type_string, false, &type, err) < 0)
                        return -1;
                l->props[i].name = strdup(json_object_get_string(name));
                l->props[i].type = strdup(json_object_get_string(type));
                l->n++;
                if (!l->props[i].name || !l->props[i].type)
                        return qc_err_set(err, ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int qmp_hmp(struct qmp *q, const char *command_line, char **ret_output, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *a = json_object_new_object();
        char *s;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "command-line", json_object_new_string(command_line));
        if (qmp_execute(q, "human-monitor-command", a, &r, err) < 0 ||
            qmp_expect_type(r, "human-monitor-command", json_type_string, err) < 0)
                return -1;
        s = strdup(json_object_get_string(r));
        if (!s)
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret_output = s;
        return 0;
}

int qmp_execute_json(struct qmp *q, const char *command_json, char **ret_reply_json, struct qc_err *err)
{
        _cleanup_json_ json_object *reply = NULL;
        enum json_tokener_error jerr;
        json_object *cmd;
        char *s;

        cmd = json_tokener_parse_verbose(command_json, &jerr);
        if (!cmd)
                return qc_err_set(err, EINVAL, "command is not JSON (%s): %.100s", json_tokener_error_desc(jerr),
                                  command_json);
        if (json_object_is_type(cmd, json_type_string)) {
                json_object *o = json_object_new_object();

                if (!o) {
                        json_object_put(cmd);
                        return qc_err_set(err, ENOMEM, "out of memory");
                }
                json_object_object_add(o, "execute", cmd);
                cmd = o;
        }
        if (qmp_execute_raw(q, cmd, &reply, err) < 0)
                return -1;
        s = strdup(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!s)
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret_reply_json = s;
        return 0;
}
