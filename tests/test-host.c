/* host/: readers against a fake /sys and /proc, and libnuma/KVM on this host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/io.h"
#include "host/host.h"
#include "tests/tap.h"

static char root[256];

static void put(const char *rel, const char *content)
{
        char path[512];

        snprintf(path, sizeof path, "%s%s", root, rel);
        for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
        }
        if (write_file(path, content, 0644) < 0)
                printf("# cannot write %s\n", path);
}

static void test_ksm(void)
{
        struct host_ksm k;
        struct qc_err e = { 0 };

        is_int(host_ksm_read(root, &k, &e), 0, "no KSM in the kernel is not an error");
        ok(!k.present, "KSM absent");
        put("/sys/kernel/mm/ksm/run", "1\n");
        put("/sys/kernel/mm/ksm/pages_shared", "120\n");
        put("/sys/kernel/mm/ksm/pages_sharing", "4500\n");
        put("/sys/kernel/mm/ksm/pages_unshared", "33\n");
        put("/sys/kernel/mm/ksm/pages_volatile", "2\n");
        put("/sys/kernel/mm/ksm/full_scans", "7\n");
        put("/sys/kernel/mm/ksm/merge_across_nodes", "0\n");
        is_int(host_ksm_read(root, &k, &e), 0, "read KSM");
        ok(k.present && k.run == 1, "KSM running");
        ok(k.pages_shared == 120 && k.pages_sharing == 4500 && k.pages_unshared == 33 && k.pages_volatile == 2,
           "KSM counters");
        ok(k.full_scans == 7, "full_scans");
        ok(k.has_merge_across_nodes && k.merge_across_nodes == 0, "merge_across_nodes 0");
}

static void test_hugepages(void)
{
        struct host_hugepages hp;
        const struct host_hugepage_size *s;
        struct qc_err e = { 0 };

        is_int(host_hugepages_read(root, &hp, &e), 0, "no hugepages dir: not an error");
        is_int(hp.n_sizes, 0, "no sizes");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "512\n");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "300\n");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "20\n");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages", "0\n");
        put("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "2\n");
        put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "1\n");
        put("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "256\n");
        put("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "100\n");
        put("/sys/devices/system/node/node2/hugepages/hugepages-2048kB/nr_hugepages", "256\n");
        put("/sys/devices/system/node/node2/hugepages/hugepages-2048kB/free_hugepages", "200\n");
        put("/sys/devices/system/node/possible", "0,2\n");
        is_int(host_hugepages_read(root, &hp, &e), 0, "read hugepages");
        is_int(hp.n_sizes, 2, "two sizes");
        if (hp.n_sizes == 2) {
                is_int(hp.sizes[0].page_size, 2 << 20, "sorted: 2M first");
                is_int(hp.sizes[1].page_size, 1 << 30, "then 1G");
        }
        s = host_hugepages_find(&hp, 2 << 20);
        ok(s && s->total == 512 && s->free == 300 && s->reserved == 20, "2M: total/free/reserved");
        ok(s && s->n_nodes == 2, "2M: two nodes");
        if (s && s->n_nodes == 2) {
                ok(s->nodes[0].node == 0 && s->nodes[0].total == 256 && s->nodes[0].free == 100, "node0 numbers");
                ok(s->nodes[1].node == 2 && s->nodes[1].free == 200, "node2 numbers (ids with holes)");
        }
        s = host_hugepages_find(&hp, 1 << 30);
        ok(s && s->total == 2 && s->free == 1 && s->n_nodes == 0, "1G: global only");
        ok(!host_hugepages_find(&hp, 16 << 20), "no 16M size");
        host_hugepages_done(&hp);
}

static void test_thp_balancing(void)
{
        struct host_thp t;
        struct qc_err e = { 0 };
        int nb = 99;

        is_int(host_thp_read(root, &t, &e), 0, "no THP: not an error");
        is_str(t.enabled, "", "THP absent: empty");
        put("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
        put("/sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never\n");
        is_int(host_thp_read(root, &t, &e), 0, "read THP");
        is_str(t.enabled, "madvise", "THP enabled = madvise");
        is_str(t.defrag, "madvise", "THP defrag = madvise");
        ok(!t.has_khugepaged && !t.has_anon_huge, "no khugepaged dir, no /proc/meminfo: absent, not an error");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "4096\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "10000\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "60000\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/defrag", "1\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none", "511\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_swap", "64\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans", "177\n");
        put("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed", "11\n");
        put("/proc/meminfo", "MemTotal:       24000000 kB\nAnonPages:        100 kB\n"
                             "AnonHugePages:    241664 kB\nShmemHugePages:        0 kB\n");
        is_int(host_thp_read(root, &t, &e), 0, "read THP with khugepaged");
        ok(t.has_khugepaged && t.pages_to_scan == 4096 && t.scan_sleep_millisecs == 10000 &&
                   t.alloc_sleep_millisecs == 60000 && t.kh_defrag == 1 && t.max_ptes_none == 511 &&
                   t.max_ptes_swap == 64 && t.full_scans == 177 && t.pages_collapsed == 11,
           "khugepaged's settings and counters");
        is_int(t.max_ptes_shared, 0, "max_ptes_shared absent (a kernel before 5.8): 0");
        ok(t.has_anon_huge && t.anon_huge == 241664ull * 1024, "AnonHugePages from /proc/meminfo, not AnonPages");
        put("/sys/kernel/mm/transparent_hugepage/enabled", "always madvise never\n");
        is_int(host_thp_read(root, &t, &e), -1, "no bracketed choice: an error");
        is_int(host_numa_balancing_read(root, &nb, &e), 0, "numa_balancing absent");
        is_int(nb, -1, "absent = -1");
        put("/proc/sys/kernel/numa_balancing", "1\n");
        is_int(host_numa_balancing_read(root, &nb, &e), 0, "numa_balancing read");
        is_int(nb, 1, "numa_balancing = 1");
}

static void test_node_stats(void)
{
        struct host_node_stats st;
        struct qc_err e = { 0 };
        uint64_t v = 0;

        is_int(host_node_stats_read(root, 1, &st, &e), 0, "a node without sysfs files: not an error");
        ok(!st.has_numastat && !st.has_anon_huge, "... and nothing known");
        put("/sys/devices/system/node/node1/numastat", "numa_hit 360265619\nnuma_miss 12\nnuma_foreign 34\n"
                                                        "interleave_hit 2740\nlocal_node 360265600\nother_node 31\n");
        put("/sys/devices/system/node/node1/meminfo", "Node 1 MemTotal:       1310720 kB\n"
                                                       "Node 1 AnonPages:         5000 kB\n"
                                                       "Node 1 AnonHugePages:     4096 kB\n");
        is_int(host_node_stats_read(root, 1, &st, &e), 0, "node 1's numastat and meminfo");
        ok(st.has_numastat && st.numa_hit == 360265619 && st.numa_miss == 12 && st.numa_foreign == 34 &&
                   st.interleave_hit == 2740 && st.local_node == 360265600 && st.other_node == 31,
           "the six numastat counters");
        ok(st.has_anon_huge && st.anon_huge == 4096ull * 1024, "node 1's AnonHugePages (kB to bytes)");
        put("/sys/devices/system/node/node1/numastat", "numa_hit 5\nnuma_miss 0\n");
        is_int(host_node_stats_read(root, 1, &st, &e), 0, "a truncated numastat reads");
        ok(!st.has_numastat, "... as unknown, not as zeros");
        put("/sys/devices/system/node/node1/meminfo", "Node 10 AnonHugePages:     4096 kB\n");
        is_int(host_node_stats_read(root, 1, &st, &e), 0, "node 10's line in node 1's meminfo");
        ok(!st.has_anon_huge, "... is not node 1's");
        is_int(host_meminfo_read(root, "Nothing", &v, &e), 0, "a key /proc/meminfo lacks: 0");
        put("/proc/meminfo", "AnonHugePages:    12\n");
        is_int(host_meminfo_read(root, "AnonHugePages", &v, &e), 0, "a value without its kB: not taken");
}

static void test_kvm(void)
{
        struct host_kvm k;
        char dev[300];

        snprintf(dev, sizeof dev, "%s/dev/kvm", root);
        put("/sys/module/kvm_intel/parameters/nested", "Y\n");
        host_kvm_read(dev, root, &k);
        ok(!k.present, "missing device: absent");
        ok(strstr(k.why, "does not exist"), "says why: %s", k.why);
        is_str(k.module, "kvm_intel", "module kvm_intel");
        is_int(k.nested, 1, "nested Y = on");
        put("/sys/module/kvm_intel/parameters/nested", "N\n");
        host_kvm_read(dev, root, &k);
        is_int(k.nested, 0, "nested N = off");
        put("/dev/kvm", "");
        host_kvm_read(dev, root, &k);
        ok(k.present && k.opened && !k.creates_vms, "a regular file: present, opens, no VM");
        ok(strstr(k.why, "KVM_GET_API_VERSION"), "says which ioctl failed: %s", k.why);
        if (access("/dev/kvm", F_OK) == 0) {
                host_kvm_read(NULL, NULL, &k);
                ok(k.present, "this host: /dev/kvm present");
                if (k.opened)
                        is_int(k.api_version, 12, "KVM API version 12");
                tap_diag("this host: creates VMs: %s %s", k.creates_vms ? "yes" : "no", k.why);
        }
}

static void test_numa_cgroups(void)
{
        struct host_numa n;
        struct host_cgroups c;
        struct qc_err e = { 0 };
        char mi[300];

        is_int(host_numa_read(&n, &e), 0, "libnuma read");
        ok(n.n_nodes >= 1, "at least one node (%zu)", n.n_nodes);
        if (n.n_nodes) {
                ok(!cpuset_is_empty(&n.nodes[0].cpus) || n.n_nodes > 1, "a node has CPUs");
                ok(n.nodes[0].mem_total > 0, "node memory > 0");
                ok(cpuset_isset(&n.node_set, n.nodes[0].id), "node_set has the first node");
                for (size_t i = 0; i < n.n_nodes; i++)
                        is_int(host_numa_distance(&n, i, i), 10, "node %u is at distance 10 from itself (libnuma)",
                               n.nodes[i].id);
                is_int(host_numa_distance(&n, 0, n.n_nodes), 0, "a node past the last: distance 0");
        }
        host_numa_done(&n);

        snprintf(mi, sizeof mi, "%s/mountinfo", root);
        write_file(mi, "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                       "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", 0644);
        host_cgroups_read(mi, &c);
        ok(!c.mount && strstr(c.why, "cgroup2"), "no cgroup2: why says so");
        host_cgroups_done(&c);
        host_cgroups_read(NULL, &c);
        if (c.mount) {
                ok(c.why[0] == '\0', "this host's cgroup2 readable");
                tap_diag("this host: cgroup2 at %s", c.mount);
        } else
                tap_diag("this host has no cgroup2: %s", c.why);
        host_cgroups_done(&c);
}

int main(void)
{
        char cmd[300];

        snprintf(root, sizeof root, "/tmp/qemuctl-test-host-XXXXXX");
        if (!mkdtemp(root))
                tap_skip_all("cannot make a temp dir");
        test_ksm();
        test_hugepages();
        test_thp_balancing();
        test_node_stats();
        test_kvm();
        test_numa_cgroups();
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
