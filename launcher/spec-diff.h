/* What QEMU requires to be the same between the VM whose state was saved
 * (or migrated out) and the VM that loads it: the machine, the CPUs, the
 * memory and every device; not what stays on the host's side (the name,
 * placement, limits, the host ends of disks and networks, the boot files,
 * which a restored guest has read already). */
#pragma once
#include "../common/err.h"
#include "spec.h"

/* Every difference that matters, one line each, in the VM file's terms:
 * `memory.size: saved "512M", VM file "1G"` (a key one side does not have
 * is "(not set)"). *ret is a NULL-terminated strv, empty when they agree.
 * A key this list does not know is compared: a new device must match. */
int spec_restore_diff(const struct vm_spec *saved, const struct vm_spec *now, char ***ret, struct qc_err *err);
