/* vsock: the host side of a guest's vhost-vsock-pci device. */
#pragma once
#include "../common/err.h"

/* Can a VM with guest CID cid start here? Asks the kernel the way QEMU will:
 * opens dev (/dev/vhost-vsock) and sets the CID on a throwaway vhost
 * device, which fails for a CID some VM on the host holds. -1 with err:
 * ENOENT (no device: the vhost_vsock module is not loaded), EACCES,
 * EADDRINUSE (the CID is taken), each saying what to do. */
int vsock_check(const char *dev, unsigned cid, struct qc_err *err);
