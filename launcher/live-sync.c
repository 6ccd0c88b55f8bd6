#include "live-sync.h"

#include "../qmp/qmp.h"
#include "handle.h"

int spec_sync_live(struct qmp *q, struct vm_spec *spec, bool *ret_changed, struct qc_err *err)
{
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *cpus = NULL;
        _cleanup_(qmp_memory_device_list_freep) struct qmp_memory_device_list *mem = NULL;
        uint64_t plugged;
        bool changed = false;

        if (qmp_query_cpus_fast(q, &cpus, err) < 0 || qmp_query_memory_devices(q, &mem, err) < 0)
                return -1;
        if (cpus->n > 0 && cpus->n != spec->cpu.vcpus) {
                spec->cpu.vcpus = (unsigned)cpus->n;
                changed = true;
        }
        plugged = qmp_memory_devices_plugged(mem);
        if (plugged != spec->memory.plugged) {
                spec->memory.plugged = plugged;
                changed = true;
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

int vm_sync_recorded(const char *rundir, struct qmp *q, struct vm_spec *spec, struct qc_err *err)
{
        struct vm_spec *loaded = NULL;
        bool changed;
        int r;

        if (!spec) {
                if (vm_load_spec(rundir, &loaded, err) < 0)
                        return -1;
                spec = loaded;
        }
        r = spec_sync_live(q, spec, &changed, err);
        if (r == 0 && changed)
                r = vm_write_spec(rundir, spec, err);
        spec_free(loaded);
        return r;
}
