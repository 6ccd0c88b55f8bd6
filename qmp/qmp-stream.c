#include "qmp-stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

#define SNIPPET_MAX 80

int qmp_stream_init(struct qmp_stream *s, size_t max_line)
{
        *s = (struct qmp_stream){ .max_line = max_line };
        /* QAPI schemas nest a handful of levels; 64 leaves room and still
         * bounds the recursion a hostile peer can cause. */
        s->tok = json_tokener_new_ex(64);
        if (!s->tok)
                return -ENOMEM;
        json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
        return 0;
}

void qmp_stream_done(struct qmp_stream *s)
{
        free(s->buf);
        if (s->tok)
                json_tokener_free(s->tok);
        *s = (struct qmp_stream){ 0 };
}

size_t qmp_stream_pending(const struct qmp_stream *s)
{
        return s->len - s->start;
}

void qmp_stream_drop_partial(struct qmp_stream *s)
{
        if (s->line_start < s->start)
                s->line_start = s->start;
        s->len = s->line_start;
        if (s->scan > s->len)
                s->scan = s->len;
}

void qmp_snippet(const char *data, size_t n, size_t max, char *out, size_t outlen)
{
        size_t o = 0;

        if (outlen == 0)
                return;
        for (size_t i = 0; i < n && i < max; i++) {
                unsigned char c = (unsigned char)data[i];
                char tmp[8];
                size_t k;

                if (c == '"' || c == '\\')
                        k = (size_t)snprintf(tmp, sizeof tmp, "\\%c", c);
                else if (c >= 0x20 && c < 0x7f)
                        k = (size_t)snprintf(tmp, sizeof tmp, "%c", c);
                else if (c == '\r')
                        k = (size_t)snprintf(tmp, sizeof tmp, "\\r");
                else if (c == '\n')
                        k = (size_t)snprintf(tmp, sizeof tmp, "\\n");
                else
                        k = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
                if (o + k + 4 >= outlen)
                        break;
                memcpy(out + o, tmp, k);
                o += k;
        }
        if (n > max && o + 4 < outlen) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
}

static int stream_reserve(struct qmp_stream *s, size_t n, struct qc_err *err)
{
        size_t need, cap;
        char *nb;

        if (s->start > 0 && (s->start == s->len || s->start >= s->cap / 2 || s->len + n > s->cap)) {
                memmove(s->buf, s->buf + s->start, s->len - s->start);
                s->len -= s->start;
                s->scan -= s->start;
                s->line_start -= s->start;
                s->start = 0;
        }
        need = s->len + n;
        if (need <= s->cap)
                return 0;
        cap = s->cap ? s->cap : 4096;
        while (cap < need)
                cap *= 2;
        nb = realloc(s->buf, cap);
        if (!nb)
                return qc_err_set(err, ENOMEM, "out of memory buffering %zu bytes", need);
        s->buf = nb;
        s->cap = cap;
        return 0;
}

int qmp_stream_push(struct qmp_stream *s, const void *data, size_t n, struct qc_err *err)
{
        const char *nl;
        size_t partial, old_len = s->len;

        if (n == 0)
                return 0;
        /* Only the unfinished line counts against the cap; complete lines are
         * checked as they are popped. */
        nl = memrchr(data, '\n', n);
        partial = nl ? (size_t)((const char *)data + n - nl - 1) : s->len - s->line_start + n;
        if (partial > s->max_line)
                return qc_err_set(err, EMSGSIZE, "message from %s longer than %zu bytes",
                                  s->peer ? s->peer : "the QMP peer", s->max_line);
        if (stream_reserve(s, n, err) < 0)
                return -1;
        old_len = s->len;
        memcpy(s->buf + s->len, data, n);
        s->len += n;
        if (nl)
                s->line_start = old_len + (size_t)(nl - (const char *)data) + 1;
        return 0;
}

static bool blank(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
                        return false;
        return true;
}

int qmp_stream_pop(struct qmp_stream *s, json_object **ret, struct qc_err *err)
{
        if (!s->buf)
                return 0;
        for (;;) {
                const char *line = s->buf + s->start, *nl;
                size_t n;
                json_object *o;

                if (s->scan < s->start)
                        s->scan = s->start;
                nl = s->len > s->scan ? memchr(s->buf + s->scan, '\n', s->len - s->scan) : NULL;
                if (!nl) {
                        s->scan = s->len;
                        return 0;
                }
                n = (size_t)(nl - line);
                s->start += n + 1;
                s->scan = s->start;
                if (n > s->max_line)
                        return qc_err_set(err, EMSGSIZE, "message from %s longer than %zu bytes",
                                          s->peer ? s->peer : "the QMP peer", s->max_line);
                if (blank(line, n))
                        continue;
                if (line[n - 1] == '\r')
                        n--;
                json_tokener_reset(s->tok);
                o = json_tokener_parse_ex(s->tok, line, (int)n);
                if (o && (json_tokener_get_error(s->tok) != json_tokener_success ||
                          !blank(line + json_tokener_get_parse_end(s->tok),
                                 n - json_tokener_get_parse_end(s->tok)) ||
                          !json_object_is_type(o, json_type_object))) {
                        json_object_put(o);
                        o = NULL;
                }
                if (!o) {
                        char snip[SNIPPET_MAX * 4 + 8];

                        qmp_snippet(line, n, SNIPPET_MAX, snip, sizeof snip);
                        return qc_err_set(err, EPROTO, "garbage from %s: \"%s\"", s->peer ? s->peer : "the QMP peer",
                                          snip);
                }
                s->last_len = n;
                s->last_line = line;
                *ret = o;
                return 1;
        }
}
