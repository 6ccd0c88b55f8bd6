/* launcher/spawn (clean env, only fds 0-2 and the passed ones, placement and
 * dropped privileges before exec, exec errors) and `run`'s exit code for
 * each way a VM can end. QEMU itself is exercised by
 * tests/integration/lifecycle-*.sh. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "launcher/privs.h"
#include "launcher/spawn.h"
#include "launcher/supervisor.h"
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

int main(void)
{
        test_spawn();
        test_spawn_privs();
        test_exit_codes();
        return tap_done();
}
