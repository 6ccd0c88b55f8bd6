/* The supervisor: QEMU's parent. It spawns QEMU paused (-S), waits for its
 * events monitor (RUNDIR/events.sock), applies what must be applied before
 * the guest runs, sends `cont`, then watches QMP events and the child until
 * QEMU exits, and records how it ended in RUNDIR/status.json.
 *
 * `start` runs it detached (supervisor_start_detached); `run` runs it in the
 * foreground (supervisor_run) and turns the record into an exit code. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"
#include "state.h"

struct qmp;
struct privs;
struct migration_incoming;

/* A file QEMU gets as an fd instead of opening it itself (see
 * cmdline_ctx.qmp_fd): socket = a listening unix socket at path, mode 0600
 * (a stale one replaced), else a file created 0600 and truncated. */
struct supervisor_pass {
        const char *path;
        bool socket;
        /* a log QEMU writes into a pipe: the supervisor copies it into path,
         * rotated to path.1 past log_max bytes (0 = no bound; serial-log.h) */
        bool log;
        uint64_t log_max;
        /* an existing file opened read-write, never created or truncated
         * (the VM's NVRAM in its data dir) */
        bool existing;
};

/* A helper process the VM needs (swtpm): started by the supervisor before
 * QEMU, in the cgroup QEMU is born in and with QEMU's identity; QEMU is
 * spawned once the helper's socket exists. Stopped (SIGTERM, SIGKILL after
 * 3 s) and reaped when QEMU is gone, before the record says so, and when
 * QEMU could not be started. It is not tied to the supervisor's life: a
 * supervisor that dies leaves QEMU running, and QEMU needs it. */
struct supervisor_helper {
        const char *name;   /* "swtpm": in messages */
        char *const *argv;  /* argv[0] absolute or found in SPAWN_PATH */
        const char *socket; /* the path it listens on (removed first): QEMU starts once it is there */
        const char *log;    /* its stdout and stderr, appended */
};
#define SUPERVISOR_MAX_HELPERS 8

struct supervisor_opts {
        const char *name;
        const char *rundir;     /* made by state_prepare() */
        char *const *argv;      /* QEMU's, with -S and the events monitor (cmdline_build) */
        bool foreground;        /* `run`: SIGINT/SIGTERM stop the VM; a panicked guest is quit */
        bool agent_relay;       /* the VM has a guest agent port: relay RUNDIR/agent.sock onto it (supervisor-agent.h) */
        int stdout_fd;          /* QEMU's stdout (run: the serial console); -1 = RUNDIR/qemu.log */
        int timeout_ms;         /* stop the VM after this long (run --timeout); 0 = never */
        int stop_timeout_ms;    /* power button, then `quit` after this (stop.h); 0 = VM_STOP_GRACE_MS */
        int start_timeout_ms;   /* QEMU must open its monitor within this; 0 = 60 s */
        bool paused;            /* leave the guest paused once set up: no `cont` (start --paused, the
                                 * restore of a guest saved paused); `resume` runs it */
        int notify_fd;          /* start: gets "ok\n" or "error\n<text>" once, then is closed; -1 = none */
        /* run --exec: the read end of a pipe whose only writer is the
         * process that runs the command; once that end closes (the
         * command is done and the guest agent was asked to power off, or
         * that process died), the supervisor stops the VM as `stop` does:
         * the power button, quit after stop_timeout_ms, SIGKILL (stop.h).
         * What is buffered in the pipe stays for the caller. -1 = none. */
        int stop_when_closed_fd;
        bool sd_notify;         /* `run` under a service manager ($NOTIFY_SOCKET, common/sd-notify.h):
                                 * READY=1 once the guest runs and is placed, STOPPING=1 when it
                                 * stops, STATUS= all along */

        /* Hooks (each may be NULL), named for what start's do
         * (launcher/launch-placement.h). make_cgroup: before QEMU is
         * spawned, the cgroup2 directory it is to be born in (*ret_fd, owned
         * by userdata; -1 = none; see spawn_opts.into_cgroup). place_qemu: in
         * the parent, once QEMU is in that cgroup, before it execs (rlimits,
         * affinity). pin_vcpus: after QMP is up, before `cont`. place_vcpus:
         * once the guest runs and `start` was told so (what may wait without
         * holding up the start: moving threads between cgroups); a failure
         * is recorded as the record's message, and the VM runs on.
         * remove_cgroup: after QEMU is gone, also when QEMU could not be
         * started after make_cgroup or place_qemu ran. */
        int (*make_cgroup)(void *userdata, int *ret_fd, struct qc_err *err);
        int (*place_qemu)(pid_t qemu_pid, void *userdata, struct qc_err *err);
        int (*pin_vcpus)(struct qmp *q, pid_t qemu_pid, void *userdata, struct qc_err *err);
        int (*place_vcpus)(void *userdata, struct qc_err *err);
        void (*remove_cgroup)(void *userdata);
        void *userdata;

        /* Made by the supervisor before QEMU starts and passed as fds 3, 4,
         * ... in this order (the numbers the argv names); n_pass 0 = none. */
        const struct supervisor_pass *pass;
        size_t n_pass;
        const struct privs *privs; /* QEMU's identity (spawn_opts.privs); NULL = ours */
        const struct supervisor_helper *helpers; /* started before QEMU, in this order (at most SUPERVISOR_MAX_HELPERS) */
        size_t n_helpers;
        int keep_fd; /* the detached supervisor keeps this fd of the caller (the VM's lock, which start's place_vcpus hook closes); -1 = none */
        /* Restore / the destination of a migration: QEMU's argv has
         * `-incoming defer` (cmdline_ctx.incoming); once its monitor is up
         * the supervisor feeds it this stream (migration_incoming) and waits
         * for it to load, before the pin_vcpus hook and `cont`. A stream QEMU
         * cannot load ends it: the record says FAILED with QEMU's words.
         * The detached supervisor keeps incoming->fd too. NULL = boot. */
        const struct migration_incoming *incoming;
};

/* Run the supervisor in this process until QEMU has exited. The end is in
 * *ret (and in status.json). Returns 0, or -1 with err when the supervisor
 * itself could not work (QEMU refusing to start is not such a failure: it
 * is a record with state FAILED). */
int supervisor_run(const struct supervisor_opts *o, struct vm_record *ret, struct qc_err *err);

/* fork; setsid; fork again: a supervisor no terminal or parent can take down.
 * Returns 0 once the guest runs, or -1 with err holding QEMU's own error
 * text when it refused to start. fds other than 0-2 are not inherited, but for
 * keep_fd and the incoming stream (supervisor-detached.c). */
int supervisor_start_detached(const struct supervisor_opts *o, struct qc_err *err);

/* `run`'s exit code for how the VM ended (see RUN_EXIT_*). */
int supervisor_exit_code(const struct vm_record *r);

#define RUN_EXIT_POWEROFF 0    /* the guest powered off normally */
#define RUN_EXIT_REFUSED 3     /* QEMU refused the command line / failed to start */
#define RUN_EXIT_PANIC 4       /* the guest panicked */
#define RUN_EXIT_CRASH 5       /* QEMU died of a signal or exited with an error */
#define RUN_EXIT_EXTERNAL 6    /* stopped from outside (qemuctl stop/kill, QMP quit, a signal to QEMU), or migrated away */
#define RUN_EXIT_TIMEOUT 124   /* --timeout expired (as timeout(1)) */
#define RUN_EXIT_INTERRUPT 130 /* SIGINT or SIGTERM to qemuctl run */
/* A guest that writes N to isa-debug-exit makes QEMU exit with (N << 1) | 1;
 * `run` exits with N. */
