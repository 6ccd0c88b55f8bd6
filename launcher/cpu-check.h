/* The VM file's CPU against the QEMU binary that will run it: model and
 * feature names QEMU does not know are problems at their place in the file
 * (with the nearest name), a "require"d feature the accelerator cannot give
 * and a "forbid"den one it gives refuse the start, and host-model under KVM
 * becomes QEMU's expansion of the host CPU (a named model plus features). */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "../common/strv.h"
#include "cpu-caps.h"
#include "spec.h"

/* Every problem of spec's cpu.model and cpu.features against caps, appended
 * to diags at its place; check_available: also "require" and "forbid"
 * against what caps->accel gives a guest (only when spec will run under
 * it). notes (may be NULL) gets what QEMU will do that the file does not
 * say (the model's features the accelerator lacks), at their place. -1 with err EINVAL
 * when there were problems, ENOMEM. */
int spec_check_cpu(const struct vm_spec *spec, const struct cpu_caps *caps, bool check_available,
                   struct spec_diags *diags, struct spec_diags *notes, struct qc_err *err);
/* host-model under KVM (caps->accel): spec becomes mode custom with
 * caps->host_model and its features (the VM file's own features win), and
 * *ret_note says so. Returns 1 when it did, 0 when there was nothing to do
 * (another mode, TCG; or no model fits: *ret_note says that), -1 with err. */
int cpu_apply_host_model(struct vm_spec *spec, const struct cpu_caps *caps, char **ret_note, struct qc_err *err);
/* validate's, cmdline's and start's step: the caps of spec's qemu.binary
 * under accel (resolved: KVM or TCG; cached, cpu-caps.h), spec_check_cpu,
 * then cpu_apply_host_model; notes (may be NULL) gets both's notes (the
 * host-model one as cpu.mode). QEMU is not asked when the file names no
 * model and no feature and there is no host-model to expand (0). -1 with
 * err: EINVAL
 * after problems in diags; any other code when QEMU could not be asked
 * (nothing checked). */
int cpu_check_host(struct vm_spec *spec, enum vm_accel accel, bool check_available, struct spec_diags *diags,
                   struct spec_diags *notes, struct qc_err *err);
/* define's and edit's step: the names of cpu.model and cpu.features against
 * the caps of spec's qemu.binary under accel (spec_check_cpu without
 * check_available: "require" and "forbid" are judged where the VM starts),
 * spec left as it is (host-model is expanded by the start). 0 when there
 * is no name to check (QEMU not asked); -1 with err as cpu_check_host. */
int cpu_check_names(const struct vm_spec *spec, enum vm_accel accel, struct spec_diags *diags, struct qc_err *err);
