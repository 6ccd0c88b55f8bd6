/* Removable media: blockdev-open-tray, blockdev-remove-medium, blockdev-add,
 * blockdev-del, blockdev-insert-medium, blockdev-close-tray (the way libvirt
 * changes a CD-ROM's medium with -blockdev: blockdev-change-medium would let
 * QEMU open the file with a header that may name a backing file). */
#include <errno.h>

#include "qmp-internal.h"

static int with_id(struct qmp *q, const char *cmd, const char *id, json_object *more, struct qc_err *err)
{
        json_object *a = more ? more : json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "%s", cmd);
        json_object_object_add(a, "id", json_object_new_string(id));
        return qmp_execute(q, cmd, a, NULL, err);
}

int qmp_blockdev_open_tray(struct qmp *q, const char *id, bool force, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "blockdev-open-tray");
        json_object_object_add(a, "force", json_object_new_boolean(force));
        return with_id(q, "blockdev-open-tray", id, a, err);
}

int qmp_blockdev_close_tray(struct qmp *q, const char *id, struct qc_err *err)
{
        return with_id(q, "blockdev-close-tray", id, NULL, err);
}

int qmp_blockdev_remove_medium(struct qmp *q, const char *id, struct qc_err *err)
{
        return with_id(q, "blockdev-remove-medium", id, NULL, err);
}

int qmp_blockdev_insert_medium(struct qmp *q, const char *id, const char *node_name, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "blockdev-insert-medium");
        json_object_object_add(a, "node-name", json_object_new_string(node_name));
        return with_id(q, "blockdev-insert-medium", id, a, err);
}

int qmp_blockdev_add(struct qmp *q, json_object *node, struct qc_err *err)
{
        return qmp_execute(q, "blockdev-add", node, NULL, err);
}

int qmp_blockdev_del(struct qmp *q, const char *node_name, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_sys(err, ENOMEM, "blockdev-del");
        json_object_object_add(a, "node-name", json_object_new_string(node_name));
        return qmp_execute(q, "blockdev-del", a, NULL, err);
}
