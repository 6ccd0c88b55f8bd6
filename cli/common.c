/* What the verbs share: their options, opening a VM by name, printing. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "launcher/handle.h"

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
        return -1;
}

int cli_parse_opts(const char *verb, int argc, char **argv, const char *help, struct cli_opts *o)
{
        struct option opts[24] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
        };
        size_t n = 2;
        int c, r;

        if (o->take & CLI_OPT_LOCK_TIMEOUT)
                opts[n++] = (struct option){ "lock-timeout", required_argument, NULL, 'L' };
        if (o->take & (CLI_OPT_TIMEOUT | CLI_OPT_TIMEOUT_POSITIVE))
                opts[n++] = (struct option){ "timeout", required_argument, NULL, 't' };
        for (size_t i = 0; o->extra && o->extra[i].name && n < ELEMENTSOF(opts) - 1; i++)
                opts[n++] = o->extra[i];
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return CLI_EXIT_OK;
                case 'j':
                        if (!(o->take & CLI_OPT_JSON))
                                return cli_usage(verb, "--json: %s",
                                                 o->no_json ? o->no_json : "this verb prints nothing to format");
                        o->json = true;
                        break;
                case 'L':
                        if ((r = cli_duration_opt(verb, "--lock-timeout", optarg, false, &vm_lock_timeout_ms)) >= 0)
                                return r;
                        break;
                case 't':
                        if ((r = cli_duration_opt(verb, "--timeout", optarg, o->take & CLI_OPT_TIMEOUT_POSITIVE,
                                              &o->timeout_ms)) >= 0)
                                return r;
                        break;
                case '?':
                        return cli_usage(verb, "unknown option");
                default:
                        if (!o->on_opt)
                                return cli_usage(verb, "unknown option");
                        if ((r = o->on_opt(verb, c, optarg, o->ud)) >= 0)
                                return r;
                        break;
                }
        }
        if ((o->take & CLI_OPT_NO_ARGS) && optind != argc)
                return cli_usage(verb, "expected no arguments");
        if ((o->take & CLI_OPT_ONE_NAME) && optind != argc - 1)
                return cli_usage(verb, "expected one VM name");
        return -1;
}

int cli_opt_store(const char *verb, int c, const char *arg, void *ud)
{
        *(const char **)ud = arg ? arg : "";
        return -1;
}

int cli_vm_open(const char *verb, const char *name, unsigned flags, struct vm_handle **ret)
{
        struct qc_err err = { 0 };

        if (vm_open(name, verb, flags, ret, &err) < 0)
                return cli_fail(verb, &err);
        return CLI_EXIT_OK;
}

void cli_print_json(struct json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

void cli_warn(const char *verb, const char *msg)
{
        if (msg)
                fprintf(stderr, "qemuctl: %s: warning: %s\n", verb, msg);
}
