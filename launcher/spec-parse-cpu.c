/* The VM file's "cpu", "memory" and "numa" sections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "spec-internal.h"

static const char *const cpu_keys[] = {
        "mode", "model", "features", "vcpus", "max", "topology", "pin", "emulator_pin", "weight", "max_percent", NULL,
};
static const char *const topology_keys[] = { "sockets", "cores", "threads", NULL };

static bool feature_name_ok(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 64 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void parse_features(struct spec_ctx *c, const struct jt *n, struct vm_spec *s)
{
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "cpu.features", "expected an object like {\"vmx\": \"require\"}, got %s", got);
                return;
        }
        check_duplicates(c, n, "cpu.features");
        s->cpu.features = calloc(n->n ? n->n : 1, sizeof *s->cpu.features);
        if (!s->cpu.features) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct jt *f = &n->kids[i];
                _cleanup_free_ char *p = path_key(c, "cpu.features", f->key);
                int pol;

                if (!feature_name_ok(f->key)) {
                        diag_at(c, f->key_line, f->key_col, p,
                                "not a CPU feature name; names look like \"vmx\" or \"avx512f\" (see qemu-system-x86_64 -cpu help)");
                        continue;
                }
                pol = get_enum(c, f, p, vm_feature_policy_table, _VM_FEATURE_POLICY_MAX);
                if (pol < 0)
                        continue;
                s->cpu.features[s->cpu.n_features].name = strdup(f->key);
                if (!s->cpu.features[s->cpu.n_features].name) {
                        c->oom = true;
                        return;
                }
                s->cpu.features[s->cpu.n_features++].policy = pol;
        }
}

static void parse_pins(struct spec_ctx *c, const struct jt *n, struct vm_spec *s)
{
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "cpu.pin", "expected an object of vCPU -> host CPUs like {\"0\": \"2\", \"1\": \"3\"}, got %s",
                     got);
                return;
        }
        check_duplicates(c, n, "cpu.pin");
        s->cpu.pins = calloc(n->n ? n->n : 1, sizeof *s->cpu.pins);
        c->n_pin_keys = calloc(n->n ? n->n : 1, sizeof *c->n_pin_keys);
        if (!s->cpu.pins || !c->n_pin_keys) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct jt *p = &n->kids[i];
                _cleanup_free_ char *path = path_key(c, "cpu.pin", p->key);
                const char *k = p->key;
                unsigned long v = 0;
                bool ok = k[0] != '\0' && strlen(k) <= 5 && strspn(k, "0123456789") == strlen(k) &&
                          !(k[0] == '0' && k[1]);
                struct cpuset cs;

                if (ok)
                        v = strtoul(k, NULL, 10);
                if (!ok || v >= QC_CPUSET_MAX) {
                        diag_at(c, p->key_line, p->key_col, path,
                                "expected a vCPU number as the key, like \"0\" (vCPUs count from 0)");
                        continue;
                }
                if (get_cpuset(c, p, path, "host CPUs", &cs) < 0)
                        continue;
                s->cpu.pins[s->cpu.n_pins] = (struct vm_vcpu_pin){ .vcpu = (unsigned)v, .cpus = cs };
                c->n_pin_keys[s->cpu.n_pins++] = p;
        }
}

void parse_cpu(struct spec_ctx *c, const struct jt *cpu, struct vm_spec *s)
{
        const struct jt *n;
        uint64_t v;

        c->n_cpu = cpu;
        if (!check_object(c, cpu, "cpu", cpu_keys))
                return;
        if ((n = jt_get(cpu, "mode"))) {
                int m = get_enum(c, n, "cpu.mode", vm_cpu_mode_table, _VM_CPU_MODE_MAX);
                c->n_mode = n;
                if (m >= 0)
                        s->cpu.mode = m;
        }
        if ((n = jt_get(cpu, "model"))) {
                c->n_model = n;
                if (get_string(c, n, "cpu.model", &s->cpu.model) == 0) {
                        size_t len = strlen(s->cpu.model);
                        if (len == 0 || len > 64 ||
                            strspn(s->cpu.model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                                    len) {
                                char q[96];
                                jt_describe(n, q, sizeof q);
                                diag(c, n, "cpu.model",
                                     "%s is not a CPU model name; names look like \"max\", \"qemu64\" or \"Haswell-v4\"", q);
                        }
                }
        }
        if ((n = jt_get(cpu, "features"))) {
                c->n_features = n;
                parse_features(c, n, s);
        }
        if ((n = jt_get(cpu, "vcpus"))) {
                c->n_vcpus = n;
                if (get_uint(c, n, "cpu.vcpus", 1, QC_CPUSET_MAX, &v) == 0)
                        s->cpu.vcpus = (unsigned)v;
        }
        s->cpu.max = s->cpu.vcpus;
        if ((n = jt_get(cpu, "max"))) {
                c->n_max = n;
                if (get_uint(c, n, "cpu.max", 1, QC_CPUSET_MAX, &v) == 0)
                        s->cpu.max = (unsigned)v;
        }
        if ((n = jt_get(cpu, "topology"))) {
                c->n_topology = n;
                if (check_object(c, n, "cpu.topology", topology_keys)) {
                        unsigned *dst[] = { &s->cpu.sockets, &s->cpu.cores, &s->cpu.threads };
                        s->cpu.topology_given = true;
                        for (size_t i = 0; i < 3; i++) {
                                const struct jt *t = jt_get(n, topology_keys[i]);
                                _cleanup_free_ char *p = path_key(c, "cpu.topology", topology_keys[i]);
                                *dst[i] = 1;
                                if (t && get_uint(c, t, p, 1, QC_CPUSET_MAX, &v) == 0)
                                        *dst[i] = (unsigned)v;
                        }
                }
        }
        if ((n = jt_get(cpu, "pin"))) {
                c->n_pin = n;
                parse_pins(c, n, s);
        }
        if ((n = jt_get(cpu, "emulator_pin")) &&
            get_cpuset(c, n, "cpu.emulator_pin", "host CPUs", &s->cpu.emulator_pin) == 0)
                s->cpu.has_emulator_pin = true;
        if ((n = jt_get(cpu, "weight")) && get_uint(c, n, "cpu.weight", 1, 10000, &v) == 0)
                s->cpu.weight = (unsigned)v;
        if ((n = jt_get(cpu, "max_percent")) && get_uint(c, n, "cpu.max_percent", 1, 100 * QC_CPUSET_MAX, &v) == 0)
                s->cpu.max_percent = (unsigned)v;
}

static const char *const memory_keys[] = {
        "size", "max", "slots", "hotplug", "plugged", "hugepages", "locked", "merge", "balloon", "limits", NULL,
};
static const char *const hugepages_keys[] = { "size", "path", NULL };
static const char *const balloon_keys[] = { "deflate_on_oom", "stats_interval", "free_page_reporting", NULL };
static const char *const limits_keys[] = { "hard", "soft", "swap", "min", NULL };

static void parse_hugepages(struct spec_ctx *c, const struct jt *n, struct vm_spec *s)
{
        const struct jt *k;

        if (n->type == JT_STRING || n->type == JT_NUMBER) {
                get_size(c, n, "memory.hugepages", &s->memory.hugepages);
                return;
        }
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "memory.hugepages",
                     "expected a page size like \"2M\" or an object like {\"size\": \"1G\", \"path\": \"/dev/hugepages1G\"}, got %s",
                     got);
                return;
        }
        check_object(c, n, "memory.hugepages", hugepages_keys);
        if (!(k = jt_get(n, "size")))
                diag(c, n, "memory.hugepages.size", "missing; give the page size, \"2M\" or \"1G\"");
        else
                get_size(c, k, "memory.hugepages.size", &s->memory.hugepages);
        if ((k = jt_get(n, "path")) && get_string(c, k, "memory.hugepages.path", &s->memory.hugepages_path) == 0 &&
            s->memory.hugepages_path[0] != '/')
                diag(c, k, "memory.hugepages.path", "expected the absolute path of a hugetlbfs mount, like \"/dev/hugepages\"");
}

static void parse_balloon(struct spec_ctx *c, const struct jt *n, struct vm_spec *s)
{
        const struct jt *k;
        uint64_t v;

        if (n->type == JT_BOOL) {
                s->memory.balloon = n->b;
                return;
        }
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "memory.balloon",
                     "expected false, true or an object like {\"deflate_on_oom\": true, \"stats_interval\": 2}, got %s",
                     got);
                return;
        }
        s->memory.balloon = true;
        check_object(c, n, "memory.balloon", balloon_keys);
        if ((k = jt_get(n, "deflate_on_oom")))
                get_bool(c, k, "memory.balloon.deflate_on_oom", &s->memory.balloon_deflate_on_oom);
        if ((k = jt_get(n, "free_page_reporting")))
                get_bool(c, k, "memory.balloon.free_page_reporting", &s->memory.balloon_free_page_reporting);
        if ((k = jt_get(n, "stats_interval")) && get_uint(c, k, "memory.balloon.stats_interval", 0, 86400, &v) == 0)
                s->memory.balloon_stats_interval = (unsigned)v;
}

void parse_memory(struct spec_ctx *c, const struct jt *mem, struct vm_spec *s)
{
        const struct jt *n;
        uint64_t v;

        c->n_memory = mem;
        if (!check_object(c, mem, "memory", memory_keys))
                return;
        if ((n = jt_get(mem, "size"))) {
                c->n_size = n;
                get_size(c, n, "memory.size", &s->memory.size);
        }
        if ((n = jt_get(mem, "max"))) {
                c->n_mem_max = n;
                get_size(c, n, "memory.max", &s->memory.max);
        }
        if ((n = jt_get(mem, "slots"))) {
                c->n_slots = n;
                /* ACPI's memory hotplug has 256 slots */
                if (get_uint(c, n, "memory.slots", 1, 256, &v) == 0)
                        s->memory.slots = (unsigned)v;
        }
        if ((n = jt_get(mem, "hotplug"))) {
                int h = get_enum(c, n, "memory.hotplug", vm_mem_hotplug_table, _VM_MEM_HOTPLUG_MAX);
                c->n_hotplug = n;
                if (h >= 0)
                        s->memory.hotplug = h;
        }
        if ((n = jt_get(mem, "plugged"))) {
                c->n_plugged = n;
                get_size(c, n, "memory.plugged", &s->memory.plugged);
        }
        if ((n = jt_get(mem, "hugepages"))) {
                c->n_hugepages = n;
                parse_hugepages(c, n, s);
        }
        if ((n = jt_get(mem, "locked"))) {
                c->n_locked = n;
                get_bool(c, n, "memory.locked", &s->memory.locked);
        }
        if ((n = jt_get(mem, "merge")))
                get_bool(c, n, "memory.merge", &s->memory.merge);
        if ((n = jt_get(mem, "balloon")))
                parse_balloon(c, n, s);
        if ((n = jt_get(mem, "limits"))) {
                const struct jt *k;
                c->n_limits = n;
                if (!check_object(c, n, "memory.limits", limits_keys))
                        return;
                if ((k = jt_get(n, "hard"))) {
                        c->n_hard = k;
                        get_size(c, k, "memory.limits.hard", &s->memory.hard_limit);
                }
                if ((k = jt_get(n, "soft"))) {
                        c->n_soft = k;
                        get_size(c, k, "memory.limits.soft", &s->memory.soft_limit);
                }
                if ((k = jt_get(n, "swap")) && get_size(c, k, "memory.limits.swap", &s->memory.swap_limit) == 0)
                        s->memory.swap_limit_set = true;
                if ((k = jt_get(n, "min"))) {
                        c->n_min = k;
                        get_size(c, k, "memory.limits.min", &s->memory.min_guarantee);
                }
        }
}

static const char *const numa_keys[] = { "policy", "nodeset", "cells", NULL };
static const char *const cell_keys[] = { "cpus", "memory", NULL };

void parse_numa(struct spec_ctx *c, const struct jt *numa, struct vm_spec *s)
{
        const struct jt *n;

        c->n_numa = numa;
        if (!check_object(c, numa, "numa", numa_keys))
                return;
        if ((n = jt_get(numa, "policy"))) {
                int p = get_enum(c, n, "numa.policy", vm_numa_policy_table, _VM_NUMA_POLICY_MAX);
                if (p >= 0)
                        s->numa.policy = p;
        }
        if ((n = jt_get(numa, "nodeset")) && get_cpuset(c, n, "numa.nodeset", "host NUMA nodes", &s->numa.nodeset) == 0)
                s->numa.has_nodeset = true;
        if (!(n = jt_get(numa, "cells")))
                return;
        c->n_cells = n;
        if (n->type != JT_ARRAY) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "numa.cells", "expected an array of cells like [{\"cpus\": \"0-1\", \"memory\": \"2G\"}], got %s",
                     got);
                return;
        }
        if (n->n == 0) {
                diag(c, n, "numa.cells", "empty; leave it out for one NUMA node, or list the cells");
                return;
        }
        s->numa.cells = calloc(n->n, sizeof *s->numa.cells);
        c->n_cell_vals = calloc(n->n, sizeof *c->n_cell_vals);
        if (!s->numa.cells || !c->n_cell_vals) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct jt *cell = &n->kids[i], *k;
                _cleanup_free_ char *p = path_idx(c, "numa.cells", i);
                struct vm_numa_cell *dst = &s->numa.cells[i];
                bool good = true;

                if (!p || !check_object(c, cell, p, cell_keys))
                        continue;
                c->n_cell_vals[i] = cell;
                if (!(k = jt_get(cell, "cpus"))) {
                        _cleanup_free_ char *pp = path_key(c, p, "cpus");
                        diag(c, cell, pp, "missing; give the cell's guest vCPUs, like \"0-1\"");
                        good = false;
                } else {
                        _cleanup_free_ char *pp = path_key(c, p, "cpus");
                        good &= get_cpuset(c, k, pp, "guest vCPUs", &dst->cpus) == 0;
                }
                if (!(k = jt_get(cell, "memory"))) {
                        _cleanup_free_ char *pp = path_key(c, p, "memory");
                        diag(c, cell, pp, "missing; give the cell's memory, like \"2G\"");
                        good = false;
                } else {
                        _cleanup_free_ char *pp = path_key(c, p, "memory");
                        good &= get_size(c, k, pp, &dst->memory) == 0;
                }
                (void)good;
        }
        s->numa.n_cells = n->n;
}
