/* Pure planning for live changes: which vCPU to plug or unplug next, whether
 * a balloon reached its target. No I/O: unit-tested on their own. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/* One possible vCPU as query-hotpluggable-cpus lists it. props are -1 when
 * QEMU does not list them for the machine. */
struct vm_cpu_slot {
        char *type;     /* the driver to device_add ("qemu64-x86_64-cpu") */
        int64_t socket_id, die_id, core_id, thread_id, node_id;
        char *qom_path; /* NULL when not plugged */
        unsigned vcpus_count;
        size_t origin;  /* position in the list QEMU gave */
};

/* Free the strings of n slots and the array. */
void vm_cpu_slots_free(struct vm_cpu_slot *slots, size_t n);

/* Put slots in vCPU index order. On x86 QEMU gives cpu-index = the slot's
 * position in possible_cpus, which is sorted by APIC id, that is by
 * (socket, die, core, thread); query-hotpluggable-cpus lists them in reverse. */
void vm_cpu_slots_sort(struct vm_cpu_slot *slots, size_t n);

enum vm_cpu_op { VM_CPU_PLUG, VM_CPU_UNPLUG };

struct vm_cpu_step {
        enum vm_cpu_op op;
        unsigned vcpu; /* index into the sorted slots */
};

/* The steps from the plugged set to `target` plugged vCPUs, one vCPU each:
 * plug the lowest free index first; unplug the highest plugged first, never
 * vCPU 0 (as libvirt). target is checked against 1..n with a message that
 * names the limit. Slots must be sorted. *ret is malloc'd (NULL when
 * nothing is to do). */
int vm_cpu_plan(const struct vm_cpu_slot *slots, size_t n, unsigned target, struct vm_cpu_step **ret,
                size_t *ret_n, struct qc_err *err);
unsigned vm_cpu_slots_plugged(const struct vm_cpu_slot *slots, size_t n);

/* The balloon counts as arrived when actual is within 1% of target. */
bool vm_balloon_arrived(uint64_t actual, uint64_t target);
