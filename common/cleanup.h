/* Scope-bound cleanup, after systemd's _cleanup_ and crun's cleanup_free. */
#pragma once
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a scope: *ret = TAKE_PTR(p); */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _tp_ = (p);    \
                (p) = NULL;                  \
                _tp_;                        \
        })
#define TAKE_FD(fd)                          \
        ({                                   \
                int _tf_ = (fd);             \
                (fd) = -1;                   \
                _tf_;                        \
        })

/* Declare a cleanup helper for a type with a destructor that accepts NULL. */
#define DEFINE_CLEANUP_FUNC(type, func)             \
        static inline void func##p(type *p)         \
        {                                           \
                if (*p)                             \
                        func(*p);                   \
        }

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
