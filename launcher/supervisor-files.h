/* The files a supervisor makes around QEMU's own: listening sockets and
 * logs it makes for a QEMU that runs as another user (passed as fds, since
 * that QEMU cannot create them in our 0700 state dir), and the modes of the
 * sockets QEMU binds itself. */
#pragma once
#include <pthread.h>
#include <stdbool.h>

#include "../common/err.h"
#include "serial-log.h"
#include "spawn.h"
#include "supervisor.h"

/* Open every file of o->pass into fds, in order (all or none). For a log
 * (pass.log), fds[i] is the pipe's end for QEMU and pumps[i] is ready for
 * serial_log_pump() (else pumps[i].fd is -1). */
int sup_open_pass(const struct supervisor_opts *o, int *fds, struct serial_log_pump *pumps, struct qc_err *err);
/* Close what sup_open_pass made for the supervisor's side (a QEMU that did not start). */
void sup_close_pumps(struct serial_log_pump *pumps, size_t n);
/* The supervisor's ends of the log pipes (pass.log), a thread each copying
 * what QEMU writes into its log (serial_log_pump). */
struct sup_pumps {
        struct serial_log_pump v[SPAWN_MAX_PASS_FDS]; /* filled by sup_open_pass */
        pthread_t threads[SPAWN_MAX_PASS_FDS];
        bool running[SPAWN_MAX_PASS_FDS];
        size_t n;
};
/* A thread for every pipe; a pipe it cannot have one for is closed (a pipe
 * nobody reads would stop the guest). */
void sup_pumps_start(struct sup_pumps *p);
/* QEMU is gone: its log pipes end. Everything the guest wrote is in the
 * logs when this returns; a pipe some other process still holds open is
 * given up after 5 s. Closes them all. */
void sup_pumps_stop(struct sup_pumps *p);
/* Make RUNDIR's monitor and console sockets 0600 (before `cont`). */
int sup_private_sockets(const char *rundir, struct qc_err *err);
/* A listening unix socket at path, 0600 from the start (a stale one
 * replaced). Returns the fd (O_CLOEXEC) or -1 with err. */
int sup_listen(const char *path, struct qc_err *err);
