/* launcher/spawn (clean env, only fds 0-2 and the passed ones, placement and
 * dropped privileges before exec, exec errors) and `run`'s exit code for
 * each way a VM can end. QEMU itself is exercised by
 * tests/integration/lifecycle-*.sh. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/cleanup.h"
#include "launcher/privs.h"
#include "launcher/spawn.h"
#include "launcher/supervisor.h"
#include "launcher/paths.h"
#include "tests/lib/fakeqmp.h"
#include "tests/tap.h"

static char *run_capture(char *const argv[], int (*place)(pid_t, void *, struct qc_err *), void *ud, int *ret_status)
{
        struct qc_err err = { 0 };
        int p[2];
        pid_t pid;
        char *buf = calloc(1, 65536);
        size_t len = 0;
        ssize_t n;

        if (!buf || pipe2(p, O_CLOEXEC) < 0)
                return NULL;
        struct spawn_opts o = { .argv = argv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = p[1],
                                .place = place, .userdata = ud };
        if (spawn_process(&o, &pid, &err) < 0) {
                tap_diag("spawn: %s", err.msg);
                close(p[0]);
                close(p[1]);
                free(buf);
                return NULL;
        }
        close(p[1]);
        while ((n = read(p[0], buf + len, 65535 - len)) > 0)
                len += (size_t)n;
        close(p[0]);
        waitpid(pid, ret_status, 0);
        return buf;
}

static int place_check(pid_t pid, void *ud, struct qc_err *err)
{
        char path[64], exe[4096] = "", self[4096] = "";
        ssize_t n;

        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
        n = readlink(path, exe, sizeof exe - 1);
        if (n > 0)
                exe[n] = '\0';
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0)
                self[n] = '\0';
        /* still our own image: the child has not exec'd yet */
        *(int *)ud = strcmp(exe, self) == 0 ? 1 : 2;
        return 0;
}

static int place_fail(pid_t pid, void *ud, struct qc_err *err)
{
        return qc_err_set(err, EPERM, "no cgroup for you");
}

static void test_spawn(void)
{
        struct qc_err err = { 0 };
        int st = -1, placed = 0, leak;
        pid_t pid;

        setenv("QEMUCTL_SECRET", "x", 1);
        char *env_argv[] = { "env", NULL };
        _cleanup_free_ char *env = run_capture(env_argv, place_check, &placed, &st);
        ok(env && WIFEXITED(st) && WEXITSTATUS(st) == 0, "env ran (looked up in SPAWN_PATH)");
        ok(env && strstr(env, "PATH=" SPAWN_PATH "\n"), "child PATH is ours");
        ok(env && !strstr(env, "QEMUCTL_SECRET"), "no inherited environment");
        is_int(placed, 1, "place hook ran before exec");

        /* an fd without O_CLOEXEC must still not reach the child */
        leak = open("/dev/null", O_RDONLY);
        char *ls_argv[] = { "ls", "/proc/self/fd", NULL };
        _cleanup_free_ char *fds = run_capture(ls_argv, NULL, NULL, &st);
        ok(fds && strcmp(fds, "0\n1\n2\n3\n") == 0, "child has fds 0-2 only (3 is ls's own dir): %s",
           fds ? fds : "(null)");
        close(leak);

        char *umask_argv[] = { "sh", "-c", "umask", NULL };
        _cleanup_free_ char *um = run_capture(umask_argv, NULL, NULL, &st);
        ok(um && strcmp(um, "0077\n") == 0, "umask 077 in the child: %s", um ? um : "(null)");

        char *none_argv[] = { "qemuctl-no-such-binary", NULL };
        struct spawn_opts o = { .argv = none_argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
        ok(spawn_process(&o, &pid, &err) < 0 && err.code == ENOENT, "missing binary: %s", err.msg);

        /* executable bits but no executable format: exec itself fails, and
         * the child's errno comes back over the error pipe */
        char bogus[] = "/tmp/qemuctl-test-noexec-XXXXXX";
        int bfd = mkstemp(bogus);
        ok(bfd >= 0 && write(bfd, "\x01\x02\x03\x04", 4) == 4 && fchmod(bfd, 0755) == 0, "bogus binary");
        close(bfd);
        char *noexec_argv[] = { bogus, NULL };
        o.argv = noexec_argv;
        qc_err_clear(&err);
        ok(spawn_process(&o, &pid, &err) < 0 && err.code == ENOEXEC, "exec failure reported: %s", err.msg);
        unlink(bogus);

        char *true_argv[] = { "true", NULL };
        o.argv = true_argv;
        o.place = place_fail;
        qc_err_clear(&err);
        ok(spawn_process(&o, &pid, &err) < 0 && strstr(err.msg, "no cgroup for you"),
           "placement failure fails the spawn: %s", err.msg);
        ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "and the child was reaped");
}

/* Passed fds arrive as 3, 4, ... and privileges are dropped right before
 * exec: QEMU's way when security.user is set. */
static void test_spawn_privs(void)
{
        struct qc_err err = { 0 };
        struct privs pv = { 0 };
        int p[2], keep1, keep2, st = -1;
        pid_t pid;
        char buf[8192] = "";
        size_t len = 0;
        ssize_t n;

        if (geteuid() != 0 || privs_resolve("nobody", NULL, &pv, &err) < 0) {
                ok(1, "spawn with privileges dropped # SKIP needs root and a user nobody (%s)", err.msg);
                return;
        }
        keep1 = open("/dev/null", O_RDONLY | O_CLOEXEC);
        keep2 = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ok(keep1 >= 0 && keep2 >= 0 && pipe2(p, O_CLOEXEC) == 0, "fds to pass");
        int pass[] = { keep2, keep1 };
        /* a shell, so the listing shows what the program itself got (ls's
         * own directory fd comes after) */
        char *argv[] = { "sh", "-c",
                         "grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs):' /proc/self/status | tr -s '\t' ' ';"
                         "readlink /proc/self/fd/3 /proc/self/fd/4; ls /proc/$$/fd | tr '\n' ' '; echo; umask",
                         NULL };
        struct spawn_opts o = { .argv = argv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = p[1],
                                .pass_fds = pass, .n_pass_fds = 2, .privs = &pv };
        ok(spawn_process(&o, &pid, &err) == 0, "spawn as nobody (%s)", err.msg);
        close(p[1]);
        while (len < sizeof buf - 1 && (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t)n;
        close(p[0]);
        waitpid(pid, &st, 0);
        tap_diag("child said: %s", buf);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child ran");
        ok(strstr(buf, "Uid: 65534 65534 65534 65534\n") != NULL, "runs as nobody");
        ok(strstr(buf, "CapEff: 0000000000000000\n") && strstr(buf, "CapBnd: 0000000000000000\n"),
           "no capabilities, empty bounding set");
        ok(strstr(buf, "NoNewPrivs: 1\n") != NULL, "no_new_privs");
        /* /proc/self/status read through fd 3 would be the child's; the
         * link names the file */
        ok(strstr(buf, "/proc/") && strstr(buf, "/status\n/dev/null\n"), "passed fds are 3 and 4, in order");
        ok(strstr(buf, "\n0 1 2 255 3 4 \n") || strstr(buf, "\n0 1 2 3 4 \n"), "nothing else was inherited");
        ok(strstr(buf, "0077\n") != NULL, "umask 077");
        close(keep1);
        close(keep2);

        privs_done(&pv);

        char *true_argv[] = { "true", NULL };
        int many[SPAWN_MAX_PASS_FDS + 1] = { 0 };
        struct spawn_opts o2 = { .argv = true_argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                                 .pass_fds = many, .n_pass_fds = SPAWN_MAX_PASS_FDS + 1 };
        qc_err_clear(&err);
        ok(spawn_process(&o2, &pid, &err) < 0 && err.code == E2BIG, "too many fds refused: %s", err.msg);
}

static struct vm_record rec(enum vm_state s, const char *reason, int status, int sig)
{
        struct vm_record r;

        vm_record_init(&r);
        r.state = s;
        r.shutdown_reason = (char *)reason;
        r.exit_status = status;
        r.exit_signal = sig;
        return r;
}

static void test_exit_codes(void)
{
        struct vm_record r;

        r = rec(VM_STATE_ENDED, "guest-shutdown", 0, 0);
        is_int(supervisor_exit_code(&r), RUN_EXIT_POWEROFF, "guest poweroff -> 0");
        r = rec(VM_STATE_FAILED, NULL, 1, 0);
        is_int(supervisor_exit_code(&r), RUN_EXIT_REFUSED, "QEMU refused -> 3");
        r = rec(VM_STATE_ENDED, "guest-panic", 0, 0);
        r.panicked = true;
        is_int(supervisor_exit_code(&r), RUN_EXIT_PANIC, "guest panic -> 4");
        r = rec(VM_STATE_CRASHED, NULL, -1, SIGKILL);
        is_int(supervisor_exit_code(&r), RUN_EXIT_CRASH, "QEMU killed -> 5");
        r = rec(VM_STATE_CRASHED, NULL, 2, 0);
        is_int(supervisor_exit_code(&r), RUN_EXIT_CRASH, "QEMU error exit -> 5");
        r = rec(VM_STATE_ENDED, "host-qmp-quit", 0, 0);
        is_int(supervisor_exit_code(&r), RUN_EXIT_EXTERNAL, "quit from outside -> 6");
        r = rec(VM_STATE_ENDED, "host-qmp-system-reset", 0, 0);
        r.timed_out = true;
        is_int(supervisor_exit_code(&r), RUN_EXIT_TIMEOUT, "timeout -> 124");
        r = rec(VM_STATE_ENDED, "guest-shutdown", 0, 0);
        r.interrupted = true;
        is_int(supervisor_exit_code(&r), RUN_EXIT_INTERRUPT, "interrupted -> 130");
        r = rec(VM_STATE_ENDED, NULL, (42 << 1) | 1, 0);
        is_int(supervisor_exit_code(&r), 42, "isa-debug-exit 42 -> 42");
        r = rec(VM_STATE_ENDED, NULL, 1, 0);
        is_int(supervisor_exit_code(&r), 0, "isa-debug-exit 0 -> 0");
}

/* The "0::/path" line of a /proc/PID/cgroup text: the cgroup2 membership. */
static void v2_line(const char *text, char *out, size_t size)
{
        const char *l = text ? strstr(text, "0::") : NULL;

        while (l && l != text && l[-1] != '\n')
                l = strstr(l + 1, "0::");
        snprintf(out, size, "%.*s", l ? (int)strcspn(l, "\n") : 0, l ? l : "");
}

/* place runs once the child is in its cgroup: what /proc/PID/cgroup says then */
static int place_cgroup(pid_t pid, void *ud, struct qc_err *err)
{
        char path[64], buf[4096] = "";
        int fd;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        v2_line(n > 0 ? buf : "", ud, 256);
        return 0;
}

/* The program spawn execs names the cgroup it runs in: the one it was born
 * in (clone3), or, with clone3 hidden, the one the parent moved it into. */
static int spawn_in_cgroup(int cgroup_fd, char *seen_by_place, char *seen_by_child, size_t size)
{
        struct qc_err err = { 0 };
        char *argv[] = { "cat", "/proc/self/cgroup", NULL };
        struct spawn_opts o = { .argv = argv, .stdin_fd = -1, .stderr_fd = -1, .into_cgroup = true,
                                .cgroup_fd = cgroup_fd, .place = place_cgroup, .userdata = seen_by_place };
        char buf[4096] = "";
        size_t len = 0;
        ssize_t n;
        int p[2], st;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        o.stdout_fd = p[1];
        if (spawn_process(&o, &pid, &err) < 0) {
                snprintf(seen_by_child, size, "spawn failed: %.200s", err.msg);
                close(p[0]);
                close(p[1]);
                return -1;
        }
        close(p[1]);
        while (len < sizeof buf - 1 && (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t)n;
        close(p[0]);
        waitpid(pid, &st, 0);
        v2_line(buf, seen_by_child, size);
        return 0;
}

/* clone3 returns ENOSYS from here on in this process (as under an old
 * kernel, or a seccomp policy that hides it). */
static int hide_clone3(void)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void test_spawn_cgroup(void)
{
        struct qc_err err = { 0 };
        struct cg_hier *h = NULL;
        struct cg_vm *vm = NULL;
        char name[32], want[512], placed[256] = "", seen[256] = "";
        int p[2], st = -1;
        pid_t pid = -1;

        snprintf(name, sizeof name, "tspawn%d", (int)getpid());
        if (geteuid() != 0 || cg_hier_open(NULL, &h, &err) < 0 ||
            cg_vm_create(h, "qemuctl", name, 0, 0, &vm, &err) < 0) {
                ok(1, "spawn into a cgroup # SKIP needs root and a writable cgroup2 (%s)", err.msg);
                cg_hier_free(h);
                return;
        }
        snprintf(want, sizeof want, "0::%s/emulator", cg_vm_path(vm) + strlen(cg_hier_path(h)));

        ok(spawn_in_cgroup(cg_vm_emulator_fd(vm), placed, seen, sizeof seen) == 0, "spawn into %s", want + 3);
        is_str(seen, want, "the exec'd program runs in emulator/");
        is_str(placed, want, "place ran with the child already there");

        /* the fallback: fork, and the parent writes cgroup.procs */
        if (pipe2(p, O_CLOEXEC) == 0 && (pid = fork()) == 0) {
                char a[256] = "", b[256] = "", out[600];
                int r = hide_clone3() < 0 ? -2 : spawn_in_cgroup(cg_vm_emulator_fd(vm), a, b, sizeof b);

                snprintf(out, sizeof out, "%d|%s|%s", r, a, b);
                (void)!write(p[1], out, strlen(out));
                _exit(0);
        }
        close(p[1]);
        char got[600] = "", expect[1200];
        ssize_t n = read(p[0], got, sizeof got - 1);
        close(p[0]);
        waitpid(pid, &st, 0);
        got[n > 0 ? n : 0] = '\0';
        snprintf(expect, sizeof expect, "0|%s|%s", want, want);
        is_str(got, expect, "without clone3 (ENOSYS): moved before place and before exec");

        /* a cgroup fd that is no cgroup is an error, not a silent fallback */
        int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(spawn_in_cgroup(dir, placed, seen, sizeof seen) < 0 && strstr(seen, "spawn failed"),
           "a non-cgroup fd fails the spawn: %s", seen);
        close(dir);

        ok(cg_vm_remove(vm, 2000, &err) == 0, "cgroup removed (%s)", err.msg);
        cg_vm_free(vm);
        cg_hier_free(h);
}


/* ---- a hostile QEMU: events with members of the wrong type ---- */

/* The fake QEMU (this program, re-executed by the supervisor): serves QMP
 * on RUNDIR/events.sock, answers `cont`, sends each event line given, hangs
 * up and exits 0. An argument "stderr:TEXT" prints TEXT on its stderr
 * first. */
static int fake_qemu(int argc, char **argv)
{
        struct fakeqmp *f = fakeqmp_new();
        char path[4096];
        char *log = NULL;
        int r;

        snprintf(path, sizeof path, "%s/%s", argv[2], VM_RUNDIR_EVENTS);
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"cont\"}");
        fakeqmp_reply(f, "{}");
        for (int i = 3; i < argc; i++)
                if (strncmp(argv[i], "stderr:", 7) == 0)
                        fprintf(stderr, "%s\n", argv[i] + 7);
                else
                        fakeqmp_send(f, argv[i]);
        fakeqmp_close(f);
        if (fakeqmp_listen(f, path) < 0)
                return 2;
        r = fakeqmp_finish(f, &log);
        if (r < 0)
                fprintf(stderr, "fake qemu: %s\n", log ? log : "?");
        free(log);
        fakeqmp_free(f);
        return r < 0 ? 1 : 0;
}

struct sup_cg {
        struct cg_hier *h;
        struct cg_vm *vm;
        bool removed;
        int cleanups;
        const char *rundir;
        bool active_at_cleanup; /* what status.json said while the cgroup was removed */
};

static int sup_make_cgroup(void *ud, int *ret_fd, struct qc_err *err)
{
        struct sup_cg *c = ud;

        *ret_fd = c->vm ? cg_vm_emulator_fd(c->vm) : -1;
        return 0;
}

static void sup_remove_cgroup(void *ud)
{
        struct sup_cg *c = ud;

        struct vm_record r;

        c->cleanups++;
        if (vm_record_read(c->rundir, &r, NULL) == 0) {
                c->active_at_cleanup = vm_state_is_active(r.state);
                vm_record_done(&r);
        }
        if (c->vm)
                c->removed = cg_vm_remove(c->vm, 5000, NULL) == 0;
}

/* Run the supervisor over the fake QEMU sending events[]; *ret gets the
 * record it read back from status.json. */
static int supervise_fake(const char *what, bool foreground, const char *const *events, struct vm_record *ret)
{
        static int serial;
        struct qc_err err = { 0 };
        struct sup_cg c = { 0 };
        /* the state dir inside a dir of our own: /tmp (1777) is no base */
        char base[] = "/tmp/qemuctl-tsup-XXXXXX", rundir[64], name[64], cgpath[4096] = "";
        char *argv[32] = { "/proc/self/exe", "--fake-qemu", rundir };
        size_t n = 3;
        struct vm_record rec;
        int r;

        for (size_t i = 0; events[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = (char *)events[i];
        if (!mkdtemp(base))
                return -1;
        snprintf(rundir, sizeof rundir, "%s/vm", base);
        if (mkdir(rundir, 0700) < 0)
                return -1;
        c.rundir = rundir;
        snprintf(name, sizeof name, "tsup%d-%d", (int)getpid(), serial++);
        if (geteuid() == 0 && cg_hier_open(NULL, &c.h, NULL) == 0 &&
            cg_vm_create(c.h, "qemuctl", name, 0, 0, &c.vm, NULL) == 0)
                snprintf(cgpath, sizeof cgpath, "%s", cg_vm_path(c.vm));
        struct supervisor_opts o = { .name = name, .rundir = rundir, .argv = argv, .foreground = foreground,
                                     .stdout_fd = -1, .notify_fd = -1, .stop_when_closed_fd = -1,
                                     .start_timeout_ms = 20000, .make_cgroup = sup_make_cgroup, .remove_cgroup = sup_remove_cgroup, .userdata = &c };
        r = supervisor_run(&o, &rec, &err);
        ok(r == 0, "%s: the supervisor ran to the end (%s)", what, err.msg);
        if (r == 0) {
                ok(rec.state == VM_STATE_ENDED, "%s: QEMU's exit is recorded as an end (state %s, %s)", what,
                   vm_state_to_string(rec.state), rec.message ? rec.message : "no message");
                vm_record_done(&rec);
        }
        ok(vm_record_read(rundir, ret, &err) == 0 && ret->ended_at > 0, "%s: status.json has the end (%s)", what,
           err.msg);
        is_int(c.cleanups, 1, "%s: the remove_cgroup hook ran once", what);
        /* stop, kill and `wait --for shutdown` return on the record, and a
         * start of the same name may follow: nothing of this run is left */
        ok(c.active_at_cleanup, "%s: the record said the end only once the cgroup was removed", what);
        if (c.vm) {
                struct stat st;
                ok(c.removed && stat(cgpath, &st) < 0 && errno == ENOENT, "%s: its cgroup %s is gone", what,
                   cgpath);
        } else {
                ok(1, "%s: its cgroup is gone # SKIP needs root and a writable cgroup2", what);
        }
        cg_vm_free(c.vm);
        cg_hier_free(c.h);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        (void)!system(cmd);
        return 0;
}

static void test_hostile_events(void)
{
        struct vm_record r;
        static const char *const null_reason[] = { "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": null}}",
                                                   NULL };
        static const char *const null_action[] = {
                "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": null}}", NULL
        };
        /* every member of the wrong type, and messages that are no event at
         * all; the last SHUTDOWN must still be recorded */
        static const char *const wrong[] = {
                "{\"event\": \"SHUTDOWN\", \"data\": \"guest-shutdown\"}",
                "{\"event\": \"SHUTDOWN\", \"data\": null}",
                "{\"event\": \"SHUTDOWN\"}",
                "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": 5, \"guest\": \"yes\"}}",
                "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": [\"x\"], \"guest\": null}}",
                "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": {}, \"guest\": {}}}",
                "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": 1}}",
                "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": [\"pause\"]}}",
                "{\"event\": \"GUEST_PANICKED\", \"data\": [1, 2]}",
                "{\"event\": \"STOP\", \"data\": 3, \"timestamp\": \"now\"}",
                "{\"event\": \"RESUME\", \"data\": true, \"timestamp\": null}",
                "{\"event\": 5, \"data\": {}}",
                "{\"event\": null}",
                "{\"event\": [\"SHUTDOWN\"]}",
                "{\"return\": {}, \"id\": \"x\"}",
                "[1, 2, 3]",
                "\"SHUTDOWN\"",
                "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}",
                NULL,
        };

        if (supervise_fake("SHUTDOWN reason null", false, null_reason, &r) == 0) {
                ok(r.shutdown_reason == NULL, "reason null is recorded as no reason");
                vm_record_done(&r);
        }
        if (supervise_fake("GUEST_PANICKED action null", true, null_action, &r) == 0) {
                ok(r.panicked, "the panic is recorded");
                vm_record_done(&r);
        }
        if (supervise_fake("wrong-typed members", true, wrong, &r) == 0) {
                is_str(r.shutdown_reason, "guest-shutdown", "the supervisor kept recording after garbage");
                ok(r.shutdown_by_guest, "the last SHUTDOWN's guest member is recorded");
                ok(r.panicked, "the GUEST_PANICKED events with a wrong action are still panics");
                vm_record_done(&r);
        }
}

/* A start that fails after QEMU is up (the pin_vcpus hook refuses): the
 * record has our reason and, when QEMU wrote anything, what QEMU said --
 * whatever its words (the supervisor once searched them for "said
 * nothing"). */
static int refuse_pin_vcpus(struct qmp *q, pid_t qemu_pid, void *ud, struct qc_err *err)
{
        return qc_err_set(err, EINVAL, "prepare refused the vCPUs");
}

static void test_refused_start_message(void)
{
        char base[] = "/tmp/qemuctl-tsup-XXXXXX", rundir[64], name[64];
        char *argv[] = { "/proc/self/exe", "--fake-qemu", rundir,
                         "stderr:qemu-system-x86_64: warning: the BIOS said nothing about vCPU 3", NULL };
        struct qc_err err = { 0 };
        struct vm_record rec, got;
        char cmd[128];

        if (!mkdtemp(base)) {
                ok(0, "mkdtemp");
                return;
        }
        snprintf(rundir, sizeof rundir, "%s/vm", base);
        if (mkdir(rundir, 0700) < 0) {
                ok(0, "mkdir %s", rundir);
                return;
        }
        snprintf(name, sizeof name, "tsupr%d", (int)getpid());
        struct supervisor_opts o = { .name = name, .rundir = rundir, .argv = argv, .stdout_fd = -1,
                                     .notify_fd = -1, .stop_when_closed_fd = -1, .start_timeout_ms = 20000,
                                     .pin_vcpus = refuse_pin_vcpus };
        /* the supervisor ran to its end; the failure is in the record */
        if (supervisor_run(&o, &rec, &err) == 0)
                vm_record_done(&rec);
        if (vm_record_read(rundir, &got, &err) == 0) {
                is_int(got.state, VM_STATE_FAILED, "recorded as failed");
                ok(got.message && strstr(got.message, "prepare refused the vCPUs"), "our reason: %s",
                   got.message ? got.message : "(none)");
                ok(got.message && strstr(got.message, "QEMU said: qemu-system-x86_64: warning: the BIOS said nothing"),
                   "and QEMU's words, whatever they are");
                vm_record_done(&got);
        } else {
                ok(0, "status.json: %s", err.msg);
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        (void)!system(cmd);
}

int main(int argc, char **argv)
{
        if (argc > 2 && strcmp(argv[1], "--fake-qemu") == 0)
                return fake_qemu(argc, argv);
        test_spawn();
        test_spawn_privs();
        test_spawn_cgroup();
        test_exit_codes();
        test_hostile_events();
        test_refused_start_message();
        return tap_done();
}
