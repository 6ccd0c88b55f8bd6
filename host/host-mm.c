/* Memory facts from sysfs/procfs: KSM, hugepages, THP, NUMA balancing. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "host.h"

static int read_u64_root(const char *sysroot, const char *path, uint64_t *ret)
{
        char full[1024];

        snprintf(full, sizeof full, "%s%s", sysroot ? sysroot : "", path);
        return read_u64_file(full, ret);
}

const struct host_u64_field host_ksm_fields[] = {
        { "run", offsetof(struct host_ksm, run) },
        { "pages_shared", offsetof(struct host_ksm, pages_shared) },
        { "pages_sharing", offsetof(struct host_ksm, pages_sharing) },
        { "pages_unshared", offsetof(struct host_ksm, pages_unshared) },
        { "pages_volatile", offsetof(struct host_ksm, pages_volatile) },
        { "full_scans", offsetof(struct host_ksm, full_scans) },
        { "pages_to_scan", offsetof(struct host_ksm, pages_to_scan) },
        { "sleep_millisecs", offsetof(struct host_ksm, sleep_millisecs) },
        {},
};

int host_ksm_read(const char *sysroot, struct host_ksm *ret, struct qc_err *err)
{
        struct host_ksm k = { 0 };
        char path[128];
        int r;

        r = read_u64_root(sysroot, "/sys/kernel/mm/ksm/run", &k.run);
        if (r == -ENOENT) {
                *ret = k; /* a kernel built without CONFIG_KSM */
                return 0;
        }
        if (r < 0)
                return qc_err_sys(err, -r, "read %s/sys/kernel/mm/ksm/run", sysroot ? sysroot : "");
        k.present = true;
        for (const struct host_u64_field *f = host_ksm_fields; f->name; f++) {
                snprintf(path, sizeof path, "/sys/kernel/mm/ksm/%s", f->name);
                (void)read_u64_root(sysroot, path, (uint64_t *)(void *)((char *)&k + f->off));
        }
        k.has_merge_across_nodes =
                read_u64_root(sysroot, "/sys/kernel/mm/ksm/merge_across_nodes", &k.merge_across_nodes) == 0;
        *ret = k;
        return 0;
}

static int cmp_size(const void *a, const void *b)
{
        const struct host_hugepage_size *x = a, *y = b;

        return x->page_size < y->page_size ? -1 : x->page_size > y->page_size;
}

static int cmp_node(const void *a, const void *b)
{
        const struct host_hugepage_node *x = a, *y = b;

        return (int)x->node - (int)y->node;
}

static int read_node_pages(const char *sysroot, struct host_hugepage_size *s, const char *dname)
{
        char path[512];
        DIR *d;

        snprintf(path, sizeof path, "%s/sys/devices/system/node", sysroot);
        d = opendir(path);
        if (!d)
                return 0; /* no NUMA in sysfs: global numbers only */
        for (struct dirent *de; (de = readdir(d));) {
                struct host_hugepage_node n = { 0 }, *v;
                char rel[640];
                char *end;
                unsigned long id;

                if (strncmp(de->d_name, "node", 4) != 0)
                        continue;
                id = strtoul(de->d_name + 4, &end, 10);
                if (end == de->d_name + 4 || *end)
                        continue;
                n.node = (unsigned)id;
                snprintf(rel, sizeof rel, "/sys/devices/system/node/%s/hugepages/%s/nr_hugepages", de->d_name, dname);
                if (read_u64_root(sysroot, rel, &n.total) < 0)
                        continue;
                snprintf(rel, sizeof rel, "/sys/devices/system/node/%s/hugepages/%s/free_hugepages", de->d_name, dname);
                (void)read_u64_root(sysroot, rel, &n.free);
                snprintf(rel, sizeof rel, "/sys/devices/system/node/%s/hugepages/%s/surplus_hugepages", de->d_name,
                         dname);
                (void)read_u64_root(sysroot, rel, &n.surplus);
                v = realloc(s->nodes, (s->n_nodes + 1) * sizeof *v);
                if (!v) {
                        closedir(d);
                        return -ENOMEM;
                }
                s->nodes = v;
                s->nodes[s->n_nodes++] = n;
        }
        closedir(d);
        if (s->n_nodes)
                qsort(s->nodes, s->n_nodes, sizeof *s->nodes, cmp_node);
        return 0;
}

int host_hugepages_read(const char *sysroot, struct host_hugepages *ret, struct qc_err *err)
{
        struct host_hugepages hp = { 0 };
        char path[512];
        DIR *d;

        if (!sysroot)
                sysroot = "";
        snprintf(path, sizeof path, "%s/sys/kernel/mm/hugepages", sysroot);
        d = opendir(path);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = hp;
                        return 0;
                }
                return qc_err_sys(err, errno, "open %s", path);
        }
        for (struct dirent *de; (de = readdir(d));) {
                struct host_hugepage_size s = { 0 }, *v;
                unsigned long long kb;
                char rel[512], tail[8];

                if (sscanf(de->d_name, "hugepages-%llu%7s", &kb, tail) != 2 || strcmp(tail, "kB") != 0)
                        continue;
                s.page_size = (uint64_t)kb * 1024;
                snprintf(rel, sizeof rel, "/sys/kernel/mm/hugepages/%s/nr_hugepages", de->d_name);
                (void)read_u64_root(sysroot, rel, &s.total);
                snprintf(rel, sizeof rel, "/sys/kernel/mm/hugepages/%s/free_hugepages", de->d_name);
                (void)read_u64_root(sysroot, rel, &s.free);
                snprintf(rel, sizeof rel, "/sys/kernel/mm/hugepages/%s/resv_hugepages", de->d_name);
                (void)read_u64_root(sysroot, rel, &s.reserved);
                snprintf(rel, sizeof rel, "/sys/kernel/mm/hugepages/%s/surplus_hugepages", de->d_name);
                (void)read_u64_root(sysroot, rel, &s.surplus);
                if (read_node_pages(sysroot, &s, de->d_name) < 0 ||
                    !(v = realloc(hp.sizes, (hp.n_sizes + 1) * sizeof *v))) {
                        free(s.nodes);
                        closedir(d);
                        host_hugepages_done(&hp);
                        return qc_err_set(err, ENOMEM, "out of memory");
                }
                hp.sizes = v;
                hp.sizes[hp.n_sizes++] = s;
        }
        closedir(d);
        if (hp.n_sizes)
                qsort(hp.sizes, hp.n_sizes, sizeof *hp.sizes, cmp_size);
        *ret = hp;
        return 0;
}

void host_hugepages_done(struct host_hugepages *hp)
{
        for (size_t i = 0; i < hp->n_sizes; i++)
                free(hp->sizes[i].nodes);
        free(hp->sizes);
        hp->sizes = NULL;
        hp->n_sizes = 0;
}

const struct host_hugepage_size *host_hugepages_find(const struct host_hugepages *hp, uint64_t page_size)
{
        for (size_t i = 0; i < hp->n_sizes; i++)
                if (hp->sizes[i].page_size == page_size)
                        return &hp->sizes[i];
        return NULL;
}

static int read_selector(const char *sysroot, const char *rel, char *buf, size_t len)
{
        _cleanup_free_ char *s = NULL;
        char path[512], *open_b, *close_b;
        int r;

        buf[0] = '\0';
        snprintf(path, sizeof path, "%s%s", sysroot ? sysroot : "", rel);
        r = read_file(path, 0, &s, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        open_b = strchr(s, '[');
        close_b = open_b ? strchr(open_b, ']') : NULL;
        if (!open_b || !close_b)
                return -EINVAL;
        *close_b = '\0';
        snprintf(buf, len, "%s", open_b + 1);
        return 0;
}

#define KHUGEPAGED "/sys/kernel/mm/transparent_hugepage/khugepaged/"

const struct host_u64_field host_khugepaged_settings[] = {
        { "pages_to_scan", offsetof(struct host_thp, pages_to_scan) },
        { "scan_sleep_millisecs", offsetof(struct host_thp, scan_sleep_millisecs) },
        { "alloc_sleep_millisecs", offsetof(struct host_thp, alloc_sleep_millisecs) },
        { "defrag", offsetof(struct host_thp, kh_defrag) },
        { "max_ptes_none", offsetof(struct host_thp, max_ptes_none) },
        { "max_ptes_swap", offsetof(struct host_thp, max_ptes_swap) },
        { "max_ptes_shared", offsetof(struct host_thp, max_ptes_shared) },
        {},
};
const struct host_u64_field host_khugepaged_counters[] = {
        { "full_scans", offsetof(struct host_thp, full_scans) },
        { "pages_collapsed", offsetof(struct host_thp, pages_collapsed) },
        {},
};

/* khugepaged/NAME of each field into t */
static void read_khugepaged(const char *sysroot, const struct host_u64_field *f, struct host_thp *t)
{
        char path[128];

        for (; f->name; f++) {
                snprintf(path, sizeof path, KHUGEPAGED "%s", f->name);
                (void)read_u64_root(sysroot, path, (uint64_t *)(void *)((char *)t + f->off));
        }
}

int host_thp_read(const char *sysroot, struct host_thp *ret, struct qc_err *err)
{
        struct host_thp t = { 0 };
        int r;

        r = read_selector(sysroot, "/sys/kernel/mm/transparent_hugepage/enabled", t.enabled, sizeof t.enabled);
        if (r < 0)
                return qc_err_sys(err, -r, "read transparent_hugepage/enabled");
        r = read_selector(sysroot, "/sys/kernel/mm/transparent_hugepage/defrag", t.defrag, sizeof t.defrag);
        if (r < 0)
                return qc_err_sys(err, -r, "read transparent_hugepage/defrag");
        r = read_u64_root(sysroot, KHUGEPAGED "pages_to_scan", &t.pages_to_scan);
        if (r < 0 && r != -ENOENT)
                return qc_err_sys(err, -r, "read %s" KHUGEPAGED "pages_to_scan", sysroot ? sysroot : "");
        /* pages_to_scan tells whether the directory is there */
        t.has_khugepaged = r == 0;
        if (t.has_khugepaged) {
                read_khugepaged(sysroot, host_khugepaged_settings, &t);
                read_khugepaged(sysroot, host_khugepaged_counters, &t);
        }
        r = host_meminfo_read(sysroot, "AnonHugePages", &t.anon_huge, err);
        if (r < 0)
                return -1;
        t.has_anon_huge = r == 1;
        *ret = t;
        return 0;
}

int host_numa_balancing_read(const char *sysroot, int *ret, struct qc_err *err)
{
        uint64_t v;
        int r = read_u64_root(sysroot, "/proc/sys/kernel/numa_balancing", &v);

        if (r == -ENOENT) {
                *ret = -1;
                return 0;
        }
        if (r < 0)
                return qc_err_sys(err, -r, "read /proc/sys/kernel/numa_balancing");
        *ret = (int)v;
        return 0;
}
