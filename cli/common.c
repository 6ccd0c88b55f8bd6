/* What the verbs share: their options, opening a VM by name, printing. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/handle.h"
#include "launcher/spec.h"

int cli_lock_timeout_ms = VM_LOCK_TIMEOUT_MS;

int cli_fail(const char *verb, const struct qc_err *err)
{
        fprintf(stderr, "qemuctl: %s: %s\n", verb, err->msg[0] ? err->msg : "failed");
        return CLI_EXIT_FAIL;
}

__attribute__((format(printf, 2, 0))) static void vmsg(const char *verb, const char *fmt, va_list ap)
{
        fprintf(stderr, "qemuctl: %s: ", verb);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int cli_failf(const char *verb, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmsg(verb, fmt, ap);
        va_end(ap);
        return CLI_EXIT_FAIL;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmsg(verb, fmt, ap);
        va_end(ap);
        fprintf(stderr, "Try 'qemuctl %s --help'.\n", verb);
        return CLI_EXIT_USAGE;
}

int parse_duration_ms(const char *s, int *ret_ms)
{
        char *end;
        double v, scale;

        errno = 0;
        v = strtod(s, &end);
        /* strtod takes "nan" and "inf" too; ERANGE: past DBL_MAX (inf) or a
         * tiny number (0), both judged below */
        if (end == s || isnan(v) || (errno && errno != ERANGE) || v < 0)
                return -EINVAL;
        if (*end == '\0' || strcmp(end, "s") == 0)
                scale = 1000;
        else if (strcmp(end, "ms") == 0)
                scale = 1;
        else if (strcmp(end, "m") == 0)
                scale = 60000;
        else
                return -EINVAL;
        /* converting a double past INT_MAX to int is undefined: check first */
        v *= scale;
        if (!(v <= (double)INT_MAX))
                return -ERANGE;
        *ret_ms = (int)v;
        return 0;
}

int cli_duration_opt(const char *verb, const char *name, const char *arg, bool positive, int *ret)
{
        int ms = 0, r = parse_duration_ms(arg, &ms);

        if (r == -ERANGE)
                return cli_usage(verb, "%s: \"%s\" is too long: at most %d s (about 24.8 days)", name, arg,
                                 INT_MAX / 1000);
        if (r < 0 || (positive && ms == 0))
                return cli_usage(verb, "%s: expected %sseconds like 60, 2m or 500ms, got \"%s\"", name,
                                 positive ? "a positive number of " : "", arg);
        *ret = ms;
        return 0;
}

/* cli_parse_opts' end short of going on: 1 when the verb is done (status
 * CLI_EXIT_OK), -1 after an error it printed. */
static int stop_with(int *ret_exit, int status)
{
        *ret_exit = status;
        return status == CLI_EXIT_OK ? 1 : -1;
}

int cli_parse_opts(const char *verb, int argc, char **argv, struct cli_opts *o, int *ret_exit)
{
        const struct verb *v = cli_verb_find(verb);
        struct option opts[32] = {
                { "help", no_argument, NULL, 'h' },
                /* always known, so a verb without it can say why */
                { "json", no_argument, NULL, CLI_OPT_VAL_JSON },
        };
        char shorts[32] = ":h"; /* no "+": options may follow the arguments */
        size_t n = 2, ns = 2;
        bool takes_json = false;
        int c, r;

        if (!v) /* a verb missing from cli/verbs.c: a bug the verb tests catch */
                return stop_with(ret_exit, cli_failf(verb, "not in the verb table"));
        for (const struct cli_opt *p = v->opts; p && p->name && n < ELEMENTSOF(opts) - 1; p++) {
                if (p->val == CLI_OPT_VAL_JSON) {
                        takes_json = true;
                        continue;
                }
                opts[n++] = (struct option){ p->name, p->arg == CLI_ARG_NONE ? no_argument : required_argument,
                                             NULL, p->val };
                if (p->short_name && ns < sizeof shorts - 3) {
                        shorts[ns++] = p->short_name;
                        if (p->arg != CLI_ARG_NONE)
                                shorts[ns++] = ':';
                }
        }
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        cli_verb_help(stdout, v);
                        return stop_with(ret_exit, CLI_EXIT_OK);
                case CLI_OPT_VAL_JSON:
                        if (!takes_json)
                                return stop_with(ret_exit, cli_usage(verb, "--json: %s",
                                                                     o->no_json ? o->no_json
                                                                                : "this verb prints nothing to format"));
                        o->json = true;
                        break;
                case CLI_OPT_VAL_LOCK_TIMEOUT:
                        if ((r = cli_duration_opt(verb, "--lock-timeout", optarg, false, &cli_lock_timeout_ms)))
                                return stop_with(ret_exit, r);
                        break;
                case CLI_OPT_VAL_SET:
                case CLI_OPT_VAL_UNSET:
                case CLI_OPT_VAL_NAME: {
                        struct qc_err err = { 0 };
                        if (!o->overrides)
                                return stop_with(ret_exit, cli_usage(verb, "unknown option"));
                        if ((c == CLI_OPT_VAL_SET     ? spec_overrides_add_set(o->overrides, optarg, &err)
                             : c == CLI_OPT_VAL_UNSET ? spec_overrides_add_unset(o->overrides, optarg, &err)
                                                      : spec_overrides_add_name(o->overrides, optarg, &err)) < 0)
                                return stop_with(ret_exit, err.code == EINVAL ? cli_usage(verb, "%s", err.msg)
                                                                              : cli_fail(verb, &err));
                        break;
                }
                case CLI_OPT_VAL_LIVE:
                        o->affect |= CLI_AFFECT_LIVE;
                        break;
                case CLI_OPT_VAL_CONFIG:
                        o->affect |= CLI_AFFECT_CONFIG;
                        break;
                case CLI_OPT_VAL_CURRENT:
                        o->affect |= CLI_AFFECT_CURRENT;
                        break;
                case CLI_OPT_VAL_TIMEOUT:
                        if ((r = cli_duration_opt(verb, "--timeout", optarg, o->take & CLI_OPT_TIMEOUT_POSITIVE,
                                                  &o->timeout_ms)))
                                return stop_with(ret_exit, r);
                        break;
                case ':':
                        return stop_with(ret_exit, cli_usage(verb, "%s wants an argument", argv[optind - 1]));
                case '?':
                        if (optopt)
                                return stop_with(ret_exit, cli_usage(verb, "unknown option '-%c'", optopt));
                        return stop_with(ret_exit, cli_usage(verb, "unknown option '%s'", argv[optind - 1]));
                default:
                        if (!o->on_opt)
                                return stop_with(ret_exit, cli_usage(verb, "unknown option"));
                        if ((r = o->on_opt(verb, c, optarg, o->ud)))
                                return stop_with(ret_exit, r);
                        break;
                }
        }
        if ((o->take & CLI_OPT_NO_ARGS) && optind != argc)
                return stop_with(ret_exit, cli_usage(verb, "expected no arguments"));
        if ((o->take & CLI_OPT_ONE_NAME) && optind != argc - 1)
                return stop_with(ret_exit, cli_usage(verb, "expected one VM name"));
        return 0;
}

int cli_first_arg(const char *verb, int argc, char **argv)
{
        const struct verb *v = cli_verb_find(verb);

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (strcmp(a, "--") == 0)
                        return i + 1 < argc ? i + 1 : -1;
                if (a[0] != '-' || !a[1])
                        return i;
                if (a[1] != '-' || strchr(a, '='))
                        continue; /* -h, --opt=VALUE */
                for (const struct cli_opt *o = v ? v->opts : NULL; o && o->name; o++)
                        if (strcmp(a + 2, o->name) == 0 && o->arg != CLI_ARG_NONE)
                                i++; /* its value */
        }
        return -1;
}

int cli_opt_store(const char *verb, int c, const char *arg, void *ud)
{
        *(const char **)ud = arg ? arg : "";
        return 0;
}

bool cli_wait_qemu_gone(const struct vm_handle *h, int timeout_ms)
{
        int64_t deadline = now_ms() + timeout_ms;
        useconds_t nap = 1000;

        /* QEMU quits within a few ms of `quit`: poll often at first (a flat
         * 50 ms made every kill cost 50 ms), then back off */
        while (proc_alive(h->rec.qemu_pid, h->rec.qemu_start)) {
                if (now_ms() >= deadline)
                        return false;
                usleep(nap);
                if (nap < 50 * 1000)
                        nap *= 2;
        }
        return true;
}

void cli_wait_recorded(const char *verb, const struct vm_handle *h, const struct vm_end_note *note)
{
        struct qc_err err = { 0 };

        /* the supervisor records the end once QEMU's helpers, sockets and
         * cgroup are gone: up to ~13 s when each waits its longest */
        if (vm_record_wait_end(h->rundir, 20000, note, &err) < 0)
                fprintf(stderr, "qemuctl: %s: warning: VM `%s`: QEMU is gone, but %s\n", verb, h->name, err.msg);
}

void cli_wait_state(const char *verb, const struct vm_handle *h, enum vm_state want)
{
        struct qc_err err = { 0 };
        struct vm_record r;
        bool ended = false;

        /* the supervisor writes the record a moment after QEMU answered */
        if (!proc_alive(h->rec.supervisor_pid, h->rec.supervisor_start) ||
            vm_record_wait_state(h->rundir, want, 5000, &err) != 0)
                return;
        /* a guest that powered off at once: the record says so, no warning */
        if (vm_record_read(h->rundir, &r, NULL) == 0) {
                ended = !vm_state_is_active(r.state);
                vm_record_done(&r);
        }
        if (!ended)
                fprintf(stderr, "qemuctl: %s: warning: VM `%s`: the supervisor (pid %d) has not recorded it as %s "
                                "within 5 s\n",
                        verb, h->name, (int)h->rec.supervisor_pid, vm_state_to_string(want));
}

void cli_end_note_leave(const char *verb, const struct vm_handle *h, const struct vm_end_note *note,
                        const char *what)
{
        struct qc_err err = { 0 };

        if (vm_end_note_leave(h->rundir, note, &err) < 0) {
                qc_err_wrap(&err, "the VM's record will say \"quit over QMP\", not %s", what);
                cli_warn(verb, err.msg);
        }
}

int cli_vm_open(const char *verb, const char *name, unsigned flags, struct vm_handle **ret)
{
        struct qc_err err = { 0 };

        if (vm_open(name, verb, flags, cli_lock_timeout_ms, ret, &err) < 0)
                return cli_fail(verb, &err);
        return CLI_EXIT_OK;
}

void cli_print_json(struct json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *cli_json_strv(char *const *v)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

void cli_warn(const char *verb, const char *msg)
{
        if (msg)
                fprintf(stderr, "qemuctl: %s: warning: %s\n", verb, msg);
}
