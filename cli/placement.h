/* Shared by cli/placement.c (vcpupin, emulatorpin) and cli/placement-mem.c
 * (memtune, numatune, numastat): option parsing and opening a running VM
 * with its cgroup side. */
#pragma once
#include <getopt.h>
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

/* Options every placement verb takes (--help, --json, --lock-timeout) plus
 * the verb's own (`extra`, handled by on_opt). Returns -1 to go on, else an
 * exit code. */
typedef int (*place_opt_fn)(const char *verb, int c, const char *arg, void *ud);
int place_parse(const char *verb, int argc, char **argv, const char *help, const struct option *extra,
                place_opt_fn on_opt, void *ud, bool *json);

void place_print_json(json_object *o);
/* "qemuctl: VERB: warning: msg" */
void place_warn(const char *verb, const char *msg);
