/* memtune, numatune, numastat. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/affect.h"
#include "cli/cli.h"
#include "cli/placement.h"
#include "common/cleanup.h"
#include "common/size.h"
#include "common/strv.h"
#include "launcher/state.h"
#include "vm/vm-config.h"

/* virsh's option names, with virsh's meaning (their vals in cli/verbs.c);
 * ours are 'a' + enum vm_memtune_key */
#define OPT_VIRSH_HARD 'H'
#define OPT_VIRSH_SOFT 'O'
#define OPT_VIRSH_SWAP 'S'
#define OPT_VIRSH_MIN 'G'

struct memtune_opts {
        struct vm_memtune m;
        bool virsh_soft; /* --soft-limit given: memory.low, say so */
};

static int memtune_opt(const char *verb, int c, const char *arg, void *ud)
{
        static const char *const names[_VM_MEMTUNE_MAX] = {
                [VM_MEMTUNE_HARD] = "--hard",
                [VM_MEMTUNE_SOFT] = "--soft",
                [VM_MEMTUNE_LOW] = "--low",
                [VM_MEMTUNE_SWAP] = "--swap",
                [VM_MEMTUNE_MIN] = "--min",
        };
        struct memtune_opts *o = ud;
        struct vm_memtune *m = &o->m;
        enum vm_memtune_key k = (enum vm_memtune_key)(c - 'a');
        const char *name;
        uint64_t v;

        switch (c) {
        case OPT_VIRSH_HARD: k = VM_MEMTUNE_HARD; name = "--hard-limit"; break;
        case OPT_VIRSH_SOFT: k = VM_MEMTUNE_LOW; name = "--soft-limit"; break;
        case OPT_VIRSH_SWAP: k = VM_MEMTUNE_SWAP; name = "--swap-hard-limit"; break;
        case OPT_VIRSH_MIN: k = VM_MEMTUNE_MIN; name = "--min-guarantee"; break;
        default:
                if (k < 0 || k >= _VM_MEMTUNE_MAX)
                        return cli_usage(verb, "unknown option");
                name = names[k];
                break;
        }
        if (strcmp(arg, "unlimited") == 0 || strcmp(arg, "max") == 0 || strcmp(arg, "-1") == 0) {
                if (k == VM_MEMTUNE_MIN || k == VM_MEMTUNE_LOW)
                        return cli_usage(verb, "%s: a guarantee cannot be unlimited; 0B removes it", name);
                v = VM_MEMTUNE_UNLIMITED;
        } else if (parse_size(arg, &v) < 0) {
                return cli_usage(verb, "%s: expected a size like \"4G\" or \"512M\" (or \"unlimited\"), got \"%s\"",
                                 name, arg);
        }
        if (c == OPT_VIRSH_SWAP) {
                m->swap_total_set = true;
                m->swap_total = v;
                return 0;
        }
        if (c == OPT_VIRSH_SOFT)
                o->virsh_soft = true;
        m->set[k] = true;
        m->value[k] = v;
        return 0;
}

static void size_or_unlimited(uint64_t v, char *buf, size_t len)
{
        if (v == VM_MEMTUNE_UNLIMITED)
                snprintf(buf, len, "unlimited");
        else
                format_size(v, buf, len);
}

/* What each limit means, for the listing. */
static const char *const memtune_notes[_VM_MEMTUNE_MAX] = {
        [VM_MEMTUNE_HARD] = "OOM-killed past it (virsh's hard_limit)",
        [VM_MEMTUNE_SOFT] = "throttled past it at all times (libvirt's soft_limit on cgroup v2)",
        [VM_MEMTUNE_LOW] = "reclaimed down to it under contention only (virsh's --soft-limit)",
        [VM_MEMTUNE_SWAP] = "swap alone (virsh's swap_hard_limit is hard + swap)",
        [VM_MEMTUNE_MIN] = "never reclaimed below it (virsh's min_guarantee)",
};

/* virsh's swap_hard_limit (memory + swap), when both are limited */
static bool swap_hard_limit(const struct vm_memtune *now, uint64_t *ret)
{
        if (!now->set[VM_MEMTUNE_HARD] || !now->set[VM_MEMTUNE_SWAP] ||
            now->value[VM_MEMTUNE_HARD] == VM_MEMTUNE_UNLIMITED || now->value[VM_MEMTUNE_SWAP] == VM_MEMTUNE_UNLIMITED)
                return false;
        *ret = now->value[VM_MEMTUNE_HARD] + now->value[VM_MEMTUNE_SWAP];
        return true;
}

/* "wrote memory.low = 96M (...)": what a change wrote, in the cgroup's terms */
static void print_written(const char *verb, const char *name, const struct memtune_opts *o)
{
        const struct vm_memtune *m = &o->m;

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++) {
                char v[32], t[32];

                if (!m->set[k])
                        continue;
                size_or_unlimited(m->value[k], v, sizeof v);
                printf("%s: VM `%s`: %s = %s", verb, name, vm_memtune_key_file((enum vm_memtune_key)k), v);
                if (k == VM_MEMTUNE_LOW && o->virsh_soft)
                        printf(" (--soft-limit: virsh's limit under contention; libvirt itself writes memory.high on "
                               "cgroup v2, which throttles at all times: that is --soft)");
                if (k == VM_MEMTUNE_SWAP && m->swap_total_set && m->swap_total != VM_MEMTUNE_UNLIMITED) {
                        size_or_unlimited(m->swap_total, t, sizeof t);
                        printf(" (--swap-hard-limit %s is memory + swap, as in virsh: %s minus the hard limit)", t, t);
                }
                printf("\n");
        }
}

static void print_memtune(const struct vm_memtune *now, bool json, const char *source)
{
        uint64_t total;

        if (json) {
                json_object *o = json_object_new_object();

                for (int k = 0; k < _VM_MEMTUNE_MAX; k++)
                        json_object_object_add(o, vm_memtune_key_to_string((enum vm_memtune_key)k),
                                               !now->set[k] || now->value[k] == VM_MEMTUNE_UNLIMITED
                                                       ? NULL
                                                       : json_object_new_uint64(now->value[k]));
                json_object_object_add(o, "swap_hard_limit",
                                       swap_hard_limit(now, &total) ? json_object_new_uint64(total) : NULL);
                json_object_object_add(o, "source", json_object_new_string(source));
                cli_print_json(o);
                json_object_put(o);
                return;
        }
        for (int k = 0; k < _VM_MEMTUNE_MAX; k++) {
                char buf[32];

                if (now->set[k])
                        size_or_unlimited(now->value[k], buf, sizeof buf);
                else
                        snprintf(buf, sizeof buf, "(none)");
                printf("%-5s: %-10s %-16s %s\n", vm_memtune_key_to_string((enum vm_memtune_key)k), buf,
                       vm_memtune_key_file((enum vm_memtune_key)k), memtune_notes[k]);
        }
        if (swap_hard_limit(now, &total)) {
                char buf[32];

                format_size(total, buf, sizeof buf);
                printf("(virsh's swap_hard_limit, memory + swap: %s)\n", buf);
        }
}

static int config_memtune(struct vm_spec *s, void *ud, struct qc_err *err)
{
        return vm_config_memtune(s, ud, err);
}

int cmd_memtune(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct memtune_opts mo = { 0 };
        struct vm_memtune now;
        struct cli_opts co = { .on_opt = memtune_opt, .ud = &mo };
        bool any = false, live = false;
        unsigned affect = 0;
        int rc;

        if (cli_parse_opts(verb, argc, argv, &co, &rc) != 0)
                return rc;
        if (argc - optind < 1)
                return cli_usage(verb, "expected a VM name");
        if (argc - optind > 1)
                return cli_usage(verb, "unexpected argument \"%s\" after the VM name", argv[optind + 1]);
        const char *name = argv[optind];
        bool json = co.json;
        for (int k = 0; k < _VM_MEMTUNE_MAX; k++)
                any |= mo.m.set[k];
        any |= mo.m.swap_total_set;
        if (any && json)
                return cli_usage(verb, "--json: only when showing the limits");
        if ((rc = cli_affect_resolve(verb, name, co.affect, !any, &affect)) != 0)
                return rc;
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, false, &v)))
                        return rc;
                if (any && vm_memtune_set(&v.p, &mo.m, &err) < 0)
                        return cli_fail(verb, &err);
                if (any)
                        print_written(verb, name, &mo);
                if (!(affect & CLI_AFFECT_CONFIG)) {
                        if (vm_memtune_get(&v.p, &now, &live, &err) < 0)
                                return cli_fail(verb, &err);
                        print_memtune(&now, json, live ? "cgroup" : "recorded");
                        if (!live && !json) {
                                _cleanup_free_ char *why = vm_memtune_missing(&v.p, "reading the limits in force");
                                printf("(recorded values, not in force: %s)\n", why ? why : "no cgroup");
                        }
                }
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                struct vm_spec *s = NULL;

                if (any && (rc = cli_config_update(verb, name, config_memtune, &mo.m)) != 0)
                        return rc;
                if ((rc = cli_config_load(verb, name, &s)) != 0)
                        return rc;
                vm_memtune_from_spec(s, &now);
                spec_free(s);
                if (any && !json) {
                        printf("VM `%s`: memory limits written into its definition (from the next start):\n", name);
                        print_written(verb, name, &mo);
                }
                print_memtune(&now, json, "definition");
        }
        return CLI_EXIT_OK;
}

struct numatune_opts {
        bool has_nodeset, has_mode;
        struct cpuset nodeset;
        enum vm_numa_policy mode;
};

static int numatune_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct numatune_opts *o = ud;
        size_t pos = 0;

        switch (c) {
        case 'n':
                if (cpuset_parse(arg, &o->nodeset, &pos) < 0)
                        return cli_usage(verb, "--nodeset: expected a node list like 0 or 0-1, got \"%s\"", arg);
                o->has_nodeset = true;
                return 0;
        case 'm':
                o->mode = vm_numa_policy_from_string(arg);
                if (o->mode == _VM_NUMA_POLICY_INVALID)
                        return cli_usage(verb, "--mode: expected strict, preferred or interleave, got \"%s\"", arg);
                o->has_mode = true;
                return 0;
        default:
                return cli_usage(verb, "unknown option");
        }
}

static json_object *jset(bool has, const struct cpuset *cs)
{
        _cleanup_free_ char *s = has ? cpuset_to_string(cs) : NULL;

        return s ? json_object_new_string(s) : NULL;
}

static int show_numatune(const char *verb, struct cli_placement *v, const struct vm_spec *def, bool json)
{
        struct vm_numatune t = { 0 };
        struct qc_err err = { 0 };

        if (def) {
                /* --config: the definition's binding; nothing in force to show */
                t.mode = def->numa.policy;
                t.has_nodeset = def->numa.has_nodeset;
                if (t.has_nodeset)
                        t.nodeset = def->numa.nodeset;
        } else if (vm_numatune_get(&v->p, &t, &err) < 0) {
                return cli_fail(verb, &err);
        }
        _cleanup_free_ char *ns = t.has_nodeset ? cpuset_to_string(&t.nodeset) : NULL;
        _cleanup_free_ char *ma = t.has_mems_allowed ? cpuset_to_string(&t.mems_allowed) : NULL;
        _cleanup_free_ char *cm = t.has_cgroup_mems ? cpuset_to_string(&t.cgroup_mems) : NULL;
        if (json) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "numa_mode", json_object_new_string(vm_numa_policy_to_string(t.mode)));
                json_object_object_add(o, "numa_nodeset", jset(t.has_nodeset, &t.nodeset));
                json_object_object_add(o, "mems_allowed", jset(t.has_mems_allowed, &t.mems_allowed));
                json_object_object_add(o, "cgroup_mems", jset(t.has_cgroup_mems, &t.cgroup_mems));
                cli_print_json(o);
                json_object_put(o);
                return CLI_EXIT_OK;
        }
        printf("%-14s: %s\n", "numa_mode", vm_numa_policy_to_string(t.mode));
        printf("%-14s: %s\n", "numa_nodeset", ns ? ns : "(any)");
        if (!def)
                printf("%-14s: %s\n", "mems_allowed", ma ? ma : "?");
        if (cm)
                printf("%-14s: %s\n", "cgroup mems", cm);
        return CLI_EXIT_OK;
}

static int config_numatune(struct vm_spec *s, void *ud, struct qc_err *err)
{
        const struct numatune_opts *o = ud;

        return vm_config_numatune(s, o->has_nodeset ? &o->nodeset : NULL, o->has_mode ? &o->mode : NULL, err);
}

int cmd_numatune(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct numatune_opts o = { 0 };
        struct cpuset host_nodes;
        struct cli_opts co = { .on_opt = numatune_opt,
                               .ud = &o };
        bool deferred = false;
        long not_moved = 0;
        unsigned affect = 0;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);

        if (parsed != 0)
                return rc;
        if (argc - optind < 1)
                return cli_usage(verb, "expected a VM name");
        if (argc - optind > 1)
                return cli_usage(verb, "unexpected argument \"%s\" after the VM name", argv[optind + 1]);
        const char *name = argv[optind];
        bool json = co.json, query = !o.has_nodeset && !o.has_mode;
        if (!query && json)
                return cli_usage(verb, "--json: only when showing the binding");
        if ((rc = cli_affect_resolve(verb, name, co.affect, query, &affect)) != 0)
                return rc;
        if (query && affect == CLI_AFFECT_CONFIG) {
                struct vm_spec *s = NULL;
                if ((rc = cli_config_load(verb, name, &s)) != 0)
                        return rc;
                rc = show_numatune(verb, NULL, s, json);
                spec_free(s);
                return rc;
        }
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, false, &v)))
                        return rc;
                if (query)
                        return show_numatune(verb, &v, NULL, json);
                if (o.has_nodeset && placement_host_nodes(&host_nodes, &err) < 0)
                        return cli_fail(verb, &err);
                if (vm_numatune_set(&v.p, &host_nodes, o.has_nodeset ? &o.nodeset : NULL,
                                    o.has_mode ? &o.mode : NULL, &deferred, &not_moved, &err) < 0)
                        return cli_fail(verb, &err);
                if (o.has_nodeset) {
                        _cleanup_free_ char *s = cpuset_to_string(&o.nodeset);
                        printf("VM `%s`: memory bound to host node%s %s%s\n", v.h->name,
                               cpuset_count(&o.nodeset) == 1 ? "" : "s", s ? s : "?",
                               v.live.cg && (v.p.usable & CG_MASK(CG_CPUSET))
                                       ? " (cpuset.mems and migrate_pages)"
                                       : " (migrate_pages; no cpuset controller here)");
                        if (not_moved > 0)
                                printf("%ld pages could not be moved (in use or pinned); they stay where they are\n",
                                       not_moved);
                }
                if (deferred)
                        printf("VM `%s`: numa mode %s recorded for the next start (in the running VM's file, `dump`%s): "
                               "QEMU fixes a memory backend's policy when it creates it, so the running VM keeps its "
                               "mode\n",
                               v.h->name, vm_numa_policy_to_string(o.mode),
                               affect & CLI_AFFECT_CONFIG ? "" : "; --config writes it into a definition");
                else if (o.has_mode)
                        printf("VM `%s`: numa mode is %s already\n", v.h->name, vm_numa_policy_to_string(o.mode));
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                if ((rc = cli_config_update(verb, name, config_numatune, &o)) != 0)
                        return rc;
                _cleanup_free_ char *s = o.has_nodeset ? cpuset_to_string(&o.nodeset) : NULL;
                printf("VM `%s`: in its definition (from the next start):%s%s%s%s\n", name,
                       o.has_nodeset ? " nodeset " : "", s ? s : "", o.has_mode ? " mode " : "",
                       o.has_mode ? vm_numa_policy_to_string(o.mode) : "");
        }
        return CLI_EXIT_OK;
}

/* numastat's node columns: every host node, as numastat shows them, and any
 * node a numa_maps names. */
static void numastat_nodes(const struct vm_numastat *s, size_t n, struct cpuset *ret)
{
        struct cpuset nodes;

        if (placement_host_nodes(&nodes, NULL) < 0)
                cpuset_zero(&nodes);
        for (size_t k = 0; k < n; k++)
                for (unsigned i = 0; i < s[k].n_nodes; i++)
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

/* One row: label, then the bytes of category c (or all) per node of s... and
 * their total, in MB. n > 1 sums the n tables (the Total row of --all). */
static void numastat_row(const struct cpuset *nodes, int w, const char *label, const struct vm_numastat *s,
                         size_t n, int c)
{
        const double mb = 1024.0 * 1024.0;
        int last = cpuset_last(nodes);
        uint64_t row = 0;

        printf("%-*s", w, label);
        for (int node = 0; node <= last; node++) {
                uint64_t b = 0;

                if (!cpuset_isset(nodes, (unsigned)node))
                        continue;
                for (size_t k = 0; k < n; k++)
                        b += numastat_cell(&s[k], c, (unsigned)node);
                row += b;
                printf(" %15.2f", (double)b / mb);
        }
        printf(" %15.2f\n", (double)row / mb);
}

/* numastat without NAME (or --all): every running VM's QEMU, one row each,
 * as `numastat -c qemu-kvm` shows every QEMU process. */
static int numastat_all(const char *verb, bool json)
{
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_strv_ strv shown = { 0 };
        struct qc_err err = { 0 };
        struct vm_numastat *stats = NULL;
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
        numastat_nodes(stats, n, &nodes);
        if (json) {
                json_object *o = json_object_new_object(), *arr = json_object_new_array();
                struct vm_numastat sum = { 0 };

                for (size_t k = 0; k < n; k++) {
                        json_object *j = numastat_json(&stats[k], &nodes);

                        json_object_object_add(j, "name", json_object_new_string(shown.v[k]));
                        json_object_object_add(j, "pid", json_object_new_int64(pids[k]));
                        json_object_array_add(arr, j);
                }
                json_object_object_add(o, "vms", arr);
                /* the Total row: every VM's bytes per node and category */
                for (size_t k = 0; k < n; k++)
                        if (stats[k].n_nodes > sum.n_nodes)
                                sum.n_nodes = stats[k].n_nodes;
                sum.bytes = calloc(sum.n_nodes ? sum.n_nodes * _VM_NUMASTAT_CAT_MAX : 1, sizeof *sum.bytes);
                if (!sum.bytes) {
                        json_object_put(o);
                        rc = cli_failf(verb, "out of memory");
                        goto out;
                }
                for (size_t k = 0; k < n; k++)
                        for (size_t i = 0; i < (size_t)stats[k].n_nodes * _VM_NUMASTAT_CAT_MAX; i++)
                                sum.bytes[i] += stats[k].bytes[i];
                json_object *t = numastat_json(&sum, &nodes);
                json_object_object_add(o, "nodes", json_object_get(json_object_object_get(t, "nodes")));
                json_object_object_add(o, "total", json_object_get(json_object_object_get(t, "total")));
                json_object_put(t);
                vm_numastat_done(&sum);
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
                numastat_row(&nodes, w, label, &stats[k], 1, _VM_NUMASTAT_CAT_MAX);
        }
        numastat_rule(&nodes, w, '-');
        numastat_row(&nodes, w, "Total", stats, n, _VM_NUMASTAT_CAT_MAX);
        if (n == 0)
                printf("(no VM runs)\n");
out:
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
        numastat_nodes(&s, 1, &nodes);
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
                        numastat_row(&nodes, w, vm_numastat_cat_to_string((enum vm_numastat_cat)c), &s, 1, c);
                numastat_rule(&nodes, w, '-');
                numastat_row(&nodes, w, "Total", &s, 1, _VM_NUMASTAT_CAT_MAX);
        }
        vm_numastat_done(&s);
        return CLI_EXIT_OK;
}
