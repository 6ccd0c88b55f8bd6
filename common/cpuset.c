#include "cpuset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpuset_zero(struct cpuset *cs)
{
        memset(cs, 0, sizeof *cs);
}

void cpuset_set(struct cpuset *cs, unsigned i)
{
        if (i < QC_CPUSET_MAX)
                cs->bits[i / 64] |= UINT64_C(1) << (i % 64);
}

void cpuset_clear(struct cpuset *cs, unsigned i)
{
        if (i < QC_CPUSET_MAX)
                cs->bits[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

bool cpuset_isset(const struct cpuset *cs, unsigned i)
{
        return i < QC_CPUSET_MAX && (cs->bits[i / 64] >> (i % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *cs)
{
        unsigned n = 0;

        for (size_t i = 0; i < QC_CPUSET_WORDS; i++)
                n += (unsigned)__builtin_popcountll(cs->bits[i]);
        return n;
}

bool cpuset_is_empty(const struct cpuset *cs)
{
        return cpuset_count(cs) == 0;
}

bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < QC_CPUSET_WORDS; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
        return memcmp(a->bits, b->bits, sizeof a->bits) == 0;
}

void cpuset_or(struct cpuset *cs, const struct cpuset *add)
{
        for (size_t i = 0; i < QC_CPUSET_WORDS; i++)
                cs->bits[i] |= add->bits[i];
}

int cpuset_last(const struct cpuset *cs)
{
        for (int i = QC_CPUSET_WORDS - 1; i >= 0; i--)
                if (cs->bits[i])
                        return i * 64 + 63 - __builtin_clzll(cs->bits[i]);
        return -1;
}

static int parse_uint(const char **p, unsigned *ret)
{
        unsigned long v = 0;

        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        while (isdigit((unsigned char)**p)) {
                v = v * 10 + (unsigned long)(**p - '0');
                if (v >= QC_CPUSET_MAX)
                        return -ERANGE;
                (*p)++;
        }
        *ret = (unsigned)v;
        return 0;
}

int cpuset_parse(const char *s, struct cpuset *ret, size_t *ret_pos)
{
        struct cpuset cs, excl;
        const char *p = s;
        int r;

        cpuset_zero(&cs);
        cpuset_zero(&excl);
        if (!s)
                return -EINVAL;
        for (;;) {
                unsigned a, b, used = 1, group = 1;
                bool neg = false;

                while (*p == ' ')
                        p++;
                if (*p == '^') {
                        neg = true;
                        p++;
                }
                r = parse_uint(&p, &a);
                if (r < 0)
                        goto fail;
                b = a;
                if (*p == '-') {
                        p++;
                        r = parse_uint(&p, &b);
                        if (r < 0)
                                goto fail;
                        if (b < a) {
                                r = -EINVAL;
                                goto fail;
                        }
                        if (*p == ':') {
                                p++;
                                r = parse_uint(&p, &used);
                                if (r < 0)
                                        goto fail;
                                if (*p != '/') {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                p++;
                                r = parse_uint(&p, &group);
                                if (r < 0)
                                        goto fail;
                                if (used == 0 || group == 0 || used > group) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                        }
                }
                if (neg && b != a) {
                        r = -EINVAL;
                        goto fail;
                }
                for (unsigned i = a; i <= b; i++)
                        if ((i - a) % group < used)
                                cpuset_set(neg ? &excl : &cs, i);
                while (*p == ' ')
                        p++;
                if (*p == '\0')
                        break;
                if (*p != ',') {
                        r = -EINVAL;
                        goto fail;
                }
                p++;
        }
        for (size_t i = 0; i < QC_CPUSET_WORDS; i++)
                cs.bits[i] &= ~excl.bits[i];
        if (cpuset_is_empty(&cs)) {
                r = -EINVAL;
                goto fail;
        }
        *ret = cs;
        return 0;
fail:
        if (ret_pos)
                *ret_pos = (size_t)(p - s);
        return r;
}

int cpuset_format(const struct cpuset *cs, char *buf, size_t len)
{
        size_t off = 0;
        int i = 0;

        if (len == 0)
                return -ENOSPC;
        buf[0] = '\0';
        while (i < QC_CPUSET_MAX) {
                int j, n;

                if (!cpuset_isset(cs, (unsigned)i)) {
                        i++;
                        continue;
                }
                j = i;
                while (j + 1 < QC_CPUSET_MAX && cpuset_isset(cs, (unsigned)j + 1))
                        j++;
                if (j == i)
                        n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", i);
                else
                        n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", i, j);
                if (n < 0 || (size_t)n >= len - off)
                        return -ENOSPC;
                off += (size_t)n;
                i = j + 1;
        }
        return 0;
}

char *cpuset_to_string(const struct cpuset *cs)
{
        size_t len = 64;

        for (;;) {
                char *buf = malloc(len);
                if (!buf)
                        return NULL;
                if (cpuset_format(cs, buf, len) == 0)
                        return buf;
                free(buf);
                len *= 4;
        }
}
