/* One verb on many VMs at once, bounded: start-all and stop-all
 * (what libvirt-guests does at the host's boot and shutdown). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/each.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/defs.h"
#include "launcher/state.h"

struct child {
        pid_t pid;
        int out; /* a memfd with its stdout and stderr */
        const char *name;
};

/* Print what a finished child said, each line as "NAME: line". */
static void report(const struct child *c)
{
        _cleanup_free_ char *text = NULL;

        if (lseek(c->out, 0, SEEK_SET) < 0 || read_fd_all(c->out, 1 << 20, &text, NULL) < 0)
                return;
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                printf("%s: %s\n", c->name, line);
        }
        fflush(stdout);
}

/* Fork a child that runs VERB ARGS... NAME with its output in a memfd. */
static int spawn(const struct verb *v, char **args, const char *name, struct child *ret)
{
        _cleanup_strv_ strv av = { 0 };
        int fd = memfd_create("qemuctl-each", MFD_CLOEXEC);
        pid_t pid;

        if (fd < 0)
                return -errno;
        if (strv_push(&av, v->name) < 0)
                goto oom;
        for (char **a = args; a && *a; a++)
                if (strv_push(&av, *a) < 0)
                        goto oom;
        if (strv_push(&av, name) < 0)
                goto oom;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        if (pid == 0) {
                if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(CLI_EXIT_FAIL);
                int rc = v->fn((int)av.n, av.v);
                fflush(stdout);
                fflush(stderr);
                _exit(rc);
        }
        *ret = (struct child){ .pid = pid, .out = fd, .name = name };
        return 0;
oom:
        close(fd);
        return -ENOMEM;
}

int cli_each(const char *verb, char **names, char **args, unsigned parallel, struct cli_each_result *ret)
{
        const struct verb *v = cli_verb_find(verb);
        size_t n = strv_length(names), next = 0, running = 0;
        _cleanup_free_ struct child *kids = calloc(n ? n : 1, sizeof *kids);
        struct cli_each_result r = { 0 };

        if (!v || !kids)
                return cli_failf(verb, "out of memory");
        if (parallel == 0)
                parallel = 1;
        while (next < n || running > 0) {
                while (next < n && running < parallel) {
                        int e = spawn(v, args, names[next], &kids[next]);
                        if (e < 0) {
                                printf("%s: qemuctl: %s: cannot run: %s\n", names[next], verb, strerror(-e));
                                if (strv_push(&r.failed_names, names[next]) < 0)
                                        return cli_failf(verb, "out of memory");
                                next++;
                                continue;
                        }
                        next++;
                        running++;
                }
                int status;
                pid_t pid = waitpid(-1, &status, 0);
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < next; i++) {
                        if (kids[i].pid != pid)
                                continue;
                        running--;
                        report(&kids[i]);
                        close(kids[i].out);
                        kids[i].pid = 0;
                        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                                r.ok++;
                        } else {
                                if (strv_push(&r.failed_names, kids[i].name) < 0)
                                        return cli_failf(verb, "out of memory");
                        }
                        break;
                }
        }
        *ret = r;
        return CLI_EXIT_OK;
}

/* "VERB: N VMs: N done, N failed (a, b)" and the exit status. */
static int summary(const char *verb, const char *what, const struct cli_each_result *r, size_t skipped,
                   const char *skipped_what)
{
        printf("qemuctl %s: %zu %s", verb, r->ok, what);
        if (skipped)
                printf(", %zu %s", skipped, skipped_what);
        printf(", %zu failed", r->failed_names.n);
        for (size_t i = 0; i < r->failed_names.n; i++)
                printf("%s%s", i ? ", " : " (", r->failed_names.v[i]);
        printf("%s\n", r->failed_names.n ? ")" : "");
        return r->failed_names.n ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int start_autostart(const char *verb, unsigned parallel)
{
        _cleanup_strv_free_ char **marked = NULL;
        _cleanup_strv_ strv todo = { 0 };
        struct cli_each_result r = { 0 };
        struct qc_err err = { 0 };
        size_t skipped = 0;
        int rc;

        if (defs_list_autostart(&marked, &err) < 0)
                return cli_fail(verb, &err);
        for (char **n = marked; *n; n++) {
                bool running = false;

                if (cli_vm_state(*n, &running, &err) < 0) {
                        /* its state dir is not ours alone: start would refuse it too */
                        printf("%s: qemuctl: %s: %s\n", *n, verb, err.msg);
                        qc_err_clear(&err);
                } else if (running) {
                        printf("%s: already running\n", *n);
                        skipped++;
                        continue;
                }
                if (strv_push(&todo, *n) < 0)
                        return cli_failf(verb, "out of memory");
        }
        if (!marked[0]) {
                printf("qemuctl %s: no VM is marked for autostart (qemuctl autostart NAME)\n", verb);
                return CLI_EXIT_OK;
        }
        if ((rc = cli_each("start", todo.v ? todo.v : (char *[]){ NULL }, NULL, parallel, &r)))
                return rc;
        rc = summary(verb, "started", &r, skipped, "already running");
        strv_done(&r.failed_names);
        return rc;
}

static int stop_running(const char *verb, int timeout_ms, unsigned parallel)
{
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_strv_ strv todo = { 0 };
        struct cli_each_result r = { 0 };
        struct qc_err err = { 0 };
        char timeout[32];
        int rc;

        if (state_list_names(&names, &err) < 0)
                return cli_fail(verb, &err);
        for (char **n = names; *n; n++) {
                bool running = false;

                if (cli_vm_state(*n, &running, NULL) > 0 && running && strv_push(&todo, *n) < 0)
                        return cli_failf(verb, "out of memory");
        }
        if (!todo.n) {
                printf("qemuctl %s: no VM runs\n", verb);
                return CLI_EXIT_OK;
        }
        snprintf(timeout, sizeof timeout, "%dms", timeout_ms);
        if ((rc = cli_each("stop", todo.v, (char *[]){ "--timeout", timeout, NULL }, parallel, &r)))
                return rc;
        rc = summary(verb, "stopped", &r, 0, NULL);
        strv_done(&r.failed_names);
        return rc;
}

/* --parallel N: 1..64 */
static int parallel_opt(const char *verb, int c, const char *arg, void *ud)
{
        unsigned *ret = ud;
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(arg, &end, 10);
        if (errno || end == arg || *end || v < 1 || v > 64)
                return cli_usage(verb, "--parallel: expected a number from 1 to 64, got \"%s\"", arg);
        *ret = (unsigned)v;
        return 0;
}

int cmd_start_all(int argc, char **argv)
{
        const char *verb = argv[0];
        unsigned parallel = CLI_START_PARALLEL;
        struct cli_opts o = { .take = CLI_OPT_NO_ARGS, .on_opt = parallel_opt, .ud = &parallel,
                              .no_json = "it prints each VM's own output" };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        return start_autostart(verb, parallel);
}

int cmd_stop_all(int argc, char **argv)
{
        const char *verb = argv[0];
        unsigned parallel = CLI_STOP_PARALLEL;
        struct cli_opts o = { .take = CLI_OPT_NO_ARGS, .timeout_ms = 60000, .on_opt = parallel_opt,
                              .ud = &parallel, .no_json = "it prints each VM's own output" };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        return stop_running(verb, o.timeout_ms, parallel);
}
