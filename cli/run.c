/* run: the supervisor in the foreground, for CI. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/launch.h"
#include "common/io.h"
#include "common/cleanup.h"
#include "launcher/handle.h"
#include "launcher/supervisor.h"


struct run_opts {
        int stop_timeout_ms;
        const char *serial_log;
};

static int run_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct run_opts *ro = ud;

        if (c == 'o') {
                ro->serial_log = arg;
                return -1;
        }
        return cli_duration_opt(verb, "--stop-timeout", arg, false, &ro->stop_timeout_ms);
}

int cmd_run(int argc, char **argv)
{
        struct run_opts ro = { .stop_timeout_ms = 10000 };
        struct cli_opts o = { .on_opt = run_opt,
                              .ud = &ro };
        const char *verb = argv[0], *serial_log;
        int timeout, stop_timeout;
        _cleanup_free_ char *serial_abs = NULL;
        struct launch l;
        struct vm_record rec;
        struct qc_err err = { 0 };
        int rc = cli_parse_opts(verb, argc, argv, &o);

        if (rc >= 0)
                return rc;
        timeout = o.timeout_ms;
        stop_timeout = ro.stop_timeout_ms;
        serial_log = ro.serial_log;
        if (optind != argc - 1)
                return cli_usage(verb, "expected one VM file");
        if (serial_log) {
                /* QEMU runs with / as its cwd's equivalent for us: make it absolute */
                if (serial_log[0] == '/') {
                        serial_abs = strdup(serial_log);
                } else {
                        _cleanup_free_ char *cwd = getcwd(NULL, 0);
                        if (!cwd || !(serial_abs = path_join(cwd, serial_log)))
                                serial_abs = NULL;
                }
                if (!serial_abs)
                        return cli_failf(verb, "out of memory");
        }
        rc = launch_prepare(verb, argv[optind], serial_abs ? CMDLINE_SERIAL_FILE : CMDLINE_SERIAL_STDIO, serial_abs,
                            vm_lock_timeout_ms, &l);
        if (rc)
                return rc;
        if (serial_abs) {
                /* `wait --for serial:` and others read RUNDIR/serial.log */
                _cleanup_free_ char *link = NULL;
                if ((link = path_join(l.rundir, VM_RUNDIR_SERIAL_LOG)))
                        (void)!symlink(serial_abs, link);
        }
        fflush(stdout);
        struct supervisor_opts so;
        launch_supervisor_opts(&l, &so);
        so.foreground = true;
        so.stdout_fd = serial_abs ? -1 : STDOUT_FILENO;
        so.timeout_ms = timeout;
        so.stop_timeout_ms = stop_timeout;
        l.unlock_when_running = true;
        if (supervisor_run(&so, &rec, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s\n", verb, l.spec->name, err.msg);
                launch_done(&l);
                return CLI_EXIT_FAIL;
        }
        rc = supervisor_exit_code(&rec);
        if (rec.state == VM_STATE_FAILED) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: QEMU refused to start: %s\n", verb, l.spec->name,
                        rec.message ? rec.message : "(no message)");
        } else {
                _cleanup_free_ char *how = vm_record_describe_end(&rec);
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s; exit %d\n", verb, l.spec->name, how ? how : "ended", rc);
        }
        vm_record_done(&rec);
        launch_done(&l);
        return rc;
}
