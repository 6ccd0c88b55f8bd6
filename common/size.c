#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int parse_size(const char *s, uint64_t *ret)
{
        static const char units[] = "BKMGTP";
        uint64_t v = 0, mult = 1;
        const char *p = s, *u;
        int digits = 0;

        if (!s)
                return -EINVAL;
        while (isdigit((unsigned char)*p)) {
                unsigned d = (unsigned)(*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
                p++;
                digits++;
        }
        if (!digits || !*p)
                return -EINVAL;
        u = strchr(units, toupper((unsigned char)*p));
        if (!u || !*u)
                return -EINVAL;
        for (const char *q = units; q < u; q++)
                mult *= 1024;
        p++;
        if (u != units) {
                /* accept K, Ki, KiB, KB */
                if (*p == 'i')
                        p++;
                if (*p == 'B' || *p == 'b')
                        p++;
        }
        if (*p)
                return -EINVAL;
        if (v && mult > UINT64_MAX / v)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
        static const char units[] = "KMGTP";
        int i = -1;

        while (bytes && i < 4 && bytes % 1024 == 0) {
                bytes /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, len, "%lluB", (unsigned long long)bytes);
        else
                snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[i]);
}

void format_size_human(uint64_t bytes, char *buf, size_t len)
{
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double d = (double)bytes;
        int i = 0;

        while (d >= 1024 && i < 5) {
                d /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, len, "%llu B", (unsigned long long)bytes);
        else if (d == (double)(uint64_t)d)
                snprintf(buf, len, "%llu %s", (unsigned long long)d, units[i]);
        else
                snprintf(buf, len, "%.1f %s", d, units[i]);
}
