/* accel "auto" for the command line: the one part of building it that looks
 * at the host (the KVM probe), kept apart so cmdline.c stays pure. */
#include <errno.h>
#include <stdlib.h>

#include "accel.h"
#include "cmdline.h"

int cmdline_resolve_accel(const struct vm_spec *spec, enum vm_accel *ret, char **ret_note, struct qc_err *err)
{
        char why[256] = "";
        enum vm_accel accel = spec->accel;

        if (ret_note)
                *ret_note = NULL;
        if (accel == VM_ACCEL_KVM && !accel_kvm_works(why, sizeof why))
                return qc_err_set(err, ENODEV,
                                  "accel: \"kvm\", but KVM does not run a guest on this host (%s); set \"accel\": "
                                  "\"auto\" (KVM where it runs guests, TCG elsewhere) or \"tcg\"",
                                  why);
        if (accel == VM_ACCEL_AUTO)
                accel = accel_kvm_works(why, sizeof why) ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        if (ret_note)
                *ret_note = cmdline_accel_note(spec, accel, why);
        *ret = accel;
        return 0;
}
