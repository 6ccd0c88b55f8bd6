/* --config: the live verbs' changes on a spec alone (vm-config.h). */
#include "vm-config.h"

#include <errno.h>

#include "../common/size.h"

int vm_config_vcpupin(struct vm_spec *s, unsigned vcpu, const struct cpuset *cpus, struct qc_err *err)
{
        if (vcpu >= s->cpu.max)
                return qc_err_set(err, ERANGE, "vCPU %u does not exist: VM `%s` has vCPUs 0-%u (cpu.max %u)", vcpu,
                                  s->name, s->cpu.max - 1, s->cpu.max);
        return vm_pin_record(s, vcpu, cpus, err);
}

int vm_config_emulatorpin(struct vm_spec *s, const struct cpuset *cpus, struct qc_err *err)
{
        s->cpu.has_emulator_pin = true;
        s->cpu.emulator_pin = *cpus;
        return 0;
}

int vm_config_memtune(struct vm_spec *s, struct vm_memtune *m, struct qc_err *err)
{
        struct vm_memtune now;

        vm_memtune_from_spec(s, &now);
        if (m->swap_total_set && vm_memtune_resolve_swap(&now, m, err) < 0)
                return -1;
        if (vm_memtune_check(&now, m, err) < 0)
                return -1;
        vm_memtune_to_spec(s, m);
        return 0;
}

int vm_config_numatune(struct vm_spec *s, const struct cpuset *nodeset, const enum vm_numa_policy *mode,
                       struct qc_err *err)
{
        if (nodeset) {
                s->numa.has_nodeset = true;
                s->numa.nodeset = *nodeset;
                spec_placement_taken(&s->numa.placement, &s->numa.has_placement);
        }
        if (mode)
                s->numa.policy = *mode;
        return 0;
}

int vm_config_setvcpus(struct vm_spec *s, unsigned n, bool maximum, bool *ret_lowered, struct qc_err *err)
{
        *ret_lowered = false;
        if (n == 0)
                return qc_err_set(err, EINVAL, "a VM needs at least one vCPU");
        if (!maximum) {
                if (n > s->cpu.max)
                        return qc_err_set(err, ERANGE,
                                          "%u vCPUs asked, but VM `%s` has at most %u (cpu.max); raise it first with "
                                          "setvcpus --maximum --config %u",
                                          n, s->name, s->cpu.max, n);
                s->cpu.vcpus = n;
                return 0;
        }
        s->cpu.max = n;
        if (s->cpu.vcpus > n) {
                s->cpu.vcpus = n;
                *ret_lowered = true;
        }
        /* a topology derived from the old maximum is derived again when the
         * definition is read back; a written one must still multiply to n
         * (the key table says so if not) */
        return 0;
}

int vm_config_setmem(struct vm_spec *s, uint64_t total, struct qc_err *err)
{
        char a[32], b[32];

        format_size(total, a, sizeof a);
        if (total < s->memory.size) {
                format_size(s->memory.size, b, sizeof b);
                return qc_err_set(err, ERANGE,
                                  "%s is below the boot memory %s (memory.size), which setmem does not change; edit "
                                  "memory.size (qemuctl edit %s), or take memory at run time with balloon",
                                  a, b, s->name);
        }
        if (total > s->memory.size && s->memory.max <= s->memory.size)
                return qc_err_set(err, ERANGE,
                                  "VM `%s` has no room for hotplug: set memory.max (and memory.slots for DIMMs) in "
                                  "its definition (qemuctl edit %s)",
                                  s->name, s->name);
        if (total > s->memory.max) {
                format_size(s->memory.max, b, sizeof b);
                return qc_err_set(err, ERANGE, "%s asked, but the VM's maximum is %s (memory.max)", a, b);
        }
        s->memory.plugged = total - s->memory.size;
        return 0;
}
