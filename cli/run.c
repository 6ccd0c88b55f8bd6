/* run: the supervisor in the foreground, for CI. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/agent.h"
#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/io.h"
#include "common/sd-notify.h"
#include "common/cleanup.h"
#include "launcher/handle.h"
#include "launcher/paths.h"
#include "launcher/state.h"
#include "launcher/supervisor.h"
#include "qmp/qga.h"
#include "qmp/qmp.h"


struct run_opts {
        int stop_timeout_ms;
        const char *serial_log;
        const char *exec;
        bool no_stdin;
        const char *restore;
        bool rm;
};

static int run_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct run_opts *ro = ud;

        if (c == 'o') {
                ro->serial_log = arg;
                return 0;
        }
        if (c == 'x') {
                ro->exec = arg;
                return 0;
        }
        if (c == 'n') {
                ro->no_stdin = true;
                return 0;
        }
        if (c == 'r') {
                ro->restore = arg;
                return 0;
        }
        if (c == 'R') {
                ro->rm = true;
                return 0;
        }
        return cli_duration_opt(verb, "--stop-timeout", arg, false, &ro->stop_timeout_ms);
}

/* How long run --exec waits for the agent: a guest without one must not
 * hold a CI job forever when no --timeout was given. */
#define RUN_EXEC_AGENT_WAIT_MS (300 * 1000)

/* run --exec's second process, beside the supervisor: wait for the agent,
 * run the command, send its status down status_fd, ask the guest agent to
 * power the guest off. Its end: status_fd closes, and the supervisor stops
 * the VM by the one stop escalation (supervisor_opts.stop_when_closed_fd),
 * whether the agent took the shutdown or not. */
static _Noreturn void exec_child(const char *verb, const char *rundir, const char *cmd, const char *input,
                                 size_t input_len, int status_fd)
{
        /* the supervisor (our parent) relays agent.sock onto qga.sock once
         * the guest runs; connecting is retried until then */
        _cleanup_free_ char *path = path_join(rundir, VM_RUNDIR_AGENT_RELAY);
        struct qga *g = NULL;
        struct qc_err err = { 0 };
        char *args[] = { "-c", (char *)cmd, NULL };
        int rc;

        /* Ctrl-C and SIGTERM are the supervisor's: it stops the VM, which
         * ends this process's connection */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        if (!path || qga_connect_wait(path, RUN_EXEC_AGENT_WAIT_MS, 1000, QGA_DEFAULT_TIMEOUT_MS, &g, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: guest agent: %s\n", verb, path ? err.msg : "out of memory");
                rc = EXEC_EXIT_FAIL;
                (void)!write(status_fd, &rc, sizeof rc);
                _exit(0);
        }
        rc = cli_agent_exec(verb, g, "/bin/sh", args, input, input_len, 0, false);
        (void)!write(status_fd, &rc, sizeof rc);
        (void)qga_shutdown(g, "powerdown", &err);
        qga_free(g);
        _exit(0);
}

int cmd_run(int argc, char **argv)
{
        struct run_opts ro = { .stop_timeout_ms = 10000 };
        _cleanup_(spec_overrides_done) struct spec_overrides ov = { 0 };
        struct cli_opts o = { .on_opt = run_opt, .ud = &ro, .overrides = &ov };
        const char *verb = argv[0], *serial_log;
        int timeout, stop_timeout;
        _cleanup_free_ char *serial_abs = NULL;
        struct launch l;
        struct vm_record rec;
        struct qc_err err = { 0 };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        timeout = o.timeout_ms;
        stop_timeout = ro.stop_timeout_ms;
        serial_log = ro.serial_log;
        if (ro.restore ? optind < argc - 1 : optind != argc - 1)
                return cli_usage(verb, ro.restore ? "expected at most one VM file or defined VM"
                                                  : "expected one VM file or the name of a defined VM");
        _cleanup_free_ char *file = NULL;
        if (optind < argc && (rc = cli_vm_file(verb, argv[optind], &file)))
                return rc;
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
        _cleanup_free_ char *input = NULL;
        size_t input_len = 0;
        if (ro.no_stdin && !ro.exec)
                return cli_usage(verb, "--no-stdin is for --exec's command; without --exec the guest's console has no stdin");
        if (ro.exec && cli_agent_read_stdin(verb, ro.no_stdin, &input, &input_len))
                return CLI_EXIT_FAIL;
        /* with --exec, stdout is the command's: the console goes where start
         * puts it (serial.log in the state dir) unless --serial-log says */
        enum cmdline_serial serial = serial_abs ? CMDLINE_SERIAL_FILE
                                     : ro.exec  ? CMDLINE_SERIAL_SPEC
                                                : CMDLINE_SERIAL_STDIO;
        if (ro.restore)
                rc = launch_prepare_restore(verb, ro.restore, file, &ov, serial, serial_abs, cli_lock_timeout_ms, &l);
        else
                rc = launch_prepare(verb, file, &ov, serial, serial_abs, false, cli_lock_timeout_ms, &l);
        if (rc)
                return rc;
        if (ro.exec && !l.spec->guest_agent) {
                launch_done(&l);
                return cli_failf(verb, "--exec runs the command through the guest agent: add \"guest_agent\": true "
                                       "to %s (and run qemu-ga in the guest)",
                                 file ? file : ro.restore);
        }
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
        /* under a service manager (systemd Type=notify): docs/DESIGN.md */
        so.sd_notify = sd_notify_wanted();
        so.stdout_fd = serial_abs ? -1 : STDOUT_FILENO;
        so.timeout_ms = timeout;
        so.stop_timeout_ms = stop_timeout;
        pid_t child = -1;
        _cleanup_close_ int status_rd = -1;
        int cmd_rc = -1;
        if (ro.exec) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0) {
                        launch_done(&l);
                        return cli_failf(verb, "pipe: %s", strerror(errno));
                }
                fflush(NULL);
                child = fork();
                if (child == 0) {
                        close(p[0]);
                        /* the VM's lock is flock'd on this open file: our
                         * copy would keep it held after the supervisor lets
                         * it go once the guest runs */
                        if (l.lock_fd >= 0)
                                close(l.lock_fd);
                        exec_child(verb, l.rundir, ro.exec, input, input_len, p[1]);
                }
                close(p[1]);
                status_rd = p[0];
                if (child < 0) {
                        launch_done(&l);
                        return cli_failf(verb, "fork: %s", strerror(errno));
                }
                so.stop_when_closed_fd = status_rd;
        }
        if (supervisor_run(&so, &rec, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s\n", verb, l.spec->name, err.msg);
                if (child > 0) {
                        kill(child, SIGKILL);
                        waitpid(child, NULL, 0);
                }
                launch_done(&l);
                return CLI_EXIT_FAIL;
        }
        rc = supervisor_exit_code(&rec);
        if (child > 0) {
                /* the status was sent before the power off began */
                int v;
                if (fcntl(status_rd, F_SETFL, O_NONBLOCK) == 0 && read(status_rd, &v, sizeof v) == (ssize_t)sizeof v)
                        cmd_rc = v;
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
        }
        if (rec.state == VM_STATE_FAILED) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: QEMU refused to start: %s\n", verb, l.spec->name,
                        rec.message ? rec.message : "(no message)");
        } else {
                _cleanup_free_ char *how = vm_record_describe_end(&rec);
                if (ro.exec && cmd_rc >= 0 && !rec.timed_out && !rec.interrupted)
                        rc = cmd_rc;
                else if (ro.exec && rc == RUN_EXIT_POWEROFF)
                        rc = EXEC_EXIT_FAIL; /* it powered off without the command's word */
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s; %sexit %d\n", verb, l.spec->name, how ? how : "ended",
                        ro.exec && cmd_rc >= 0 ? "the command's " : "", rc);
        }
        vm_record_done(&rec);
        if (ro.rm) {
                /* the job's output and exit code are the record now */
                int lock = state_lock(l.rundir, l.spec->name, verb, cli_lock_timeout_ms, &err);
                if (lock < 0 || state_remove(l.rundir, &err) < 0)
                        fprintf(stderr, "qemuctl: %s: --rm: %s\n", verb, err.msg);
                if (lock >= 0)
                        close(lock);
        }
        launch_done(&l);
        return rc;
}
