/* `qemuctl qmp NAME` with no command: a line-editing QMP shell, as QEMU's
 * qmp-shell offers, for the person who would otherwise reach for socat;
 * `qemuctl hmp NAME` with no command: the same for HMP command lines.
 *
 * Line editing and completion come from libedit (its readline interface):
 * BSD-licensed, so it sets no terms on qemuctl's own, and small. Commands
 * and their argument names are completed from QEMU's own schema
 * (query-qmp-schema; query-commands when the schema is not there). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/strv.h"
#include "qmp/qmp.h"

struct shell_cmd {
        char *name;
        char **args; /* argument names, NULL-terminated; NULL = none known */
};

/* readline's completion callbacks take no userdata */
static struct shell_cmd *cmds;
static size_t n_cmds;
static const struct shell_cmd *completing; /* whose arguments are being completed */

static int cmp_cmd(const void *a, const void *b)
{
        return strcmp(((const struct shell_cmd *)a)->name, ((const struct shell_cmd *)b)->name);
}

static void free_cmds(void)
{
        for (size_t i = 0; i < n_cmds; i++) {
                free(cmds[i].name);
                strv_free(cmds[i].args);
        }
        free(cmds);
        cmds = NULL;
        n_cmds = 0;
}

static char **object_members(json_object *types, const char *type)
{
        json_object *t, *members;
        _cleanup_strv_ strv v = { 0 };

        if (!type || !json_object_object_get_ex(types, type, &t) ||
            !json_object_object_get_ex(t, "members", &members) || !json_object_is_type(members, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(members); i++) {
                json_object *m = json_object_array_get_idx(members, i), *name;

                if (json_object_object_get_ex(m, "name", &name) && strv_push(&v, json_object_get_string(name)) < 0)
                        return NULL;
        }
        return strv_steal(&v);
}

/* Commands and their argument names from query-qmp-schema; the names alone
 * from query-commands if that fails. */
static int load_cmds(struct qmp *q, struct qc_err *err)
{
        _cleanup_json_ json_object *schema = NULL, *types = json_object_new_object();

        if (!types)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (qmp_execute(q, "query-qmp-schema", NULL, &schema, NULL) == 0 &&
            json_object_is_type(schema, json_type_array)) {
                size_t n = json_object_array_length(schema);

                cmds = calloc(n + 1, sizeof *cmds);
                if (!cmds)
                        return qc_err_set(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(schema, i), *mt, *name;

                        if (json_object_object_get_ex(e, "meta-type", &mt) &&
                            strcmp(json_object_get_string(mt), "object") == 0 &&
                            json_object_object_get_ex(e, "name", &name))
                                json_object_object_add(types, json_object_get_string(name), json_object_get(e));
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(schema, i), *mt, *name, *at = NULL;

                        if (!json_object_object_get_ex(e, "meta-type", &mt) ||
                            strcmp(json_object_get_string(mt), "command") != 0 ||
                            !json_object_object_get_ex(e, "name", &name))
                                continue;
                        json_object_object_get_ex(e, "arg-type", &at);
                        cmds[n_cmds].name = strdup(json_object_get_string(name));
                        cmds[n_cmds].args = object_members(types, at ? json_object_get_string(at) : NULL);
                        if (!cmds[n_cmds].name)
                                return qc_err_set(err, ENOMEM, "out of memory");
                        n_cmds++;
                }
        } else {
                _cleanup_strv_free_ char **names = NULL;
                size_t n;

                if (qmp_query_commands(q, &names, err) < 0)
                        return -1;
                n = strv_length(names);
                cmds = calloc(n + 1, sizeof *cmds);
                if (!cmds)
                        return qc_err_set(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < n; i++)
                        cmds[n_cmds++].name = TAKE_PTR(names[i]);
        }
        qsort(cmds, n_cmds, sizeof *cmds, cmp_cmd);
        return 0;
}

/* HMP's commands from its own `help` ("c|cont  -- resume ..." lines), and
 * `info`'s subcommands from `help info`. */
static int load_hmp_cmds(struct qmp *q, struct qc_err *err)
{
        _cleanup_free_ char *help = NULL, *info = NULL;
        _cleanup_strv_ strv infos = { 0 };
        size_t cap = 0;

        if (qmp_hmp(q, "help", &help, err) < 0)
                return -1;
        if (qmp_hmp(q, "help info", &info, NULL) == 0)
                for (char *l = info, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                        char sub[128];
                        nl = strchr(l, '\n');
                        if (sscanf(l, "info %127s", sub) == 1 && strv_push(&infos, sub) < 0)
                                return qc_err_set(err, ENOMEM, "out of memory");
                }
        for (char *l = help, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                char word[128], *save = NULL;

                nl = strchr(l, '\n');
                if (sscanf(l, "%127s", word) != 1 || strcmp(word, "--") == 0)
                        continue;
                for (char *w = strtok_r(word, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
                        if (n_cmds + 1 >= cap) {
                                struct shell_cmd *nc = realloc(cmds, (cap = cap ? cap * 2 : 128) * sizeof *nc);
                                if (!nc)
                                        return qc_err_set(err, ENOMEM, "out of memory");
                                cmds = nc;
                        }
                        cmds[n_cmds] = (struct shell_cmd){ .name = strdup(w) };
                        if (strcmp(w, "info") == 0 && infos.n)
                                cmds[n_cmds].args = strv_steal(&infos);
                        if (!cmds[n_cmds++].name)
                                return qc_err_set(err, ENOMEM, "out of memory");
                }
        }
        if (!cmds)
                return qc_err_set(err, EPROTO, "HMP's help listed no commands");
        qsort(cmds, n_cmds, sizeof *cmds, cmp_cmd);
        return 0;
}

static bool hmp_mode;

static const struct shell_cmd *find_cmd(const char *name, size_t len)
{
        for (size_t i = 0; i < n_cmds; i++)
                if (strlen(cmds[i].name) == len && strncmp(cmds[i].name, name, len) == 0)
                        return &cmds[i];
        return NULL;
}

static char *gen_command(const char *text, int state)
{
        static size_t i;
        size_t len = strlen(text);

        if (!state)
                i = 0;
        while (i < n_cmds)
                if (strncmp(cmds[i++].name, text, len) == 0)
                        return strdup(cmds[i - 1].name);
        return NULL;
}

/* "key=" for each argument of the command being completed */
static char *gen_arg(const char *text, int state)
{
        static size_t i;
        size_t len = strlen(text);

        if (!state)
                i = 0;
        while (completing && completing->args && completing->args[i]) {
                const char *a = completing->args[i++];
                char *s;

                if (strncmp(a, text, len) == 0)
                        return asprintf(&s, hmp_mode ? "%s" : "%s=", a) < 0 ? NULL : s;
        }
        return NULL;
}

static char **complete(const char *text, int start, int end)
{
        const char *line = rl_line_buffer;
        size_t w = strcspn(line, " ");

        rl_attempted_completion_over = 1; /* never fall back to file names */
        if (start == 0)
                return rl_completion_matches(text, gen_command);
        completing = find_cmd(line, w);
        if (!completing || strchr(text, '='))
                return NULL;
        if (!hmp_mode)
                rl_completion_append_character = '\0';
        return rl_completion_matches(text, gen_arg);
}

/* `cmd key=value ...` (qmp-shell's syntax; a value that is JSON is taken as
 * JSON, anything else as a string), or a whole JSON command object. */
static int parse_line(char *line, json_object **ret, struct qc_err *err)
{
        _cleanup_json_ json_object *cmd = NULL, *args = NULL;
        char *save = NULL, *word;

        if (line[0] == '{') {
                enum json_tokener_error jerr;

                cmd = json_tokener_parse_verbose(line, &jerr);
                if (!cmd || !json_object_is_type(cmd, json_type_object))
                        return qc_err_set(err, EINVAL, "not a JSON object: %s",
                                          cmd ? "another JSON value" : json_tokener_error_desc(jerr));
                *ret = TAKE_PTR(cmd);
                return 0;
        }
        cmd = json_object_new_object();
        word = strtok_r(line, " \t", &save);
        if (!cmd || !word)
                return qc_err_set(err, EINVAL, "empty command");
        json_object_object_add(cmd, "execute", json_object_new_string(word));
        while ((word = strtok_r(NULL, " \t", &save))) {
                char *eq = strchr(word, '=');
                json_object *v;

                if (!eq || eq == word)
                        return qc_err_set(err, EINVAL, "`%s`: arguments are KEY=VALUE", word);
                *eq = '\0';
                if (!args && !(args = json_object_new_object()))
                        return qc_err_set(err, ENOMEM, "out of memory");
                v = json_tokener_parse(eq + 1);
                if (!v && strcmp(eq + 1, "null") != 0)
                        v = json_object_new_string(eq + 1);
                json_object_object_add(args, word, v);
        }
        if (args)
                json_object_object_add(cmd, "arguments", TAKE_PTR(args));
        *ret = TAKE_PTR(cmd);
        return 0;
}

static void print_pretty(json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_events(struct qmp *q)
{
        json_object *ev;

        while ((ev = qmp_next_event(q))) {
                printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(ev);
        }
        fflush(stdout);
}

/* Returns -1 when QEMU is gone. */
static int run_hmp(const char *verb, struct qmp *q, const char *line)
{
        _cleanup_free_ char *out = NULL;
        struct qc_err err = { 0 };

        if (qmp_hmp(q, line, &out, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: %s\n", verb, err.msg);
                return err.code == ECONNRESET ? -1 : 0;
        }
        cli_hmp_print(out);
        return 0;
}

int cli_qmp_shell(const char *verb, struct qmp *q, const char *vm, bool hmp)
{
        _cleanup_free_ char *prompt = NULL;
        struct qc_err err = { 0 };
        bool tty = isatty(STDIN_FILENO);
        char *line;

        hmp_mode = hmp;
        if ((hmp ? load_hmp_cmds(q, &err) : load_cmds(q, &err)) < 0) {
                free_cmds();
                return cli_fail(verb, &err);
        }
        if (asprintf(&prompt, "(%s%s%s) ", hmp ? "HMP" : "QEMU", vm ? " " : "", vm ? vm : "") < 0)
                prompt = NULL;
        rl_readline_name = hmp ? "qemuctl-hmp" : "qemuctl-qmp";
        rl_attempted_completion_function = complete;
        if (tty) {
                const struct qmp_version *v = qmp_greeting_version(q);
                if (hmp)
                        printf("HMP shell: QEMU %d.%d.%d, %zu commands. Tab completes commands (and info's);\n"
                               "Ctrl-D leaves (`quit` quits QEMU).\n",
                               v->major, v->minor, v->micro, n_cmds);
                else
                        printf("QMP shell: QEMU %d.%d.%d, %zu commands. Tab completes commands and their "
                               "arguments;\ntype COMMAND KEY=VALUE... or a JSON object. Ctrl-D leaves "
                               "(`quit` quits QEMU).\n",
                               v->major, v->minor, v->micro, n_cmds);
        }
        for (;;) {
                _cleanup_json_ json_object *cmd = NULL, *reply = NULL;
                json_object *e;
                char *p;

                qmp_poll_events(q, 0, NULL);
                print_events(q);
                line = readline(tty ? (prompt ? prompt : "(QEMU) ") : "");
                if (!line)
                        break;
                for (p = line; *p == ' ' || *p == '\t'; p++)
                        ;
                if (!*p) {
                        free(line);
                        continue;
                }
                add_history(p);
                if (hmp) {
                        int gone = run_hmp(verb, q, p);
                        free(line);
                        fflush(stdout);
                        if (gone < 0) {
                                free_cmds();
                                return CLI_EXIT_FAIL;
                        }
                        continue;
                }
                if (parse_line(p, &cmd, &err) < 0) {
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, err.msg);
                        free(line);
                        continue;
                }
                free(line);
                if (qmp_execute_raw(q, TAKE_PTR(cmd), &reply, &err) < 0) {
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, err.msg);
                        if (err.code == ECONNRESET) {
                                free_cmds();
                                return CLI_EXIT_FAIL;
                        }
                        continue;
                }
                if (json_object_object_get_ex(reply, "return", &e))
                        print_pretty(e);
                else if (json_object_object_get_ex(reply, "error", &e)) {
                        json_object *cls = NULL, *desc = NULL;
                        json_object_object_get_ex(e, "class", &cls);
                        json_object_object_get_ex(e, "desc", &desc);
                        fprintf(stderr, "error: %s: %s\n", cls ? json_object_get_string(cls) : "?",
                                desc ? json_object_get_string(desc) : "?");
                }
                fflush(stdout);
        }
        if (tty)
                putchar('\n');
        free_cmds();
        return CLI_EXIT_OK;
}
