#include "strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strv_consume(strv *sv, char *s)
{
        if (!s)
                return -ENOMEM;
        if (sv->n + 2 > sv->cap) {
                size_t cap = sv->cap ? sv->cap * 2 : 16;
                char **v = realloc(sv->v, cap * sizeof *v);
                if (!v) {
                        free(s);
                        return -ENOMEM;
                }
                sv->v = v;
                sv->cap = cap;
        }
        sv->v[sv->n++] = s;
        sv->v[sv->n] = NULL;
        return 0;
}

int strv_push(strv *sv, const char *s)
{
        return strv_consume(sv, strdup(s));
}

int strv_pushf(strv *sv, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(sv, s);
}

void strv_done(strv *sv)
{
        for (size_t i = 0; i < sv->n; i++)
                free(sv->v[i]);
        free(sv->v);
        sv->v = NULL;
        sv->n = sv->cap = 0;
}

char **strv_steal(strv *sv)
{
        char **v = sv->v;

        if (!v)
                v = calloc(1, sizeof *v);
        sv->v = NULL;
        sv->n = sv->cap = 0;
        return v;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

char *shell_quote(const char *s)
{
        size_t n = 2;
        char *out, *o;

        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=/.,:@%") == strlen(s))
                return strdup(s);
        for (const char *p = s; *p; p++)
                n += *p == '\'' ? 4 : 1;
        out = o = malloc(n + 1);
        if (!out)
                return NULL;
        *o++ = '\'';
        for (const char *p = s; *p; p++) {
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = *p;
        }
        *o++ = '\'';
        *o = '\0';
        return out;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(strv *sv)
{
        if (sv->n > 1)
                qsort(sv->v, sv->n, sizeof *sv->v, cmp_str);
}

bool strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, sl = strlen(sep);
        char *out, *p;

        for (size_t i = 0; v && v[i]; i++)
                len += strlen(v[i]) + (i ? sl : 0);
        if (!(out = malloc(len)))
                return NULL;
        p = out;
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        p = stpcpy(p, sep);
                p = stpcpy(p, v[i]);
        }
        *p = '\0';
        return out;
}
