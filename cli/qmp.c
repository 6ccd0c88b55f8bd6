/* qemuctl qmp / hmp: talk to any QEMU's QMP socket directly. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher/handle.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "qmp/qmp.h"


/* The VM a NAME named (the shell's prompt says it); NULL with --socket. */
static const char *target_vm;

static void print_json(json_object *o, bool compact)
{
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        /* json-c prints an empty object pretty as "{\n}" */
        if (compact || (json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0) ||
            (json_object_is_type(o, json_type_array) && json_object_array_length(o) == 0))
                flags |= JSON_C_TO_STRING_PLAIN;
        else
                flags |= JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
        printf("%s\n", json_object_to_json_string_ext(o, flags));
}

static int connect_or_fail(const char *verb, const char *socket_path, int timeout_ms, struct qmp **ret)
{
        struct qc_err err = { 0 };

        if (qmp_connect(socket_path, timeout_ms, ret, &err) < 0) {
                if (err.code == ENOENT || err.code == ECONNREFUSED)
                        return cli_failf(verb, "%s (is QEMU running with -qmp unix:%s,server=on,wait=off?)",
                                         err.msg, socket_path);
                return cli_fail(verb, &err);
        }
        return 0;
}

static int print_events(const char *socket_path, int timeout_ms)
{
        _cleanup_qmp_ struct qmp *q = NULL;
        int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
        int r;

        r = connect_or_fail("qmp", socket_path, timeout_ms >= 0 ? timeout_ms : QMP_DEFAULT_TIMEOUT_MS, &q);
        if (r)
                return r;
        for (;;) {
                struct qc_err err = { 0 };
                int left = -1;
                json_object *ev;

                if (deadline >= 0) {
                        int64_t l = deadline - now_ms();
                        if (l <= 0)
                                return CLI_EXIT_OK;
                        left = (int)l;
                }
                r = qmp_poll_events(q, left, &err);
                while ((ev = qmp_next_event(q))) {
                        printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
                                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(ev);
                }
                if (fflush(stdout) != 0)
                        return CLI_EXIT_FAIL; /* reader went away */
                if (r < 0)
                        return err.code == ECONNRESET ? CLI_EXIT_OK : cli_fail("qmp", &err);
        }
}

/* qmp's own options; --hmp, --cmd and --pretty are virsh's
 * (`qemu-monitor-command DOMAIN --hmp --cmd 'info balloon'`) */
struct qmp_opts {
        bool events, hmp, pretty;
        const char *cmd;
};

static int qmp_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct qmp_opts *o = ud;

        switch (c) {
        case 'e':
                o->events = true;
                return 0;
        case 'H':
                o->hmp = true;
                return 0;
        case 'p':
                o->pretty = true;
                return 0;
        case 'c':
                o->cmd = arg;
                return 0;
        default:
                return cli_usage(verb, "unknown option");
        }
}

/* virsh's command form: {"execute": "CMD", "arguments": {...}} */
static int split_execute(const char *text, char **ret_cmd, json_object **ret_args)
{
        _cleanup_json_ json_object *o = json_tokener_parse(text);
        json_object *ex, *a = NULL;

        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "execute", &ex) ||
            !json_object_is_type(ex, json_type_string))
                return cli_usage("qmp", "expected a QMP command like {\"execute\": \"query-status\"}, got: %s", text);
        if (json_object_object_get_ex(o, "arguments", &a) && !json_object_is_type(a, json_type_object))
                return cli_usage("qmp", "\"arguments\" must be a JSON object, got: %s", text);
        if (!(*ret_cmd = strdup(json_object_get_string(ex))))
                return cli_failf("qmp", "out of memory");
        *ret_args = a ? json_object_get(a) : NULL;
        return -1;
}

static int hmp_once(const char *verb, struct qmp *q, const char *line, bool json);

/* --hmp: virsh joins the words of an HMP command line */
static int qmp_as_hmp(const char *socket_path, const char **words, int nw, int timeout_ms, bool json)
{
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        FILE *m;
        int r = connect_or_fail("qmp", socket_path, timeout_ms, &q);

        if (r)
                return r;
        if (nw == 0)
                return cli_qmp_shell("qmp", q, target_vm, true);
        if (!(m = open_memstream(&line, &len)))
                return cli_failf("qmp", "out of memory");
        for (int i = 0; i < nw; i++)
                fprintf(m, "%s%s", i ? " " : "", words[i]);
        if (fclose(m) != 0 || !line)
                return cli_failf("qmp", "out of memory");
        return hmp_once("qmp", q, line, json);
}

int cli_qmp_main(const char *socket_path, int argc, char **argv)
{
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_json_ json_object *args = NULL, *ret = NULL;
        _cleanup_free_ char *exec_cmd = NULL;
        _cleanup_free_ const char **words = calloc((size_t)argc + 1, sizeof *words);
        struct qc_err err = { 0 };
        struct qmp_opts qo = { 0 };
        /* -1: with --events, listen until QEMU closes the socket */
        struct cli_opts o = { .timeout_ms = -1, .on_opt = qmp_opt, .ud = &qo };
        int timeout_ms, nw = 0, r, parsed = cli_parse_opts("qmp", argc, argv, &o, &r);

        if (parsed != 0)
                return r;
        if (!words)
                return cli_failf("qmp", "out of memory");
        timeout_ms = o.timeout_ms >= 0 ? o.timeout_ms : QMP_DEFAULT_TIMEOUT_MS;
        /* --cmd C: virsh's name for the command argument */
        if (qo.cmd)
                words[nw++] = qo.cmd;
        for (int i = optind; i < argc; i++)
                words[nw++] = argv[i];
        if (qo.events) {
                if (nw || qo.hmp)
                        return cli_usage("qmp", "--events takes no command");
                return print_events(socket_path, o.timeout_ms);
        }
        if (qo.hmp)
                return qmp_as_hmp(socket_path, words, nw, timeout_ms, o.json && !qo.pretty);
        if (nw == 0) {
                r = connect_or_fail("qmp", socket_path, timeout_ms, &q);
                return r ? r : cli_qmp_shell("qmp", q, target_vm, false);
        }
        if (nw > 2)
                return cli_usage("qmp", "too many arguments: pass the command's arguments as one JSON object");
        if (nw == 1 && words[0][strspn(words[0], " \t\n")] == '{') {
                if ((r = split_execute(words[0], &exec_cmd, &args)) >= 0)
                        return r;
                words[0] = exec_cmd;
        } else if (nw == 2) {
                enum json_tokener_error jerr;

                args = json_tokener_parse_verbose(words[1], &jerr);
                if (!args)
                        return cli_usage("qmp", "ARGS-JSON is not JSON (%s): %s", json_tokener_error_desc(jerr),
                                         words[1]);
                if (!json_object_is_type(args, json_type_object))
                        return cli_usage("qmp", "ARGS-JSON must be a JSON object, got: %s", words[1]);
        }
        r = connect_or_fail("qmp", socket_path, timeout_ms, &q);
        if (r)
                return r;
        if (qmp_execute(q, words[0], TAKE_PTR(args), &ret, &err) < 0)
                return cli_fail("qmp", &err);
        print_json(ret, o.json && !qo.pretty);
        return CLI_EXIT_OK;
}

void cli_hmp_print(const char *out)
{
        /* HMP ends its lines in CRLF, as a terminal would want them */
        for (const char *p = out; *p; p++)
                if (!(p[0] == '\r' && p[1] == '\n'))
                        putchar(*p);
}

/* One HMP command line through human-monitor-command; its text on stdout. */
static int hmp_once(const char *verb, struct qmp *q, const char *line, bool json)
{
        _cleanup_free_ char *out = NULL;
        struct qc_err err = { 0 };

        if (qmp_hmp(q, line, &out, &err) < 0)
                return cli_fail(verb, &err);
        /* human-monitor-command succeeds even when HMP refuses the command
         * line; HMP says so only in its text */
        if (strncmp(out, "unknown command:", 16) == 0 || strncmp(out, "Error:", 6) == 0) {
                size_t n = strlen(out);

                while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
                        out[--n] = '\0';
                return cli_failf(verb, "%s", out);
        }
        if (json) {
                _cleanup_json_ json_object *s = json_object_new_string(out);
                printf("%s\n", json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                return CLI_EXIT_OK;
        }
        cli_hmp_print(out);
        return CLI_EXIT_OK;
}

int cli_hmp_main(const char *socket_path, int argc, char **argv)
{
        _cleanup_qmp_ struct qmp *q = NULL;
        struct cli_opts o = { .timeout_ms = QMP_DEFAULT_TIMEOUT_MS };
        int r, parsed = cli_parse_opts("hmp", argc, argv, &o, &r);

        if (parsed != 0)
                return r;
        if (argc - optind > 1)
                return cli_usage("hmp", "give one HMP command line, quoted, e.g. 'info status'");
        r = connect_or_fail("hmp", socket_path, o.timeout_ms, &q);
        if (r)
                return r;
        if (optind == argc)
                return cli_qmp_shell("hmp", q, target_vm, true);
        return hmp_once("hmp", q, argv[optind], o.json);
}

/* Take --socket PATH (or --socket=PATH) out of argv; the rest goes to the
 * verb's main; a VM NAME stands for its RUNDIR/qmp.sock. */
static int with_socket(const char *verb, int argc, char **argv, int (*fn)(const char *, int, char **))
{
        _cleanup_free_ char **rest = calloc((size_t)argc + 1, sizeof *rest);
        const char *path = NULL;
        int n = 0;

        if (!rest)
                return cli_failf(verb, "out of memory");
        for (int i = 0; i < argc; i++) {
                if (i > 0 && strcmp(argv[i], "--") == 0) {
                        while (i < argc)
                                rest[n++] = argv[i++];
                        break;
                }
                if (i > 0 && strcmp(argv[i], "--socket") == 0) {
                        if (i + 1 >= argc)
                                return cli_usage(verb, "--socket wants a path");
                        path = argv[++i];
                } else if (i > 0 && strncmp(argv[i], "--socket=", 9) == 0) {
                        path = argv[i] + 9;
                } else {
                        if (i > 0 && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
                                cli_verb_help(stdout, cli_verb_find(verb));
                                return CLI_EXIT_OK;
                        }
                        rest[n++] = argv[i];
                }
        }
        /* the VM's name, among the options or after them */
        int k = path ? -1 : cli_first_arg(verb, n, rest);
        if (k > 0) {
                /* `qemuctl qmp NAME ...`: the VM's monitor for people
                 * (qmp.sock, the supervisor's relay: no lock, no waiting).
                 * With its supervisor gone, the verbs' own monitor, taken in
                 * turn with them (the VM's lock). */
                _cleanup_vm_ struct vm_handle *h = NULL;
                _cleanup_free_ char *sock = NULL;
                _cleanup_close_ int lock = -1;
                struct qc_err err = { 0 };

                if (vm_open(rest[k], verb, VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC, cli_lock_timeout_ms, &h, &err) < 0) {
                        /* `qmp query-status`: a command where the VM belongs */
                        if (err.code == ENOENT)
                                return cli_usage(verb, "%s; give a VM name or --socket PATH before the command",
                                                 err.msg);
                        return cli_fail(verb, &err);
                }
                if (!(sock = path_join(h->rundir, VM_RUNDIR_QMP)))
                        return cli_failf(verb, "out of memory");
                if (!proc_alive(h->rec.supervisor_pid, h->rec.supervisor_start) || access(sock, F_OK) < 0) {
                        free(sock);
                        lock = state_lock(h->rundir, h->name, verb, cli_lock_timeout_ms, &err);
                        if (lock < 0)
                                return cli_fail(verb, &err);
                        if (!(sock = path_join(h->rundir, VM_RUNDIR_CTL)))
                                return cli_failf(verb, "out of memory");
                }
                target_vm = h->name;
                memmove(rest + k, rest + k + 1, (size_t)(n - k) * sizeof *rest);
                return fn(sock, n - 1, rest);
        }
        if (!path)
                return cli_usage(verb, "a VM name or --socket PATH is required (the QEMU's -qmp unix socket)");
        return fn(path, n, rest);
}

int cmd_qmp(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        return with_socket("qmp", argc, argv, cli_qmp_main);
}

int cmd_hmp(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        return with_socket("hmp", argc, argv, cli_hmp_main);
}
