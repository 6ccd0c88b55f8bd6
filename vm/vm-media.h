/* A CD-ROM's medium on a running VM: change it, eject it (virsh
 * change-media). */
#pragma once
#include <stddef.h>

#include "../common/err.h"
#include "vm.h"

enum vm_media_action {
        VM_MEDIA_UPDATE, /* put file in, whatever is there now */
        VM_MEDIA_INSERT, /* put file in; refuse (EEXIST) when the drive has a medium */
        VM_MEDIA_EJECT,  /* take the medium out; the drive stays, empty */
};

/* The index of the disk that `which` names: its index ("1"), its device id
 * ("disk1"), or the path of the medium in it now (compared after realpath).
 * -1 with err ENOENT listing the VM's CD-ROM drives when none matches. */
int vm_media_find(const struct vm_spec *spec, const char *which, size_t *ret, struct qc_err *err);

/* Change the medium of CD-ROM disks[idx]. file: an absolute path (not with
 * EJECT); format: the medium's format, AUTO to read its header. The medium
 * is checked as a VM file's disk is (spec_resolve_medium: a header never
 * names a file QEMU opens) before the tray opens, then opened as start opens
 * a disk (its own -blockdev nodes, format named, read-only): tray open
 * (forced: a guest's lock does not stop it), medium out, old nodes deleted,
 * new nodes added, medium in, tray closed. The effective spec records
 * disks[idx].file and .format (none after EJECT), so `dump` and the next
 * start keep the medium. EINVAL: not a CD-ROM, or a medium that fails the
 * checks (every problem named); EEXIST: INSERT into a drive that has one. A
 * failure after the old medium came out leaves the drive empty, recorded so. */
int vm_change_media(struct vm_live *vm, size_t idx, enum vm_media_action action, const char *file,
                    enum vm_disk_format format, struct qc_err *err);
