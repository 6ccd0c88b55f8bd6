/* memtune, numatune. */
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
