/* A TPM 2.0 for the VM: swtpm (Debian's swtpm, swtpm-tools), its state in
 * the VM's data dir (tpm/, beside the NVRAM), run by the supervisor as a
 * helper (supervisor_helper) with its control socket in the state dir. */
#pragma once
#include "../common/err.h"
#include "spec.h"

/* swtpm and swtpm_setup are there (checked before anything is created):
 * -1 with err ENOENT naming the package to install. */
int tpm_check(struct qc_err *err);
/* What the TPM leaves in the data dir (for vm_datadir_remove). */
extern const char *const tpm_state_files[];
/* DATADIR/NAME/tpm, made (0700) and manufactured by swtpm_setup (TPM 2.0,
 * an EK, NV locked; its output in DATADIR/NAME/tpm-setup.log) when it holds
 * no state yet; an existing state is never touched. *ret_dir malloc'd. */
int tpm_state_make(const struct vm_spec *spec, char **ret_dir, struct qc_err *err);
/* swtpm's argv: TPM 2.0 on statedir, its control channel on
 * RUNDIR/swtpm.sock (0600), ending when QEMU's connection ends. */
int tpm_argv(const char *statedir, const char *rundir, char ***ret, struct qc_err *err);
