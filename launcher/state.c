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
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"

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
        r->shutdown_reason = r->message = NULL;
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

int vm_record_write(const char *rundir, const struct vm_record *r, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL;
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

        if (asprintf(&path, "%s/%s", rundir, VM_RUNDIR_STATUS) < 0) {
                json_object_put(o);
                return qc_err_sys(err, ENOMEM, "status record");
        }
        rc = write_file_atomic(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY), 0600);
        json_object_put(o);
        if (rc < 0)
                return qc_err_sys(err, -rc, "write %s", path);
        return 0;
}

static int64_t get_int(json_object *o, const char *k, int64_t def)
{
        json_object *v;

        return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                                                                             : def;
}

static bool get_bool(json_object *o, const char *k)
{
        json_object *v;

        return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
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

        if (asprintf(&path, "%s/%s", rundir, VM_RUNDIR_STATUS) < 0)
                return qc_err_sys(err, ENOMEM, "status record");
        rc = read_file(path, 1 << 20, &text, NULL);
        if (rc == -ENOENT)
                return -ENOENT;
        if (rc < 0)
                return qc_err_sys(err, -rc, "read %s", path);
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return qc_err_set(err, EINVAL, "%s: not a status record (not a JSON object)", path);
        }
        vm_record_init(&r);
        r.state = json_object_object_get_ex(o, "state", &v) ? vm_state_from_string(json_object_get_string(v))
                                                            : _VM_STATE_INVALID;
        if (r.state == _VM_STATE_INVALID) {
                json_object_put(o);
                return qc_err_set(err, EINVAL, "%s: no valid \"state\"", path);
        }
        r.qemu_pid = (pid_t)get_int(o, "qemu_pid", 0);
        r.qemu_start = (uint64_t)get_int(o, "qemu_start", 0);
        r.supervisor_pid = (pid_t)get_int(o, "supervisor_pid", 0);
        r.supervisor_start = (uint64_t)get_int(o, "supervisor_start", 0);
        r.foreground = get_bool(o, "foreground");
        r.started_at = get_int(o, "started_at", 0);
        r.ended_at = get_int(o, "ended_at", 0);
        r.shutdown_reason = get_str(o, "shutdown_reason");
        r.shutdown_by_guest = get_bool(o, "shutdown_by_guest");
        r.panicked = get_bool(o, "panicked");
        r.exit_status = (int)get_int(o, "exit_status", -1);
        r.exit_signal = (int)get_int(o, "exit_signal", 0);
        r.timed_out = get_bool(o, "timed_out");
        r.interrupted = get_bool(o, "interrupted");
        r.message = get_str(o, "message");
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
        static const char *const dead[] = { VM_RUNDIR_QMP, VM_RUNDIR_EVENTS, VM_RUNDIR_CONSOLE };

        if (vm_record_write(rundir, r, err) < 0)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(dead); i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s", rundir, dead[i]) < 0)
                        p = NULL;
                else
                        unlink(p);
        }
        return 0;
}

int vm_record_wait_end(const char *rundir, int timeout_ms, const struct vm_end_note *note, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;
        useconds_t nap = 1000;

        for (;;) {
                struct vm_record r;
                int rc = vm_record_read(rundir, &r, err);

                if (rc == -ENOENT)
                        return qc_err_set(err, ENOENT, "no status record in %s", rundir);
                if (rc < 0)
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

        if (asprintf(&path, "%s/%s", rundir, VM_RUNDIR_LOCK) < 0)
                return qc_err_sys(err, ENOMEM, "lock");
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return qc_err_sys(err, errno, "VM `%s`: open %s", name, path);
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

/* Everything a previous run left, but the lock file: a waiter may hold an
 * fd on it, and a new file would give two holders of "the" lock. */
static int clear_rundir(const char *rundir, struct qc_err *err)
{
        DIR *d = opendir(rundir);
        struct dirent *de;

        if (!d)
                return qc_err_sys(err, errno, "open %s", rundir);
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    strcmp(de->d_name, VM_RUNDIR_LOCK) == 0)
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        int e = errno;
                        closedir(d);
                        return qc_err_sys(err, e, "remove %s/%s", rundir, de->d_name);
                }
        }
        closedir(d);
        return 0;
}

int state_prepare(const char *name, const char *verb, int lock_timeout_ms, char **ret_rundir, struct qc_err *err)
{
        _cleanup_free_ char *rundir = NULL;
        _cleanup_close_ int lock = -1;
        struct vm_record r;
        struct stat st;
        int rc;

        if (vm_rundir(name, &rundir, err) < 0)
                return -1;
        rc = mkdir_p(rundir, 0700);
        if (rc < 0)
                return qc_err_sys(err, -rc, "create state dir %s", rundir);
        if (lstat(rundir, &st) < 0)
                return qc_err_sys(err, errno, "state dir %s", rundir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                return qc_err_set(err, EPERM, "state dir %s is not a directory owned by us", rundir);
        if ((st.st_mode & 07777) != 0700 && chmod(rundir, 0700) < 0)
                return qc_err_sys(err, errno, "chmod 0700 %s", rundir);
        lock = state_lock(rundir, name, verb, lock_timeout_ms, err);
        if (lock < 0)
                return -1;
        rc = vm_record_read(rundir, &r, err);
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
        } else if (rc != -ENOENT) {
                /* an unreadable record: stale, unless the QEMU it lost track of still runs */
                pid_t pid = state_orphan_qemu(rundir, name);
                if (pid > 0) {
                        char why[QC_ERR_MSG_MAX];
                        snprintf(why, sizeof why, "%s", err ? err->msg : "?");
                        return qc_err_set(err, EEXIST,
                                          "VM `%s` has an unusable status record (%s), but its QEMU (pid %d) "
                                          "still runs; end it (kill %d), then start again",
                                          name, why, (int)pid, (int)pid);
                }
                qc_err_clear(err);
        }
        if (clear_rundir(rundir, err) < 0)
                return -1;
        *ret_rundir = TAKE_PTR(rundir);
        return TAKE_FD(lock);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_names(char ***ret, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL;
        _cleanup_strv_ strv names = { 0 };
        DIR *d;
        struct dirent *de;

        if (vm_rundir_base(&base, err) < 0)
                return -1;
        d = opendir(base);
        if (!d && errno != ENOENT)
                return qc_err_sys(err, errno, "open %s", base);
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *dir = NULL;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (vm_rundir(de->d_name, &dir, NULL) < 0 || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (strv_push(&names, de->d_name) < 0) {
                        closedir(d);
                        return qc_err_sys(err, ENOMEM, "list VMs");
                }
        }
        if (d)
                closedir(d);
        if (names.n)
                qsort(names.v, names.n, sizeof(char *), cmp_str);
        *ret = strv_steal(&names);
        if (!*ret)
                return qc_err_sys(err, ENOMEM, "list VMs");
        return 0;
}

pid_t state_orphan_qemu(const char *rundir, const char *name)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *guest = NULL;
        pid_t pid;
        size_t len;

        if (state_read_pid(rundir, VM_RUNDIR_QEMU_PID, &pid) < 0 || !proc_alive(pid, 0))
                return 0;
        if (asprintf(&path, "/proc/%d/cmdline", (int)pid) < 0 || asprintf(&guest, "guest=%s,", name) < 0)
                return 0;
        if (read_file(path, 1 << 20, &text, &len) < 0)
                return 0;
        /* NUL-separated arguments: look for "-name" "guest=NAME,..." */
        for (size_t off = 0; off < len; off += strlen(text + off) + 1)
                if (strcmp(text + off, "-name") == 0 && off + 6 < len &&
                    strncmp(text + off + 6, guest, strlen(guest)) == 0)
                        return pid;
        return 0;
}

int state_write_pid(const char *rundir, const char *file, pid_t pid, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL;
        char buf[32];
        int rc;

        if (asprintf(&path, "%s/%s", rundir, file) < 0)
                return qc_err_sys(err, ENOMEM, "pid file");
        snprintf(buf, sizeof buf, "%d\n", (int)pid);
        rc = write_file_atomic(path, buf, 0600);
        if (rc < 0)
                return qc_err_sys(err, -rc, "write %s", path);
        return 0;
}

int state_read_pid(const char *rundir, const char *file, pid_t *ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        int rc, pid;

        if (asprintf(&path, "%s/%s", rundir, file) < 0)
                return -ENOMEM;
        rc = read_file(path, 64, &text, NULL);
        if (rc < 0)
                return rc;
        if (sscanf(text, "%d", &pid) != 1 || pid <= 0)
                return -EINVAL;
        *ret = pid;
        return 0;
}
