/* accel "auto": KVM only when it really runs a guest. /dev/kvm can exist and
 * even create VMs on hosts where no guest boots (nested setups that refuse
 * to run vCPUs), so the probe runs one instruction in a real vCPU. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

/* Create a VM with one vCPU, run a HLT in real mode, expect KVM_EXIT_HLT.
 * Runs in a child with a time limit. why (may be NULL) gets the reason when
 * false. */
bool accel_kvm_works(char *why, size_t why_len);
