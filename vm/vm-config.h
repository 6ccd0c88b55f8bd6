/* The live verbs' changes on a spec alone, for `--config` (docs/host.md):
 * what the next start of a defined VM runs. Each checks what the live verb
 * checks without QEMU (the vCPU exists, min not above hard, SIZE within
 * memory.max ...); the key table's own checks follow when the definition
 * is written back (defs_update), so the result is always a valid VM file.
 * 0, or -1 with err (EINVAL, ERANGE: what is wrong and the limit). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "../common/cpuset.h"
#include "../common/err.h"
#include "../launcher/spec.h"
#include "vm-placement.h"

/* cpu.pin.VCPU = cpus (vcpu below cpu.max). */
int vm_config_vcpupin(struct vm_spec *s, unsigned vcpu, const struct cpuset *cpus, struct qc_err *err);
/* cpu.emulator_pin = cpus. */
int vm_config_emulatorpin(struct vm_spec *s, const struct cpuset *cpus, struct qc_err *err);
/* memory.limits.* for the keys set in m (VM_MEMTUNE_UNLIMITED removes one);
 * a swap_total becomes the swap it means (vm_memtune_resolve_swap), in m. */
int vm_config_memtune(struct vm_spec *s, struct vm_memtune *m, struct qc_err *err);
/* numa.nodeset and numa.policy (NULL: keep). */
int vm_config_numatune(struct vm_spec *s, const struct cpuset *nodeset, const enum vm_numa_policy *mode,
                       struct qc_err *err);
/* cpu.vcpus = n; with maximum, cpu.max = n instead (and cpu.vcpus lowered
 * to it when above, as libvirt does; *ret_lowered says so). */
int vm_config_setvcpus(struct vm_spec *s, unsigned n, bool maximum, bool *ret_lowered, struct qc_err *err);
/* memory.plugged = total - memory.size: the next start boots with total. */
int vm_config_setmem(struct vm_spec *s, uint64_t total, struct qc_err *err);
