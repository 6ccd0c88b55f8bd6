#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
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

#include "../cgroups/cgroups.h"
#include "../common/io.h"
#include "../common/cleanup.h"
#include "privs.h"

int spawn_find_binary(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_free_ char *path = strdup(SPAWN_PATH);
        char *save = NULL;

        if (!name || !*name)
                return qc_err_set(err, EINVAL, "no program to run");
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return qc_err_sys(err, errno, "%s", name);
                *ret = strdup(name);
                return *ret ? 0 : qc_err_sys(err, ENOMEM, "spawn");
        }
        if (!path)
                return qc_err_sys(err, ENOMEM, "spawn");
        for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char *p;
                struct stat st;

                if (!(p = path_join(dir, name)))
                        return qc_err_sys(err, ENOMEM, "spawn");
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        return qc_err_set(err, ENOENT, "%s: not found in %s (is QEMU installed? apt-get install qemu-system-x86)",
                          name, SPAWN_PATH);
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
                return;
#endif
        for (int fd = lowfd; fd < 65536; fd++)
                close(fd);
}

/* What the child sends up the error pipe when it cannot exec: errno, then
 * (optionally) a message. */
struct child_err {
        int code;
        char msg[256];
};

__attribute__((noreturn)) static void child_fail(int err_fd, int code, const char *msg)
{
        struct child_err ce = { .code = code };
        size_t len = 0;

        if (msg) {
                while (msg[len] && len < sizeof ce.msg - 1)
                        len++;
                memcpy(ce.msg, msg, len);
        }
        (void)!write(err_fd, &ce, offsetof(struct child_err, msg) + len);
        _exit(127);
}

/* Move the fds to pass to 3, 4, ... and the error pipe right after them
 * (close-on-exec); returns the error pipe's new number, or -1. */
static int arrange_fds(const struct spawn_opts *o, int err_fd)
{
        int tmp[SPAWN_MAX_PASS_FDS];
        int n = (int)o->n_pass_fds, base = spawn_passed_fd(o->n_pass_fds) + 1;

        /* first everything above the target range, so no dup2 clobbers a
         * source still needed */
        err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, base);
        if (err_fd < 0)
                return -1;
        for (int i = 0; i < n; i++) {
                tmp[i] = fcntl(o->pass_fds[i], F_DUPFD_CLOEXEC, base);
                if (tmp[i] < 0)
                        return -1;
        }
        for (int i = 0; i < n; i++)
                if (dup2(tmp[i], spawn_passed_fd((size_t)i)) < 0) /* dup2 clears close-on-exec */
                        return -1;
        /* the child's error pipe, right after the passed fds */
        if (dup2(err_fd, spawn_passed_fd((size_t)n)) < 0 || fcntl(spawn_passed_fd((size_t)n), F_SETFD, FD_CLOEXEC) < 0)
                return -1;
        return spawn_passed_fd((size_t)n);
}

/* In the child, after fork: only async-signal-safe calls from here on. */
__attribute__((noreturn)) static void child(const struct spawn_opts *o, const char *binary, char *const *envp,
                                            pid_t parent, int go_fd, int err_fd)
{
        int fds[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
        int keep[SPAWN_MAX_PASS_FDS + 1];
        struct qc_err e = { 0 };
        sigset_t all;
        char c;
        int n;

        /* The parent may have blocked or caught signals (the supervisor does);
         * QEMU must start with the defaults. */
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigemptyset(&all);
        if (o->block_term_signals) {
                sigaddset(&all, SIGTERM);
                sigaddset(&all, SIGINT);
                sigaddset(&all, SIGHUP);
        }
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (o->parent_death_signal) {
                if (prctl(PR_SET_PDEATHSIG, o->parent_death_signal) < 0)
                        child_fail(err_fd, errno, "prctl PR_SET_PDEATHSIG");
                /* the parent died before the prctl: nobody would send it */
                if (getppid() != parent)
                        child_fail(err_fd, ESRCH, "the supervisor died");
        }
        umask(077);
        if (o->new_pgrp)
                setpgid(0, 0);

        for (int i = 0; i < 3; i++) {
                if (fds[i] < 0) {
                        fds[i] = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
                        if (fds[i] < 0)
                                child_fail(err_fd, errno, "open /dev/null");
                }
        }
        /* move the sources above 2 first, so dup2 never clobbers one still needed */
        for (int i = 0; i < 3; i++) {
                if (fds[i] < 3) {
                        int nfd = fcntl(fds[i], F_DUPFD, 3);
                        if (nfd < 0)
                                child_fail(err_fd, errno, "dup");
                        fds[i] = nfd;
                }
        }
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        child_fail(err_fd, errno, "dup2");

        /* wait for the parent to place us (EOF = go, or the parent died) */
        while (read(go_fd, &c, 1) < 0 && errno == EINTR)
                ;
        n = arrange_fds(o, err_fd);
        if (n < 0)
                child_fail(err_fd, errno, "pass fds");
        err_fd = n;
        if (o->privs) {
                for (int i = 0; i <= (int)o->n_pass_fds; i++)
                        keep[i] = spawn_passed_fd((size_t)i);
                /* closes every other fd too */
                if (privs_apply(o->privs, keep, o->n_pass_fds + 1, &e) < 0)
                        child_fail(err_fd, e.code ? e.code : EPERM, e.msg);
        } else {
                close_from(err_fd + 1);
        }
        execve(binary, o->argv, envp);
        child_fail(err_fd, errno, NULL);
}

/* 0 in the child, its pid in the parent, -1 with err. *ret_move: the child
 * was not born in o->cgroup_fd and the parent must move it. */
static pid_t fork_child(const struct spawn_opts *o, bool *ret_move, struct qc_err *err)
{
        struct qc_err ce = { 0 };
        pid_t pid;

        *ret_move = false;
        if (o->into_cgroup) {
                if (cg_clone_into(o->cgroup_fd, &pid, NULL, &ce) == 0)
                        return pid;
                if (!cg_clone_unsupported(ce.code))
                        return qc_err_set(err, ce.code, "%s", ce.msg);
                *ret_move = true;
        }
        pid = fork();
        if (pid < 0)
                return qc_err_sys(err, errno, "fork");
        return pid;
}

int spawn_process(const struct spawn_opts *o, pid_t *ret_pid, struct qc_err *err)
{
        _cleanup_free_ char *binary = NULL;
        _cleanup_close_ int go_r = -1, go_w = -1, err_r = -1, err_w = -1;
        struct child_err ce = { 0 };
        int p[2];
        ssize_t n;
        pid_t pid;
        bool move = false;

        if (!o->argv || !o->argv[0])
                return qc_err_set(err, EINVAL, "no program to run");
        if (o->n_pass_fds > SPAWN_MAX_PASS_FDS)
                return qc_err_set(err, E2BIG, "at most %d fds can be passed", SPAWN_MAX_PASS_FDS);
        if (spawn_find_binary(o->argv[0], &binary, err) < 0)
                return -1;
        if (pipe2(p, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        go_r = p[0], go_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        err_r = p[0], err_w = p[1];

        pid_t parent = getpid();
        /* Our TZ, when set, is the one thing of our environment passed on:
         * it is the zone "local time" means to whoever ran qemuctl, and QEMU
         * reads it for -rtc base=localtime (else /etc/localtime). */
        const char *tz = getenv("TZ");
        _cleanup_free_ char *tz_env = NULL;

        if (tz && asprintf(&tz_env, "TZ=%s", tz) < 0)
                return qc_err_sys(err, ENOMEM, "start %s", binary);
        char *envp[] = { "PATH=" SPAWN_PATH, "LC_ALL=C", tz_env, NULL };

        pid = fork_child(o, &move, err);
        if (pid < 0)
                return qc_err_wrap(err, "start %s", binary);
        if (pid == 0) {
                close(go_w);
                close(err_r);
                child(o, binary, envp, parent, go_r, err_w);
        }
        close(go_r), go_r = -1;
        close(err_w), err_w = -1;

        if (move) {
                char buf[24];

                snprintf(buf, sizeof buf, "%d", (int)pid);
                if (cg_write(o->cgroup_fd, "cgroup.procs", buf, err) < 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return qc_err_wrap(err, "move %s into its cgroup", o->argv[0]);
                }
        }

        if (o->place && o->place(pid, o->userdata, err) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return qc_err_wrap(err, "place %s", o->argv[0]);
        }
        close(go_w), go_w = -1; /* go */

        /* EOF: exec succeeded (the pipe is close-on-exec); else the child's
         * errno and what it was doing */
        do
                n = read(err_r, &ce, sizeof ce);
        while (n < 0 && errno == EINTR);
        if (n >= (ssize_t)sizeof ce.code) {
                size_t len = (size_t)n - offsetof(struct child_err, msg);

                ce.msg[len < sizeof ce.msg ? len : sizeof ce.msg - 1] = '\0';
                waitpid(pid, NULL, 0);
                if (ce.msg[0])
                        return qc_err_sys(err, ce.code, "start %s: %s", binary, ce.msg);
                return qc_err_sys(err, ce.code, "execute %s", binary);
        }
        *ret_pid = pid;
        return 0;
}

int run_tool_output(char *const argv[], const char *package, char *out, size_t outsz, struct qc_err *err)
{
        int pipefd[2], status;
        size_t len = 0;
        ssize_t n;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return qc_err_sys(err, errno, "fork");
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(pipefd[1], STDOUT_FILENO);
                dup2(pipefd[1], STDERR_FILENO);
                execvp(argv[0], argv);
                dprintf(STDERR_FILENO, "cannot run %s: %s (install %s)", argv[0], strerror(errno), package);
                _exit(127);
        }
        close(pipefd[1]);
        while ((n = read(pipefd[0], out + len, outsz - 1 - len)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                len += (size_t)n;
                if (len == outsz - 1) {
                        char sink[256];

                        while (read(pipefd[0], sink, sizeof sink) > 0)
                                ;
                        break;
                }
        }
        close(pipefd[0]);
        out[len] = '\0';
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
                out[--len] = '\0';
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return qc_err_sys(err, errno, "waitpid %s", argv[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char cmd[512] = "";
                size_t c = 0;

                for (size_t i = 0; argv[i] && c < sizeof cmd; i++) {
                        int w = snprintf(cmd + c, sizeof cmd - c, "%s%s", i ? " " : "", argv[i]);
                        if (w < 0)
                                break;
                        c += (size_t)w;
                }
                return qc_err_set(err, EIO, "%s failed: %s", cmd, len ? out : "no message");
        }
        return 0;
}

int run_tool(char *const argv[], const char *package, struct qc_err *err)
{
        char out[512];

        return run_tool_output(argv, package, out, sizeof out, err);
}
