/* NUMA nodes from libnuma. */
#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <unistd.h>

#include "host.h"

int host_numa_read(struct host_numa *ret, struct qc_err *err)
{
        struct host_numa n = { 0 };
        struct bitmask *cpus;
        int max;

        n.available = numa_available() >= 0;
        if (!n.available) {
                /* no NUMA in the kernel: one node 0 with every CPU and all memory */
                long ncpu = sysconf(_SC_NPROCESSORS_CONF), pages = sysconf(_SC_PHYS_PAGES),
                     avail = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

                n.nodes = calloc(1, sizeof *n.nodes);
                if (!n.nodes)
                        return qc_err_set(err, ENOMEM, "out of memory");
                n.n_nodes = 1;
                for (long c = 0; c < ncpu && c < QC_CPUSET_MAX; c++)
                        cpuset_set(&n.nodes[0].cpus, (unsigned)c);
                n.nodes[0].mem_total = (uint64_t)pages * (uint64_t)psz;
                n.nodes[0].mem_free = (uint64_t)avail * (uint64_t)psz;
                cpuset_set(&n.node_set, 0);
                n.distance = calloc(1, sizeof *n.distance);
                if (n.distance)
                        n.distance[0] = 10;
                *ret = n;
                return 0;
        }
        max = numa_max_node();
        cpus = numa_allocate_cpumask();
        if (!cpus)
                return qc_err_set(err, ENOMEM, "out of memory");
        n.nodes = calloc((size_t)max + 1, sizeof *n.nodes);
        if (!n.nodes) {
                numa_free_cpumask(cpus);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        for (int i = 0; i <= max && i < QC_CPUSET_MAX; i++) {
                struct host_numa_node *node = &n.nodes[n.n_nodes];
                long long freeb = 0, size;

                /* node ids can have holes (node0, node2): numa_all_nodes_ptr
                 * has only the ones that exist */
                if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)i))
                        continue;
                size = numa_node_size64(i, &freeb);
                if (size < 0)
                        continue;
                node->id = (unsigned)i;
                node->mem_total = (uint64_t)size;
                node->mem_free = freeb > 0 ? (uint64_t)freeb : 0;
                numa_bitmask_clearall(cpus);
                if (numa_node_to_cpus(i, cpus) == 0)
                        for (unsigned c = 0; c < cpus->size && c < QC_CPUSET_MAX; c++)
                                if (numa_bitmask_isbitset(cpus, c))
                                        cpuset_set(&node->cpus, c);
                cpuset_set(&n.node_set, (unsigned)i);
                n.n_nodes++;
        }
        numa_free_cpumask(cpus);
        /* numa_distance: the SLIT libnuma reads from nodeN/distance; 0
         * where it has none */
        n.distance = calloc(n.n_nodes * n.n_nodes, sizeof *n.distance);
        if (!n.distance) {
                free(n.nodes);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n.n_nodes; i++)
                for (size_t j = 0; j < n.n_nodes; j++) {
                        int d = numa_distance((int)n.nodes[i].id, (int)n.nodes[j].id);
                        n.distance[i * n.n_nodes + j] = d > 0 ? (unsigned)d : 0;
                }
        *ret = n;
        return 0;
}

void host_numa_done(struct host_numa *n)
{
        free(n->distance);
        n->distance = NULL;
        free(n->nodes);
        n->nodes = NULL;
        n->n_nodes = 0;
}
