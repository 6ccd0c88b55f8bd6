/* What QEMU may change behind qemuctl's back: a person on qmp.sock can
 * device_del a vCPU or a DIMM. QEMU's answers are the truth; the recorded
 * spec (spec.json: what `dump`, `list`, `status` and the next start use)
 * is brought in line with them. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

struct qmp;

/* Set spec's plugged vCPUs (cpu.vcpus) and hotplugged memory
 * (memory.plugged) from QEMU (query-cpus-fast, query-memory-devices).
 * *ret_changed (may be NULL): whether anything differed. */
int spec_sync_live(struct qmp *q, struct vm_spec *spec, bool *ret_changed, struct qc_err *err);
/* With the VM's lock held: spec_sync_live on spec (NULL: RUNDIR/spec.json,
 * loaded here) and RUNDIR/spec.json rewritten when it differed. */
int vm_sync_recorded(const char *rundir, struct qmp *q, struct vm_spec *spec, struct qc_err *err);
