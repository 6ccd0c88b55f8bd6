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

static const char help[] =
        "Usage: qemuctl run [--timeout S] [--serial-log FILE] [--stop-timeout S] FILE\n\n"
        "Run the VM that FILE describes in the foreground until it ends; the serial\n"
        "console goes to stdout (or to FILE with --serial-log). Other verbs (status,\n"
        "pause, qmp, ...) work on it meanwhile, by its name; `wait --for serial:` needs\n"
        "--serial-log.\n\n"
        "Options:\n"
        "  --timeout S       stop the VM after S seconds (ACPI power button, then quit)\n"
        "  --stop-timeout S  after the power button, wait this long before quit (default 10)\n"
        "  --serial-log FILE write the serial console to FILE instead of stdout\n"
        "  --lock-timeout S  wait this long for another qemuctl verb on the VM (default 10)\n\n"
        "Ctrl-C or SIGTERM stop the VM the same way (power button, then quit).\n\n"
        "Exit status:\n"
        "    0  the guest powered off normally\n"
        "    N  the guest wrote N to isa-debug-exit (\"debug_exit\": true; QEMU exits\n"
        "       with (N << 1) | 1, qemuctl maps it back; N = 0 is success)\n"
        "    2  usage error\n"
        "    3  QEMU refused the command line / failed to start (its error is printed),\n"
        "       or would have: \"accel\": \"kvm\" where KVM runs no guest (qemuctl host)\n"
        "    4  the guest panicked (pvpanic)\n"
        "    5  QEMU crashed (killed by a signal, or exited with an error)\n"
        "    6  the VM was stopped from outside (qemuctl stop/kill, QMP quit)\n"
        "  124  --timeout expired\n"
        "  130  interrupted (SIGINT or SIGTERM)\n"
        "  1    qemuctl itself failed (bad VM file, state dir, ...)\n";

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
        static const struct option opts[] = {
                { "stop-timeout", required_argument, NULL, 's' },
                { "serial-log", required_argument, NULL, 'o' },
                {},
        };
        struct run_opts ro = { .stop_timeout_ms = 10000 };
        struct cli_opts o = { .take = CLI_OPT_TIMEOUT | CLI_OPT_LOCK_TIMEOUT, .extra = opts, .on_opt = run_opt,
                              .ud = &ro };
        const char *verb = argv[0], *serial_log;
        int timeout, stop_timeout;
        _cleanup_free_ char *serial_abs = NULL;
        struct launch l;
        struct vm_record rec;
        struct qc_err err = { 0 };
        int rc = cli_parse_opts(verb, argc, argv, help, &o);

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
