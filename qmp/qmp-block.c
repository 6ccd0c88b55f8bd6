/* Removable media: blockdev-open-tray, blockdev-remove-medium, blockdev-add,
 * blockdev-del, blockdev-insert-medium, blockdev-close-tray (the way libvirt
 * changes a CD-ROM's medium with -blockdev: blockdev-change-medium would let
 * QEMU open the file with a header that may name a backing file). */
#include <errno.h>

#include "qmp-internal.h"

int qmp_blockdev_open_tray(struct qmp *q, const char *id, bool force, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_set(err, ENOMEM, "blockdev-open-tray: out of memory");
        json_object_object_add(a, "force", json_object_new_boolean(force));
        json_object_object_add(a, "id", json_object_new_string(id));
        return qmp_execute(q, "blockdev-open-tray", a, NULL, err);
}

int qmp_blockdev_close_tray(struct qmp *q, const char *id, struct qc_err *err)
{
        return qmp_execute_str(q, "blockdev-close-tray", "id", id, err);
}

int qmp_blockdev_remove_medium(struct qmp *q, const char *id, struct qc_err *err)
{
        return qmp_execute_str(q, "blockdev-remove-medium", "id", id, err);
}

int qmp_blockdev_insert_medium(struct qmp *q, const char *id, const char *node_name, struct qc_err *err)
{
        json_object *a = json_object_new_object();

        if (!a)
                return qc_err_set(err, ENOMEM, "blockdev-insert-medium: out of memory");
        json_object_object_add(a, "node-name", json_object_new_string(node_name));
        json_object_object_add(a, "id", json_object_new_string(id));
        return qmp_execute(q, "blockdev-insert-medium", a, NULL, err);
}

int qmp_blockdev_add(struct qmp *q, json_object *node, struct qc_err *err)
{
        return qmp_execute(q, "blockdev-add", node, NULL, err);
}

int qmp_blockdev_del(struct qmp *q, const char *node_name, struct qc_err *err)
{
        return qmp_execute_str(q, "blockdev-del", "node-name", node_name, err);
}
