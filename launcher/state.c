#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "spec.h"

static const char *const vm_state_table[_VM_STATE_MAX] = {
        [VM_STATE_STARTING] = "starting", [VM_STATE_RUNNING] = "running", [VM_STATE_PAUSED] = "paused",
        [VM_STATE_ENDED] = "ended",       [VM_STATE_CRASHED] = "crashed", [VM_STATE_FAILED] = "failed",
};

const char *vm_state_to_string(enum vm_state s)
{
        return s >= 0 && s < _VM_STATE_MAX ? vm_state_table[s] : NULL;
}

enum vm_state vm_state_from_string(const char *s)
{
        for (int i = 0; s && i < _VM_STATE_MAX; i++)
                if (strcmp(s, vm_state_table[i]) == 0)
                        return (enum vm_state)i;
        return _VM_STATE_INVALID;
}

bool vm_state_is_active(enum vm_state s)
{
        return s == VM_STATE_STARTING || s == VM_STATE_RUNNING || s == VM_STATE_PAUSED;
}

static int64_t unix_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vm_record_init(struct vm_record *r)
{
        *r = (struct vm_record){ .state = VM_STATE_STARTING, .exit_status = -1, .started_at = unix_ms() };
}

void vm_record_done(struct vm_record *r)
{
        free(r->shutdown_reason);
        free(r->message);
        free(r->saved_to);
        free(r->migrated_to);
        r->shutdown_reason = r->message = r->saved_to = r->migrated_to = NULL;
}

static void add_int(json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_str(json_object *o, const char *k, const char *v)
{
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

/* What is wrong with the directory at fd (path names it in messages), or 0
 * when it is ours alone: a directory owned by us, not writable by group or
 * others. Nobody else can then have put a record, a pid file or a symlink in
 * it. */
static int check_dir(int fd, const char *path, bool base, struct qc_err *err)
{
        struct stat st;
        uid_t me = geteuid();

        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "state dir %s", path);
        if (!S_ISDIR(st.st_mode))
                return qc_err_set(err, ENOTDIR, "state dir %s is not a directory", path);
        if (st.st_uid != me)
                return base ? qc_err_set(err, EPERM,
                                         "state dir base %s is owned by uid %u, not by you (uid %u): another user "
                                         "could put VM records there that qemuctl would act on; set "
                                         "QEMUCTL_RUNDIR to a directory of your own (mode 0700)",
                                         path, (unsigned)st.st_uid, (unsigned)me)
                            : qc_err_set(err, EPERM,
                                         "state dir %s is owned by uid %u, not by you (uid %u): another user could "
                                         "have put records in it that qemuctl would act on; if you did not make "
                                         "it, remove it (rm -r %s)",
                                         path, (unsigned)st.st_uid, (unsigned)me, path);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return base ? qc_err_set(err, EPERM,
                                         "state dir base %s is writable by group or others (mode %04o): another "
                                         "user could plant VM records or symlinks in it; set QEMUCTL_RUNDIR to a "
                                         "directory only you can write (mode 0700), or chmod go-w %s if it is "
                                         "yours alone",
                                         path, (unsigned)(st.st_mode & 07777), path)
                            : qc_err_set(err, EPERM,
                                         "state dir %s is writable by group or others (mode %04o): another user "
                                         "could have planted records or symlinks in it; remove it (rm -r %s), "
                                         "`qemuctl start` makes it again",
                                         path, (unsigned)(st.st_mode & 07777), path);
        return 0;
}

/* Open dirfd/name (path in messages) as a directory, never through a
 * symlink, and check it is ours alone. */
static int open_dir_at(int dirfd, const char *name, const char *path, bool base, struct qc_err *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0) {
                int e = errno;
                if (e == ENOENT)
                        return qc_err_set(err, ENOENT, "no state dir %s", path);
                /* O_NOFOLLOW|O_DIRECTORY on a symlink: ELOOP or ENOTDIR */
                if ((e == ELOOP || e == ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (S_ISLNK(st.st_mode))
                                return qc_err_set(err, ELOOP, "state dir%s %s is a symlink: qemuctl does not "
                                                  "follow one there; %s", base ? " base" : "", path,
                                                  base ? "set QEMUCTL_RUNDIR to a directory of your own"
                                                       : "remove it (rm %s)");
                        return qc_err_set(err, ENOTDIR, "state dir%s %s is not a directory", base ? " base" : "",
                                          path);
                }
                return qc_err_sys(err, e, "state dir %s", path);
        }
        if (check_dir(fd, path, base, err) < 0)
                return -1;
        return TAKE_FD(fd);
}

int state_base_open(const char *base, bool create, struct qc_err *err)
{
        if (create) {
                int rc = mkdir_p(base, 0700);
                if (rc < 0)
                        return qc_err_sys(err, -rc, "create state dir base %s", base);
        }
        return open_dir_at(AT_FDCWD, base, base, true, err);
}

int state_dir_open(const char *rundir, bool create, struct qc_err *err)
{
        _cleanup_free_ char *base = strdup(rundir);
        _cleanup_close_ int bfd = -1;
        char *slash = base ? strrchr(base, '/') : NULL;
        const char *name;

        if (!base)
                return qc_err_sys(err, ENOMEM, "state dir");
        if (!slash || !slash[1])
                return qc_err_set(err, EINVAL, "state dir %s: not BASE/NAME", rundir);
        name = rundir + (slash - base) + 1;
        *slash = '\0';
        bfd = state_base_open(slash == base ? "/" : base, create, err);
        if (bfd < 0)
                return -1;
        if (create && mkdirat(bfd, name, 0700) < 0 && errno != EEXIST)
                return qc_err_sys(err, errno, "create state dir %s", rundir);
        return open_dir_at(bfd, name, rundir, false, err);
}

int state_open_file(const char *rundir, const char *file, int flags, mode_t mode, struct qc_err *err)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, err);
        int fd;

        if (dfd < 0)
                return -1;
        fd = openat(dfd, file, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
                return qc_err_sys(err, errno, "open %s/%s", rundir, file);
        return fd;
}

/* A small file of the state dir: 0, -ENOENT, or -1 with err. */
static int read_state_file(const char *rundir, const char *file, size_t max, char **ret, struct qc_err *err)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, err);
        _cleanup_close_ int fd = -1;
        int rc;

        if (dfd < 0)
                return -1;
        fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return qc_err_sys(err, errno, "read %s/%s", rundir, file);
        rc = read_fd_all(fd, max, ret, NULL);
        if (rc < 0)
                return qc_err_sys(err, -rc, "read %s/%s", rundir, file);
        return 0;
}

int state_write_file(const char *rundir, const char *file, const char *text, struct qc_err *err)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, err);
        int rc;

        if (dfd < 0)
                return -1;
        rc = write_file_atomic_at(dfd, file, text, 0600);
        if (rc < 0)
                return qc_err_sys(err, -rc, "write %s/%s", rundir, file);
        return 0;
}

int state_read_file(const char *rundir, const char *file, size_t max, char **ret, struct qc_err *err)
{
        int rc = read_state_file(rundir, file, max, ret, err);

        if (rc == -ENOENT)
                return qc_err_set(err, ENOENT, "no %s/%s", rundir, file);
        return rc;
}

void state_remove_sockets(const char *rundir)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, NULL);

        for (size_t i = 0; dfd >= 0 && vm_rundir_sockets[i]; i++)
                unlinkat(dfd, vm_rundir_sockets[i], 0);
}

int vm_record_write(const char *rundir, const struct vm_record *r, struct qc_err *err)
{
        json_object *o = json_object_new_object();
        int rc;

        if (!o)
                return qc_err_sys(err, ENOMEM, "status record");
        add_str(o, "state", vm_state_to_string(r->state));
        add_int(o, "qemu_pid", r->qemu_pid);
        add_int(o, "qemu_start", (int64_t)r->qemu_start);
        add_int(o, "supervisor_pid", r->supervisor_pid);
        add_int(o, "supervisor_start", (int64_t)r->supervisor_start);
        json_object_object_add(o, "foreground", json_object_new_boolean(r->foreground));
        add_int(o, "started_at", r->started_at);
        add_int(o, "ended_at", r->ended_at);
        add_str(o, "shutdown_reason", r->shutdown_reason);
        json_object_object_add(o, "shutdown_by_guest", json_object_new_boolean(r->shutdown_by_guest));
        json_object_object_add(o, "panicked", json_object_new_boolean(r->panicked));
        add_int(o, "exit_status", r->exit_status);
        add_int(o, "exit_signal", r->exit_signal);
        json_object_object_add(o, "timed_out", json_object_new_boolean(r->timed_out));
        json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
        add_str(o, "message", r->message);
        if (r->balloon_actual)
                add_int(o, "balloon_actual", (int64_t)r->balloon_actual);
        add_str(o, "saved_to", r->saved_to);
        add_str(o, "migrated_to", r->migrated_to);

        rc = state_write_file(rundir, VM_RUNDIR_STATUS, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY),
                              err);
        json_object_put(o);
        return rc;
}

static int64_t get_int(json_object *o, const char *k, int64_t def)
{
        json_object *v;

        return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                                                                             : def;
}

/* A pid a kill() may be aimed at: 1..INT32_MAX, else 0 (none). Never -1
 * (every process), never 2^32 + 1 cut down to 1. */
static pid_t get_pid(json_object *o, const char *k)
{
        int64_t v = get_int(o, k, 0);

        return v > 0 && v <= INT32_MAX ? (pid_t)v : 0;
}

static int get_int32(json_object *o, const char *k, int def)
{
        int64_t v = get_int(o, k, def);

        return v >= INT32_MIN && v <= INT32_MAX ? (int)v : def;
}

static bool get_bool(json_object *o, const char *k)
{
        json_object *v;

        return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

static char *get_str(json_object *o, const char *k)
{
        json_object *v;

        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return strdup(json_object_get_string(v));
}

int vm_record_read(const char *rundir, struct vm_record *ret, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct vm_record r;
        json_object *o, *v;
        int rc;

        if (!(path = path_join(rundir, VM_RUNDIR_STATUS)))
                return qc_err_sys(err, ENOMEM, "status record");
        rc = read_state_file(rundir, VM_RUNDIR_STATUS, 1 << 20, &text, err);
        if (rc == -ENOENT)
                return qc_err_set(err, ENOENT, "no status record in %s", rundir);
        if (rc < 0)
                return -1;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return qc_err_set(err, EINVAL, "%s: not a status record (not a JSON object)", path);
        }
        vm_record_init(&r);
        r.state = json_object_object_get_ex(o, "state", &v) && json_object_is_type(v, json_type_string)
                          ? vm_state_from_string(json_object_get_string(v))
                          : _VM_STATE_INVALID;
        if (r.state == _VM_STATE_INVALID) {
                json_object_put(o);
                return qc_err_set(err, EINVAL, "%s: no valid \"state\"", path);
        }
        r.qemu_pid = get_pid(o, "qemu_pid");
        r.qemu_start = (uint64_t)get_int(o, "qemu_start", 0);
        r.supervisor_pid = get_pid(o, "supervisor_pid");
        r.supervisor_start = (uint64_t)get_int(o, "supervisor_start", 0);
        r.foreground = get_bool(o, "foreground");
        r.started_at = get_int(o, "started_at", 0);
        r.ended_at = get_int(o, "ended_at", 0);
        r.shutdown_reason = get_str(o, "shutdown_reason");
        r.shutdown_by_guest = get_bool(o, "shutdown_by_guest");
        r.panicked = get_bool(o, "panicked");
        r.exit_status = get_int32(o, "exit_status", -1);
        r.exit_signal = get_int32(o, "exit_signal", 0);
        r.timed_out = get_bool(o, "timed_out");
        r.interrupted = get_bool(o, "interrupted");
        r.message = get_str(o, "message");
        r.balloon_actual = (uint64_t)get_int(o, "balloon_actual", 0);
        r.saved_to = get_str(o, "saved_to");
        r.migrated_to = get_str(o, "migrated_to");
        json_object_put(o);
        *ret = r;
        return 0;
}

char *vm_record_describe_end(const struct vm_record *r)
{
        char *s = NULL;
        const char *how;

        if (r->state == VM_STATE_FAILED)
                return strdup("QEMU refused to start");
        if (vm_state_is_active(r->state))
                return strdup("still running");
        /* virsh's "shut off (saved)": where the VM is now, and how it comes back */
        if (r->saved_to && r->state == VM_STATE_ENDED) {
                if (asprintf(&s, "saved to %s by qemuctl save; `qemuctl start --restore %s` goes on from there",
                             r->saved_to, r->saved_to) < 0)
                        s = NULL;
                return s;
        }
        /* the VM runs on: not here */
        if (r->migrated_to && r->state == VM_STATE_ENDED) {
                if (asprintf(&s, "migrated to %s by qemuctl migrate; the far side runs it now", r->migrated_to) < 0)
                        s = NULL;
                return s;
        }
        if (r->panicked)
                how = "the guest panicked";
        else if (r->timed_out)
                how = "timed out, stopped by qemuctl run";
        else if (r->interrupted)
                how = "interrupted, stopped by qemuctl run";
        else if (r->exit_signal)
                how = "QEMU was killed";
        else if (r->shutdown_reason && strcmp(r->shutdown_reason, "guest-shutdown") == 0)
                how = "powered off by the guest";
        else if (r->shutdown_reason && strcmp(r->shutdown_reason, "host-qmp-quit") == 0)
                how = "quit over QMP";
        else if (r->shutdown_reason && strcmp(r->shutdown_reason, "host-signal") == 0)
                how = "QEMU got a termination signal";
        else if (r->shutdown_reason && strcmp(r->shutdown_reason, "guest-panic") == 0)
                how = "the guest panicked";
        else if (r->shutdown_reason)
                how = r->shutdown_reason;
        else if (r->exit_status > 0 && (r->exit_status & 1))
                how = "the guest wrote to isa-debug-exit";
        else if (r->exit_status >= 0)
                how = "QEMU exited";
        else
                how = "QEMU exited while no supervisor was watching";

        if (!r->exit_signal && !r->shutdown_reason && r->exit_status > 0 && (r->exit_status & 1)) {
                /* isa-debug-exit: QEMU exits with (N << 1) | 1 */
                if (asprintf(&s, "the guest reported status %d through isa-debug-exit (QEMU exit status %d)",
                             r->exit_status >> 1, r->exit_status) < 0)
                        s = NULL;
        } else if (r->exit_signal) {
                if (asprintf(&s, "%s (signal %d, %s)", how, r->exit_signal, strsignal(r->exit_signal)) < 0)
                        s = NULL;
        } else if (r->exit_status >= 0) {
                if (asprintf(&s, "%s (exit status %d)", how, r->exit_status) < 0)
                        s = NULL;
        } else {
                s = strdup(how);
        }
        return s;
}

void vm_record_refresh(struct vm_record *r)
{
        if (!vm_state_is_active(r->state))
                return;
        if (r->qemu_pid > 0 && proc_alive(r->qemu_pid, r->qemu_start))
                return;
        /* A live supervisor will write the end itself in a moment, unless QEMU
         * never got that far. */
        if (r->supervisor_pid > 0 && proc_alive(r->supervisor_pid, r->supervisor_start))
                return;
        r->state = r->qemu_pid > 0 ? VM_STATE_ENDED : VM_STATE_FAILED;
        if (!r->message)
                r->message = strdup(r->qemu_pid > 0 ? "QEMU exited while no supervisor was watching; how is unknown"
                                                    : "the supervisor died before QEMU started");
}

int vm_record_write_end(const char *rundir, const struct vm_record *r, struct qc_err *err)
{
        /* the dead sockets go first: whoever reads the end finds none
         * (the supervisor's order too) */
        state_remove_sockets(rundir);
        return vm_record_write(rundir, r, err);
}

int vm_record_wait_end(const char *rundir, int timeout_ms, const struct vm_end_note *note, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;
        useconds_t nap = 1000;

        for (;;) {
                struct vm_record r;
                int rc;

                if (vm_record_read(rundir, &r, err) < 0)
                        return -1;
                if (!vm_state_is_active(r.state)) {
                        vm_record_done(&r);
                        return 0;
                }
                vm_record_refresh(&r);
                if (!vm_state_is_active(r.state)) {
                        /* QEMU and its supervisor are gone: nobody else will.
                         * The caller ended QEMU just now, so it knows how and when. */
                        if (note) {
                                r.ended_at = unix_ms();
                                r.exit_signal = note->exit_signal;
                                free(r.shutdown_reason);
                                r.shutdown_reason = note->shutdown_reason ? strdup(note->shutdown_reason) : NULL;
                                free(r.message);
                                r.message = note->message ? strdup(note->message) : NULL;
                                free(r.saved_to);
                                r.saved_to = note->saved_to ? strdup(note->saved_to) : NULL;
                                free(r.migrated_to);
                                r.migrated_to = note->migrated_to ? strdup(note->migrated_to) : NULL;
                        }
                        rc = vm_record_write_end(rundir, &r, err);
                        vm_record_done(&r);
                        return rc;
                }
                pid_t sup = r.supervisor_pid;
                vm_record_done(&r);
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT,
                                          "the supervisor (pid %d) has not recorded the end within %d ms",
                                          (int)sup, timeout_ms);
                /* the supervisor writes within a few ms of QEMU's exit */
                usleep(nap);
                if (nap < 50 * 1000)
                        nap *= 2;
        }
}

int vm_record_wait_state(const char *rundir, enum vm_state want, int timeout_ms, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;
        useconds_t nap = 1000;

        for (;;) {
                struct vm_record r;
                enum vm_state st;

                if (vm_record_read(rundir, &r, err) < 0)
                        return -1;
                st = r.state;
                vm_record_done(&r);
                if (st == want)
                        return 1;
                if (!vm_state_is_active(st) || now_ms() >= deadline)
                        return 0;
                /* the supervisor writes within a few ms of QEMU's event */
                usleep(nap);
                if (nap < 50 * 1000)
                        nap *= 2;
        }
}

int vm_end_note_leave(const char *rundir, const struct vm_end_note *note, struct qc_err *err)
{
        json_object *o = json_object_new_object();
        int rc;

        if (!o)
                return qc_err_sys(err, ENOMEM, "end note");
        add_str(o, "saved_to", note->saved_to);
        add_str(o, "migrated_to", note->migrated_to);
        /* who left it: a note whose verb died before its quit (Ctrl-C
         * between the two) must not speak for a later end of this run */
        add_int(o, "pid", getpid());
        add_int(o, "pid_start", (int64_t)proc_start_time(getpid()));
        rc = state_write_file(rundir, VM_RUNDIR_END_NOTE, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY),
                              err);
        json_object_put(o);
        return rc;
}

void vm_end_note_drop(const char *rundir)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, NULL);

        if (dfd >= 0)
                unlinkat(dfd, VM_RUNDIR_END_NOTE, 0);
}

int vm_end_note_take(const char *rundir, struct vm_record *r)
{
        _cleanup_free_ char *text = NULL;
        json_object *o;
        char *saved = NULL, *migrated = NULL;

        /* a QMP quit, or a clean exit whose SHUTDOWN event QEMU did not
         * get out before it was gone (a quit's reply goes first; its
         * event may be lost with the socket) */
        bool quit = r->shutdown_reason ? strcmp(r->shutdown_reason, "host-qmp-quit") == 0
                                       : r->exit_status == 0 && !r->exit_signal;

        if (!quit || read_state_file(rundir, VM_RUNDIR_END_NOTE, 1 << 16, &text, NULL) < 0)
                return 0;
        o = json_tokener_parse(text);
        if (o && json_object_is_type(o, json_type_object) &&
            proc_alive((pid_t)get_int(o, "pid", 0), (uint64_t)get_int(o, "pid_start", 0))) {
                saved = get_str(o, "saved_to");
                migrated = get_str(o, "migrated_to");
        }
        json_object_put(o);
        if (!saved && !migrated)
                return 0;
        free(r->saved_to);
        r->saved_to = saved;
        free(r->migrated_to);
        r->migrated_to = migrated;
        return 1;
}

static void read_holder(int fd, char *buf, size_t len)
{
        ssize_t n = pread(fd, buf, len - 1, 0);

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}

int state_lock(const char *rundir, const char *name, const char *verb, int timeout_ms, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        char holder[128];
        int len;

        if (!(path = path_join(rundir, VM_RUNDIR_LOCK)))
                return qc_err_sys(err, ENOMEM, "lock");
        fd = state_open_file(rundir, VM_RUNDIR_LOCK, O_RDWR | O_CREAT, 0600, err);
        if (fd < 0)
                return qc_err_wrap(err, "VM `%s`", name);
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return qc_err_sys(err, errno, "VM `%s`: lock %s", name, path);
                if (now_ms() >= deadline) {
                        read_holder(fd, holder, sizeof holder);
                        int pid = 0, off = 0;
                        if (sscanf(holder, "%d %n", &pid, &off) >= 1 && pid > 0)
                                return qc_err_set(err, EBUSY,
                                                  "another qemuctl command (pid %d, `%s`) holds VM `%s`; try again "
                                                  "when it is done (or wait longer with --lock-timeout)",
                                                  pid, holder + off, name);
                        return qc_err_set(err, EBUSY, "another qemuctl command holds VM `%s`; try again", name);
                }
                usleep(20 * 1000);
        }
        len = snprintf(holder, sizeof holder, "%d %s\n", (int)getpid(), verb ? verb : "?");
        if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, (size_t)len, 0) != len)
                return qc_err_sys(err, errno, "VM `%s`: write %s", name, path);
        return TAKE_FD(fd);
}

/* A directory stream on a copy of dfd (closedir leaves dfd open); NULL with errno. */
static DIR *opendir_fd(int dfd)
{
        int fd = dup(dfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

        if (!d && fd >= 0) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return d;
}

/* Everything a previous run left, but the lock file: a waiter may hold an
 * fd on it, and a new file would give two holders of "the" lock. */
static int clear_rundir(const char *rundir, int dfd, struct qc_err *err)
{
        DIR *d = opendir_fd(dfd);
        struct dirent *de;

        if (!d)
                return qc_err_sys(err, errno, "open %s", rundir);
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    strcmp(de->d_name, VM_RUNDIR_LOCK) == 0)
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        int e = errno == EISDIR ? -remove_dir_flat_at(dirfd(d), de->d_name) : errno;

                        if (e == 0)
                                continue;
                        closedir(d);
                        return qc_err_sys(err, e, "remove %s/%s", rundir, de->d_name);
                }
        }
        closedir(d);
        return 0;
}

int state_remove(const char *rundir, struct qc_err *err)
{
        _cleanup_close_ int dfd = state_dir_open(rundir, false, err);

        if (dfd < 0)
                return -1;
        if (clear_rundir(rundir, dfd, err) < 0)
                return -1;
        if (unlinkat(dfd, VM_RUNDIR_LOCK, 0) < 0 && errno != ENOENT)
                return qc_err_sys(err, errno, "remove %s/%s", rundir, VM_RUNDIR_LOCK);
        if (rmdir(rundir) < 0 && errno != ENOENT)
                return qc_err_sys(err, errno, "remove %s", rundir);
        return 0;
}

int state_prepare(const char *name, const char *verb, int lock_timeout_ms, char **ret_rundir, struct qc_err *err)
{
        _cleanup_free_ char *rundir = NULL;
        _cleanup_close_ int lock = -1, dfd = -1;
        struct vm_record r;
        struct stat st;
        int rc;

        if (vm_rundir(name, &rundir, err) < 0)
                return -1;
        dfd = state_dir_open(rundir, true, err);
        if (dfd < 0)
                return -1;
        /* ours, and nobody else may write it; nobody else may read it either */
        if (fstat(dfd, &st) < 0)
                return qc_err_sys(err, errno, "state dir %s", rundir);
        if ((st.st_mode & 07777) != 0700 && fchmod(dfd, 0700) < 0)
                return qc_err_sys(err, errno, "chmod 0700 %s", rundir);
        lock = state_lock(rundir, name, verb, lock_timeout_ms, err);
        if (lock < 0)
                return -1;
        struct qc_err e = { 0 };
        rc = vm_record_read(rundir, &r, &e);
        if (rc == 0 && vm_state_is_active(r.state) && r.qemu_pid > 0 && !proc_alive(r.qemu_pid, r.qemu_start)) {
                /* QEMU has ended (a guest that powered off a moment ago) and
                 * its supervisor is tidying up before it records the end:
                 * wait for that record rather than call the VM running
                 * (the supervisor takes no lock to write it) */
                vm_record_done(&r);
                (void)vm_record_wait_end(rundir, 20000, NULL, NULL);
                rc = vm_record_read(rundir, &r, &e);
        }
        if (rc == 0) {
                vm_record_refresh(&r);
                bool alive = vm_state_is_active(r.state);
                pid_t pid = r.qemu_pid;
                vm_record_done(&r);
                if (alive)
                        return qc_err_set(err, EEXIST,
                                          "VM `%s` is already running (QEMU pid %d); stop it first "
                                          "(qemuctl stop %s) or pick another name",
                                          name, (int)pid, name);
        } else if (e.code != ENOENT) {
                /* an unreadable record: stale, unless the QEMU it lost track of still runs */
                pid_t pid = state_orphan_qemu(rundir, name);
                if (pid > 0)
                        return qc_err_set(err, EEXIST,
                                          "VM `%s` has an unusable status record (%s), but its QEMU (pid %d) "
                                          "still runs; end it (kill %d), then start again",
                                          name, e.msg, (int)pid, (int)pid);
        }
        if (clear_rundir(rundir, dfd, err) < 0)
                return -1;
        *ret_rundir = TAKE_PTR(rundir);
        return TAKE_FD(lock);
}

int state_list_names(char ***ret, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL;
        _cleanup_strv_ strv names = { 0 };
        _cleanup_close_ int bfd = -1;
        DIR *d = NULL;
        struct dirent *de;

        if (vm_rundir_base(&base, err) < 0)
                return -1;
        bfd = state_base_open(base, false, err);
        if (bfd < 0 && err && err->code != ENOENT)
                return -1;
        if (bfd >= 0 && !(d = opendir_fd(bfd)))
                return qc_err_sys(err, errno, "open %s", base);
        qc_err_clear(err);
        while (d && (de = readdir(d))) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (!vm_name_is_valid(de->d_name) || fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode))
                        continue;
                if (strv_push(&names, de->d_name) < 0) {
                        closedir(d);
                        return qc_err_sys(err, ENOMEM, "list VMs");
                }
        }
        if (d)
                closedir(d);
        strv_sort(&names);
        *ret = strv_steal(&names);
        if (!*ret)
                return qc_err_sys(err, ENOMEM, "list VMs");
        return 0;
}

/* Process pid runs with -name guest=NAME,... on its command line: QEMU of
 * VM NAME (cmdline.c writes it so). */
static bool proc_is_qemu_of(pid_t pid, const char *name)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *guest = NULL;
        size_t len;

        if (asprintf(&path, "/proc/%d/cmdline", (int)pid) < 0 || asprintf(&guest, "guest=%s,", name) < 0)
                return false;
        if (read_file(path, 1 << 20, &text, &len) < 0)
                return false;
        /* NUL-separated arguments: look for "-name" "guest=NAME,..." */
        for (size_t off = 0; off < len; off += strlen(text + off) + 1)
                if (strcmp(text + off, "-name") == 0 && off + 6 < len &&
                    strncmp(text + off + 6, guest, strlen(guest)) == 0)
                        return true;
        return false;
}

pid_t state_orphan_qemu(const char *rundir, const char *name)
{
        pid_t pid;

        if (state_read_pid(rundir, VM_RUNDIR_QEMU_PID, &pid) < 0 || !proc_alive(pid, 0) ||
            !proc_is_qemu_of(pid, name))
                return 0;
        return pid;
}

int vm_qemu_check(pid_t pid, uint64_t start, const char *name, struct qc_err *err)
{
        struct proc_stat ps;

        if (pid <= 0)
                return qc_err_set(err, ESRCH, "VM `%s` has no QEMU pid on record", name);
        if (start == 0)
                return qc_err_set(err, EPERM, "the record of VM `%s` names pid %d as its QEMU without its start "
                                  "time, so nothing proves that process is the VM's QEMU: qemuctl sends it no "
                                  "signal; if it is, end it yourself (kill %d)", name, (int)pid, (int)pid);
        if (proc_stat_read(pid, 0, &ps) < 0 || ps.state == 'Z' || ps.state == 'X' || ps.state == 'x')
                return qc_err_set(err, ESRCH, "QEMU of VM `%s` (pid %d) is gone", name, (int)pid);
        if (ps.start != start)
                return qc_err_set(err, ESRCH, "QEMU of VM `%s` (pid %d) is gone: pid %d is another process now "
                                  "(it started at tick %llu, QEMU at %llu)", name, (int)pid, (int)pid,
                                  (unsigned long long)ps.start, (unsigned long long)start);
        if (!proc_is_qemu_of(pid, name))
                return qc_err_set(err, EPERM, "pid %d is not QEMU of VM `%s` (its command line has no -name "
                                  "guest=%s): the VM's record is wrong, and qemuctl sends that process no "
                                  "signal; end the VM's QEMU yourself if one runs, then remove its state dir",
                                  (int)pid, name, name);
        return 0;
}

int vm_qemu_signal(pid_t pid, uint64_t start, const char *name, int sig, struct qc_err *err)
{
        /* a pidfd holds on to the process checked below: should it exit and
         * its pid be reused before the signal, the signal fails (ESRCH)
         * instead of reaching the newcomer */
        _cleanup_close_ int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
        int r;

        if (pidfd < 0 && errno == ESRCH)
                return qc_err_set(err, ESRCH, "QEMU of VM `%s` (pid %d) is gone", name, (int)pid);
        if (vm_qemu_check(pid, start, name, err) < 0)
                return -1;
        /* kernels before 5.3 have no pidfds: there the window stays */
        r = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) : kill(pid, sig);
        if (r < 0)
                return errno == ESRCH ? qc_err_set(err, ESRCH, "QEMU of VM `%s` (pid %d) is gone", name, (int)pid)
                                      : qc_err_sys(err, errno, "signal %d to QEMU of VM `%s` (pid %d)", sig, name,
                                                   (int)pid);
        return 0;
}

int state_write_pid(const char *rundir, const char *file, pid_t pid, struct qc_err *err)
{
        char buf[32];

        snprintf(buf, sizeof buf, "%d\n", (int)pid);
        return state_write_file(rundir, file, buf, err);
}

int state_read_pid(const char *rundir, const char *file, pid_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int rc, pid;

        rc = read_state_file(rundir, file, 64, &text, NULL);
        if (rc < 0)
                return rc == -ENOENT ? rc : -EPERM;
        if (sscanf(text, "%d", &pid) != 1 || pid <= 0)
                return -EINVAL;
        *ret = pid;
        return 0;
}

char *vm_agent_socket(const char *rundir, const struct vm_record *rec)
{
        _cleanup_free_ char *relay = path_join(rundir, VM_RUNDIR_AGENT_RELAY);
        struct stat st;

        if (!relay)
                return NULL;
        if (rec && proc_alive(rec->supervisor_pid, rec->supervisor_start) && lstat(relay, &st) == 0 &&
            S_ISSOCK(st.st_mode))
                return TAKE_PTR(relay);
        return path_join(rundir, VM_RUNDIR_AGENT);
}
