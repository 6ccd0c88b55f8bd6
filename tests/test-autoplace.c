/* launcher/autoplace: numad's choice of host nodes from synthetic node
 * data (pure), and what autoplace_apply writes into a spec. */
#include <stdlib.h>
#include <string.h>

#include "launcher/autoplace.h"
#include "launcher/spec.h"
#include "tests/tap.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

/* the chosen set as a string ("1", "0-1"), or "fits-not:SET" / "error" */
static char *choose(const struct autoplace_node *nodes, size_t n, const unsigned *dist, uint64_t mem, unsigned vcpus)
{
        struct cpuset set;
        struct qc_err e = { 0 };
        char *s = NULL, *out = NULL;
        int r = autoplace_choose(nodes, n, dist, mem, vcpus, &set, &e);

        if (r < 0)
                return strdup("error");
        s = cpuset_to_string(&set);
        if (asprintf(&out, "%s%s", r == 1 ? "" : "fits-not:", s ? s : "?") < 0)
                out = NULL;
        free(s);
        return out;
}

#define CHOOSE_IS(want, desc, nodes, n, dist, mem, vcpus)                                              \
        do {                                                                                           \
                char *_s = choose(nodes, n, dist, mem, vcpus);                                         \
                is_str(_s, want, desc);                                                                \
                free(_s);                                                                              \
        } while (0)

static void test_choose(void)
{
        const struct autoplace_node two[] = { { 0, 900 * MiB, 1 }, { 1, 1100 * MiB, 1 } };
        const struct autoplace_node two_r[] = { { 0, 1100 * MiB, 1 }, { 1, 900 * MiB, 1 } };
        const struct autoplace_node tie[] = { { 0, 1 * GiB, 2 }, { 1, 1 * GiB, 4 }, { 2, 1 * GiB, 4 } };
        /* node 3 has the most free memory but too few CPUs for 4 vCPUs */
        const struct autoplace_node cpus[] = { { 0, 2 * GiB, 8 }, { 1, 3 * GiB, 8 }, { 2, 1 * GiB, 8 }, { 3, 6 * GiB, 2 } };
        /* four nodes on two sockets: 0-1 near (11), 2-3 near, across 21 */
        const struct autoplace_node four[] = { { 0, 3 * GiB, 4 }, { 1, 1 * GiB, 4 }, { 2, 2 * GiB, 4 }, { 3, 2 * GiB, 4 } };
        const unsigned dist4[] = { 10, 11, 21, 21, 11, 10, 21, 21, 21, 21, 10, 11, 21, 21, 11, 10 };
        /* memory-only node 1 (no CPUs), the roomiest */
        const struct autoplace_node memonly[] = { { 0, 1 * GiB, 4 }, { 1, 8 * GiB, 0 } };
        /* holes in the ids */
        const struct autoplace_node holes[] = { { 0, 1 * GiB, 2 }, { 2, 4 * GiB, 2 }, { 5, 2 * GiB, 2 } };

        CHOOSE_IS("1", "two nodes: the one with more free memory (node 1)", two, 2, NULL, 64 * MiB, 1);
        CHOOSE_IS("0", "the same nodes with the free memory the other way round: node 0", two_r, 2, NULL, 64 * MiB, 1);
        CHOOSE_IS("1", "a VM only node 1 holds (1000M): node 1", two, 2, NULL, 1000 * MiB, 1);
        CHOOSE_IS("1", "equal free memory: more CPUs wins, then the lower id", tie, 3, NULL, 512 * MiB, 1);
        CHOOSE_IS("1", "the roomiest node lacks CPUs for 4 vCPUs: the roomiest that has them", cpus, 4, NULL,
                  1 * GiB, 4);
        CHOOSE_IS("3", "with 2 vCPUs the roomiest node fits", cpus, 4, NULL, 1 * GiB, 2);
        CHOOSE_IS("0-1", "two vCPUs on 1-CPU nodes: both nodes", two, 2, NULL, 64 * MiB, 2);
        CHOOSE_IS("fits-not:0-1", "more memory than all nodes have: every node, and says it does not fit", two, 2,
                  NULL, 4 * GiB, 1);
        CHOOSE_IS("fits-not:0-1", "more vCPUs than all nodes have CPUs: every node", two, 2, NULL, 64 * MiB, 3);
        CHOOSE_IS("0-1", "4G on four nodes: from the roomiest (0, 3G) to its near neighbour (1, 1G), not the roomier "
                         "far node 2",
                  four, 4, dist4, 4 * GiB, 1);
        CHOOSE_IS("0,2", "without distances: the roomiest next (node 2, 2G; ties by order)", four, 4, NULL, 4 * GiB, 1);
        CHOOSE_IS("0-2", "5G: 0 and 1 (near) are 4G, then the nearest of 2 and 3 (equal: the roomier, 2)", four, 4,
                  dist4, 5 * GiB, 1);
        CHOOSE_IS("0", "4 vCPUs fit node 0 alone (3G free): one node", four, 4, dist4, 2 * GiB, 4);
        CHOOSE_IS("0-1", "a memory-only node holds the memory but no vCPU: add a node with CPUs", memonly, 2, NULL,
                  4 * GiB, 2);
        CHOOSE_IS("0", "a small VM goes to the node with CPUs when the memory-only node has none", memonly, 2, NULL,
                  512 * MiB, 1);
        CHOOSE_IS("2", "ids with holes: node 2 (4G)", holes, 3, NULL, 3 * GiB, 1);
        CHOOSE_IS("2,5", "ids with holes, 5G: node 2 then node 5", holes, 3, NULL, 5 * GiB, 1);
        CHOOSE_IS("error", "no nodes: an error", two, 0, NULL, 1, 1);
}

static void test_apply(void)
{
        struct host_numa_node hn[2] = { { .id = 0, .mem_total = 2 * GiB, .mem_free = 1 * GiB },
                                        { .id = 1, .mem_total = 2 * GiB, .mem_free = 1536 * MiB } };
        unsigned dist[] = { 10, 21, 21, 10 };
        struct host_numa numa = { .available = true, .nodes = hn, .n_nodes = 2, .distance = dist };
        struct host_hugepage_node hpn[2] = { { .node = 0, .total = 512, .free = 400 }, { .node = 1, .total = 512, .free = 10 } };
        struct host_hugepage_size hps = { .page_size = 2 * MiB, .total = 1024, .free = 410, .nodes = hpn, .n_nodes = 2 };
        struct host_hugepages hp = { .sizes = &hps, .n_sizes = 1 };
        struct vm_spec s;
        struct autoplace_decision d;
        struct qc_err e = { 0 };
        char *str;

        cpuset_set(&hn[0].cpus, 0);
        cpuset_set(&hn[0].cpus, 1);
        cpuset_set(&hn[1].cpus, 2);
        cpuset_set(&hn[1].cpus, 3);

        memset(&s, 0, sizeof s);
        s.cpu.vcpus = 2;
        s.memory.size = 512 * MiB;
        is_int(autoplace_apply(&s, &numa, NULL, &d, &e), 0, "static placement: nothing to do");
        ok(!d.nodes_auto && !d.cpus_auto && !s.numa.has_nodeset && !s.cpu.has_cpuset, "... and nothing written");
        ok(autoplace_describe(&d) == NULL, "... nothing to say");

        s.numa.placement = s.cpu.placement = VM_PLACEMENT_AUTO;
        s.numa.has_nodeset = true;
        cpuset_set(&s.numa.nodeset, 0); /* a recorded earlier choice */
        is_int(autoplace_apply(&s, &numa, NULL, &d, &e), 0, "both auto");
        str = cpuset_to_string(&s.numa.nodeset);
        is_str(str, "1", "numa.nodeset = node 1 (1.5G free)");
        free(str);
        str = cpuset_to_string(&s.cpu.cpuset);
        is_str(str, "2-3", "cpu.cpuset = node 1's CPUs");
        free(str);
        ok(d.fits && d.chosen && d.had_nodeset && !d.had_cpuset, "fits; replaced the file's nodeset 0");
        str = autoplace_describe(&d);
        ok(str && strstr(str, "host node 1 ") && strstr(str, "replaces the file's numa.nodeset 0"), "described: %s",
           str ? str : "(null)");
        free(str);

        /* huge pages: node 0 has 400 free 2M pages (800M), node 1 10 (20M) */
        memset(&s, 0, sizeof s);
        s.cpu.vcpus = 1;
        s.memory.size = 512 * MiB;
        s.memory.hugepages = 2 * MiB;
        s.numa.placement = VM_PLACEMENT_AUTO;
        is_int(autoplace_apply(&s, &numa, &hp, &d, &e), 0, "numa auto with huge pages");
        str = cpuset_to_string(&s.numa.nodeset);
        is_str(str, "0", "counted in free huge pages: node 0 (800M), though node 1 has more free memory");
        free(str);
        ok(!s.cpu.has_cpuset, "cpu.placement static: cpuset untouched");
        is_int(d.free, 800 * MiB, "free = 400 pages of 2M");

        /* cpu auto beside a given nodeset: that nodeset's CPUs */
        memset(&s, 0, sizeof s);
        s.cpu.vcpus = 1;
        s.memory.size = 64 * MiB;
        s.cpu.placement = VM_PLACEMENT_AUTO;
        s.numa.has_nodeset = true;
        cpuset_set(&s.numa.nodeset, 0);
        is_int(autoplace_apply(&s, &numa, NULL, &d, &e), 0, "cpu auto, nodeset 0 given");
        str = cpuset_to_string(&s.cpu.cpuset);
        is_str(str, "0-1", "cpu.cpuset = node 0's CPUs");
        free(str);
        ok(!d.chosen && !d.nodes_auto, "the nodes were the file's");

        /* no NUMA in the kernel: nothing bound */
        numa.available = false;
        memset(&s, 0, sizeof s);
        s.cpu.vcpus = 1;
        s.memory.size = 64 * MiB;
        s.numa.placement = VM_PLACEMENT_AUTO;
        is_int(autoplace_apply(&s, &numa, NULL, &d, &e), 0, "no NUMA");
        ok(d.no_numa && !s.numa.has_nodeset, "nothing bound without NUMA");
}

int main(void)
{
        test_choose();
        test_apply();
        return tap_done();
}
