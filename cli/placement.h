/* Shared by cli/placement.c (vcpupin, emulatorpin), cli/placement-mem.c
 * (memtune, numatune, numastat) and cli/live.c: opening a running VM with
 * its cgroup side. */
#pragma once
#include <stdbool.h>

#include <json-c/json.h>

#include "launcher/handle.h"
#include "vm/vm-place.h"

/* An open VM for a placement verb: locked, effective spec loaded, live
 * changes recorded through vm_record_spec. */
struct place_vm {
        struct vm_handle *h;
        struct vm_live live;
        struct vm_place p;
};
/* qmp: connect to QMP (the pin verbs need vCPU thread ids). */
int place_vm_open(const char *verb, const char *name, bool qmp, struct place_vm *ret);
void place_vm_close(struct place_vm *v);

static inline void place_vm_closep(struct place_vm *v)
{
        place_vm_close(v);
}
#define _cleanup_place_vm_ __attribute__((cleanup(place_vm_closep)))
