/* The guest OS profile (`os`), as virt-install's --os-variant: defaults for
 * other keys, nothing of its own on the command line (but the in-kernel
 * PIT's policy under KVM, cmdline.c). "os" comes before every key it sets
 * in the key table, so a key the file gives is parsed after it and wins;
 * disks[].bus and net[].model are per item (finish_disk, finish_net).
 * docs/vm-file.md, "OS profiles", is the table of what each one sets. */
#include "spec-internal.h"

bool check_os(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        (void)c, (void)n, (void)path, (void)base;
        if (s->os == VM_OS_GENERIC)
                return true;
        /* libvirt's and virt-install's timers for every x86 guest */
        s->rtc.driftfix = VM_RTC_DRIFTFIX_SLEW;
        s->hpet = false;
        if (!vm_os_is_windows(s->os))
                return true;
        s->rtc.base = VM_RTC_LOCALTIME;
        s->hyperv = true;
        if (s->os == VM_OS_WINDOWS_LEGACY) {
                /* XP and 2003 drive neither AHCI nor xHCI; virt-install
                 * gives them i440FX (libosinfo: no q35) and USB 2 */
                s->machine = VM_MACHINE_PC;
                s->usb = VM_USB_EHCI;
        }
        return true;
}
