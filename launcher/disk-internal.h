/* Shared by launcher/disk*.c and tests only. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

/* What an image's first bytes say it is. Everything but RAW names a format
 * whose header QEMU would act on; the ones qemuctl does not open map to
 * _VM_DISK_FORMAT_INVALID in image_type_format(). */
enum image_type {
        IMAGE_RAW,
        IMAGE_QCOW2,
        IMAGE_QED,
        IMAGE_VDI,
        IMAGE_VHDX,
        IMAGE_VPC,
        IMAGE_PARALLELS,
        IMAGE_QCOW, /* qcow version 1 */
        IMAGE_VMDK,
        IMAGE_LUKS,
        IMAGE_DMG,
        IMAGE_CLOOP,
        IMAGE_BOCHS,
        _IMAGE_TYPE_MAX,
};

struct image_probe {
        bool missing;      /* the file does not exist (not an error here) */
        bool block_device; /* a block device, not a regular file */
        bool cdrom_drive;  /* a block device that is a CD-ROM drive (QEMU's host_cdrom) */
        enum image_type type;
        /* Files the header would have QEMU open, as printable text (bytes
         * outside printable ASCII as \xNN), or NULL: */
        char *backing;   /* qcow2/qcow/qed: the backing file */
        char *data_file; /* qcow2: the external data file ("" when the header
                          * says there is one but does not name it) */
};

/* Read what `file` is without ever blocking: a FIFO, socket, directory or
 * character device is refused (EINVAL, the message says what it is), and
 * so is anything else that is not a regular file or a block device. I/O
 * errors keep their errno. */
int image_probe(const char *file, struct image_probe *ret, struct qc_err *err);
void image_probe_done(struct image_probe *p);
/* qemu-img's name for the format ("vmdk"), and the VM file's format value
 * for it (_VM_DISK_FORMAT_INVALID: qemuctl does not open it). */
const char *image_type_name(enum image_type t);
enum vm_disk_format image_type_format(enum image_type t);
