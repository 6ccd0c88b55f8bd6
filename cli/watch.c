/* wait, console, events: watching a VM without holding its monitor. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/agent.h"
#include "cli/cli.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/handle.h"
#include "launcher/serial-log.h"
#include "qmp/qga.h"

static bool record_now(const char *rundir, struct vm_record *r)
{
        if (vm_record_read(rundir, r, NULL) < 0)
                return false;
        vm_record_refresh(r);
        return true;
}

/* A line of the serial log against the REGEX: by length (REG_STARTEND),
 * so a NUL byte the guest wrote is one more character, not the line's end. */
static bool line_matches(const char *line, size_t len, bool partial, void *userdata)
{
        regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)len };

        return regexec(userdata, line, 1, &m, REG_STARTEND) == 0;
}

int cmd_wait(int argc, char **argv)
{
        const char *verb = argv[0], *what = NULL;
        struct cli_opts o = { .on_opt = cli_opt_store, .ud = &what };
        _cleanup_vm_ struct vm_handle *h = NULL;
        _cleanup_free_ char *agent = NULL;
        struct serial_follow *follow = NULL;
        struct qc_err err = { 0 };
        regex_t re;
        bool use_re = false;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc), timeout = o.timeout_ms;

        if (parsed != 0)
                return rc;
        if (optind != argc - 1 || !what)
                return cli_usage(verb, "expected --for CONDITION and one VM name");
        if (strncmp(what, "serial:", 7) == 0) {
                int r = regcomp(&re, what + 7, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
                if (r) {
                        char msg[256];
                        regerror(r, &re, msg, sizeof msg);
                        return cli_usage(verb, "--for serial: bad regular expression \"%s\": %s", what + 7, msg);
                }
                use_re = true;
        } else if (strcmp(what, "agent") == 0) {
                if ((rc = cli_agent_path(verb, argv[optind], &agent)))
                        return rc;
        } else if (strcmp(what, "running") && strcmp(what, "paused") && strcmp(what, "shutdown")) {
                return cli_usage(verb, "--for: expected running, paused, shutdown, agent or serial:REGEX, got \"%s\"",
                                 what);
        }
        if (vm_open(argv[optind], "wait", VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC | VM_OPEN_ANY_STATE, cli_lock_timeout_ms, &h,
                    &err) < 0) {
                if (use_re)
                        regfree(&re);
                return cli_fail(verb, &err);
        }
        /* serial.log may be run's own symlink to its --serial-log file:
         * followed, in the checked dir (nobody else can have put anything
         * there) */
        if (use_re) {
                _cleanup_close_ int dfd = state_dir_open(h->rundir, false, &err);

                if (dfd < 0 || serial_follow_open(dfd, VM_RUNDIR_SERIAL_LOG, &follow, &err) < 0) {
                        regfree(&re);
                        return cli_failf(verb, "VM `%s`: %s", h->name, err.msg);
                }
        }

        int64_t deadline = timeout ? now_ms() + timeout : 0;
        rc = -1;
        for (;;) {
                struct vm_record r;
                bool have = record_now(h->rundir, &r), active = have && vm_state_is_active(r.state);

                if (agent && have && active) {
                        struct qga *g = NULL;
                        /* the socket as of now: the supervisor's agent.sock
                         * comes once the guest runs, and qga.sock is then
                         * its (a connection there would wait behind it) */
                        _cleanup_free_ char *path =
                                r.state == VM_STATE_STARTING ? NULL : vm_agent_socket(h->rundir, &r);
                        /* a second at a time, so that a VM that ends is seen */
                        if (!path)
                                ; /* not yet */
                        else if (qga_connect_wait(path, 1000, 1000, 1000, &g, &err) == 0)
                                rc = CLI_EXIT_OK;
                        else if (err.code != ETIMEDOUT)
                                rc = cli_fail(verb, &err);
                        qga_free(g);
                } else if (use_re) {
                        int m = serial_follow_scan(follow, line_matches, &re, &err);

                        if (m > 0)
                                rc = CLI_EXIT_OK;
                        else if (m < 0)
                                rc = cli_failf(verb, "VM `%s`: %s", h->name, err.msg);
                } else if (strcmp(what, "shutdown") == 0) {
                        if (have && !active)
                                rc = CLI_EXIT_OK;
                } else if (have && vm_state_to_string(r.state) && strcmp(vm_state_to_string(r.state), what) == 0) {
                        rc = CLI_EXIT_OK;
                }
                if (rc < 0 && have && !active) {
                        _cleanup_free_ char *how = vm_record_describe_end(&r);
                        rc = cli_failf(verb, "VM `%s` ended (%s) before %s", h->name, how ? how : "?", what);
                }
                if (have)
                        vm_record_done(&r);
                if (rc >= 0)
                        break;
                if (deadline && now_ms() >= deadline) {
                        rc = cli_failf(verb, "VM `%s`: not %s within %d s", h->name, what, timeout / 1000);
                        break;
                }
                usleep(100 * 1000);
        }
        if (use_re)
                regfree(&re);
        serial_follow_close(follow);
        return rc;
}

int cmd_events(int argc, char **argv)
{
        const char *verb = argv[0], *all = NULL;
        /* --json is taken: JSON lines is the only format */
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .on_opt = cli_opt_store,
                              .ud = &all };
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct qc_err err = { 0 };
        _cleanup_close_ int fd = -1;
        char buf[65536];
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC | VM_OPEN_ANY_STATE, &h)))
                return rc;
        /* in the checked state dir, never through a symlink */
        fd = state_open_file(h->rundir, VM_RUNDIR_EVENTS_LOG, O_RDONLY, 0, &err);
        if (fd < 0)
                return cli_failf(verb, "VM `%s`: %s", h->name, err.msg);
        if (!all)
                lseek(fd, 0, SEEK_END);
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n > 0) {
                        fwrite(buf, 1, (size_t)n, stdout);
                        fflush(stdout);
                        continue;
                }
                struct vm_record r;
                bool ended = record_now(h->rundir, &r) && !vm_state_is_active(r.state);
                if (ended) {
                        vm_record_done(&r);
                        /* the last events were written before the record said so */
                        while ((n = read(fd, buf, sizeof buf)) > 0)
                                fwrite(buf, 1, (size_t)n, stdout);
                        return CLI_EXIT_OK;
                }
                vm_record_done(&r);
                usleep(100 * 1000);
        }
}

int cmd_console(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        _cleanup_close_ int s = -1;
        _cleanup_free_ char *path = NULL;
        struct termios saved, raw;
        bool tty = isatty(STDIN_FILENO);
        bool in_open = true;
        char buf[4096];

        struct cli_opts o = { .take = CLI_OPT_ONE_NAME };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC, &h)))
                return rc;
        if (!(path = path_join(h->rundir, VM_RUNDIR_CONSOLE)))
                return cli_failf(verb, "out of memory");
        s = unix_connect(path, 0);
        if (s == -ENAMETOOLONG)
                return cli_failf(verb, "VM `%s`: console socket path too long (max %zu bytes): %s", h->name,
                                 UNIX_PATH_MAX_BYTES, path);
        if (s < 0)
                return cli_failf(verb, "VM `%s`: connect to %s: %s (does the VM file say \"serial\": \"log\"?)",
                                 h->name, path, strerror(-s));
        if (tty) {
                tcgetattr(STDIN_FILENO, &saved);
                raw = saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                fprintf(stderr, "Connected to VM `%s` (Ctrl-] detaches)\r\n", h->name);
        }
        for (;;) {
                struct pollfd p[2] = { { .fd = s, .events = POLLIN }, { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents) {
                        ssize_t n = read(s, buf, sizeof buf);
                        if (n <= 0 || write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                                break;
                }
                if (p[1].revents) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n <= 0) {
                                in_open = false;
                                shutdown(s, SHUT_WR);
                                continue;
                        }
                        if (tty && memchr(buf, 0x1d, (size_t)n))
                                break;
                        if (write_all(s, buf, (size_t)n) < 0)
                                break;
                }
        }
        if (tty) {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
                fprintf(stderr, "\nDetached from VM `%s`\n", h->name);
        }
        return CLI_EXIT_OK;
}
