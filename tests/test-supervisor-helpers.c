/* The supervisor's helpers (launcher/supervisor-helpers.c) with real
 * programs: one that makes its socket is started and waited for, then
 * stopped and reaped; one that exits first fails the start with what it
 * said; one that ignores SIGTERM is killed; a later helper failing stops the
 * earlier ones. No QEMU. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/supervisor-helpers.h"
#include "tests/tap.h"

static char tmp[] = "/tmp/qemuctl-test-helpers-XXXXXX";

static bool gone(pid_t pid)
{
        /* our child, reaped: the pid is free (or someone else's, not a zombie of ours) */
        return kill(pid, 0) < 0 && errno == ESRCH;
}

int main(void)
{
        char sock[128], sock2[128], log[128], script[512];
        pid_t pids[SUPERVISOR_MAX_HELPERS] = { 0 };
        struct qc_err err = {};

        if (!mkdtemp(tmp))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        if (access("/usr/bin/python3", X_OK) < 0)
                tap_skip_all("python3 not found (the helper stand-in that listens on a socket)");
        snprintf(sock, sizeof sock, "%s/h.sock", tmp);
        snprintf(sock2, sizeof sock2, "%s/h2.sock", tmp);
        snprintf(log, sizeof log, "%s/h.log", tmp);
        /* listens, then waits; ignores SIGTERM when told to */
        snprintf(script, sizeof script,
                 "import signal, socket, sys, time\n"
                 "if sys.argv[2] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                 "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)\n"
                 "print('listening', flush=True)\n"
                 "time.sleep(600)\n");
        char *listen_argv[] = { "python3", "-c", script, sock, "polite", NULL };
        struct supervisor_helper h = { .name = "listener", .argv = listen_argv, .socket = sock, .log = log };
        struct supervisor_opts o = { .helpers = &h, .n_helpers = 1 };

        ok(sup_helpers_start(&o, -1, pids, &err) == 0, "a helper that listens is started (%s)", err.msg);
        struct stat st;
        ok(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode), "its socket is there when start returns");
        pid_t p = pids[0];
        ok(p > 0 && kill(p, 0) == 0, "it runs (pid %d)", (int)p);
        sup_helpers_stop(&o, pids);
        ok(pids[0] == 0 && gone(p), "stopped and reaped");
        ok(access(sock, F_OK) < 0, "its socket is removed");

        char *stubborn_argv[] = { "python3", "-c", script, sock, "stubborn", NULL };
        h.argv = stubborn_argv;
        ok(sup_helpers_start(&o, -1, pids, &err) == 0, "a helper that ignores SIGTERM is started");
        p = pids[0];
        sup_helpers_stop(&o, pids);
        ok(pids[0] == 0 && gone(p), "it is killed after the grace time and reaped");

        char *fail_argv[] = { "sh", "-c", "echo 'cannot open the TPM state: Permission denied' >&2; exit 3", NULL };
        struct supervisor_helper two[2] = {
                { .name = "listener", .argv = listen_argv, .socket = sock, .log = log },
                { .name = "broken", .argv = fail_argv, .socket = sock2, .log = log },
        };
        o.helpers = two;
        o.n_helpers = 2;
        err = (struct qc_err){};
        ok(sup_helpers_start(&o, -1, pids, &err) == -1 && strstr(err.msg, "broken exited (status 3)") &&
                   strstr(err.msg, "Permission denied"),
           "a helper that exits first fails the start, with its status and what it said (%s)", err.msg);
        ok(pids[0] == 0 && pids[1] == 0, "the helper started before it was stopped");

        char *nobin_argv[] = { "/nonexistent/swtpm", NULL };
        struct supervisor_helper nobin = { .name = "swtpm", .argv = nobin_argv, .socket = sock, .log = log };
        o.helpers = &nobin;
        o.n_helpers = 1;
        err = (struct qc_err){};
        ok(sup_helpers_start(&o, -1, pids, &err) == -1 && strstr(err.msg, "swtpm"), "a missing binary: named (%s)",
           err.msg);
        {
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "rm -rf %s", tmp) > 0 && system(cmd) != 0)
                        tap_diag("could not remove %s", tmp);
        }
        return tap_done();
}
