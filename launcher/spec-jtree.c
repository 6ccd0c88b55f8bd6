/* A small JSON reader that keeps where every key and value starts, accepts
 * // and block comments, and refuses everything else JSON refuses (trailing
 * commas, single quotes, NaN). json-c does not report positions of values,
 * and every diagnostic about a VM file must name line and column. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "spec-internal.h"

struct reader {
        const char *s, *end;
        const char *p;
        unsigned line;
        const char *line_start;
        unsigned err_line, err_col;
        char *err;
        bool oom;
};

static unsigned col_of(const struct reader *r, const char *at)
{
        return (unsigned)(at - r->line_start) + 1;
}

__attribute__((format(printf, 3, 4))) static int fail_at(struct reader *r, const char *at, const char *fmt, ...)
{
        va_list ap;

        if (r->err || r->oom)
                return -EINVAL;
        /* at is on the current line or later on it; lines never go back */
        r->err_line = r->line;
        r->err_col = col_of(r, at);
        va_start(ap, fmt);
        if (vasprintf(&r->err, fmt, ap) < 0) {
                r->err = NULL;
                r->oom = true;
        }
        va_end(ap);
        return r->oom ? -ENOMEM : -EINVAL;
}

static void advance(struct reader *r)
{
        if (*r->p == '\n') {
                r->line++;
                r->line_start = r->p + 1;
        }
        r->p++;
}

static int skip_space(struct reader *r)
{
        while (r->p < r->end) {
                char ch = *r->p;

                if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                        advance(r);
                } else if (ch == '/' && r->p + 1 < r->end && r->p[1] == '/') {
                        while (r->p < r->end && *r->p != '\n')
                                advance(r);
                } else if (ch == '/' && r->p + 1 < r->end && r->p[1] == '*') {
                        unsigned line = r->line, col = col_of(r, r->p);

                        advance(r);
                        advance(r);
                        while (r->p < r->end && !(*r->p == '*' && r->p + 1 < r->end && r->p[1] == '/'))
                                advance(r);
                        if (r->p >= r->end) {
                                /* point at the opening, which is what needs closing */
                                r->err_line = line;
                                r->err_col = col;
                                r->err = strdup("unterminated comment; close it with */");
                                if (!r->err)
                                        r->oom = true;
                                return r->oom ? -ENOMEM : -EINVAL;
                        }
                        advance(r);
                        advance(r);
                } else {
                        break;
                }
        }
        return 0;
}

static void describe_char(const struct reader *r, char *buf, size_t len)
{
        unsigned char ch;

        if (r->p >= r->end) {
                snprintf(buf, len, "the end of the file");
                return;
        }
        ch = (unsigned char)*r->p;
        if (ch >= 0x20 && ch < 0x7f)
                snprintf(buf, len, "'%c'", ch);
        else
                snprintf(buf, len, "byte 0x%02x", ch);
}

static int hexval(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

static int read_hex4(struct reader *r, const char *at, unsigned *ret)
{
        unsigned v = 0;

        if (r->end - at < 4)
                return -1;
        for (int i = 0; i < 4; i++) {
                int h = hexval(at[i]);
                if (h < 0)
                        return -1;
                v = v * 16 + (unsigned)h;
        }
        *ret = v;
        return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | (cp >> 6));
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | (cp >> 12));
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* r->p is at the opening quote. Escapes never make the text longer, so the
 * raw length bounds the decoded one. */
static int read_string(struct reader *r, char **ret)
{
        const char *start = r->p, *q;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;

        for (q = start + 1; q < r->end && *q != '"'; q++)
                if (*q == '\\' && q + 1 < r->end)
                        q++;
        out = malloc((size_t)(q - start) + 1);
        if (!out) {
                r->oom = true;
                return -ENOMEM;
        }
        advance(r);
        for (;;) {
                unsigned char ch;

                if (r->p >= r->end)
                        return fail_at(r, start, "unterminated string; close it with \"");
                ch = (unsigned char)*r->p;
                if (ch == '"') {
                        advance(r);
                        break;
                }
                if (ch == '\n' || ch == '\r')
                        return fail_at(r, start, "unterminated string; close it with \" before the end of the line");
                if (ch < 0x20)
                        return fail_at(r, r->p, "control character (byte 0x%02x) in a string; write it as an escape like \\n",
                                       ch);
                if (ch != '\\') {
                        out[n++] = (char)ch;
                        advance(r);
                        continue;
                }
                if (r->p + 1 >= r->end)
                        return fail_at(r, start, "unterminated string; close it with \"");
                switch (r->p[1]) {
                case '"': out[n++] = '"'; break;
                case '\\': out[n++] = '\\'; break;
                case '/': out[n++] = '/'; break;
                case 'b': out[n++] = '\b'; break;
                case 'f': out[n++] = '\f'; break;
                case 'n': out[n++] = '\n'; break;
                case 'r': out[n++] = '\r'; break;
                case 't': out[n++] = '\t'; break;
                case 'u': {
                        unsigned cp, lo;
                        const char *esc = r->p;

                        if (read_hex4(r, r->p + 2, &cp) < 0)
                                return fail_at(r, esc, "invalid \\u escape; write four hex digits, like \\u00e9");
                        if (cp == 0)
                                return fail_at(r, esc, "\\u0000 is not allowed in a VM file string");
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return fail_at(r, esc, "lone low surrogate \\u%04x in a string", cp);
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (r->end - r->p < 12 || r->p[6] != '\\' || r->p[7] != 'u' ||
                                    read_hex4(r, r->p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return fail_at(r, esc, "high surrogate \\u%04x without its low half", cp);
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                r->p += 6;
                        }
                        n += put_utf8(out + n, cp);
                        r->p += 4;
                        break;
                }
                default:
                        return fail_at(r, r->p, "invalid escape '\\%c' in a string", r->p[1] >= 0x20 && r->p[1] < 0x7f ? r->p[1] : '?');
                }
                r->p += 2;
        }
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static bool isdig(char ch)
{
        return ch >= '0' && ch <= '9';
}

static int read_number(struct reader *r, char **ret)
{
        const char *start = r->p, *q = r->p;

        if (q < r->end && *q == '-')
                q++;
        if (q >= r->end || !isdig(*q))
                return fail_at(r, start, "invalid number; JSON numbers look like 4, 10 or 2.5");
        if (*q == '0' && q + 1 < r->end && isdig(q[1]))
                return fail_at(r, start, "invalid number: JSON numbers have no leading zeros");
        while (q < r->end && isdig(*q))
                q++;
        if (q < r->end && *q == '.') {
                q++;
                if (q >= r->end || !isdig(*q))
                        return fail_at(r, start, "invalid number: a digit must follow the '.'");
                while (q < r->end && isdig(*q))
                        q++;
        }
        if (q < r->end && (*q == 'e' || *q == 'E')) {
                q++;
                if (q < r->end && (*q == '+' || *q == '-'))
                        q++;
                if (q >= r->end || !isdig(*q))
                        return fail_at(r, start, "invalid number: a digit must follow the exponent");
                while (q < r->end && isdig(*q))
                        q++;
        }
        *ret = strndup(start, (size_t)(q - start));
        if (!*ret) {
                r->oom = true;
                return -ENOMEM;
        }
        r->p = q; /* numbers hold no newlines */
        return 0;
}

static bool word_at(const struct reader *r, const char *w)
{
        size_t n = strlen(w);
        return (size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0;
}

static int push_kid(struct reader *r, struct jt *parent, size_t *cap, struct jt **ret)
{
        if (parent->n == *cap) {
                size_t nc = *cap ? *cap * 2 : 4;
                struct jt *nk = realloc(parent->kids, nc * sizeof *nk);
                if (!nk) {
                        r->oom = true;
                        return -ENOMEM;
                }
                parent->kids = nk;
                *cap = nc;
        }
        *ret = &parent->kids[parent->n++];
        memset(*ret, 0, sizeof **ret);
        return 0;
}

static int read_value(struct reader *r, struct jt *v, unsigned depth);

static int read_container(struct reader *r, struct jt *v, unsigned depth, bool object)
{
        const char close = object ? '}' : ']';
        size_t cap = 0;
        int rc;

        if (depth >= SPEC_DEPTH_MAX)
                return fail_at(r, r->p, "nested deeper than %d levels; a VM file needs far fewer", SPEC_DEPTH_MAX);
        advance(r);
        rc = skip_space(r);
        if (rc < 0)
                return rc;
        if (r->p < r->end && *r->p == close) {
                advance(r);
                return 0;
        }
        for (;;) {
                struct jt *kid;
                char what[32];

                rc = push_kid(r, v, &cap, &kid);
                if (rc < 0)
                        return rc;
                if (object) {
                        if (r->p >= r->end || *r->p != '"') {
                                describe_char(r, what, sizeof what);
                                return fail_at(r, r->p, "expected a key in double quotes, got %s", what);
                        }
                        kid->key_line = r->line;
                        kid->key_col = col_of(r, r->p);
                        rc = read_string(r, &kid->key);
                        if (rc < 0)
                                return rc;
                        rc = skip_space(r);
                        if (rc < 0)
                                return rc;
                        if (r->p >= r->end || *r->p != ':') {
                                describe_char(r, what, sizeof what);
                                return fail_at(r, r->p, "expected ':' after the key \"%.40s\", got %s", kid->key, what);
                        }
                        advance(r);
                        rc = skip_space(r);
                        if (rc < 0)
                                return rc;
                }
                rc = read_value(r, kid, depth + 1);
                if (rc < 0)
                        return rc;
                rc = skip_space(r);
                if (rc < 0)
                        return rc;
                if (r->p < r->end && *r->p == close) {
                        advance(r);
                        return 0;
                }
                if (r->p >= r->end || *r->p != ',')
                        return fail_at(r, r->p, "expected ',' or '%c' after a value", close);
                {
                        const char *comma = r->p;
                        unsigned cline = r->line;
                        const char *cstart = r->line_start;

                        advance(r);
                        rc = skip_space(r);
                        if (rc < 0)
                                return rc;
                        if (r->p < r->end && *r->p == close) {
                                /* report at the comma itself */
                                r->line = cline;
                                r->line_start = cstart;
                                return fail_at(r, comma, "trailing comma before '%c'; JSON allows none, remove it",
                                               close);
                        }
                }
        }
}

static int read_value(struct reader *r, struct jt *v, unsigned depth)
{
        char what[32];

        v->line = r->line;
        v->col = col_of(r, r->p);
        if (r->p >= r->end)
                return fail_at(r, r->p, "unexpected end of the file; expected a value");
        switch (*r->p) {
        case '{':
                v->type = JT_OBJECT;
                return read_container(r, v, depth, true);
        case '[':
                v->type = JT_ARRAY;
                return read_container(r, v, depth, false);
        case '"':
                v->type = JT_STRING;
                return read_string(r, &v->str);
        case '-':
        case '0' ... '9':
                v->type = JT_NUMBER;
                return read_number(r, &v->str);
        default:
                break;
        }
        if (word_at(r, "true") || word_at(r, "false")) {
                v->type = JT_BOOL;
                v->b = *r->p == 't';
                r->p += v->b ? 4 : 5;
                return 0;
        }
        if (word_at(r, "null")) {
                v->type = JT_NULL;
                r->p += 4;
                return 0;
        }
        if (*r->p == '\'')
                return fail_at(r, r->p, "strings take double quotes in JSON, not single quotes");
        describe_char(r, what, sizeof what);
        return fail_at(r, r->p, "expected a value (a string, number, object, array, true, false or null), got %s",
                       what);
}

static void jt_done(struct jt *t)
{
        for (size_t i = 0; i < t->n; i++)
                jt_done(&t->kids[i]);
        free(t->kids);
        free(t->key);
        free(t->str);
}

void jt_clear(struct jt *t)
{
        jt_done(t);
        memset(t, 0, sizeof *t);
}

void jt_free(struct jt *t)
{
        if (!t)
                return;
        jt_done(t);
        free(t);
}

int jt_parse(const char *text, size_t len, struct jt **ret, unsigned *ret_line, unsigned *ret_col, char **ret_msg)
{
        struct reader r = { .s = text, .end = text + len, .p = text, .line = 1, .line_start = text };
        struct jt *root = calloc(1, sizeof *root);
        int rc;

        if (!root)
                return -ENOMEM;
        /* a UTF-8 byte order mark, as some editors write */
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                r.p = r.line_start = text + 3;
        rc = skip_space(&r);
        if (rc == 0 && r.p >= r.end)
                rc = fail_at(&r, r.p, "the file is empty; a VM file is a JSON object like {\"name\": \"vm1\"}");
        if (rc == 0)
                rc = read_value(&r, root, 0);
        if (rc == 0)
                rc = skip_space(&r);
        if (rc == 0 && r.p < r.end)
                rc = fail_at(&r, r.p, "unexpected text after the end of the VM file's object");
        if (r.oom) {
                jt_free(root);
                free(r.err);
                return -ENOMEM;
        }
        if (rc < 0) {
                jt_free(root);
                *ret_line = r.err_line;
                *ret_col = r.err_col;
                *ret_msg = r.err;
                return -EINVAL;
        }
        *ret = root;
        return 0;
}

const char *jt_type_name(enum jt_type t)
{
        switch (t) {
        case JT_NULL: return "null";
        case JT_BOOL: return "a boolean";
        case JT_NUMBER: return "a number";
        case JT_STRING: return "a string";
        case JT_ARRAY: return "an array";
        case JT_OBJECT: return "an object";
        default: return "a value";
        }
}
