/* CPU and NUMA node lists in the kernel's syntax ("0-3,8"), plus libvirt's
 * exclusion ("0-7,^2") and the kernel's stride ("0-15:2/4"). Fixed-size bitmap
 * of QC_CPUSET_MAX bits; a number beyond it is an error, not a wrap-around. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QC_CPUSET_MAX 4096
#define QC_CPUSET_WORDS (QC_CPUSET_MAX / 64)

struct cpuset {
        uint64_t bits[QC_CPUSET_WORDS];
};

/* Returns 0, -EINVAL (syntax; *ret_pos = byte offset of the problem) or
 * -ERANGE (a number >= QC_CPUSET_MAX). An empty result is -EINVAL too. */
int cpuset_parse(const char *s, struct cpuset *ret, size_t *ret_pos);
/* "0-3,8" (empty string for an empty set). Needs at most ~ 5*count bytes;
 * returns -ENOSPC when buf is too small. */
int cpuset_format(const struct cpuset *cs, char *buf, size_t len);
/* malloc'd "0-3,8", NULL on ENOMEM. */
char *cpuset_to_string(const struct cpuset *cs);

void cpuset_zero(struct cpuset *cs);
void cpuset_set(struct cpuset *cs, unsigned i);
void cpuset_clear(struct cpuset *cs, unsigned i);
bool cpuset_isset(const struct cpuset *cs, unsigned i);
unsigned cpuset_count(const struct cpuset *cs);
bool cpuset_is_empty(const struct cpuset *cs);
bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
/* cs |= add */
void cpuset_or(struct cpuset *cs, const struct cpuset *add);
/* Highest set bit, or -1 when empty. */
int cpuset_last(const struct cpuset *cs);
