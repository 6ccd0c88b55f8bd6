#include "base64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t n)
{
        const unsigned char *p = data;
        char *out, *o;

        if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        out = malloc((n + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;

                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                *o++ = alphabet[(v >> 18) & 63];
                *o++ = alphabet[(v >> 12) & 63];
                *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? alphabet[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len)
{
        unsigned char *out;
        size_t o = 0, pad = 0;
        uint32_t acc = 0;
        unsigned bits = 0;

        while (pad < 2 && len > 0 && s[len - 1] == '=') {
                len--;
                pad++;
        }
        if (len % 4 == 1 || (pad && (len + pad) % 4))
                return -EINVAL;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int v = value((unsigned char)s[i]);

                if (v < 0) {
                        free(out);
                        return -EINVAL;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        out[o] = '\0';
        *ret = out;
        *ret_len = o;
        return 0;
}
