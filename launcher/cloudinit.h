/* cloud-init NoCloud seed from the VM file's cloud_init section. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

/* The seed image in a VM's state dir: RUNDIR/cidata.iso. */
#define VM_RUNDIR_CIDATA "cidata.iso"

/* Whether the VM file asks for a seed (any cloud_init key). */
bool cloud_init_wanted(const struct vm_spec *spec);
/* Build RUNDIR/cidata.iso (volume id "cidata": user-data, meta-data,
 * network-config) with genisoimage, replacing one left by an earlier run. */
int cloud_init_seed(const struct vm_spec *spec, const char *rundir, struct qc_err *err);
