#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"

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

                if (asprintf(&p, "%s/%s", dir, name) < 0)
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

/* In the child, after fork: only async-signal-safe calls from here on. */
__attribute__((noreturn)) static void child(const struct spawn_opts *o, const char *binary, int go_fd, int err_fd)
{
        static char *const envp[] = { "PATH=" SPAWN_PATH, "LC_ALL=C", NULL };
        int fds[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
        sigset_t all;
        char c;
        int e;

        /* The parent may have blocked or caught signals (the supervisor does);
         * QEMU must start with the defaults. */
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        umask(077);
        if (o->new_pgrp)
                setpgid(0, 0);

        for (int i = 0; i < 3; i++) {
                if (fds[i] < 0) {
                        fds[i] = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
                        if (fds[i] < 0)
                                goto fail;
                }
        }
        /* move the sources above 2 first, so dup2 never clobbers one still needed */
        for (int i = 0; i < 3; i++) {
                if (fds[i] < 3) {
                        int n = fcntl(fds[i], F_DUPFD, 3);
                        if (n < 0)
                                goto fail;
                        fds[i] = n;
                }
        }
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        goto fail;

        /* wait for the parent to place us (EOF = go, or the parent died) */
        while (read(go_fd, &c, 1) < 0 && errno == EINTR)
                ;
        /* the error pipe becomes fd 3 (close-on-exec); nothing else survives */
        if (err_fd != 3) {
                if (dup2(err_fd, 3) < 0)
                        goto fail;
                err_fd = 3;
                fcntl(3, F_SETFD, FD_CLOEXEC);
        }
        close_from(4);
        execve(binary, o->argv, envp);
fail:
        e = errno;
        (void)!write(err_fd, &e, sizeof e);
        _exit(127);
}

int spawn_process(const struct spawn_opts *o, pid_t *ret_pid, struct qc_err *err)
{
        _cleanup_free_ char *binary = NULL;
        _cleanup_close_ int go_r = -1, go_w = -1, err_r = -1, err_w = -1;
        int p[2], e = 0;
        ssize_t n;
        pid_t pid;

        if (!o->argv || !o->argv[0])
                return qc_err_set(err, EINVAL, "no program to run");
        if (spawn_find_binary(o->argv[0], &binary, err) < 0)
                return -1;
        if (pipe2(p, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        go_r = p[0], go_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        err_r = p[0], err_w = p[1];

        pid = fork();
        if (pid < 0)
                return qc_err_sys(err, errno, "fork");
        if (pid == 0) {
                close(go_w);
                close(err_r);
                child(o, binary, go_r, err_w);
        }
        close(go_r), go_r = -1;
        close(err_w), err_w = -1;

        if (o->place && o->place(pid, o->userdata, err) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return qc_err_wrap(err, "place %s", o->argv[0]);
        }
        close(go_w), go_w = -1; /* go */

        /* EOF: exec succeeded (the pipe is close-on-exec); an int: its errno */
        do
                n = read(err_r, &e, sizeof e);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof e) {
                waitpid(pid, NULL, 0);
                return qc_err_sys(err, e, "execute %s", binary);
        }
        *ret_pid = pid;
        return 0;
}
