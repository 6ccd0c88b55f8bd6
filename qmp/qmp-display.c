/* Display passwords: set_password, expire_password. */
#include <errno.h>

#include "qmp-internal.h"

int qmp_set_password(struct qmp *q, const char *protocol, const char *password, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "set_password");
        json_object_object_add(a, "protocol", json_object_new_string(protocol));
        /* not a json-c string: qemuctl keeps no copy (the supervisor that
         * sends it lives as long as the VM) */
        return qmp_execute_secret(q, "set_password", a, "password", password, NULL, err);
}

int qmp_expire_password(struct qmp *q, const char *protocol, const char *time, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "expire_password");
        json_object_object_add(a, "protocol", json_object_new_string(protocol));
        json_object_object_add(a, "time", json_object_new_string(time));
        return qmp_execute(q, "expire_password", a, NULL, err);
}
