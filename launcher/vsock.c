#include "vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../common/cleanup.h"

int vsock_check(const char *dev, unsigned cid, struct qc_err *err)
{
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
        uint64_t guest_cid = cid;

        if (fd < 0) {
                if (errno == ENOENT)
                        return qc_err_set(err, ENOENT,
                                          "vsock.cid: %s is missing, so QEMU cannot give the guest a vsock device: "
                                          "load the vhost_vsock module (modprobe vhost_vsock), or leave out vsock",
                                          dev);
                return qc_err_sys(err, errno, "vsock.cid: open %s (QEMU opens it for vhost-vsock-pci)", dev);
        }
        /* what QEMU's vhost-vsock does at start: own the device, set the CID;
         * the kernel keeps one guest per CID host-wide */
        if (ioctl(fd, VHOST_SET_OWNER, NULL) < 0)
                return qc_err_sys(err, errno, "vsock.cid: VHOST_SET_OWNER on %s", dev);
        if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &guest_cid) < 0) {
                if (errno == EADDRINUSE)
                        return qc_err_set(err, EADDRINUSE,
                                          "vsock.cid: guest CID %u is in use on this host (another VM has it): pick "
                                          "another vsock.cid",
                                          cid);
                return qc_err_sys(err, errno, "vsock.cid: guest CID %u", cid);
        }
        return 0;
}
