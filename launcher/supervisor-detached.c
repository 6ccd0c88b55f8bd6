/* The detached supervisor of `start`: its own session, the caller told
 * once whether the guest runs (supervisor.h). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "migration.h"

static void close_all_but(int keep, int keep2, int keep3)
{
        for (int fd = 3; fd < 1024; fd++)
                if (fd != keep && fd != keep2 && fd != keep3)
                        close(fd);
}

int supervisor_start_detached(const struct supervisor_opts *o, struct qc_err *err)
{
        _cleanup_close_ int rd = -1;
        _cleanup_free_ char *reply = NULL;
        size_t len = 0, cap = 0;
        int p[2], st;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return qc_err_sys(err, errno, "fork");
        }
        if (pid == 0) {
                struct supervisor_opts so = *o;
                struct vm_record rec;
                int null;

                /* a new session: no controlling terminal, no job control
                 * signals; the second fork makes sure none is ever acquired */
                if (setsid() < 0 || (pid = fork()) < 0)
                        _exit(1);
                if (pid > 0)
                        _exit(0);
                /* the caller's fds stay with it, but for keep_fd: the VM's
                 * lock, held (one open file, shared with the caller) until
                 * the place_vcpus hook has placed QEMU; and the incoming stream */
                close_all_but(p[1], o->keep_fd, o->incoming ? o->incoming->fd : -1);
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                        if (null > 2)
                                close(null);
                }
                if (chdir("/") < 0)
                        _exit(1);
                signal(SIGHUP, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
                so.notify_fd = p[1];
                so.foreground = false;
                if (supervisor_run(&so, &rec, NULL) < 0)
                        _exit(1);
                vm_record_done(&rec);
                _exit(0);
        }
        close(p[1]);
        rd = p[0];
        waitpid(pid, &st, 0);
        for (;;) {
                if (len + 512 > cap) {
                        char *n = realloc(reply, cap = cap ? cap * 2 : 4096);
                        if (!n)
                                return qc_err_sys(err, ENOMEM, "start");
                        reply = n;
                }
                ssize_t n = read(rd, reply + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        if (!reply)
                return qc_err_set(err, EIO, "the supervisor died before QEMU started (see %s/%s)", o->rundir,
                                  VM_RUNDIR_QEMU_LOG);
        reply[len] = '\0';
        if (strncmp(reply, "ok\n", 3) == 0)
                return 0;
        if (strncmp(reply, "error\n", 6) == 0)
                return qc_err_set(err, EIO, "QEMU refused to start: %s", reply + 6);
        return qc_err_set(err, EIO, "the supervisor died before QEMU started (see %s/%s)", o->rundir,
                          VM_RUNDIR_QEMU_LOG);
}
