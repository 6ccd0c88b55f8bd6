/* NULL-terminated string vectors: argv builders and lists. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

typedef struct strv {
        char **v;   /* always NULL-terminated once anything was pushed */
        size_t n;
        size_t cap;
} strv;

/* Append a copy of s. Returns 0, or -ENOMEM. */
int strv_push(strv *sv, const char *s);
/* Append a formatted string. Returns 0, or -ENOMEM. */
int strv_pushf(strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of s (freed on failure). */
int strv_consume(strv *sv, char *s);
void strv_done(strv *sv);           /* free contents, leave empty */
char **strv_steal(strv *sv);        /* hand out v (never NULL on success), leave empty */
void strv_free(char **v);           /* free a NULL-terminated vector */
size_t strv_length(char *const *v);
/* The strings of v (may be NULL: "") joined by sep, malloc'd; NULL when out of memory. */
char *strv_join(char *const *v, const char *sep);
/* Whether the NULL-terminated v holds s. */
bool strv_contains(char *const *v, const char *s);
/* Sort the strings in strcmp order. */
void strv_sort(strv *sv);
/* Quote one word for a POSIX shell: returns a malloc'd string or NULL. */
char *shell_quote(const char *s);

static inline void strv_donep(strv *sv)
{
        strv_done(sv);
}
static inline void strv_freep(char ***v)
{
        strv_free(*v);
}
#define _cleanup_strv_ _cleanup_(strv_donep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
