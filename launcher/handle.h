/* Open a VM by name for a verb: its state dir, its record, its effective
 * spec, its QEMU pid, a QMP connection on RUNDIR/qmp.sock, and (on request)
 * its lock, so that verbs on one VM never interleave.
 *
 * QEMU's monitor socket serves one client at a time: a verb that talks QMP
 * takes the lock (VM_OPEN_LOCK) so that a second one waits its turn instead
 * of timing out behind the first. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "../common/err.h"
#include "spec.h"
#include "state.h"

struct qmp;

struct vm_handle {
        char *name;
        char *rundir;
        struct vm_record rec;   /* refreshed against /proc */
        struct vm_spec *spec;   /* RUNDIR/spec.json, NULL with VM_OPEN_NO_SPEC */
        pid_t qemu_pid;         /* 0 when QEMU is not running */
        struct qmp *qmp;        /* NULL with VM_OPEN_NO_QMP or when QEMU is not running */
        int lock_fd;            /* -1 without VM_OPEN_LOCK */
        /* With VM_OPEN_BROKEN_OK: what is wrong with the state dir (no or an
         * unusable spec.json or status.json) and what to do; NULL if nothing.
         * A lost status.json leaves rec as RUNNING with the QEMU qemu.pid
         * names when that one still runs (state_orphan_qemu), as ENDED (and
         * started_at 0) otherwise. */
        char *problem;
};

enum {
        VM_OPEN_LOCK = 1 << 0,      /* take the VM's lock (waits up to lock_timeout_ms) */
        VM_OPEN_NO_QMP = 1 << 1,    /* don't connect to QMP */
        VM_OPEN_ANY_STATE = 1 << 2, /* a VM that has ended is fine (status, dump) */
        VM_OPEN_NO_SPEC = 1 << 3,   /* don't load spec.json */
        VM_OPEN_BROKEN_OK = 1 << 4, /* an unusable status.json or spec.json sets problem instead of failing (list, status) */
};

/* How long VM_OPEN_LOCK waits for another verb unless told (cli: --lock-timeout). */
#define VM_LOCK_TIMEOUT_MS 10000

/* verb names the holder in the lock file ("setvcpus"). Fails with a message
 * that says what to do: no such VM (ENOENT), not running (ESRCH), locked (EBUSY). */
int vm_open(const char *name, const char *verb, unsigned flags, int lock_timeout_ms, struct vm_handle **ret,
            struct qc_err *err);
void vm_close(struct vm_handle *h);
/* Record the effective spec after a live change (dump shows it; the next
 * start of `dump`'s output starts the VM as it is now). */
int vm_record_spec(struct vm_handle *h, const struct vm_spec *spec, struct qc_err *err);
/* Read RUNDIR/spec.json; -1 with err (ENOENT: none; EINVAL: not valid, with
 * the first problem and its place). */
int vm_load_spec(const char *rundir, struct vm_spec **ret, struct qc_err *err);
/* Write spec as RUNDIR/spec.json (used by start). */
int vm_write_spec(const char *rundir, const struct vm_spec *spec, struct qc_err *err);

static inline void vm_closep(struct vm_handle **h)
{
        vm_close(*h);
}
#define _cleanup_vm_ __attribute__((cleanup(vm_closep)))
