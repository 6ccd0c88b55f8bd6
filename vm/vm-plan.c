#include "vm-plan.h"

#include <errno.h>
#include <stdlib.h>

void vm_cpu_slots_free(struct vm_cpu_slot *slots, size_t n)
{
        if (!slots)
                return;
        for (size_t i = 0; i < n; i++) {
                free(slots[i].type);
                free(slots[i].qom_path);
        }
        free(slots);
}

static int cmp_i64(int64_t a, int64_t b)
{
        return a < b ? -1 : a > b;
}

static int slot_cmp(const void *pa, const void *pb)
{
        const struct vm_cpu_slot *a = pa, *b = pb;
        int c;

        if ((c = cmp_i64(a->socket_id, b->socket_id)))
                return c;
        if ((c = cmp_i64(a->die_id, b->die_id)))
                return c;
        if ((c = cmp_i64(a->core_id, b->core_id)))
                return c;
        return cmp_i64(a->thread_id, b->thread_id);
}

void vm_cpu_slots_sort(struct vm_cpu_slot *slots, size_t n)
{
        if (n > 1)
                qsort(slots, n, sizeof *slots, slot_cmp);
}

unsigned vm_cpu_slots_plugged(const struct vm_cpu_slot *slots, size_t n)
{
        unsigned c = 0;

        for (size_t i = 0; i < n; i++)
                if (slots[i].qom_path)
                        c++;
        return c;
}

int vm_cpu_plan(const struct vm_cpu_slot *slots, size_t n, unsigned target, struct vm_cpu_step **ret,
                size_t *ret_n, struct qc_err *err)
{
        unsigned have = vm_cpu_slots_plugged(slots, n);
        struct vm_cpu_step *steps = NULL;
        size_t k = 0;

        if (target == 0)
                return qc_err_set(err, EINVAL, "a VM needs at least 1 vCPU");
        if (target > n)
                return qc_err_set(err, ERANGE,
                                  "%u vCPUs asked, but the VM's maximum is %zu (cpu.max in the VM file; "
                                  "changing it needs a restart)",
                                  target, n);
        for (size_t i = 0; i < n; i++)
                if (slots[i].vcpus_count != 1)
                        return qc_err_set(err, ENOTSUP,
                                          "this machine hotplugs %u vCPUs per slot; only 1 is supported",
                                          slots[i].vcpus_count);
        if (target != have) {
                steps = calloc(n, sizeof *steps);
                if (!steps)
                        return qc_err_sys(err, ENOMEM, "vCPU plan");
        }
        if (target > have) {
                for (size_t i = 0; i < n && have + k < target; i++)
                        if (!slots[i].qom_path)
                                steps[k++] = (struct vm_cpu_step){ VM_CPU_PLUG, (unsigned)i };
        } else if (target < have) {
                for (size_t i = n; i-- > 1 && have - k > target;)
                        if (slots[i].qom_path)
                                steps[k++] = (struct vm_cpu_step){ VM_CPU_UNPLUG, (unsigned)i };
                if (have - k > target) {
                        free(steps);
                        return qc_err_set(err, EINVAL, "vCPU 0 cannot be unplugged");
                }
        }
        *ret = steps;
        *ret_n = k;
        return 0;
}

bool vm_balloon_arrived(uint64_t actual, uint64_t target)
{
        uint64_t diff = actual > target ? actual - target : target - actual;

        /* diff <= 1% of target, without overflow */
        return diff <= target / 100;
}
