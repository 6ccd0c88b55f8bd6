/* The VM file's "cpu", "memory" and "numa" sections: what the key table
 * (spec-keys.c) hands to code. */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "spec-internal.h"
#include "spec-keys.h"

static bool feature_name_ok(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 64 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

void parse_cpu_features(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                        struct vm_spec *s, void *base)
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
                s->cpu.features[s->cpu.n_features].line = f->key_line;
                s->cpu.features[s->cpu.n_features].col = f->key_col;
                s->cpu.features[s->cpu.n_features++].policy = pol;
        }
}

void parse_cpu_pins(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                    struct vm_spec *s, void *base)
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
                _cleanup_free_ char *pp = path_key(c, "cpu.pin", p->key);
                const char *key = p->key;
                unsigned long v = 0;
                bool ok = key[0] != '\0' && strlen(key) <= 5 && strspn(key, "0123456789") == strlen(key) &&
                          !(key[0] == '0' && key[1]);
                struct cpuset cs;

                if (ok)
                        v = strtoul(key, NULL, 10);
                if (!ok || v >= QC_CPUSET_MAX) {
                        diag_at(c, p->key_line, p->key_col, pp,
                                "expected a vCPU number as the key, like \"0\" (vCPUs count from 0)");
                        continue;
                }
                if (get_cpuset(c, p, pp, "host CPUs", &cs) < 0)
                        continue;
                s->cpu.pins[s->cpu.n_pins] = (struct vm_vcpu_pin){ .vcpu = (unsigned)v, .cpus = cs };
                c->n_pin_keys[s->cpu.n_pins++] = p;
        }
}

bool check_cpu_model(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        size_t len = strlen(s->cpu.model);

        if (len == 0 || len > 64 ||
            strspn(s->cpu.model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len) {
                char q[96];
                jt_describe(n, q, sizeof q);
                diag(c, n, path, "%s is not a CPU model name; names look like \"max\", \"qemu64\" or \"Haswell-v4\"", q);
                return false;
        }
        s->cpu.model_line = n->line;
        s->cpu.model_col = n->col;
        return true;
}

void finish_cpu(struct spec_ctx *c, const struct jt *obj, const char *path, struct vm_spec *s, void *base)
{
        if (!c->n_max)
                s->cpu.max = s->cpu.vcpus;
}

int dump_cpu_features(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        json_object *f;

        *ret = NULL;
        if (!s->cpu.n_features)
                return 0;
        if (!(f = json_object_new_object()))
                return -ENOMEM;
        for (size_t i = 0; i < s->cpu.n_features; i++) {
                json_object *v = json_object_new_string(vm_feature_policy_to_string(s->cpu.features[i].policy));
                if (!v || json_object_object_add(f, s->cpu.features[i].name, v) < 0) {
                        json_object_put(f);
                        return -ENOMEM;
                }
        }
        *ret = f;
        return 0;
}

void free_cpu_features(void *base)
{
        struct vm_spec *s = base;

        for (size_t i = 0; i < s->cpu.n_features; i++)
                free(s->cpu.features[i].name);
        free(s->cpu.features);
}

int dump_cpu_pins(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        json_object *p;

        *ret = NULL;
        if (!s->cpu.n_pins)
                return 0;
        if (!(p = json_object_new_object()))
                return -ENOMEM;
        for (size_t i = 0; i < s->cpu.n_pins; i++) {
                _cleanup_free_ char *cpus = cpuset_to_string(&s->cpu.pins[i].cpus);
                json_object *v = cpus ? json_object_new_string(cpus) : NULL;
                char key[16];

                snprintf(key, sizeof key, "%u", s->cpu.pins[i].vcpu);
                if (!v || json_object_object_add(p, key, v) < 0) {
                        json_object_put(p);
                        return -ENOMEM;
                }
        }
        *ret = p;
        return 0;
}

void free_cpu_pins(void *base)
{
        free(((struct vm_spec *)base)->cpu.pins);
}

/* "2M", or {"size": "1G", "path": "/dev/hugepages1G"} */
void parse_hugepages(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                     struct vm_spec *s, void *base)
{
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
        spec_parse_object(c, n, k->path, path, s, base);
}

bool check_hugepages_path(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        if (s->memory.hugepages_path[0] == '/')
                return true;
        diag(c, n, path, "expected the absolute path of a hugetlbfs mount, like \"/dev/hugepages\"");
        return false;
}

int dump_hugepages(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        char buf[32];

        *ret = NULL;
        if (!s->memory.hugepages)
                return 0;
        if (s->memory.hugepages_path)
                return spec_dump_object(s, k->path, base, ret);
        format_size(s->memory.hugepages, buf, sizeof buf);
        return (*ret = json_object_new_string(buf)) ? 0 : -ENOMEM;
}

/* false, true, or {"deflate_on_oom": true, ...} (on) */
void parse_balloon(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                   struct vm_spec *s, void *base)
{
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
        spec_parse_object(c, n, k->path, path, s, base);
}

int dump_balloon(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        if (s->memory.balloon)
                return spec_dump_object(s, k->path, base, ret);
        return (*ret = json_object_new_boolean(false)) ? 0 : -ENOMEM;
}

void parse_numa_cells(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                      struct vm_spec *s, void *base)
{
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
                _cleanup_free_ char *p = path_idx(c, "numa.cells", i);

                if (p && spec_parse_object(c, &n->kids[i], "numa.cells[]", p, s, &s->numa.cells[i]))
                        c->n_cell_vals[i] = &n->kids[i];
        }
        s->numa.n_cells = n->n;
}
