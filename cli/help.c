/* `qemuctl help`, each verb's --help, `qemuctl version`: written from the
 * verb table (cli/verbs.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"

#ifndef QEMUCTL_VERSION
#define QEMUCTL_VERSION "0.1"
#endif

#define WIDTH 79

/* The positional part: NAME [VCPU [CPULIST]], FILE... */
static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
        size_t n = strlen(s);

        if (*len + n + 1 > *cap) {
                size_t c = (*len + n + 1) * 2;
                char *p = realloc(*buf, c);

                if (!p)
                        return;
                *buf = p;
                *cap = c;
        }
        memcpy(*buf + *len, s, n + 1);
        *len += n;
}

char *cli_verb_args(const struct verb *v)
{
        char *buf = NULL;
        size_t len = 0, cap = 0, open = 0;

        append(&buf, &len, &cap, "");
        for (const struct cli_pos *p = v->args; p && p->metavar; p++) {
                if (len)
                        append(&buf, &len, &cap, " ");
                if (p->flags & CLI_POS_OPTIONAL) {
                        append(&buf, &len, &cap, "[");
                        open++;
                }
                append(&buf, &len, &cap, p->metavar);
                if (p->flags & CLI_POS_MANY)
                        append(&buf, &len, &cap, "...");
        }
        while (open--)
                append(&buf, &len, &cap, "]");
        return buf;
}

char *cli_verb_synopsis(const struct verb *v)
{
        char *buf = NULL;
        size_t len = 0, cap = 0;

        if (v->synopsis)
                return strdup(v->synopsis);
        append(&buf, &len, &cap, "");
        for (const struct cli_opt *o = v->opts; o && o->name; o++) {
                append(&buf, &len, &cap, len ? " [--" : "[--");
                append(&buf, &len, &cap, o->name);
                if (o->metavar) {
                        append(&buf, &len, &cap, " ");
                        append(&buf, &len, &cap, o->metavar);
                }
                append(&buf, &len, &cap, "]");
        }
        _cleanup_free_ char *args = cli_verb_args(v);
        if (args && *args) {
                if (len)
                        append(&buf, &len, &cap, " ");
                append(&buf, &len, &cap, args);
        }
        return buf;
}

/* TEXT from column COL on, wrapped at WIDTH with continuation lines indented
 * to INDENT; words in [...] or '...' stay on one line (a quote opens at a
 * word's start or after = or (, so an apostrophe is a letter). */
static void wrap(FILE *f, const char *text, size_t col, size_t indent)
{
        const char *p = text;
        bool first = true;

        while (*p) {
                size_t n = 0;
                int depth = 0;
                bool quoted = false;

                /* one word: up to a space outside brackets and quotes */
                while (p[n] && (p[n] != ' ' || depth > 0 || quoted) && p[n] != '\n') {
                        if (p[n] == '[')
                                depth++;
                        else if (p[n] == ']' && depth > 0)
                                depth--;
                        else if (p[n] == '\'' && (quoted || n == 0 || p[n - 1] == '=' || p[n - 1] == '('))
                                quoted = !quoted; /* an apostrophe (QEMU's) opens nothing */
                        n++;
                }
                if (!first && col + 1 + n > WIDTH) {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                } else if (!first) {
                        fputc(' ', f);
                        col++;
                }
                fwrite(p, 1, n, f);
                col += n;
                first = false;
                p += n;
                if (*p == '\n') {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                        first = true;
                        p++;
                }
                while (*p == ' ')
                        p++;
        }
        fputc('\n', f);
}

static void usage_lines(FILE *f, const struct verb *v)
{
        _cleanup_free_ char *syn = cli_verb_synopsis(v);
        const char *p = syn ? syn : "";
        bool first = true;

        do {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                char head[64];
                int hl = snprintf(head, sizeof head, "%s qemuctl %s ", first ? "Usage:" : "      ", v->name);

                fputs(head, f);
                wrap(f, line ? line : "", (size_t)hl, (size_t)hl);
                first = false;
                p += n;
        } while (*p++ == '\n' && *p);
}

void cli_verb_help(FILE *f, const struct verb *v)
{
        size_t w = 6; /* "--help" */

        usage_lines(f, v);
        if (v->description)
                fprintf(f, "\n%s", v->description);
        fprintf(f, "\nOptions:\n");
        for (const struct cli_opt *o = v->opts; o && o->name; o++) {
                size_t n = 2 + strlen(o->name) + (o->metavar ? 1 + strlen(o->metavar) : 0) +
                           (o->short_name ? 4 : 0);
                if (n > w && n <= 22)
                        w = n;
        }
        for (const struct cli_opt *o = v->opts; o && o->name; o++) {
                char head[64];
                int n;

                if (o->short_name)
                        n = snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                                     o->metavar ? o->metavar : "");
                else
                        n = snprintf(head, sizeof head, "--%s%s%s", o->name, o->metavar ? " " : "",
                                     o->metavar ? o->metavar : "");
                if ((size_t)n > w) {
                        fprintf(f, "  %s\n%*s", head, (int)w + 4, "");
                } else {
                        fprintf(f, "  %-*s  ", (int)w, head);
                }
                wrap(f, o->help ? o->help : "", w + 4, w + 4);
        }
        fprintf(f, "  %-*s  this text\n", (int)w, "--help");
        if (v->notes)
                fprintf(f, "\n%s", v->notes);
        if (v->exits) {
                fprintf(f, "\nExit status:\n");
                for (const struct cli_exit *e = v->exits; e->code; e++) {
                        fprintf(f, "  %5s  ", e->code);
                        wrap(f, e->meaning, 9, 9);
                }
        }
        if (v->aliases)
                fprintf(f, "\nvirsh name%s: %s\n", strchr(v->aliases, ' ') ? "s" : "", v->aliases);
}

void cli_help_overview(FILE *f)
{
        fprintf(f, "Usage: qemuctl VERB [OPTIONS] [ARGS]\n\n"
                   "Run and control QEMU virtual machines directly: no daemon, no libvirt.\n"
                   "Options may come anywhere after the verb; -- ends them. Each verb takes\n"
                   "--help; `qemuctl help VERB` says the same.\n\nVerbs:\n");
        for (size_t i = 0; i < cli_n_verbs; i++) {
                const struct verb *v = &cli_verbs[i];
                _cleanup_free_ char *args = NULL;
                char head[64];

                if (v->hidden)
                        continue;
                args = cli_verb_args(v);
                snprintf(head, sizeof head, "%s %s", v->name, args ? args : "");
                if (strlen(head) > 30)
                        fprintf(f, "  %s\n  %-30s %s\n", head, "", v->summary);
                else
                        fprintf(f, "  %-30s %s\n", head, v->summary);
        }
        fprintf(f, "\nvirsh names that work too:");
        for (size_t i = 0; i < cli_n_verbs; i++) {
                const char *a = cli_verbs[i].aliases;

                while (a && *a) {
                        size_t n = strcspn(a, " ");

                        fprintf(f, " %.*s (%s)", (int)n, a, cli_verbs[i].name);
                        a += n;
                        a += strspn(a, " ");
                }
        }
        fprintf(f, "\n");
}

int cmd_help(int argc, char **argv)
{
        const struct verb *v;

        if (argc > 2)
                return cli_usage("help", "one verb at a time");
        if (argc == 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
                if (!(v = cli_verb_find(argv[1])))
                        return cli_usage("help", "unknown verb '%s'", argv[1]);
                cli_verb_help(stdout, v);
                return CLI_EXIT_OK;
        }
        cli_help_overview(stdout);
        return CLI_EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
        printf("qemuctl %s\n", QEMUCTL_VERSION);
        return CLI_EXIT_OK;
}
