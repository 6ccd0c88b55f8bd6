/* A VM's state dir (launcher/paths.h says where): the lock that serializes
 * verbs on one VM, the status record the supervisor keeps, pid files, and the
 * liveness checks that tell a running QEMU from a stale record. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"
#include "../common/proc.h" /* proc_alive */
#include "paths.h"

#define VM_RUNDIR_SPEC "spec.json"             /* the effective VM file (live changes included) */
#define VM_RUNDIR_STATUS "status.json"         /* struct vm_record, written atomically */
#define VM_RUNDIR_QEMU_PID "qemu.pid"
#define VM_RUNDIR_SUPERVISOR_PID "supervisor.pid"
#define VM_RUNDIR_QEMU_LOG "qemu.log"          /* QEMU's stderr */
#define VM_RUNDIR_LOCK "lock"                  /* flock; holds "PID VERB" of the holder */
#define VM_RUNDIR_EVENTS_LOG "events.log"      /* every QMP event the supervisor saw, one JSON per line */
#define VM_RUNDIR_END_NOTE "end-note.json"     /* what a verb ending QEMU left for the supervisor (vm_end_note_leave) */

enum vm_state {
        VM_STATE_STARTING, /* supervisor up, QEMU not yet running the guest */
        VM_STATE_RUNNING,
        VM_STATE_PAUSED,
        VM_STATE_ENDED,    /* QEMU exited on its own terms (poweroff, quit, debug-exit) */
        VM_STATE_CRASHED,  /* QEMU died of a signal or exited with an error while running */
        VM_STATE_FAILED,   /* QEMU refused to start (message = its stderr) */
        _VM_STATE_MAX,
        _VM_STATE_INVALID = -1,
};
const char *vm_state_to_string(enum vm_state s);
enum vm_state vm_state_from_string(const char *s);
/* Starting, running or paused: a QEMU is supposed to exist. */
bool vm_state_is_active(enum vm_state s);

struct vm_record {
        enum vm_state state;
        pid_t qemu_pid;            /* 0 = none yet */
        uint64_t qemu_start;       /* /proc/PID/stat field 22, to tell a reused pid */
        pid_t supervisor_pid;
        uint64_t supervisor_start;
        bool foreground;           /* started by `run` */
        int64_t started_at;        /* unix time, ms */
        int64_t ended_at;          /* unix time, ms; 0 while active */
        char *shutdown_reason;     /* QEMU's SHUTDOWN reason ("guest-shutdown", ...), NULL if none seen */
        bool shutdown_by_guest;    /* SHUTDOWN's "guest" member */
        bool panicked;             /* GUEST_PANICKED seen */
        int exit_status;           /* QEMU's exit status, -1 = not exited (or killed) */
        int exit_signal;           /* signal that killed QEMU, 0 = none */
        bool timed_out;            /* `run --timeout` expired */
        bool interrupted;          /* `run` got SIGINT/SIGTERM */
        char *message;             /* why it failed (QEMU's stderr), or a note; NULL if none */
        uint64_t balloon_actual;   /* bytes the guest has, from QEMU's last BALLOON_CHANGE; 0 = none seen */
        char *saved_to;            /* the file `qemuctl save` wrote the VM into before it quit QEMU; NULL if none */
        char *migrated_to;         /* where `qemuctl migrate` moved the VM (its --to) before it quit QEMU; NULL if none */
};

void vm_record_done(struct vm_record *r);
/* A fresh record: state STARTING, no pids, exit_status -1, started_at now. */
void vm_record_init(struct vm_record *r);
/* Read RUNDIR/status.json. Returns 0, or -1 with err (err->code ENOENT: no
 * record). */
int vm_record_read(const char *rundir, struct vm_record *ret, struct qc_err *err);
int vm_record_write(const char *rundir, const struct vm_record *r, struct qc_err *err);
/* "powered off by the guest", "killed by signal 9 (Killed)", ... (malloc'd, NULL on ENOMEM) */
char *vm_record_describe_end(const struct vm_record *r);


/* Compare the record with the processes: a record that says active whose
 * QEMU is gone (and whose supervisor is gone too, so nobody will write the
 * end) is returned as ENDED with a note. Does not write anything. */
void vm_record_refresh(struct vm_record *r);
/* Write down the end of a VM that nobody watches any more: remove the
 * sockets of the QEMU that is gone, then r (refreshed, not active) as the
 * record. Call with the VM's lock held. */
int vm_record_write_end(const char *rundir, const struct vm_record *r, struct qc_err *err);
/* What a verb knows of an end it caused itself (kill, stop), for the record
 * it writes when no supervisor watched QEMU go. */
struct vm_end_note {
        const char *message;         /* "killed by qemuctl kill" */
        const char *shutdown_reason; /* what QEMU's SHUTDOWN would have said ("host-qmp-quit"), or NULL */
        int exit_signal;             /* the signal that ended QEMU (ours), 0 = none */
        const char *saved_to;        /* save: the file the VM was saved to (absolute), or NULL */
        const char *migrated_to;     /* migrate: the far side (ssh://..., or a state dir here, absolute), or NULL */
};
/* Before a verb ends QEMU while a supervisor watches (save's and migrate's
 * quit): leave what the supervisor cannot see in QEMU's events (saved_to,
 * migrated_to) in
 * RUNDIR/end-note.json, which the supervisor puts into the record it writes
 * when QEMU is gone (vm_end_note_take). The next start clears it. Call with
 * the VM's lock held; if QEMU is not ended after all, vm_end_note_drop. */
int vm_end_note_leave(const char *rundir, const struct vm_end_note *note, struct qc_err *err);
void vm_end_note_drop(const char *rundir);
/* For the supervisor, once QEMU ended on a QMP quit (r->shutdown_reason
 * "host-qmp-quit", as save's and migrate's are, or a clean exit whose
 * SHUTDOWN event was lost): the note a verb left, into r, if that verb
 * still runs (one that died before its quit speaks for nothing). Returns 1
 * when there was one, 0 when not (or it is unreadable: the record then says
 * only what QEMU said). */
int vm_end_note_take(const char *rundir, struct vm_record *r);
/* Once QEMU is gone (kill, stop): wait up to timeout_ms until the record
 * says the VM ended. The supervisor writes it; when the supervisor is gone
 * too, write it here (vm_record_write_end), with note (may be NULL) and the
 * time as the end. ETIMEDOUT when a live supervisor has not written it in
 * time. Call with the VM's lock held. */
int vm_record_wait_end(const char *rundir, int timeout_ms, const struct vm_end_note *note, struct qc_err *err);

/* After a verb's pause or resume of a VM whose supervisor lives: wait up
 * to timeout_ms until the record says want (the supervisor writes it on
 * QEMU's STOP or RESUME, a moment after QEMU answered the verb). 1 when it
 * does, 0 when it does not in time or the VM is no longer active. */
int vm_record_wait_state(const char *rundir, enum vm_state want, int timeout_ms, struct qc_err *err);

/* Where a verb talks to the VM's guest agent: RUNDIR/agent.sock while the
 * supervisor rec names is alive and serves it (it keeps QEMU's one
 * connection to qga.sock, so qemu-ga never sleeps on EOF:
 * supervisor-agent.h), else RUNDIR/qga.sock itself. malloc'd; NULL on ENOMEM. */
char *vm_agent_socket(const char *rundir, const struct vm_record *rec);

/* Verbs on one VM are serialized by flock(RUNDIR/lock). Wait up to
 * timeout_ms (0 = try once) for the lock; the holder writes "PID VERB" into
 * the file so a waiter that gives up can say who holds it. Returns the
 * locked fd (O_CLOEXEC; close it to unlock), or -1 with err (EBUSY). */
int state_lock(const char *rundir, const char *name, const char *verb, int timeout_ms, struct qc_err *err);

/* For `start`/`run`: make RUNDIR (0700) for a valid NAME, take its lock,
 * refuse when the recorded QEMU is alive (EEXIST), and clear what a previous
 * run left (everything but the lock file). Returns the lock fd and the
 * rundir, or -1 with err. The name is checked before anything touches the disk. */
int state_prepare(const char *name, const char *verb, int lock_timeout_ms, char **ret_rundir, struct qc_err *err);

/* Names of every VM with a state dir, sorted; NULL-terminated (strv_free). */
int state_list_names(char ***ret, struct qc_err *err);

/* For a state dir whose status record is lost (corrupt, hand edited): the
 * QEMU RUNDIR/qemu.pid names, when that process is alive and is QEMU of VM
 * NAME (its -name guest=NAME; a pid alone may have been reused). Returns the
 * pid, or 0 when no such QEMU runs. */
pid_t state_orphan_qemu(const char *rundir, const char *name);

/* Whether pid is QEMU of VM NAME as its record says: alive, started at start
 * (/proc/PID/stat field 22; 0 proves nothing and is refused), and run with
 * -name guest=NAME. Returns 0, or -1 with err: ESRCH (gone, or its pid is
 * another process now), EPERM (not proven; the message says why). */
int vm_qemu_check(pid_t pid, uint64_t start, const char *name, struct qc_err *err);
/* Send sig to QEMU of VM NAME only when vm_qemu_check() proves it, through a
 * pidfd where the kernel has them, so that a pid reused between the check
 * and the signal is not hit. Returns 0 or -1 with err (ESRCH: gone). */
int vm_qemu_signal(pid_t pid, uint64_t start, const char *name, int sig, struct qc_err *err);

/* Trust in the state dir. Another user must not be able to put anything in
 * the base dir or a VM's dir (a status.json naming a process of ours to
 * kill, a symlink where a record is written): both must be directories, not
 * symlinks, owned by us and not writable by group or others. Everything in
 * the VM's dir is opened relative to the checked dir fd, never through a
 * symlink, and records are written to new temporary files (O_EXCL) renamed
 * over the old.
 *
 * state_base_open: the base dir (vm_rundir_base()); state_dir_open: a VM's
 * dir (vm_rundir()), the base included. create: make what is missing (0700).
 * Return an O_DIRECTORY fd (O_CLOEXEC) or -1 with err: ENOENT (missing),
 * EPERM/ELOOP/ENOTDIR (not ours alone: what is wrong and the fix). */
int state_base_open(const char *base, bool create, struct qc_err *err);
int state_dir_open(const char *rundir, bool create, struct qc_err *err);
/* openat(state_dir_open(rundir), file, flags | O_NOFOLLOW | O_CLOEXEC, mode):
 * an fd or -1 with err. */
int state_open_file(const char *rundir, const char *file, int flags, mode_t mode, struct qc_err *err);
/* rundir/file as a malloc'd string (up to max bytes), or -1 with err (ENOENT: no such file). */
int state_read_file(const char *rundir, const char *file, size_t max, char **ret, struct qc_err *err);
/* Write text as rundir/file (0600), atomically. */
int state_write_file(const char *rundir, const char *file, const char *text, struct qc_err *err);
/* Remove the sockets of a QEMU that is gone (qmp, events, console). */
void state_remove_sockets(const char *rundir);
/* Remove the state dir of a VM that has ended, lock file and all (`run
 * --rm`: the caller holds the lock, and nobody needs the record after it). */
int state_remove(const char *rundir, struct qc_err *err);

/* Small files in the state dir. */
int state_write_pid(const char *rundir, const char *file, pid_t pid, struct qc_err *err);
/* 0, -ENOENT (no such file) or another -errno. */
int state_read_pid(const char *rundir, const char *file, pid_t *ret);
