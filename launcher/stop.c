/* The stop escalation (stop.h). */
#include "stop.h"

#include <errno.h>

#include "../qmp/qmp.h"

void vm_stop_begin(struct vm_stop *st, enum vm_stop_step first, int grace_ms, int64_t now)
{
        if (vm_stop_begun(st))
                return;
        *st = (struct vm_stop){ .begun = true,
                                .next = first,
                                .next_at = now,
                                .grace_ms = grace_ms > 0 ? grace_ms : VM_STOP_GRACE_MS,
                                .last = _VM_STOP_STEP_INVALID };
}

bool vm_stop_begun(const struct vm_stop *st)
{
        return st->begun;
}

enum vm_stop_step vm_stop_due(struct vm_stop *st, int64_t now)
{
        enum vm_stop_step s = st->next;

        if (!st->begun || s == _VM_STOP_STEP_INVALID || now < st->next_at)
                return _VM_STOP_STEP_INVALID;
        st->last = s;
        switch (s) {
        case VM_STOP_POWERDOWN:
                st->next = VM_STOP_QUIT;
                st->next_at = now + st->grace_ms;
                break;
        case VM_STOP_QUIT:
                st->next = VM_STOP_KILL;
                st->next_at = now + VM_STOP_KILL_AFTER_MS;
                break;
        case VM_STOP_KILL:
        default:
                st->next = _VM_STOP_STEP_INVALID;
                st->next_at = INT64_MAX;
                break;
        }
        return s;
}

int64_t vm_stop_wake(const struct vm_stop *st)
{
        return !st->begun || st->next == _VM_STOP_STEP_INVALID ? INT64_MAX : st->next_at;
}

int vm_stop_take(struct vm_stop *st, enum vm_stop_step step, struct qmp *q, int (*kill_fn)(void *ud, struct qc_err *err),
                 void *ud, int64_t now, struct qc_err *err)
{
        int r;

        switch (step) {
        case VM_STOP_POWERDOWN:
                if (!q)
                        return qc_err_set(err, ENOTCONN, "power button: no QMP connection to QEMU");
                return qmp_system_powerdown(q, err);
        case VM_STOP_QUIT:
                r = q ? qmp_quit(q, err) : qc_err_set(err, ENOTCONN, "quit: no QMP connection to QEMU");
                if (r < 0 && st->next == VM_STOP_KILL)
                        st->next_at = now;
                return r;
        case VM_STOP_KILL:
                return kill_fn(ud, err);
        default:
                return qc_err_set(err, EINVAL, "no such step");
        }
}
