/* Base64 (RFC 4648, with padding), as the guest agent carries bytes. */
#pragma once
#include <stddef.h>

/* Encode n bytes into a malloc'd NUL-terminated string; NULL when out of memory. */
char *base64_encode(const void *data, size_t n);
/* Decode s (len bytes; whitespace is not allowed, padding is optional) into a
 * malloc'd buffer (NUL-terminated, not counted in *ret_len). Returns 0,
 * -EINVAL (not base64) or -ENOMEM. */
int base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);
