/* Where a VM's state lives. The state dir holds files with fixed names that
 * every part of qemuctl relies on (see VM_RUNDIR_* below). */
#pragma once
#include "../common/err.h"

/* File names inside a VM's state dir. */
#define VM_RUNDIR_QMP "qmp.sock"         /* QMP for verbs */
#define VM_RUNDIR_EVENTS "events.sock"   /* second QMP monitor, kept by the supervisor */
#define VM_RUNDIR_CONSOLE "console.sock" /* serial chardev socket (server, nowait) */
#define VM_RUNDIR_SERIAL_LOG "serial.log"

/* The directory holding every VM's state dir: $QEMUCTL_RUNDIR if set,
 * /run/qemuctl for root, $XDG_RUNTIME_DIR/qemuctl otherwise (an error when
 * unset). Returns 0 and a malloc'd path, or -1 with err. Creates nothing. */
int vm_rundir_base(char **ret, struct qc_err *err);
/* vm_rundir_base()/NAME. NAME must be a valid VM name. */
int vm_rundir(const char *name, char **ret, struct qc_err *err);
