/* Shared by cli/placement.c (vcpupin, emulatorpin), cli/placement-mem.c
 * (memtune, numatune), cli/numastat.c and cli/live.c: opening a running VM with
 * its cgroup side. */
#pragma once
#include <stdbool.h>

#include <json-c/json.h>

#include "launcher/handle.h"
#include "vm/vm-placement.h"

/* An open VM for a placement verb: locked, effective spec loaded, live
 * changes recorded through vm_record_spec. */
struct cli_placement {
        struct vm_handle *h;
        struct vm_live live;
        struct vm_placement p;
};
/* qmp: connect to QMP (the pin verbs need vCPU thread ids). */
int cli_placement_open(const char *verb, const char *name, bool qmp, struct cli_placement *ret);
void cli_placement_close(struct cli_placement *v);

static inline void cli_placement_closep(struct cli_placement *v)
{
        cli_placement_close(v);
}
#define _cleanup_cli_placement_ __attribute__((cleanup(cli_placement_closep)))
