/* The files a supervisor makes around QEMU's own: listening sockets and
 * logs it makes for a QEMU that runs as another user (passed as fds, since
 * that QEMU cannot create them in our 0700 state dir), and the modes of the
 * sockets QEMU binds itself. */
#pragma once
#include "../common/err.h"
#include "serial-log.h"
#include "supervisor.h"

/* Open every file of o->pass into fds, in order (all or none). For a log
 * (pass.log), fds[i] is the pipe's end for QEMU and pumps[i] is ready for
 * serial_log_pump() (else pumps[i].fd is -1). */
int sup_open_pass(const struct supervisor_opts *o, int *fds, struct serial_log_pump *pumps, struct qc_err *err);
/* Close what sup_open_pass made for the supervisor's side (a QEMU that did not start). */
void sup_close_pumps(struct serial_log_pump *pumps, size_t n);
/* Make RUNDIR's monitor and console sockets 0600 (before `cont`). */
int sup_private_sockets(const char *rundir, struct qc_err *err);
/* A listening unix socket at path, 0600 from the start (a stale one
 * replaced). Returns the fd (O_CLOEXEC) or -1 with err. */
int sup_listen(const char *path, struct qc_err *err);
