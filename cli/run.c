/* run: the supervisor in the foreground, for CI. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/launch.h"
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
        "    3  QEMU refused the command line / failed to start (its error is printed)\n"
        "    4  the guest panicked (pvpanic)\n"
        "    5  QEMU crashed (killed by a signal, or exited with an error)\n"
        "    6  the VM was stopped from outside (qemuctl stop/kill, QMP quit)\n"
        "  124  --timeout expired\n"
        "  130  interrupted (SIGINT or SIGTERM)\n"
        "  1    qemuctl itself failed (bad VM file, state dir, ...)\n";

int cmd_run(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "timeout", required_argument, NULL, 't' },
                { "stop-timeout", required_argument, NULL, 's' },
                { "serial-log", required_argument, NULL, 'o' },
                { "lock-timeout", required_argument, NULL, 'L' },
                {},
        };
        const char *verb = argv[0], *serial_log = NULL;
        int timeout = 0, stop_timeout = 10000, c;
        _cleanup_free_ char *serial_abs = NULL;
        struct launch l;
        struct vm_record rec;
        struct qc_err err = { 0 };
        int rc, ms;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return CLI_EXIT_OK;
                case 't':
                case 's':
                case 'L':
                        if ((ms = parse_duration_ms(optarg)) < 0)
                                return cli_usage(verb, "expected seconds like 60 or 500ms, got \"%s\"", optarg);
                        if (c == 't')
                                timeout = ms;
                        else if (c == 's')
                                stop_timeout = ms;
                        else
                                vm_lock_timeout_ms = ms;
                        break;
                case 'o':
                        serial_log = optarg;
                        break;
                default:
                        return cli_usage(verb, "unknown option");
                }
        }
        if (optind != argc - 1)
                return cli_usage(verb, "expected one VM file");
        if (serial_log) {
                /* QEMU runs with / as its cwd's equivalent for us: make it absolute */
                if (serial_log[0] == '/') {
                        serial_abs = strdup(serial_log);
                } else {
                        _cleanup_free_ char *cwd = getcwd(NULL, 0);
                        if (!cwd || asprintf(&serial_abs, "%s/%s", cwd, serial_log) < 0)
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
                if (asprintf(&link, "%s/%s", l.rundir, VM_RUNDIR_SERIAL_LOG) > 0)
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
