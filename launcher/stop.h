/* How a VM is stopped -- by `stop`, by `kill` and by the supervisor (run's
 * --timeout, SIGINT/SIGTERM) alike: the ACPI power button; `quit` if QEMU is
 * still there grace_ms later; SIGKILL if it is still there
 * VM_STOP_KILL_AFTER_MS after that. The caller owns the clock and the
 * waiting (the supervisor polls its event loop, a verb sleeps); this says
 * which step is due when, and takes it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"

struct qmp;

#define VM_STOP_GRACE_MS 10000      /* power button -> quit, unless the caller says */
#define VM_STOP_KILL_AFTER_MS 10000 /* quit -> SIGKILL */

enum vm_stop_step {
        VM_STOP_POWERDOWN, /* system_powerdown: the guest may shut down cleanly */
        VM_STOP_QUIT,      /* QMP quit: QEMU exits at once, without asking the guest */
        VM_STOP_KILL,      /* SIGKILL: a QEMU that does not answer QMP */
        _VM_STOP_STEP_MAX,
        _VM_STOP_STEP_INVALID = -1,
};

struct vm_stop {
        bool begun;             /* a zeroed struct has not */
        enum vm_stop_step next; /* _VM_STOP_STEP_INVALID: nothing left */
        int64_t next_at;        /* CLOCK_MONOTONIC ms at which next is due */
        int grace_ms;
        enum vm_stop_step last; /* the last step taken, _INVALID before the first */
};

/* Begin at now with step first (POWERDOWN to stop; QUIT to kill), which is
 * due at once. grace_ms <= 0: VM_STOP_GRACE_MS. Beginning again does nothing. */
void vm_stop_begin(struct vm_stop *st, enum vm_stop_step first, int grace_ms, int64_t now);
bool vm_stop_begun(const struct vm_stop *st);
/* The step due at now (scheduling the one after it), or _INVALID. */
enum vm_stop_step vm_stop_due(struct vm_stop *st, int64_t now);
/* When to look again: the next step's time, INT64_MAX when none is left. */
int64_t vm_stop_wake(const struct vm_stop *st);
/* Take step: system_powerdown and quit over q, SIGKILL by kill_fn(ud). A step
 * that cannot be taken (q NULL, QEMU refused) returns -1 with err; a quit
 * that fails makes SIGKILL due at once (a power button that fails keeps the
 * grace: QEMU may be on its way out). */
int vm_stop_take(struct vm_stop *st, enum vm_stop_step step, struct qmp *q, int (*kill_fn)(void *ud, struct qc_err *err),
                 void *ud, int64_t now, struct qc_err *err);
