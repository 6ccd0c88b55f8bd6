#include "supervisor-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "spawn.h"

#define HELPER_READY_MS 10000
#define HELPER_TERM_MS 3000

/* The end of a helper's log, for the message when it failed. */
static char *log_tail(const char *log)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (!log || read_file(log, 0, &text, &len) < 0)
                return NULL;
        return text_tail(text, len, 2000);
}

static int start_one(const struct supervisor_opts *o, const struct supervisor_helper *h, int cgroup_fd, pid_t *ret,
                     struct qc_err *err)
{
        _cleanup_close_ int log = -1;
        struct spawn_opts so = {
                .argv = h->argv,
                .stdin_fd = -1,
                .new_pgrp = true,
                .into_cgroup = cgroup_fd >= 0,
                .cgroup_fd = cgroup_fd,
                .privs = o->privs,
        };
        int64_t deadline;
        pid_t pid;
        int st;

        if (h->log && (log = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
                return qc_err_sys(err, errno, "%s: open its log %s", h->name, h->log);
        so.stdout_fd = so.stderr_fd = log;
        if (h->socket)
                unlink(h->socket);
        if (spawn_process(&so, &pid, err) < 0)
                return qc_err_wrap(err, "%s", h->name);
        *ret = pid;
        deadline = now_ms() + HELPER_READY_MS;
        for (useconds_t nap = 500;; nap = nap < 20000 ? nap * 2 : nap) {
                struct stat sb;

                if (!h->socket || (stat(h->socket, &sb) == 0 && S_ISSOCK(sb.st_mode)))
                        return 0;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        _cleanup_free_ char *said = log_tail(h->log);

                        *ret = 0;
                        return qc_err_set(err, ECHILD, "%s exited (%s %d) before it opened %s%s%s", h->name,
                                          WIFSIGNALED(st) ? "signal" : "status",
                                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), h->socket,
                                          said ? "; it said: " : "", said ? said : "");
                }
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT, "%s did not open %s within %d s (see %s)", h->name,
                                          h->socket, HELPER_READY_MS / 1000, h->log ? h->log : "its output");
                usleep(nap);
        }
}

int sup_helpers_start(const struct supervisor_opts *o, int cgroup_fd, pid_t *pids, struct qc_err *err)
{
        if (o->n_helpers > SUPERVISOR_MAX_HELPERS)
                return qc_err_set(err, E2BIG, "%zu helpers (at most %d)", o->n_helpers, SUPERVISOR_MAX_HELPERS);
        for (size_t i = 0; i < o->n_helpers; i++)
                pids[i] = 0;
        for (size_t i = 0; i < o->n_helpers; i++)
                if (start_one(o, &o->helpers[i], cgroup_fd, &pids[i], err) < 0) {
                        sup_helpers_stop(o, pids);
                        return -1;
                }
        return 0;
}

void sup_helpers_stop(const struct supervisor_opts *o, pid_t *pids)
{
        int64_t deadline = now_ms() + HELPER_TERM_MS;
        bool left;

        /* our children: a pid is theirs until we reap it */
        for (size_t i = 0; i < o->n_helpers; i++)
                if (pids[i] > 0)
                        kill(pids[i], SIGTERM);
        do {
                left = false;
                for (size_t i = 0; i < o->n_helpers; i++) {
                        pid_t r;

                        if (pids[i] <= 0)
                                continue;
                        r = waitpid(pids[i], NULL, WNOHANG);
                        if (r == pids[i] || (r < 0 && errno == ECHILD))
                                pids[i] = 0;
                        else
                                left = true;
                }
                if (left)
                        usleep(5000);
        } while (left && now_ms() < deadline);
        for (size_t i = 0; i < o->n_helpers; i++)
                if (pids[i] > 0) {
                        kill(pids[i], SIGKILL);
                        waitpid(pids[i], NULL, 0);
                        pids[i] = 0;
                }
        /* dead ends now, like QEMU's sockets */
        for (size_t i = 0; i < o->n_helpers; i++)
                if (o->helpers[i].socket)
                        unlink(o->helpers[i].socket);
}
