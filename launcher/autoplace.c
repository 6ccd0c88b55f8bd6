/* Automatic placement: numad's advice, chosen here (see autoplace.h). */
#include "autoplace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* a is a better node to start from (or to hold the VM alone) than b */
static bool roomier(const struct autoplace_node *a, const struct autoplace_node *b)
{
        return a->free != b->free ? a->free > b->free : a->n_cpus > b->n_cpus;
}

int autoplace_choose(const struct autoplace_node *nodes, size_t n, const unsigned *distance, uint64_t memory,
                     unsigned vcpus, struct cpuset *ret, struct qc_err *err)
{
        _cleanup_free_ bool *in = NULL;
        struct cpuset set;
        uint64_t room = 0;
        unsigned cpus = 0;
        size_t best = n;

        if (n == 0)
                return qc_err_set(err, ENODEV, "no host NUMA node to choose from");
        cpuset_zero(&set);
        /* one node that holds it all: the roomiest of those */
        for (size_t i = 0; i < n; i++)
                if (nodes[i].free >= memory && nodes[i].n_cpus >= vcpus && (best == n || roomier(&nodes[i], &nodes[best])))
                        best = i;
        if (best < n) {
                cpuset_set(&set, nodes[best].id);
                *ret = set;
                return 1;
        }
        /* none does: grow a set from the roomiest node, nearest first */
        in = calloc(n, sizeof *in);
        if (!in)
                return qc_err_set(err, ENOMEM, "out of memory");
        best = 0;
        for (size_t i = 1; i < n; i++)
                if (roomier(&nodes[i], &nodes[best]))
                        best = i;
        for (size_t k = 0; k < n; k++) {
                uint64_t best_d = UINT64_MAX;

                in[best] = true;
                cpuset_set(&set, nodes[best].id);
                room = add_sat(room, nodes[best].free);
                cpus += nodes[best].n_cpus;
                if (room >= memory && cpus >= vcpus) {
                        *ret = set;
                        return 1;
                }
                best = n;
                for (size_t i = 0; i < n; i++) {
                        uint64_t d = 0;

                        if (in[i])
                                continue;
                        for (size_t j = 0; distance && j < n; j++)
                                if (in[j])
                                        d += distance[i * n + j];
                        if (best == n || d < best_d || (d == best_d && roomier(&nodes[i], &nodes[best]))) {
                                best = i;
                                best_d = d;
                        }
                }
                if (best == n)
                        break;
        }
        *ret = set;
        return 0;
}

/* Free memory of node id for the VM: huge pages of its size when it uses
 * them, else the node's free memory. */
static uint64_t node_free(const struct vm_spec *spec, const struct host_numa_node *node,
                          const struct host_hugepages *hp)
{
        const struct host_hugepage_size *s;

        if (!spec->memory.hugepages)
                return node->mem_free;
        s = hp ? host_hugepages_find(hp, spec->memory.hugepages) : NULL;
        for (size_t i = 0; s && i < s->n_nodes; i++)
                if (s->nodes[i].node == node->id)
                        return s->nodes[i].free * s->page_size;
        return 0;
}

int autoplace_apply(struct vm_spec *spec, const struct host_numa *numa, const struct host_hugepages *hp,
                    struct autoplace_decision *ret, struct qc_err *err)
{
        struct autoplace_decision d = { 0 };
        _cleanup_free_ struct autoplace_node *nodes = NULL;

        d.nodes_auto = spec->numa.placement == VM_PLACEMENT_AUTO;
        d.cpus_auto = spec->cpu.placement == VM_PLACEMENT_AUTO;
        d.memory = add_sat(spec->memory.size, spec->memory.plugged);
        d.vcpus = spec->cpu.vcpus;
        d.hugepage = spec->memory.hugepages;
        if (!d.nodes_auto && !d.cpus_auto) {
                *ret = d;
                return 0;
        }
        if (!numa->available) {
                /* one pseudo node: nothing to choose, and QEMU's host-nodes
                 * would fail without NUMA in the kernel */
                d.no_numa = true;
                *ret = d;
                return 0;
        }
        if (d.nodes_auto || !spec->numa.has_nodeset) {
                int r;

                nodes = calloc(numa->n_nodes ? numa->n_nodes : 1, sizeof *nodes);
                if (!nodes)
                        return qc_err_set(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < numa->n_nodes; i++)
                        nodes[i] = (struct autoplace_node){ .id = numa->nodes[i].id,
                                                            .free = node_free(spec, &numa->nodes[i], hp),
                                                            .n_cpus = cpuset_count(&numa->nodes[i].cpus) };
                r = autoplace_choose(nodes, numa->n_nodes, numa->distance, d.memory, d.vcpus, &d.nodes, err);
                if (r < 0)
                        return -1;
                d.chosen = true;
        } else {
                d.nodes = spec->numa.nodeset; /* cpu.placement auto beside a nodeset: that nodeset's CPUs */
        }
        for (size_t i = 0; i < numa->n_nodes; i++) {
                if (!cpuset_isset(&d.nodes, numa->nodes[i].id))
                        continue;
                d.free = add_sat(d.free, node_free(spec, &numa->nodes[i], hp));
                cpuset_or(&d.cpus, &numa->nodes[i].cpus);
        }
        d.n_cpus = cpuset_count(&d.cpus);
        d.fits = d.free >= d.memory && d.n_cpus >= d.vcpus;
        if (d.nodes_auto) {
                d.had_nodeset = spec->numa.has_nodeset && !cpuset_equal(&spec->numa.nodeset, &d.nodes);
                d.old_nodeset = spec->numa.nodeset;
                spec->numa.nodeset = d.nodes;
                spec->numa.has_nodeset = true;
        }
        if (d.cpus_auto && d.n_cpus) {
                d.had_cpuset = spec->cpu.has_cpuset && !cpuset_equal(&spec->cpu.cpuset, &d.cpus);
                d.old_cpuset = spec->cpu.cpuset;
                spec->cpu.cpuset = d.cpus;
                spec->cpu.has_cpuset = true;
        }
        *ret = d;
        return 0;
}

/* cs as "0-3" into f (malloc'd on the way: "?" when out of memory) */
static void put_set(FILE *f, const struct cpuset *cs)
{
        _cleanup_free_ char *t = cpuset_to_string(cs);

        fputs(t ? t : "?", f);
}

char *autoplace_describe(const struct autoplace_decision *d)
{
        char mem[32], room[32], *s = NULL;
        size_t len = 0;
        FILE *f;
        const char *what = d->nodes_auto && d->cpus_auto ? "numa.placement and cpu.placement \"auto\""
                           : d->nodes_auto                 ? "numa.placement \"auto\""
                                                           : "cpu.placement \"auto\"";

        if (!d->nodes_auto && !d->cpus_auto)
                return NULL;
        if (!(f = open_memstream(&s, &len)))
                return NULL;
        fprintf(f, "%s: ", what);
        if (d->no_numa) {
                fputs("this host's kernel has no NUMA (one pseudo node): nothing to bind", f);
        } else {
                format_size_human(d->memory, mem, sizeof mem);
                format_size_human(d->free, room, sizeof room);
                fprintf(f, "host node%s ", cpuset_count(&d->nodes) == 1 ? "" : "s");
                put_set(f, &d->nodes);
                fprintf(f, " (%s%s free for %s; %u CPU%s for %u vCPU%s)", room, d->hugepage ? " in huge pages" : "",
                        mem, d->n_cpus, d->n_cpus == 1 ? "" : "s", d->vcpus, d->vcpus == 1 ? "" : "s");
                fputs(!d->chosen ? ", numa.nodeset's"
                      : d->fits  ? ", the most free memory that holds the VM"
                                 : ": no set of nodes holds the VM, so every node",
                      f);
                if (d->nodes_auto) {
                        fputs("; memory bound there (numa.nodeset ", f);
                        put_set(f, &d->nodes);
                        fputs(")", f);
                }
                if (d->cpus_auto && d->n_cpus) {
                        fputs("; CPUs ", f);
                        put_set(f, &d->cpus);
                        fputs(" (cpu.cpuset)", f);
                }
                if (d->had_nodeset) {
                        fputs("; replaces the file's numa.nodeset ", f);
                        put_set(f, &d->old_nodeset);
                }
                if (d->had_cpuset) {
                        fputs("; replaces the file's cpu.cpuset ", f);
                        put_set(f, &d->old_cpuset);
                }
        }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}
