/* numastat: QEMU's memory per host NUMA node, of one VM (numastat -p) or of
 * every running VM (numastat -c qemu-kvm). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/placement.h"
#include "common/cleanup.h"
#include "common/strv.h"
#include "launcher/placement.h"
#include "launcher/state.h"

/* numastat's node columns: every host node, as numastat shows them, and any
 * node the numa_maps of s names. */
static void numastat_nodes(const struct vm_numastat *s, struct cpuset *ret)
{
        struct cpuset nodes;

        if (placement_host_nodes(&nodes, NULL) < 0)
                cpuset_zero(&nodes);
        for (unsigned i = 0; i < s->n_nodes; i++)
                cpuset_set(&nodes, i);
        if (cpuset_is_empty(&nodes))
                cpuset_set(&nodes, 0);
        *ret = nodes;
}

static void numastat_key(enum vm_numastat_cat c, char key[static 16])
{
        snprintf(key, 16, "%s", vm_numastat_cat_to_string(c));
        key[0] = (char)(key[0] - 'A' + 'a');
}

/* {"nodes": [{"node", "huge", "heap", "stack", "private", "total"}...],
 * "total": {...}}: bytes, one entry per column of nodes. */
static json_object *numastat_json(const struct vm_numastat *s, const struct cpuset *nodes)
{
        json_object *o = json_object_new_object(), *arr = json_object_new_array(), *t = json_object_new_object();
        uint64_t total[_VM_NUMASTAT_CAT_MAX] = { 0 }, all = 0;
        int last = cpuset_last(nodes);
        char key[16];

        for (int n = 0; n <= last; n++) {
                json_object *jn;
                uint64_t sum = 0;

                if (!cpuset_isset(nodes, (unsigned)n))
                        continue;
                jn = json_object_new_object();
                json_object_object_add(jn, "node", json_object_new_int64(n));
                for (int c = 0; c < _VM_NUMASTAT_CAT_MAX; c++) {
                        uint64_t b = vm_numastat_get(s, (enum vm_numastat_cat)c, (unsigned)n);

                        numastat_key((enum vm_numastat_cat)c, key);
                        json_object_object_add(jn, key, json_object_new_uint64(b));
                        sum += b;
                        total[c] += b;
                }
                json_object_object_add(jn, "total", json_object_new_uint64(sum));
                all += sum;
                json_object_array_add(arr, jn);
        }
        for (int c = 0; c < _VM_NUMASTAT_CAT_MAX; c++) {
                numastat_key((enum vm_numastat_cat)c, key);
                json_object_object_add(t, key, json_object_new_uint64(total[c]));
        }
        json_object_object_add(t, "total", json_object_new_uint64(all));
        json_object_object_add(o, "nodes", arr);
        json_object_object_add(o, "total", t);
        return o;
}

/* Bytes of category c on node n; c = _VM_NUMASTAT_CAT_MAX: all of them. */
static uint64_t numastat_cell(const struct vm_numastat *s, int c, unsigned n)
{
        uint64_t b = 0;

        for (int k = 0; k < _VM_NUMASTAT_CAT_MAX; k++)
                if (c == _VM_NUMASTAT_CAT_MAX || k == c)
                        b += vm_numastat_get(s, (enum vm_numastat_cat)k, n);
        return b;
}

/* A numastat table: the heading row ("Node 0 ... Total") under a first
 * column of width w, then its rule. */
static void numastat_head(const struct cpuset *nodes, int w, const char *first)
{
        int last = cpuset_last(nodes);

        printf("%-*s", w, first);
        for (int n = 0; n <= last; n++) {
                char h[24];

                if (!cpuset_isset(nodes, (unsigned)n))
                        continue;
                snprintf(h, sizeof h, "Node %d", n);
                printf(" %15s", h);
        }
        printf(" %15s\n", "Total");
}

/* first: ' ' under the heading, '-' above the Total row (numastat's rules) */
static void numastat_rule(const struct cpuset *nodes, int w, char first)
{
        int last = cpuset_last(nodes);

        for (int i = 0; i < w; i++)
                putchar(first);
        for (int n = 0; n <= last + 1; n++)
                if (n > last || cpuset_isset(nodes, (unsigned)n))
                        printf(" ---------------");
        printf("\n");
}

/* One row: label, then the bytes of category c (or all) per node of s and
 * their total, in MB. */
static void numastat_row(const struct cpuset *nodes, int w, const char *label, const struct vm_numastat *s, int c)
{
        const double mb = 1024.0 * 1024.0;
        int last = cpuset_last(nodes);
        uint64_t row = 0;

        printf("%-*s", w, label);
        for (int node = 0; node <= last; node++) {
                uint64_t b;

                if (!cpuset_isset(nodes, (unsigned)node))
                        continue;
                b = numastat_cell(s, c, (unsigned)node);
                row += b;
                printf(" %15.2f", (double)b / mb);
        }
        printf(" %15.2f\n", (double)row / mb);
}

/* The n tables added up, per node and category (--all's Total). 0 or
 * -ENOMEM. */
static int numastat_sum(const struct vm_numastat *s, size_t n, struct vm_numastat *ret)
{
        struct vm_numastat sum = { 0 };

        for (size_t k = 0; k < n; k++)
                if (s[k].n_nodes > sum.n_nodes)
                        sum.n_nodes = s[k].n_nodes;
        sum.bytes = calloc(sum.n_nodes ? (size_t)sum.n_nodes * _VM_NUMASTAT_CAT_MAX : 1, sizeof *sum.bytes);
        if (!sum.bytes)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < (size_t)s[k].n_nodes * _VM_NUMASTAT_CAT_MAX; i++)
                        sum.bytes[i] += s[k].bytes[i];
        *ret = sum;
        return 0;
}

/* numastat without NAME (or --all): every running VM's QEMU, one row each,
 * as `numastat -c qemu-kvm` shows every QEMU process. */
static int numastat_all(const char *verb, bool json)
{
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_strv_ strv shown = { 0 };
        struct qc_err err = { 0 };
        struct vm_numastat *stats = NULL, sum = { 0 };
        pid_t *pids = NULL;
        size_t n = 0;
        struct cpuset nodes;
        int rc = CLI_EXIT_OK, w = 24;

        if (state_list_names(&names, &err) < 0)
                return cli_fail(verb, &err);
        for (char **name = names; *name; name++) {
                _cleanup_vm_ struct vm_handle *h = NULL;
                struct qc_err e = { 0 };
                void *a, *b;

                /* no lock: reading numa_maps changes nothing, and a verb
                 * holding one VM's lock must not hold up the table */
                if (vm_open(*name, verb, VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC, 0, &h, &e) < 0)
                        continue; /* ended, or not a VM of ours to read: not in the table */
                a = realloc(stats, (n + 1) * sizeof *stats);
                if (a)
                        stats = a;
                b = realloc(pids, (n + 1) * sizeof *pids);
                if (b)
                        pids = b;
                if (!a || !b || strv_push(&shown, *name) < 0) {
                        rc = cli_failf(verb, "out of memory");
                        goto out;
                }
                stats[n] = (struct vm_numastat){ 0 };
                if (vm_numastat_read(h->qemu_pid, &stats[n], &e) < 0) {
                        if (e.code == ENOENT || e.code == ESRCH) { /* QEMU ended meanwhile */
                                free(shown.v[--shown.n]);
                                shown.v[shown.n] = NULL;
                                continue;
                        }
                        rc = cli_fail(verb, &e);
                        goto out;
                }
                pids[n++] = h->qemu_pid;
        }
        if (numastat_sum(stats, n, &sum) < 0) {
                rc = cli_failf(verb, "out of memory");
                goto out;
        }
        numastat_nodes(&sum, &nodes);
        if (json) {
                json_object *o = json_object_new_object(), *arr = json_object_new_array();

                for (size_t k = 0; k < n; k++) {
                        json_object *j = numastat_json(&stats[k], &nodes);

                        json_object_object_add(j, "name", json_object_new_string(shown.v[k]));
                        json_object_object_add(j, "pid", json_object_new_int64(pids[k]));
                        json_object_array_add(arr, j);
                }
                json_object_object_add(o, "vms", arr);
                /* the Total row: every VM's bytes per node and category */
                json_object *t = numastat_json(&sum, &nodes);
                json_object_object_add(o, "nodes", json_object_get(json_object_object_get(t, "nodes")));
                json_object_object_add(o, "total", json_object_get(json_object_object_get(t, "total")));
                json_object_put(t);
                cli_print_json(o);
                json_object_put(o);
                goto out;
        }
        printf("Per-node process memory usage (in MBs) of every running VM's QEMU\n");
        numastat_head(&nodes, w, "VM (QEMU PID)");
        numastat_rule(&nodes, w, '-');
        for (size_t k = 0; k < n; k++) {
                char label[128];

                snprintf(label, sizeof label, "%s (%d)", shown.v[k], (int)pids[k]);
                numastat_row(&nodes, w, label, &stats[k], _VM_NUMASTAT_CAT_MAX);
        }
        numastat_rule(&nodes, w, '-');
        numastat_row(&nodes, w, "Total", &sum, _VM_NUMASTAT_CAT_MAX);
        if (n == 0)
                printf("(no VM runs)\n");
out:
        vm_numastat_done(&sum);
        for (size_t k = 0; k < n; k++)
                vm_numastat_done(&stats[k]);
        free(stats);
        free(pids);
        return rc;
}

static int numastat_opt(const char *verb, int c, const char *arg, void *ud)
{
        if (c == 'a')
                *(bool *)ud = true;
        return 0;
}

int cmd_numastat(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct vm_numastat s = { 0 };
        struct cpuset nodes;
        bool all = false;
        struct cli_opts co = { .on_opt = numastat_opt, .ud = &all };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        const int w = 16;

        if (parsed != 0)
                return rc;
        if (argc - optind > 1)
                return cli_usage(verb, "one VM NAME at most (none, or --all: every running VM)");
        if (all && argc - optind == 1)
                return cli_usage(verb, "--all and a NAME: give one or the other");
        if (argc - optind == 0)
                return numastat_all(verb, co.json);
        if ((rc = cli_placement_open(verb, argv[optind], false, &v)))
                return rc;
        rc = vm_numastat_read(v.live.qemu_pid, &s, &err);
        if (rc < 0)
                return cli_fail(verb, &err);
        numastat_nodes(&s, &nodes);
        if (co.json) {
                json_object *o = numastat_json(&s, &nodes);

                json_object_object_add(o, "pid", json_object_new_int64(v.live.qemu_pid));
                cli_print_json(o);
                json_object_put(o);
        } else {
                printf("Per-node process memory usage (in MBs) for PID %d (QEMU of VM `%s`)\n",
                       (int)v.live.qemu_pid, v.h->name);
                numastat_head(&nodes, w, "");
                numastat_rule(&nodes, w, ' ');
                for (int c = 0; c < _VM_NUMASTAT_CAT_MAX; c++)
                        numastat_row(&nodes, w, vm_numastat_cat_to_string((enum vm_numastat_cat)c), &s, c);
                numastat_rule(&nodes, w, '-');
                numastat_row(&nodes, w, "Total", &s, _VM_NUMASTAT_CAT_MAX);
        }
        vm_numastat_done(&s);
        return CLI_EXIT_OK;
}
