/* One builder for every guest memory backend (see membackend.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "membackend.h"

static void add(struct mem_backend *b, struct mem_prop p)
{
        if (b->n_props < MEM_BACKEND_MAX_PROPS)
                b->props[b->n_props++] = p;
}

int mem_backend_build(const struct vm_spec *spec, const char *id, uint64_t size, bool prealloc,
                      struct mem_backend *ret, struct qc_err *err)
{
        static const char *const policy[_VM_NUMA_POLICY_MAX] = {
                [VM_NUMA_STRICT] = "bind",
                [VM_NUMA_PREFERRED] = "preferred",
                [VM_NUMA_INTERLEAVE] = "interleave",
        };
        struct mem_backend b = { .size = size };

        if (snprintf(b.id, sizeof b.id, "%s", id) >= (int)sizeof b.id)
                return qc_err_set(err, ENAMETOOLONG, "memory backend id %s is too long", id);
        if (spec->memory.hugepages && spec->memory.hugepages_path) {
                b.qom_type = "memory-backend-file";
                add(&b, (struct mem_prop){ .key = "mem-path", .type = MEM_PROP_STR, .str = spec->memory.hugepages_path });
        } else if (spec->memory.hugepages) {
                b.qom_type = "memory-backend-memfd";
                add(&b, (struct mem_prop){ .key = "hugetlb", .type = MEM_PROP_BOOL, .b = true });
                add(&b, (struct mem_prop){ .key = "hugetlbsize", .type = MEM_PROP_SIZE, .size = spec->memory.hugepages });
        } else {
                /* virtiofsd maps guest RAM: it must be a file it can be
                 * handed (memfd), not anonymous memory */
                b.qom_type = spec_shares_memory(spec) ? "memory-backend-memfd" : "memory-backend-ram";
        }
        if (spec_shares_memory(spec))
                add(&b, (struct mem_prop){ .key = "share", .type = MEM_PROP_BOOL, .b = true });
        /* hugepages are taken up front: a guest must not die later when the
         * pool runs dry */
        if (spec->memory.hugepages && prealloc)
                add(&b, (struct mem_prop){ .key = "prealloc", .type = MEM_PROP_BOOL, .b = true });
        if (!spec->memory.merge)
                add(&b, (struct mem_prop){ .key = "merge", .type = MEM_PROP_BOOL, .b = false });
        if (spec->numa.has_nodeset) {
                add(&b, (struct mem_prop){ .key = "host-nodes", .type = MEM_PROP_NODES, .nodes = &spec->numa.nodeset });
                add(&b, (struct mem_prop){ .key = "policy", .type = MEM_PROP_STR,
                                           .str = spec->numa.policy >= 0 && spec->numa.policy < _VM_NUMA_POLICY_MAX
                                                          ? policy[spec->numa.policy]
                                                          : "bind" });
        }
        *ret = b;
        return 0;
}

json_object *mem_backend_qmp_props(const struct mem_backend *b)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        for (size_t i = 0; i < b->n_props; i++) {
                const struct mem_prop *p = &b->props[i];
                json_object *v = NULL;

                switch (p->type) {
                case MEM_PROP_STR:
                        v = json_object_new_string(p->str);
                        break;
                case MEM_PROP_BOOL:
                        v = json_object_new_boolean(p->b);
                        break;
                case MEM_PROP_SIZE:
                        v = json_object_new_int64((int64_t)p->size);
                        break;
                case MEM_PROP_NODES:
                        v = json_object_new_array();
                        for (int n = 0, last = cpuset_last(p->nodes); v && n <= last; n++)
                                if (cpuset_isset(p->nodes, (unsigned)n) &&
                                    json_object_array_add(v, json_object_new_int(n)) < 0) {
                                        json_object_put(v);
                                        v = NULL;
                                }
                        break;
                default:
                        break;
                }
                if (!v || json_object_object_add(o, p->key, v) < 0) {
                        json_object_put(o);
                        return NULL;
                }
        }
        return o;
}
