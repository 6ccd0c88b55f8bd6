/* KVM: is the device there, does it answer, does it create a VM, nested? */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "host.h"

/* kvm_intel says Y/N, kvm_amd says 1/0 */
static int read_nested(const char *sysroot, const char *module)
{
        _cleanup_free_ char *s = NULL;
        char path[512];

        snprintf(path, sizeof path, "%s/sys/module/%s/parameters/nested", sysroot, module);
        if (read_file(path, 0, &s, NULL) < 0)
                return -1;
        return s[0] == 'Y' || s[0] == 'y' || s[0] == '1';
}

void host_kvm_read(const char *dev, const char *sysroot, struct host_kvm *ret)
{
        struct host_kvm k = { .nested = -1 };
        _cleanup_close_ int fd = -1;
        static const char *const modules[] = { "kvm_intel", "kvm_amd" };
        char path[512];
        int vm;

        if (!dev)
                dev = "/dev/kvm";
        if (!sysroot)
                sysroot = "";
        for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
                snprintf(path, sizeof path, "%s/sys/module/%s", sysroot, modules[i]);
                if (access(path, F_OK) == 0) {
                        snprintf(k.module, sizeof k.module, "%s", modules[i]);
                        k.nested = read_nested(sysroot, modules[i]);
                        break;
                }
        }
        if (access(dev, F_OK) < 0) {
                snprintf(k.why, sizeof k.why, "%s does not exist (no KVM module loaded, or no hardware virtualization)",
                         dev);
                *ret = k;
                return;
        }
        k.present = true;
        fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                snprintf(k.why, sizeof k.why, "open %s: %s", dev, strerror(errno));
                *ret = k;
                return;
        }
        k.opened = true;
        k.api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (k.api_version < 0) {
                snprintf(k.why, sizeof k.why, "KVM_GET_API_VERSION: %s", strerror(errno));
                k.api_version = 0;
                *ret = k;
                return;
        }
        vm = ioctl(fd, KVM_CREATE_VM, 0);
        if (vm < 0)
                snprintf(k.why, sizeof k.why, "KVM_CREATE_VM: %s", strerror(errno));
        else {
                k.creates_vms = true;
                close(vm);
        }
        *ret = k;
}
