/* accel "auto" for the command line: the one part of building it that looks
 * at the host (the KVM probe), kept apart so cmdline.c stays pure. */
#include <stdlib.h>

#include "accel.h"
#include "cmdline.h"

enum vm_accel cmdline_resolve_accel(const struct vm_spec *spec, char **ret_note)
{
        char why[256] = "";
        enum vm_accel accel = spec->accel;

        if (accel == VM_ACCEL_AUTO)
                accel = accel_kvm_works(why, sizeof why) ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        if (ret_note)
                *ret_note = cmdline_accel_note(spec, accel, why);
        return accel;
}
