/* Per-node facts from sysfs that libnuma does not give: the kernel's NUMA
 * allocation counters (nodeN/numastat) and AnonHugePages (nodeN/meminfo,
 * /proc/meminfo). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/proc.h"
#include "host.h"

/* The count of a "key N" line of a numastat file. 1 found, 0 not. */
static int find_count(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                const char *p;
                char *end;
                unsigned long long v;

                if (strncmp(l, key, klen) != 0 || (l[klen] != ' ' && l[klen] != '\t'))
                        continue;
                p = l + klen + strspn(l + klen, " \t");
                if (*p < '0' || *p > '9')
                        return 0;
                errno = 0;
                v = strtoull(p, &end, 10);
                if (errno)
                        return 0;
                *ret = v;
                return 1;
        }
        return 0;
}

const struct host_u64_field host_numastat_fields[] = {
        { "numa_hit", offsetof(struct host_node_stats, numa_hit) },
        { "numa_miss", offsetof(struct host_node_stats, numa_miss) },
        { "numa_foreign", offsetof(struct host_node_stats, numa_foreign) },
        { "interleave_hit", offsetof(struct host_node_stats, interleave_hit) },
        { "local_node", offsetof(struct host_node_stats, local_node) },
        { "other_node", offsetof(struct host_node_stats, other_node) },
        {},
};

int host_node_stats_read(const char *sysroot, unsigned node, struct host_node_stats *ret, struct qc_err *err)
{
        struct host_node_stats s = { 0 };
        _cleanup_free_ char *numastat = NULL, *meminfo = NULL;
        char path[512], key[48];
        int r;

        if (!sysroot)
                sysroot = "";
        snprintf(path, sizeof path, "%s/sys/devices/system/node/node%u/numastat", sysroot, node);
        r = read_file(path, 1 << 16, &numastat, NULL);
        if (r < 0 && r != -ENOENT)
                return qc_err_sys(err, -r, "read %s", path);
        if (r == 0) {
                s.has_numastat = true;
                for (const struct host_u64_field *f = host_numastat_fields; f->name; f++)
                        if (find_count(numastat, f->name, (uint64_t *)(void *)((char *)&s + f->off)) != 1)
                                s.has_numastat = false;
        }
        snprintf(path, sizeof path, "%s/sys/devices/system/node/node%u/meminfo", sysroot, node);
        r = read_file(path, 1 << 16, &meminfo, NULL);
        if (r < 0 && r != -ENOENT)
                return qc_err_sys(err, -r, "read %s", path);
        snprintf(key, sizeof key, "Node %u AnonHugePages", node);
        if (r == 0)
                s.has_anon_huge = proc_status_kb(meminfo, key, &s.anon_huge) == 0;
        *ret = s;
        return 0;
}

int host_meminfo_read(const char *sysroot, const char *key, uint64_t *ret, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        char path[512];
        int r;

        snprintf(path, sizeof path, "%s/proc/meminfo", sysroot ? sysroot : "");
        r = read_file(path, 1 << 16, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        return proc_status_kb(text, key, ret) == 0; /* a malformed line: as if absent */
}
