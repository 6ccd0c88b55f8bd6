/* Verbs through the guest agent: exec, cp; and what wait --for agent, stop
 * and run --exec share (cli/agent.h). */
#include "cli/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/handle.h"
#include "launcher/paths.h"
#include "qmp/qga.h"

/* guest-file-read/-write chunks: 1 MiB of data is 1.4 MB of base64 on one
 * JSON line, well within qemu-ga's limits (48 MB reads, 64 MB tokens). */
#define CP_CHUNK (1u << 20)
/* stdin for exec goes in one guest-exec message */
#define EXEC_MAX_INPUT (16u << 20)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        interrupted = sig;
}

int cli_agent_path(const char *verb, const char *name, char **ret_path)
{
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct qc_err err = { 0 };
        char *p;

        if (vm_open(name, verb, VM_OPEN_NO_QMP, cli_lock_timeout_ms, &h, &err) < 0)
                return cli_fail(verb, &err);
        if (!h->spec->guest_agent)
                return cli_failf(verb, "VM `%s` has no guest agent port: add \"guest_agent\": true to its VM file "
                                       "(and run qemu-ga in the guest)",
                                 h->name);
        if (!(p = vm_agent_socket(h->rundir, &h->rec)))
                return cli_failf(verb, "out of memory");
        *ret_path = p;
        return CLI_EXIT_OK;
}

int cli_agent_open(const char *verb, const char *name, int wait_ms, struct qga **ret)
{
        _cleanup_free_ char *path = NULL;
        struct qc_err err = { 0 };
        int rc = cli_agent_path(verb, name, &path);

        if (rc)
                return rc;
        if (qga_connect_wait(path, wait_ms, 1000, QGA_DEFAULT_TIMEOUT_MS, ret, &err) < 0) {
                qc_err_wrap(&err, "VM `%s`: guest agent", name);
                return cli_fail(verb, &err);
        }
        return CLI_EXIT_OK;
}

static int write_out(int fd, const unsigned char *p, size_t n)
{
        return p && n ? write_all(fd, p, n) : 0;
}

/* How long a verb waits to see the guest process it killed gone. */
#define KILL_WAIT_MS 5000

/* Best effort: end the guest process we gave up on, and return once the
 * agent has seen it end. The agent has no kill of its own: `kill` runs as a
 * guest process, a moment after the agent answered that it started it, and
 * the killed one is there (a zombie until the agent reaps it) until then;
 * the next command of the caller's must not find it. */
static void kill_guest(const char *verb, struct qga *g, int64_t pid)
{
        char num[32];
        char *argv[] = { "-KILL", num, NULL };
        int64_t kpid, deadline;

        snprintf(num, sizeof num, "%lld", (long long)pid);
        qga_set_timeout(g, 2000);
        if (qga_exec(g, "kill", argv, NULL, NULL, 0, false, &kpid, NULL) < 0)
                return;
        deadline = now_ms() + KILL_WAIT_MS;
        for (;;) {
                struct qga_exec_status st = { 0 };
                bool gone;

                /* an error: the agent forgot the process, or went away */
                if (qga_exec_status(g, pid, &st, NULL) < 0)
                        return;
                gone = st.exited;
                /* what it wrote before it was killed (the agent gives it
                 * only at the end), as timeout(1) leaves it */
                if (gone && (write_out(STDOUT_FILENO, st.out, st.out_len) < 0 ||
                             write_out(STDERR_FILENO, st.errout, st.err_len) < 0))
                        fprintf(stderr, "qemuctl: %s: warning: the killed command's output: %s\n", verb,
                                strerror(errno));
                qga_exec_status_done(&st);
                if (gone)
                        return;
                if (now_ms() >= deadline) {
                        fprintf(stderr,
                                "qemuctl: %s: warning: the agent has not reported guest process %lld ended %d s "
                                "after its kill (a child of it may still hold its output open)\n",
                                verb, (long long)pid, KILL_WAIT_MS / 1000);
                        return;
                }
                nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
}

int cli_agent_exec(const char *verb, struct qga *g, const char *path, char *const *args, const void *input,
                   size_t input_len, int timeout_ms, bool on_signals)
{
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        struct qc_err err = { 0 };
        int64_t pid, start = now_ms(), deadline = timeout_ms > 0 ? start + timeout_ms : 0;
        int rc = -1;

        /* an empty stdin rather than none: without input-data the command
         * would read from qemu-ga's own stdin */
        if (qga_exec(g, path, args, NULL, input ? input : "", input ? input_len : 0, true, &pid, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: %s: %s\n", verb, path, err.msg);
                /* an agent error reply (no such file, ...) is the command not starting */
                return err.code == EIO ? EXEC_EXIT_CANNOT : EXEC_EXIT_FAIL;
        }
        interrupted = 0;
        sigemptyset(&sa.sa_mask);
        if (on_signals) {
                sigaction(SIGINT, &sa, &old_int);
                sigaction(SIGTERM, &sa, &old_term);
        }
        while (rc < 0) {
                struct qga_exec_status st = { 0 };
                int64_t now;

                if (qga_exec_status(g, pid, &st, &err) < 0) {
                        fprintf(stderr, "qemuctl: %s: %s: %s\n", verb, path, err.msg);
                        rc = EXEC_EXIT_FAIL;
                        break;
                }
                /* QEMU 7.2's agent hands the output over once the process
                 * has exited (and closed it); a newer one may send it as it
                 * comes: either way it is written as it arrives */
                if (write_out(STDOUT_FILENO, st.out, st.out_len) < 0 ||
                    write_out(STDERR_FILENO, st.errout, st.err_len) < 0) {
                        qga_exec_status_done(&st);
                        rc = EXEC_EXIT_FAIL;
                        break;
                }
                if (st.out_truncated || st.err_truncated)
                        fprintf(stderr, "qemuctl: %s: warning: the agent cut the command's %s (qemu-ga keeps at most 16 MiB of each)\n",
                                verb, st.out_truncated && st.err_truncated ? "stdout and stderr"
                                      : st.out_truncated                  ? "stdout"
                                                                          : "stderr");
                if (st.exited)
                        rc = st.signal ? 128 + st.signal : st.exitcode & 0xff;
                qga_exec_status_done(&st);
                if (rc >= 0)
                        break;
                now = now_ms();
                if (interrupted || (deadline && now >= deadline)) {
                        if (interrupted)
                                fprintf(stderr, "qemuctl: %s: interrupted; killing guest process %lld\n", verb,
                                        (long long)pid);
                        else
                                fprintf(stderr, "qemuctl: %s: %s: still running after %d s; killing guest process %lld\n",
                                        verb, path, timeout_ms / 1000, (long long)pid);
                        kill_guest(verb, g, pid);
                        rc = interrupted ? EXEC_EXIT_INTERRUPT : EXEC_EXIT_TIMEOUT;
                        break;
                }
                /* poll at a tenth of the time it has run (1 to 50 ms): a
                 * short command is seen ending within 10% of its run time */
                {
                        int64_t ms = (now - start) / 10;
                        if (ms < 1)
                                ms = 1;
                        if (ms > 50)
                                ms = 50;
                        if (deadline && now + ms > deadline)
                                ms = deadline - now;
                        nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
                                  NULL);
                }
        }
        if (on_signals) {
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGTERM, &old_term, NULL);
        }
        return rc;
}

int cli_agent_read_stdin(const char *verb, bool no_stdin, char **ret, size_t *ret_len)
{
        int r;

        *ret = NULL;
        *ret_len = 0;
        if (no_stdin || isatty(STDIN_FILENO))
                return 0;
        r = read_fd_all(STDIN_FILENO, EXEC_MAX_INPUT, ret, ret_len);
        if (r == -EBADF)
                return 0; /* closed: nothing to pass */
        if (r == -EFBIG)
                return cli_failf(verb, "stdin is larger than %u MiB (the agent takes it in one message); copy "
                                       "the data in with qemuctl cp instead",
                                 EXEC_MAX_INPUT >> 20);
        if (r < 0)
                return cli_failf(verb, "read stdin: %s", strerror(-r));
        return 0;
}

struct exec_opts {
        bool no_stdin;
};

static int exec_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct exec_opts *eo = ud;

        if (c == 'n')
                eo->no_stdin = true;
        return 0;
}

int cmd_exec(int argc, char **argv)
{
        const char *verb = argv[0];
        struct exec_opts eo = { 0 };
        struct cli_opts o = { .on_opt = exec_opt, .ud = &eo };
        _cleanup_(qga_freep) struct qga *g = NULL;
        _cleanup_free_ char *input = NULL;
        size_t input_len = 0;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (argc - optind < 2)
                return cli_usage(verb, "expected a VM name and a command: exec NAME -- CMD [ARGS...]");
        if ((rc = cli_agent_read_stdin(verb, eo.no_stdin, &input, &input_len)))
                return EXEC_EXIT_FAIL;
        if ((rc = cli_agent_open(verb, argv[optind], QGA_DEFAULT_TIMEOUT_MS, &g)))
                return EXEC_EXIT_FAIL;
        return cli_agent_exec(verb, g, argv[optind + 1], argv + optind + 2, input, input_len, o.timeout_ms, true);
}

/* "NAME:/path" → name and guest path; 0 when arg is a local path. A local
 * path with a colon in it can be written ./a:b. */
static int split_remote(const char *arg, char **ret_name, const char **ret_path)
{
        const char *colon = strchr(arg, ':');

        if (!colon || colon == arg || memchr(arg, '/', (size_t)(colon - arg)))
                return 0;
        *ret_name = strndup(arg, (size_t)(colon - arg));
        *ret_path = colon + 1;
        return *ret_name ? 1 : -1;
}

static int cp_from_guest(const char *verb, struct qga *g, const char *name, const char *gpath, const char *local)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        struct qc_err err = { 0 };
        int64_t h;
        bool eof = false, to_stdout = strcmp(local, "-") == 0;
        struct stat st;
        int rc = CLI_EXIT_OK;

        if (!to_stdout && stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
                const char *base = strrchr(gpath, '/');
                if (!(tmp = path_join(local, base ? base + 1 : gpath)))
                        return cli_failf(verb, "out of memory");
                local = tmp;
        }
        if (qga_file_open(g, gpath, "r", &h, &err) < 0)
                return cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
        fd = to_stdout ? dup(STDOUT_FILENO) : open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = cli_failf(verb, "%s: %s", local, strerror(errno));
                goto out;
        }
        while (!eof) {
                _cleanup_free_ unsigned char *buf = NULL;
                size_t n = 0;

                if (qga_file_read(g, h, CP_CHUNK, &buf, &n, &eof, &err) < 0) {
                        rc = cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
                        goto out;
                }
                if (n && write_all(fd, buf, n) < 0) {
                        rc = cli_failf(verb, "%s: %s", local, strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
        }
        if (!to_stdout && close(TAKE_FD(fd)) < 0)
                rc = cli_failf(verb, "%s: %s", local, strerror(errno));
out:
        if (qga_file_close(g, h, &err) < 0 && rc == CLI_EXIT_OK)
                rc = cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
        return rc;
}

static int cp_to_guest(const char *verb, struct qga *g, const char *local, const char *name, const char *gpath)
{
        _cleanup_free_ unsigned char *buf = malloc(CP_CHUNK);
        _cleanup_close_ int fd = -1;
        struct qc_err err = { 0 };
        int64_t h;
        int rc = CLI_EXIT_OK;

        if (!buf)
                return cli_failf(verb, "out of memory");
        fd = strcmp(local, "-") == 0 ? dup(STDIN_FILENO) : open(local, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cli_failf(verb, "%s: %s", local, strerror(errno));
        if (qga_file_open(g, gpath, "w", &h, &err) < 0)
                return cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
        for (;;) {
                ssize_t n = read(fd, buf, CP_CHUNK);
                size_t done = 0;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = cli_failf(verb, "%s: %s", local, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                while (done < (size_t)n) {
                        size_t w = 0;

                        if (qga_file_write(g, h, buf + done, (size_t)n - done, &w, &err) < 0) {
                                rc = cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
                                goto out;
                        }
                        if (w == 0) {
                                rc = cli_failf(verb, "%s:%s: the agent wrote nothing", name, gpath);
                                goto out;
                        }
                        done += w;
                }
        }
out:
        if (qga_file_close(g, h, &err) < 0 && rc == CLI_EXIT_OK)
                rc = cli_failf(verb, "%s:%s: %s", name, gpath, err.msg);
        return rc;
}

int cmd_cp(int argc, char **argv)
{
        const char *verb = argv[0], *src_path = NULL, *dst_path = NULL;
        _cleanup_free_ char *src_name = NULL, *dst_name = NULL;
        _cleanup_(qga_freep) struct qga *g = NULL;
        struct cli_opts o = { 0 };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc), rs, rd;

        if (parsed != 0)
                return rc;
        if (argc - optind != 2)
                return cli_usage(verb, "expected a source and a destination: cp NAME:/path LOCAL, or cp LOCAL NAME:/path");
        rs = split_remote(argv[optind], &src_name, &src_path);
        rd = split_remote(argv[optind + 1], &dst_name, &dst_path);
        if (rs < 0 || rd < 0)
                return cli_failf(verb, "out of memory");
        if (rs == rd)
                return cli_usage(verb, "exactly one of the two must be in the guest, as NAME:/path (a local path "
                                       "with a colon in it: ./a:b)");
        if ((rc = cli_agent_open(verb, rs ? src_name : dst_name, QGA_DEFAULT_TIMEOUT_MS, &g)))
                return rc;
        return rs ? cp_from_guest(verb, g, src_name, src_path, argv[optind + 1])
                  : cp_to_guest(verb, g, argv[optind], dst_name, dst_path);
}
