/* The guest OS profile (`os`), as virt-install's --os-variant: defaults for
 * other keys, nothing of its own on the command line (but the in-kernel
 * PIT's policy under KVM, cmdline.c). "os" comes before every key it sets
 * in the key table, so a key the file gives is parsed after it and wins;
 * disks[].bus and net[].model are per item (finish_disk, finish_net).
 * docs/vm-file.md, "OS profiles", is the table of what each one sets. */
#include <string.h>
#include <strings.h>

#include "spec-internal.h"

/* A libosinfo short id (virt-install --os-variant: win2k3, win10,
 * debian12, ...) -> the profile it falls in, or NULL. */
static const char *osinfo_profile(const char *id)
{
        static const char *const legacy[] = { "winxp", "win2k", "win2k3", "win2k8", "win2k8r2", "winvista", "win7",
                                              NULL };
        static const char *const linux_like[] = { "linux", "debian", "ubuntu", "fedora", "rhel", "centos", "rocky",
                                                  "alma", "opensuse", "sles", "sle", "arch", "alpine", "gentoo",
                                                  NULL };

        if (strncmp(id, "win", 3) == 0 && strncmp(id, "windows", 7) != 0) {
                for (size_t i = 0; legacy[i]; i++)
                        if (strcmp(id, legacy[i]) == 0)
                                return "windows-legacy";
                return "windows";
        }
        for (size_t i = 0; linux_like[i]; i++)
                if (strncmp(id, linux_like[i], strlen(linux_like[i])) == 0)
                        return "linux";
        return NULL;
}

bool gate_os(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path, struct vm_spec *s,
             void *base)
{
        const char *profile;

        (void)obj, (void)s, (void)base;
        if (n->type != JT_STRING || vm_os_from_string(n->str) != _VM_OS_INVALID)
                return true;
        if (strncasecmp(n->str, "windows", 7) == 0) {
                diag(c, n, path,
                     "\"%.40s\" is not a profile: \"windows\" is Windows 8 / Server 2012 and later, "
                     "\"windows-legacy\" XP, 2003, Vista, 7 and 2008 (R2)",
                     n->str);
                return false;
        }
        if (!(profile = osinfo_profile(n->str)))
                return true; /* get_enum lists the profiles */
        diag(c, n, path,
             "\"%.40s\" is a virt-install --os-variant name; write its profile, \"%s\" (the profiles: generic, "
             "linux, windows for Windows 8 and later, windows-legacy for XP to 7)",
             n->str, profile);
        return false;
}

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
