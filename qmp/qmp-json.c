/* Checked access to reply members, for the command wrappers. */
#include <errno.h>

#include "qmp-internal.h"

int qmp_expect_type(json_object *o, const char *cmd, json_type type, struct qc_err *err)
{
        if (json_object_is_type(o, type))
                return 0;
        /* QEMU's int members are plain JSON numbers; a u64 past INT64_MAX is
         * still json_type_int in json-c */
        return qc_err_set(err, EPROTO, "%s: expected %s in the reply, got %s", cmd, json_type_to_name(type),
                          o ? json_type_to_name(json_object_get_type(o)) : "nothing");
}

int qmp_get_member(json_object *obj, const char *cmd, const char *key, json_type type, bool optional,
                   json_object **ret, struct qc_err *err)
{
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v) || !v) {
                if (optional) {
                        *ret = NULL;
                        return 0;
                }
                return qc_err_set(err, EPROTO, "%s: reply has no \"%s\"", cmd, key);
        }
        if (!json_object_is_type(v, type))
                return qc_err_set(err, EPROTO, "%s: \"%s\" is %s, expected %s", cmd, key,
                                  json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
        *ret = v;
        return 0;
}

json_object *qmp_member(json_object *obj, const char *key, json_type type)
{
        json_object *v;

        if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v) || !v ||
            !json_object_is_type(v, type))
                return NULL;
        return v;
}

const char *qmp_member_string(json_object *obj, const char *key)
{
        json_object *v = qmp_member(obj, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

bool qmp_member_bool(json_object *obj, const char *key, bool fallback)
{
        json_object *v = qmp_member(obj, key, json_type_boolean);

        return v ? json_object_get_boolean(v) : fallback;
}

int64_t qmp_member_int(json_object *obj, const char *key, int64_t fallback)
{
        json_object *v = qmp_member(obj, key, json_type_int);

        return v ? json_object_get_int64(v) : fallback;
}

const char *qmp_event_name(json_object *ev)
{
        return qmp_member_string(ev, "event");
}

json_object *qmp_event_data(json_object *ev)
{
        return qmp_member(ev, "data", json_type_object);
}
