/* Inside vm/: shared helpers of the live operations. */
#pragma once
#include "vm.h"

#define VM_STEP_TIMEOUT_MS 30000
static inline int vm_step_timeout(const struct vm_live *vm)
{
        return vm->step_timeout_ms > 0 ? vm->step_timeout_ms : VM_STEP_TIMEOUT_MS;
}

/* Record the effective spec (vm->record), wrapping its error. */
int vm_live_record(struct vm_live *vm, struct qc_err *err);
