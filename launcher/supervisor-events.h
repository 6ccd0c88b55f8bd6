/* What one QMP event does to a VM's record: a pure function of the record
 * and the event, so the fuzzer drives exactly what the supervisor runs. */
#pragma once
#include <stdbool.h>

#include <json-c/json.h>

#include "state.h"

#define SUP_EVENT_RECORD 1 /* the record changed: write it */
#define SUP_EVENT_QUIT 2   /* a panicked guest waits paused under `run`: quit QEMU */
/* a device went away or changed size (a person's device_del on qmp.sock, or
 * a verb's): bring spec.json in line with QEMU (live-sync.h) */
#define SUP_EVENT_RESYNC 4

/* ev: anything QEMU sent (any member may be missing or of any type).
 * running: the guest ran already (STOP/RESUME count from then on);
 * foreground: under `run`. Returns SUP_EVENT_* flags. */
int sup_event_apply(struct vm_record *rec, json_object *ev, bool running, bool foreground);
