/* Turning positioned JSON nodes into typed values, with one diagnostic per
 * problem that says what was wrong and what would be right. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "spec-internal.h"

__attribute__((format(printf, 5, 0))) static void vdiag(struct spec_ctx *c, unsigned line, unsigned col, const char *path,
                                                   const char *fmt, va_list ap)
{
        struct spec_diag *nv, *d;

        if (c->oom)
                return;
        nv = realloc(c->diags->v, (c->diags->n + 1) * sizeof *nv);
        if (!nv) {
                c->oom = true;
                return;
        }
        c->diags->v = nv;
        d = &nv[c->diags->n];
        *d = (struct spec_diag){ .line = line, .col = col };
        if (line >= SPEC_SET_LINE) {
                /* a --set change's value: name the option, not a place in the file */
                size_t i = line - SPEC_SET_LINE, n = 0;
                while (c->origins && c->origins[n])
                        n++;
                d->line = d->col = 0;
                if (i < n && !(d->origin = strdup(c->origins[i]))) {
                        c->oom = true;
                        return;
                }
        }
        d->path = path ? strdup(path) : NULL;
        if (vasprintf(&d->msg, fmt, ap) < 0)
                d->msg = NULL;
        if ((path && !d->path) || !d->msg) {
                free(d->origin);
                free(d->path);
                free(d->msg);
                c->oom = true;
                return;
        }
        c->diags->n++;
}

void diag_at(struct spec_ctx *c, unsigned line, unsigned col, const char *path, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vdiag(c, line, col, path, fmt, ap);
        va_end(ap);
}

bool jt_failed(const struct spec_ctx *c, const struct jt *n)
{
        if (!n)
                return false;
        for (size_t i = 0; i < c->n_failed; i++)
                if (c->failed[i] == n)
                        return true;
        for (size_t i = 0; i < n->n; i++)
                if (jt_failed(c, &n->kids[i]))
                        return true;
        return false;
}

void diag(struct spec_ctx *c, const struct jt *n, const char *path, const char *fmt, ...)
{
        va_list ap;

        if (n && !c->oom) {
                const struct jt **nf = realloc(c->failed, (c->n_failed + 1) * sizeof *nf);
                if (!nf)
                        c->oom = true;
                else {
                        c->failed = nf;
                        c->failed[c->n_failed++] = n;
                }
        }

        va_start(ap, fmt);
        vdiag(c, n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
        va_end(ap);
}

char *path_key(struct spec_ctx *c, const char *parent, const char *key)
{
        char *p = NULL;

        if (asprintf(&p, "%s%s%s", parent && *parent ? parent : "", parent && *parent ? "." : "", key) < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

char *path_idx(struct spec_ctx *c, const char *parent, size_t i)
{
        char *p = NULL;

        if (asprintf(&p, "%s[%zu]", parent ? parent : "", i) < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

/* Quote s for a message: printable ASCII as is, other bytes as \xNN, long
 * values cut with "...". */
static void quote(const char *s, char *buf, size_t len)
{
        size_t o = 0, i;

        if (len < 8) {
                if (len)
                        buf[0] = '\0';
                return;
        }
        buf[o++] = '"';
        for (i = 0; s[i] && o + 8 < len; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (ch == '"' || ch == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)ch;
                } else if (ch >= 0x20 && ch < 0x7f) {
                        buf[o++] = (char)ch;
                } else {
                        o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
                }
        }
        if (s[i]) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o++] = '"';
        buf[o] = '\0';
}

void jt_describe(const struct jt *n, char *buf, size_t len)
{
        char q[72];

        switch (n->type) {
        case JT_STRING:
                quote(n->str, q, sizeof q);
                snprintf(buf, len, "%s", q);
                break;
        case JT_NUMBER:
                snprintf(buf, len, "%.40s%s", n->str, strlen(n->str) > 40 ? "..." : "");
                break;
        case JT_BOOL:
                snprintf(buf, len, "%s", n->b ? "true" : "false");
                break;
        case JT_NULL:
        case JT_ARRAY:
        case JT_OBJECT:
        default:
                snprintf(buf, len, "%s", jt_type_name(n->type));
                break;
        }
}

/* "expected X, got Y" with Y typed: `a number (4)`, `"x"`, `an array` */
static void wrong_type(struct spec_ctx *c, const struct jt *n, const char *path, const char *expected)
{
        char got[96];

        if (n->type == JT_NUMBER) {
                char num[64];
                jt_describe(n, num, sizeof num);
                snprintf(got, sizeof got, "the number %s", num);
        } else if (n->type == JT_STRING) {
                char s[80];
                jt_describe(n, s, sizeof s);
                snprintf(got, sizeof got, "the string %s", s);
        } else {
                jt_describe(n, got, sizeof got);
        }
        diag(c, n, path, "expected %s, got %s", expected, got);
}

const struct jt *jt_get(const struct jt *obj, const char *key)
{
        if (!obj || obj->type != JT_OBJECT)
                return NULL;
        /* with duplicate keys (reported), the first one counts */
        for (size_t i = 0; i < obj->n; i++)
                if (strcmp(obj->kids[i].key, key) == 0)
                        return &obj->kids[i];
        return NULL;
}

unsigned edit_distance(const char *a, const char *b, unsigned cap)
{
        size_t la = strlen(a), lb = strlen(b);
        unsigned row[64];

        if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
                return cap + 1;
        if ((la > lb ? la - lb : lb - la) > cap)
                return cap + 1;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned diagv = row[0];
                row[0] = (unsigned)i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j], best;
                        best = diagv + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        diagv = up;
                        row[j] = best;
                }
        }
        return row[lb];
}

void check_duplicates(struct spec_ctx *c, const struct jt *obj, const char *path)
{
        for (size_t i = 0; i < obj->n; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(obj->kids[i].key, obj->kids[j].key) == 0) {
                                _cleanup_free_ char *p = path_key(c, path, obj->kids[i].key);
                                diag_at(c, obj->kids[i].key_line, obj->kids[i].key_col, p,
                                        "duplicate key (first given at line %u); keep one", obj->kids[j].key_line);
                                break;
                        }
}

const char *spec_suggest(const char *word, const char *const *names)
{
        /* a typo costs one or two edits; short keys allow fewer */
        unsigned cap = strlen(word) <= 3 ? 1 : strlen(word) <= 8 ? 2 : 3, best_d = 0;
        const char *best = NULL;

        for (const char *const *kk = names; *kk; kk++) {
                unsigned d = edit_distance(word, *kk, cap);
                if (d <= cap && (!best || d < best_d)) {
                        best = *kk;
                        best_d = d;
                }
        }
        return best;
}

bool check_object(struct spec_ctx *c, const struct jt *obj, const char *path, const char *const *keys)
{
        if (obj->type != JT_OBJECT) {
                wrong_type(c, obj, path, "an object");
                return false;
        }
        for (size_t i = 0; i < obj->n; i++) {
                const struct jt *k = &obj->kids[i];
                const char *best;
                bool known = false;

                for (const char *const *kk = keys; *kk; kk++)
                        if (strcmp(*kk, k->key) == 0)
                                known = true;
                if (known)
                        continue;
                best = spec_suggest(k->key, keys);
                {
                        _cleanup_free_ char *p = path_key(c, path, k->key);
                        if (best) {
                                diag_at(c, k->key_line, k->key_col, p, "unknown key; did you mean \"%s\"?", best);
                        } else {
                                char list[512];
                                size_t o = 0;
                                for (const char *const *kk = keys; *kk && o < sizeof list; kk++)
                                        if (**kk != '$') /* "$schema" is for editors */
                                                o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"",
                                                                      o ? ", " : "", *kk);
                                diag_at(c, k->key_line, k->key_col, p, "unknown key; known keys here: %s", list);
                        }
                }
        }
        check_duplicates(c, obj, path);
        return true;
}

int get_string(struct spec_ctx *c, const struct jt *n, const char *path, char **ret)
{
        char *s;

        if (n->type != JT_STRING) {
                wrong_type(c, n, path, "a string");
                return -1;
        }
        s = strdup(n->str);
        if (!s) {
                c->oom = true;
                return -1;
        }
        free(*ret);
        *ret = s;
        return 0;
}

int get_bool(struct spec_ctx *c, const struct jt *n, const char *path, bool *ret)
{
        if (n->type != JT_BOOL) {
                wrong_type(c, n, path, "true or false");
                return -1;
        }
        *ret = n->b;
        return 0;
}

int get_uint(struct spec_ctx *c, const struct jt *n, const char *path, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        const char *p;
        bool range = false;

        if (n->type != JT_NUMBER) {
                char want[96];
                snprintf(want, sizeof want, "a whole number from %" PRIu64 " to %" PRIu64, min, max);
                wrong_type(c, n, path, want);
                return -1;
        }
        for (p = n->str; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        range = true;
                else
                        v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p || n->str[0] == '-') {
                if (n->str[0] == '-' && n->str[1] == '0' && n->str[2] == '\0')
                        v = 0; /* -0 is 0 */
                else {
                        diag(c, n, path, "expected a whole number from %" PRIu64 " to %" PRIu64 ", got %.40s", min, max,
                             n->str);
                        return -1;
                }
        }
        if (range || v < min || v > max) {
                diag(c, n, path, "%.40s is out of range; expected a whole number from %" PRIu64 " to %" PRIu64,
                     n->str, min, max);
                return -1;
        }
        *ret = v;
        return 0;
}

int get_size(struct spec_ctx *c, const struct jt *n, const char *path, uint64_t *ret)
{
        char q[80];
        int r;

        if (n->type == JT_NUMBER) {
                diag(c, n, path, "%.40s is a bare number; write it with a unit, like \"4G\"", n->str);
                return -1;
        }
        if (n->type != JT_STRING) {
                wrong_type(c, n, path, "a size like \"4G\"");
                return -1;
        }
        quote(n->str, q, sizeof q);
        r = parse_size(n->str, ret);
        if (r == -ERANGE) {
                diag(c, n, path, "%s is too large; the largest size is \"16383P\"", q);
                return -1;
        }
        if (r < 0) {
                const char *p = n->str;
                while (*p >= '0' && *p <= '9')
                        p++;
                if (p != n->str && !*p)
                        diag(c, n, path, "%s has no unit; write it with one, like \"%sM\" or \"4G\"", q, n->str);
                else
                        diag(c, n, path, "expected a size like \"4G\" or \"512M\", got %s", q);
                return -1;
        }
        return 0;
}

int get_cpuset(struct spec_ctx *c, const struct jt *n, const char *path, const char *what, struct cpuset *ret)
{
        char q[80];
        size_t pos = 0;
        int r;

        if (n->type == JT_NUMBER) {
                diag(c, n, path, "expected %s as a string, like \"%.20s\"", what, n->str);
                return -1;
        }
        if (n->type != JT_STRING) {
                char want[96];
                snprintf(want, sizeof want, "%s like \"0-3,8\"", what);
                wrong_type(c, n, path, want);
                return -1;
        }
        quote(n->str, q, sizeof q);
        r = cpuset_parse(n->str, ret, &pos);
        if (r == -ERANGE) {
                diag(c, n, path, "%s names a number past %d, the most qemuctl handles", q, QC_CPUSET_MAX - 1);
                return -1;
        }
        if (r < 0) {
                diag(c, n, path, "expected %s like \"0-3,8\" (kernel cpulist syntax), got %s", what, q);
                return -1;
        }
        return 0;
}

int get_enum(struct spec_ctx *c, const struct jt *n, const char *path, const char *const *names, int count)
{
        char list[256];
        size_t o = 0;

        if (n->type == JT_STRING)
                for (int i = 0; i < count; i++)
                        if (names[i] && strcmp(names[i], n->str) == 0)
                                return i;
        for (int i = 0; i < count && o < sizeof list; i++)
                if (names[i])
                        o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", o ? ", " : "", names[i]);
        if (n->type == JT_STRING) {
                char q[80];
                quote(n->str, q, sizeof q);
                diag(c, n, path, "expected one of %s; got %s", list, q);
        } else {
                char want[300];
                snprintf(want, sizeof want, "one of %s", list);
                wrong_type(c, n, path, want);
        }
        return -1;
}
