/* Sizes with binary units: "512M", "4G", "1T", "64K", "4096B". */
#pragma once
#include <stdint.h>
#include <stddef.h>

/* Parse s into bytes. A bare number is refused (the unit must be explicit:
 * K, M, G, T, P with optional "i"/"iB", or B). Overflow is an error.
 * Returns 0, -EINVAL (bad syntax or missing unit) or -ERANGE. */
int parse_size(const char *s, uint64_t *ret);
/* Format bytes as the largest exact binary unit: 536870912 -> "512M". */
void format_size(uint64_t bytes, char *buf, size_t len);
/* Human, rounded: 1610612736 -> "1.5 GiB". */
void format_size_human(uint64_t bytes, char *buf, size_t len);
