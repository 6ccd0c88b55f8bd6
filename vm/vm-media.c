/* change-media: a CD-ROM's medium on a running VM, through QMP's tray
 * commands and -blockdev nodes named as start names them (diskN-file,
 * diskN-format), so the effective spec and QEMU agree after any number of
 * changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/cleanup.h"
#include "../launcher/cmdline.h"
#include "../qmp/qmp.h"
#include "vm-internal.h"
#include "vm-media.h"

static bool same_file(const char *a, const char *b)
{
        _cleanup_free_ char *ra = realpath(a, NULL), *rb = realpath(b, NULL);

        return strcmp(a, b) == 0 || (ra && rb && strcmp(ra, rb) == 0);
}

int vm_media_find(const struct vm_spec *spec, const char *which, size_t *ret, struct qc_err *err)
{
        char list[1024] = "";
        size_t len = 0;
        unsigned long n;
        char *end;

        errno = 0;
        n = strtoul(which, &end, 10);
        if (strncmp(which, "disk", 4) == 0 && which[4] >= '0' && which[4] <= '9')
                n = strtoul(which + 4, &end, 10);
        else if (!(which[0] >= '0' && which[0] <= '9'))
                end = (char *)which; /* not a number */
        if (end != which && !*end && !errno && n < spec->n_disks) {
                *ret = n;
                return 0;
        }
        for (size_t i = 0; i < spec->n_disks; i++)
                if (spec->disks[i].file && which[0] && same_file(spec->disks[i].file, which)) {
                        *ret = i;
                        return 0;
                }
        for (size_t i = 0; i < spec->n_disks && len < sizeof list; i++) {
                const struct vm_disk *d = &spec->disks[i];
                int w;

                if (d->media != VM_DISK_MEDIA_CDROM)
                        continue;
                w = snprintf(list + len, sizeof list - len, "%s%zu (disk%zu, %s)", len ? ", " : "", i, i,
                             d->file ? d->file : "empty");
                if (w < 0)
                        break;
                len += (size_t)w;
        }
        return qc_err_set(err, ENOENT, "no disk \"%s\" (give its index, its id diskN, or the file in it); %s%s", which,
                          len ? "the CD-ROM drives: " : "this VM has no CD-ROM drive (\"media\": \"cdrom\")",
                          list);
}

/* Take the medium out: tray open, medium removed, its nodes deleted. */
static int take_out(struct vm_live *vm, const struct vm_disk *d, const char *id, size_t idx, struct qc_err *err)
{
        char node[48];

        if (qmp_blockdev_open_tray(vm->qmp, id, true, err) < 0 || qmp_blockdev_remove_medium(vm->qmp, id, err) < 0)
                return -1;
        if (!d->file)
                return 0; /* an empty drive at start has no nodes */
        snprintf(node, sizeof node, "disk%zu-format", idx);
        if (qmp_blockdev_del(vm->qmp, node, err) < 0)
                return -1;
        snprintf(node, sizeof node, "disk%zu-file", idx);
        return qmp_blockdev_del(vm->qmp, node, err);
}

static int put_in(struct vm_live *vm, const struct vm_disk *nd, const char *id, size_t idx, struct qc_err *err)
{
        json_object *file = NULL, *format = NULL;
        char node[48];

        if (cmdline_medium_nodes(nd, idx, &file, &format, err) < 0)
                return -1;
        if (qmp_blockdev_add(vm->qmp, file, err) < 0) {
                json_object_put(format);
                return -1;
        }
        snprintf(node, sizeof node, "disk%zu-format", idx);
        if (qmp_blockdev_add(vm->qmp, format, err) < 0 || qmp_blockdev_insert_medium(vm->qmp, id, node, err) < 0) {
                /* leave no node behind: the next change reuses the names */
                struct qc_err e = { 0 };

                (void)qmp_blockdev_del(vm->qmp, node, &e);
                snprintf(node, sizeof node, "disk%zu-file", idx);
                (void)qmp_blockdev_del(vm->qmp, node, &e);
                return -1;
        }
        return 0;
}

int vm_change_media(struct vm_live *vm, size_t idx, enum vm_media_action action, const char *file,
                    enum vm_disk_format format, struct qc_err *err)
{
        struct vm_disk *d;
        struct vm_disk nd;
        _cleanup_free_ char *nfile = NULL;
        char id[32];
        int r;

        if (idx >= vm->spec->n_disks)
                return qc_err_set(err, EINVAL, "no disks[%zu]: the VM has %zu disk%s", idx, vm->spec->n_disks,
                                  vm->spec->n_disks == 1 ? "" : "s");
        d = &vm->spec->disks[idx];
        if (d->media != VM_DISK_MEDIA_CDROM)
                return qc_err_set(err, EINVAL,
                                  "disks[%zu] (%s) is a disk, not a CD-ROM: only a CD-ROM drive's medium changes "
                                  "(\"media\": \"cdrom\" in the VM file)",
                                  idx, d->file ? d->file : "-");
        if (d->snapshot)
                return qc_err_set(err, EINVAL,
                                  "disks[%zu] is \"snapshot\": true, which QEMU opens with -drive; its medium is "
                                  "not changed live. A CD-ROM is read-only anyway: drop \"snapshot\" and restart",
                                  idx);
        if (action == VM_MEDIA_INSERT && d->file)
                return qc_err_set(err, EEXIST, "disks[%zu] already holds %s; use --update to replace it, or --eject first",
                                  idx, d->file);
        if (action != VM_MEDIA_EJECT) {
                if (!file || file[0] != '/')
                        return qc_err_set(err, EINVAL, "the new medium must be an absolute path");
                nfile = strdup(file);
                if (!nfile)
                        return qc_err_sys(err, ENOMEM, "disks[%zu]", idx);
                /* the new medium is checked as the VM file's disks are, before anything changes */
                nd = *d;
                nd.file = nfile;
                nd.format = format;
                nd.block_device = nd.cdrom_drive = false;
                nd.file_line = nd.file_col = nd.format_line = nd.format_col = 0;
                if (spec_resolve_medium(&nd, idx, err) < 0)
                        return -1;
        }
        snprintf(id, sizeof id, "disk%zu", idx);
        if (take_out(vm, d, id, idx, err) < 0)
                return qc_err_wrap(err, "take the medium out of %s", id);
        /* the drive is empty now: record it so before anything else can fail */
        free(d->file);
        d->file = NULL;
        d->format = VM_DISK_FORMAT_AUTO;
        d->block_device = d->cdrom_drive = false;
        if (action != VM_MEDIA_EJECT) {
                if (put_in(vm, &nd, id, idx, err) < 0) {
                        struct qc_err e = { 0 };

                        qc_err_wrap(err, "put %s into %s (the drive is empty now)", nfile, id);
                        (void)qmp_blockdev_close_tray(vm->qmp, id, &e);
                        (void)vm_live_record(vm, &e);
                        return -1;
                }
                d->file = TAKE_PTR(nfile);
                d->format = nd.format;
                d->block_device = nd.block_device;
                d->cdrom_drive = nd.cdrom_drive;
        }
        r = qmp_blockdev_close_tray(vm->qmp, id, err);
        if (vm_live_record(vm, r < 0 ? NULL : err) < 0)
                return -1;
        return r < 0 ? qc_err_wrap(err, "close the tray of %s", id) : 0;
}
