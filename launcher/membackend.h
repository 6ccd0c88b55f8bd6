/* Guest memory backends: one builder for every memory-backend object, at
 * boot (-object on the command line) and at hotplug (object-add over QMP),
 * so that a DIMM plugged into a running VM is the same memory as the one
 * the next boot makes of it. */
#pragma once
#include <json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/cpuset.h"
#include "../common/err.h"
#include "spec.h"

enum mem_prop_type { MEM_PROP_STR, MEM_PROP_BOOL, MEM_PROP_SIZE, MEM_PROP_NODES };

struct mem_prop {
        const char *key; /* QEMU's property name */
        enum mem_prop_type type;
        const char *str;            /* STR; points into the spec */
        bool b;                     /* BOOL */
        uint64_t size;              /* SIZE, bytes */
        const struct cpuset *nodes; /* NODES: host-nodes; points into the spec */
};

#define MEM_BACKEND_MAX_PROPS 8

struct mem_backend {
        const char *qom_type; /* memory-backend-ram, -memfd or -file */
        char id[64];
        uint64_t size; /* bytes */
        struct mem_prop props[MEM_BACKEND_MAX_PROPS];
        size_t n_props;
};

/* The backend `id` of `size` bytes for this VM's memory settings: normal
 * pages, hugetlb memfd or a file on a hugetlbfs mount (memory.hugepages),
 * prealloc (hugepages only, when asked: virtio-mem preallocates per block),
 * merge=off (memory.merge), host-nodes + policy (numa.nodeset). The result
 * points into spec. */
int mem_backend_build(const struct vm_spec *spec, const char *id, uint64_t size, bool prealloc,
                      struct mem_backend *ret, struct qc_err *err);
/* The properties besides qom-type, id and size, as QMP object-add takes
 * them (sizes in bytes, host-nodes a list of numbers). NULL: out of memory. */
json_object *mem_backend_qmp_props(const struct mem_backend *b);
