/* A tiny TAP harness. Each tests/test-*.c is one program: ok() per assertion,
 * tap_done() at the end; tap_skip_all() exits 77 with the reason. */
#pragma once
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failures;

__attribute__((format(printf, 4, 5))) static inline int tap_ok(int cond, const char *file, int line,
                                                               const char *fmt, ...)
{
        va_list ap;

        tap_count++;
        printf("%sok %d - ", cond ? "" : "not ", tap_count);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond) {
                tap_failures++;
                printf("#   failed at %s:%d\n", file, line);
        }
        fflush(stdout);
        return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                         \
        ({                                                                                             \
                long long _g = (long long)(got), _w = (long long)(want);                               \
                int _r = ok(_g == _w, __VA_ARGS__);                                                    \
                if (!_r)                                                                               \
                        printf("#   got %lld, want %lld\n", _g, _w);                                   \
                _r;                                                                                    \
        })

#define is_str(got, want, ...)                                                                         \
        ({                                                                                             \
                const char *_g = (got), *_w = (want);                                                  \
                int _r = ok(_g && _w && strcmp(_g, _w) == 0, __VA_ARGS__);                             \
                if (!_r)                                                                               \
                        printf("#   got  \"%s\"\n#   want \"%s\"\n", _g ? _g : "(null)", _w ? _w : "(null)"); \
                _r;                                                                                    \
        })

/* Say why and exit 77 (the runner counts and names skips). */
__attribute__((noreturn, format(printf, 1, 2))) static inline void tap_skip_all(const char *fmt, ...)
{
        va_list ap;

        printf("1..0 # SKIP ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        exit(77);
}

static inline void tap_diag(const char *fmt, ...)
{
        va_list ap;

        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
}

/* The source tree (QEMUCTL_SRCDIR, else the current directory) as an
 * absolute path, malloc'd; the whole test is skipped when it does not exist. */
static inline char *tap_srcdir(void)
{
        const char *d = getenv("QEMUCTL_SRCDIR");
        char *r = realpath(d ? d : ".", NULL);

        if (!r)
                tap_skip_all("QEMUCTL_SRCDIR %s does not exist", d ? d : ".");
        return r;
}

/* How many entries DIR holds (not . and ..), or -1 where it cannot be read. */
static inline int tap_count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static inline int tap_done(void)
{
        printf("1..%d\n", tap_count);
        if (tap_count == 0) {
                printf("# no assertion ran\n");
                return 1;
        }
        return tap_failures ? 1 : 0;
}
