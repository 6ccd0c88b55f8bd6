#include "supervisor-files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/io.h"
#include "../common/cleanup.h"
#include "state.h"

int sup_listen(const char *path, struct qc_err *err)
{
        struct sockaddr_un sa;
        _cleanup_close_ int fd = -1;
        mode_t old;
        int r;

        if (unix_sockaddr(path, &sa) < 0)
                return qc_err_set(err, ENAMETOOLONG,
                                  "socket path %s is %zu bytes, more than a unix socket address holds (%zu): "
                                  "keep VM state in a shorter directory (QEMUCTL_RUNDIR)",
                                  path, strlen(path), UNIX_PATH_MAX_BYTES);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return qc_err_sys(err, errno, "socket");
        unlink(path);
        /* 0600 from the start: no moment where another user may connect */
        old = umask(0177);
        r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (r < 0)
                return qc_err_sys(err, errno, "bind %s", path);
        if (listen(fd, 16) < 0)
                return qc_err_sys(err, errno, "listen on %s", path);
        return TAKE_FD(fd);
}

static int open_log_pipe(const struct supervisor_pass *p, struct serial_log_pump *pump, struct qc_err *err)
{
        int fds[2];

        if (pipe2(fds, O_CLOEXEC) < 0)
                return qc_err_sys(err, errno, "pipe for %s", p->path);
        if (serial_log_open(p->path, p->log_max, &pump->log, err) < 0) {
                close(fds[0]);
                close(fds[1]);
                return -1;
        }
        pump->fd = fds[0];
        return fds[1];
}

void sup_close_pumps(struct serial_log_pump *pumps, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (pumps[i].fd >= 0)
                        close(pumps[i].fd);
                serial_log_close(pumps[i].log);
                pumps[i] = (struct serial_log_pump){ .fd = -1 };
        }
}

void sup_pumps_start(struct sup_pumps *p)
{
        for (size_t i = 0; i < p->n; i++) {
                if (p->v[i].fd < 0)
                        continue;
                if (pthread_create(&p->threads[i], NULL, serial_log_pump, &p->v[i]) == 0) {
                        p->running[i] = true;
                } else {
                        close(p->v[i].fd);
                        p->v[i].fd = -1;
                }
        }
}

void sup_pumps_stop(struct sup_pumps *p)
{
        for (size_t i = 0; i < p->n; i++) {
                if (p->running[i]) {
                        struct timespec until;

                        clock_gettime(CLOCK_REALTIME, &until);
                        until.tv_sec += 5;
                        if (pthread_timedjoin_np(p->threads[i], NULL, &until) != 0) {
                                pthread_cancel(p->threads[i]);
                                pthread_join(p->threads[i], NULL);
                        }
                        p->running[i] = false;
                }
        }
        sup_close_pumps(p->v, p->n);
        p->n = 0;
}

int sup_open_pass(const struct supervisor_opts *o, int *fds, struct serial_log_pump *pumps, struct qc_err *err)
{
        for (size_t i = 0; i < o->n_pass; i++)
                pumps[i] = (struct serial_log_pump){ .fd = -1 };
        for (size_t i = 0; i < o->n_pass; i++) {
                const struct supervisor_pass *p = &o->pass[i];

                if (p->socket)
                        fds[i] = sup_listen(p->path, err);
                else if (p->log)
                        fds[i] = open_log_pipe(p, &pumps[i], err);
                else {
                        int flags = p->existing ? O_RDWR : O_WRONLY | O_CREAT | O_TRUNC;

                        if ((fds[i] = open(p->path, flags | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
                                qc_err_sys(err, errno, "open %s", p->path);
                }
                if (fds[i] < 0) {
                        for (size_t j = 0; j < i; j++)
                                close(fds[j]);
                        sup_close_pumps(pumps, o->n_pass);
                        return -1;
                }
        }
        return 0;
}

/* QEMU binds its listening sockets under the umask spawn gives it (077), so
 * a QEMU of our own user leaves them 0700; the ones we made for a QEMU of
 * another user (sup_listen) are 0600 already. The state dir is 0700, so
 * nobody else could reach them meanwhile; this happens before `cont`. */
int sup_private_sockets(const char *rundir, struct qc_err *err)
{
        const char *const *socks = vm_rundir_sockets;

        for (size_t i = 0; socks[i]; i++) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (!(p = path_join(rundir, socks[i]))) {
                        p = NULL;
                        return qc_err_sys(err, ENOMEM, "%s", socks[i]);
                }
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT) /* no console without a serial log, no qga.sock without guest_agent; qmp.sock is ours, later */
                                continue;
                        return qc_err_sys(err, errno, "%s", p);
                }
                if (S_ISSOCK(st.st_mode) && (st.st_mode & 07777) != 0600 && chmod(p, 0600) < 0)
                        return qc_err_sys(err, errno, "chmod 0600 %s", p);
        }
        return 0;
}
